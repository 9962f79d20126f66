"""Host-side checks of the kernel's sources: the module layers of
docs/kernel-layers.md hold and have no cycle; every unsafe block has a
`// SAFETY:` comment and every unsafe fn a `# Safety` section; the crates deny
`unsafe_op_in_unsafe_fn`.
"""

import re
import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import kernel_source as ks  # noqa: E402

LAYERS_DOC = ks.ROOT / "docs" / "kernel-layers.md"
CRATE_ROOTS = (ks.KERNEL_SRC / "main.rs", ks.ROOT / "kernel" / "core" / "src" / "lib.rs")
UNSAFE_BLOCK = re.compile(r"\bunsafe\s*\{")
UNSAFE_FN = re.compile(r"\bunsafe\s+(extern\s+\"[^\"]*\"\s+)?fn\b")
UNSAFE_IMPL = re.compile(r"\bunsafe\s+impl\b")


def documented_layers() -> dict[str, int]:
    """Module name -> layer, from the table of docs/kernel-layers.md."""
    layers = {}
    for line in LAYERS_DOC.read_text().splitlines():
        row = re.match(r"\|\s*(\d+)\s*\|([^|]*)\|", line)
        if row:
            for name in re.findall(r"`([\w:]+)`", row.group(2)):
                assert name not in layers, f"{name} is listed twice"
                layers[name] = int(row.group(1))
    return layers


def test_the_reader_finds_the_dependencies_it_must():
    graph = ks.dependencies()
    assert "memory::frames" in graph["memory::paging"]          # `use super::frames::...`
    assert "bootinfo" in graph["memory::frames"]                # `use crate::bootinfo`
    assert "interrupts::trap" in graph["interrupts"]            # `trap::stub_address` (a child)
    assert "print" in graph["gdt"]                              # `log!`
    assert "recovery" in graph["interrupts::exceptions"]
    assert ks.cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_cycle():
    graph = ks.dependencies()
    assert ks.cycles(graph) == []
    assert ks.cycles(ks.collapse(graph)) == []


def test_every_dependency_points_to_a_lower_documented_layer():
    graph, layers = ks.dependencies(), documented_layers()
    assert sorted(layers) == sorted(graph), "docs/kernel-layers.md must list every module once"
    upward = [f"{m} (layer {layers[m]}) uses {d} (layer {layers[d]})"
              for m, deps in graph.items() for d in deps if layers[d] >= layers[m]]
    assert upward == []


def _preceding_comment(lines, index):
    """The comment lines right above line ``index`` (and its own trailing comment)."""
    text = [lines[index]]
    j = index - 1
    while j >= 0 and lines[j].strip().startswith(("//", "#[")):
        text.append(lines[j])
        j -= 1
    return "\n".join(text)


def unsafe_without_justification(files) -> list[str]:
    """``file:line`` of unsafe blocks/impls without ``SAFETY:`` and unsafe fns without ``# Safety``."""
    missing = []
    for file in files:
        lines = ks.blank_comments_and_strings(file.read_text()).splitlines()
        raw = file.read_text().splitlines()
        for i, code in enumerate(lines):
            where = f"{file.relative_to(ks.ROOT)}:{i + 1}"
            if UNSAFE_FN.search(code) and "# Safety" not in _preceding_comment(raw, i):
                missing.append(f"{where}: unsafe fn without a `# Safety` section")
            for _ in UNSAFE_BLOCK.finditer(code):
                if "SAFETY:" not in _preceding_comment(raw, i):
                    missing.append(f"{where}: unsafe block without a `// SAFETY:` comment")
            if UNSAFE_IMPL.search(code) and "SAFETY:" not in _preceding_comment(raw, i):
                missing.append(f"{where}: unsafe impl without a `// SAFETY:` comment")
    return missing



def test_every_unsafe_is_justified():
    files = sorted({f for f in (ks.ROOT / "kernel").rglob("*.rs") if "target" not in f.parts})
    assert len(files) > 30
    assert unsafe_without_justification(files) == []


def test_the_check_sees_an_unjustified_unsafe(tmp_path):
    sample = tmp_path / "sample.rs"
    sample.write_text(
        "// SAFETY: fine.\nlet a = unsafe { f() };\n"
        "let b = unsafe { g() };\n"
        "/// Does h.\nunsafe fn h() {}\n"
        "/// # Safety\n/// Only when x.\nunsafe fn k() {}\n")
    ks_root, ks.ROOT = ks.ROOT, tmp_path
    try:
        found = unsafe_without_justification([sample])
    finally:
        ks.ROOT = ks_root
    assert found == ["sample.rs:3: unsafe block without a `// SAFETY:` comment",
                     "sample.rs:5: unsafe fn without a `# Safety` section"]


def test_the_crates_deny_unsafe_operations_in_unsafe_fns():
    for root in CRATE_ROOTS:
        assert "#![deny(unsafe_op_in_unsafe_fn)]" in root.read_text(), root

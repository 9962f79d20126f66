"""Reading the kernel's Rust sources for the host-side checks: modules, their
`crate::`/`super::` dependencies, and the unsafe code with its comments.

This is a deliberately small reader (comments and string literals blanked, paths
matched with regular expressions), enough for the kernel's own code; it is not
a Rust parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KERNEL_SRC = ROOT / "kernel" / "src"
#: The exported macros of `print.rs`: using one depends on `print`.
PRINT_MACROS = ("print", "println", "serial_print", "serial_println", "log")

_COMMENT_OR_STRING = re.compile(r'//[^\n]*|/\*.*?\*/|b?r#"(?:.|\n)*?"#|b?"(?:\\.|[^"\\])*"', re.S)
_PATH = re.compile(r"(?<![$\w])(crate|super|self)((?:::\w+)+)\b(?!\s*!)")
_USE = re.compile(r"\buse\s+([^;]+);")
_MACRO = re.compile(r"\b(" + "|".join(PRINT_MACROS) + r")!")


@dataclass(frozen=True)
class Module:
    """One source file: its module path (``()`` for the crate root) and text."""

    path: tuple[str, ...]
    file: Path
    text: str

    @property
    def name(self) -> str:
        """``memory::frames``, or ``crate`` for the root."""
        return "::".join(self.path) or "crate"


def blank_comments_and_strings(text: str) -> str:
    """``text`` with comments and string literals replaced by spaces (lines kept)."""
    return _COMMENT_OR_STRING.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def modules(src: Path = KERNEL_SRC) -> dict[tuple[str, ...], Module]:
    """Every ``.rs`` file under ``src`` by module path."""
    found = {}
    for file in sorted(src.rglob("*.rs")):
        parts = file.relative_to(src).with_suffix("").parts
        if parts == ("main",):
            parts = ()
        elif parts[-1] == "mod":
            parts = parts[:-1]
        found[parts] = Module(parts, file, file.read_text())
    return found


def _expand_use(tree: str) -> list[str]:
    """``a::{b, c::{d}}`` -> ``["a::b", "a::c::d"]`` (whitespace removed)."""
    tree = re.sub(r"\s+", "", tree)
    brace = tree.find("{")
    if brace < 0:
        return [tree]
    prefix, inner = tree[:brace], tree[brace + 1:tree.rfind("}")]
    items, depth, start = [], 0, 0
    for i, ch in enumerate(inner + ","):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            if inner[start:i]:
                items += [prefix + sub for sub in _expand_use(inner[start:i])]
            start = i + 1
    return items


def _resolve(module: Module, words: list[str], known) -> tuple[str, ...] | None:
    """The module that a path (``crate``/``super``/``self``/child ``...``) lands in."""
    base = list(module.path)
    head, rest = words[0], words[1:]
    if head == "crate":
        base = []
    elif head == "super":
        base = base[:-1]
        while rest and rest[0] == "super":
            base, rest = base[:-1], rest[1:]
    elif head != "self":
        rest = words  # a path relative to this module: a child module first
    target = tuple(base)
    for word in rest:
        if target + (word,) in known:
            target += (word,)
        else:
            break
    return target if target != module.path else None


def dependencies(all_modules=None) -> dict[str, set[str]]:
    """Module name -> names of the kernel modules it uses (``mod`` lines excluded)."""
    all_modules = all_modules or modules()
    graph: dict[str, set[str]] = {}
    for module in all_modules.values():
        code = blank_comments_and_strings(module.text)
        code = re.sub(r"^\s*(pub(\([^)]*\))?\s+)?mod\s+\w+\s*;", "", code, flags=re.M)
        targets = set()
        paths = [p for use in _USE.finditer(code) for p in _expand_use(use.group(1))]
        code = _USE.sub("", code)
        paths += [m.group(1) + m.group(2) for m in _PATH.finditer(code)]
        children = {p[-1] for p in all_modules if p[:-1] == module.path and p}
        paths += [m.group(0) for m in re.finditer(r"\b(\w+)((?:::\w+)+)", code) if m.group(1) in children]
        for path in paths:
            target = _resolve(module, path.split("::"), all_modules)
            if target is not None:
                targets.add(all_modules[target].name)
        if _MACRO.search(code) and module.path != ("print",):
            targets.add("print")
        graph[module.name] = targets
    return graph


def collapse(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph of top-level modules (``memory::frames`` counts as ``memory``)."""
    top: dict[str, set[str]] = {}
    for source, targets in graph.items():
        head = source.split("::")[0]
        top.setdefault(head, set()).update(t.split("::")[0] for t in targets if t.split("::")[0] != head)
    return top


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected part of ``graph`` with more than one module."""
    index, low, stack, on_stack, parts = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            part = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                part.append(top)
                if top == node:
                    break
            if len(part) > 1:
                parts.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return parts

"""Acceptance against ground truth: the REPL's inspectors agree with the ELF
(read with pyelftools) and with the kernel's own shell commands (`page`,
`heap`, `tasks`) at the same moment of the same run."""

import pytest

from .repl_helpers import (SHF_ALLOC, KERNEL_BASE, elf_function, elf_sections, elf_symbol,
                           output_until_prompt, parse_kernel_heap, parse_kernel_page, parse_kernel_tasks,
                           run, run_json, shell_command)

pytestmark = [pytest.mark.emulator, pytest.mark.timeout(180)]


def test_idt_handlers_are_the_elf_trap_stubs(session, rustos_elf):
    table = run_json(session, "idt")
    assert table["limit"] == 0xFFF
    by_vector = {e["vector"]: e for e in table["entries"]}
    text = run(session, "idt").splitlines()
    for v in range(48):
        stub, _ = elf_symbol(rustos_elf, f"trap_stub_{v}")
        entry = by_vector[v]
        assert entry["handler"] == stub, (v, hex(entry["handler"]), hex(stub))
        assert entry["present"] and entry["selector"] == 0x08 and entry["type_name"] == "interrupt"
        line = next(line for line in text if line.split()[:1] == [str(v)])
        assert f"{stub:#018x}" in line, line
    # the one-vector form agrees
    assert run_json(session, "idt 14")["handler"] == elf_symbol(rustos_elf, "trap_stub_14")[0]


def _address(kind, elf):
    return {"text": elf_symbol(elf, "kernel_main")[0] + 0x11,
            "heap": 0x4444_4444_0123,
            "physmap": 0xFFFF_8000_0010_0000,
            "unmapped": 0xDEAD_BEEF_000}[kind]


@pytest.mark.parametrize("kind", ["text", "heap", "physmap", "unmapped"])
def test_walk_agrees_with_the_kernel_page_command(session, rustos_elf, kind):
    address = _address(kind, rustos_elf)
    kernel = parse_kernel_page(shell_command(session.machine, f"page {address:x}"))
    walk = run_json(session, f"walk {address:#x}")
    mine = [(lv["name"], lv["index"], lv["entry_addr"], lv["raw"]) for lv in walk["levels"]]
    assert mine == kernel["steps"]
    assert walk["paddr"] == kernel["phys"]
    assert walk["ok"] == (kernel["phys"] is not None)
    # and the text view shows the same entries
    text = run(session, f"walk {address:#x}")
    for name, index, entry_addr, raw in kernel["steps"]:
        assert f"{name:<5} [{index:3d}] at {entry_addr:#x} = {raw:#018x}" in text
    if kind == "unmapped":
        assert walk["stop_level"] == "PML4E" and "-> not mapped" in text
    else:
        assert f"-> phys {kernel['phys']:#x}" in text


def _stop_in(session, function: str, line: str, elf) -> int:
    """break + continue at ``function`` after typing ``line`` on COM1; returns the serial offset."""
    machine = session.machine
    address, _ = elf_function(elf, function)
    assert run(session, f"break {function}").startswith(f"breakpoint at {address:#x}")
    start = len(machine.serial_output)
    run(session, f'serial "{line}\\n"')
    report = run(session, "continue")
    assert report.startswith(f"breakpoint at {address:#x}"), report
    assert machine.reg("rip") == address
    run(session, "delete")
    return start


@pytest.mark.parametrize("before", [None, "echo the line buffer grows past sixteen bytes"])
def test_heap_agrees_with_the_kernel_heap_command(session, rustos_elf, before):
    machine = session.machine
    if before:
        shell_command(machine, before)
    start = _stop_in(session, "rustos::shell::commands::heap_cmd", "heap --classes", rustos_elf)
    model = run_json(session, "heap")
    run(session, "finish")
    kernel = parse_kernel_heap(output_until_prompt(machine, start))
    stats = model["stats"]
    assert (model["start"], model["size"]) == (kernel["start"], kernel["size"])
    assert (stats["bytes_in_use"], stats["peak_bytes"], stats["allocs"], stats["frees"], stats["large_allocs"],
            stats["grows"], stats["failures"]) == (kernel["in_use"], kernel["peak"], kernel["allocs"],
                                                   kernel["frees"], kernel["large"], kernel["grows"],
                                                   kernel["failures"])
    assert model["free_in_lists"] == kernel["free_lists"]
    assert model["fallback"]["free"] == kernel["free_fallback"]
    assert model["free_in_holes"] == kernel["free_fallback"]   # the holes walked add up
    counts = {fl["block_size"]: fl["count"] for fl in model["lists"] if fl["count"]}
    assert counts == kernel["lists"]
    assert all(len(fl["blocks"]) == fl["count"] for fl in model["lists"])
    assert model["ok"] and model["problems"] == []
    if before:
        assert kernel["lists"], "the comparison should cover non-empty free lists"
    text = run(session, "heap")
    assert f"in lists, {kernel['free_fallback']} B in fallback" in text


def test_tasks_agree_with_the_kernel_tasks_command(session, rustos_elf):
    machine = session.machine
    start = _stop_in(session, "rustos::shell::commands::tasks", "tasks", rustos_elf)
    model = run_json(session, "tasks")
    run(session, "finish")
    kernel = parse_kernel_tasks(output_until_prompt(machine, start))
    mine = [(t["id"], t["name"], t["state_name"]) for t in model["tasks"]]
    assert mine == kernel["tasks"]
    assert {"keyboard", "serial", "shell"} <= {name for _, name, _ in mine}
    assert ("running" in [s for _, _, s in mine])           # the shell runs the command
    assert list(model["ready"]) == kernel["ready"]
    text = run(session, "tasks")
    for task_id, name, _state in kernel["tasks"]:
        assert any(line.split()[1:3] == [str(task_id), name] for line in text.splitlines()[2:]), text


EXPECTED_PERMS = {".text": "R-X", ".rodata": "R--", ".data": "RW-", ".bss": "RW-"}


def test_maps_covers_every_higher_half_section_with_its_rights(session, rustos_elf):
    sections = [(n, a, s) for n, a, s, f in elf_sections(rustos_elf) if f & SHF_ALLOC and s and a >= KERNEL_BASE]
    assert sorted(n for n, _, _ in sections) == sorted(EXPECTED_PERMS)
    rows = run_json(session, "maps")["rows"]
    text = run(session, "maps")

    def row_at(addr):
        found = [r for r in rows if r["start"] <= addr < r["end"]]
        assert len(found) == 1, (hex(addr), found)
        return found[0]

    for name, start, size in sections:
        assert f"kernel: {name}" in text
        for page in range(start & ~0xFFF, start + size, 0x1000):
            row = row_at(page)
            perms = ("R" if row["r"] else "-") + ("W" if row["w"] else "-") + ("X" if row["x"] else "-")
            if name == ".bss" and row["kind"] == "guard":
                assert not row["mapped"], row        # the stacks' guard pages lie in .bss, unmapped
                continue
            if name == ".bss" and row["kind"] == "stack":
                assert row["mapped"] and perms == "RW-", row
                continue
            assert (row["kind"], row["name"]) == ("kernel", name), (hex(page), row)
            assert row["mapped"] and perms == EXPECTED_PERMS[name], (hex(page), row)
            assert not row["u"], row
    assert run(session, "sym kernel_main").startswith("kernel_main at")

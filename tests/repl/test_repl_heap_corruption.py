"""A corrupted fixed-size free list: `heap` names the bad node and the node
whose `next` led there (docs/kernel-structures.md §9: the first 8 bytes of a
free block hold the next free block of its class), and the REPL goes on."""

import re
import struct

import pytest

from .repl_helpers import run, run_json, shell_command

pytestmark = [pytest.mark.emulator, pytest.mark.timeout(180)]

HEAP_START = 0x4444_4444_0000


@pytest.fixture
def lists(session):
    """The session, after longer and longer shell lines freed blocks into the free lists, and the lists."""
    shell_command(session.machine, "heap --classes")           # frees an 8-byte block
    shell_command(session.machine, "echo hello world, this is long")  # and two 16-byte ones
    model = run_json(session, "heap")
    assert model["ok"], model["problems"]
    nonempty = [fl for fl in model["lists"] if fl["count"]]
    assert nonempty, "no free block to corrupt"
    return session, model


def _problem_line(text):
    m = re.search(r"^  check: (\d+) problem\(s\); first: (.*)$", text, re.M)
    assert m, text
    return m.group(2)


BAD = {
    "misaligned": lambda heap, block: 0x4444_4444_0001,
    "unmapped": lambda heap, block: 0xDEAD_BEEF_000,
    "beyond the heap": lambda heap, block: heap["start"] + heap["size"],
    "cycle": lambda heap, block: block,
}
REASON = {
    "misaligned": r"not aligned to its class size \d+",
    "unmapped": r"outside the heap \[0x444444440000, 0x[0-9a-f]+\)",
    "beyond the heap": r"outside the heap \[0x444444440000, 0x[0-9a-f]+\)",
    "cycle": r"cycle: points back to node \d+",
}


@pytest.mark.parametrize("which", ["head", "second"])
@pytest.mark.parametrize("kind", list(BAD))
def test_heap_names_the_corrupted_node(lists, kind, which):
    session, model = lists
    machine = session.machine
    if which == "head":
        fl = next(fl for fl in model["lists"] if fl["count"] >= 1)
        index = 0
    else:
        candidates = [fl for fl in model["lists"] if fl["count"] >= 2]
        assert candidates, "expected a list with two free blocks"
        fl = candidates[0]
        index = 1
    block = fl["blocks"][index]
    assert block >= HEAP_START and block % fl["block_size"] == 0
    bad = BAD[kind](model, block)
    saved = machine.read_virtual(block, 8)
    machine.write_virtual(block, struct.pack("<Q", bad))
    assert machine.read_virtual(block, 8) == struct.pack("<Q", bad)

    text = run(session, "heap")
    line = _problem_line(text)
    where = f"list {fl['block_size']} (class {fl['index']})"
    assert line.startswith(f"{where} node {index + 1} at {bad:#x}: "), line
    assert re.search(REASON[kind], line), line
    assert line.endswith(f"(reached from the node at {block:#x})"), line

    broken = run_json(session, "heap")
    assert broken["ok"] is False
    first = broken["problems"][0]
    assert (first["address"], first["via"], first["index"]) == (bad, block, index + 1)
    walked = broken["lists"][fl["index"]]
    assert walked["blocks"][:index + 1] == fl["blocks"][:index + 1]
    assert walked["end"] == ("cycle" if kind == "cycle" else "invalid")

    # the REPL goes on: other commands work, and repairing the block clears the problem
    assert run(session, "tasks").startswith("executor:")
    assert "-> phys" in run(session, f"walk {block:#x}")
    machine.write_virtual(block, saved)
    assert run(session, "heap").rstrip().endswith("check: ok")


def test_heap_overrun_over_a_hole_header_reports_the_totals_too(lists):
    """An overrun that writes over the first fallback hole's header (size, next): `heap`
    names the bad hole and also says how far the holes fall short of the free bytes."""
    session, model = lists
    machine = session.machine
    fb = model["fallback"]
    hole = fb["holes"][0]["address"]
    free = fb["top"] - fb["bottom"] - fb["used"]
    saved = machine.read_virtual(hole, 16)
    machine.write_virtual(hole, struct.pack("<QQ", 0x40, 0x4141_4141_4141_4141))   # size 64, next garbage
    text = run(session, "heap")
    m = re.search(r"^  check: (\d+) problem\(s\); first: (.*)$", text, re.M)
    assert m and int(m.group(1)) >= 2, text
    assert m.group(2).startswith(f"holes node 1 at {0x4141_4141_4141_4141:#x}: "), text
    assert (f"    - totals: the 1 hole(s) read add up to 64 bytes, but top - bottom - used = {free} bytes free "
            f"(the walk ended invalid: holes after it are not counted)") in text.splitlines(), text
    broken = run_json(session, "heap")
    assert broken["ok"] is False and any(p["where"] == "totals" for p in broken["problems"])
    machine.write_virtual(hole, saved)
    assert run(session, "heap").rstrip().endswith("check: ok")

"""The heap inspector against the kernel's own `heap` command, and against corruption."""

import json
import struct

import pytest

from rustos_dbg.inspect.kernel import heap_view, read_heap, to_json
from rustos_dbg.machine.errors import GuestMemoryError

pytestmark = pytest.mark.emulator


def assert_matches_kernel(heap, printed):
    """Every number of the kernel's `heap` output equals the model's."""
    s = heap.stats
    assert (heap.start, heap.size) == (printed["start"], printed["size"])
    assert (s.bytes_in_use, s.peak_bytes) == (printed["in_use"], printed["peak"])
    assert (s.allocs, s.frees, s.large_allocs, s.grows, s.failures) == \
        (printed["allocs"], printed["frees"], printed["large"], printed["grows"], printed["failures"])
    assert heap.free_in_lists == printed["free_lists"]
    assert heap.fallback.free == printed["free_fallback"] == heap.free_in_holes
    assert {fl.block_size: fl.count for fl in heap.lists if fl.count} == printed["lists"]
    assert all(len(fl.blocks) == fl.count and fl.end == "null" for fl in heap.lists)
    assert heap.ok, heap.problems


def test_first_heap_command_matches_at_the_prompt(shell):
    stop = shell.stops["heap"]
    assert_matches_kernel(stop.heap, stop.printed["heap"])
    assert not stop.heap.locked


def test_heap_at_the_kernels_snapshot_with_a_free_block(shell):
    stop = shell.stops["heap2@call"]
    assert stop.printed["heap"]["lists"] == {8: 1}  # the line buffer grew from 8 to 16 bytes
    assert_matches_kernel(stop.heap, stop.printed["heap"])
    (block,) = stop.heap.list_for(8).blocks
    assert block % 8 == 0 and stop.heap.start <= block < stop.heap.start + stop.heap.size


def test_heap_at_the_prompt_after_later_commands(shell):
    """After the command the shell drops the previous line: one more free, on list 8."""
    at_call, at_prompt = shell.stops["heap2@call"].heap, shell.stops["heap2"].heap
    assert at_prompt.stats.frees == at_call.stats.frees + 1
    assert at_prompt.list_for(8).count == at_call.list_for(8).count + 1
    assert at_prompt.ok, at_prompt.problems


def test_fallback_holes_and_totals(shell):
    heap = shell.stops["heap"].heap
    fb = heap.fallback
    assert fb.bottom == heap.start and fb.top == heap.start + heap.size
    assert fb.holes and fb.end == "null" and fb.pending_extend < 16
    addresses = [h.address for h in fb.holes]
    assert addresses == sorted(addresses)
    assert fb.hole_bytes == fb.top - fb.bottom - fb.used
    assert 0.0 <= heap.fragmentation < 1.0
    assert heap.fragmentation == pytest.approx(1 - fb.largest_hole / fb.hole_bytes)


def test_view_and_json(shell):
    heap = shell.stops["heap2"].heap
    text = heap_view(heap)
    assert f"heap {heap.start:#x}" in text and "check: ok" in text
    assert f"{heap.list_for(8).blocks[0]:#x}" in text
    data = json.loads(to_json(heap))
    assert data["size"] == heap.size and data["ok"] is True
    assert data["lists"][0]["blocks"] == list(heap.list_for(8).blocks)
    assert data["fallback"]["holes"][0]["address"] == heap.fallback.holes[0].address
    assert data["free_in_lists"] == heap.free_in_lists


# --- corruption: the machine after the script, restored after each test ---------------------


@pytest.fixture
def live(shell):
    """The machine after the script: list 8 holds two blocks [A, B]."""
    heap = read_heap(shell.machine, shell.info)
    assert heap.ok and heap.list_for(8).count == 2, heap_view(heap)
    yield heap
    assert read_heap(shell.machine, shell.info).ok  # restored


@pytest.mark.parametrize("bad, reason", [
    (lambda h: h.start + 3, "not aligned to its class size 8"),
    (lambda h: 0xDEAD_BEEF_000, "outside the heap"),
    (lambda h: 0x8000_0000_0000_0000, "outside the heap"),  # not even canonical
    (lambda h: h.start + h.size, "outside the heap"),
    (lambda h: h.fallback.holes[0].address, "overlaps hole 0"),  # a "free block" inside free memory
])
def test_bad_next_pointer_names_the_node(shell, live, patch, bad, reason):
    first, _second = live.list_for(8).blocks
    target = bad(live)
    with patch(first, struct.pack("<Q", target)):
        heap = read_heap(shell.machine, shell.info)
        text = heap_view(heap)
    problem = heap.first_problem
    assert (problem.where, problem.index, problem.address, problem.via) == ("list 8 (class 0)", 1, target, first)
    assert reason in problem.reason
    assert str(problem) in text and "check:" in text


def test_cycle_is_reported(shell, live, patch):
    first, second = live.list_for(8).blocks
    with patch(second, struct.pack("<Q", first)):
        heap = read_heap(shell.machine, shell.info)
    fl = heap.list_for(8)
    assert fl.end == "cycle" and fl.blocks == (first, second)
    problem = heap.first_problem
    assert (problem.index, problem.address, problem.via) == (2, first, second)
    assert "cycle" in problem.reason


def test_count_mismatch_is_reported(shell, live, patch):
    counts = shell.info.type("rustos_core::blocks::BlockLists").member("counts").offset
    lists = shell.info.type("rustos::heap::KernelHeap").member("lists").offset
    address = shell.info.variable("RUSTOS_HEAP").address + 8 + lists + counts  # counts[0]
    with patch(address, struct.pack("<Q", 5)):
        heap = read_heap(shell.machine, shell.info)
    assert heap.first_problem.where == "list 8 (class 0)"
    assert heap.first_problem.index is None and "count says 5" in heap.first_problem.reason


def test_bad_hole_pointer_and_size(shell, live, patch):
    hole = live.fallback.holes[0]
    hole_type = shell.info.type("linked_list_allocator::hole::Hole")
    next_at = hole.address + hole_type.member("next").offset
    size_at = hole.address + hole_type.member("size").offset
    with patch(next_at, struct.pack("<Q", hole.address + 20)):
        heap = read_heap(shell.machine, shell.info)
    assert heap.fallback.end == "invalid"
    problem = heap.first_problem
    assert (problem.where, problem.index, problem.address, problem.via) == ("holes", 1, hole.address + 20,
                                                                            hole.address)
    with patch(size_at, struct.pack("<Q", 1 << 40)):
        heap = read_heap(shell.machine, shell.info)
    assert (heap.first_problem.where, heap.first_problem.index) == ("holes", 0)
    assert "beyond" in heap.first_problem.reason


class HidingReader:
    """The machine, except that one address range reads as unmapped."""

    def __init__(self, machine, start, end):
        self.machine, self.start, self.end = machine, start, end

    def read_virtual(self, addr, n):
        if addr < self.end and self.start < addr + n:
            raise GuestMemoryError(f"address {addr:#x} is not mapped (test)", addr)
        return self.machine.read_virtual(addr, n)

    def read_physical(self, addr, n):
        return self.machine.read_physical(addr, n)

    def reg(self, name):
        return self.machine.reg(name)


def test_unreadable_nodes_are_reported_not_raised(shell, live):
    _first, second = live.list_for(8).blocks
    heap = read_heap(HidingReader(shell.machine, second, second + 8), shell.info)
    problem = heap.first_problem
    assert (problem.index, problem.address, problem.reason) == (1, second, "unreadable (not mapped)")
    hole = live.fallback.holes[0].address
    heap = read_heap(HidingReader(shell.machine, hole, hole + 16), shell.info)
    assert heap.fallback.end == "unreadable"
    assert (heap.first_problem.where, heap.first_problem.address) == ("holes", hole)


# --- totals and counters (an overrun over hole headers breaks them along with the structure) -----


def _hole_fields(shell, hole):
    hole_type = shell.info.type("linked_list_allocator::hole::Hole")
    return hole.address + hole_type.member("size").offset, hole.address + hole_type.member("next").offset


def test_overrun_of_a_hole_header_reports_the_missing_free_bytes_too(shell, live, patch):
    """Sixteen bytes of 'A' over the first hole's header (its size and next): the walk
    stops at a bad node, and the totals say how much free memory the holes no longer account for."""
    hole = live.fallback.holes[0]
    size_at, next_at = _hole_fields(shell, hole)
    assert (size_at, next_at) == (hole.address, hole.address + 8)      # the documented Hole layout
    free = live.fallback.top - live.fallback.bottom - live.fallback.used
    garbage = 0x4141_4141_4141_4141
    with patch(hole.address, struct.pack("<QQ", garbage, garbage)):
        heap = read_heap(shell.machine, shell.info)
        text = heap_view(heap)
    assert heap.fallback.holes[0] == type(hole)(hole.address, garbage)
    assert len(heap.problems) >= 2, heap.problems
    first = heap.first_problem
    assert (first.where, first.index, first.address) == ("holes", 0, hole.address)
    assert "beyond" in first.reason
    totals = [p for p in heap.problems if p.where == "totals" and "hole(s) read add up to" in p.reason]
    assert len(totals) == 1, heap.problems
    read = garbage                                                      # the only readable hole: the walk stopped
    assert totals[0].reason == (f"the 1 hole(s) read add up to {read} bytes, but top - bottom - used = {free} "
                                f"bytes free (the walk ended invalid: holes after it are not counted)")
    assert f"check: {len(heap.problems)} problem(s); first: {first}" in text
    assert f"    - {totals[0]}" in text


def test_a_shrunken_hole_is_caught_by_the_totals_alone(shell, live, patch):
    hole = live.fallback.holes[0]
    size_at, _ = _hole_fields(shell, hole)
    free = live.fallback.free
    with patch(size_at, struct.pack("<Q", hole.size - 64)):
        heap = read_heap(shell.machine, shell.info)
    assert [(p.where, p.reason) for p in heap.problems] == [
        ("totals", f"the {len(live.fallback.holes)} hole(s) read add up to {free - 64} bytes, "
                   f"but top - bottom - used = {free} bytes free")]


def _stat_address(shell, name):
    stats = shell.info.type("rustos::heap::KernelHeap").member("stats").offset
    field = shell.info.type("rustos::heap::HeapStats").member(name).offset
    return shell.info.variable("RUSTOS_HEAP").address + 8 + stats + field


@pytest.mark.parametrize("field, value, where, needle", [
    ("bytes_in_use", lambda h: h.stats.peak_bytes + 1, "counters", "exceeds peak_bytes"),
    ("bytes_in_use", lambda h: h.fallback.used, "totals", "cannot hold the free lists"),
    ("frees", lambda h: h.stats.allocs + 1, "counters", "exceed allocs"),
    ("frees", lambda h: h.stats.allocs, "counters", "every allocation was freed"),
])
def test_inconsistent_counters_are_reported(shell, live, patch, field, value, where, needle):
    with patch(_stat_address(shell, field), struct.pack("<Q", value(live))):
        heap = read_heap(shell.machine, shell.info)
    assert any(p.where == where and needle in p.reason for p in heap.problems), heap.problems
    assert all(p.where in ("totals", "counters") for p in heap.problems), heap.problems   # the structure is fine


def test_used_corrupted_breaks_the_hole_total(shell, live, patch):
    fallback = shell.info.type("rustos::heap::KernelHeap").member("fallback").offset
    used_at = shell.info.variable("RUSTOS_HEAP").address + 8 + fallback + \
        shell.info.type("linked_list_allocator::Heap").member("used").offset
    with patch(used_at, struct.pack("<Q", live.fallback.used + 4096)):
        heap = read_heap(shell.machine, shell.info)
    reasons = [p.reason for p in heap.problems]
    assert any(r.endswith(f"top - bottom - used = {live.fallback.free - 4096} bytes free") for r in reasons), reasons

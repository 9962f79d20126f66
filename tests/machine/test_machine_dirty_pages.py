"""Dirty-page tracking of guest RAM (``machine/dirty.py``): the written pages, and
snapshots and restores built on them equal to a whole copy of RAM."""

import ctypes
import os
import subprocess
import sys

import pytest

from rustos_dbg import Machine
from rustos_dbg.machine import dirty
from rustos_dbg.testing import PROMPT

pytestmark = pytest.mark.emulator


@pytest.fixture
def ram():
    tracked = dirty.tracked_ram(64 * dirty.PAGE)
    if tracked is None:
        pytest.skip(f"no dirty-page tracking here: {dirty.unavailable}")
    return tracked


def test_the_first_write_to_each_page_is_recorded_and_reads_are_not(ram):
    ram.arm()
    ctypes.memmove(ram.address + 5 * dirty.PAGE + 17, b"abc", 3)
    ctypes.memmove(ram.address + 9 * dirty.PAGE, b"x" * (2 * dirty.PAGE), 2 * dirty.PAGE)  # pages 9 and 10
    ctypes.memmove(ram.address + 5 * dirty.PAGE, b"again", 5)                             # page 5 once
    assert ram.read(12 * dirty.PAGE, 8) == bytes(8)                                        # a read marks nothing
    assert ram.written() == [5, 9, 10]
    assert ram.read(5 * dirty.PAGE + 17, 3) == b"abc"                                      # the writes happened
    assert ram.written() == []                                                             # re-armed: none since
    ctypes.memmove(ram.address + 63 * dirty.PAGE, b"z", 1)
    assert ram.written() == [63]


def test_a_fault_outside_guest_ram_still_ends_the_process():
    code = ("import ctypes; from rustos_dbg.machine import dirty; r = dirty.tracked_ram(1 << 20); "
            "assert r is not None, dirty.unavailable; r.arm(); ctypes.string_at(8, 1)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60,
                          env={**os.environ, "PYTHONFAULTHANDLER": ""})
    assert done.returncode == -11, (done.returncode, done.stderr[-500:])   # SIGSEGV, as without tracking


def _raw(m: Machine) -> bytes:
    return bytes(m.uc.mem_read(0, m.ram_bytes))


@pytest.mark.parametrize("tracking", [True, False])
def test_snapshots_and_restores_in_any_order_equal_whole_copies_of_ram(rustos_elf, monkeypatch, tracking):
    if not tracking:
        monkeypatch.setenv("RUSTOS_DBG_NO_DIRTY_TRACKING", "1")
    m = Machine.boot(rustos_elf)
    assert (m.memory.tracked is not None) == (tracking and dirty.unavailable is None)
    assert m.run_until_serial(PROMPT, timeout=60) is None
    a = m.snapshot()
    assert a.ram.data == _raw(m)
    m.send_serial("echo dirty pages\n")
    m.run(max_instructions=2_000_000, timeout=60)
    b = m.snapshot()
    assert b.ram.data == _raw(m) != a.ram.data
    m.write_physical(0x9000, b"debugger")                    # a write from outside the guest counts too
    c = m.snapshot()
    assert c.ram.data == _raw(m) and c.ram.data[0x9000:0x9008] == b"debugger"
    for state in (a, b, a, c, b, c, a):                      # any order, any number of times
        m.restore(state)
        assert _raw(m) == state.ram.data
        m.run(max_instructions=300_000, timeout=60)          # and running on from each
        assert m.snapshot().ram.data == _raw(m)


def test_a_write_to_a_code_page_is_reported_and_stores_the_stop_word(ram):
    stop = ctypes.c_uint64(12345)
    ram.stop_on_code_write(ctypes.addressof(stop))
    ram.watch_code(3)                                        # watched also while not armed
    ctypes.memmove(ram.address + 5 * dirty.PAGE, b"data", 4)
    assert not ram.code_written() and stop.value == 12345    # another page: nothing
    ctypes.memmove(ram.address + 3 * dirty.PAGE + 100, b"\x90\x90", 2)
    assert stop.value == 0 and ram.code_written()            # the engine would stop at its next count
    assert not ram.code_written()                            # reported once
    assert ram.read(3 * dirty.PAGE + 100, 2) == b"\x90\x90"  # and the write happened
    stop.value = 7
    ctypes.memmove(ram.address + 3 * dirty.PAGE, b"x", 1)
    assert stop.value == 7 and not ram.code_written()        # no longer watched until watched again
    ram.stop_on_code_write(None)

"""``History.last_writes``: the recent writes to a range, newest first, across checkpoints."""

import pytest

from rustos_dbg import RustosDbgError

pytestmark = pytest.mark.emulator


@pytest.fixture
def machine(history_machine):
    return history_machine


def test_last_writes_of_the_tick_counter_are_consecutive_ticks_newest_first(machine):
    ticks = machine.resolve("RUSTOS_TICKS")
    machine.run(max_instructions=3_500_000, timeout=60)      # a few timer ticks, over several checkpoints
    now, state = machine.icount, machine.snapshot().digests()
    writes = machine.history.last_writes(ticks, 8, limit=4)
    assert machine.icount == now and machine.snapshot().digests() == state
    assert len(writes) == 4
    assert writes[0] == machine.last_write(ticks, 8)
    counts = [int.from_bytes(w.new, "little") for w in writes]
    assert counts == [counts[0] - k for k in range(4)]       # each tick adds one
    assert all(w.old == n.new for w, n in zip(writes, writes[1:]))
    assert [w.icount for w in writes] == sorted((w.icount for w in writes), reverse=True)
    with pytest.raises(RustosDbgError, match="at least 1"):
        machine.history.last_writes(ticks, 8, limit=0)


def test_the_planted_use_after_free_is_found_with_last_write(machine):
    """README "Going back in time": the stale pointer's write, named in one call."""
    machine.send_serial("fault uaf\n")
    assert machine.run_until_serial("(expected 500)", timeout=60) is None
    report = [line for line in machine.serial_output.splitlines() if line.startswith("fault uaf:")][-1]
    account = int(report.split(" at ")[1].split()[0], 16)
    assert "has balance 0" in report                        # the block was reused, and overwritten
    balance = account + 8                                    # Account { id, balance }, #[repr(C)]
    write = machine.last_write(balance, 8)
    assert write.symbol.startswith("rustos::fault::late_update"), write.symbol
    assert (int.from_bytes(write.old, "little"), int.from_bytes(write.new, "little")) == (500, 0)
    assert write.context.trap is None and write.context.task   # in the shell's task, not a handler
    before = machine.history.last_writes(balance, 8, limit=3)
    assert before[0] == write
    assert before[1].symbol.startswith("rustos::fault::trigger_use_after_free")   # the new owner's 500
    assert int.from_bytes(before[1].new, "little") == 500 and before[1].icount < write.icount

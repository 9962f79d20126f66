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

"""The bounded exception log (rustos_dbg.machine.exlog): absolute positions, folding, snapshots."""

from dataclasses import dataclass

import pytest

from rustos_dbg.inspect.hw.faults import decode_faults, format_faults
from rustos_dbg.machine.exlog import CHUNK, ExceptionLog


@dataclass(frozen=True)
class _Entry:
    icount: int
    vector: int
    source: str = "external"
    error_code: int | None = None
    rip: int = 0
    cr2: int | None = None
    old_rsp: int = 0
    new_rsp: int | None = 0
    ist: int = 0
    handler: int | None = 0
    outcome: str = "delivered"


def _fill(log, n, start=0):
    for i in range(start, start + n):
        log.append(_Entry(i, 32 if i % 4 else 14))


def test_positions_stay_absolute_after_old_entries_fold():
    log = ExceptionLog(keep=4 * CHUNK)
    _fill(log, 10 * CHUNK + 7)
    assert len(log) == 10 * CHUNK + 7
    assert 3 * CHUNK <= log.kept <= 4 * CHUNK
    assert log.first + log.kept == len(log)
    assert log[-1].icount == len(log) - 1 and log[log.first].icount == log.first
    assert [e.icount for e in log[len(log) - 3:]] == [len(log) - 3, len(log) - 2, len(log) - 1]
    assert log[0:5] == []  # folded positions are gone from slices
    with pytest.raises(IndexError, match="folded"):
        log[0]
    assert sum(log.folded.values()) == log.first
    assert log.folded == {14: log.first // 4, 32: log.first - log.first // 4}


def test_snapshot_shares_chunks_and_restores_exactly():
    log = ExceptionLog(keep=4 * CHUNK)
    _fill(log, 5 * CHUNK + 3)
    state = log.snapshot()
    assert len(state) == len(log) and state.entries() == tuple(log)
    _fill(log, CHUNK, start=len(log))
    later = log.snapshot()
    assert later.chunks[-2] is state.chunks[-1]  # full chunks are shared, not copied
    log.restore(state)
    assert len(log) == 5 * CHUNK + 3 and tuple(log) == state.entries() and log.folded == dict(state.folded)


def test_faults_view_numbers_kept_entries_by_absolute_position_and_counts_the_rest():
    log = ExceptionLog(keep=2 * CHUNK)
    _fill(log, 3 * CHUNK)
    view = decode_faults(log, last=1)
    assert view.total == 3 * CHUNK and view.records[0].index == 3 * CHUNK - 1
    text = format_faults(view)
    assert text.splitlines()[1].startswith("older entries, counted only: ")
    assert f"x{dict(view.folded)[32]}" in text

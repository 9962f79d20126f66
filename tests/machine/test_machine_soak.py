"""Soak: an idle kernel's exception log stays bounded however long it runs (issue 15, part 1)."""

import pytest

from rustos_dbg.inspect.hw.faults import decode_faults, format_faults
from rustos_dbg.machine.exlog import CHUNK, DEFAULT_KEEP
from rustos_dbg.testing import PROMPT

pytestmark = pytest.mark.emulator

TIMER = 32


def test_idle_run_keeps_the_log_bounded_and_counts_what_it_folds(rustos_elf):
    from rustos_dbg import Machine

    machine = Machine.boot(rustos_elf)
    assert machine.run_until_serial(PROMPT, timeout=60) is None
    log = machine.exception_log
    goal = len(log) + 3 * DEFAULT_KEEP  # three times what is kept in full: old entries must fold
    machine.run(stop_when=lambda: len(log) >= goal, timeout=600)
    assert len(log) >= goal
    assert DEFAULT_KEEP - CHUNK <= log.kept <= DEFAULT_KEEP
    assert sum(log.folded.values()) == log.first == len(log) - log.kept
    assert log.folded[TIMER] > 2 * DEFAULT_KEEP - CHUNK  # idle: nearly all timer interrupts
    # The newest entries are whole, at their absolute positions, in icount order.
    recent = log[len(log) - 10:]
    assert [e.icount for e in recent] == sorted(e.icount for e in recent) and recent[-1] is log[-1]
    view = decode_faults(log, include_external=True, last=3)
    assert view.total == len(log) and [r.index for r in view.records] == [len(log) - 3, len(log) - 2, len(log) - 1]
    assert "older entries, counted only: " in format_faults(view)
    # A snapshot holds the same bounded log; a restore brings back its exact length.
    state = machine.snapshot()
    total = len(log)
    machine.run(stop_when=lambda: len(log) >= total + CHUNK, timeout=120)
    machine.restore(state)
    assert len(machine.exception_log) == total and machine.exception_log.kept <= DEFAULT_KEEP

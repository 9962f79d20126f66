"""A machine's inputs as a recording: what ``run --record`` writes and ``--replay`` and bundles read.

Contract: :func:`recorded_inputs` gives every input delivered so far as plain
data, one ``{"icount", "kind", "data" (hex), "at_ns"}`` entry each;
:func:`schedule_recorded` delivers such entries again at their virtual times
(deterministic mode), so the run they came from replays instruction for
instruction. A malformed entry raises ``ValueError``, ``KeyError`` or
``TypeError``, which the caller turns into its one-line error.
"""

from __future__ import annotations


def recorded_inputs(machine) -> list[dict]:
    """Every input delivered so far, with the instruction count and virtual time it arrived at."""
    return [{"icount": i, "kind": k, "data": bytes(d).hex(), "at_ns": t} for i, k, d, t in machine.input_log]


def schedule_recorded(machine, entries) -> None:
    """Schedules each entry's input at its virtual time."""
    for entry in entries:
        machine.schedule_input(int(entry["at_ns"]), str(entry["kind"]), bytes.fromhex(entry["data"]))

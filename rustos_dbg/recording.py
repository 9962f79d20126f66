"""A machine's inputs as a recording: what ``run --record`` writes and ``--replay`` and bundles read.

Contract: :func:`recorded_inputs` gives every input delivered so far as plain
data, one ``{"icount", "kind", "data" (hex), "at_ns"}`` entry each;
:func:`schedule_recorded` delivers such entries again at their virtual times
(deterministic mode), so the run they came from replays instruction for
instruction. A malformed entry raises ``ValueError``, ``KeyError`` or
``TypeError``, which the caller turns into its one-line error.
:func:`save_recording_file` and :func:`load_recording_file` are ``run
--record FILE`` and ``--replay FILE``: a JSON file, and a one-line
:class:`RecordingError` for one that cannot be read or is not a recording.
"""

from __future__ import annotations

import json
from pathlib import Path

from .machine.errors import RustosDbgError


def recorded_inputs(machine) -> list[dict]:
    """Every input delivered so far, with the instruction count and virtual time it arrived at."""
    return [{"icount": i, "kind": k, "data": bytes(d).hex(), "at_ns": t} for i, k, d, t in machine.input_log]


def schedule_recorded(machine, entries) -> None:
    """Schedules each entry's input at its virtual time."""
    for entry in entries:
        machine.schedule_input(int(entry["at_ns"]), str(entry["kind"]), bytes.fromhex(entry["data"]))


class RecordingError(RustosDbgError):
    """A recording file that cannot be read, or is not a recording."""


def load_recording_file(machine, path: str) -> None:
    """Schedules the inputs of a recording made with ``--record``."""
    try:
        schedule_recorded(machine, json.loads(Path(path).read_text())["inputs"])
    except OSError as e:
        raise RecordingError(f"cannot read recording '{path}': {e.strerror}") from None
    except (ValueError, KeyError, TypeError) as e:
        raise RecordingError(f"'{path}' is not a rustos-dbg recording ({e})") from None


def save_recording_file(machine, path: str) -> None:
    """Writes the inputs delivered so far, with their virtual times."""
    Path(path).write_text(json.dumps({"elf": str(machine.image.path), "cmdline": machine.cmdline,
                                      "inputs": recorded_inputs(machine)}, indent=1))

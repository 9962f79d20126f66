"""The exception/interrupt log, bounded: recent entries in full, older ones counted.

Contract: :class:`ExceptionLog` records every delivery attempt
(:class:`~.delivery.LogEntry`) in order, like a list whose positions never
change: ``len(log)`` is the number of entries ever appended, ``log[i]`` and
``log[i:j]`` use those absolute positions (negative ones count from the end).
Only the most recent entries, at least ``keep`` minus one chunk of them, are
held in full; older entries are dropped a chunk at a time and survive as
per-vector counts (:attr:`ExceptionLog.folded`; another log may count them
by its own ``fold_key``, e.g. the system-call log by number, and a key of
None is not counted). Reading a dropped position
raises ``IndexError``; a slice starts at the oldest kept entry
(:attr:`ExceptionLog.first`). Iteration yields the kept entries.

Memory therefore stays bounded however long the machine runs (an idle kernel
takes a timer interrupt every millisecond). Full chunks are immutable tuples,
so :meth:`ExceptionLog.snapshot` shares them with the live log: a snapshot
costs the chunk references plus the partial chunk, not a copy of the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import Callable, Iterator

#: Entries per chunk: the unit in which old entries are folded into counts.
CHUNK = 256
#: Entries kept in full by default (about four seconds of an idle kernel's 1 kHz timer IRQs).
DEFAULT_KEEP = 4096


@dataclass(frozen=True)
class ExceptionLogState:
    """An :class:`ExceptionLog` at one moment (part of a machine snapshot)."""

    first: int            #: absolute position of the oldest kept entry
    chunks: tuple         #: full chunks of kept entries (tuples of CHUNK entries)
    tail: tuple           #: the entries after the full chunks
    folded: tuple         #: sorted (vector, count) of the dropped entries

    def __len__(self) -> int:
        return self.first + len(self.chunks) * CHUNK + len(self.tail)

    def entries(self) -> tuple:
        """The kept entries, oldest first."""
        return tuple(e for chunk in self.chunks for e in chunk) + self.tail


class ExceptionLog:
    """An append-only log with absolute positions, holding only recent entries in full."""

    def __init__(self, keep: int = DEFAULT_KEEP, fold_key: Callable = attrgetter("vector")) -> None:
        """A log that keeps at least ``keep - CHUNK`` (at most ``keep``) entries in full;
        dropped entries are counted by ``fold_key(entry)`` (default: its vector)."""
        if keep < 2 * CHUNK:
            raise ValueError(f"an exception log keeps at least {2 * CHUNK} entries")
        self._max_chunks = keep // CHUNK
        self._chunks: list[tuple] = []
        self._tail: list = []
        self._first = 0
        self._folded: dict[int, int] = {}
        self._fold_key = fold_key

    # --- recording -----------------------------------------------------------------

    def append(self, entry) -> None:
        """Records ``entry`` (the newest); folds the oldest chunk when the log is full."""
        self._tail.append(entry)
        if len(self._tail) == CHUNK:
            self._chunks.append(tuple(self._tail))
            self._tail = []
            if len(self._chunks) > self._max_chunks - 1:
                old = self._chunks.pop(0)
                for e in old:
                    key = self._fold_key(e)
                    if key is not None:
                        self._folded[key] = self._folded.get(key, 0) + 1
                self._first += CHUNK

    # --- reading -------------------------------------------------------------------

    @property
    def first(self) -> int:
        """Absolute position of the oldest entry still held in full."""
        return self._first

    @property
    def folded(self) -> dict[int, int]:
        """Per vector (per ``fold_key``), how many older entries were dropped (only counted)."""
        return dict(sorted(self._folded.items()))

    @property
    def kept(self) -> int:
        """How many entries are held in full."""
        return len(self._chunks) * CHUNK + len(self._tail)

    def __len__(self) -> int:
        return self._first + self.kept

    def __bool__(self) -> bool:
        return len(self) > 0

    def _at(self, offset: int):
        chunk, within = divmod(offset, CHUNK)
        return self._chunks[chunk][within] if chunk < len(self._chunks) else self._tail[within]

    def __getitem__(self, index):
        total = len(self)
        if isinstance(index, slice):
            start, stop, step = index.indices(total)
            if step > 0:
                start = max(start, self._first)
            else:
                stop = max(stop, self._first - 1)
            return [self._at(i - self._first) for i in range(start, stop, step)]
        if index < 0:
            index += total
        if not self._first <= index < total:
            if 0 <= index < self._first:
                raise IndexError(f"exception log entry {index} was folded into counts (oldest kept: {self._first})")
            raise IndexError("exception log index out of range")
        return self._at(index - self._first)

    def __iter__(self) -> Iterator:
        for chunk in self._chunks:
            yield from chunk
        yield from self._tail

    def __reversed__(self) -> Iterator:
        yield from reversed(self._tail)
        for chunk in reversed(self._chunks):
            yield from reversed(chunk)

    # --- state ---------------------------------------------------------------------

    def snapshot(self) -> ExceptionLogState:
        """The log now; full chunks are shared, not copied."""
        return ExceptionLogState(self._first, tuple(self._chunks), tuple(self._tail),
                                 tuple(sorted(self._folded.items())))

    def restore(self, state: ExceptionLogState) -> None:
        """Puts the log back to ``state``."""
        self._first = state.first
        self._chunks = list(state.chunks)
        self._tail = list(state.tail)
        self._folded = dict(state.folded)

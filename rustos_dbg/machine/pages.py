"""Memory captured page by page: :class:`RamState` and the :class:`PageStore` that takes and puts it back.

Contract: a :class:`PageStore` covers ``size`` bytes of memory that it reads
and writes by offset through the callables it is given (guest RAM: through
Unicorn, so that a restore drops the translated code of a changed page; the
video memory: its host buffer). ``snapshot()`` returns a frozen
:class:`RamState` whose pages unchanged since the previous snapshot or restore
are the very objects of that state (all-zero pages are one shared object);
``restore(state)`` writes it back. With a
:class:`~.dirty.TrackedRam` behind the range both cost the pages written
since the last snapshot or restore (and, for a restore, the pages in which the
two states differ); without one, the whole range is read and compared.
"""

from __future__ import annotations

import hashlib
import operator
from dataclasses import dataclass

from .dirty import marked

PAGE = 4096


@dataclass(frozen=True, repr=False)
class RamState:
    """The contents of a memory range at one moment, page by page. Pages equal to
    those of the state it was taken after are the same objects, so a series of
    states costs the memory of the pages that changed between them (and all-zero
    pages cost nothing)."""

    pages: tuple[bytes, ...]

    @property
    def data(self) -> bytes:
        """The whole range as one bytes value."""
        return b"".join(self.pages)

    def new_bytes(self, before: "RamState | None") -> int:
        """Bytes of the non-zero pages of this state that are not the very pages
        ``before`` holds at the same place (all its non-zero pages when None)."""
        if before is None:
            return sum(page is not ZERO_PAGE for page in self.pages) * PAGE
        return sum(self.pages[i] is not ZERO_PAGE for i in _differing(self.pages, before.pages)) * PAGE

    def digest(self) -> str:
        """SHA-256 of the contents."""
        h = hashlib.sha256()
        for page in self.pages:
            h.update(page)
        return h.hexdigest()

    def __repr__(self) -> str:
        """Short and stable (the device states that hold one are hashed through their repr)."""
        return f"RamState({len(self.pages)} pages, sha256 {self.digest()[:16]})"


#: The one all-zero page every state shares.
ZERO_PAGE = bytes(PAGE)


def _differing(a: tuple, b: tuple) -> list[int]:
    """Indices at which ``a`` and ``b`` hold different objects (at C speed)."""
    return marked(bytes(map(operator.is_not, a, b)))


def _runs(indices: list[int]):
    """(first, last) of each run of consecutive numbers in sorted ``indices``."""
    start = prev = None
    for i in indices:
        if start is None:
            start = prev = i
        elif i == prev + 1:
            prev = i
        else:
            yield start, prev
            start = prev = i
    if start is not None:
        yield start, prev


class PageStore:
    """Snapshots and restores of ``size`` bytes read by ``read(offset, n)`` and written by ``write(offset, data)``."""

    def __init__(self, size: int, read, write, tracked=None) -> None:
        """``tracked``: the :class:`~.dirty.TrackedRam` behind the range, or None."""
        self.size, self._read, self._write, self.tracked = size, read, write, tracked
        # The last state taken or restored; with tracking, memory equals it but for
        # the pages written since.
        self._last: RamState | None = None

    def snapshot(self) -> RamState:
        """The range now (pages unchanged since the last snapshot or restore shared with it)."""
        written = self.tracked.written() if self.tracked is not None else None
        if written is None or self._last is None:
            self._last = self._scan()
            return self._last
        pages = list(self._last.pages)
        read = self.tracked.read
        for i in written:
            page = read(i * PAGE, PAGE)
            if page != pages[i]:
                pages[i] = ZERO_PAGE if page == ZERO_PAGE else page
        self._last = RamState(tuple(pages))
        return self._last

    def _scan(self) -> RamState:
        """The whole range, read and compared page by page (and tracking armed)."""
        if self.tracked is not None:
            self.tracked.arm()
        raw = self._read(0, self.size)
        last = self._last.pages if self._last is not None else None
        pages = []
        for at in range(0, self.size, PAGE):
            page = raw[at:at + PAGE]
            if last is not None and page == last[at // PAGE]:
                pages.append(last[at // PAGE])
            elif page == ZERO_PAGE:
                pages.append(ZERO_PAGE)
            else:
                pages.append(bytes(page))
        return RamState(tuple(pages))

    def restore(self, state: RamState) -> None:
        """Puts back the contents of ``state``."""
        if len(state.pages) * PAGE != self.size:
            raise ValueError(f"the state holds {len(state.pages) * PAGE} bytes, this range {self.size}")
        written = self.tracked.written() if self.tracked is not None else None
        if written is None or self._last is None:
            self._write(0, state.data)
        else:
            # Through Unicorn, page run by page run, so translated code of a changed page is dropped.
            changed = set(written)
            changed.update(_differing(state.pages, self._last.pages))
            for first, last in _runs(sorted(changed)):
                self._write(first * PAGE, b"".join(state.pages[first:last + 1]))
        if self.tracked is not None:
            self.tracked.arm()
        self._last = state

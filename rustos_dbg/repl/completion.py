"""Completion of command lines: a pure function, tested without a terminal.

Contract: ``complete(line, words, symbols, registers)`` returns the sorted
candidates for the last word of ``line``: command names (and aliases) for the
first word; ``$``-registers for a word starting with ``$``; otherwise symbol
names (full names, and the part after the last ``::`` typed so far).
:class:`ReplCompleter` adapts it to prompt_toolkit.
"""

from __future__ import annotations

from typing import Iterable

MAX_CANDIDATES = 200


def complete(line: str, words: Iterable[str], symbols: Iterable[str], registers: Iterable[str]) -> list[str]:
    """Candidates that complete the last word of ``line``."""
    parts = line.split(" ")
    current = parts[-1]
    if len(parts) == 1:
        return sorted(w for w in words if w.startswith(current))
    if current.startswith("$"):
        return sorted("$" + r for r in registers if ("$" + r).startswith(current))
    if not current:
        return []
    found = sorted({s for s in symbols if s.startswith(current)})
    return found[:MAX_CANDIDATES]


class ReplCompleter:
    """prompt_toolkit completer over :func:`complete`."""

    def __init__(self, session) -> None:
        """Completes for ``session``'s commands, symbols and registers."""
        from prompt_toolkit.completion import Completer

        self._session = session
        self._symbols: list[str] | None = None
        base = self

        class _Adapter(Completer):
            def get_completions(self, document, complete_event):
                from prompt_toolkit.completion import Completion

                line = document.text_before_cursor
                current = line.split(" ")[-1]
                for cand in base.candidates(line):
                    yield Completion(cand, start_position=-len(current))

        self.completer = _Adapter()

    def candidates(self, line: str) -> list[str]:
        """The candidates for ``line``."""
        from ..machine.registers import NAMES

        if self._symbols is None:
            self._symbols = [s.name for s in self._session.machine.symbols]
        return complete(line, self._session.registry.words(), self._symbols, NAMES)

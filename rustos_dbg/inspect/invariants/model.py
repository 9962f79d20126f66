"""The result of one invariant check, and its views.

Contract: a check returns a frozen :class:`CheckResult`: ``ok`` (True also
when the structure cannot be checked yet, with ``note`` saying why),
``problems`` (each one line: what, where, why; the first is the one to
read). :func:`format_result` gives ``NAME: ok`` or ``NAME: FAILED: ...``,
one line per invariant; :func:`to_json` the JSON of a result or a tuple of
them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import jsonview


@dataclass(frozen=True)
class CheckResult:
    """One invariant at one stop."""

    name: str
    problems: tuple[str, ...] = ()
    note: str | None = None          #: why it was not (fully) checked, e.g. ``not set up yet``
    culprit: tuple[int, int] | None = None  #: (virtual address, size) of the word found corrupted, if one

    JSON_EXTRA = ("ok",)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems


def format_result(result: CheckResult) -> str:
    """``NAME: ok`` (with the note in parentheses) or ``NAME: FAILED: first problem (+N more)``."""
    if result.ok:
        return f"{result.name}: ok" + (f" ({result.note})" if result.note else "")
    more = f" (+{len(result.problems) - 1} more)" if len(result.problems) > 1 else ""
    return f"{result.name}: FAILED: {result.problems[0]}{more}"


def format_results(results) -> str:
    """One line per result."""
    return "\n".join(format_result(r) for r in results)


def to_json(model) -> str:
    """JSON text of a result or a tuple of results."""
    return jsonview.to_json(model)

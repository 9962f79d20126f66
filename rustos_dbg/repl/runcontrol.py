"""What bounds and filters the REPL's runs: limits per command, and conditions.

Contract: :class:`Limits` bounds every command that runs the guest (a number
of instructions, counted in the deterministic mode only, and host seconds;
None is no bound). Interactive sessions have none (Ctrl-C stops a run);
batch runs (``-ex``, ``-x``, piped commands) start with :data:`BATCH_LIMITS`,
so that a command such as ``until 0`` always ends, with a stop that says
which limit ended it and how to change it (``set limit``). A :class:`Budget`
is the limits of one command, counted from its start. A :class:`Condition`
is a breakpoint's or watchpoint's ``if EXPR``: the machine calls it at each
hit (no stop when it is false); an error while evaluating it counts as true
and is kept in :attr:`Condition.error` for the stop report.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from ..machine.stops import StopKind

#: Batch runs: at most this many instructions or host seconds per command.
BATCH_INSTRUCTIONS = 100_000_000
BATCH_SECONDS = 60.0


@dataclass(frozen=True)
class Limits:
    """Most instructions (deterministic mode) and host seconds one command may run."""

    instructions: int | None = None
    seconds: float | None = None

    def describe(self) -> str:
        """``100000000 instructions, 60 s`` or ``none``."""
        parts = []
        if self.instructions is not None:
            parts.append(f"{self.instructions} instructions")
        if self.seconds is not None:
            parts.append(f"{self.seconds:g} s")
        return ", ".join(parts) or "none"


#: The limits batch runs start with.
BATCH_LIMITS = Limits(BATCH_INSTRUCTIONS, BATCH_SECONDS)


class Budget:
    """What is left of one command's :class:`Limits` on ``machine``."""

    def __init__(self, limits: Limits, machine) -> None:
        """Starts counting now, at the machine's instruction count."""
        self.limits = limits
        self._machine = machine
        self._icount = machine.icount
        self._deadline = None if limits.seconds is None else time.monotonic() + limits.seconds
        self._counts = machine.counter is not None  # the fast mode does not count instructions

    def _left_instructions(self) -> int | None:
        if self.limits.instructions is None or not self._counts:
            return None
        return self.limits.instructions - (self._machine.icount - self._icount)

    def run_kwargs(self, max_instructions: int | None = None, timeout: float | None = None) -> dict:
        """``max_instructions`` and ``timeout`` for ``Machine.run``, within the budget."""
        left = self._left_instructions()
        if left is not None:
            max_instructions = max(left, 0) if max_instructions is None else min(max_instructions, max(left, 0))
        if self._deadline is not None:
            seconds = max(self._deadline - time.monotonic(), 0.0)
            timeout = seconds if timeout is None else min(timeout, seconds)
        return {"max_instructions": max_instructions, "timeout": timeout}

    def spent(self) -> bool:
        """True when a limit is reached."""
        left = self._left_instructions()
        if left is not None and left <= 0:
            return True
        return self._deadline is not None and time.monotonic() >= self._deadline

    def limit_stop(self, stop=None):
        """``stop`` (or a new stop here) marked as the end of the budget, when the
        budget is spent and the stop is a limit stop or None; else ``stop`` as it is."""
        machine = self._machine
        if stop is not None and stop.kind not in (StopKind.INSTRUCTION_LIMIT, StopKind.TIME_LIMIT):
            return stop
        if not self.spent():
            return stop
        left = self._left_instructions()
        if left is not None and left <= 0:
            kind, what = StopKind.INSTRUCTION_LIMIT, f"{self.limits.instructions} instructions"
            change = "set limit instructions N|none"
        else:
            kind, what = StopKind.TIME_LIMIT, f"{self.limits.seconds:g} host seconds"
            change = "set limit seconds S|none"
        if stop is None:
            from ..machine.stops import Stop

            stop = Stop(kind, machine.reg("rip"), machine.icount)
        return replace(stop, kind=kind, message=f"the command's limit of {what} is reached ({change} changes it)")


class Condition:
    """``if EXPR`` of a breakpoint or watchpoint, evaluated on the session's current
    machine (so it survives ``run``)."""

    def __init__(self, expr, session) -> None:
        """``expr``: a compiled :class:`~.expr.Expr`; ``session``: whose ``machine`` it reads."""
        self.expr = expr
        self._session = session
        #: The error of the last evaluation, or None.
        self.error: str | None = None

    @property
    def text(self) -> str:
        """The expression as typed."""
        return self.expr.text

    def __call__(self) -> bool:
        """True when the expression is non-zero now (or cannot be evaluated)."""
        try:
            value = self.expr.evaluate(self._session.machine)
        except Exception as e:  # an unmapped address in a `*`: stop and say why
            self.error = str(e)
            return True
        self.error = None
        return value != 0

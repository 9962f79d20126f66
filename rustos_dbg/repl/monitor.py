"""gdb's ``monitor CMD``: the REPL's commands that leave the machine where gdb has it.

Contract: :class:`GdbMonitor` is the ``monitor`` callable a gdb target is given
(``MachineTarget(machine, monitor=GdbMonitor(session))``): text in, the
command's output out as it is produced, through :meth:`Session.execute_pieces`.

* Under gdb the machine is gdb's: a command registered as moving it
  (:attr:`Command.moves <.registry.Command.moves>`: ``stepi``, ``continue``,
  ``gdbserver``..., and every new run-control command unless it says
  otherwise) is refused with a one-line :class:`CommandError` naming what to
  use in gdb instead, before it parses its arguments or touches the machine.
* An unknown command or bad arguments raise the command's one-line
  :class:`CommandError`; an unexpected exception of a command becomes one too
  (a REPL bug must not end the gdb session).
"""

from __future__ import annotations

from typing import Iterator

from .registry import Command, CommandError, split_command

#: What to use in gdb instead of a REPL command that moves the machine.
GDB_INSTEAD = {
    "stepi": "use gdb's `stepi`",
    "step": "use gdb's `step`",
    "next": "use gdb's `next`",
    "finish": "use gdb's `finish`",
    "until": "use gdb's `advance LOCATION` (or `until`)",
    "continue": "use gdb's `continue`",
    "run": "gdb cannot reboot it: `kill` gdb's session, then start again",
    "gdbserver": "gdb is already connected: `detach` it first",
    "reverse-stepi": "use gdb's `reverse-stepi`",
    "reverse-continue": "use gdb's `reverse-continue`",
    "reverse-finish": "use gdb's `reverse-finish`",
    "reverse-next": "use gdb's `reverse-next`",
    "goto": "use gdb's reverse commands (`reverse-continue` to a breakpoint, `reverse-stepi`)",
    "restart": "use gdb's reverse commands (`reverse-continue` to a breakpoint, `reverse-stepi`)",
}
_DEFAULT_INSTEAD = "use gdb's own run control (`stepi`, `next`, `continue`...)"


def refusal(word: str, cmd: Command) -> str:
    """The one-line answer to ``monitor WORD`` for a command that moves the machine."""
    return f"monitor {word}: the machine is gdb's; {GDB_INSTEAD.get(cmd.name, _DEFAULT_INSTEAD)}"


class GdbMonitor:
    """``monitor`` for a gdb session on ``session``'s machine (see the module)."""

    def __init__(self, session) -> None:
        """Runs commands through ``session`` (a :class:`~.session.Session`)."""
        self.session = session

    def __call__(self, line: str) -> Iterator[str]:
        """The output of ``line``, piece by piece as it is produced; a
        :class:`CommandError` for a refused (at once) or bad command."""
        word, _ = split_command(line)
        cmd = self.session.registry.find(word)
        if cmd is not None and cmd.moves:
            raise CommandError(refusal(word, cmd))
        return self._pieces(line, word)

    def _pieces(self, line: str, word: str) -> Iterator[str]:
        self.session.under_gdb = True
        try:
            yield from self.session.execute_pieces(line)
        except CommandError:
            raise
        except Exception as e:
            raise CommandError(f"{word}: {type(e).__name__}: {e}") from None
        finally:
            self.session.under_gdb = False

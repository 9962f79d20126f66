"""The interactive REPL and batch mode of ``rustos-dbg debug``.

Contract: :func:`run_batch` runs commands (``-ex`` and ``-x FILE`` lines) in
order, printing each output, and returns an exit status (0, or 1 if a command
failed); each command that runs the guest stops at the batch limits
(``runcontrol.BATCH_LIMITS``, changed with ``set limit``); :func:`run_interactive` runs the prompt_toolkit loop with history and
completion until ``quit`` or end of input; its prompt (:func:`prompt_text`)
shows where in the recorded history the machine is when it is in the past.
Errors print one line and the session goes on; the REPL never exits on an
error of the guest or the user.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .registry import CommandError
from .session import Session

QUIT_WORDS = {"quit", "q", "exit"}


def _execute(session: Session, line: str, out, err) -> bool:
    """Prints the command's output as it comes (a long listing scrolls while it is made)."""
    last = ""
    try:
        for piece in session.execute_pieces(line):
            if piece:
                out.write(piece)
                out.flush()
                last = piece
    except CommandError as e:
        if last and not last.endswith("\n"):
            out.write("\n")
        print(f"error: {e}", file=err)
        return False
    if last:
        out.write("\n")
        out.flush()
    return True


def prompt_text(session: Session) -> str:
    """``(rustos-dbg) ``; ``(rustos-dbg @NOW/END) `` while the machine is in the past,
    and the selection's label (``thread 3 spin``) while one is set."""
    from .commands.timetravel import history_mark
    from .selection import prompt_label

    marks = [m for m in (prompt_label(session), history_mark(session.machine)) if m]
    return f"(rustos-dbg {' '.join(marks)}) " if marks else "(rustos-dbg) "


def run_batch(session: Session, lines: list[str], out=sys.stdout, err=sys.stderr, echo: bool = False) -> int:
    """Runs ``lines`` in order, within the batch limits; 1 if any command failed, else 0."""
    from .runcontrol import BATCH_LIMITS

    session.limits = BATCH_LIMITS
    status = 0
    for line in lines:
        if line.strip() in QUIT_WORDS:
            break
        if echo and line.strip():
            print(f"{prompt_text(session)}{line}", file=out)
        if not _execute(session, line, out, err):
            status = 1
    return status


def read_script(path: str) -> list[str]:
    """The command lines of a ``-x`` file (one a line, # comments)."""
    try:
        return Path(path).read_text().splitlines()
    except OSError as e:
        raise CommandError(f"cannot read command file '{path}': {e.strerror}") from None


def run_interactive(session: Session) -> int:
    """The prompt loop; returns 0 at ``quit`` or end of input."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    from .completion import ReplCompleter
    from .report import instruction_at

    history = Path.home() / ".rustos_dbg_history"
    prompt = PromptSession(history=FileHistory(str(history)), completer=ReplCompleter(session).completer)
    m = session.machine
    print(f"rustos-dbg: {m.image.path} ({m.mode}), stopped at {instruction_at(m, m.reg('rip'))}")
    print("type 'help' for the commands, 'continue' to run, Ctrl-C to stop a running guest, 'quit' to leave")
    while True:
        try:
            line = prompt.prompt(prompt_text(session))
        except KeyboardInterrupt:
            continue
        except EOFError:
            return 0
        if line.strip() in QUIT_WORDS:
            return 0
        _execute(session, line, sys.stdout, sys.stderr)

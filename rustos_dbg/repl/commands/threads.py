"""Thread selection: ``thread N`` puts a kernel thread or process in the session's
one selection (:mod:`..selection`), and ``--pid N`` names an address space.

Contract: ``thread N`` looks the id up with
:func:`rustos_dbg.inspect.kernel.thread_context.thread_context` and selects its
saved registers and CR3 (the running thread selects the CPU's own registers,
so nothing is overridden); ``thread`` shows the selection, ``thread none``
clears it (with ``json on``, the context as JSON). :func:`take_pid` gives the reader of ``--pid N`` (that
thread's address space) for ``walk`` and ``maps``. An unknown id or a malformed argument is a one-line
``CommandError``.
"""

from __future__ import annotations

from ...inspect.kernel.thread_context import context_view, thread_context, to_json
from ..expr import parse_int
from ..registry import CommandError, command
from ..selection import SelectedReader, Selection

__all__ = ["take_pid"]


def _tid(text: str, what: str) -> int:
    try:
        tid = parse_int(text)
    except CommandError:
        raise CommandError(f"{what}: '{text}' is not a thread id (the PID column of 'threads')") from None
    if tid <= 0:
        raise CommandError(f"{what}: '{text}' is not a thread id (ids start at 1; see 'threads')")
    return tid


def take_pid(session, words: list[str], what: str):
    """``words`` without ``--pid N`` (or ``--pid=N``), and what to read: the session's
    reader, or with ``--pid N`` one in that thread's address space (its CR3 and the
    symbols of its program; registers stay the selection's or the CPU's)."""
    rest, pid = [], None
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--pid" or word.startswith("--pid="):
            value = word.partition("=")[2] if "=" in word else (words[i + 1] if i + 1 < len(words) else "")
            if not value:
                raise CommandError(f"{what}: --pid needs a thread id (the PID column of 'threads')")
            pid = _tid(value, what)
            i += 1 if "=" in word else 2
            continue
        rest.append(word)
        i += 1
    if pid is None:
        return rest, session.reader()
    m = session.machine
    ctx = thread_context(m, m.image, pid)
    base = session.selection
    space = Selection("thread", pid, f"thread {pid} {ctx.thread.name}", cr3=ctx.cr3, detail=ctx,
                      registers=base.registers if base is not None else {})
    return rest, SelectedReader(m, space)


@command("thread", usage="thread [N|none]", group="kernel",
         help="select thread/process N (its saved registers and address space) for regs, bt, x, dis and walk; "
              "alone: show the selection; none: clear it")
def cmd_thread(session, args):
    words = session.split(args)
    if len(words) > 1:
        raise CommandError("usage: thread [N|none]")
    reader = session.reader()
    if not words:
        selection = session.selection
        if selection is None:
            return "no thread selected: regs, bt, x, dis and walk show the CPU"
        if selection.kind != "thread":
            return f"selected: {selection.label} (not a thread)"
        return to_json(selection.detail) if session.json else context_view(selection.detail, reader.symbolize)
    if words[0] == "none":
        session.selection = None
        return "selection cleared: regs, bt, x, dis and walk show the CPU"
    m = session.machine
    ctx = thread_context(m, m.image, _tid(words[0], "thread"))
    t = ctx.thread
    label = f"thread {t.tid} {t.name}"
    if ctx.on_cpu:
        # The running thread is the CPU as it is: nothing to override.
        session.selection = Selection("thread", t.tid, label, detail=ctx)
    else:
        session.selection = Selection("thread", t.tid, label, registers=ctx.values, cr3=ctx.cr3, detail=ctx)
    return to_json(ctx) if session.json else context_view(ctx, session.reader().symbolize)

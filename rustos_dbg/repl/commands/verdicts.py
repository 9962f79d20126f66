"""Verdict commands: ``stacks`` and ``sanitize heap on|off``.

Contract: ``stacks`` lists every kernel stack (the boot and IST stacks, each
thread's kernel stack) with its size, current depth and high-water mark
(:mod:`rustos_dbg.inspect.kernel.stacks`; JSON under ``json on``), and the
stack overflow of the latest exceptions, when one hit a guard page.
``sanitize heap on|off`` turns the heap sanitizer on or off
(``Machine.sanitize_heap``, :mod:`rustos_dbg.machine.sanitizer`); ``sanitize``
alone says whether it is on, how many blocks it tracks and the error it
found. Its errors stop runs; the stop report shows them
(:mod:`rustos_dbg.repl.report`). ``locks --unsafe`` lives with ``locks``.
"""

from __future__ import annotations

from ..registry import CommandError, command
from ..report import stack_overflow

_SANITIZE_USAGE = "usage: sanitize [heap on|off]"


@command("stacks", usage="stacks", help="every kernel stack: size, depth now, high-water mark, and an overflow",
         group="kernel")
def cmd_stacks(session, args):
    if args:
        raise CommandError("usage: stacks")
    from ...inspect.kernel.stacks import overflow_view, read_stacks, stacks_view, to_json

    m = session.machine
    model = read_stacks(m, m.symbols, m.image)
    if session.json:
        return to_json(model)
    text = stacks_view(model)
    found = stack_overflow(m)
    return text + ("\n" + overflow_view(found, m.icount) if found is not None else "")


@command("sanitize", usage="sanitize [heap on|off]",
         help="the heap sanitizer: stop at the first use after free, out-of-bounds access, double or invalid free",
         group="kernel")
def cmd_sanitize(session, args):
    m = session.machine
    words = args.split()
    if not words:
        s = m.sanitizer
        if not s.enabled:
            return "heap sanitizer: off"
        start, size = s.heap_range
        text = f"heap sanitizer: on, {len(s.blocks)} blocks tracked, heap {start:#x} + {size:#x}"
        return text + (f"\n  found: {s.error.describe()}" if s.error is not None else "")
    if len(words) != 2 or words[0] != "heap" or words[1] not in ("on", "off"):
        raise CommandError(_SANITIZE_USAGE)
    try:
        m.sanitize_heap(words[1] == "on")
    except ValueError as e:
        raise CommandError(str(e)) from None
    if words[1] == "off":
        return "heap sanitizer: off"
    return ("heap sanitizer: on (blocks allocated from now on are checked; the first bad access, "
            "double or invalid free stops the run)")

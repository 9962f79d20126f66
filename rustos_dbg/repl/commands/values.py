"""Rust values and frames: print (p), frame, up, down, and the views behind
``info locals`` / ``info args``.

``p EXPR`` evaluates an expression of :mod:`..valueexpr` and shows it with
Rust's formatting (:mod:`rustos_dbg.inspect.kernel.rustvalue`), as JSON under
``json on``. ``frame N`` selects frame N of the backtrace (its rip, rsp, rbp
and CFA: :mod:`..frames`); ``up``/``down`` move the selection one frame out
or in. The selection is the session's one selection (:mod:`..selection`):
``regs``, ``bt``, ``x``... read through it, and a command that moves the
machine clears it.
"""

from __future__ import annotations

import json

from ...inspect.kernel.rustvalue import format_shown, render, shown_json
from ..frames import frame_locals, select_frame
from ..registry import CommandError, command
from ..valueexpr import evaluate


def show_value(session, text: str, value) -> str:
    """``EXPR = VALUE`` (or its JSON) for an evaluated expression."""
    if isinstance(value, int):
        if session.json:
            return json.dumps({"expression": text, "type": None, "address": None, "value": value,
                               "text": str(value)})
        return f"{text} = {value} ({value:#x})"
    shown = render(value)
    if session.json:
        return shown_json(shown, text)
    return f"{text} = {format_shown(shown)}"


@command("print", aliases=("p",), usage="print EXPR",
         help="a Rust value: statics, locals, fields, [i], *ptr, &x, casts ((rustos::heap::Block *)ADDR)",
         group="kernel")
def cmd_print(session, args):
    text = args.strip()
    return show_value(session, text, evaluate(session, text))


def _frame_line(session) -> str:
    """``#N  PC in SYMBOL  (rsp .. rbp .. cfa ..)`` and the source line of the selected frame."""
    from ...dwarf.lines import line_table
    from ...inspect.kernel.panic import source_path

    detail, regs = session.selection.detail, session.selection.registers
    known = lambda name: f"{regs[name]:#x}" if name in regs else "?"  # noqa: E731
    cfa = f"{detail.cfa:#x}" if detail.cfa is not None else "?"
    line = f"#{detail.index:<2} {detail.pc:#018x} in {detail.symbol}  (rsp {known('rsp')} rbp {known('rbp')} cfa {cfa})"
    location = line_table(session.machine.image).lookup(detail.lookup_pc)
    if location is not None:
        line += f"\n    at {source_path(session.machine.image, location.file)}:{location.line}"
    return line


@command("frame", aliases=("f",), usage="frame [N|none]",
         help="select frame N of the backtrace (its rip, rsp, rbp and CFA) for regs, bt, p and info locals",
         group="kernel")
def cmd_frame(session, args):
    word = args.strip()
    if word == "none":
        session.selection = None
        return "no frame selected"
    if not word:
        if session.selection is None or session.selection.kind != "frame":
            session.selection = select_frame(session, 0)
        return _frame_line(session)
    try:
        index = int(word, 0)
    except ValueError:
        raise CommandError(f"usage: frame [N|none] (not '{word}')") from None
    session.selection = select_frame(session, index)
    return _frame_line(session)


def _move(session, args: str, step: int) -> str:
    count = int(args, 0) if args.strip() else 1
    here = session.selection.detail.index if session.selection is not None and session.selection.kind == "frame" else 0
    session.selection = select_frame(session, here + step * count)
    return _frame_line(session)


@command("up", usage="up [N]", help="select the frame N (default 1) out from the selected one (its caller)",
         group="kernel")
def cmd_up(session, args):
    return _move(session, args, 1)


@command("down", usage="down [N]", help="select the frame N (default 1) in from the selected one (its callee)",
         group="kernel")
def cmd_down(session, args):
    return _move(session, args, -1)


def task_locals(session, params: bool) -> str:
    """The variables the selected task's future keeps across its awaits, level by level
    (outermost first), rendered as ``p`` renders them; a suspended future has no arguments."""
    from ...dwarf import load
    from ...dwarf.value import Value

    task = session.selection.detail
    if params:
        return f"no arguments: task {session.selection.ident} is a suspended future (info locals shows what it keeps)"
    info, reader = load(session.machine.image), session.reader()
    rows = []
    for level in task.awaits:
        for c in level.captured:
            value = Value(info.type_at(c.type_offset), c.address, reader) if c.type_offset is not None else None
            rows.append((level.function, c.name, c.type_name, value))
    if session.json:
        return json.dumps({"task": session.selection.ident, "locals": [
            {"function": f, "name": n, "type": t,
             "value": json.loads(shown_json(render(v), n))["value"] if v is not None else None}
            for f, n, t, v in rows]})
    if not rows:
        return f"task {session.selection.ident} keeps no variables across its awaits"
    return "\n".join(f"{n} = {format_shown(render(v)) if v is not None else '<no DWARF type>'}  ({f})"
                     for f, n, _t, v in rows)


def locals_view(session, params: bool) -> str:
    """``info args`` (``params``) or ``info locals``: one ``name = value`` line each
    (with a task selected: the variables its suspended future keeps, see :func:`task_locals`)."""
    if session.selection is not None and session.selection.kind == "task":
        return task_locals(session, params)
    frame, found = frame_locals(session, params)
    if session.json:
        return json.dumps({"frame": frame.index, "pc": frame.pc, "function": frame.symbol,
                           "locals": [{"name": v.name, "type": v.type_name,
                                       "value": json.loads(shown_json(render(v.value), v.name))["value"]
                                       if v.value is not None else None,
                                       "unavailable": v.reason or None} for v in found]})
    if not found:
        return f"no {'arguments' if params else 'locals'} in {frame.symbol}"
    lines = []
    for v in found:
        if v.value is None:
            lines.append(f"{v.name} = <{v.reason}>")
        else:
            lines.append(f"{v.name} = {format_shown(render(v.value))}")
    return "\n".join(lines)


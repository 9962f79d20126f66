"""Commands about commands and symbols: help, sym, info, json."""

from __future__ import annotations

from ..expr import parse_address
from ..registry import CommandError, command

GROUPS = (("control", "execution"), ("guest", "the guest's devices"), ("inspect", "hardware inspectors"),
          ("kernel", "kernel inspectors"), ("general", "general"))


@command("help", aliases=("h", "?"), usage="help [COMMAND]", help="list the commands, or explain one")
def cmd_help(session, args):
    reg = session.registry
    if args:
        cmd = reg.find(args.split()[0])
        if cmd is None:
            raise CommandError(f"unknown command '{args.split()[0]}'")
        aliases = f" (aliases: {', '.join(cmd.aliases)})" if cmd.aliases else ""
        return f"usage: {cmd.usage}{aliases}\n{cmd.help}"
    lines = []
    for group, title in GROUPS:
        cmds = [c for c in reg.commands() if c.group == group]
        if cmds:
            lines.append(f"{title}:")
            lines.extend(f"  {c.usage:<34} {c.help}" for c in cmds)
    return "\n".join(lines)


@command("sym", usage="sym NAME|ADDRESS",
         help="a symbol's address and size, or the symbol at an address (user addresses: the running "
              "or selected process's program)")
def cmd_sym(session, args):
    m = session.reader()
    if not args:
        raise CommandError("usage: sym NAME|ADDRESS")
    if args[0].isdigit() or args.startswith("$"):
        address = parse_address(args, m)
        return f"{address:#x} is {m.symbolize(address)}"
    sym = m.symbols.find(args)
    if sym is None:
        raise CommandError(f"no symbol named '{args}'")
    return f"{sym.name} at {sym.address:#x}, {sym.size} bytes ({sym.kind})"


def _breakpoint_lines(m) -> list[str]:
    lines = []
    for a in m.breakpoints.addresses():
        condition = m.breakpoints.condition(a)
        lines.append(f"{a:#x} <{m.symbolize(a)}>" + (f"  if {condition.text}" if condition is not None else ""))
    return lines


def _watch_lines(m) -> list[str]:
    lines = []
    for w in m.watchpoints.watches():
        text = f"{w.kind.name.lower():6} {w.address:#x} ({w.length} bytes) <{m.symbolize(w.address)}>"
        if w.condition is not None:
            text += f"  if {getattr(w.condition, 'text', w.condition)}"
        if w.pending:
            text += "  (pending: not mapped yet)"
        lines.append(text)
    return lines


@command("info", usage="info breakpoints|watchpoints|catch|checkpoints|limit|registers|version|locals|args",
         help="list breakpoints, watchpoints (pending ones marked), caught vectors or checkpoints; the run limits; "
              "registers and version as QEMU's monitor prints them; the selected frame's locals or arguments")
def cmd_info(session, args):
    m = session.machine
    what = args.split()[0] if args else ""
    if what in ("locals", "args"):
        from .values import locals_view

        return locals_view(session, what == "args")
    if what.startswith("b"):
        return "\n".join(_breakpoint_lines(m)) or "no breakpoints"
    if what.startswith("w"):
        return "\n".join(_watch_lines(m)) or "no watchpoints"
    if what.startswith("ch"):
        from .timetravel import checkpoints_view

        return checkpoints_view(session)
    if what.startswith("c"):
        from .control import caught

        return "catching: " + caught(m)
    if what.startswith("l"):
        return f"limit per command: {session.limits.describe()}"
    if what.startswith("r"):
        from .qemu import info_registers

        return info_registers(session)
    if what.startswith("v"):
        from .qemu import info_version

        return info_version(session)
    raise CommandError("usage: info breakpoints|watchpoints|catch|checkpoints|limit|registers|version|locals|args")


@command("json", usage="json on|off", help="inspector output as JSON (on) or text (off)")
def cmd_json(session, args):
    if args not in ("on", "off"):
        raise CommandError("usage: json on|off")
    session.json = args == "on"
    return f"json output {args}"

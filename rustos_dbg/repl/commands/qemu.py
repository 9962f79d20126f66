"""QEMU-monitor commands, for gdb clients that send them through ``monitor``.

``info registers`` and ``info version`` (through ``info``, see
:mod:`.meta`) and ``xp/FMT ADDR`` print what QEMU's monitor prints, in its
layout (:mod:`rustos_dbg.inspect.hw.qemuregs`), so that gdb extensions made
for QEMU (gef's kernel commands) parse our answers as QEMU's.
"""

from __future__ import annotations

from ...inspect.hw import qemuregs
from ...machine import GuestMemoryError
from ..expr import parse_address
from ..registry import CommandError, command


def info_registers(session) -> str:
    """``info registers``: QEMU's layout."""
    return qemuregs.format_qemu_registers(qemuregs.read_qemu_registers(session.machine))


def info_version(session) -> str:
    """``info version``: this emulator's version (QEMU prints its own)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{version('rustos-dbg')} (rustos-dbg)"
    except PackageNotFoundError:
        return "unknown (rustos-dbg)"


@command("xp", usage="xp/[N][FMT][UNIT] PADDR",
         help="physical memory as QEMU's monitor prints it (formats x d u o c, units b h w g)", group="inspect")
def cmd_xp(session, args):
    m = session.machine
    fmt, _, rest = args.partition(" ")
    if not fmt.startswith("/"):
        fmt, rest = "/", args
    if not rest.strip():
        raise CommandError("usage: xp/[N][FMT][UNIT] PADDR")
    try:
        count, form, unit = qemuregs.parse_xp_format(fmt)
    except ValueError as e:
        raise CommandError(str(e)) from None
    address = parse_address(rest.strip(), m)
    try:
        data = m.read_physical(address, count * unit)
    except GuestMemoryError as e:
        raise CommandError(f"xp: {e}") from None
    return qemuregs.format_xp(address, data, form, unit)

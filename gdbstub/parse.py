"""Routing of packet payloads to their parsers.

Contract: :func:`parse_packet` takes a payload as delivered by the framing
layer and returns the packet's frozen dataclass, ``None`` for a packet the
stub does not implement (answered with the empty reply), or raises
:class:`~gdbstub.errors.PacketError` for a malformed packet it does
implement.  It raises nothing else, whatever the input.

Single-letter packets are routed by their first byte; ``q``, ``Q`` and
``v`` packets by their name, which ends at the first ``:``, ``,``, ``;`` or ``=``
(so ``qCRC:...`` is not mistaken for ``qC``).
"""

from __future__ import annotations

import re
from typing import Callable, Optional, Union

from . import execution as ex
from . import packets as pk
from . import qemu as qm
from . import queries as qu
from .errors import PacketError

__all__ = ["Packet", "packet_name", "parse_packet"]

#: Every parsed packet type.
Packet = Union[
    pk.QueryHaltReason,
    pk.ReadRegisters,
    pk.WriteRegisters,
    pk.ReadRegister,
    pk.WriteRegister,
    pk.ReadMemory,
    pk.WriteMemory,
    pk.InsertBreakpoint,
    pk.RemoveBreakpoint,
    ex.ResumePacket,
    ex.ReversePacket,
    ex.VContQuery,
    ex.VCont,
    ex.SetThread,
    ex.ThreadAlive,
    ex.Detach,
    ex.Kill,
    qu.QSupported,
    qu.QXferRead,
    qu.MonitorCommand,
    qu.QueryAttached,
    qu.QueryCurrentThread,
    qu.ThreadInfoFirst,
    qu.ThreadInfoNext,
    qu.ThreadExtraInfo,
    qu.CatchSyscalls,
    qu.StartNoAckMode,
    qm.SstepBits,
    qm.Sstep,
    qm.PhyMemMode,
]

_Parser = Callable[[bytes], Optional[Packet]]

_BY_LETTER: dict[int, _Parser] = {
    ord("?"): pk.parse_halt_reason,
    ord("g"): pk.parse_read_registers,
    ord("G"): pk.parse_write_registers,
    ord("p"): pk.parse_read_register,
    ord("P"): pk.parse_write_register,
    ord("m"): pk.parse_read_memory,
    ord("M"): pk.parse_write_memory,
    ord("X"): pk.parse_write_memory_binary,
    ord("Z"): pk.parse_insert_breakpoint,
    ord("z"): pk.parse_remove_breakpoint,
    ord("c"): ex.parse_resume,
    ord("s"): ex.parse_resume,
    ord("C"): ex.parse_resume,
    ord("S"): ex.parse_resume,
    ord("b"): ex.parse_reverse,
    ord("H"): ex.parse_set_thread,
    ord("T"): ex.parse_thread_alive,
    ord("D"): ex.parse_detach,
    ord("k"): ex.parse_kill,
}

_BY_NAME: dict[bytes, _Parser] = {
    b"qSupported": qu.parse_qsupported,
    b"qXfer": qu.parse_qxfer,
    b"qRcmd": qu.parse_qrcmd,
    b"qAttached": qu.parse_qattached,
    b"qC": qu.parse_qc,
    b"qfThreadInfo": qu.parse_qfthreadinfo,
    b"qsThreadInfo": qu.parse_qsthreadinfo,
    b"qThreadExtraInfo": qu.parse_qthreadextrainfo,
    b"QCatchSyscalls": qu.parse_qcatchsyscalls,
    b"QStartNoAckMode": qu.parse_start_no_ack_mode,
    b"vCont": ex.parse_vcont,
    b"vCont?": ex.parse_vcont,
    b"vKill": ex.parse_kill,
    b"qqemu.sstepbits": qm.parse_sstepbits,
    b"Qqemu.sstepbits": qm.parse_sstepbits,
    b"qqemu.sstep": qm.parse_sstep,
    b"Qqemu.sstep": qm.parse_sstep,
    b"qqemu.PhyMemMode": qm.parse_phymemmode,
    b"Qqemu.PhyMemMode": qm.parse_phymemmode,
}

_NAME_END = re.compile(rb"[:,;=]")


def packet_name(data: bytes) -> bytes:
    """The name of a ``q``/``Q``/``v`` packet: up to the first ``: , ; =`` (``=``: QEMU's
    ``Qqemu.sstep=N``)."""
    match = _NAME_END.search(data)
    return data[: match.start()] if match else data


def parse_packet(data: bytes) -> Optional[Packet]:
    """Parse a payload; ``None`` if unsupported, ``PacketError`` if malformed."""
    if not data:
        return None
    first = data[0]
    if first in b"qQv":
        parser = _BY_NAME.get(packet_name(data))
    else:
        parser = _BY_LETTER.get(first)
    if parser is None:
        return None
    try:
        return parser(data)
    except PacketError:
        raise
    except (ValueError, UnicodeError, IndexError) as exc:  # defensive
        raise PacketError(f"malformed packet: {exc}") from None

"""The protocol state machine of one GDB connection, free of any I/O.

Contract:

* :meth:`Dispatcher.handle` takes one packet payload and returns a
  :class:`Response`: the reply payloads to send, in order, and possibly a
  resume request, a switch to no-ack mode or the end of the session.  It
  never raises: malformed packets get ``E01``, target failures ``Enn``,
  unknown or unsupported packets the empty reply.
* A resume request is not carried out here: the caller runs
  ``target.run(resume)`` (on a worker thread, so that interrupts can be
  delivered) and passes the outcome to :meth:`Dispatcher.finish_run`,
  which returns the stop-reply payload to send. A ``monitor`` command
  (``qRcmd``) likewise: the caller runs :meth:`Dispatcher.run_monitor` on a
  worker (a Ctrl-C or a hang-up meanwhile calls :meth:`Dispatcher.abort_monitor`),
  sends each piece of output the target streams meanwhile as
  :meth:`Dispatcher.console_packets`, then what :meth:`Dispatcher.finish_monitor`
  returns: the rest of the output in ``O`` packets, then ``OK``.
* The target is touched only through :mod:`gdbstub.target` methods; what it
  lacks is not advertised in ``qSupported`` (e.g. ``bs``/``bc`` get the
  empty reply unless the target is a ``SupportsReverse``).
* The stub models one process. Without :class:`~gdbstub.target.SupportsThreads`
  it has one thread, id 1. With it, the target's threads are GDB's: ``qfThreadInfo``
  lists them (split over ``qsThreadInfo`` to fit ``PacketSize``), ``qC``
  and stop replies name the current one (on the CPU), ``qThreadExtraInfo``
  describes one, ``T`` asks whether one is alive. ``Hg`` selects the thread
  that ``g``/``p``/``m`` read (``Hg0``/``Hg-1``: the current one); the
  selection is forgotten at every resume. Writes (``G``/``P``/``M``/``X``)
  act only on the current thread: with another one selected they are refused
  (``E01``), as its registers live in the target's memory, not the CPU.
  ``Hc`` accepts any live thread (the whole target resumes); ``vCont`` takes
  the action that applies to the current thread.
* ``QCatchSyscalls`` is answered only for a target with
  :class:`~gdbstub.target.SupportsCatchSyscalls` (and then advertised).
* QEMU's extension packets (:mod:`gdbstub.qemu`) are answered only for a
  target with the matching capability; ``Qqemu.PhyMemMode:1`` makes this
  connection's ``m``/``M``/``X`` use the target's physical-memory methods.
"""

from __future__ import annotations

import logging
from typing import Callable, Optional

from . import execution as ex
from . import packets as pk
from . import qemu as qm
from . import queries as qu
from .errors import Errno, PacketError, TargetError
from .framing import DEFAULT_MAX_PACKET_SIZE
from .parse import parse_packet
from .stop import SignalStop, StopReason, WatchKind, encode_stop_reply
from .response import Response, SessionEnd, error_reply, reply
from .target import Resume, ResumeAction, capabilities
from .threads import THREAD_ID, ThreadHandlers

__all__ = ["SessionEnd", "Response", "Dispatcher", "THREAD_ID"]

log = logging.getLogger("gdbstub")

_OK = b"OK"
_EMPTY = b""


_reply, _error = reply, error_reply


class Dispatcher(ThreadHandlers):
    """Answers the packets of one connection on behalf of ``target``.

    :param target: an object implementing :class:`gdbstub.target.Target`.
    :param packet_size: the ``PacketSize`` advertised to GDB; replies are
        kept within it.
    """

    def __init__(self, target, *, packet_size: int = DEFAULT_MAX_PACKET_SIZE) -> None:
        if packet_size < 64:
            raise ValueError("packet_size must be at least 64")
        self.target = target
        self.packet_size = packet_size
        #: The optional capabilities discovered on ``target``.
        self.caps = capabilities(target)
        #: Features GDB announced in its last ``qSupported``.
        self.gdb_features = qu.QSupported()
        #: The stop reported by the latest stop reply (initially SIGTRAP).
        self.last_stop: StopReason = SignalStop()
        self._handlers: dict[type, Callable[..., Response]] = {
            pk.QueryHaltReason: lambda p: _reply(self._stop_reply(self.last_stop)),
            pk.ReadRegisters: self._read_registers,
            pk.WriteRegisters: lambda p: self._write(target.write_registers, p.data),
            pk.ReadRegister: self._read_register,
            pk.WriteRegister: lambda p: self._write(target.write_register, p.regno, p.value),
            pk.ReadMemory: self._read_memory,
            pk.WriteMemory: self._write_memory,
            pk.InsertBreakpoint: self._breakpoint,
            pk.RemoveBreakpoint: self._breakpoint,
            ex.ResumePacket: lambda p: self._resume(Resume(p.action, p.signal, p.address)),
            ex.ReversePacket: self._reverse,
            ex.VContQuery: lambda p: _reply(b"vCont;c;C;s;S"),
            ex.VCont: self._vcont,
            ex.SetThread: self._set_thread,
            ex.ThreadAlive: lambda p: self._thread_check(p.thread, ()),
            ex.Detach: self._detach,
            ex.Kill: self._kill,
            qu.QSupported: self._qsupported,
            qu.QXferRead: self._qxfer,
            qu.MonitorCommand: self._monitor,
            qu.QueryAttached: lambda p: _reply(b"1"),
            qu.QueryCurrentThread: lambda p: _reply(b"QC%x" % self._current()),
            qu.ThreadInfoFirst: self._thread_info_first,
            qu.ThreadInfoNext: self._thread_info_next,
            qu.ThreadExtraInfo: self._thread_extra_info,
            qu.CatchSyscalls: self._catch_syscalls,
            qu.StartNoAckMode: lambda p: Response((_OK,), start_no_ack=True),
            qm.SstepBits: self._sstep_bits,
            qm.Sstep: self._sstep,
            qm.PhyMemMode: self._phy_mem_mode,
        }
        #: QEMU's ``Qqemu.PhyMemMode:1``: ``m``/``M``/``X`` address physical memory.
        self.physical = False
        #: The thread ``Hg`` selected (None: the current one); forgotten at each resume.
        self.general_thread: Optional[int] = None
        self._pending_ids: list[bytes] = []

    # -- entry points -------------------------------------------------------

    def handle(self, data: bytes) -> Response:
        """Answer one packet payload; never raises."""
        try:
            packet = parse_packet(data)
            if packet is None:
                log.debug("unsupported packet %r", data[:64])
                return _reply(_EMPTY)
            return self._handlers[type(packet)](packet)
        except PacketError as exc:
            log.warning("malformed packet %r: %s", data[:64], exc)
            return _error(Errno.EPERM)
        except TargetError as exc:
            log.info("target error for %r: %s", data[:64], exc)
            return _error(exc.errno)
        except Exception:  # a target bug must not kill the session
            log.exception("error handling packet %r", data[:64])
            return _error(Errno.EPERM)

    def finish_run(self, outcome: StopReason | BaseException) -> bytes:
        """Record the outcome of ``target.run`` and return the stop reply."""
        if isinstance(outcome, BaseException):
            log.error("target run failed: %r", outcome)
            return b"E%02x" % Errno.EPERM
        try:
            reply = self._stop_reply(outcome)
        except Exception:
            log.exception("target returned an invalid stop reason %r", outcome)
            return b"E%02x" % Errno.EPERM
        self.last_stop = outcome
        return reply

    def supported_features(self) -> bytes:
        """The ``qSupported`` reply advertising this stub's features."""
        features = [b"PacketSize=%x" % self.packet_size, b"QStartNoAckMode+", b"vContSupported+"]
        if self._has_target_xml():
            features.append(b"qXfer:features:read+")
        if self.caps.sw_breakpoints:
            features.append(b"swbreak+")
        if self.caps.hw_breakpoints:
            features.append(b"hwbreak+")
        if self.caps.reverse:
            features += [b"ReverseStep+", b"ReverseContinue+"]
        if self.caps.catch_syscalls:
            features.append(b"QCatchSyscalls+")
        return b";".join(features)

    # -- helpers --------------------------------------------------------------

    def _stop_reply(self, reason: StopReason) -> bytes:
        return encode_stop_reply(
            reason,
            thread=self._current(),
            swbreak=self.gdb_features.supports("swbreak"),
            hwbreak=self.gdb_features.supports("hwbreak"),
        )

    @staticmethod
    def _ok(_result: object = None) -> Response:
        return _reply(_OK)

    def _has_target_xml(self) -> bool:
        return self.target.target_xml("target.xml") is not None

    # -- memory ------------------------------------------------------------------

    def _read_memory(self, p: pk.ReadMemory) -> Response:
        length = min(p.length, (self.packet_size - 1) // 2, (1 << 64) - p.address)
        if length <= 0:
            return _error(Errno.EINVAL)
        other = None if self.physical else self._other_thread()
        if other is not None:
            data = bytes(self.target.read_thread_memory(other, p.address, length))[:length]
            return _reply(data.hex().encode()) if data else _error(Errno.EFAULT)
        read = self.target.read_physical if self.physical else self.target.read_memory
        data = bytes(read(p.address, length))[:length]
        if not data:
            return _error(Errno.EFAULT)
        return _reply(data.hex().encode())

    def _write_memory(self, p: pk.WriteMemory) -> Response:
        if p.data and not self.physical and self._other_thread() is not None:
            return _error(Errno.EPERM)  # not the CPU's address space: see the module contract
        if p.data:  # a zero-length write is GDB probing for 'X' support
            if p.address + len(p.data) > 1 << 64:
                return _error(Errno.EFAULT)
            (self.target.write_physical if self.physical else self.target.write_memory)(p.address, p.data)
        return _reply(_OK)

    def _breakpoint(self, p: pk.InsertBreakpoint | pk.RemoveBreakpoint) -> Response:
        insert = isinstance(p, pk.InsertBreakpoint)
        t = self.target
        if p.type == pk.BreakpointType.SOFTWARE and self.caps.sw_breakpoints:
            method = t.add_sw_breakpoint if insert else t.remove_sw_breakpoint
            done = method(p.address, p.kind)
        elif p.type == pk.BreakpointType.HARDWARE and self.caps.hw_breakpoints:
            method = t.add_hw_breakpoint if insert else t.remove_hw_breakpoint
            done = method(p.address, p.kind)
        elif p.type >= pk.BreakpointType.WRITE_WATCH and self.caps.watchpoints:
            method = t.add_watchpoint if insert else t.remove_watchpoint
            done = method(p.address, p.kind, WatchKind(int(p.type)))
        else:
            return _reply(_EMPTY)
        return _reply(_OK) if done is not False else _error(Errno.EPERM)

    def _reverse(self, p: ex.ReversePacket) -> Response:
        if not self.caps.reverse:
            return _reply(_EMPTY)
        return self._resume(Resume(p.action))

    def _vcont(self, p: ex.VCont) -> Response:
        action = p.action_for(self._current())
        if action is None:
            return _error(Errno.EINVAL)
        return self._resume(Resume(ResumeAction(action.action), action.signal))

    def _thread_check(self, thread: int, also: tuple[int, ...]) -> Response:
        return _reply(_OK) if thread in also or thread in self._thread_ids() else _error(Errno.EINVAL)

    def _detach(self, p: ex.Detach) -> Response:
        if self.caps.detach:
            self.target.detach()
        return Response((_OK,), end=SessionEnd.DETACHED)

    def _kill(self, p: ex.Kill) -> Response:
        if self.caps.kill:
            self.target.kill()
        return Response((_OK,) if p.needs_reply else (), end=SessionEnd.KILLED)

    def _qsupported(self, p: qu.QSupported) -> Response:
        self.gdb_features = p
        return _reply(self.supported_features())

    def _qxfer(self, p: qu.QXferRead) -> Response:
        if p.object != "features" or not self._has_target_xml():
            return _reply(_EMPTY)
        xml = self.target.target_xml(p.annex)
        if xml is None:
            return _error(0)
        data = xml.encode("utf-8")
        # Escaping may double the size: keep the reply within PacketSize.
        length = min(p.length, (self.packet_size - 1) // 2)
        chunk = data[p.offset : p.offset + length]
        more = p.offset + len(chunk) < len(data) and length > 0
        return _reply((b"m" if more else b"l") + chunk)

    def _sstep_bits(self, p: qm.SstepBits) -> Response:
        return _reply(qm.SSTEP_BITS if self.caps.sstep_flags else _EMPTY)

    def _sstep(self, p: qm.Sstep) -> Response:
        if not self.caps.sstep_flags:
            return _reply(_EMPTY)
        if p.flags is None:
            return _reply(b"0x%x" % self.target.sstep_flags())
        return _reply(_OK) if self.target.set_sstep_flags(p.flags) is not False else _error(Errno.EINVAL)

    def _phy_mem_mode(self, p: qm.PhyMemMode) -> Response:
        if not self.caps.physical_memory:
            return _reply(_EMPTY)
        if p.enable is None:
            return _reply(b"1" if self.physical else b"0")
        self.physical = p.enable
        return _reply(_OK)

    def _monitor(self, p: qu.MonitorCommand) -> Response:
        if not self.caps.monitor_command:
            return _reply(_EMPTY)
        return Response(monitor=p.command.decode("utf-8", "replace"))

    def run_monitor(self, command: str, write: Callable[[str], None]) -> str:
        """Runs a ``monitor`` command on the target (call it off the session's
        thread: it may take long). Output the target streams is passed to
        ``write`` piece by piece as it comes; output it returns whole is returned."""
        out = self.target.monitor_command(command)
        if out is None or isinstance(out, str):
            return out or ""
        for piece in out:
            if piece:
                write(piece)
        return ""

    def console_packets(self, text: str) -> tuple[bytes, ...]:
        """``text`` as ``O`` packets (hex-encoded console output), each within the packet size."""
        raw = text.encode("utf-8")
        step = max(1, (self.packet_size - 1) // 2)
        return tuple(b"O" + raw[i : i + step].hex().encode() for i in range(0, len(raw), step))

    def abort_monitor(self) -> None:
        """Asks the target to abandon the running ``monitor`` command (when it can)."""
        if self.caps.monitor_abort:
            self.target.abort_monitor()

    def finish_monitor(self, outcome: object) -> tuple[bytes, ...]:
        """The replies to a ``monitor`` command that returned ``outcome`` (its
        text, or the exception it raised): ``O`` packets, then ``OK``; ``Enn`` for
        a :class:`TargetError`."""
        if isinstance(outcome, TargetError):
            log.info("target error for monitor command: %s", outcome)
            return _error(outcome.errno).packets
        if isinstance(outcome, BaseException):
            log.warning("monitor command failed: %r", outcome)
            outcome = f"error: {outcome or type(outcome).__name__}\n"
        return self.console_packets(str(outcome)) + (_OK,)

"""How the machine's stops are told to GDB (``Stop`` -> gdbstub stop reason).

Contract: :func:`stop_reason` maps one :class:`~rustos_dbg.machine.Stop`
to the stop reason a ``run`` returns, or ``None`` for the stops that only
end a time slice (TIME_LIMIT, INSTRUCTION_LIMIT: the caller keeps running).

=================  ==========================================================
machine stop       reported to GDB
=================  ==========================================================
BREAKPOINT         ``swbreak`` or ``hwbreak`` (whichever Z packet set it;
                   SIGTRAP if GDB set none there); a step that lands on a
                   breakpoint is a completed step
WATCHPOINT         ``watch``/``rwatch``/``awatch`` with the watchpoint's
                   start address (after the accessing instruction)
STEP               a completed step (SIGTRAP)
INTERRUPTED        SIGINT
KERNEL_EXIT        ``W`` with QEMU's exit status byte (``(code << 1) | 1``,
                   e.g. 33: GDB prints "exited with code 041"); QEMU 7.2's
                   gdbstub only drops the connection when the VM exits
EXCEPTION          a signal by vector (:mod:`rustos_dbg.x86.vectors`), the machine
                   stopped at the handler with the frame pushed
TRIPLE_FAULT       SIGSEGV, *not* an exit: the machine stays inspectable
                   (QEMU would reset or, with -no-reboot, quit); the CPU
                   stays shut down (see :mod:`.running`)
HALTED, RESET      SIGTRAP, with a note: the CPU halted for good / the
                   guest asked for a reset (the machine is left as it was)
SYSCALL            ``syscall_entry``/``syscall_return`` with the number when
                   gdb asked for them (``QCatchSyscalls``), else SIGTRAP
                   with a note naming the call (the REPL's ``catch syscall``
                   through ``monitor``)
ERROR              SIGABRT, with a note: the emulator could not go on
PANIC              SIGABRT, with a note: ``panic at FILE:LINE: MESSAGE``
                   (``monitor why`` adds the backtrace); the machine stopped
                   at the panic handler's entry
=================  ==========================================================
"""

from __future__ import annotations

from gdbstub import (DoneStep, Exited, HwBreak, Signal, SignalStop, StopReason, SwBreak, SyscallEntry,
                     SyscallReturn, Watch, WatchKind)

from ..machine import Stop, StopKind
from ..x86.vectors import vector_info

_ACCESS = {"write": WatchKind.WRITE, "read": WatchKind.READ, "access": WatchKind.ACCESS}

#: Stops that only end a slice of a longer run.
CONTINUE_KINDS = frozenset({StopKind.TIME_LIMIT, StopKind.INSTRUCTION_LIMIT})


def signal_for_vector(vector: int) -> int:
    """The GDB signal for an exception ``vector`` (the x86 layer's table; SIGTRAP if unknown)."""
    if not 0 <= vector <= 255:
        return Signal.SIGTRAP
    return Signal[vector_info(vector).gdb_signal]


def stop_reason(stop: Stop, *, stepping: bool, sw: set[int], hw: set[int],
                syscalls: bool = False) -> StopReason | None:
    """The stop reason for ``stop`` (``None``: keep running).

    :param stepping: the run was a single step.
    :param sw: addresses of GDB's software breakpoints (Z0).
    :param hw: addresses of GDB's hardware breakpoints (Z1).
    :param syscalls: GDB catches system calls (``QCatchSyscalls``).
    """
    kind = stop.kind
    if kind in CONTINUE_KINDS:
        return DoneStep() if stepping else None
    if kind is StopKind.STEP:
        return DoneStep()
    if kind is StopKind.BREAKPOINT:
        if stepping:
            return DoneStep()
        if stop.address in sw:
            return SwBreak()
        if stop.address in hw:
            return HwBreak()
        return SignalStop(Signal.SIGTRAP)
    if kind is StopKind.WATCHPOINT:
        return Watch(_ACCESS.get(stop.access or "write", WatchKind.WRITE), stop.address or 0)
    if kind is StopKind.INTERRUPTED:
        return SignalStop(Signal.SIGINT)
    if kind is StopKind.KERNEL_EXIT:
        return Exited((stop.exit_code or 0) & 0xFF)
    if kind is StopKind.EXCEPTION:
        return SignalStop(signal_for_vector(stop.vector if stop.vector is not None else -1))
    if kind is StopKind.TRIPLE_FAULT:
        return SignalStop(Signal.SIGSEGV)
    if kind in (StopKind.ERROR, StopKind.PANIC):
        return SignalStop(Signal.SIGABRT)
    if kind is StopKind.SYSCALL and syscalls and stop.syscall is not None:
        return SyscallReturn(stop.syscall) if stop.phase == "return" else SyscallEntry(stop.syscall)
    return SignalStop(Signal.SIGTRAP)  # HALTED, RESET, HANG, SANITIZER, IRQ_UNSAFE_LOCK


def note(stop: Stop) -> str | None:
    """A line worth telling the user for stops GDB shows only as a signal."""
    if stop.kind in (StopKind.TRIPLE_FAULT, StopKind.HALTED, StopKind.RESET, StopKind.ERROR,
                     StopKind.EXCEPTION, StopKind.HANG, StopKind.PANIC,
                     StopKind.SYSCALL, StopKind.SANITIZER, StopKind.IRQ_UNSAFE_LOCK):
        return stop.describe()
    return None

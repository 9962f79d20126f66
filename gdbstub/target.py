"""The target protocol: everything the stub may ask of the debugged machine.

Contract:

* The protocol layer touches the target only through the methods below.
  :class:`Target` is the required surface; the ``Supports*`` protocols are
  optional capabilities, discovered by the presence of their methods
  (:func:`capabilities`).  What a target lacks is neither parsed into calls
  nor advertised in ``qSupported``: e.g. without
  :class:`SupportsSwBreakpoints` a ``Z0`` packet gets the empty reply, so
  GDB falls back to writing breakpoint instructions into memory itself.
* Registers travel as raw bytes in the target's byte order, in the order
  and sizes of the target description returned by :meth:`Target.target_xml`.
* Failures are reported by raising :class:`~gdbstub.errors.TargetError`;
  a capability method may also return ``False`` to refuse.
* :meth:`Target.run` blocks until the target stops and runs on a worker
  thread; :meth:`Target.interrupt` is then called from another thread and
  must be thread-safe.  The server calls ``interrupt`` only while a run is
  in progress, but a request can race with ``run`` returning on its own, so
  a target should discard any stale request when a new ``run`` starts; the
  server repeats the request every half second until ``run`` returns, so a
  request that raced with the start of ``run`` is not lost either.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Iterable, Optional, Protocol, Sequence, runtime_checkable

from .stop import StopReason, WatchKind

__all__ = [
    "ResumeAction",
    "Resume",
    "Target",
    "SupportsSwBreakpoints",
    "SupportsHwBreakpoints",
    "SupportsWatchpoints",
    "SupportsMonitorCommand",
    "SupportsDetach",
    "SupportsKill",
    "SupportsReverse",
    "SupportsSingleStepFlags",
    "SupportsPhysicalMemory",
    "SupportsThreads",
    "SupportsCatchSyscalls",
    "Capabilities",
    "capabilities",
]


class ResumeAction(enum.IntEnum):
    """How the target should resume."""

    STEP = 1
    CONTINUE = 2
    #: ``bs``: go back one instruction (only for a :class:`SupportsReverse` target).
    REVERSE_STEP = 3
    #: ``bc``: go back to the latest earlier stop (only for a :class:`SupportsReverse` target).
    REVERSE_CONTINUE = 4


@dataclass(frozen=True)
class Resume:
    """A resume request passed to :meth:`Target.run`.

    :ivar action: step one instruction or continue.
    :ivar signal: signal GDB asks to deliver on resuming (0 for none); a bare
        machine normally ignores it.
    :ivar address: resume at this address instead of the current PC (only
        from the deprecated ``c addr``/``s addr`` forms); a target that
        cannot honour it raises ``TargetError``.
    """

    action: ResumeAction
    signal: int = 0
    address: Optional[int] = None


@runtime_checkable
class Target(Protocol):
    """The required surface of a debugged target."""

    def read_registers(self) -> bytes:
        """Return all registers, concatenated in target-description order."""
        ...

    def write_registers(self, data: bytes) -> None:
        """Write all registers from ``data`` (same layout as ``read_registers``)."""
        ...

    def read_register(self, regno: int) -> bytes:
        """Return register number ``regno`` (its target-description index)."""
        ...

    def write_register(self, regno: int, value: bytes) -> None:
        """Write register number ``regno``."""
        ...

    def read_memory(self, address: int, length: int) -> bytes:
        """Read up to ``length`` bytes at ``address``.

        May return fewer bytes if the range runs into unmapped memory; raises
        ``TargetError`` if not even the first byte is readable.
        """
        ...

    def write_memory(self, address: int, data: bytes) -> None:
        """Write ``data`` at ``address``; raises ``TargetError`` on failure."""
        ...

    def run(self, resume: Resume) -> StopReason:
        """Resume as asked and block until the target stops; return why."""
        ...

    def interrupt(self) -> None:
        """Ask a running target to stop soon (thread-safe).

        The pending ``run`` should then return ``SignalStop(SIGINT)``.
        """
        ...

    def target_xml(self, annex: str) -> Optional[str]:
        """Return the target-description document ``annex`` or ``None``.

        GDB first asks for ``"target.xml"``; ``None`` for it means the target
        has no description and ``qXfer:features:read`` is not advertised.
        """
        ...


@runtime_checkable
class SupportsSwBreakpoints(Protocol):
    """Software breakpoints (``Z0``/``z0``); ``kind`` is GDB's breakpoint size."""

    def add_sw_breakpoint(self, address: int, kind: int) -> bool:
        """Insert a software breakpoint; return ``False`` to refuse."""
        ...

    def remove_sw_breakpoint(self, address: int, kind: int) -> bool:
        """Remove a software breakpoint; return ``False`` to refuse."""
        ...


@runtime_checkable
class SupportsHwBreakpoints(Protocol):
    """Hardware breakpoints (``Z1``/``z1``)."""

    def add_hw_breakpoint(self, address: int, kind: int) -> bool:
        """Insert a hardware breakpoint; return ``False`` to refuse."""
        ...

    def remove_hw_breakpoint(self, address: int, kind: int) -> bool:
        """Remove a hardware breakpoint; return ``False`` to refuse."""
        ...


@runtime_checkable
class SupportsWatchpoints(Protocol):
    """Watchpoints (``Z2``..``Z4`` and ``z2``..``z4``)."""

    def add_watchpoint(self, address: int, length: int, kind: WatchKind) -> bool:
        """Insert a watchpoint over ``length`` bytes; return ``False`` to refuse."""
        ...

    def remove_watchpoint(self, address: int, length: int, kind: WatchKind) -> bool:
        """Remove a watchpoint; return ``False`` to refuse."""
        ...


@runtime_checkable
class SupportsMonitorCommand(Protocol):
    """``monitor CMD`` commands (``qRcmd``)."""

    def monitor_command(self, command: str) -> str | Iterable[str]:
        """Run ``command``; its console output (may be empty): one string, or an
        iterable of pieces produced while the command runs, each sent to GDB in
        ``O`` packets as soon as it comes (so long output is seen as it is made,
        and a target can stop producing it when GDB gives up)."""
        ...


@runtime_checkable
class SupportsMonitorAbort(Protocol):
    """A running ``monitor`` command can be abandoned (GDB's Ctrl-C, or its hang-up)."""

    def abort_monitor(self) -> None:
        """Called from another thread while ``monitor_command`` runs: make it
        return (or raise) soon. A no-op when none runs."""
        ...


@runtime_checkable
class SupportsDetach(Protocol):
    """A hook called when GDB detaches (``D``); the target stays intact."""

    def detach(self) -> None:
        """GDB detached; e.g. remove breakpoints it left behind."""
        ...


@runtime_checkable
class SupportsKill(Protocol):
    """A hook called when GDB kills the program (``k``/``vKill``)."""

    def kill(self) -> None:
        """GDB asked to kill the program; the session ends afterwards."""
        ...


@runtime_checkable
class SupportsReverse(Protocol):
    """Reverse execution (``bs``/``bc``, advertised as ``ReverseStep+`` and
    ``ReverseContinue+``).  Both block like :meth:`Target.run` (``bc`` on the
    worker thread, so :meth:`Target.interrupt` may be called meanwhile) and
    return a stop reason; reaching the beginning of the recorded history is
    :class:`~gdbstub.stop.HistoryStart`."""

    def reverse_step(self) -> StopReason:
        """Go back one instruction."""
        ...

    def reverse_continue(self) -> StopReason:
        """Go back to the latest earlier breakpoint or watchpoint hit."""
        ...


@runtime_checkable
class SupportsSingleStepFlags(Protocol):
    """QEMU's single-step flags (``qqemu.sstepbits``, ``qqemu.sstep``, ``Qqemu.sstep=N``;
    bits in :mod:`gdbstub.qemu`): clients such as gef recognise a QEMU system target by them."""

    def sstep_flags(self) -> int:
        """The current flags."""
        ...

    def set_sstep_flags(self, flags: int) -> bool:
        """Sets the flags; return ``False`` to refuse."""
        ...


@runtime_checkable
class SupportsPhysicalMemory(Protocol):
    """Physical memory access for QEMU's ``Qqemu.PhyMemMode:1`` (then ``m``/``M``/``X``
    address physical memory); same failure rules as the virtual methods of :class:`Target`."""

    def read_physical(self, address: int, length: int) -> bytes:
        """Read up to ``length`` bytes of physical memory at ``address``."""
        ...

    def write_physical(self, address: int, data: bytes) -> None:
        """Write ``data`` to physical memory at ``address``."""
        ...


@runtime_checkable
class SupportsThreads(Protocol):
    """The target's own threads as GDB threads (as OpenOCD's RTOS support does).

    Thread ids are positive (GDB reserves 0 for "any" and -1 for "all"); the
    list may change whenever the target ran. The *current* thread is the one on
    the CPU: the :class:`Target` methods read and write it. Another thread is
    read through the ``*_thread_*`` methods (its saved state) after GDB selects
    it with ``Hg``; register writes to it are refused (``E01``) unless
    the target also has ``write_thread_register(thread, regno, value)``.
    Without this capability the stub shows one thread, id 1.
    """

    def thread_ids(self) -> Sequence[int]:
        """The live threads' ids, in the order GDB should list them."""
        ...

    def current_thread(self) -> int:
        """The id of the thread on the CPU (reported in stop replies and ``qC``)."""
        ...

    def thread_extra_info(self, thread: int) -> str:
        """A short printable description of ``thread`` (GDB shows it in ``info threads``)."""
        ...

    def read_thread_registers(self, thread: int) -> bytes:
        """All registers of ``thread``, laid out as :meth:`Target.read_registers`."""
        ...

    def read_thread_register(self, thread: int, regno: int) -> bytes:
        """Register ``regno`` of ``thread``."""
        ...

    def read_thread_memory(self, thread: int, address: int, length: int) -> bytes:
        """Memory as ``thread`` sees it (its address space); rules of :meth:`Target.read_memory`."""
        ...


@runtime_checkable
class SupportsCatchSyscalls(Protocol):
    """System-call catchpoints (``QCatchSyscalls``, advertised as ``QCatchSyscalls+``):
    the target's ``run`` then returns :class:`~gdbstub.stop.SyscallEntry` /
    :class:`~gdbstub.stop.SyscallReturn` for the calls asked for."""

    def catch_syscalls(self, numbers: Optional[Sequence[int]]) -> bool:
        """Stop at the calls ``numbers`` (``None``: every call; empty: none);
        return ``False`` to refuse."""
        ...


@dataclass(frozen=True)
class Capabilities:
    """Which optional capabilities a target has (see :func:`capabilities`)."""

    sw_breakpoints: bool
    hw_breakpoints: bool
    watchpoints: bool
    monitor_command: bool
    detach: bool
    kill: bool
    reverse: bool = False
    sstep_flags: bool = False
    physical_memory: bool = False
    monitor_abort: bool = False
    threads: bool = False
    catch_syscalls: bool = False


def capabilities(target: object) -> Capabilities:
    """Discover the optional capabilities of ``target`` by its methods."""
    return Capabilities(
        sw_breakpoints=isinstance(target, SupportsSwBreakpoints),
        hw_breakpoints=isinstance(target, SupportsHwBreakpoints),
        watchpoints=isinstance(target, SupportsWatchpoints),
        monitor_command=isinstance(target, SupportsMonitorCommand),
        detach=isinstance(target, SupportsDetach),
        kill=isinstance(target, SupportsKill),
        reverse=isinstance(target, SupportsReverse),
        sstep_flags=isinstance(target, SupportsSingleStepFlags),
        physical_memory=isinstance(target, SupportsPhysicalMemory),
        monitor_abort=isinstance(target, SupportsMonitorCommand) and isinstance(target, SupportsMonitorAbort),
        threads=isinstance(target, SupportsThreads),
        catch_syscalls=isinstance(target, SupportsCatchSyscalls),
    )

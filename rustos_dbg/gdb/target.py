"""``MachineTarget``: gdbstub's target protocol over a :class:`~rustos_dbg.machine.Machine`.

Contract (see :mod:`gdbstub.target` for the protocol itself):

* Registers are :mod:`.regfile`'s, in :mod:`.xml`'s order.
* The kernel's threads and processes are gdb threads (:mod:`.threadview`,
  ids and fallbacks in :mod:`.threads`).
* While the machine stays stopped, the register block and the page
  translations are cached (GDB reads them again and again); running,
  writing a register or memory, and ``monitor`` commands drop the caches.
* Memory is *virtual*, through the guest's current page tables; writes go
  to read-only pages too (as a debugger's may) and drop the engine's
  translated code there. A read returns the bytes up to the first unmapped
  page; nothing readable, or a write touching an unmapped page (nothing is
  then written), is a ``TargetError`` (``E0e``).
* Z0/Z1 breakpoints are the machine's hook breakpoints (guest memory is
  never patched); Z2/Z3/Z4 are the machine's watchpoints. Inserting twice
  and removing what is not there both succeed. :meth:`detach` and
  :meth:`session_ended` remove everything GDB set and leave the machine as
  it is.
* ``run``/``interrupt`` are :class:`.running.Execution`'s (stepping,
  continuing in slices, Ctrl-C, the stop mapping).
* ``bs``/``bc`` (reverse execution) are :class:`.reverse.Reversing`'s,
  bound only when the machine records its history as the target is made.
* QEMU's extension packets (``qqemu.sstep*``, ``qemu.PhyMemMode``, physical
  ``m``/``M``/``X``) are :class:`.qemu.QemuExtensions`'. A written ``$pc``
  takes the CPU out of HLT.
* gdb's ``catch syscall`` (``QCatchSyscalls``) drives the machine's system-call
  trace (:mod:`rustos_dbg.machine.syscalls`); its stops are ``syscall_entry`` /
  ``syscall_return`` (:mod:`.stops`).
* ``monitor CMD`` exists only when the target is given a ``monitor``
  callable (text -> output text, whole or as an iterable of pieces; a bad
  command raises an exception whose text is one line): only then has it a ``monitor_command`` method, so
  gdbstub answers ``qRcmd`` (gdb's ``monitor``) with "not supported"
  otherwise. The command runs on a thread of its own (:mod:`.monitorjob`),
  which gdb's Ctrl-C (``\x03``) or hang-up abandons (``abort_monitor``: the
  answer is then "monitor command aborted"). Its text is sent when it ends
  (not streamed: see :meth:`MachineTarget._monitor_command` for why).
  Errors come back as ``error: ...`` text, never as exceptions;
  output beyond :data:`MONITOR_OUTPUT_CAP` (1 MiB) is cut at a line end with
  a note ("output truncated ...: use the REPL or --json") and the command is
  abandoned there, so a huge listing costs what its first MiB costs.
  Whoever builds the target chooses what ``monitor`` runs (the CLI and the
  REPL's ``gdbserver``: the REPL's inspection commands); this package never
  imports the REPL.
* ``gate`` (optional) shares the machine with another thread (the CLI's
  free-running loop): the first call of a GDB session ``gate.acquire()``s
  the machine (stopping it), the session's end (:meth:`session_ended`)
  ``gate.release()``s it, or calls ``gate.kill()`` after a :meth:`kill`; a
  client that hangs up without detaching leaves the machine stopped (owned)
  for the next one, as QEMU does.
"""

from __future__ import annotations

import threading
from typing import Callable, Iterator, Optional

from gdbstub import Errno, TargetError, WatchKind

from ..inspect.kernel.syscalls import install as install_syscall_describer
from ..machine import GuestMemoryError, Stop
from ..machine.engine import drop_cached_code
from ..machine.watchpoints import WatchKind as MachineWatchKind
from .monitorjob import MonitorJob
from .qemu import QemuExtensions
from .regfile import RegisterFile
from .reverse import Reversing
from .running import Execution
from .threadview import ThreadView, warm_up
from .xml import OFFSETS, REGISTERS, TARGET_XML

_MASK = (1 << 64) - 1
#: Longest ``monitor`` output sent to gdb (it is hex-encoded into ``O`` packets).
MONITOR_OUTPUT_CAP = 1 << 20
_PAGE = 4096


class MachineTarget(Execution, Reversing, QemuExtensions, ThreadView):
    """A gdbstub target serving ``machine``.

    :param machine: the machine to debug.
    :param monitor: runs ``monitor`` commands (see the module); none: no ``qRcmd``.
    :param gate: shares the machine with a free-running loop (see the module).
    :param on_slice: called between slices of a continue, by the running thread.
    :param notify: receives one-line notes about stops GDB shows as a bare signal.
    :param slice_seconds: host seconds per slice of a continue.
    """

    def __init__(self, machine, *, monitor: Optional[Callable[[str], str]] = None, gate=None,
                 on_slice: Optional[Callable[[], None]] = None,
                 notify: Optional[Callable[[str], None]] = None, slice_seconds: float = 0.05) -> None:
        self.machine = machine
        self.registers = RegisterFile(machine)
        self.gate = gate
        self.on_slice = on_slice
        self.notify = notify
        self.slice_seconds = slice_seconds
        self._monitor = MonitorJob(monitor) if monitor is not None else None
        if monitor is not None:
            # gdbstub discovers capabilities by their methods: qRcmd only with a monitor.
            self.monitor_command = self._monitor_command
            self.abort_monitor = self._abort_monitor
        if machine.history.enabled:
            # ... and bs/bc only with a recorded history.
            self.reverse_step = self._reverse_step
            self.reverse_continue = self._reverse_continue
        self._sw: set[int] = set()
        self._hw: set[int] = set()
        self._watch: set[tuple[int, int, MachineWatchKind]] = set()
        self._interrupt = threading.Event()
        self._attached = False
        self._regs: bytes | None = None     # the register block, while stopped
        self._pages: dict[tuple, int] = {}   # (cr3, virtual page) -> physical page, while stopped
        self._mode = None                    # the paging mode (CR0, CR4, EFER), while stopped
        self._threads = None                 # the kernel's threads (.threadview), while stopped
        #: Set once the kernel's DWARF is read (in the background: :func:`.threadview.warm_up`).
        self.dwarf_ready = warm_up(machine.image)
        self._current_layout = None          # where the thread on the CPU is read (.threads), found once
        self._gdb_syscalls = False           # gdb catches system calls (QCatchSyscalls)
        install_syscall_describer(machine)   # caught calls are named in notes and stops
        #: The machine's last stop under GDB.
        self.last_stop: Stop | None = None
        #: The KERNEL_EXIT stop, once the kernel exited under GDB.
        self.exited: Stop | None = None
        #: GDB killed the program.
        self.killed = False

    # --- sessions --------------------------------------------------------------------

    def _attach(self) -> None:
        if not self._attached:
            if self.gate is not None:
                self.gate.acquire()
            self._attached = True
            self._invalidate()

    def _invalidate(self) -> None:
        """Forgets the cached registers and translations (the machine moved or was changed)."""
        self._regs = None
        self._threads = None
        self._pages.clear()
        self._mode = None

    def _forget(self) -> None:
        """Removes every breakpoint and watchpoint GDB set."""
        for mine in (self._sw, self._hw):
            for address in mine:
                self.machine.breakpoints.remove(address)
        self._sw.clear()
        self._hw.clear()
        for key in sorted(self._watch):
            self.machine.remove_watchpoint(*key)
        self._watch.clear()
        if self._gdb_syscalls:
            self._catch_syscalls(())

    def session_ended(self, hung_up: bool = False) -> None:
        """The GDB connection ended (any way, its last reply sent): clean up and hand
        the machine back, or end the gate's loop after a kill. ``hung_up`` (the
        client vanished without detaching) while the kernel still runs: the machine
        stays stopped, still owned, until the next client takes it (QEMU's behaviour)."""
        self._forget()
        if self._attached:
            self._attached = False
            if self.gate is not None and not (hung_up and self.exited is None):
                self.gate.release()  # (after the kernel exited, the loop ends)
        if self.killed and self.gate is not None:
            self.gate.kill()

    def detach(self) -> None:
        """GDB detached: remove its breakpoints and watchpoints; the machine stays as it is."""
        self.session_ended()

    def kill(self) -> None:
        """GDB killed the program: forget its breakpoints; once the connection has
        ended, :meth:`session_ended` ends the gate's loop (the CLI exits)."""
        self.killed = True
        self._forget()

    # --- registers and memory ------------------------------------------------------------

    def target_xml(self, annex: str) -> Optional[str]:
        """The description (:mod:`.xml`) for ``target.xml``; no other annex."""
        self._attach()
        return TARGET_XML if annex == "target.xml" else None

    def read_registers(self) -> bytes:
        self._attach()
        if self._regs is None:
            self._regs = self.registers.read_all()
        return self._regs

    def write_registers(self, data: bytes) -> None:
        self._attach()
        self._invalidate()
        self.registers.write_all(data)

    def read_register(self, regno: int) -> bytes:
        self._attach()
        if self._regs is not None and 0 <= regno < len(OFFSETS):
            return self._regs[OFFSETS[regno]:OFFSETS[regno] + REGISTERS[regno].size]
        return self.registers.read(regno)

    def write_register(self, regno: int, value: bytes) -> None:
        self._attach()
        self._invalidate()
        self.registers.write(regno, value)

    def _physical(self, page: int, cr3: int | None = None) -> int:
        """The physical page of virtual ``page`` under ``cr3`` (None: the CPU's; cached while stopped)."""
        phys = self._pages.get((cr3, page))
        if phys is None:
            memory = self.machine.memory
            if self._mode is None:
                self._mode = memory.paging_mode()
            phys = self._pages[(cr3, page)] = memory.translate(page, cr3=cr3, mode=self._mode)
        return phys

    def read_memory(self, address: int, length: int) -> bytes:
        self._attach()
        return self._read_in(address, length, None)

    def _read_in(self, address: int, length: int, cr3: int | None) -> bytes:
        """Virtual memory under ``cr3`` (None: the CPU's), up to the first unmapped page."""
        out = bytearray()
        addr = address & _MASK
        while len(out) < length:
            offset = addr & (_PAGE - 1)
            chunk = min(length - len(out), _PAGE - offset)
            try:
                out += self.machine.read_physical(self._physical(addr - offset, cr3) + offset, chunk)
            except GuestMemoryError:
                break
            addr = (addr + chunk) & _MASK
        if not out:
            raise TargetError(f"cannot read memory at {address:#x}", Errno.EFAULT)
        return bytes(out)

    def write_memory(self, address: int, data: bytes) -> None:
        self._attach()
        self._pages.clear()  # page tables may change
        memory = self.machine.memory
        page = address & ~(_PAGE - 1)
        try:
            while page < address + len(data):
                memory.translate(page)
                page += _PAGE
            self.machine.write_virtual(address, bytes(data), force=True)
        except GuestMemoryError as e:
            raise TargetError(str(e), Errno.EFAULT) from None
        drop_cached_code(self.machine.uc, address, address + len(data))

    # --- breakpoints and watchpoints -----------------------------------------------------

    def _add_break(self, mine: set[int], address: int) -> bool:
        self._attach()
        if address not in mine:
            self.machine.breakpoints.add(address)
            mine.add(address)
        return True

    def _remove_break(self, mine: set[int], address: int) -> bool:
        if address in mine:
            mine.discard(address)
            self.machine.breakpoints.remove(address)
        return True

    def add_sw_breakpoint(self, address: int, kind: int) -> bool:
        return self._add_break(self._sw, address)

    def remove_sw_breakpoint(self, address: int, kind: int) -> bool:
        return self._remove_break(self._sw, address)

    def add_hw_breakpoint(self, address: int, kind: int) -> bool:
        return self._add_break(self._hw, address)

    def remove_hw_breakpoint(self, address: int, kind: int) -> bool:
        return self._remove_break(self._hw, address)

    def add_watchpoint(self, address: int, length: int, kind: WatchKind) -> bool:
        self._attach()
        key = (address, length, MachineWatchKind(int(kind)))
        if key not in self._watch:
            try:
                self.machine.add_watchpoint(*key)
            except GuestMemoryError as e:
                raise TargetError(str(e), Errno.EFAULT) from None
            self._watch.add(key)
        return True

    def remove_watchpoint(self, address: int, length: int, kind: WatchKind) -> bool:
        key = (address, length, MachineWatchKind(int(kind)))
        if key in self._watch:
            self._watch.discard(key)
            self.machine.remove_watchpoint(*key)
        return True

    # --- system calls ---------------------------------------------------------------------

    def catch_syscalls(self, numbers) -> bool:
        """gdb's ``catch syscall`` (``QCatchSyscalls``): the machine's trace then stops at
        the entry and the return of those calls (None: all; empty: none), replacing the
        REPL's system-call catches; a session's end clears them."""
        self._attach()
        self._catch_syscalls(numbers)
        return True

    def _catch_syscalls(self, numbers) -> None:
        trace = self.machine.syscalls
        trace.catch_all = numbers is None
        trace.catch = set(numbers or ())
        self._gdb_syscalls = trace.catch_returns = numbers is None or bool(numbers)

    # --- monitor -----------------------------------------------------------------------------

    def _monitor_command(self, command: str) -> str:
        """Runs ``command`` with the monitor; its output, or ``error: ...``
        (bound as ``monitor_command`` only when the target has a monitor). Past
        :data:`MONITOR_OUTPUT_CAP` characters the command is abandoned (it stops
        working, not only sending) and a note ends the output.

        The text goes to gdb whole, when the command ends, although gdbstub
        could stream it: gdb's own Ctrl-C ends its wait for a ``monitor`` answer
        without telling the stub, and does not discard what arrives later, so
        output streamed after it would be read as the answer to gdb's next
        packets (measured with gdb 13: ``x/2gx $sp`` then failed with "Invalid
        hex digit"). Held to the end, an abandoned command's text is dropped
        whole (see gdbstub's session)."""
        self._attach()
        return "".join(self._capped(self._monitor.stream(command)))

    def _capped(self, pieces: Iterator[str]) -> Iterator[str]:
        sent, last = 0, "\n"
        try:
            for piece in pieces:
                if sent + len(piece) > MONITOR_OUTPUT_CAP:
                    room = MONITOR_OUTPUT_CAP - sent
                    yield piece[:piece.rfind("\n", 0, room) + 1]
                    yield (f"output truncated at {MONITOR_OUTPUT_CAP >> 20} MiB: "
                           "use the REPL or --json\n")
                    return
                sent += len(piece)
                last = piece[-1]
                yield piece
        except Exception as e:  # a bad command must not end the GDB session
            sep = "" if last == "\n" else "\n"
            yield f"{sep}error: {str(e) or type(e).__name__}\n"
            return
        finally:
            pieces.close()
            self._invalidate()  # cheap to refill; a command may have changed what they hold
        if last != "\n":
            yield "\n"

    def _abort_monitor(self) -> None:
        """Abandons the running ``monitor`` command (gdb's Ctrl-C or hang-up), and stops
        the machine if the command had started it."""
        self._monitor.abort()
        self.machine.interrupt()

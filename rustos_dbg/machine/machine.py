"""The emulated PC that runs RustOS: boot, run in slices, stop, inspect, go back.

Contract: ``Machine.boot(elf, cmdline=...)`` loads and validates the kernel,
builds RAM, devices and CPU state (docs/boot.md) and returns a machine
stopped at the kernel's entry, as its boot protocol's loader enters it
(:func:`~.boot.boot_plan`: a PVH kernel at its 32-bit entry, a Multiboot2
kernel at its entry with the boot information, both in 32-bit protected mode;
a Limine kernel at its ELF entry in 64-bit mode). ``run`` executes the guest in slices until a
:class:`~.stops.Stop` (see :mod:`.execution`).

The machine is a set of parts, each owning its state and able to capture
and put it back: :attr:`cpu` (:mod:`.cpu`), :attr:`memory` (RAM,
:mod:`.memory`), :attr:`devices` (:mod:`rustos_dbg.devices`), :attr:`clock`
(:mod:`.clock`) and :attr:`inputs` (:mod:`.inputs`). :meth:`snapshot`
composes their states into one frozen :class:`~.state.MachineState`;
:meth:`restore` puts them all back, in any order, as often as wanted.
Debugger settings (:attr:`breakpoints`, :attr:`watchpoints`, :attr:`catch`)
are not machine state and survive a restore.

Time: in the default *deterministic* mode the guest's clock is the executed
instruction count (1 ns per instruction) plus the time skipped while halted,
so the same kernel, command line and inputs give the same run, instruction
for instruction. The *fast* mode (``mode="fast"``, not deterministic) drops
the per-instruction counter and takes time from the host clock.
"""

from __future__ import annotations

from pathlib import Path

from ..devices.pc import build_pc
from . import checking
from .access import StateAccess
from .boot import boot_plan
from .bootfiles import open_disk, read_initrd, read_modules
from .breakpoints import Breakpoints
from .clock import Clock
from .context import calibrate
from .control import RunControl
from .cpu import Cpu
from .delivery import Deliverer
from .codecache import CodeCache
from .dirty import tracked_ram
from .engine import CpuView, create_engine, flush_tlb
from .errors import KernelImageError
from .execution import Runner
from .exlog import ExceptionLog
from .hang import HangWatch
from .history import History, LastWrite
from .hooks import EngineHooks
from .image import KernelImage, load_image
from .guestio import GuestIO
from .inputs import Inputs
from .locktrack import LockTracker
from .memory import GuestMemory
from .panics import PanicCatch
from .sanitizer import HeapSanitizer
from .state import MachineState
from .stops import Stop, StopKind
from .syscalls import SyscallTrace
from .vram import VideoMemory
from .watchpoints import Watchpoints

MIN_RAM_MB, MAX_RAM_MB = 16, 3072


class Machine(GuestIO, StateAccess):
    """An emulated PC running one kernel image."""

    def __init__(self, image: KernelImage, cmdline: str = "", ram_mb: int = 128, mode: str = "deterministic",
                 on_serial=None, disk: str | Path | None = None, modules=(), initrd: str | Path | None = None) -> None:
        """Builds the machine for ``image``; prefer :meth:`boot`."""
        if mode not in ("deterministic", "fast"):
            raise ValueError(f"unknown mode '{mode}' (deterministic or fast)")
        if not MIN_RAM_MB <= ram_mb <= MAX_RAM_MB:
            raise KernelImageError(f"RAM size {ram_mb} MiB is out of range ({MIN_RAM_MB}-{MAX_RAM_MB} MiB)")
        #: The ramdisk file handed to a PVH kernel as its module (None: none); its
        #: bytes live in RAM, so snapshots carry them.
        self.initrd = Path(initrd) if initrd is not None else None
        plan = boot_plan(image, ram_mb << 20, cmdline, read_modules(modules),  # the protocol first
                         initrd=read_initrd(self.initrd, ram_mb << 20))
        self.image, self.cmdline, self.mode = image, cmdline, mode
        self.modules = tuple(modules)  #: boot modules: a path, or (path, string), each
        self.ram_bytes = ram_mb << 20
        #: How the kernel was booted (:class:`~.boot.BootPlan`: ``protocol``, ``notes``, ``detail``...).
        self.boot_plan = plan
        ram = tracked_ram(self.ram_bytes)
        self.uc = create_engine(plan, self.ram_bytes, ram)
        #: The boot protocol the kernel was loaded by ("pvh", "multiboot2", "limine").
        self.boot_protocol = plan.protocol
        self._mode_probe = None
        # The parts, each with its own state.
        self.cpu = Cpu(self.uc)
        self.memory = GuestMemory(self.uc, self.ram_bytes, self.cpu.reg, ram)
        self.clock = Clock(self.uc, deterministic=mode == "deterministic", read_code=self.memory.read_linear)
        #: The disk image file of the ATA master (None: no disk).
        self.disk = Path(disk) if disk is not None else None
        #: The standard VGA's video memory, mapped where its BAR0 says (:mod:`.vram`).
        self.vram = VideoMemory(self.uc)
        self.devices = build_pc(read_phys=self.memory.read_physical, clock=self.clock.now_ns,
                                on_tx=self._on_tx, memory_bytes=self.ram_bytes, disk=open_disk(self.disk),
                                vram=self.vram)
        self.devices.pci.on_config = self._on_pci_config
        self._on_pci_config(self.devices.pci.function("VGA"))
        self.inputs = Inputs(self.devices, self.clock)
        #: Every delivery attempt, in order (see :class:`~.delivery.LogEntry`); recent
        #: ones in full, older ones as per-vector counts (:mod:`.exlog`).
        self.exception_log = ExceptionLog()
        self._serial = bytearray()
        self._on_serial = on_serial
        # Running the engine.
        self.context_fields = calibrate()
        state = self.boot_plan.state
        if state.code is not None:
            self.context_fields.load_code_and_stack(self.uc, 0, state.code, state.data)
        if state.mask_pic:  # the loader's OUTs masking every line
            self.devices.pic.write(0x21, 1, 0xFF)
            self.devices.pic.write(0xA1, 1, 0xFF)
        self.control = RunControl()
        self.deliverer = Deliverer(CpuView(self.uc, self.memory, lambda: self.icount, self.context_fields), self.exception_log)
        self.hooks = EngineHooks(self)
        self.runner = Runner(self)
        self.code_cache = CodeCache(self)
        #: System calls from ring 3 and their results (:mod:`.syscalls`); catching them too.
        self.syscalls = SyscallTrace(self)
        self.devices.debug_exit.on_exit = self.hooks.on_debug_exit
        self.devices.i8042.on_reset = self.hooks.on_reset
        # Debugger settings: not machine state.
        self.breakpoints = Breakpoints(self.uc, self.hooks.on_breakpoint)
        self.watchpoints = Watchpoints(self.uc, lambda: self.reg("rip"), self.hooks.on_watch, self.memory.walk,
                                       lambda: self.reg("cr3"))
        #: Vectors whose delivery stops the run (StopKind.EXCEPTION).
        self.catch: set[int] = set()
        self.panics = PanicCatch(self)  #: the catch of kernel panics (see :attr:`catch_panic`)
        self.last_stop: Stop | None = None  #: what the last :meth:`run` returned (``why``)
        #: The recorded history of the run (time travel), off until enabled.
        self.history = History(self)
        #: Hang detection during runs (``hang.timeout_ns``; None turns it off).
        self.hang = HangWatch(self)
        #: The heap sanitizer (off until :meth:`sanitize_heap`).
        self.sanitizer = HeapSanitizer(self)
        #: IRQ-unsafe lock detection (off until :meth:`track_locks`).
        self.lock_tracker = LockTracker(self)

    @classmethod
    def boot(cls, elf: str | Path, cmdline: str = "", ram_mb: int = 128, mode: str = "deterministic",
             on_serial=None, history: bool = False, disk: str | Path | None = None, modules=(),
             initrd: str | Path | None = None) -> "Machine":
        """Loads ``elf`` (a :class:`KernelImageError` if it is not a bootable kernel) and builds a
        machine; ``history`` records its run from the boot on, for time travel; ``disk`` is the
        image file of the ATA master (a :class:`DiskImageError` if it cannot be used); ``modules``
        are boot module files (a path, or (path, string): the module's string, by default its
        file name for a Multiboot2 kernel; a Limine kernel's module command line); ``initrd``
        the ramdisk of a PVH kernel, placed in RAM as QEMU's ``-initrd`` (an :class:`InitrdError`
        if it cannot be)."""
        machine = cls(load_image(elf), cmdline=cmdline, ram_mb=ram_mb, mode=mode, on_serial=on_serial, disk=disk,
                      modules=modules, initrd=initrd)
        if history:
            machine.history.enable()
        return machine

    # --- state -------------------------------------------------------------------

    def snapshot(self) -> MachineState:
        """The whole machine now, as one immutable value (between runs)."""
        return MachineState(self.cpu.snapshot(), self.memory.snapshot(), self.devices.snapshot(),
                            self.clock.snapshot(), self.inputs.snapshot(), self.exception_log.snapshot(),
                            bytes(self._serial), self.syscalls.snapshot())

    def restore(self, state: MachineState) -> None:
        """Puts the whole machine back to ``state`` (from :meth:`snapshot` of this
        machine); breakpoints, watchpoints and caught vectors are kept. With a
        recorded history, the input recorded after ``state`` is replayed when the
        machine goes forward again (see :mod:`.history`)."""
        self.history.before_restore()
        self.memory.restore(state.ram)
        self.cpu.restore(state.cpu)
        self.devices.restore(state.devices)
        self.clock.restore(state.clock)
        self.inputs.restore(state.inputs)
        self.exception_log.restore(state.exception_log)
        if state.syscalls is not None:
            self.syscalls.restore(state.syscalls)
        self._serial[:] = state.serial
        self.control.take()
        self.control.watch_due = False
        self.watchpoints.rearm()  # the restored page tables decide what is mapped
        self.history.on_restore(state)

    # --- time travel -------------------------------------------------------------

    def goto(self, icount: int) -> Stop:
        """Takes the machine to instruction count ``icount`` of its recorded history."""
        return self.history.goto(icount)

    def reverse_step(self, n: int = 1) -> Stop:
        """Goes back ``n`` instructions (a HISTORY_START stop at the beginning of history)."""
        return self.history.reverse_step(n)

    def reverse_continue(self) -> Stop:
        """Goes back to the latest breakpoint hit, watchpoint hit or caught exception
        before now (a HISTORY_START stop when there is none)."""
        return self.history.reverse_continue()

    def last_write(self, address: int, size: int = 1) -> LastWrite | None:
        """The latest write to ``size`` bytes at ``address`` before now, or None."""
        return self.history.last_write(address, size)

    # --- verdicts ---------------------------------------------------------------

    def sanitize_heap(self, on: bool = True) -> None:
        """Turns the heap sanitizer (:mod:`.sanitizer`) on or off; its first error stops a
        run (``StopKind.SANITIZER``, the ``HeapError`` in ``Stop.detail``). A ``ValueError``
        without the allocator's symbols or in the fast mode."""
        self.sanitizer.enable() if on else self.sanitizer.disable()

    def track_locks(self, words: dict[int, str] | None, stop: bool = True) -> int:
        """Tracks the lock words ``{address: name}`` (None: stops) for IRQ-unsafe locks
        (:mod:`.locktrack`; with ``stop``, the first stops the run); returns how many are watched."""
        if words is None:
            self.lock_tracker.disable()
            return 0
        return self.lock_tracker.enable(words, stop)

    # --- invariants --------------------------------------------------------------

    def check(self, names=None) -> tuple:
        """Runs the kernel invariants ``names`` (all by default) here: a tuple of
        ``CheckResult`` (``rustos_dbg.inspect.invariants``), each ``ok`` or with its problems."""
        return checking.provider().run_checks(self, names)

    def bisect(self, name: str, move: bool = True):
        """The first instruction of the recorded history at which invariant ``name``
        fails (it must fail now and pass at the beginning): a ``BisectReport``; the
        machine is left there (``move=False``: comes back to now)."""
        return checking.provider().bisect(self, name, move)

    def source_line(self, address: int) -> str | None:
        """``file:line`` of the code at ``address``, when the DWARF knows it."""
        from ..dwarf.lines import line_table

        try:
            location = line_table(self.image).lookup(address)
        except Exception:  # no DWARF in the image
            return None
        return str(location) if location is not None else None

    def flush_caches(self) -> None:
        """Drops Unicorn's TLB and translated blocks (after hooks were added)."""
        flush_tlb(self.uc)
        self.uc.ctl_flush_tb()

    # --- running -----------------------------------------------------------------

    def run(self, until=None, max_instructions: int | None = None, timeout: float | None = None,
            stop_when=None, interrupts: bool = True) -> Stop:
        """Runs until a stop: ``until`` (address or symbol) is reached, the
        kernel exits, a breakpoint, watchpoint, caught exception or panic, a triple
        fault, halting for good, ``max_instructions`` executed, ``timeout``
        host seconds passed, :meth:`interrupt`, or ``stop_when()`` returning
        true (checked between slices; the stop kind is then INTERRUPTED).

        ``interrupts=False`` holds hardware interrupts off for this run (they
        stay latched in the PIC for a later run), as a debugger's single step
        does; a CPU halted in HLT then cannot go on and the run stops HALTED."""
        stop = self.runner.run(until, max_instructions, timeout, stop_when, interrupts)
        self.last_stop = stop
        return stop

    @property
    def catch_panic(self) -> bool:
        """True while the panic handler's entry stops a run (``PANIC``: :mod:`.panics`)."""
        return self.panics.enabled

    @catch_panic.setter
    def catch_panic(self, on: bool) -> None:
        self.panics.enable(bool(on))

    def step(self, interrupts: bool = True) -> Stop:
        """Executes one instruction (delivering a pending interrupt first, unless
        ``interrupts`` is False: see :meth:`run`)."""
        stop = self.run(max_instructions=1, interrupts=interrupts)
        if stop.kind is StopKind.INSTRUCTION_LIMIT:
            return Stop(StopKind.STEP, stop.rip, stop.icount)
        return stop

    def run_until_serial(self, text: str, timeout: float = 60.0, max_instructions: int | None = None) -> Stop | None:
        """Runs until COM1 output gains ``text`` (after what it held before); returns
        None on success, else the stop that came first."""
        start = len(self._serial)
        needle = text.encode()
        found = lambda: needle in self._serial[start:]
        stop = self.run(max_instructions=max_instructions, timeout=timeout, stop_when=found)
        return None if found() else stop

    def interrupt(self) -> None:
        """Stops a running machine from another thread (Ctrl-C), at the next
        instruction (deterministic mode) or block (fast mode): never an
        asynchronous ``emu_stop``."""
        self.runner.interrupt()

    @property
    def halted(self) -> bool:
        """True while the CPU waits in HLT for an interrupt (known exactly: the
        engine returned from a HLT, not guessed from the code before rip)."""
        return self.cpu.halted

    @property
    def shutdown(self) -> Stop | None:
        """The TRIPLE_FAULT stop once a triple fault shut the CPU down (for good:
        every later run returns it without executing), else None."""
        return self.cpu.shutdown

    def add_watchpoint(self, address: int, length: int, kind, condition=None) -> bool:
        """Watches ``length`` bytes at virtual ``address`` for writes, reads or both;
        ``condition()`` decides at each hit whether to stop. True when armed, False
        when pending (the range is not mapped yet: armed once it is). In fast mode
        this installs the instruction counter while watchpoints exist."""
        self.runner.need_stopper(True)
        try:
            return self.watchpoints.add(address, length, kind, condition)
        finally:
            self.runner.need_stopper(len(self.watchpoints) > 0)

    def remove_watchpoint(self, address: int, length: int, kind) -> bool:
        """Removes a watchpoint; False if there was none."""
        removed = self.watchpoints.remove(address, length, kind)
        self.runner.need_stopper(len(self.watchpoints) > 0)
        return removed

    # --- time -----------------------------------------------------------------

    @property
    def counter(self):
        """The native instruction counter (None in the fast mode)."""
        return self.clock.counter

    @property
    def icount(self) -> int:
        """Instructions executed (0 in fast mode, which does not count)."""
        return self.clock.icount

    def now_ns(self) -> int:
        """The guest's virtual time in nanoseconds."""
        return self.clock.now_ns()

    # --- devices ----------------------------------------------------------------

    @property
    def serial_output(self) -> str:
        """Everything the guest has written to COM1."""
        return self._serial.decode("utf-8", "replace")

    def _on_pci_config(self, function) -> None:
        """Maps the video memory where the VGA's BAR0 decodes. It stays where it was while
        BAR0 decodes nowhere (memory decoding off, the sizing pattern): unmapping makes
        Unicorn walk the guest's page tables for the range, which leaves a bogus page
        fault behind inside a run (as ``engine.drop_cached_code`` says of its removals)."""
        if function.name == "VGA":
            base = function.memory_bar(0)
            if base is not None and base != self.vram.base:
                self.vram.map(base)

    def _on_tx(self, byte: int) -> None:
        self._serial.append(byte)
        if self._on_serial is not None:
            self._on_serial(byte)

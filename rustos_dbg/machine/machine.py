"""The emulated PC that runs RustOS: boot, run in slices, stop, inspect.

Contract: ``Machine.boot(elf, cmdline=...)`` loads and validates the kernel,
builds RAM, devices and CPU state (docs/boot.md) and returns a machine
stopped at the 64-bit entry. ``run`` executes the guest in slices until a
:class:`~.stops.Stop`; between slices the devices are ticked to the virtual
time and a pending PIC interrupt is delivered when RFLAGS.IF is set; HLT
skips ahead to the next device event.

Time: in the default *deterministic* mode the guest's clock is the executed
instruction count (1 ns per instruction) plus the time skipped while halted,
so the same kernel, command line and inputs give the same run, instruction
for instruction. The *fast* mode (``mode="fast"``, not deterministic) drops
the per-instruction counter and takes time from the host clock.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from unicorn import UC_HOOK_INSN, UC_HOOK_INSN_INVALID, UC_HOOK_INTR, UcError
from unicorn.x86_const import UC_X86_INS_IN, UC_X86_INS_OUT

from ..devices.pc import build_pc
from . import registers
from .breakpoints import Breakpoints
from .context import calibrate
from .counter import InstructionCounter
from .delivery import ERROR_CODE_VECTORS, Deliverer, LogEntry, Source, TripleFault
from .engine import CpuView, create_engine, flush_tlb
from .errors import KernelImageError
from .image import KernelImage, load_image
from .memory import GuestMemory
from .stops import Stop, StopKind
from .watchpoints import WATCH_NAMES, Watchpoints, WatchHit

NS_PER_INSTRUCTION = 1
MIN_RAM_MB, MAX_RAM_MB = 16, 3072
MAX_SLICE = 200_000
FAST_SLICE_BLOCKS = 20_000
_UNTIL = 0x8000_0000_0000_0000  # non-canonical: never reached
_IF = 1 << 9


class Machine:
    """An emulated PC running one kernel image."""

    def __init__(self, image: KernelImage, cmdline: str = "", ram_mb: int = 128, mode: str = "deterministic",
                 on_serial=None) -> None:
        """Builds the machine for ``image``; prefer :meth:`boot`."""
        if mode not in ("deterministic", "fast"):
            raise ValueError(f"unknown mode '{mode}' (deterministic or fast)")
        if not MIN_RAM_MB <= ram_mb <= MAX_RAM_MB:
            raise KernelImageError(f"RAM size {ram_mb} MiB is out of range ({MIN_RAM_MB}-{MAX_RAM_MB} MiB)")
        for seg in image.segments:
            if seg.paddr + seg.memsz > (ram_mb << 20) or seg.paddr < 0x10_0000:
                raise KernelImageError(
                    f"'{image.path}' loads {seg.memsz:#x} bytes at physical {seg.paddr:#x}, "
                    f"outside the RAM above 1 MiB of a {ram_mb} MiB machine")
        self.image, self.cmdline, self.mode = image, cmdline, mode
        self.ram_bytes = ram_mb << 20
        self.uc = create_engine(image, self.ram_bytes, cmdline)
        self.memory = GuestMemory(self.uc, self.ram_bytes, self.reg)
        self.counter = InstructionCounter(self.uc) if mode == "deterministic" else None
        self._fields = calibrate()
        self.exception_log: list[LogEntry] = []
        self.input_log: list[tuple[int, str, bytes]] = []
        self._deliverer = Deliverer(CpuView(self.uc, self.memory, lambda: self.icount), self.exception_log)
        self._serial = bytearray()
        self._on_serial = on_serial
        self.devices = build_pc(read_phys=self.memory.read_physical, clock=self.now_ns,
                                on_tx=self._on_tx, memory_bytes=self.ram_bytes)
        self.devices.debug_exit.on_exit = self._on_debug_exit
        self.devices.i8042.on_reset = self._on_reset
        self.breakpoints = Breakpoints(self.uc, self._on_breakpoint)
        self.watchpoints = Watchpoints(self.uc, lambda: self.reg("rip"), self._on_watch, self.memory.translate)
        self._watch_hit: WatchHit | None = None
        self._stopper: InstructionCounter | None = None  # fast mode, while watchpoints exist
        self.catch: set[int] = set()
        self._idle_ns = 0
        self._fast_ns = 0
        self._fast_started: int | None = None
        self._halted = False
        self._pending: Stop | None = None
        self._interrupt = threading.Event()
        # Fast mode ends its slices at a budget of executed blocks: a synchronous
        # stop (Unicorn's asynchronous timeout stop was seen to corrupt state when
        # it landed next to an exception delivery).
        self._blocks = InstructionCounter(self.uc, blocks=True) if mode == "fast" else None
        self.uc.hook_add(UC_HOOK_INTR, self._on_intr)
        self.uc.hook_add(UC_HOOK_INSN_INVALID, self._on_invalid)
        self.uc.hook_add(UC_HOOK_INSN, self._on_in, None, 1, 0, UC_X86_INS_IN)
        self.uc.hook_add(UC_HOOK_INSN, self._on_out, None, 1, 0, UC_X86_INS_OUT)

    @classmethod
    def boot(cls, elf: str | Path, cmdline: str = "", ram_mb: int = 128, mode: str = "deterministic",
             on_serial=None) -> "Machine":
        """Loads ``elf`` (a :class:`KernelImageError` if it is not a bootable kernel) and builds a machine."""
        return cls(load_image(elf), cmdline=cmdline, ram_mb=ram_mb, mode=mode, on_serial=on_serial)

    # --- time -----------------------------------------------------------------

    @property
    def icount(self) -> int:
        """Instructions executed (0 in fast mode, which does not count)."""
        return self.counter.count if self.counter else 0

    def now_ns(self) -> int:
        """The guest's virtual time in nanoseconds."""
        if self.counter is not None:
            return self.counter.count * NS_PER_INSTRUCTION + self._idle_ns
        running = time.monotonic_ns() - self._fast_started if self._fast_started is not None else 0
        return self._fast_ns + running + self._idle_ns

    # --- registers, memory, symbols -----------------------------------------------

    def reg(self, name: str):
        """Register ``name`` (rax..r15, rip, rflags, segments, cr0-cr8, efer, fs_base, gdtr, ...)."""
        return registers.read(self.uc, name)

    def set_reg(self, name: str, value) -> None:
        """Sets register ``name``."""
        registers.write(self.uc, name, value)

    def regs(self) -> dict[str, int]:
        """General-purpose registers, rip, rflags and segment selectors."""
        return registers.snapshot(self.uc)

    def read_virtual(self, addr: int, n: int) -> bytes:
        """Guest memory at a virtual address, through the guest's page tables."""
        return self.memory.read_virtual(addr, n)

    def write_virtual(self, addr: int, data: bytes, force: bool = False) -> None:
        """Writes guest memory at a virtual address."""
        self.memory.write_virtual(addr, data, force=force)
        flush_tlb(self.uc)

    def read_physical(self, addr: int, n: int) -> bytes:
        """Guest RAM at a physical address."""
        return self.memory.read_physical(addr, n)

    def write_physical(self, addr: int, data: bytes) -> None:
        """Writes guest RAM at a physical address."""
        self.memory.write_physical(addr, data)
        flush_tlb(self.uc)

    @property
    def symbols(self):
        """The kernel's symbol table."""
        return self.image.symbols

    def symbolize(self, addr: int) -> str:
        """``symbol+0xoff`` for an address."""
        return self.image.symbols.symbolize(addr)

    def resolve(self, where) -> int:
        """An address from an int or a symbol name (a :class:`SymbolError` if unknown)."""
        return where if isinstance(where, int) else self.image.symbols.lookup(where).address

    # --- devices ----------------------------------------------------------------

    @property
    def serial_output(self) -> str:
        """Everything the guest has written to COM1."""
        return self._serial.decode("utf-8", "replace")

    def _on_tx(self, byte: int) -> None:
        self._serial.append(byte)
        if self._on_serial is not None:
            self._on_serial(byte)

    def send_keys(self, text: str) -> None:
        """Types ``text`` on the PS/2 keyboard (set-1 scancodes)."""
        self.input_log.append((self.icount, "keyboard", text.encode()))
        self.devices.i8042.type_text(text)

    def press(self, chord: str) -> None:
        """Presses a key chord on the keyboard (``up``, ``ctrl+c``, ...)."""
        self.input_log.append((self.icount, "key", chord.encode()))
        self.devices.i8042.press(chord)

    def send_serial(self, data: bytes | str) -> None:
        """Sends bytes to COM1's receiver."""
        raw = data.encode() if isinstance(data, str) else bytes(data)
        self.input_log.append((self.icount, "serial", raw))
        self.devices.uart.inject(raw)

    def screen_text(self) -> str:
        """The VGA text screen, 25 lines."""
        return self.devices.vga.screen_text()

    def screenshot(self, path: str | Path) -> Path:
        """Renders the VGA screen to a PNG file."""
        self.devices.vga.render_png(str(path))
        return Path(path)

    # --- stops requested by hooks ---------------------------------------------

    def _request(self, kind: StopKind, **fields) -> None:
        if self._pending is None:
            self._pending = Stop(kind, self.reg("rip"), self.icount, **fields)
        self.uc.emu_stop()

    def _on_debug_exit(self, code: int) -> None:
        self._request(StopKind.KERNEL_EXIT, exit_code=code)

    def _on_reset(self) -> None:
        self._request(StopKind.RESET, message="the guest asked for a reset (8042 command 0xFE)")

    def _on_breakpoint(self, address: int) -> None:
        if self.counter is not None:
            self.counter.count -= 1  # counted, but stopped before it ran
        self._request(StopKind.BREAKPOINT, address=address)

    def _on_watch(self, hit: WatchHit) -> None:
        if self._watch_hit is not None:
            return
        self._watch_hit = hit
        stopper = self.counter or self._stopper
        stopper.limit = stopper.count  # stop before the next instruction

    def add_watchpoint(self, address: int, length: int, kind) -> None:
        """Watches ``length`` bytes at virtual ``address`` for writes, reads or both
        (in fast mode this installs the instruction counter while watchpoints exist)."""
        if self.counter is None and self._stopper is None:
            self._stopper = InstructionCounter(self.uc)
            self.uc.ctl_flush_tb()  # blocks translated before the hook would not count
        self.watchpoints.add(address, length, kind)

    def remove_watchpoint(self, address: int, length: int, kind) -> bool:
        """Removes a watchpoint; False if there was none."""
        removed = self.watchpoints.remove(address, length, kind)
        if self._stopper is not None and not len(self.watchpoints):
            self._stopper.remove()
            self._stopper = None
        return removed

    def _take_watch(self) -> None:
        hit, self._watch_hit = self._watch_hit, None
        if hit is not None and self._pending is None:
            self._pending = Stop(StopKind.WATCHPOINT, self.reg("rip"), self.icount, address=hit.address,
                                 access=WATCH_NAMES[hit.kind], message=f"{hit.access} of {hit.accessed:#x} by the instruction at {hit.rip:#x}")

    def interrupt(self) -> None:
        """Stops a running machine from another thread (Ctrl-C), at the next
        instruction (deterministic mode) or block (fast mode): never an
        asynchronous ``emu_stop``."""
        self._interrupt.set()
        (self.counter or self._blocks).stop_soon()

    # --- exceptions and interrupts --------------------------------------------------

    def _deliver(self, vector: int, source: Source, error_code: int | None, rip: int) -> None:
        cr2 = self.reg("cr2") if vector == 14 else None
        try:
            entry = self._deliverer.deliver(vector, source, error_code, rip, cr2)
        except TripleFault as shutdown:
            self._request(StopKind.TRIPLE_FAULT, chain=tuple(shutdown.chain),
                          message="the CPU shut down")
            return
        if entry.vector in self.catch:
            self._request(StopKind.EXCEPTION, vector=entry.vector, chain=(entry,))

    def _on_intr(self, uc, vector: int, _data) -> None:
        software = vector in (3, 4) or vector >= 32
        error = self._fields.read_error_code(uc) if vector in ERROR_CODE_VECTORS and not software else None
        self._fields.clear_old_exception(uc)
        if error is None and vector in ERROR_CODE_VECTORS and not software:
            error = 0
        self._deliver(vector, Source.SOFTWARE if software else Source.EXCEPTION, error, self.reg("rip"))

    def _on_invalid(self, uc, _data) -> bool:
        self._deliver(6, Source.EXCEPTION, None, self.reg("rip"))
        return True

    def _on_in(self, uc, port: int, size: int, _data) -> int:
        return self.devices.bus.read(port, size)

    def _on_out(self, uc, port: int, size: int, value: int, _data) -> None:
        self.devices.bus.write(port, size, value)

    def _service_interrupts(self) -> None:
        """Ticks the devices and delivers a pending PIC interrupt if IF allows."""
        self.devices.bus.tick(self.now_ns())
        if not self.reg("rflags") & _IF or not self.devices.pic.pending():
            return
        rip = self.reg("rip")
        if not self._halted and self._after_sti(rip):
            return  # the STI shadow: one more instruction first
        vector = self.devices.pic.acknowledge()
        self._halted = False
        self._deliver(vector, Source.EXTERNAL, None, rip)

    def _after_sti(self, rip: int) -> bool:
        try:
            return self.memory.read_linear(rip - 1, 1) == b"\xfb"
        except Exception:
            return False

    # --- running ----------------------------------------------------------------

    def _emulate(self, budget: int) -> None:
        """Runs up to ``budget`` instructions (deterministic) or nanoseconds (fast)."""
        rip = self.reg("rip")
        self.breakpoints.resume_at(rip)
        # A stop at an instruction-count limit leaves QEMU's old_exception set,
        # which would turn the next fault into a bogus #DF or triple fault.
        self._fields.clear_old_exception(self.uc)
        if self.counter is not None:
            self.counter.limit = self.counter.count + budget
            try:
                self.uc.emu_start(rip, _UNTIL)
            except UcError as e:
                self._error(e)
            if self._watch_hit is not None:
                self._take_watch()
                return
            # Ending before the limit without a stop of ours means HLT. (A HLT that is
            # exactly the last instruction of a slice is not seen: it then acts as a
            # NOP, which is harmless, as idle loops halt again; never the reverse.)
            if self._pending is None and not self._interrupt.is_set() and self.counter.count < self.counter.limit:
                self._halted = True
            return
        self._fast_started = time.monotonic_ns()
        if self._stopper is not None:
            self._stopper.limit = 2**64 - 1
        self._blocks.limit = self._blocks.count + FAST_SLICE_BLOCKS
        try:
            self.uc.emu_start(rip, _UNTIL)
        except UcError as e:
            self._error(e)
        finally:
            self._fast_ns += time.monotonic_ns() - self._fast_started
            self._fast_started = None
        if self._watch_hit is not None:
            self._take_watch()
            return
        if self._pending is None and not self._interrupt.is_set() and self._blocks.count < self._blocks.limit:
            self._halted = True

    def _error(self, error: UcError) -> None:
        if self._pending is None:
            rip = self.reg("rip")
            self._pending = Stop(StopKind.ERROR, rip, self.icount,
                                 message=f"{error} at {self.symbolize(rip)}")

    def run(self, until=None, max_instructions: int | None = None, timeout: float | None = None,
            stop_when=None) -> Stop:
        """Runs until a stop: ``until`` (address or symbol) is reached, the
        kernel exits, a breakpoint, watchpoint or caught exception, a triple
        fault, halting for good, ``max_instructions`` executed, ``timeout``
        host seconds passed, :meth:`interrupt`, or ``stop_when()`` returning
        true (checked between slices; the stop kind is then INTERRUPTED)."""
        target = self.resolve(until) if until is not None else None
        if target is not None:
            self.breakpoints.add_temporary(target)
        deadline = time.monotonic() + timeout if timeout is not None else None
        start = self.icount
        steps = 0
        self._interrupt.clear()
        try:
            while True:
                if self._pending is None:
                    self._service_interrupts()
                stop = self._take_stop()
                if stop is not None:
                    return stop
                if max_instructions is not None and self.counter is None and steps >= max_instructions:
                    return Stop(StopKind.INSTRUCTION_LIMIT, self.reg("rip"), self.icount)
                left = None if max_instructions is None else max_instructions - (self.icount - start)
                if left is not None and left <= 0 and self.counter is not None:
                    return Stop(StopKind.INSTRUCTION_LIMIT, self.reg("rip"), self.icount)
                if deadline is not None and time.monotonic() >= deadline:
                    return Stop(StopKind.TIME_LIMIT, self.reg("rip"), self.icount)
                if stop_when is not None and stop_when():
                    return Stop(StopKind.INTERRUPTED, self.reg("rip"), self.icount, message="condition met")
                if self._halted:
                    stop = self._idle()
                    if stop is not None:
                        return stop
                    continue
                budget = self._slice(left)
                self._emulate(budget)
                steps += 1
        finally:
            if target is not None:
                self.breakpoints.remove_temporary(target)

    def _take_stop(self) -> Stop | None:
        if self._pending is not None:
            stop, self._pending = self._pending, None
            return stop
        if self._interrupt.is_set():
            self._interrupt.clear()
            return Stop(StopKind.INTERRUPTED, self.reg("rip"), self.icount)
        return None

    def _slice(self, left: int | None) -> int:
        now = self.now_ns()
        event = self.devices.bus.next_event(now)
        budget = MAX_SLICE if event is None else max(1, (event - now) // NS_PER_INSTRUCTION)
        budget = min(budget, MAX_SLICE)
        if self.counter is None:
            return budget * NS_PER_INSTRUCTION
        return budget if left is None else min(budget, left)

    def _idle(self) -> Stop | None:
        """The CPU is halted: skip to the next device event, or report halting for good."""
        if not self.reg("rflags") & _IF:
            return Stop(StopKind.HALTED, self.reg("rip"), self.icount, message="HLT with interrupts disabled")
        now = self.now_ns()
        event = self.devices.bus.next_event(now)
        if event is None:
            return Stop(StopKind.HALTED, self.reg("rip"), self.icount, message="HLT and no device event to come")
        if self.counter is None:
            time.sleep(min(max(event - now, 0), 1_000_000) / 1e9)
            if self.now_ns() < event:
                self._idle_ns += event - self.now_ns()
        elif event > now:
            self._idle_ns += event - now
        return None

    def step(self) -> Stop:
        """Executes one instruction (delivering a pending interrupt first)."""
        stop = self.run(max_instructions=1)
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

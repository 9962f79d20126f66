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

from unicorn import UC_HOOK_INSN, UC_HOOK_INSN_INVALID, UC_HOOK_INTR
from unicorn.x86_const import UC_X86_INS_IN, UC_X86_INS_OUT

from ..devices.pc import build_pc
from . import registers
from .breakpoints import Breakpoints
from .execution import NS_PER_INSTRUCTION, Execution
from .hooks import Hooks
from .context import calibrate
from .counter import InstructionCounter
from .delivery import Deliverer, LogEntry
from .engine import CpuView, create_engine, flush_tlb
from .errors import KernelImageError
from .image import KernelImage, load_image
from .memory import GuestMemory
from .stops import Stop
from .watchpoints import Watchpoints, WatchHit

MIN_RAM_MB, MAX_RAM_MB = 16, 3072


class Machine(Hooks, Execution):
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
        #: Every input as (icount, kind, data, virtual time in ns) when it was delivered.
        self.input_log: list[tuple[int, str, bytes, int]] = []
        self._scheduled: list[tuple[int, str, bytes]] = []  # inputs to replay, by virtual time
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
        self._shutdown: Stop | None = None  # the TRIPLE_FAULT stop, once the CPU shut down
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
        self.input_log.append((self.icount, "keyboard", text.encode(), self.now_ns()))
        self.devices.i8042.type_text(text)

    def press(self, chord: str) -> None:
        """Presses a key chord on the keyboard (``up``, ``ctrl+c``, ...)."""
        self.input_log.append((self.icount, "key", chord.encode(), self.now_ns()))
        self.devices.i8042.press(chord)

    def send_serial(self, data: bytes | str) -> None:
        """Sends bytes to COM1's receiver."""
        raw = data.encode() if isinstance(data, str) else bytes(data)
        self.input_log.append((self.icount, "serial", raw, self.now_ns()))
        self.devices.uart.inject(raw)

    def schedule_input(self, at_ns: int, kind: str, data: bytes) -> None:
        """Delivers an input (``kind`` as in :attr:`input_log`: "keyboard", "key"
        or "serial") when the virtual time reaches ``at_ns`` exactly
        (deterministic mode): replaying a recorded input log reproduces the run."""
        if self.counter is None:
            raise ValueError("replaying inputs needs the deterministic mode")
        self._scheduled.append((at_ns, kind, bytes(data)))
        self._scheduled.sort(key=lambda entry: entry[0])

    @property
    def scheduled_inputs(self) -> tuple:
        """Inputs still waiting for their virtual time, as (at_ns, kind, data), earliest first."""
        return tuple(self._scheduled)

    def _deliver_scheduled(self) -> int | None:
        """Delivers the inputs that are due; returns the virtual time of the next one."""
        while self._scheduled and self._scheduled[0][0] <= self.now_ns():
            _, kind, data = self._scheduled.pop(0)
            if kind == "keyboard":
                self.send_keys(data.decode())
            elif kind == "key":
                self.press(data.decode())
            else:
                self.send_serial(data)
        return self._scheduled[0][0] if self._scheduled else None

    def screen_text(self) -> str:
        """The VGA text screen, 25 lines."""
        return self.devices.vga.screen_text()

    def screenshot(self, path: str | Path) -> Path:
        """Renders the VGA screen to a PNG file."""
        self.devices.vga.render_png(str(path))
        return Path(path)

"""Test doubles for the gdbstub tests: in-memory targets and a raw RSP client.

FakeX86Target is a tiny x86_64 "machine": a register file laid out like
GDB's 64bit-core.xml feature (org.gnu.gdb.i386.core), a bytearray of memory,
software breakpoints, and a ``run`` that "executes" by moving rip to the
next breakpoint above it (or blocks until interrupted when there is none).
"""

from __future__ import annotations

import socket
import threading
from typing import Optional

from gdbstub import (
    DoneStep,
    HistoryStart,
    ResumeAction,
    Signal,
    SignalStop,
    SwBreak,
    TargetError,
)
from gdbstub.framing import Ack, Decoder, Packet, encode_packet

GPRS = "rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15".split()
# (name, bitsize, type) in target-description order; GDB insists on the x87
# registers being part of org.gnu.gdb.i386.core, as in its 64bit-core.xml.
X86_REGS = (
    [(n, 64, "data_ptr" if n in ("rbp", "rsp") else "int64") for n in GPRS]
    + [("rip", 64, "code_ptr"), ("eflags", 32, "int32")]
    + [(n, 32, "int32") for n in "cs ss ds es fs gs".split()]
    + [(f"st{i}", 80, "i387_ext") for i in range(8)]
    + [(n, 32, "int") for n in "fctrl fstat ftag fiseg fioff foseg fooff fop".split()]
)
REG_INDEX = {name: i for i, (name, _, _) in enumerate(X86_REGS)}


def x86_target_xml() -> str:
    """A minimal x86_64 target description with the core feature only."""
    regs = "\n".join(
        f'    <reg name="{n}" bitsize="{b}" type="{t}"/>' for n, b, t in X86_REGS
    )
    return (
        '<?xml version="1.0"?>\n'
        '<!DOCTYPE target SYSTEM "gdb-target.dtd">\n'
        "<target>\n"
        "  <architecture>i386:x86-64</architecture>\n"
        '  <feature name="org.gnu.gdb.i386.core">\n'
        f"{regs}\n"
        "  </feature>\n"
        "</target>\n"
    )


class MinimalTarget:
    """The required target surface only: no description, no capabilities."""

    def __init__(self) -> None:
        self.regs = bytearray(16)
        self.memory = bytearray(range(256))
        self.resumes: list = []

    def read_registers(self) -> bytes:
        return bytes(self.regs)

    def write_registers(self, data: bytes) -> None:
        if len(data) != len(self.regs):
            raise TargetError("bad register block size")
        self.regs[:] = data

    def read_register(self, regno: int) -> bytes:
        if not 0 <= regno < 2:
            raise TargetError("no such register")
        return bytes(self.regs[regno * 8 : regno * 8 + 8])

    def write_register(self, regno: int, value: bytes) -> None:
        if not 0 <= regno < 2 or len(value) != 8:
            raise TargetError("bad register")
        self.regs[regno * 8 : regno * 8 + 8] = value

    def read_memory(self, address: int, length: int) -> bytes:
        if address >= len(self.memory):
            raise TargetError("unmapped")
        return bytes(self.memory[address : address + length])

    def write_memory(self, address: int, data: bytes) -> None:
        if address + len(data) > len(self.memory):
            raise TargetError("unmapped")
        self.memory[address : address + len(data)] = data

    def run(self, resume):
        self.resumes.append(resume)
        return DoneStep() if resume.action == ResumeAction.STEP else SignalStop(Signal.SIGTRAP)

    def interrupt(self) -> None:
        pass

    def target_xml(self, annex: str) -> Optional[str]:
        return None


class FakeX86Target:
    """An in-memory x86_64 target with software breakpoints and monitor commands."""

    def __init__(self, mem_base: int = 0x1000, mem_size: int = 0x1000, blocking: bool = True) -> None:
        #: Without a breakpoint ahead, block until interrupted (else stop at once).
        self.blocking = blocking
        self.values = {name: 0 for name, _, _ in X86_REGS}
        self.values.update(rip=mem_base, rsp=mem_base + mem_size - 8, eflags=0x2, cs=0x8, ss=0x10)
        self.mem_base = mem_base
        self.memory = bytearray(mem_size)
        self.sw_breakpoints: set[int] = set()
        self.resumes: list = []
        self.scripted_stops: list = []  # returned by run() first, in order
        self.detached = 0
        self.killed = 0
        self.monitor_log: list[str] = []
        self.interrupts = 0
        self._interrupt = threading.Event()
        self.running = threading.Event()

    # registers
    def read_register(self, regno: int) -> bytes:
        if not 0 <= regno < len(X86_REGS):
            raise TargetError("no such register")
        name, bits, _ = X86_REGS[regno]
        return self.values[name].to_bytes(bits // 8, "little")

    def write_register(self, regno: int, value: bytes) -> None:
        if not 0 <= regno < len(X86_REGS) or len(value) != X86_REGS[regno][1] // 8:
            raise TargetError("bad register write")
        self.values[X86_REGS[regno][0]] = int.from_bytes(value, "little")

    def read_registers(self) -> bytes:
        return b"".join(self.read_register(i) for i in range(len(X86_REGS)))

    def write_registers(self, data: bytes) -> None:
        if len(data) != sum(b // 8 for _, b, _ in X86_REGS):
            raise TargetError("bad register block size")
        offset = 0
        for i, (_, bits, _) in enumerate(X86_REGS):
            self.write_register(i, data[offset : offset + bits // 8])
            offset += bits // 8

    # memory
    def read_memory(self, address: int, length: int) -> bytes:
        start = address - self.mem_base
        if not 0 <= start < len(self.memory):
            raise TargetError(f"unmapped address {address:#x}")
        return bytes(self.memory[start : start + length])

    def write_memory(self, address: int, data: bytes) -> None:
        start = address - self.mem_base
        if start < 0 or start + len(data) > len(self.memory):
            raise TargetError(f"unmapped address {address:#x}")
        self.memory[start : start + len(data)] = data

    # execution
    def run(self, resume):
        self._interrupt.clear()
        self.resumes.append(resume)
        if self.scripted_stops:
            return self.scripted_stops.pop(0)
        if resume.action == ResumeAction.STEP:
            self.values["rip"] += 1
            return DoneStep()
        ahead = [a for a in self.sw_breakpoints if a > self.values["rip"]]
        if ahead:
            self.values["rip"] = min(ahead)
            return SwBreak()
        if not self.blocking:
            return SignalStop(Signal.SIGINT)
        self.running.set()
        try:
            self._interrupt.wait()
        finally:
            self.running.clear()
        return SignalStop(Signal.SIGINT)

    def interrupt(self) -> None:
        self.interrupts += 1
        self._interrupt.set()

    def target_xml(self, annex: str) -> Optional[str]:
        return x86_target_xml() if annex == "target.xml" else None

    # capabilities
    def add_sw_breakpoint(self, address: int, kind: int) -> bool:
        self.sw_breakpoints.add(address)
        return True

    def remove_sw_breakpoint(self, address: int, kind: int) -> bool:
        if address not in self.sw_breakpoints:
            return False
        self.sw_breakpoints.discard(address)
        return True

    def monitor_command(self, command: str) -> str:
        self.monitor_log.append(command)
        if command == "fail":
            raise TargetError("monitor command failed")
        return f"echo: {command}\n"

    def detach(self) -> None:
        self.detached += 1

    def kill(self) -> None:
        self.killed += 1


class RawClient:
    """A hand-driven RSP client over a socket, for tests of the server.

    The socket timeout is a safety net against hangs, not an assertion.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sock.settimeout(20)
        self.decoder = Decoder(1 << 20)
        self.pending: list = []

    @classmethod
    def connect(cls, address) -> "RawClient":
        return cls(socket.create_connection(address, timeout=20))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_packet(self, payload: bytes) -> None:
        self.sock.sendall(encode_packet(payload))

    def next_event(self):
        while not self.pending:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            self.pending.extend(self.decoder.feed(chunk))
        return self.pending.pop(0)

    def next_packet(self) -> bytes:
        """The next packet's payload, skipping acknowledgements."""
        while True:
            event = self.next_event()
            if isinstance(event, Packet):
                return event.data
            assert isinstance(event, Ack), f"unexpected {event!r}"

    def request(self, payload: bytes) -> bytes:
        """Send a packet and return the reply payload."""
        self.send_packet(payload)
        return self.next_packet()

    def is_closed_by_peer(self) -> bool:
        """Read until EOF; True if the server closed the connection."""
        try:
            while self.sock.recv(4096):
                pass
        except ConnectionResetError:
            pass
        return True

    def close(self) -> None:
        self.sock.close()


class FakeReversingTarget(FakeX86Target):
    """A :class:`FakeX86Target` that also goes backwards: ``rip`` counts steps
    from ``mem_base`` (the beginning of its history); ``bc`` goes back to the
    nearest software breakpoint below ``rip``, else to the beginning."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.reverses: list[str] = []

    def reverse_step(self):
        self.reverses.append("step")
        if self.values["rip"] <= self.mem_base:
            return HistoryStart()
        self.values["rip"] -= 1
        return DoneStep()

    def reverse_continue(self):
        self.reverses.append("continue")
        behind = [a for a in self.sw_breakpoints if self.mem_base <= a < self.values["rip"]]
        if behind:
            self.values["rip"] = max(behind)
            return SwBreak()
        self.values["rip"] = self.mem_base
        return HistoryStart()

"""The adapter without gdb: description, register file, memory, stop mapping, addresses, hand-off."""

from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET

import pytest
from capstone import CS_ARCH_X86, CS_MODE_64, Cs

from gdbstub import (DoneStep, Exited, HwBreak, Resume, ResumeAction, Signal, SignalStop, SwBreak,
                     TargetError, Watch, WatchKind, capabilities)
from rustos_dbg.gdb import Handoff, MachineTarget, parse_address, signal_for_vector, stop_reason
from rustos_dbg.gdb.xml import BLOCK_SIZE, INDEX, REGISTERS, TARGET_XML
from rustos_dbg.machine import Machine, RustosDbgError, Stop, StopKind
from rustos_dbg.testing import PROMPT, run_to_serial

pytestmark = pytest.mark.emulator


@pytest.fixture
def machine(kernel_elf):
    return Machine.boot(kernel_elf)


def test_description_matches_the_register_table():
    root = ET.fromstring(TARGET_XML.split("\n", 2)[2])  # past the XML and DOCTYPE lines
    assert root.find("architecture").text == "i386:x86-64"
    regs = [r for f in root.findall("feature") for r in f.findall("reg")]
    assert [r.get("name") for r in regs] == [r.name for r in REGISTERS]
    assert [int(r.get("regnum")) for r in regs] == list(range(len(REGISTERS)))
    assert [int(r.get("bitsize")) for r in regs] == [r.bits for r in REGISTERS]
    features = [f.get("name") for f in root.findall("feature")]
    assert features[:3] == ["org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.segments"]
    core = [r.name for r in REGISTERS[:40]]
    assert core[16:18] == ["rip", "eflags"] and core[24:32] == [f"st{i}" for i in range(8)]
    assert core[32:] == ["fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"]
    for name in ("cr0", "cr2", "cr3", "cr4", "cr8", "efer", "k_gs_base", "gdtr_base", "idtr_limit", "tr"):
        assert name in INDEX


def test_register_file_reads_and_writes_the_machine(machine):
    target = MachineTarget(machine)
    block = target.read_registers()
    assert len(block) == BLOCK_SIZE
    rip = INDEX["rip"]
    assert int.from_bytes(target.read_register(rip), "little") == machine.reg("rip")
    assert int.from_bytes(target.read_register(INDEX["cr3"]), "little") == machine.reg("cr3")
    assert int.from_bytes(target.read_register(INDEX["efer"]), "little") == machine.reg("efer")
    assert int.from_bytes(target.read_register(INDEX["gdtr_limit"]), "little") == machine.reg("gdtr")[2]
    assert int.from_bytes(target.read_register(INDEX["fctrl"]), "little") == 0x37F
    assert target.read_register(INDEX["ftag"]) == b"\xff\xff\0\0"  # all empty

    target.write_register(INDEX["rbx"], (0xDEADBEEF).to_bytes(8, "little"))
    assert machine.reg("rbx") == 0xDEADBEEF
    target.write_register(INDEX["eflags"], (0x202).to_bytes(4, "little"))
    assert machine.reg("rflags") == 0x202
    target.write_register(INDEX["xmm3"], (1 << 100).to_bytes(16, "little"))
    assert int.from_bytes(target.read_register(INDEX["xmm3"]), "little") == 1 << 100
    target.write_register(INDEX["idtr_limit"], (0xFFF).to_bytes(4, "little"))
    assert machine.reg("idtr")[2] == 0xFFF
    # x87: st0 is the top of the stack; 1.0 is 0x3fff_8000000000000000.
    one = (0x3FFF << 64 | 1 << 63).to_bytes(10, "little")
    target.write_register(INDEX["st0"], one)
    assert target.read_register(INDEX["st0"]) == one

    # A G packet writes back what it read, read-only registers included.
    target.write_registers(target.read_registers())
    with pytest.raises(TargetError):
        target.write_register(INDEX["tr"], (0x28).to_bytes(4, "little"))
    with pytest.raises(TargetError):
        target.write_register(INDEX["rax"], b"\0" * 4)
    with pytest.raises(TargetError):
        target.read_register(len(REGISTERS))


def test_memory_is_virtual_and_unmapped_is_an_error(machine):
    target = MachineTarget(machine)
    entry = machine.reg("rip")
    assert target.read_memory(entry, 16) == machine.read_virtual(entry, 16)
    with pytest.raises(TargetError):
        target.read_memory(0xDEAD_0000_0000, 8)
    target.write_memory(entry, b"\x90")
    assert machine.read_virtual(entry, 1) == b"\x90"
    with pytest.raises(TargetError):
        target.write_memory(0xDEAD_0000_0000, b"\0")
    # Once the kernel has remapped itself, the stack's first page is an unmapped guard:
    # a read running into it returns what was readable before it.
    run_to_serial(machine, PROMPT)
    guard = machine.symbols.find("RUSTOS_MAIN_STACK").address
    assert target.read_memory(guard - 8, 16) == machine.read_virtual(guard - 8, 8)
    with pytest.raises(TargetError):
        target.read_memory(guard, 8)
    before = machine.read_virtual(guard - 4, 4)
    with pytest.raises(TargetError):
        target.write_memory(guard - 4, b"\xaa" * 8)
    assert machine.read_virtual(guard - 4, 4) == before  # all or nothing


def test_capabilities_and_breakpoints_are_hooks(machine):
    target = MachineTarget(machine)
    caps = capabilities(target)
    assert caps.sw_breakpoints and caps.hw_breakpoints and caps.watchpoints
    assert caps.detach and caps.kill
    assert not caps.monitor_command  # given no monitor: qRcmd is not supported
    assert capabilities(MachineTarget(machine, monitor=lambda line: "")).monitor_command
    entry = machine.reg("rip")
    code = machine.read_virtual(entry, 16)
    assert target.add_sw_breakpoint(entry + 1, 1) and target.add_sw_breakpoint(entry + 1, 1)
    assert target.add_hw_breakpoint(entry + 4, 1)
    assert machine.breakpoints.addresses() == [entry + 1, entry + 4]
    assert machine.read_virtual(entry, 16) == code  # memory is never patched
    assert target.run(Resume(ResumeAction.CONTINUE)) == SwBreak()
    assert machine.reg("rip") == entry + 1
    assert target.run(Resume(ResumeAction.STEP)) == DoneStep()
    assert target.run(Resume(ResumeAction.CONTINUE)) == HwBreak()
    assert target.remove_sw_breakpoint(entry + 1, 1) and target.remove_sw_breakpoint(entry + 1, 1)
    target.detach()
    assert machine.breakpoints.addresses() == []


def test_monitor_never_raises(machine):
    def monitor(line):
        if line == "help":
            return "commands"
        if line == "bug":
            raise KeyError
        raise ValueError(f"unknown command '{line}'")

    target = MachineTarget(machine, monitor=monitor)

    assert target.monitor_command("no-such-command") == "error: unknown command 'no-such-command'\n"
    assert target.monitor_command("bug") == "error: KeyError\n"
    assert target.monitor_command("help") == "commands\n"


def test_stop_mapping():
    def stop(kind, **kw):
        return Stop(kind, 0x1000, 5, **kw)

    sw, hw = {0x10}, {0x20}
    assert stop_reason(stop(StopKind.BREAKPOINT, address=0x10), stepping=False, sw=sw, hw=hw) == SwBreak()
    assert stop_reason(stop(StopKind.BREAKPOINT, address=0x20), stepping=False, sw=sw, hw=hw) == HwBreak()
    assert stop_reason(stop(StopKind.BREAKPOINT, address=0x30), stepping=False, sw=sw, hw=hw) == SignalStop(Signal.SIGTRAP)
    assert stop_reason(stop(StopKind.BREAKPOINT, address=0x10), stepping=True, sw=sw, hw=hw) == DoneStep()
    assert stop_reason(stop(StopKind.WATCHPOINT, address=0x40, access="read"), stepping=False, sw=sw, hw=hw) \
        == Watch(WatchKind.READ, 0x40)
    assert stop_reason(stop(StopKind.KERNEL_EXIT, exit_code=33), stepping=False, sw=sw, hw=hw) == Exited(33)
    assert stop_reason(stop(StopKind.TRIPLE_FAULT), stepping=False, sw=sw, hw=hw) == SignalStop(Signal.SIGSEGV)
    assert stop_reason(stop(StopKind.INTERRUPTED), stepping=False, sw=sw, hw=hw) == SignalStop(Signal.SIGINT)
    assert stop_reason(stop(StopKind.TIME_LIMIT), stepping=False, sw=sw, hw=hw) is None
    assert stop_reason(stop(StopKind.EXCEPTION, vector=14), stepping=False, sw=sw, hw=hw) == SignalStop(Signal.SIGSEGV)
    assert (signal_for_vector(0), signal_for_vector(6), signal_for_vector(13)) == (Signal.SIGFPE, Signal.SIGILL, Signal.SIGSEGV)


@pytest.mark.parametrize("text, expected", [
    (None, ("127.0.0.1", 1234)), ("", ("127.0.0.1", 1234)), ("4321", ("127.0.0.1", 4321)),
    (":4321", ("127.0.0.1", 4321)), ("0.0.0.0:99", ("0.0.0.0", 99)), ("tcp::77", ("127.0.0.1", 77)),
    ("[::1]:5", ("::1", 5)), ("localhost:0", ("localhost", 0)),
])
def test_parse_address(text, expected):
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["host:port", "1:99999", "abc"])
def test_parse_address_rejects(text):
    with pytest.raises(RustosDbgError):
        parse_address(text)


class _FakeMachine:
    def __init__(self):
        self.interrupts = 0

    def interrupt(self):
        self.interrupts += 1


def test_handoff_between_the_loop_and_gdb():
    gate = Handoff(_FakeMachine())
    assert not gate.wait_while_owned()
    got = threading.Event()
    threading.Thread(target=lambda: (gate.acquire(), got.set()), daemon=True).start()
    deadline = time.monotonic() + 10
    while not gate.machine.interrupts and time.monotonic() < deadline:
        time.sleep(0.01)
    assert gate.machine.interrupts and not got.is_set()  # asked the running machine to stop
    assert gate.wait_while_owned()  # the loop grants it
    assert got.wait(10) and gate.owned
    gate.release()
    assert not gate.wait_while_owned()
    frozen = Handoff(_FakeMachine(), frozen=True)
    assert frozen.wait_while_owned()
    frozen.acquire()  # already GDB's: no interrupt
    assert frozen.machine.interrupts == 0


def test_steps_keep_interrupts_latched_for_the_next_continue(machine):
    run_to_serial(machine, PROMPT)
    execute = machine.symbols.find("rustos::shell::commands::execute").address
    machine.send_serial(b"echo x\n")
    assert machine.run(until=execute, timeout=30).kind is StopKind.BREAKPOINT
    assert machine.reg("rflags") & (1 << 9)
    machine.devices.pic.raise_irq(0)  # a timer tick is due now
    assert machine.devices.pic.pending()
    target = MachineTarget(machine)
    for _ in range(3):
        assert target.run(Resume(ResumeAction.STEP)) == DoneStep()
        assert machine.symbols.containing(machine.reg("rip")).address == execute  # still in execute
    assert machine.devices.pic.pending()
    # The IRQ0 stub's second instruction (a breakpoint on a handler's first one is
    # skipped when the machine delivers an IRQ between slices: a machine issue).
    stub = machine.symbols.find("trap_stub_32").address
    first = next(Cs(CS_ARCH_X86, CS_MODE_64).disasm(machine.read_virtual(stub, 16), stub))
    target.add_sw_breakpoint(stub + first.size, 1)
    assert target.run(Resume(ResumeAction.CONTINUE)) == SwBreak()
    assert machine.reg("rip") == stub + first.size
    assert not machine.devices.pic.pending()  # delivered by the continue


def test_a_step_of_the_halted_cpu_enters_the_next_interrupt_handler(machine):
    run_to_serial(machine, PROMPT)
    machine.run(stop_when=lambda: machine.halted, timeout=60)
    assert machine.halted
    rip, log = machine.reg("rip"), len(machine.exception_log)
    target = MachineTarget(machine)
    assert target.run(Resume(ResumeAction.STEP)) == DoneStep()
    assert not machine.halted
    assert len(machine.exception_log) == log + 1
    entry = machine.exception_log[-1]
    assert entry.vector >= 32 and entry.rip == rip  # an IRQ, returning after the HLT
    assert machine.symbols.containing(machine.reg("rip")).name == f"trap_stub_{entry.vector}"


def test_monitor_output_is_capped_with_a_note(machine):
    from rustos_dbg.gdb.target import MONITOR_OUTPUT_CAP

    line = "x" * 99 + "\n"
    target = MachineTarget(machine, monitor=lambda command: line * (3 * MONITOR_OUTPUT_CAP // len(line)))
    out = target.monitor_command("anything")
    body, note = out[:-1].rsplit("\n", 1)
    assert len(body) < MONITOR_OUTPUT_CAP and set(body.split("\n")) == {"x" * 99}
    assert note.startswith("output truncated at 1 MiB") and note.endswith("use the REPL or --json")
    short = MachineTarget(machine, monitor=lambda command: line * 3).monitor_command("anything")
    assert short == line * 3


def test_a_streamed_listing_past_the_cap_is_abandoned_not_finished(machine):
    from rustos_dbg.gdb.target import MONITOR_OUTPUT_CAP

    made = []

    def endless(command):
        while True:
            made.append(1)
            yield "y" * 1023 + "\n"

    out = MachineTarget(machine, monitor=endless).monitor_command("dis 0 100000000")
    body, note = out[:-1].rsplit("\n", 1)
    assert note.startswith("output truncated at 1 MiB") and len(body) <= MONITOR_OUTPUT_CAP
    produced = len(made)
    time.sleep(0.3)
    assert len(made) == produced                         # nothing runs on after the cap
    assert produced <= MONITOR_OUTPUT_CAP // 1024 + 20   # at most the buffer's worth beyond it

"""The real gdb against RustOS in the emulator, served in-process by MachineTarget."""

from __future__ import annotations

import time

import pytest
from capstone import CS_ARCH_X86, CS_MODE_64, Cs

from rustos_dbg.inspect.hw.faults import format_deliveries
from gdb_mi_driver import EXECUTE, Gdb, HEAP_CMD, REAL_GDB_MARKS, served_machine, TICKS, TICKS_SYMBOL

pytest.importorskip("pygdbmi.gdbcontroller")

pytestmark = REAL_GDB_MARKS


def _at_heap_cmd(gdb: Gdb, machine, server):
    """Types `heap` into the shell, breaks on heap_cmd and continues there."""
    machine.send_serial(b"heap\n")
    gdb.connect(server.address[1])
    assert "Breakpoint 1 at" in gdb.console(f"break {HEAP_CMD}")
    stopped = gdb.run_until_stopped("-exec-continue")
    assert stopped["reason"] == "breakpoint-hit", stopped
    return stopped


def test_break_on_a_shell_command_backtrace_registers_and_memory(served, gdb_factory):
    machine, target, server = served
    gdb = gdb_factory()
    stopped = _at_heap_cmd(gdb, machine, server)
    heap_cmd = machine.symbols.find(HEAP_CMD)
    pc = int(stopped["frame"]["addr"], 16)
    assert pc == machine.reg("rip")
    assert heap_cmd.address <= pc < heap_cmd.address + heap_cmd.size
    assert not machine.breakpoints.addresses()  # gdb lifts its breakpoints while stopped

    names = [f.get("func", "") for f in gdb.frames()]
    at = names.index(HEAP_CMD)
    assert names[at + 1] == EXECUTE, names
    assert "rustos::shell::shell_task" in names[at + 2], names

    text = gdb.console("info registers rip cr3 efer")
    for name in ("rip", "cr3", "efer"):
        line = next(line for line in text.splitlines() if line.startswith(name))
        assert int(line.split()[1], 16) == machine.reg(name), line
    assert gdb.reg("cr0") == machine.reg("cr0") and gdb.reg("rsp") == machine.reg("rsp")
    assert gdb.reg("eflags") == machine.reg("rflags") & 0xFFFFFFFF
    assert gdb.reg("idtr_base") == machine.reg("idtr")[1]

    ticks = machine.symbols.find(TICKS_SYMBOL).address
    dump = gdb.console(f"x/8gx &{TICKS}")
    words = [int(w, 16) for line in dump.splitlines() for w in line.split(":", 1)[1].split()]
    expected = machine.read_virtual(ticks, 64)
    assert words == [int.from_bytes(expected[i:i + 8], "little") for i in range(0, 64, 8)]

    # Unmapped memory is an error, not zeros.
    assert "Cannot access memory at address 0x0" in gdb.console("x/1gx 0", expect=("error",)) + str(gdb.records[-1])

    # Register and memory writes reach the machine.
    gdb.console("set $r12 = 0x1234abcd")
    assert machine.reg("r12") == 0x1234ABCD
    scratch = machine.reg("rsp") - 0x800  # below the stack pointer: unused stack
    gdb.command(f"-data-write-memory-bytes {scratch:#x} 8877665544332211")
    assert machine.read_virtual(scratch, 8) == (0x1122334455667788).to_bytes(8, "little")


def test_stepi_next_and_finish(served, gdb_factory):
    machine, target, server = served
    gdb = gdb_factory()
    _at_heap_cmd(gdb, machine, server)

    rip, count = machine.reg("rip"), machine.icount
    insn = next(Cs(CS_ARCH_X86, CS_MODE_64).disasm(machine.read_virtual(rip, 16), rip))
    stopped = gdb.run_until_stopped("-exec-step-instruction")
    assert stopped["reason"] == "end-stepping-range"
    if insn.mnemonic not in ("call", "jmp", "ret") and not insn.mnemonic.startswith("j"):
        assert machine.reg("rip") == rip + insn.size
    assert int(stopped["frame"]["addr"], 16) == machine.reg("rip")
    assert machine.icount == count + 1

    where = (stopped["frame"]["fullname"], stopped["frame"]["line"])
    stopped = gdb.run_until_stopped("-exec-next")
    assert stopped["reason"] == "end-stepping-range", stopped
    assert (stopped["frame"]["fullname"], stopped["frame"]["line"]) != where
    assert int(stopped["frame"]["addr"], 16) == machine.reg("rip")

    # Finish out of heap_cmd's own frame (the innermost ones are inlined helpers).
    frames = gdb.frames()
    level = next(f["level"] for f in frames if f.get("func") == HEAP_CMD)
    gdb.command(f"-stack-select-frame {level}")
    stopped = gdb.run_until_stopped("-exec-finish")
    assert stopped["reason"] == "function-finished", stopped
    assert stopped["frame"]["func"] == EXECUTE
    execute = machine.symbols.find(EXECUTE)
    assert execute.address <= machine.reg("rip") < execute.address + execute.size
    assert "heap:" in machine.serial_output.split("rustos> heap", 1)[1]  # the command ran


def test_watchpoint_on_the_tick_counter_stops_in_the_timer_irq(served, gdb_factory):
    machine, target, server = served
    gdb = gdb_factory()
    gdb.connect(server.address[1])
    assert "Hardware watchpoint 1" in gdb.console(f"watch {TICKS}")
    before = int.from_bytes(machine.read_virtual(machine.symbols.find(TICKS_SYMBOL).address, 8), "little")
    stopped = gdb.run_until_stopped("-exec-continue")
    assert stopped["reason"] == "watchpoint-trigger", stopped
    assert "Align8<u64> (%d)" % before in stopped["value"]["old"]
    assert "Align8<u64> (%d)" % (before + 1) in stopped["value"]["new"]
    assert stopped["frame"]["func"] in ("rustos::time::on_tick", "rustos::interrupts::irq::handle")
    # Stopped right after the writing instruction, which is in the IRQ path (on_tick is
    # inlined into the IRQ dispatcher).
    assert target.last_stop.kind.value == "watchpoint"
    writer = int(target.last_stop.message.rsplit("by the instruction at ", 1)[1], 16)
    handle = machine.symbols.find("rustos::interrupts::irq::handle")
    assert handle.address <= writer < machine.reg("rip") < handle.address + handle.size
    insn = next(Cs(CS_ARCH_X86, CS_MODE_64).disasm(machine.read_virtual(writer, 16), writer))
    assert writer + insn.size == machine.reg("rip")
    assert int(stopped["frame"]["addr"], 16) == machine.reg("rip")
    gdb.console("delete")
    assert not machine.watchpoints.list()


def test_hardware_breakpoint(served, gdb_factory):
    machine, target, server = served
    gdb = gdb_factory()
    gdb.connect(server.address[1])
    assert "Hardware assisted breakpoint 1" in gdb.console("hbreak rustos::time::on_tick")
    stopped = gdb.run_until_stopped("-exec-continue")
    assert stopped["reason"] == "breakpoint-hit", stopped
    assert stopped["frame"]["func"] == "rustos::time::on_tick"
    assert target.last_stop.kind.value == "breakpoint"
    assert target.last_stop.address == machine.reg("rip")


def test_ctrl_c_while_the_kernel_idles(served, gdb_factory):
    machine, target, server = served
    gdb = gdb_factory()
    gdb.connect(server.address[1])
    gdb.start("-exec-continue")
    time.sleep(0.5)
    stopped = gdb.run_until_stopped("-exec-interrupt")
    assert stopped["reason"] == "signal-received"
    assert stopped["signal-name"] == "SIGINT"
    assert int(stopped["frame"]["addr"], 16) == machine.reg("rip")
    assert target.last_stop.kind.value == "interrupted"


def test_monitor_runs_repl_commands(served, gdb_factory):
    machine, target, server = served
    gdb = gdb_factory()
    gdb.connect(server.address[1])
    idt = gdb.console("monitor idt")
    gate14 = [line for line in idt.splitlines() if line.split()[:1] == ["14"]]
    assert gate14 and "ist 2" in gate14[0], idt
    assert gdb.console("monitor no-such-command").startswith("error:")


def test_detach_then_attach_again_finds_the_machine_intact(served, gdb_factory):
    machine, target, server = served
    first = gdb_factory()
    first.connect(server.address[1])
    first.console("set breakpoint always-inserted on")  # Z packets now stay while stopped
    first.console(f"break {EXECUTE}")
    first.console(f"watch {TICKS}")
    assert machine.breakpoints.addresses() and machine.watchpoints.list()
    regs = machine.regs()
    first.command("-target-detach")
    assert not machine.breakpoints.addresses() and not machine.watchpoints.list()
    assert machine.regs() == regs

    second = gdb_factory()
    second.connect(server.address[1])
    assert second.reg("rip") == regs["rip"] and second.reg("rsp") == regs["rsp"]
    assert "No breakpoints" in second.console("info breakpoints")

    # A gdb that vanishes without detaching leaves nothing behind either.
    second.console("set breakpoint always-inserted on")
    second.console(f"hbreak {EXECUTE}")
    assert machine.breakpoints.addresses()
    second.mi.gdb_process.kill()
    deadline = time.monotonic() + 10
    while machine.breakpoints.addresses() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not machine.breakpoints.addresses()


@pytest.mark.parametrize("line, catch", [("fault pf", "pf"), ("fault ud", "ud")])
def test_a_caught_exception_is_a_signal(kernel_elf, gdb_factory, line, catch):
    with served_machine(kernel_elf) as (machine, target, server):
        gdb = gdb_factory()
        gdb.connect(server.address[1])
        assert "catching vector" in gdb.console(f"monitor catch {catch}")
        machine.send_serial(f"{line}\n".encode())
        stopped = gdb.run_until_stopped("-exec-continue")
        assert stopped["reason"] == "signal-received", stopped
        assert stopped["signal-name"] == {"pf": "SIGSEGV", "ud": "SIGILL"}[catch]
        assert target.last_stop.kind.value == "exception"
        vector = {"pf": 14, "ud": 6}[catch]
        stub = machine.symbols.find(f"trap_stub_{vector}")
        assert stopped["frame"]["addr"] == f"{stub.address:#018x}"  # at the handler, frame pushed


def test_a_triple_fault_stops_with_sigsegv_and_the_cpu_stays_down(kernel_elf, gdb_factory):
    notes: list = []
    with served_machine(kernel_elf, notify=notes.append) as (machine, target, server):
        gdb = gdb_factory()
        gdb.connect(server.address[1])
        machine.send_serial(b"fault triple\n")
        stopped = gdb.run_until_stopped("-exec-continue")
        assert stopped["signal-name"] == "SIGSEGV", stopped
        assert any("triple fault" in n for n in notes), notes
        # The note shows the chain as the REPL's stop report and `faults` do (one view).
        chain = format_deliveries(target.last_stop.chain, machine.exception_log, machine.symbolize)
        assert chain and chain in notes[-1] and "-> shutdown: fault while delivering #DF" in chain
        rip, count = machine.reg("rip"), machine.icount
        stopped = gdb.run_until_stopped("-exec-continue")
        assert stopped["signal-name"] == "SIGSEGV"
        assert (machine.reg("rip"), machine.icount) == (rip, count)  # nothing ran
        assert "shut down" in notes[-1]
        entry = machine.symbols.find("kernel_main").address
        gdb.console(f"set $rip = {entry:#x}")  # registers stay writable, but the CPU stays down
        assert machine.reg("rip") == entry
        stopped = gdb.run_until_stopped("-exec-step-instruction")
        assert stopped["signal-name"] == "SIGSEGV", stopped
        assert (machine.reg("rip"), machine.icount) == (entry, count)
        assert notes[-1] == "the CPU is shut down (triple fault): nothing runs any more"

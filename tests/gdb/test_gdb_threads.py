"""The kernel's threads and processes as gdb threads, and gdb's `catch syscall`,
with the real gdb against RustOS in the emulator (served by MachineTarget)."""

from __future__ import annotations

import re

import pytest

from gdb_mi_driver import REAL_GDB_MARKS, served_machine
from rustos_dbg.inspect.kernel.syscalls import read_syscall_table

pytest.importorskip("pygdbmi.gdbcontroller")

pytestmark = REAL_GDB_MARKS


def _spin_on_the_cpu(machine, command="run spin"):
    """Starts `spin` from the shell and runs until it is on the CPU in ring 3."""
    machine.send_serial(command + "\n")
    for _ in range(200):
        machine.run(max_instructions=500_000)
        if machine.reg("cs") & 3 == 3 and "spin" in machine.serial_output:
            return
    pytest.fail("spin never ran in ring 3")


def test_info_threads_lists_kernel_threads_and_processes(kernel_elf, gdb_factory):
    with served_machine(kernel_elf) as (machine, target, server):
        _spin_on_the_cpu(machine, "spawn spin")
        gdb = gdb_factory()
        gdb.connect(server.address[1])
        text = gdb.console("info threads")
        # gdb id = the kernel's tid: 1 is the boot thread ("kernel"), 2 the process.
        assert re.search(r"^\s+1\s+Thread 1 \(kernel, ready, ring 0\)", text, re.M), text
        assert re.search(r"^\*\s+2\s+Thread 2 \(spin, running, ring 3\)", text, re.M), text
        ids = gdb.command("-thread-list-ids")
        payload = [r for r in ids if r["type"] == "result"][0]["payload"]
        assert payload["current-thread-id"] == "2" and payload["number-of-threads"] == "2"
        # The running thread's registers are the CPU's: ring 3, in the user half.
        assert gdb.reg("cs") & 3 == 3 and gdb.reg("rip") < 1 << 47


def test_thread_and_bt_in_a_thread_that_is_not_on_the_cpu(kernel_elf, gdb_factory):
    with served_machine(kernel_elf) as (machine, target, server):
        _spin_on_the_cpu(machine)          # the shell's thread waits in join (sleep_ms) for spin
        gdb = gdb_factory()
        gdb.connect(server.address[1])
        assert "Switching to thread 1" in gdb.console("thread 1")
        names = [f.get("func", "") for f in gdb.frames()]
        assert any("sleep_ms" in n for n in names), names
        assert "rustos::thread::join" in names and "rustos::shell::procs::run" in names, names
        # Its registers are its saved context (the thread table's), not the CPU's.
        from rustos_dbg.gdb.threads import read_gdb_threads
        kernel = next(t for t in read_gdb_threads(machine) if t.tid == 1)
        assert gdb.reg("rip") == kernel.saved["rip"] != machine.reg("rip")
        assert gdb.reg("rsp") == kernel.saved["rsp"] and gdb.reg("cs") == 0x08
        # Writing it is refused; the thread on the CPU is still writable.
        out = gdb.command('-interpreter-exec console "set $rax = 5"', expect=("done", "error"))
        assert any(r["type"] == "result" and r["message"] == "error" for r in out), out
        gdb.console("thread 2")
        assert gdb.reg("cs") & 3 == 3
        gdb.console("set $rax = 5")
        assert machine.reg("rax") == 5


def test_before_the_thread_table_is_filled_there_is_one_thread(kernel_elf, gdb_factory):
    with served_machine(kernel_elf, at_prompt=False) as (machine, target, server):
        gdb = gdb_factory()
        gdb.connect(server.address[1])
        text = gdb.console("info threads")
        assert re.search(r"^\*\s+1\s+Thread 1 \(cpu, running, ring 0\)", text, re.M), text
        assert len(re.findall(r"Thread \d+", text)) == 1


def test_a_caught_system_call_stops_gdb_in_the_calling_process(kernel_elf, gdb_factory):
    # gdb's own `catch syscall` needs a GNU/Linux target description (see the README): the
    # REPL's catch, through `monitor`, is reported as a stop (SIGTRAP, with a note).
    notes = []
    with served_machine(kernel_elf, notify=notes.append) as (machine, target, server):
        gdb = gdb_factory()
        gdb.connect(server.address[1])
        assert re.search(r"catching system calls: write \(\d+\)", gdb.console("monitor catch syscall write"))
        machine.send_serial("run hello\n")
        stopped = gdb.run_until_stopped("-exec-continue")
        assert stopped.get("signal-name") == "SIGTRAP" and stopped["thread-id"] == "2", stopped
        write = next(s.number for s in read_syscall_table(machine, machine.image) if s.name == "write")
        assert target.last_stop.kind.value == "syscall" and target.last_stop.syscall == write
        assert any('write(1, "hello from user space, ring ", 28) by 2 (hello)' in n for n in notes), notes
        assert re.search(r"^\*\s+2\s+Thread 2 \(hello, running, ring 3\)", gdb.console("info threads"), re.M)
        assert "hello from user space" not in machine.serial_output
        log = gdb.console("monitor syscalls")
        assert re.search(rf"2 hello\s+{write}  write\(1, \"hello from user space, ring \", 28\) = \.\.\.", log), log


def test_until_the_dwarf_is_read_the_stub_answers_with_one_thread_and_asks_again(kernel_elf, monkeypatch):
    import threading

    from rustos_dbg.gdb import threadview

    monkeypatch.setattr(threadview, "DWARF_WAIT_SECONDS", 0.01)
    with served_machine(kernel_elf) as (machine, target, server):
        machine.send_serial("spawn spin\r")
        machine.run(max_instructions=20_000_000)
        ready = target.dwarf_ready
        target.dwarf_ready = threading.Event()  # as if the background read were still going on
        assert target.thread_ids() == [1] and target.current_thread() == 1
        target.dwarf_ready = ready
        ids = target.thread_ids()  # the one-thread answer was not kept
        assert len(ids) >= 2 and 1 in ids

"""System calls from ring 3: the machine's trace, `syscalls` and `catch syscall` in the REPL,
on the real kernel (`run hello`). Names and argument kinds come from the kernel's
RUSTOS_SYSCALLS table."""

import re

import pytest

from rustos_dbg import Machine
from rustos_dbg.inspect.kernel.syscalls import read_syscall_log, read_syscall_table, to_json
from rustos_dbg.machine.exlog import CHUNK, ExceptionLog
from rustos_dbg.machine.stops import StopKind
from rustos_dbg.machine.syscalls import SyscallCall, SyscallReturn
from rustos_dbg.repl import CommandError
from rustos_dbg.repl.session import Session
from rustos_dbg.testing import PROMPT

pytestmark = pytest.mark.emulator

HELLO = "hello from user space, ring "


def _at_prompt(kernel_elf):
    m = Machine.boot(kernel_elf)
    session = Session(m)                      # installs the describer
    assert m.run_until_serial(PROMPT) is None
    return m, session


def _numbers(m):
    return {s.name: s.number for s in read_syscall_table(m, m.image)}


def test_the_table_is_the_kernels(kernel_elf):
    m, _ = _at_prompt(kernel_elf)
    table = {s.name: s for s in read_syscall_table(m, m.image)}
    assert {"exit", "write", "yield", "sleep", "uptime", "getpid"} <= set(table)
    assert len({s.number for s in table.values()}) == len(table)         # one row per number
    assert table["write"].args == ("fd", "buf", "len") and table["exit"].args == ("code",)


def test_run_hello_shows_write_with_its_string_and_result(kernel_elf):
    m, session = _at_prompt(kernel_elf)
    before = m.snapshot()
    m.send_serial("run hello\n")
    assert m.run_until_serial("exited with", max_instructions=50_000_000) is None
    log = read_syscall_log(m, m.image)
    calls = [(r.pid, r.process, r.name) for r in log.records]
    assert calls[0] == (2, "hello", "write") and calls[-1][2] == "exit", calls
    first = log.records[0]
    assert first.args == f'1, "{HELLO}", {len(HELLO)}' and first.result == len(HELLO)
    assert first.icount < first.returned_at
    getpid = next(r for r in log.records if r.name == "getpid")
    assert getpid.result == 2 and getpid.args == ""
    assert log.records[-1].result is None                      # exit never returns
    nr = _numbers(m)
    text = session.execute("syscalls")
    assert re.search(rf'^\s+\d+\s+2 hello\s+{nr["write"]}  write\(1, "{HELLO}", {len(HELLO)}\) = {len(HELLO)}$', text, re.M), text
    assert re.search(rf"^\s+\d+\s+2 hello\s+{nr['exit']}  exit\(0\) = \.\.\.$", text, re.M), text
    assert session.execute("syscalls 1").count("\n") == 2       # header, columns, one row
    assert '"name": "write"' in to_json(log)
    m.restore(before)                                           # the log is machine history
    assert read_syscall_log(m, m.image).records == ()


def test_catch_syscall_write_stops_before_it_runs(kernel_elf):
    m, session = _at_prompt(kernel_elf)
    write = _numbers(m)["write"]
    assert session.execute("catch syscall write") == f"catching system calls: write ({write})"
    assert f"write ({write})" in session.execute("catch")
    m.send_serial("run hello\n")
    stop = m.run(max_instructions=50_000_000)
    assert stop.kind is StopKind.SYSCALL and stop.syscall == write and stop.phase == "entry", stop.describe()
    assert f'write(1, "{HELLO}", {len(HELLO)}) by 2 (hello)' in stop.describe()
    assert HELLO not in m.serial_output                         # the handler has not run yet
    assert m.reg("cs") & 3 == 0 and m.reg("rip") == m.symbols.find("trap_stubs").address + 16 * 0x80
    assert session.execute("uncatch syscall") == "catching no system call"
    assert m.run_until_serial("exited with", max_instructions=50_000_000) is None
    assert HELLO in m.serial_output


def test_catch_syscall_rejects_an_unknown_name(kernel_elf):
    m, session = _at_prompt(kernel_elf)
    names = ", ".join(s.name for s in read_syscall_table(m, m.image))
    with pytest.raises(CommandError) as error:
        session.execute("catch syscall frobnicate")
    assert str(error.value) == f"no system call 'frobnicate' (the kernel has: {names})"
    assert not m.syscalls.catch and not m.syscalls.catch_all


def test_recording_the_log_does_not_change_the_run(kernel_elf):
    runs = []
    for record in (True, False):
        m = Machine.boot(kernel_elf)
        if not record:
            m.syscalls.disable()
        else:
            Session(m)
        assert m.run_until_serial(PROMPT) is None
        m.send_serial("run hello\nrun hello\n")
        m.run(max_instructions=3_000_000)
        calls = len(m.syscalls.calls())
        runs.append((m.icount, m.reg("rip"), m.serial_output, m.snapshot().digests()["ram"], calls))
    (icount, rip, out, ram, calls), (icount2, rip2, out2, ram2, none) = runs
    assert out.count(HELLO) == 2 and calls >= 10 and none == 0
    assert (icount, rip, out, ram) == (icount2, rip2, out2, ram2)


def test_the_log_is_bounded_and_counts_older_calls_by_number():
    log = ExceptionLog(2 * CHUNK, fold_key=lambda e: e.vector)
    for i in range(5 * CHUNK):
        log.append(SyscallCall(i, 7, (0, 0, 0), 0, 0) if i % 2 == 0 else SyscallReturn(i, i - 1, 0))
    assert log.kept <= 2 * CHUNK and log.folded == {7: (len(log) - log.kept) // 2}

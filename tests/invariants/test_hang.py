"""Hang detection on the real kernel: a deadlock and an IRQ left without EOI stop the run
as HANG with what a kernel developer needs; `set hang-timeout`."""

import re

import pytest

from rustos_dbg import Machine, StopKind
from rustos_dbg.repl.registry import CommandError
from rustos_dbg.repl.session import Session


def at_shell(kernel_elf, command):
    m = Machine.boot(kernel_elf, history=True)
    m.hang.timeout_ns = 10_000_000  # 10 virtual ms
    assert m.run_until_serial("rustos> ") is None
    m.send_serial(command + "\n")
    return m


def test_deadlock_names_the_lock_the_spinner_and_the_holder(kernel_elf):
    m = at_shell(kernel_elf, "fault deadlock")
    stop = m.run(max_instructions=100_000_000)
    assert stop.kind is StopKind.HANG, stop.describe()
    assert re.search(r"deadlock: rustos::interrupts::irq::handle\+0x[0-9a-f]+ spins on "
                     r"rustos::interrupts::irq::DEADLOCK_DEMO \(0x[0-9a-f]+\) in IRQ 0, interrupts off for "
                     r"1\d\.\d ms", stop.message), stop.message
    held = re.search(r"taken at instruction (\d+) \(\d+ instructions, [\d.]+ ms ago\) by "
                     r"rustos::fault::trigger_deadlock\+0x[0-9a-f]+ .* in task \d+ with interrupts on, "
                     r"then again in IRQ 0$", stop.message)
    assert held, stop.message
    assert m.icount == stop.icount  # the holder was found in the past, and the machine came back
    lock = m.resolve("rustos::interrupts::irq::DEADLOCK_DEMO")
    assert m.last_write(lock, 1).icount >= int(held.group(1))
    # `locks` says the same from the lock's side, and leaves the machine where it is.
    text = Session(m).execute("locks")
    first = text.splitlines()[:3]
    assert re.match(r"HELD   rustos::interrupts::irq::DEADLOCK_DEMO \(spin::Mutex, word 0x[0-9a-f]+\)$", first[0])
    assert re.match(rf"\s+taken at icount {held.group(1)} by 0x[0-9a-f]+ <rustos::fault::trigger_deadlock\+0x[0-9a-f]+>"
                    r".* in task \d+, interrupts on, \d+ instructions \([\d.]+ ms\) ago$", first[1]), first
    assert re.match(r"\s+spinning: the CPU at 0x[0-9a-f]+ <rustos::interrupts::irq::handle\+0x[0-9a-f]+> in IRQ 0$",
                    first[2]), first
    assert m.icount == stop.icount


def test_missing_eoi_is_a_hang_naming_the_irq(kernel_elf):
    m = at_shell(kernel_elf, "fault noeoi")
    stop = m.run(max_instructions=100_000_000)
    assert stop.kind is StopKind.HANG, stop.describe()
    assert stop.message.startswith("IRQ 0 in service without EOI for 1")
    assert m.devices.pic.isr & 1


def test_a_healthy_shell_does_not_hang_and_the_timeout_is_settable(kernel_elf):
    m = at_shell(kernel_elf, "echo fine")
    stop = m.run(max_instructions=30_000_000)
    assert stop.kind is StopKind.INSTRUCTION_LIMIT, stop.describe()
    s = Session(m)
    assert s.execute("set hang-timeout 250") == "hang detection: a stop after 250 virtual ms without progress"
    assert m.hang.timeout_ns == 250_000_000
    assert s.execute("set hang-timeout off") == "hang detection: off"
    with pytest.raises(CommandError, match="^the hang timeout must be at least 1 ms"):
        s.execute("set hang-timeout 0")


def test_rustos_dbg_run_reports_a_hang_and_exits_4(kernel_elf):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "rustos_dbg", "run", str(kernel_elf), "--headless", "--timeout", "120"],
                          input="fault noeoi\n", capture_output=True, text=True, timeout=300)
    assert done.returncode == 4, (done.returncode, done.stderr)
    assert "fault noeoi: the next timer IRQ ends without EOI" in done.stdout
    assert re.search(r"^rustos-dbg: hang at 0x[0-9a-f]+ after \d+ instructions: IRQ 0 in service without EOI for "
                     r"10\d\.\d ms", done.stderr, re.M), done.stderr

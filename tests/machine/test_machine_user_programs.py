"""User programs in the emulator: ring 3 entered and left through the IDT, and a
program loaded into the frames another one used runs its own code (the kernel
writes them through its physical-memory window, which Unicorn does not watch
for translated code: machine/codecache.py)."""

import pytest

from rustos_dbg import Machine
from rustos_dbg.testing import PROMPT

pytestmark = pytest.mark.emulator


def _shell(machine: Machine, line: str) -> str:
    start = len(machine.serial_output)
    machine.send_serial(line + "\n")
    assert machine.run_until_serial(PROMPT, timeout=60) is None
    return machine.serial_output[start:]


@pytest.mark.parametrize("mode", ["deterministic", "fast"])
def test_programs_in_reused_frames_run_their_own_code(rustos_elf, mode):
    machine = Machine.boot(rustos_elf, mode=mode)
    assert machine.run_until_serial(PROMPT, timeout=60) is None
    for _ in range(2):                                     # each program gets the frames the last one freed
        hello = _shell(machine, "run hello")
        assert "hello from user space, ring 3" in hello and "exited with 0" in hello, hello
        null = _shell(machine, "run nullderef")
        assert "killed by page fault (#PF): vector 14, error code 0x4 (not present, read, user)" in null, null
        assert "CR2 0x0, rip 0x400035, ring 3" in null and "exited with -15" in null, null
    assert machine.context_fields.cpl(machine.uc) == 0     # back in the kernel


def test_a_user_run_is_deterministic_with_or_without_a_breakpoint_in_ring_3(rustos_elf):
    def run(breakpoint: bool) -> tuple[int, str]:
        machine = Machine.boot(rustos_elf)
        assert machine.run_until_serial(PROMPT, timeout=60) is None
        _shell(machine, "run hello")
        if breakpoint:
            machine.breakpoints.add(0x400035)              # nullderef's load of address 0, in ring 3
        machine.send_serial("run nullderef\n")
        stop = machine.run_until_serial("exited with", timeout=60)
        if breakpoint:
            assert stop is not None and stop.rip == 0x400035 and machine.context_fields.cpl(machine.uc) == 3
            machine.breakpoints.remove(0x400035)
            assert machine.run_until_serial("exited with", timeout=60) is None
        return machine.icount, machine.serial_output

    assert run(False) == run(True)

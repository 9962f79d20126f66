"""The debugging triggers `fault overrun`, `fault deadlock` and `fault noeoi` in QEMU."""

import re

import pytest
from qemu import run_qemu

pytestmark = pytest.mark.qemu


def test_overrun_corrupts_a_free_block_and_the_allocator_faults_later(kernel_elf):
    # The first overrun leaves a 64-byte free list whose third node is "OVERRUN!";
    # the second one allocates 64-byte blocks again and pops it: a #GP in the allocator.
    run = run_qemu(kernel_elf, stdin=b"fault overrun\necho between\nfault overrun\n",
                   until=r"general protection|halting", timeout=60)
    first = re.search(r"fault overrun: wrote 8 bytes past the block at (0x[0-9a-f]+), "
                      r"into the free block at (0x[0-9a-f]+)", run.output)
    assert first, run.output[-2000:]
    assert int(first.group(2), 16) == int(first.group(1), 16) + 64
    assert re.search(r"^between\r?$", run.output, re.M)
    assert "general protection" in run.output[first.end():], run.output[-2000:]


def test_deadlock_and_noeoi_announce_themselves(kernel_elf):
    run = run_qemu(kernel_elf, stdin=b"fault noeoi\n", until=r"ends without EOI", timeout=60)
    assert "fault noeoi: the next timer IRQ ends without EOI" in run.output
    run = run_qemu(kernel_elf, stdin=b"fault deadlock\n", until=r"the timer IRQ takes it next", timeout=60)
    assert "fault deadlock: DEADLOCK_DEMO taken with interrupts on" in run.output

"""`fault lostwake` in QEMU: three nappers start, the first two wake on QEMU's own timer and finish.
(That the third never wakes, and why, is tests/asynctasks/test_lost_wakeup.py's, in the emulator.)"""

import re

import pytest
from qemu import run_qemu

pytestmark = pytest.mark.qemu


def test_lostwake_announces_itself_and_the_other_nappers_wake(kernel_elf):
    run = run_qemu(kernel_elf, stdin=b"fault lostwake\n", until=r"woke after 2\d ms", timeout=60)
    found = re.search(r"fault lostwake: tasks (\d+)-(\d+) nap; the timer will drop task (\d+)'s waker", run.output)
    assert found, run.output[-2000:]
    assert int(found.group(2)) - int(found.group(1)) == 2 and found.group(2) == found.group(3)
    woke = re.findall(r"napper: woke after (\d+) ms", run.output)
    assert len(woke) == 2 and 10 <= int(woke[0]) < 20 <= int(woke[1]) < 30, woke

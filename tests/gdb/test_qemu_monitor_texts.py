"""``monitor info registers`` and ``monitor xp`` print what QEMU's monitor prints (gef parses them).

Both machines sit at the shell prompt of the same kernel: ``xp`` of the loaded
kernel image must be byte-for-byte QEMU's text; ``info registers`` must have
QEMU's lines and fields in QEMU's order, and the same GDT and IDT lines.
"""

import re

import pytest
from qemu_monitor import QemuWithMonitor

from rustos_dbg import Machine
from rustos_dbg.repl.monitor import GdbMonitor
from rustos_dbg.repl.registry import CommandError
from rustos_dbg.repl.session import Session
from rustos_dbg.testing import PROMPT

pytestmark = pytest.mark.emulator

XP = ("xp/4xg 0x100000", "xp/10xb 0x100000", "xp/3dw 0x100010", "xp/5uh 0x100020", "xp/2xw 0x100100")


def _fields(text: str) -> list[list[str]]:
    return [re.findall(r"([A-Z][A-Z0-9]*) ?=", line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def qemu_texts(rustos_elf, tmp_path_factory):
    qemu = QemuWithMonitor(rustos_elf, tmp_path_factory.mktemp("qemu") / "monitor.sock")
    try:
        qemu.serial_until(PROMPT.encode(), 0)
        return {line: qemu.command(line) for line in XP + ("info registers",)}
    finally:
        qemu.close()


@pytest.fixture(scope="module")
def monitor(rustos_elf):
    machine = Machine.boot(rustos_elf)
    assert machine.run_until_serial(PROMPT, timeout=60) is None
    gdb_monitor = GdbMonitor(Session(machine))
    return lambda line: "".join(gdb_monitor(line))   # its output, joined as gdb shows it


@pytest.mark.parametrize("line", XP)
def test_xp_prints_qemus_text(qemu_texts, monitor, line):
    assert monitor(line) == qemu_texts[line]


def test_info_registers_has_qemus_layout(qemu_texts, monitor):
    theirs = qemu_texts["info registers"]
    ours = monitor("info registers")
    # QEMU goes on after EFER with the FPU and SSE registers, which we leave out.
    theirs = theirs[:theirs.index("EFER=")] + theirs[theirs.index("EFER="):].splitlines()[0]
    assert ours.splitlines()[0] == theirs.splitlines()[0] == "CPU#0"
    assert _fields(ours) == _fields(theirs)
    for key in ("GDT=", "IDT=", "CS =", "DS =", "LDT=", "TR =", "DR6=", "EFER="):
        assert next(l for l in ours.splitlines() if l.startswith(key)) == \
               next(l for l in theirs.splitlines() if l.startswith(key))


def test_info_version_and_bad_xp(monitor):
    assert monitor("info version").endswith("(rustos-dbg)")
    with pytest.raises(CommandError, match="unknown format or unit 'q'"):
        monitor("xp/4q 0x1000")

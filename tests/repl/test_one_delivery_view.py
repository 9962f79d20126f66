"""One model and one view of an exception delivery: the REPL's stop report, the
``faults`` log and the CLI's triple-fault chain show a delivery in the same lines
(gdb's stop note: tests/gdb/test_gdb_kernel.py)."""

import re
import subprocess
import sys

import pytest

from rustos_dbg.inspect.hw.faults import decode_entry, format_record
from rustos_dbg.repl import Session

pytestmark = pytest.mark.emulator


def _record_lines(text: str) -> list[str]:
    """The lines that render one delivery, without indentation."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_stop_report_and_faults_log_show_a_page_fault_alike(rustos_machine):
    machine = rustos_machine
    session = Session(machine)
    session.execute("catch pf")
    machine.send_serial(b"fault pf 0xdeadbeef000\n")
    report = session.execute("continue")
    assert report.startswith("exception 14 caught"), report
    entry = machine.exception_log[-1]
    index = len(machine.exception_log) - 1
    expected = [line.strip() for line in format_record(decode_entry(entry, index, machine.symbolize))]
    assert expected[0].startswith(f"[{index}] icount {entry.icount}: vector 14 #PF page fault (exception) error 0x0")
    assert "cr2 0xdeadbeef000" in expected[2] and "trap_stub_14" in expected[3]
    faults = session.execute("faults 1")
    assert _record_lines(faults)[1:] == expected
    assert all(line in _record_lines(report) for line in expected), report


def test_cli_triple_fault_chain_is_the_faults_view(rustos_elf):
    out = subprocess.run([sys.executable, "-m", "rustos_dbg", "run", str(rustos_elf), "--headless", "--timeout", "60"],
                         input="fault triple\n", capture_output=True, text=True, timeout=120)
    assert out.returncode == 3, out.stderr
    heads = re.findall(r"^  \[\d+\] icount \d+: vector (\d+) ", out.stderr, re.M)
    assert heads == ["3", "13", "8", "13"], out.stderr
    assert "-> shutdown: fault while delivering #DF" in out.stderr

"""README's "A user program faults", end to end through the real CLI in batch mode.

The commands are read from the README's block (so the walk-through and the
test cannot drift apart) and run with ``rustos-dbg debug ELF -ex ...`` on the
real kernel. The key lines of the block must appear in the run's output, and
the facts behind them are checked against independent sources: the #PF error
code bits (Intel SDM Vol. 3A §4.7), the nullderef ELF read with pyelftools
(where ``nullderef::main`` reads address 0), and the kernel's fault report
(kernel/src/thread/mod.rs)."""

import re

import pytest
from elftools.elf.elffile import ELFFile

from .repl_helpers import ROOT, error_lines, run_cli

pytestmark = [pytest.mark.emulator, pytest.mark.timeout(300)]

PROMPT_LINE = re.compile(r"^\(rustos-dbg[^)]*\) (\S.*?)(?:\s{2,}#.*)?$")
#: Lines of the README block that the run must print as they are (no kernel addresses in them).
KEY_LINES = (
    "rip 0x400035 <nullderef::main+0x15>  cr2 0x0",
    "error code: P=0 W=0 U=1 RSVD=0 I=0 (not present, read, user)",
    "<interrupt: vector 14 (#PF page fault) error 0x4>  rip 0x400035 rsp 0x7ffffffefee8 rflags 0x202  from ring 3",
    "#1  0x0000000000400035 in nullderef::main+0x15",
    "#5  0x0000000000400017 in _start+0x17",
    "user read: #PF error 0x4 P=0 W=0 U=1 RSVD=0 I=0 (not present, read, user)",
    "process 2 (nullderef) killed by page fault (#PF): vector 14, error code 0x4 (not present, read, user), "
    "CR2 0x0, rip 0x400035, ring 3",
)


def readme_block() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("### A user program faults", 1)[1]
    return section.split("```", 2)[1]


def readme_commands() -> list[str]:
    commands = []
    for line in readme_block().splitlines():
        match = PROMPT_LINE.match(line)
        if match:
            commands.append(match.group(1).replace("\\\\n", "\\n"))
    return commands


def nullderef_main(elf):
    with open(elf.parent / "user" / "nullderef", "rb") as fh:
        f = ELFFile(fh)
        sym = next(s for s in f.get_section_by_name(".symtab").iter_symbols() if s.name.endswith("9nullderef4main"))
        start = sym["st_value"]
        text = f.get_section_by_name(".text")
        code = text.data()[start - text["sh_addr"]: start - text["sh_addr"] + sym["st_size"]]
    return start, code


@pytest.fixture(scope="module")
def run(rustos_elf):
    commands = readme_commands()
    assert commands[:3] == ["catch pf", 'type "run nullderef\\n"', "continue"], commands
    done = run_cli(rustos_elf, *commands)
    assert "Traceback" not in done.stderr and error_lines(done.stderr) == [], done.stderr
    return done


def test_the_walkthrough_key_lines_are_in_the_readme_and_in_the_run(run):
    block = readme_block()
    for line in KEY_LINES:
        assert line in block, f"README lost {line!r}"
        assert line in run.stdout, f"the run did not print {line!r}:\n{run.stdout}"


def test_the_fault_is_the_programs_read_of_address_0(run, rustos_elf):
    start, code = nullderef_main(rustos_elf)
    # nullderef::main+0x15 is `mov rax, [0]` (48 8b 04 25 00 00 00 00): the read of address 0.
    assert code[0x15:0x15 + 8] == bytes.fromhex("488b042500000000")
    assert f"rip {start + 0x15:#x} <nullderef::main+0x15>  cr2 0x0" in run.stdout
    # error 0x4: P=0 (not present), W/R=0 (read), U/S=1 (from ring 3), per the SDM's bit layout.
    assert "vector 14 #PF page fault (exception) error 0x4" in run.stdout


def test_bt_crosses_from_the_kernel_through_the_trap_frame_into_the_program(run):
    traces = re.findall(r"(?ms)^#0 .*?^\(end of the frame chain \(rbp = 0\)\)", run.stdout)
    at_hook = next(t for t in traces if "rustos::thread::fault_hook" in t).splitlines()
    trap = next(i for i, line in enumerate(at_hook) if line.startswith("<interrupt: vector 14"))
    kernel, user = at_hook[:trap], at_hook[trap + 1:-1]
    assert kernel[0].endswith("in rustos::thread::fault_hook") and kernel[-1].split(" in ")[1].startswith("trap_common")
    assert all(int(line.split()[1], 16) >> 63 for line in kernel)
    names = [line.split(" in ")[1] for line in user]
    assert names[0] == "nullderef::main+0x15" and names[1].startswith("_start+0x") and len(names) == 2
    assert all(int(line.split()[1], 16) < 1 << 47 for line in user)


def test_ps_and_thread_show_the_process_and_the_shell(run):
    rows = re.findall(r"^\s+(\d+) (\S+)\s+(\w+)\s+(\d)\s+\d+\s+(0x[0-9a-f]+)", run.stdout, re.M)
    assert [r[:4] for r in rows] == [("1", "kernel", "ready", "0"), ("2", "nullderef", "running", "3")]
    nullderef_cr3 = rows[1][4]
    assert f"walk 0x0 (CR3 {nullderef_cr3})" in run.stdout          # walked in the process's space
    assert "thread 1 kernel (ready, ring 0): saved context" in run.stdout
    shell_bt = run.stdout.split("thread 1 kernel (ready", 1)[1]
    assert "in rustos::shell::procs::run+0x" in shell_bt.split("(end of the frame chain", 1)[0]

"""The fault workflow of the README, through the real CLI in batch mode:

    rustos-dbg debug ELF -ex 'catch pf' -ex 'type "fault pf 0xdeadbeef000\\n"' \\
        -ex continue -ex 'walk $cr2' -ex bt -ex stepi -ex tss

Expected values come from the Intel SDM (#PF error-code bits, the frame the
CPU pushes), the kernel's ELF read with pyelftools and the kernel's sources
(kernel/src/shell/commands.rs, docs/kernel-structures.md), not from the
product's own models.
"""

import re

import pytest

from .repl_helpers import elf_symbol, error_lines, run_cli, stop_icount

pytestmark = [pytest.mark.emulator, pytest.mark.timeout(180)]

FAULT_ADDR = 0xDEADBEEF000
COMMANDS = ("catch pf", 'type "fault pf 0xdeadbeef000\\n"', "continue", "walk $cr2", "bt", "stepi", "tss")
# Where each command's output starts (batch mode prints them one after the other).
MARKERS = (("catch", "catching vector 14"), ("type", "typed 23 characters"), ("continue", "exception 14 caught"),
           ("walk", f"walk {FAULT_ADDR:#x}"), ("bt", "#0 "), ("stepi", "step at "), ("tss", "TSS selector"))


@pytest.fixture(scope="module")
def workflow(rustos_elf):
    done = run_cli(rustos_elf, *COMMANDS)
    sections, last = {}, 0
    positions = []
    for name, marker in MARKERS:
        at = done.stdout.find(marker, last)
        assert at >= 0, f"no output of {name!r} ({marker!r}) after offset {last}:\n{done.stdout}"
        positions.append((name, at))
        last = at + 1
    for (name, at), (_, end) in zip(positions, positions[1:] + [(None, len(done.stdout))]):
        sections[name] = done.stdout[at:end]
    return done, sections


def test_the_batch_run_succeeds_quietly(workflow):
    done, _ = workflow
    assert done.returncode == 0, done.stderr
    assert error_lines(done.stderr) == []


def test_the_stop_report_names_vector_14_and_decodes_the_frame(workflow, rustos_elf):
    _, out = workflow
    report = out["continue"]
    stub14, _ = elf_symbol(rustos_elf, "trap_stub_14")
    assert re.match(rf"exception 14 caught at {stub14:#x} after \d+ instructions", report), report
    assert re.search(r"vector 14 #PF page fault \(exception\) error 0x0\n(.*\n)*\s+-> 0x[0-9a-f]+ <trap_stub_14> on IST 2", report), report
    # #PF uses IST2 (docs/kernel-structures.md §7): the frame is on RUSTOS_PF_STACK
    frame = re.search(r"frame at (0x[0-9a-f]+) \(IST2\)", report)
    assert frame, report
    pf_stack, pf_size = elf_symbol(rustos_elf, "RUSTOS_PF_STACK")
    top = pf_stack + pf_size
    # SS, RSP, RFLAGS, CS, RIP and the error code: 6 qwords below the (aligned) IST top
    assert int(frame.group(1), 16) == top - 6 * 8
    # a read of a not-present page in supervisor mode: P=0 W=0 U=0 I=0, error code 0
    assert re.search(r"error code 0x0 \(P=0 W=0 U=0 RSVD=0 I=0 \(not present, read, supervisor\)\), "
                     rf"CR2 {FAULT_ADDR:#x}\b", report), report
    assert "cs 0x8" in report and "ss 0x10" in report
    assert "(interrupted at rustos::recovery::catch::<rustos::shell::commands::fault_cmd" in report
    assert f"{stub14:#x} <trap_stub_14>: push 0xe" in report


def test_walk_of_cr2_shows_the_missing_pml4e_and_the_pf_codes(workflow):
    _, out = workflow
    walk = out["walk"]
    pml4_index = (FAULT_ADDR >> 39) & 0x1FF
    entries = re.findall(r"^\s+(PML4E|PDPTE|PDE|PTE)\s+\[\s*(\d+)\].*$", walk, re.M)
    assert entries == [("PML4E", str(pml4_index))], walk
    assert re.search(r"PML4E \[\s*27\] at 0x[0-9a-f]+ = 0x0{16}  not present", walk), walk
    assert "-> not mapped: entry not present at PML4E" in walk
    # SDM Vol. 3A §4.7: W/R is bit 1, I/D is bit 4; P (bit 0) is clear for a not-present page
    assert re.search(r"supervisor read: #PF error 0x0 P=0 W=0 U=0 RSVD=0 I=0", walk), walk
    assert re.search(r"supervisor write: #PF error 0x2 P=0 W=1 U=0 RSVD=0 I=0", walk), walk
    assert re.search(r"supervisor execute: #PF error 0x10 P=0 W=0 U=0 RSVD=0 I=1", walk), walk


def test_bt_goes_through_the_interrupt_frame_into_fault_cmd_and_execute(workflow):
    _, out = workflow
    lines = out["bt"].splitlines()
    assert re.match(r"#0\s+0x[0-9a-f]+ in trap_stub_14$", lines[0]), lines[0]
    assert lines[1].startswith("<interrupt: vector 14 (#PF page fault) error 0x0>"), lines[1]
    interrupted = re.search(r"rip (0x[0-9a-f]+)", lines[1]).group(1)
    frame_rip = re.search(r"\brip (0x[0-9a-f]+)\s+cs", out["continue"]).group(1)
    assert interrupted == frame_rip
    names = [re.sub(r"\+0x[0-9a-f]+$", "", line.split(" in ", 1)[1]) for line in lines if " in " in line]
    assert "rustos::shell::commands::fault_cmd" in names, names
    assert "rustos::shell::commands::execute" in names, names
    assert names.index("rustos::shell::commands::fault_cmd") < names.index("rustos::shell::commands::execute")
    assert names[-1] == "kernel_entry"


def test_stepi_executes_one_instruction_of_the_stub(workflow):
    _, out = workflow
    assert stop_icount(out["stepi"]) == stop_icount(out["continue"]) + 1
    assert "<trap_stub_14+0x2>" in out["stepi"]   # `push 0xe` is 2 bytes


def test_tss_shows_ist2_in_use_on_the_pf_stack(workflow, rustos_elf):
    _, out = workflow
    pf_stack, pf_size = elf_symbol(rustos_elf, "RUSTOS_PF_STACK")
    ist2 = next(line for line in out["tss"].splitlines() if line.strip().startswith("IST2"))
    assert f"{pf_stack + pf_size:#018x}  RUSTOS_PF_STACK top" in ist2, ist2
    depth = re.search(r"live depth (0x[0-9a-f]+)", ist2)
    assert depth, ist2
    # the CPU's 6 qwords plus the stub's `push 0xe`
    assert int(depth.group(1), 16) == 7 * 8
    assert f"guard {pf_stack:#x} unmapped" in ist2
    ist1 = next(line for line in out["tss"].splitlines() if line.strip().startswith("IST1"))
    assert "RUSTOS_DF_STACK" in ist1 and "live depth" not in ist1

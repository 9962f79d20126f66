"""`thread N`, `walk/maps --pid N` and user programs' symbols, on the real kernel.

Expected addresses come from the user programs' ELFs (build/user/NAME, read
with pyelftools) and the kernel's sources (kernel/src/process/mod.rs: programs
linked at 0x400000, the user stack below 0x7fff_ffff_0000), not from the
debugger's own models."""

import re

import pytest
from elftools.elf.elffile import ELFFile

from rustos_dbg.repl import CommandError
from rustos_dbg.repl.app import prompt_text
from rustos_dbg.testing import PROMPT

from .repl_helpers import error_lines, run_cli

pytestmark = [pytest.mark.emulator, pytest.mark.timeout(300)]

USER_BASE = 0x400000
REGS_RIP = re.compile(r"^rip (0x[0-9a-f]+)(?: <(.*)>)?$", re.M)


def user_symbol(elf, program, name):
    """(start, end) of ``name`` in build/user/PROGRAM, found by the symbol's raw (mangled) name."""
    with open(elf.parent / "user" / program, "rb") as fh:
        for s in ELFFile(fh).get_section_by_name(".symtab").iter_symbols():
            if s.name == name or (s.name.startswith("_R") and s.name.endswith(name)):
                return s["st_value"], s["st_value"] + s["st_size"]
    raise AssertionError(f"no {name} in {program}")


def rip_of(regs_text):
    match = REGS_RIP.search(regs_text)
    assert match, regs_text
    return int(match.group(1), 16), match.group(2)


@pytest.fixture
def spin_session(session):
    """A session stopped at the kernel's `ps` with `spin` preempted in ring 3 (pid 2)."""
    m = session.machine
    m.send_serial("spawn spin\n")
    assert m.run_until_serial(PROMPT, max_instructions=20_000_000) is None
    m.run(max_instructions=30_000_000)
    m.send_serial("ps\n")
    session.execute("break shell::procs::ps")
    assert "breakpoint at" in session.execute("continue")
    rows = re.findall(r"^\s+(\d+) (\S+)\s+(\w+)\s+(\d)", session.execute("threads"), re.M)
    assert ("2", "spin", "ready", "3") in rows, rows
    return session


def test_thread_n_selects_a_preempted_process_regs_and_walk_show_it(spin_session, rustos_elf):
    s = spin_session
    start, end = user_symbol(rustos_elf, "spin", "_start")
    kernel_rip, kernel_name = rip_of(s.execute("regs"))
    assert kernel_name.startswith("rustos::shell::procs::ps")

    threads = s.execute("threads")      # where spin left the CPU, named by spin's own symbols
    assert re.search(r"^\s+2 spin .*0x[0-9a-f]+ <_start\+0x[0-9a-f]+> \(ring 3\)$", threads, re.M), threads
    shown = s.execute("thread 2")
    assert shown.startswith("thread 2 spin (ready, ring 3): saved context (left the CPU by vector 32"), shown
    rip, name = rip_of(s.execute("regs"))
    assert start <= rip < end and name == f"_start+{rip - start:#x}"
    assert prompt_text(s) == "(rustos-dbg thread 2 spin) "
    assert s.execute("thread").startswith("thread 2 spin (ready, ring 3)")
    assert s.execute("bt").splitlines()[0].endswith(f"in _start+{rip - start:#x}")
    assert s.execute("dis").splitlines()[0].startswith(f"=> {rip:#018x}")
    assert s.execute(f"dis {start:#x} 1").splitlines()[0] == "<_start>:"
    assert s.execute("sym $rip") == f"{rip:#x} is _start+{rip - start:#x}"

    # Its address space maps the program; the shell's (pid 1) does not.
    walk = s.execute(f"walk {USER_BASE:#x}")
    assert "(4 KiB page, R-X, user)" in walk and "<_start>" in walk
    assert "-> not mapped" in s.execute(f"walk {USER_BASE:#x} --pid 1")
    assert "R-X, user" in s.execute(f"walk {USER_BASE:#x} --pid=2")

    assert s.execute("thread none").startswith("selection cleared")
    assert s.selection is None and rip_of(s.execute("regs"))[0] == kernel_rip
    assert "-> not mapped" in s.execute(f"walk {USER_BASE:#x}")       # the CPU's space: the shell's


def test_thread_in_json(spin_session):
    import json

    spin_session.json = True
    ctx = json.loads(spin_session.execute("thread 2"))
    assert ctx["thread"]["name"] == "spin" and ctx["on_cpu"] is False and ctx["left_by"] == 32
    assert dict(ctx["registers"])["cs"] & 3 == 3


def test_the_running_thread_selects_the_cpu(spin_session):
    s = spin_session
    before = s.execute("regs")
    assert "the CPU's registers" in s.execute("thread 1")
    assert s.execute("regs") == before
    assert s.selection.registers == {} and s.selection.cr3 is None


def test_maps_pid_lists_the_process_pages(spin_session):
    s = spin_session
    rows = {line.split()[0]: line for line in s.execute("maps --pid 2").splitlines()[2:]}
    assert f"{USER_BASE:#x}" in rows and " R-X  U-" in rows[f"{USER_BASE:#x}"]
    assert "0x7ffffffe0000" in rows and " RW-  U-" in rows["0x7ffffffe0000"]
    spin_cr3 = int(re.search(r"^\s+2 spin .*?(0x[0-9a-f]+)  ", s.execute("threads"), re.M).group(1), 16)
    assert s.execute("maps --pid 2").splitlines()[0] == f"address space of CR3 {spin_cr3:#x}"
    assert not re.search(r"^\s+0x400000 ", s.execute("maps --pid 1"), re.M)
    assert not re.search(r"^\s+0x400000 ", s.execute("maps"), re.M)          # the CPU's: the shell's
    s.execute("thread 2")
    assert s.execute("maps") == s.execute("maps --pid 2")                   # maps follows the selection


def test_a_syscall_from_ring3_backtraces_kernel_frames_the_trap_frame_then_user_frames(session, rustos_elf):
    s = session
    s.execute("break process::syscall::dispatch")
    s.machine.send_serial("run hello\n")
    assert "breakpoint at" in s.execute("continue")
    lines = s.execute("bt").splitlines()
    trap = next(i for i, line in enumerate(lines) if line.startswith("<interrupt: vector 128 "))
    assert lines[0].endswith("in rustos::process::syscall::dispatch")
    assert any("trap_common" in line for line in lines[:trap])
    assert lines[trap].endswith("from ring 3")
    user = lines[trap + 1:]
    write = user_symbol(rustos_elf, "hello", "rustos_user5write")
    main = user_symbol(rustos_elf, "hello", "hello4main")
    pcs = [int(line.split()[1], 16) for line in user if line.startswith("#")]
    assert write[0] <= pcs[0] < write[1] and "in rustos_user::write+0x" in user[0]
    assert any(main[0] <= pc < main[1] for pc in pcs[1:]), user
    assert "in _start+0x" in user[-2] and user[-1] == "(end of the frame chain (rbp = 0))"


BAD = [
    ("thread 99", "no thread or process with id 99 (live: 1, 2)"),
    ("thread abc", "thread: 'abc' is not a thread id"),
    ("thread 0", "ids start at 1"),
    ("thread 1 2", "usage: thread [N|none]"),
    ("walk 0x400000 --pid", "walk: --pid needs a thread id"),
    ("walk 0x400000 --pid 7", "no thread or process with id 7"),
    ("maps --pid x", "maps: 'x' is not a thread id"),
    ("maps extra", "maps: unexpected 'extra'"),
]


@pytest.mark.parametrize("line,needle", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_line(spin_session, line, needle):
    with pytest.raises(CommandError) as info:
        spin_session.execute(line)
    assert "\n" not in str(info.value) and needle in str(info.value), str(info.value)


def test_bad_thread_ids_in_batch_mode(rustos_elf):
    done = run_cli(rustos_elf, "thread 5", "thread x", "maps --pid 3", "sym kernel_main")
    errors = error_lines(done.stderr)
    assert "Traceback" not in done.stderr and len(errors) == 3, done.stderr
    assert all(e.startswith("error: ") for e in errors)
    assert "live: none" in errors[0]         # stopped at the entry: no thread yet
    assert "kernel_main at 0x" in done.stdout and done.returncode == 1

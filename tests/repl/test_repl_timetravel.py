"""Time travel in the REPL, on the real kernel: reverse-stepi, reverse-continue,
reverse-finish, reverse-next, goto, when, last, checkpoint/restart, the prompt in
the past, gdb's monitor, ``run`` recording again, and bad input."""

import pytest

from rustos_dbg import Machine
from rustos_dbg.repl import CommandError, Session
from rustos_dbg.repl.app import prompt_text
from rustos_dbg.repl.monitor import GdbMonitor
from rustos_dbg.repl.runcontrol import Limits
from rustos_dbg.testing import PROMPT, run_to_serial

from .repl_helpers import elf_function, elf_symbol

pytestmark = [pytest.mark.emulator, pytest.mark.timeout(300)]

EXECUTE = "rustos::shell::commands::execute"
REGS = ("rip", "rsp", "rbp", "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r15", "rflags", "cr3")


@pytest.fixture
def tt(rustos_elf):
    """A Session on a machine recording its history from the boot (checkpoints every
    1M instructions), at the shell prompt."""
    machine = Machine.boot(rustos_elf, history=True)
    machine.history.interval = 1_000_000
    run_to_serial(machine, PROMPT)
    return Session(machine)


def regs(machine):
    return {r: machine.reg(r) for r in REGS}


def to_execute(session, line='echo a\\n'):
    """Sends a shell line and runs to the breakpoint at the shell's execute; its stop."""
    session.execute(f"break {EXECUTE}")
    session.execute(f'serial "{line}"')
    text = session.execute("continue")
    assert text.startswith("breakpoint"), text
    return session.last_stop


def test_reverse_stepi_and_stepi_round_trip(tt):
    m = tt.machine
    tt.execute("stepi 50")
    here, before, state = m.icount, regs(m), m.snapshot().digests()
    text = tt.execute("rsi 7")
    assert m.icount == here - 7 and f"at instruction {here - 7} of {m.history.end}" in text
    assert prompt_text(tt) == f"(rustos-dbg @{here - 7}/{m.history.end}) "
    tt.execute("reverse-stepi")
    assert m.icount == here - 8
    tt.execute("stepi 8")
    assert m.icount == here and regs(m) == before and m.snapshot().digests() == state
    assert prompt_text(tt) == "(rustos-dbg) "


def test_reverse_continue_to_a_breakpoint_then_the_beginning(tt):
    m = tt.machine
    hit = to_execute(tt)
    tt.execute("delete")
    run_to_serial(m, PROMPT)
    tt.execute(f"break {EXECUTE}")
    text = tt.execute("rc")
    assert text.startswith("breakpoint") and m.icount == hit.icount and m.reg("rip") == hit.rip, text
    text = tt.execute("reverse-continue")
    assert "the beginning of the recorded history" in text and m.icount == m.history.start


def test_reverse_continue_to_a_watchpoint_shows_old_and_new(tt):
    m = tt.machine
    ticks, _ = elf_symbol(m.image.path, "RUSTOS_TICKS")
    m.run(max_instructions=2_000_000, timeout=60)
    value = int.from_bytes(m.read_virtual(ticks, 8), "little")
    assert value > 0
    tt.execute("watch RUSTOS_TICKS 8")
    text = tt.execute("rc")
    assert text.startswith(f"watchpoint (write) on {ticks:#x}"), text
    assert f"old {value - 1:#x} -> new {value:#x}" in text
    assert int.from_bytes(m.read_virtual(ticks, 8), "little") == value


def test_reverse_finish_lands_on_the_call_instruction_in_the_caller(tt):
    m = tt.machine
    hit = to_execute(tt)
    return_address = int.from_bytes(m.read_virtual(m.reg("rsp"), 8), "little")   # at the entry: [rsp]
    tt.execute("stepi 3")
    start, size = elf_function(m.image.path, EXECUTE)
    assert start <= m.reg("rip") < start + size                 # still in execute
    text = tt.execute("reverse-finish")
    assert text.startswith(f"run back to the call of {EXECUTE}"), text
    assert m.icount == hit.icount - 1
    rip = m.reg("rip")
    assert not start <= rip < start + size
    from capstone import CS_ARCH_X86, CS_MODE_64, Cs

    insn = next(Cs(CS_ARCH_X86, CS_MODE_64).disasm(m.read_virtual(rip, 16), rip))
    assert insn.mnemonic == "call" and rip + insn.size == return_address


def test_reverse_next_goes_back_to_the_start_of_the_previous_line(tt):
    m = tt.machine
    to_execute(tt)
    tt.execute("delete")
    tt.execute("next")
    previous, line = m.icount, m.source_line(m.reg("rip"))
    tt.execute("next")
    assert m.icount > previous and m.source_line(m.reg("rip")) != line
    text = tt.execute("reverse-next")
    assert m.icount == previous and m.source_line(m.reg("rip")) == line, text


def test_goto_when_and_input_in_the_past(tt):
    m = tt.machine
    end = m.icount
    assert tt.execute("when").startswith(f"instruction {end} of 0-{end}, checkpoint ")
    assert "the present" in tt.execute("when")
    tt.execute(f"goto {end // 2}")
    assert m.icount == end // 2
    when = tt.execute("when")
    assert when.startswith(f"instruction {end // 2} of 0-{end}") and f"goto {end}" in when
    assert prompt_text(tt) == f"(rustos-dbg @{end // 2}/{end}) "
    for line in ('type "x"', 'serial "x"', "key enter"):
        with pytest.raises(CommandError, match="in the past") as error:
            tt.execute(line)
        assert "\n" not in str(error.value)
    tt.execute(f"goto {end}")
    assert m.icount == end and prompt_text(tt) == "(rustos-dbg) "
    assert tt.execute('serial "echo z\\n"').startswith("sent")


def test_last_names_the_timer_path_with_old_and_new(tt):
    m = tt.machine
    m.run(max_instructions=3_500_000, timeout=60)
    ticks, _ = elf_symbol(m.image.path, "RUSTOS_TICKS")
    now = m.icount
    text = tt.execute("last RUSTOS_TICKS 8")
    assert m.icount == now
    value = int.from_bytes(m.read_virtual(ticks, 8), "little")
    assert "<rustos::interrupts::irq::" in text, text
    assert f"({value - 1:#x}) -> new " in text and text.endswith(f"({value:#x})"), text
    every = tt.execute("last RUSTOS_TICKS 8 --all").splitlines()
    news = [line.rsplit("(", 1)[1] for line in every if "-> new" in line]
    assert news == [f"{value - k:#x})" for k in range(10)]
    assert m.icount == now


def test_last_on_a_heap_free_list_head_shows_the_allocator_path(tt):
    m = tt.machine
    m.send_serial(b"echo freed strings\n")         # the shell allocates and frees while running it
    run_to_serial(m, PROMPT)
    heap, size = elf_symbol(m.image.path, "RUSTOS_HEAP")
    raw = m.read_virtual(heap, size)
    lists = heap + raw.index(b"BLKS")                 # BlockLists (kernel/core/src/blocks.rs)
    classes = int.from_bytes(m.read_virtual(lists + 8, 4), "little")
    heads = lists + 16 + 8 * classes                  # magic, version, class_count, pad; sizes[]; heads[]
    used = [c for c in range(classes) if int.from_bytes(m.read_virtual(heads + 8 * c, 8), "little")]
    assert used, "no free block in any size class at the prompt"
    text = tt.execute(f"last {heads + 8 * used[0]:#x} 8")
    head = int.from_bytes(m.read_virtual(heads + 8 * used[0], 8), "little")
    assert "instruction" in text and text.endswith(f"({head:#x})"), text
    where = text.splitlines()[1]
    assert "heap" in where or "blocks" in where or "alloc" in where, where


def test_checkpoints_restart_and_info(tt):
    m = tt.machine
    first = m.icount
    assert tt.execute("checkpoint before").startswith(f"checkpoint 1 'before' at instruction {first}")
    state = m.snapshot().digests()
    m.run(max_instructions=2_500_000, timeout=60)
    assert tt.execute("checkpoint").startswith(f"checkpoint 2 at instruction {m.icount}")
    info = tt.execute("info checkpoints")
    assert "automatic checkpoints (instruction counts): 0, 1000" in info
    assert f"  1  instruction {first}" in info and "'before'" in info and f"  2  instruction {m.icount}" in info
    second, later = m.icount, m.snapshot().digests()
    for number, icount, digests in ((1, first, state), (2, second, later), (1, first, state), (2, second, later)):
        assert tt.execute(f"restart {number}").startswith("step at")   # any order, any number of times
        assert m.icount == icount and m.snapshot().digests() == digests
    tt.execute("restart 1")
    with pytest.raises(CommandError, match="no checkpoint 7"):
        tt.execute("restart 7")


def test_run_reboots_and_records_again(tt):
    tt.execute("checkpoint")
    tt.limits = Limits(instructions=2_000_000)
    text = tt.execute("run")
    m = tt.machine
    assert text.startswith("rebooted") and m.icount == 2_000_000
    assert m.history.enabled and m.history.start == 0
    assert "no explicit checkpoints" in tt.execute("info checkpoints")
    tt.execute("rsi 5")
    assert m.icount == 2_000_000 - 5


def test_monitor_refuses_the_moving_commands_and_allows_the_looking_ones(tt):
    gdb_monitor = GdbMonitor(tt)

    def monitor(line):
        return "".join(gdb_monitor(line))

    here = tt.machine.icount
    for line in ("rsi", "reverse-continue", "reverse-finish", "reverse-next", "goto 5", "restart 1"):
        with pytest.raises(CommandError, match="the machine is gdb's") as error:
            monitor(line)
        assert "\n" not in str(error.value)
    assert monitor("when").startswith(f"instruction {here}")
    ticks, _ = elf_symbol(tt.machine.image.path, "RUSTOS_TICKS")
    assert monitor("last RUSTOS_TICKS 8").startswith(f"{ticks:#x} <RUSTOS_TICKS> (8 bytes), before instruction {here}")
    assert "automatic checkpoints" in monitor("info checkpoints")
    assert tt.machine.icount == here


BAD = [("goto 999999999999", "outside the history"), ("goto -1", "outside the history"), ("goto", "usage: goto ICOUNT"),
       ("goto zz", "'zz'"), ("rsi 0", "at least 1"), ("last 0xffff900000000000 8", "0xffff900000000000"),
       ("last RUSTOS_TICKS 0", "out of range"), ("restart 3", "no checkpoint 3"), ("rc now", "usage")]


def test_bad_input_is_one_line_and_leaves_the_machine(tt):
    m = tt.machine
    here, state = m.icount, m.snapshot().digests()
    for line, needle in BAD:
        with pytest.raises(CommandError) as error:
            tt.execute(line)
        message = str(error.value)
        assert "\n" not in message and needle in message, (line, message)
    assert m.icount == here and m.snapshot().digests() == state


def test_reverse_commands_without_history_are_one_line_errors(session):
    m = session.machine
    here, state = m.icount, m.snapshot().digests()
    for line in ("rsi", "reverse-continue", "reverse-finish", "reverse-next", "goto 5", "last RUSTOS_TICKS 8"):
        with pytest.raises(CommandError, match="no history is recorded") as error:
            session.execute(line)
        assert "\n" not in str(error.value)
    assert session.execute("when") == f"instruction {here} (no history recorded)"
    assert m.icount == here and m.snapshot().digests() == state


def test_the_cli_records_history_and_travels_in_batch_mode(rustos_elf):
    from .repl_helpers import error_lines, run_cli

    done = run_cli(rustos_elf, "until rustos::shell::start", "when", "rsi 3", "when", "goto 999999999999",
                   "goto 0", "when")
    assert done.returncode == 1, done.stderr
    whens = [line for line in done.stdout.splitlines() if line.startswith("instruction ")]
    assert len(whens) == 3, done.stdout
    now = int(whens[0].split()[1])
    assert whens[0].startswith(f"instruction {now} of 0-{now}") and "the present" in whens[0]
    assert whens[1].startswith(f"instruction {now - 3} of 0-{now}") and "in the past" in whens[1]
    assert whens[2].startswith(f"instruction 0 of 0-{now}, checkpoint 0")
    errors = error_lines(done.stderr)
    assert len(errors) == 1 and errors[0].startswith("error: instruction 999999999999 is outside the history")

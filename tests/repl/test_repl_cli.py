"""The real CLI: `--json`, `-x FILE`, the order of -ex and -x lines, `quit`, and
commands on standard input when it is not a terminal."""

import json

import pytest

from .repl_helpers import elf_symbol, error_lines, run_cli

pytestmark = [pytest.mark.emulator, pytest.mark.timeout(180)]

# the IDT is loaded during kernel_main; rustos::shell::start runs after it
TO_SHELL = "until rustos::shell::start"


def test_json_idt_14_gives_the_trap_stub_as_handler(rustos_elf):
    done = run_cli(rustos_elf, TO_SHELL, "idt 14", json_output=True)
    assert (done.returncode, error_lines(done.stderr)) == (0, []), done.stderr
    entry = json.loads(done.stdout.splitlines()[-1])
    stub, _ = elf_symbol(rustos_elf, "trap_stub_14")
    assert entry["vector"] == 14 and entry["handler"] == stub
    assert (entry["present"], entry["ist"], entry["selector"], entry["dpl"]) == (True, 2, 0x08, 0)
    assert entry["handler_symbol"] == "trap_stub_14" and entry["vector_name"] == "#PF page fault"


def test_json_inspectors_print_valid_json(rustos_elf):
    done = run_cli(rustos_elf, TO_SHELL, "walk $rip", "tss", "x/2gx $rsp", json_output=True)
    assert done.returncode == 0, done.stderr
    outputs = done.stdout.splitlines()[-3:]
    walk, tss, dump = (json.loads(line) for line in outputs)
    start, size = elf_symbol(rustos_elf, "kernel_main")
    assert walk["ok"] and walk["permissions"] == "R-X"
    assert [s["stack"] for s in tss["ist"][:4]] == ["RUSTOS_DF_STACK", "RUSTOS_PF_STACK", "RUSTOS_NMI_STACK",
                                                     "RUSTOS_MC_STACK"]
    assert dump["unit"] == 8 and len(dump["lines"][0]["values"]) == 2
    # stopped at the entry of rustos::shell::start: the top of the stack is the return address into kernel_main
    assert start <= dump["lines"][0]["values"][0] < start + size
    assert dump["lines"][0]["symbols"][0].startswith("kernel_main+0x")


def test_x_file_runs_its_commands_in_order(rustos_elf, tmp_path):
    script = tmp_path / "commands.rdbg"
    script.write_text("# a comment line is skipped\n\n"
                      f"{TO_SHELL}\n"
                      "  idt 14\n"
                      "sym RUSTOS_TICKS\n"
                      "walk 12z\n"
                      "sym kernel_main\n")
    done = run_cli(rustos_elf, "sym trap_stub_3", scripts=[script])
    out = done.stdout
    stub14, _ = elf_symbol(rustos_elf, "trap_stub_14")
    ticks, _ = elf_symbol(rustos_elf, "RUSTOS_TICKS")
    main, _ = elf_symbol(rustos_elf, "kernel_main")
    pieces = ["trap_stub_3 at", "breakpoint at", f"{stub14:#018x} <trap_stub_14>", f"RUSTOS_TICKS at {ticks:#x}",
              f"kernel_main at {main:#x}"]
    positions = [out.find(p) for p in pieces]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), out   # -ex first, then the file
    assert error_lines(done.stderr) == ["error: malformed number '12z'"]
    assert done.returncode == 1


def test_quit_ends_the_batch(rustos_elf):
    done = run_cli(rustos_elf, "sym kernel_main", "quit", "frobnicate", "sym kernel_entry")
    assert (done.returncode, error_lines(done.stderr)) == (0, [])
    assert "kernel_main at" in done.stdout and "kernel_entry" not in done.stdout


def test_commands_on_standard_input(rustos_elf):
    done = run_cli(rustos_elf, stdin="sym kernel_main\nidt 300\n\n# comment\nsym kernel_entry\n")
    assert "kernel_main at" in done.stdout and "kernel_entry at" in done.stdout
    assert error_lines(done.stderr) == ["error: vector 300 is out of range (0-255)"]
    assert done.returncode == 1


def test_kernel_inspectors_use_the_debugged_elf_not_the_default(rustos_elf, tmp_path):
    """`debug OTHER.elf`: heap/tasks decode with OTHER.elf's DWARF, whatever $RUSTOS_ELF says."""
    import os
    import shutil
    import subprocess
    import sys

    other = tmp_path / "other.elf"
    shutil.copy(rustos_elf, other)
    env = {**os.environ, "RUSTOS_ELF": str(tmp_path / "missing.elf")}
    result = subprocess.run([sys.executable, "-m", "rustos_dbg", "debug", str(other),
                             "-ex", "until rustos::shell::start", "-ex", "heap", "-ex", "tasks"],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "check: ok" in result.stdout and "ready queue" in result.stdout

"""WASM programs from the ramdisk on the real kernel in the emulator: `wasm
/ram/hello.wasm` prints its line, a runaway module stops at its fuel limit,
each trap is one line, a bad module or import too, and the shell goes on."""

import struct
import sys
from pathlib import Path

import pytest

from rustos_dbg import Machine
from rustos_dbg.testing import PROMPT, run_to_serial

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from mkinitrd import build  # noqa: E402

pytestmark = pytest.mark.emulator

BUDGET = 2_000_000_000


def shell(machine: Machine, line: str) -> str:
    start = len(machine.serial_output)
    machine.send_serial(line + "\n")
    run_to_serial(machine, PROMPT, timeout=300, max_instructions=BUDGET)
    return machine.serial_output[start:].split("\n", 1)[1].rsplit(PROMPT, 1)[0].replace("\r", "")


def missing_import_module() -> bytes:
    """A module importing rustos.nope, written byte by byte (core spec §5.5)."""
    def section(sid: int, body: bytes) -> bytes:
        return bytes([sid, len(body)]) + body
    types = section(1, bytes([1, 0x60, 0, 0]))
    imports = section(2, bytes([1, 6]) + b"rustos" + bytes([4]) + b"nope" + bytes([0, 0]))
    return b"\0asm" + struct.pack("<I", 1) + types + imports


@pytest.fixture(scope="module")
def machine(rustos_elf, tmp_path_factory):
    initrd = ROOT / "build" / "initrd.tar"
    members = [(name, (ROOT / "build" / "wasm" / name).read_bytes()) for name in ("hello.wasm", "spin.wasm", "trap.wasm")]
    members += [("noimport.wasm", missing_import_module()), ("cut.wasm", members[0][1][:40])]
    path = tmp_path_factory.mktemp("wasm") / "initrd.tar"
    path.write_bytes(build(members))
    assert initrd.is_file(), "scripts/build-kernel writes build/initrd.tar"
    m = Machine.boot(rustos_elf, initrd=path)
    run_to_serial(m, PROMPT, timeout=120)
    return m


def test_hello_prints_its_line_and_arguments(machine):
    assert shell(machine, "wasm /ram/hello.wasm") == "hello from wasm\n"
    assert shell(machine, "wasm /ram/hello.wasm a bc") == "hello from wasm\narg: a\narg: bc\n"


def test_a_runaway_module_stops_at_its_fuel_limit(machine):
    out = shell(machine, "wasm --fuel 200000 /ram/spin.wasm")
    assert out == "error: wasm: /ram/spin.wasm: trap: out of fuel after 200000 instructions\n"
    assert shell(machine, "echo alive") == "alive\n"


@pytest.mark.parametrize("kind, error", [
    ("oob", "trap: out-of-bounds memory access (4 bytes at 0x7fff0000)"),
    ("div", "trap: integer divide by zero"),
    ("deep", "trap: call stack exhausted (more than 64 frames)"),
    ("unreachable", "trap: unreachable executed"),
])
def test_each_trap_is_one_line_and_the_shell_goes_on(machine, kind, error):
    assert shell(machine, f"wasm /ram/trap.wasm {kind}") == f"error: wasm: /ram/trap.wasm: {error}\n"
    assert shell(machine, "wasm /ram/hello.wasm") == "hello from wasm\n"


def test_bad_modules_and_paths_are_one_line(machine):
    assert shell(machine, "wasm /ram/noimport.wasm") == "error: wasm: /ram/noimport.wasm: missing import rustos.nope\n"
    assert shell(machine, "wasm /ram/cut.wasm").startswith("error: wasm: /ram/cut.wasm: malformed module: ")
    assert shell(machine, "wasm /ram/none.wasm") == "error: wasm: /ram/none.wasm: no such file\n"
    assert shell(machine, "wasm") == "error: usage: wasm [--fuel N] PATH [ARGS]\n"
    assert shell(machine, "wasm --fuel x /ram/spin.wasm") == "error: wasm: --fuel needs a positive number of instructions\n"
    assert shell(machine, "wasm /ram/trap.wasm") == "usage: trap.wasm oob|div|deep|unreachable\n/ram/trap.wasm: exited with 2\n"


def test_help_wasm_gives_its_usage(machine):
    assert shell(machine, "help wasm") == "  wasm [--fuel N] PATH [ARGS]\n    run a WASM program (/ram/NAME)\n"

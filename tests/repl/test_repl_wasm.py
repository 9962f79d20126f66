"""The REPL's `wasm` and `ramdisk` inspectors on the real kernel: instances, fuel, memory and
the WASM call stack named from the module's name section (read from the
ramdisk in guest memory), as text and JSON; and the name-section reader."""

import json
from pathlib import Path

import pytest

from rustos_dbg import Machine
from rustos_dbg.inspect.kernel.wasmnames import function_names
from rustos_dbg.repl import Session
from rustos_dbg.testing import PROMPT, run_to_serial

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def session(rustos_elf):
    initrd = Path(rustos_elf).with_name("initrd.tar")
    machine = Machine.boot(rustos_elf, initrd=initrd)
    run_to_serial(machine, PROMPT, timeout=120)
    return Session(machine)


def shell(session, line: str) -> None:
    session.machine.send_serial(line + "\n")
    run_to_serial(session.machine, PROMPT, timeout=120)


def test_names_come_from_the_name_section_and_imports():
    names = function_names((ROOT / "build" / "wasm" / "trap.wasm").read_bytes())
    assert names == {0: "print", 1: "arg", 2: "load_far", 3: "divide", 4: "recurse", 5: "main"}, "main is named by its export"
    assert function_names(b"not wasm") == {} and function_names(b"\0asm\x01\0\0\0\x00\x7f") == {}


@pytest.mark.emulator
def test_wasm_before_any_run(session):
    assert session.execute("wasm").splitlines() == [
        "wasm: 0 run(s) since boot, 0 running", "no instance has run (shell: wasm /ram/NAME.wasm)"]


@pytest.mark.emulator
def test_a_trapped_instance_keeps_its_call_stack(session):
    shell(session, "wasm /ram/trap.wasm deep")
    text = session.execute("wasm")
    lines = text.splitlines()
    assert lines[0] == "wasm: 1 run(s) since boot, 0 running"
    assert lines[1] == "instance 0: /ram/trap.wasm trapped"
    assert "memory 1 page(s);" in lines[2] and "fuel " in lines[2] and "of 5000000" in lines[2]
    assert lines[3] == "  call stack (64 frame(s), innermost first):"
    assert lines[4] == "    #0  func 4 recurse"
    assert lines[-1] == "    #63 func 5 main"
    session.json = True
    data = json.loads(session.execute("wasm"))
    inst = data["instances"][0]
    assert (inst["state"], inst["memory_pages"], len(inst["stack"])) == ("trapped", 1, 64)
    assert inst["stack"][0] == {"index": 4, "name": "recurse"} and data["problems"] == []


@pytest.mark.emulator
def test_a_running_instance_shows_fuel_growing(session):
    m = session.machine
    m.send_serial("wasm /ram/spin.wasm\n")
    m.run(max_instructions=30_000_000)
    first = json.loads(_json(session))["instances"][0]
    m.run(max_instructions=30_000_000)
    second = json.loads(_json(session))["instances"][0]
    assert first["state"] == second["state"] == "running"
    assert first["stack"] == [{"index": 0, "name": "forever"}]
    assert 0 < first["fuel_used"] < second["fuel_used"] <= 5_000_000


def _json(session) -> str:
    session.json = True
    try:
        return session.execute("wasm")
    finally:
        session.json = False


@pytest.mark.emulator
def test_ramdisk_lists_the_module_like_ls_ram(session):
    from rustos_dbg.machine.boot_pvh import initrd_address

    size = Path(session.machine.initrd).stat().st_size
    lines = session.execute("ramdisk").splitlines()
    at = initrd_address(session.machine.ram_bytes, size)
    assert lines[0] == f"ramdisk: mounted at /ram, phys {at:#x}-{at + size:#x} ({size} bytes)"
    assert [line.split()[-1] for line in lines[1:]] == ["README.txt", "hello.wasm", "snake.wasm", "spin.wasm", "trap.wasm"]
    session.json = True
    data = json.loads(session.execute("ramdisk"))
    assert data["state"] == "mounted" and data["files"][1]["name"] == "hello.wasm" and data["problems"] == []

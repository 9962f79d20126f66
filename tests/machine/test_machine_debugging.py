"""Debugger features: breakpoints, single steps, memory and register access, screenshots."""

import re
import struct

import pytest
from PIL import Image

from rustos_dbg import GuestMemoryError, StopKind, SymbolError
from rustos_dbg.devices.vga import PALETTE
from rustos_dbg.testing import PROMPT, run_to_serial

pytestmark = pytest.mark.emulator

EXECUTE = "rustos::shell::commands::execute"
KERNEL_BASE = 0xFFFF_FFFF_8000_0000
RUN_LIMIT = dict(max_instructions=50_000_000, timeout=60)


def test_run_until_a_symbol_then_step_one_instruction(rustos_machine):
    machine = rustos_machine
    execute = machine.symbols.find(EXECUTE)
    assert execute is not None and execute.kind == "func"
    machine.send_keys("echo one\n")
    stop = machine.run(until=EXECUTE, **RUN_LIMIT)
    assert stop.kind is StopKind.BREAKPOINT, stop.describe()
    assert stop.rip == stop.address == execute.address == machine.reg("rip")
    assert stop.icount == machine.icount
    assert execute.address not in machine.breakpoints  # `until` leaves no breakpoint behind
    count, rip, log = machine.icount, machine.reg("rip"), len(machine.exception_log)
    step = machine.step()
    assert step.kind is StopKind.STEP
    assert machine.icount == step.icount == count + 1
    if len(machine.exception_log) == log:  # no interrupt came in: the first instruction ran
        assert 0 < machine.reg("rip") - rip <= 15
    assert "one" in run_to_serial(machine, PROMPT).splitlines()


def test_continuing_from_a_breakpoint_makes_progress(rustos_machine):
    machine = rustos_machine
    address = machine.symbols.find(EXECUTE).address
    machine.breakpoints.add(address)
    hits = []
    for word in ("one", "two", "three"):
        machine.send_serial(f"echo {word}\n".encode())
        hit = machine.run(**RUN_LIMIT)
        assert (hit.kind, hit.address, hit.rip) == (StopKind.BREAKPOINT, address, address), hit.describe()
        hits.append(hit.icount)
        if word == "one":
            # A step from the breakpoint executes its instruction instead of reporting it again.
            step = machine.step()
            assert (step.kind, step.icount) == (StopKind.STEP, hit.icount + 1), step.describe()
        if word == "three":
            assert machine.breakpoints.remove(address) and address not in machine.breakpoints
        # Continuing (with the breakpoint still set for "one" and "two") does not stop at the same
        # place again: the command runs and the prompt returns.
        assert word in run_to_serial(machine, PROMPT).splitlines()
    assert hits == sorted(set(hits))


def test_unknown_symbol_is_a_one_line_error(rustos_machine):
    with pytest.raises(SymbolError) as error:
        rustos_machine.run(until="rustos::no_such_function")
    assert "rustos::no_such_function" in str(error.value) and "\n" not in str(error.value)


def test_unmapped_reads_raise_a_one_line_error(rustos_machine):
    machine = rustos_machine
    guard = machine.symbols.find("RUSTOS_MAIN_STACK").address  # its first page is the unmapped guard
    for address in (0xDEADBEEF000, guard, 0x8000_0000_0000_0000, 0):
        with pytest.raises(GuestMemoryError) as error:
            machine.read_virtual(address, 8)
        message = str(error.value)
        assert message and "\n" not in message, message
        assert f"{address:#x}" in message
        assert error.value.address == address
    with pytest.raises(GuestMemoryError) as error:
        machine.read_physical(machine.ram_bytes - 4, 8)
    assert "\n" not in str(error.value)


def test_kernel_statics_and_control_registers(rustos_machine):
    machine = rustos_machine
    boot_info = machine.symbols.find("RUSTOS_BOOT_INFO")
    assert machine.read_virtual(boot_info.address, 4) == b"BOOT"
    assert machine.read_physical(boot_info.address - KERNEL_BASE, 4) == b"BOOT"
    magic, version = struct.unpack("<II", machine.read_virtual(boot_info.address, 8))
    assert (magic, version) == (int.from_bytes(b"BOOT", "little"), 1)
    pml4 = re.search(r"PML4 at (0x[0-9a-f]+)", machine.serial_output)
    assert pml4, machine.serial_output
    assert machine.reg("cr3") & ~0xFFF == int(pml4.group(1), 16)  # the kernel's own tables
    efer = machine.reg("efer")
    assert efer & 0xD00 == 0xD00, hex(efer)  # LME | LMA | NXE
    cr0, cr4 = machine.reg("cr0"), machine.reg("cr4")
    assert cr0 & 0x8001_0001 == 0x8001_0001, hex(cr0)  # PG | WP | PE
    assert cr4 & 0xA0 == 0xA0, hex(cr4)  # PGE | PAE
    assert machine.reg("cs") == 0x08 and machine.reg("tr")[0] == 0x28
    regs = machine.regs()
    assert regs["rip"] == machine.reg("rip") and regs["rsp"] == machine.reg("rsp")


def test_screenshot_is_a_png_of_the_screen(rustos_machine, tmp_path):
    machine = rustos_machine
    machine.send_serial(b"color 14 1\n")
    run_to_serial(machine, PROMPT)
    machine.send_serial(b"echo painted\n")
    run_to_serial(machine, PROMPT)
    assert "painted" in machine.screen_text()
    path = machine.screenshot(tmp_path / "screen.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == (720, 400)  # 80x25 cells of 9x16 pixels
        colours = {colour for _, colour in image.convert("RGB").getcolors(maxcolors=1 << 16)}
    assert PALETTE[1] == (0x00, 0x00, 0xA8)  # blue, as QEMU widens the DAC's 0x2A
    assert PALETTE[1] in colours  # the blue background of `color 14 1`
    assert (0x00, 0x00, 0x00) in colours and len(colours) > 2

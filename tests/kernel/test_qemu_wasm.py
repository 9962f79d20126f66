"""WASM programs in QEMU with the ramdisk scripts/build-kernel writes:
`wasm /ram/hello.wasm` prints its line, the runaway `spin.wasm` stops at the
default fuel limit, a trap is one line, and the shell goes on."""

import re
from pathlib import Path

import pytest
from qemu import run_qemu


@pytest.mark.qemu
def test_hello_runaway_and_trap_in_qemu(kernel_elf):
    initrd = Path(kernel_elf).with_name("initrd.tar")
    run = run_qemu(kernel_elf, stdin=b"wasm /ram/hello.wasm\nwasm /ram/spin.wasm\nwasm /ram/trap.wasm div\necho alive\n",
                   until=r"\nalive", initrd=initrd, timeout=120)
    assert re.search(r"^hello from wasm\r?$", run.output, re.M), run.output
    errors = [line.strip() for line in run.output.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: wasm: /ram/spin.wasm: trap: out of fuel after 5000000 instructions",
        "error: wasm: /ram/trap.wasm: trap: integer divide by zero",
    ]


@pytest.mark.qemu
def test_snake_draws_on_qemus_framebuffer(kernel_elf, tmp_path):
    from PIL import Image
    from qemu_monitor import QemuWithMonitor

    qemu = QemuWithMonitor(kernel_elf, tmp_path / "monitor.sock", initrd=Path(kernel_elf).with_name("initrd.tar"))
    try:
        qemu.serial_until(b"rustos> ", 0)
        since = len(qemu.out)
        qemu.proc.stdin.write(b"wasm /ram/snake.wasm\n")
        qemu.proc.stdin.flush()
        qemu.serial_until(b"q quits", since)
        image = Image.open(qemu.screendump(tmp_path / "snake.ppm")).convert("RGB")
        assert image.size == (1280, 720)
        colours = {image.getpixel((c * 40 + 5, r * 40 + 5)) for c in range(32) for r in range(18)}
        assert {(0, 255, 0), (255, 0, 0)} <= colours, colours
        qemu.proc.stdin.write(b"q")
        qemu.proc.stdin.flush()
        qemu.serial_until(b"snake: game over, score ", since)
    finally:
        qemu.close()

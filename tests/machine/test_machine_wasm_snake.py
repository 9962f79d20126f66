"""snake.wasm on the framebuffer, in the emulator and in QEMU: the program
switches graphics on (and owns it), draws the snake (green) and the food
(red) in 40-pixel cells of a 32 x 18 grid, steers with the keys it reads
from COM1, and ends with one line when it hits a wall or on `q`."""

import re
from pathlib import Path

import pytest
from PIL import Image

from rustos_dbg import Machine
from rustos_dbg.testing import PROMPT, run_to_serial

pytestmark = pytest.mark.emulator

GREEN, RED = (0, 255, 0), (255, 0, 0)
CELL = 40  # min(1280 / 32, 720 / 18)


def cells(image, colour) -> set[tuple[int, int]]:
    """The grid cells (column, row) whose inner pixel has ``colour``."""
    return {(c, r) for c in range(32) for r in range(18) if image.getpixel((c * CELL + 5, r * CELL + 5)) == colour}


def start_snake(rustos_elf) -> Machine:
    machine = Machine.boot(rustos_elf, initrd=Path(rustos_elf).with_name("initrd.tar"))
    run_to_serial(machine, PROMPT, timeout=120)
    machine.send_serial("wasm /ram/snake.wasm\n")
    run_to_serial(machine, "q quits", timeout=300, max_instructions=3_000_000_000)
    return machine


def test_snake_draws_and_quits_on_q(rustos_elf, tmp_path):
    machine = start_snake(rustos_elf)
    assert machine.screen_mode() == "framebuffer 1280x720x32"
    image = Image.open(machine.screenshot(tmp_path / "start.png")).convert("RGB")
    assert cells(image, GREEN) == {(4, 9), (5, 9), (6, 9)}, "the snake starts on row 9, heading right"
    assert len(cells(image, RED)) == 1, "one piece of food"
    machine.send_serial("q")
    out = run_to_serial(machine, PROMPT, timeout=300, max_instructions=3_000_000_000)
    assert re.search(r"snake: game over, score \d+\r?\n", out), out


def test_snake_steers_with_the_keys_and_dies_at_the_wall(rustos_elf, tmp_path):
    machine = start_snake(rustos_elf)
    machine.send_serial("s")  # down: from row 9 to the bottom wall
    out = run_to_serial(machine, PROMPT, timeout=300, max_instructions=3_000_000_000)
    assert re.search(r"snake: game over, score \d+", out), out
    image = Image.open(machine.screenshot(tmp_path / "end.png")).convert("RGB")
    snake = cells(image, GREEN)
    assert (6, 17) in snake and all(c == 6 for c, r in snake if r > 9), snake
    machine.send_serial("echo alive\n")
    assert "alive" in run_to_serial(machine, PROMPT, timeout=60)

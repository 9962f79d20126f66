"""The kernel's framebuffer in the emulator: PCI, Bochs VBE, the LFB at BAR0, and its state in snapshots and time travel."""

import pytest

from rustos_dbg import Machine
from rustos_dbg.testing import PROMPT

pytestmark = pytest.mark.emulator

RED, BLUE = (255, 0, 0), (0, 0, 255)


def shell(m, line: str) -> str:
    start = len(m.serial_output)
    m.send_serial(line.encode() + b"\n")
    assert m.run_until_serial(PROMPT, timeout=60) is None
    return m.serial_output[start:]


def picture(m):
    from rustos_dbg.devices.display import screen_image

    return screen_image(m.devices).tobytes()


def test_draw_switches_to_the_framebuffer_at_bar0(rustos_machine, tmp_path):
    m = rustos_machine
    assert m.screen_mode() == "text 80x25"
    shell(m, "draw rect 900 500 30 20 red")
    assert m.screen_mode() == "framebuffer 1280x720x32"
    assert m.vram.base == 0xFD00_0000
    assert "LFB at 0xfd000000" in shell(m, "fb")
    image = __import__("PIL.Image").Image.open(m.screenshot(tmp_path / "fb.png")).convert("RGB")
    assert image.size == (1280, 720)
    assert image.getpixel((900, 500)) == image.getpixel((929, 519)) == RED
    assert image.getpixel((930, 519)) != RED and image.getpixel((929, 520)) != RED
    # the kernel's pixels are in the video memory: 0x00RRGGBB words at the pitch
    assert m.vram.read(500 * 5120 + 900 * 4, 4) == bytes((0, 0, 0xFF, 0))
    # and the debugger reads them where the kernel mapped them, and at BAR0
    assert m.read_virtual(0xFFFF_FE80_0000_0000 + 500 * 5120 + 900 * 4, 4) == bytes((0, 0, 0xFF, 0))
    assert m.read_physical(0xFD00_0000 + 500 * 5120 + 900 * 4, 4) == bytes((0, 0, 0xFF, 0))


def test_bad_draw_input_is_one_line_and_the_shell_goes_on(rustos_machine):
    m = rustos_machine
    for line, error in (("draw rect 1270 0 20 20 red", "error: draw: rect outside the 1280x720 screen"),
                        ("draw line 0 0 1280 5 red", "error: draw: line outside the 1280x720 screen"),
                        ("draw circle 5 5 5 mauve", "error: draw: unknown colour 'mauve'"),
                        ("draw circle 5 5 x red", "error: draw: 'x' is not a number"),
                        ("draw square 1 2 3", "error: draw: usage:"),
                        ("fb sideways", "error: fb: usage:")):
        out = shell(m, line)
        assert error in out and out.count("\n") == 2, out   # the echoed line and the error
    assert "hello" in shell(m, "echo hello")


def test_fb_off_goes_back_to_the_text_screen(rustos_machine):
    m = rustos_machine
    shell(m, "echo before")
    shell(m, "draw clear white")
    shell(m, "echo during")
    shell(m, "fb off")
    assert m.screen_mode() == "text 80x25"
    text = m.screen_text()
    assert "before" in text and "during" in text and "fb off" in text
    assert not m.devices.vga.gc[6] & 1                      # the kernel put the VGA back in text mode
    assert "fb: off" in shell(m, "fb")


def test_snapshot_and_restore_carry_the_picture(rustos_machine):
    m = rustos_machine
    shell(m, "draw circle 640 360 50 blue")
    state, drawn = m.snapshot(), picture(m)
    shell(m, "draw clear red")
    assert picture(m) != drawn
    m.restore(state)
    assert picture(m) == drawn and m.screen_mode() == "framebuffer 1280x720x32"
    assert m.snapshot().digests() == state.digests()
    shell(m, "fb off")
    m.restore(state)
    assert m.devices.vbe.enabled and picture(m) == drawn


def test_time_travel_goes_back_before_the_drawing_and_forward_to_it(history_machine):
    m = history_machine
    before = m.icount
    shell(m, "draw circle 100 100 40 blue")
    after, drawn = m.icount, picture(m)
    m.goto(before)
    assert m.screen_mode() == "text 80x25"
    m.goto(after)
    assert m.screen_mode() == "framebuffer 1280x720x32" and picture(m) == drawn


def test_pci_bar_moves_with_the_guest(rustos_elf):
    m = Machine.boot(rustos_elf)
    pci = m.devices.pci
    pci.write(0xCF8, 4, 0x8000_1010)                        # 00:02.0, BAR0
    pci.write(0xCFC, 4, 0xE000_0000)
    assert m.vram.base == 0xE000_0000
    m.uc.mem_write(0xE000_0000, b"\x12\x34")
    assert m.vram.read(0, 2) == b"\x12\x34"


def test_clear_clears_the_framebuffer_console_too(rustos_machine):
    m = rustos_machine
    shell(m, "draw rect 900 500 30 20 red")
    shell(m, "clear")
    image = __import__("PIL.Image").Image.frombytes("RGB", (1280, 720), picture(m))
    assert image.getpixel((900, 500)) == (0, 0, 0)
    assert image.crop((0, 16, 1280, 720)).getbbox() is None      # only the prompt's line is drawn
    assert image.crop((0, 0, 64, 16)).getbbox() is not None      # "rustos> " at the top left


def test_a_state_counts_the_video_memory_it_holds(rustos_machine):
    """What a checkpoint costs (the history's budget) includes the framebuffer's pages."""
    m = rustos_machine
    shell(m, "draw rect 0 0 1 1 black")
    before = m.snapshot()
    shell(m, "draw clear red")
    after = m.snapshot()
    assert after.new_bytes(before) - after.ram.new_bytes(before.ram) == 1280 * 720 * 4   # every pixel's page
    assert after.new_bytes(after) == 0


def test_maps_names_the_framebuffer_mapping(rustos_machine):
    from rustos_dbg.inspect.hw import maps

    m = rustos_machine
    shell(m, "draw rect 0 0 1 1 white")
    rows = [r for r in maps.read_maps(m, symbols=m.symbols).rows if r.kind == "framebuffer"]
    assert len(rows) == 1, rows
    fb = rows[0]
    assert (fb.start, fb.size, fb.paddr, fb.phys_contiguous) == (0xFFFF_FE80_0000_0000, 1280 * 720 * 4, 0xFD00_0000, True)
    assert fb.w and not fb.x and not fb.u

"""The ``fb`` inspector (RUSTOS_FB) and the ``pci`` command on the running kernel, text and JSON."""

import json

import pytest

from rustos_dbg.inspect.kernel.fb import fb_view, read_fb
from rustos_dbg.repl import Session
from rustos_dbg.testing import PROMPT, run_to_serial

pytestmark = pytest.mark.emulator


def test_fb_before_and_after_the_first_draw(rustos_machine):
    m = rustos_machine
    before = read_fb(m, dwarf=m.image)
    assert before.problems == () and before.mode == "text" and before.lfb_phys == 0
    assert "never enabled" in fb_view(before)
    m.send_serial("draw line 0 0 9 9 white\n")
    run_to_serial(m, PROMPT)
    after = read_fb(m, dwarf=m.image)
    assert (after.mode, after.width, after.height, after.bpp, after.pitch) == ("framebuffer", 1280, 720, 32, 5120)
    assert (after.lfb_phys, after.lfb_size, after.pci_slot, after.owner) == (0xFD00_0000, 16 << 20, "00:02.0", "shell (draw)")
    # the kernel's view agrees with the device's
    assert after.lfb_phys == m.vram.base and m.devices.vbe.mode().pitch == after.pitch
    assert after.lfb_virt == 0xFFFF_FE80_0000_0000
    m.send_serial("fb off\n")
    run_to_serial(m, PROMPT)
    off = read_fb(m, dwarf=m.image)
    assert off.mode == "text" and off.owner == "text console" and "VGA text shown" in fb_view(off)


def test_fb_and_pci_commands_in_text_and_json(rustos_machine):
    session = Session(rustos_machine)
    assert session.execute("fb").startswith("mode: text")
    assert "PCI device 1234:1111" in session.execute("pci")
    session.json = True
    assert json.loads(session.execute("fb"))["mode"] == "text"
    vga = json.loads(session.execute("pci"))["functions"][1]
    assert (vga["vendor_id"], vga["device_id"]) == (0x1234, 0x1111) and vga["bars"][0]["address"] == 0xFD00_0000

"""The framebuffer commands in QEMU: a machine without the standard VGA gets one line, and the shell goes on."""

import pytest
from qemu import run_qemu

pytestmark = pytest.mark.qemu


def test_without_a_vga_draw_is_one_line_and_the_shell_goes_on(kernel_elf):
    run = run_qemu(kernel_elf, stdin=b"draw clear\nfb on\necho still here\n", until=r"(?m)^still here", extra=("-vga", "none"))
    out = run.output.replace("\r", "")
    assert "error: draw: no VGA device (PCI 1234:1111)\n" in out, out[-1500:]
    assert "error: fb: no VGA device (PCI 1234:1111)\n" in out
    assert "\nstill here" in out


def test_fb_reports_the_mode_qemu_set(kernel_elf):
    run = run_qemu(kernel_elf, stdin=b"fb\ndraw rect 0 0 1 1 white\nfb\nfb off\nfb\necho done\n", until=r"(?m)^done")
    out = run.output.replace("\r", "")
    assert out.count("fb: off (VGA text)") == 2, out[-1500:]
    assert "fb: 1280x720x32, pitch 5120, LFB at 0xfd000000 (mapped at 0xfffffe8000000000)" in out

"""The emulator's VGA screenshot equals QEMU's ``screendump`` of the same text screen, pixel for pixel."""

import socket
import subprocess
import threading
import time

import pytest
from PIL import Image, ImageChops
from qemu import qemu_command

from rustos_dbg import Machine
from rustos_dbg.devices.vgatext import TextCursor, render_text
from rustos_dbg.testing import PROMPT

pytestmark = pytest.mark.emulator

COMMANDS = ("clear\n", "echo hello world \xb3 0123456789 ABCxyz\n")


class _Qemu:
    """QEMU with serial on stdio and its monitor on a Unix socket."""

    def __init__(self, elf, monitor):
        self.proc = subprocess.Popen(qemu_command(elf) + ["-monitor", f"unix:{monitor},server=on,wait=on"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.monitor = socket.socket(socket.AF_UNIX)
                self.monitor.connect(str(monitor))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.out = bytearray()
        threading.Thread(target=self._read, daemon=True).start()
        self._until_monitor_prompt(b"")

    def _read(self):
        for chunk in iter(lambda: self.proc.stdout.read1(4096), b""):
            self.out += chunk

    def serial_until(self, text: bytes, since: int, timeout=60):
        deadline = time.monotonic() + timeout
        while text not in self.out[since:]:
            assert time.monotonic() < deadline, f"QEMU never printed {text!r}: {bytes(self.out[-300:])!r}"
            time.sleep(0.05)

    def send(self, line: str):
        since = len(self.out)
        self.proc.stdin.write(line.encode("latin-1"))
        self.proc.stdin.flush()
        self.serial_until(PROMPT.encode(), since)

    def _until_monitor_prompt(self, sent: bytes):
        seen = b""
        self.monitor.sendall(sent)
        while not seen.rstrip().endswith(b"(qemu)") or (sent and sent.strip() not in seen):
            chunk = self.monitor.recv(65536)
            assert chunk, seen
            seen += chunk
        return seen

    def screendump(self, path):
        self._until_monitor_prompt(f"screendump {path}\n".encode())
        return Image.open(path).convert("RGB")

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.monitor.close()


def test_screenshot_equals_qemu_screendump_of_the_same_screen(rustos_elf, tmp_path):
    qemu = _Qemu(rustos_elf, tmp_path / "monitor.sock")
    try:
        qemu.serial_until(PROMPT.encode(), 0)
        for line in COMMANDS:
            qemu.send(line)
        theirs = qemu.screendump(tmp_path / "qemu.ppm")
    finally:
        qemu.close()

    machine = Machine.boot(rustos_elf)
    assert machine.run_until_serial(PROMPT, timeout=60) is None
    for line in COMMANDS:
        machine.send_serial(line.encode("latin-1"))
        assert machine.run_until_serial(PROMPT, timeout=60) is None
    ours = machine.screenshot(tmp_path / "ours.png")
    vga = machine.devices.vga
    assert "hello world" in vga.screen_text()
    assert vga.cursor.visible
    ours = Image.open(ours).convert("RGB")
    # QEMU blinks the cursor: its dump has it or not, depending on the moment.
    without_cursor = render_text(vga.cells(), vga.attr, vga.crtc, TextCursor(vga.cursor.row, vga.cursor.col, False))
    assert ours.size == theirs.size == (720, 400)
    differs = [row for row in range(25) if ImageChops.difference(
        ours.crop((0, row * 16, 720, row * 16 + 16)), theirs.crop((0, row * 16, 720, row * 16 + 16))).getbbox()]
    assert differs == [] or ImageChops.difference(without_cursor, theirs).getbbox() is None, \
        f"rows that differ from QEMU's screendump: {differs}"
    assert ImageChops.difference(ours, without_cursor).getbbox() is not None  # the cursor is drawn

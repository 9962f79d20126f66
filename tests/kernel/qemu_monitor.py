"""QEMU with the kernel on serial stdio and its human monitor on a Unix socket, for comparisons."""

import re
import socket
import subprocess
import threading
import time

from qemu import qemu_command

PROMPT = "rustos> "


class QemuWithMonitor:
    """QEMU with serial on stdio and its monitor on a Unix socket."""

    def __init__(self, elf, monitor, initrd=None):
        self.proc = subprocess.Popen(qemu_command(elf, initrd=initrd) + ["-monitor", f"unix:{monitor},server=on,wait=on"],
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

    def command(self, line: str) -> str:
        """The monitor's output for ``line`` (the echoed command and the prompt left out)."""
        seen = self._until_monitor_prompt(f"{line}\n".encode()).decode("latin-1")
        seen = re.sub(r"\x1b\[[0-9;]*[A-Za-z]|\r", "", seen)
        body = seen.rsplit("(qemu)", 1)[0]
        return body.split(line, 1)[-1].strip("\n")

    def screendump(self, path):
        """Writes QEMU's screendump of the VGA screen to ``path``; returns it."""
        self._until_monitor_prompt(f"screendump {path}\n".encode())
        return path

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.monitor.close()


def screens_after(elf, lines, tmp_path):
    """Types ``lines`` on COM1 in QEMU and in the emulator, each to the next prompt: returns
    (QEMU's ``screendump`` as an RGB image, the emulator's machine there)."""
    from PIL import Image

    from rustos_dbg import Machine

    qemu = QemuWithMonitor(elf, tmp_path / "monitor.sock")
    try:
        qemu.serial_until(PROMPT.encode(), 0)
        for line in lines:
            qemu.send(line)
        theirs = Image.open(qemu.screendump(tmp_path / "qemu.ppm")).convert("RGB")
    finally:
        qemu.close()
    machine = Machine.boot(elf)
    assert machine.run_until_serial(PROMPT, timeout=60) is None
    for line in lines:
        machine.send_serial(line.encode("latin-1"))
        assert machine.run_until_serial(PROMPT, timeout=60) is None
    return theirs, machine

"""Standard input to COM1: bytes collected on a daemon thread, delivered by
the thread that runs the machine (``rustos-dbg run --headless`` and ``--gdb``)."""

from __future__ import annotations

import os
import threading


class InputPump:
    """Collects bytes from a binary stream on a daemon thread, for COM1."""

    def __init__(self, stream) -> None:
        """Reads ``stream`` (e.g. ``sys.stdin``) until its end; a stream with a file
        descriptor is read with ``os.read``, so the reading thread holds no buffer
        lock that interpreter shutdown would wait for."""
        self._lock = threading.Lock()
        self._pending: list[bytes] = []
        threading.Thread(target=self._read, args=(stream,), name="rustos-stdin", daemon=True).start()

    def _read(self, stream) -> None:
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):
            fd = None
        try:
            while True:
                if fd is not None:
                    data = os.read(fd, 4096)
                else:
                    data = stream.read1(4096) if hasattr(stream, "read1") else stream.read(1)
                if not data:
                    return
                with self._lock:
                    self._pending.append(data)
        except (OSError, ValueError):
            return

    def drain(self, machine) -> None:
        """Sends what arrived to COM1 (call from the thread running ``machine``)."""
        with self._lock:
            data, self._pending[:] = b"".join(self._pending), []
        if data:
            machine.send_serial(data)

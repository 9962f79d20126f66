"""A TCP server speaking the GDB remote protocol for one target.

Contract:

* :class:`GdbServer` listens on ``host:port`` (``127.0.0.1`` by default, so
  only local debuggers can connect; port 0 picks a free port, see
  :attr:`GdbServer.address`) and serves one connection at a time with a
  :class:`~gdbstub.session.Session`.  After a connection ends (detach,
  kill, hang-up) it accepts the next one; the target, and the last stop
  reason reported, carry over.
* :meth:`GdbServer.serve_forever` blocks; :meth:`GdbServer.start` runs it
  on a daemon thread.  :meth:`GdbServer.close` (thread-safe) stops
  accepting, ends the current session and waits for the serving thread.
* Malformed input, protocol errors and abrupt disconnects are logged on
  the ``gdbstub`` logger and never stop the server.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
from typing import Optional

from .dispatch import SessionEnd
from .framing import DEFAULT_MAX_PACKET_SIZE
from .session import Session
from .stop import StopReason

__all__ = ["GdbServer"]

log = logging.getLogger("gdbstub")


class GdbServer:
    """Serves ``target`` to GDB over TCP.

    :param target: the :class:`~gdbstub.target.Target` to debug.
    :param host: the address to bind; keep the loopback default unless the
        debugger really runs elsewhere (the protocol has no authentication).
    :param port: the TCP port; 0 picks a free one.
    :param packet_size: the largest packet accepted, advertised to GDB.
    """

    def __init__(
        self,
        target,
        host: str = "127.0.0.1",
        port: int = 1234,
        *,
        packet_size: int = DEFAULT_MAX_PACKET_SIZE,
    ) -> None:
        self.target = target
        self.host = host
        self.port = port
        self.packet_size = packet_size
        #: How each finished session ended, oldest first.
        self.session_ends: list[SessionEnd] = []
        self._listener: Optional[socket.socket] = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._lock = threading.Lock()
        self._closing = False
        self._session: Optional[Session] = None
        self._thread: Optional[threading.Thread] = None
        self._last_stop: Optional[StopReason] = None

    # -- lifecycle ------------------------------------------------------------

    def listen(self) -> tuple[str, int]:
        """Bind and listen (once); return the bound ``(host, port)``."""
        with self._lock:
            if self._closing:
                raise RuntimeError("server is closed")
            if self._listener is None:
                family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
                sock = socket.socket(family, socket.SOCK_STREAM)
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    sock.bind((self.host, self.port))
                    sock.listen(1)
                except OSError:
                    sock.close()
                    raise
                self._listener = sock
                log.info("listening on %s:%d", *self.address)
        return self.address

    @property
    def address(self) -> tuple[str, int]:
        """The bound ``(host, port)``; call :meth:`listen` first."""
        if self._listener is None:
            raise RuntimeError("server is not listening")
        host, port = self._listener.getsockname()[:2]
        return host, port

    def start(self) -> threading.Thread:
        """Listen, then serve forever on a daemon thread; return the thread."""
        self.listen()
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.serve_forever, name="gdbstub-server", daemon=True
            )
            self._thread.start()
        return self._thread

    def close(self) -> None:
        """Stop serving: close the listener, end the session, join the thread."""
        with self._lock:
            self._closing = True
            session = self._session
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        if session is not None:
            session.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        with self._lock:
            if self._listener is not None:
                self._listener.close()
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> "GdbServer":
        self.listen()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- serving ----------------------------------------------------------------

    def serve_forever(self) -> None:
        """Serve connections one after another until :meth:`close`."""
        self.listen()
        while self.serve_one() is not None:
            pass

    def serve_one(self) -> Optional[SessionEnd]:
        """Wait for one connection and serve it; ``None`` once closed."""
        try:
            self.listen()
        except RuntimeError:  # closed meanwhile
            return None
        conn = self._accept()
        if conn is None:
            return None
        session = Session(
            self.target, conn, packet_size=self.packet_size, last_stop=self._last_stop
        )
        with self._lock:
            if self._closing:
                conn.close()
                return None
            self._session = session
        try:
            end = session.run()
        finally:
            with self._lock:
                self._session = None
        self._last_stop = session.last_stop
        self.session_ends.append(end)
        return end

    def _accept(self) -> Optional[socket.socket]:
        listener = self._listener
        assert listener is not None
        while True:
            if self._closing:
                return None
            try:
                ready, _, _ = select.select([listener, self._wake_r], [], [])
            except (OSError, ValueError):  # closed under us
                return None
            if self._closing or self._wake_r in ready:
                return None
            try:
                conn, peer = listener.accept()
            except OSError as exc:
                log.warning("accept failed: %s", exc)
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            log.info("connection from %s:%d", *peer[:2])
            return conn

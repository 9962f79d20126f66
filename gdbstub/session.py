"""One GDB connection: acknowledgements, interrupts and running the target.

Contract:

* :class:`Session` serves one connected byte stream (a socket, or anything
  with ``recv``/``sendall``/``close``) until GDB detaches, kills, hangs up,
  or :meth:`Session.stop` is called, and returns a
  :class:`~gdbstub.dispatch.SessionEnd`.
* A reader thread decodes the stream. While nothing else is pending (no
  job runs, no event is queued) it serves a packet itself, so a request and
  its answer cost no thread handoff; everything else goes on a queue that the
  thread calling :meth:`Session.run` consumes in order. Events are handled
  under one lock, by one thread at a time, so replies go out in order.  In acknowledgement mode every packet is answered with ``+``
  and every bad one with ``-``; a ``-`` from GDB makes the session resend
  its last packet (at most three times in a row).
* ``target.run`` (and ``target.reverse_continue``) executes on a worker
  thread, so the session keeps reading
  while the target runs: a Ctrl-C then calls ``target.interrupt()``, and
  the stop reply is sent when ``run`` returns.  Until then the request is
  repeated every half second, so one that raced with the start of ``run``
  (which should discard stale requests) is not lost.  Packets that arrive while
  the target runs are held back until it stops.  If the connection ends
  during a run, the target is interrupted and the run awaited, so no run
  outlives its session.
* A ``monitor`` command runs on a worker thread too (it may take long): a
  Ctrl-C meanwhile, or the end of the connection, asks the target to
  abandon it (``abort_monitor``, when the target has it); output it streams
  is sent in ``O`` packets as it comes (never after the final ``OK``: a piece
  that arrives once the answer is dropped is dropped too), the rest once it returns. A packet arriving meanwhile means GDB gave
  up waiting (its own Ctrl-C ends the wait without sending ``\x03``): the
  command is abandoned too, its answer dropped, and the packet then served. So neither a long run nor a long
  ``monitor`` command keeps the next client from being served.
* Nothing that GDB sends can make :meth:`Session.run` raise.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
from collections import deque
from typing import Callable, Optional

from .dispatch import Dispatcher, SessionEnd
from .connection import Connection
from .events import Closed, Ended, MonitorOutput, RunDone, StopRequest
from .framing import (
    ACK,
    DEFAULT_MAX_PACKET_SIZE,
    NACK,
    Ack,
    BadPacket,
    Decoder,
    Interrupt,
    Nack,
    Packet,
    encode_packet,
)
from .stop import StopReason
from .target import Resume, ResumeAction

__all__ = ["Connection", "Session"]

log = logging.getLogger("gdbstub")

_MAX_RESENDS = 3
_REINTERRUPT_SECONDS = 0.5


class _Hangup(Exception):
    """Sending failed: the peer is gone."""


class _SessionOver(Exception):
    """The reader served the packet that ended the session: it stops reading."""


class Session:
    """Serves one GDB connection for ``target``.

    :param target: the :class:`~gdbstub.target.Target` to debug.
    :param conn: the connected stream.
    :param packet_size: the largest packet accepted and advertised.
    :param last_stop: the stop reason to report to ``?`` until the target
        runs (lets a server carry the state over from a previous session).
    """

    def __init__(
        self,
        target,
        conn: Connection,
        *,
        packet_size: int = DEFAULT_MAX_PACKET_SIZE,
        last_stop: Optional[StopReason] = None,
    ) -> None:
        self.target = target
        self._conn = conn
        self._dispatcher = Dispatcher(target, packet_size=packet_size)
        if last_stop is not None:
            self._dispatcher.last_stop = last_stop
        self._decoder = Decoder(packet_size)
        self._events: queue.SimpleQueue = queue.SimpleQueue()   # (the C one: a packet's handoff costs less)
        self._deferred: deque[bytes] = deque()
        self._ack_mode = True
        self._last_sent: Optional[bytes] = None
        self._resends = 0
        self._worker: Optional[threading.Thread] = None
        #: How to stop the worker's job: ``target.interrupt`` for a run, the monitor's abort.
        self._stop_job: Callable[[], None] = self._noop
        #: The worker runs a monitor command; its answer is to be dropped (GDB moved on).
        self._job_is_monitor = False
        self._discard_job = False
        self._interrupt_requested = False
        self._closed = False
        self._close_lock = threading.Lock()
        #: Held while an event is handled: by the reader (a packet served at once) or by run()'s loop.
        self._lock = threading.Lock()

    @property
    def last_stop(self) -> StopReason:
        """The stop reason last reported to GDB."""
        return self._dispatcher.last_stop

    @property
    def ack_mode(self) -> bool:
        """Whether ``+``/``-`` acknowledgements are still in use."""
        return self._ack_mode

    def stop(self) -> None:
        """End the session from another thread (thread-safe, idempotent)."""
        self._events.put(StopRequest())
        self._close_conn()

    def run(self) -> SessionEnd:
        """Serve the connection until it ends; return why it ended."""
        reader = threading.Thread(target=self._read_loop, name="gdbstub-reader", daemon=True)
        reader.start()
        end = SessionEnd.DISCONNECTED
        try:
            while True:
                event = self._next_event()
                if isinstance(event, Ended):
                    end = event.end
                    break
                with self._lock:
                    result = self._on_event(event)
                if result is not None:
                    end = result
                    break
        except _Hangup:
            end = SessionEnd.DISCONNECTED
        except Exception:  # a bug here must not take the server down
            log.exception("session failed")
            end = SessionEnd.DISCONNECTED
        finally:
            self._await_run()
            self._close_conn()
            reader.join(timeout=5)
        log.info("session ended: %s", end.name)
        return end

    # -- reading ----------------------------------------------------------

    def _read_loop(self) -> None:
        try:
            while True:
                chunk = self._conn.recv(65536)
                if not chunk:
                    break
                for event in self._decoder.feed(chunk):
                    if not self._served_here(event):
                        self._events.put(event)
        except _Hangup:
            pass
        except OSError as exc:
            log.debug("connection read failed: %s", exc)
        except _SessionOver:
            return
        except Exception:  # never expected; keep the session consistent
            log.exception("reader failed")
        self._events.put(Closed())

    def _served_here(self, event: object) -> bool:
        """Serves a packet on the reader's thread when nothing else is pending (no
        job runs, no event waits): a request and its answer then cost no thread
        handoff. Everything else goes through the queue, in order. Raises
        :class:`_SessionOver` once a packet ended the session (detach, kill)."""
        if not isinstance(event, Packet):
            return False
        with self._lock:
            if self._worker is not None or not self._events.empty():
                return False
            end = self._on_event(event)
        if end is not None:
            self._events.put(Ended(end))
            raise _SessionOver()
        return True

    # -- event handling -----------------------------------------------------

    def _next_event(self) -> object:
        while True:
            if not self._interrupt_requested:
                return self._events.get()
            try:
                return self._events.get(timeout=_REINTERRUPT_SECONDS)
            except queue.Empty:
                if self._worker is not None:
                    self._interrupt_target()

    def _on_event(self, event: object) -> Optional[SessionEnd]:
        if isinstance(event, Packet):
            if self._ack_mode:
                self._send_raw(ACK)
            if self._worker is not None:
                log.debug("packet while running, deferred: %r", event.data[:64])
                self._deferred.append(event.data)
                if self._job_is_monitor and not self._discard_job:
                    # GDB sends nothing while it waits for a monitor answer: it gave up
                    # (its Ctrl-C ends the wait without a \x03), so a late answer would
                    # be taken for the reply to this packet.
                    self._discard_job = True
                    self._interrupt_target()
                return None
            return self._process(event.data)
        if isinstance(event, BadPacket):
            log.warning("dropped packet (%s): %r", event.description, event.data)
            if self._ack_mode:
                self._send_raw(NACK)
        elif isinstance(event, Ack):
            self._resends = 0
        elif isinstance(event, Nack):
            self._resend()
        elif isinstance(event, Interrupt):
            if self._worker is not None:
                self._interrupt_requested = True
                self._interrupt_target()
            else:
                log.debug("interrupt while stopped, ignored")
        elif isinstance(event, MonitorOutput):
            if self._job_is_monitor and not self._discard_job:
                for payload in self._dispatcher.console_packets(event.text):
                    self._send_packet(payload)
        elif isinstance(event, RunDone):
            self._worker = None
            self._interrupt_requested = False
            packets = event.finish(event.outcome)
            if self._discard_job:
                log.info("monitor answer dropped: the client gave up waiting for it")
            else:
                for payload in packets:
                    self._send_packet(payload)
            self._job_is_monitor = self._discard_job = False
            return self._drain_deferred()
        elif isinstance(event, Closed):
            return SessionEnd.DISCONNECTED
        elif isinstance(event, StopRequest):
            return SessionEnd.SHUTDOWN
        return None

    def _process(self, data: bytes) -> Optional[SessionEnd]:
        response = self._dispatcher.handle(data)
        for payload in response.packets:
            self._send_packet(payload)
        if response.start_no_ack:
            self._ack_mode = False
        if response.resume is not None:
            self._start_run(response.resume)
        if response.monitor is not None:
            command = response.monitor
            self._start_job(lambda: self._dispatcher.run_monitor(command, self._post_output),
                            self._dispatcher.finish_monitor,
                            self._dispatcher.abort_monitor)
            self._job_is_monitor = True
        return response.end

    def _post_output(self, text: str) -> None:
        """Called on the worker: queue a piece of monitor output for the session's thread to send."""
        self._events.put(MonitorOutput(text))

    def _drain_deferred(self) -> Optional[SessionEnd]:
        while self._deferred and self._worker is None:
            end = self._process(self._deferred.popleft())
            if end is not None:
                return end
        return None

    # -- running the target ---------------------------------------------------

    def _execute(self, resume: Resume) -> object:
        """Runs the target as ``resume`` asks (backwards for the reverse actions)."""
        if resume.action is ResumeAction.REVERSE_STEP:
            return self.target.reverse_step()
        if resume.action is ResumeAction.REVERSE_CONTINUE:
            return self.target.reverse_continue()
        return self.target.run(resume)

    def _start_run(self, resume: Resume) -> None:
        if resume.action in (ResumeAction.STEP, ResumeAction.REVERSE_STEP):
            # A single step is short: run it here rather than on a new thread
            # (a thread per step cost ~0.4 ms a round trip). Continues need the
            # worker so that a Ctrl-C from GDB can interrupt them.
            try:
                outcome: object = self._execute(resume)
            except BaseException as exc:  # reported to GDB as an error
                outcome = exc
            self._send_packet(self._dispatcher.finish_run(outcome))
            return

        self._start_job(lambda: self._execute(resume), lambda outcome: (self._dispatcher.finish_run(outcome),),
                        self.target.interrupt)

    def _start_job(self, job: Callable[[], object], finish: Callable[[object], tuple],
                   stop: Callable[[], None]) -> None:
        """Runs ``job`` on the worker thread; ``stop`` is what a Ctrl-C calls meanwhile."""

        def work() -> None:
            try:
                outcome: object = job()
            except BaseException as exc:  # reported to GDB as an error
                outcome = exc
            self._events.put(RunDone(outcome, finish))

        self._stop_job = stop
        self._worker = threading.Thread(target=work, name="gdbstub-run", daemon=True)
        self._worker.start()

    @staticmethod
    def _noop() -> None:
        pass

    def _interrupt_target(self) -> None:
        try:
            self._stop_job()
        except Exception:
            log.exception("interrupting the target failed")

    def _await_run(self) -> None:
        """Stop a run still in progress and wait for it to return."""
        if self._worker is None:
            return
        self._interrupt_target()
        while True:
            try:
                event = self._events.get(timeout=_REINTERRUPT_SECONDS)
            except queue.Empty:
                self._interrupt_target()
                continue
            if isinstance(event, RunDone):
                event.finish(event.outcome)
                self._worker = None
                self._interrupt_requested = False
                return

    # -- sending ------------------------------------------------------------

    def _send_raw(self, data: bytes) -> None:
        try:
            self._conn.sendall(data)
        except OSError as exc:
            raise _Hangup() from exc

    def _send_packet(self, payload: bytes) -> None:
        frame = encode_packet(payload)
        self._last_sent = frame
        self._resends = 0
        self._send_raw(frame)

    def _resend(self) -> None:
        if not self._ack_mode or self._last_sent is None:
            return
        if self._resends >= _MAX_RESENDS:
            log.warning("peer keeps rejecting our packet; giving up resending")
            return
        self._resends += 1
        self._send_raw(self._last_sent)

    def _close_conn(self) -> None:
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        shutdown = getattr(self._conn, "shutdown", None)
        if shutdown is not None:
            try:
                shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        try:
            self._conn.close()
        except OSError:
            pass

"""Tests of one Session over an in-memory socket pair: acks, interrupts, runs."""

import socket
import threading

import pytest

from gdbstub import Session, SessionEnd, SwBreak
from gdbstub.framing import Ack, Nack, Packet, encode_packet
from gdbstub.target import capabilities

from gdbstub_fakes import FakeX86Target, RawClient

pytestmark = pytest.mark.timeout(60)


class Harness:
    """A Session served on a thread, talking to a RawClient over a socketpair."""

    def __init__(self, target=None):
        self.target = target or FakeX86Target()
        server_sock, client_sock = socket.socketpair()
        self.session = Session(self.target, server_sock)
        self.client = RawClient(client_sock)
        self.end = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.end = self.session.run()

    def finish(self):
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()
        self.client.close()
        return self.end


def test_ack_mode_acknowledges_and_replies():
    h = Harness()
    h.client.send_packet(b"qC")
    assert h.client.next_event() == Ack()
    assert h.client.next_event() == Packet(b"QC1")
    h.client.close()
    assert h.finish() == SessionEnd.DISCONNECTED


def test_bad_checksum_gets_nack_and_session_continues():
    h = Harness()
    h.client.send_raw(b"$qC#00")
    assert h.client.next_event() == Nack()
    assert h.client.request(b"qfThreadInfo") == b"m1"
    h.client.close()
    h.finish()


def test_no_ack_mode_stops_acknowledgements():
    h = Harness()
    assert h.client.request(b"QStartNoAckMode") == b"OK"
    h.client.send_raw(b"+")  # GDB acknowledges the OK
    h.client.send_packet(b"qC")
    assert h.client.next_event() == Packet(b"QC1")  # no '+' first
    assert not h.session.ack_mode
    h.client.send_raw(b"$qC#00")  # dropped silently in no-ack mode
    h.client.send_packet(b"qAttached")
    assert h.client.next_event() == Packet(b"1")
    h.client.close()
    h.finish()


def test_nack_makes_the_session_resend_its_last_packet():
    h = Harness()
    assert h.client.request(b"qC") == b"QC1"
    h.client.send_raw(b"-")
    assert h.client.next_event() == Packet(b"QC1")
    h.client.close()
    h.finish()


def test_repeated_nacks_stop_resending_after_three():
    h = Harness()
    assert h.client.request(b"qC") == b"QC1"
    h.client.send_raw(b"----")
    resent = [h.client.next_event() for _ in range(3)]
    assert resent == [Packet(b"QC1")] * 3
    assert h.client.request(b"qAttached") == b"1"  # not a fourth QC1
    h.client.close()
    h.finish()


def test_interrupt_stops_a_running_target():
    h = Harness()
    assert h.client.request(b"QStartNoAckMode") == b"OK"
    h.client.send_packet(b"vCont;c")
    assert h.target.running.wait(timeout=20)
    h.client.send_raw(b"\x03")
    assert h.client.next_packet() == b"T02thread:1;"
    assert h.target.interrupts >= 1
    h.client.close()
    h.finish()


def test_interrupt_right_after_continue_is_not_lost():
    h = Harness()
    h.client.send_raw(encode_packet(b"c") + b"\x03")
    assert h.client.next_packet() == b"T02thread:1;"
    h.client.close()
    h.finish()


def test_breakpoint_stop_then_packets_deferred_during_run():
    h = Harness()
    assert h.client.request(b"qSupported:swbreak+").startswith(b"PacketSize=")
    assert h.client.request(b"Z0,1040,1") == b"OK"
    assert h.client.request(b"c") == b"T05swbreak:;thread:1;"
    assert h.target.values["rip"] == 0x1040
    # Now continue with no breakpoint ahead; a packet sent meanwhile waits.
    assert h.client.request(b"z0,1040,1") == b"OK"
    h.client.send_packet(b"c")
    assert h.target.running.wait(timeout=20)
    h.client.send_packet(b"qC")
    h.client.send_raw(b"\x03")
    assert h.client.next_packet() == b"T02thread:1;"
    assert h.client.next_packet() == b"QC1"
    h.client.close()
    h.finish()


def test_disconnect_during_run_interrupts_and_waits_for_target():
    h = Harness()
    h.client.send_packet(b"vCont;c")
    assert h.target.running.wait(timeout=20)
    h.client.close()
    assert h.finish() == SessionEnd.DISCONNECTED
    assert h.target.interrupts >= 1
    assert not h.target.running.is_set()


def test_detach_replies_ok_and_closes():
    h = Harness()
    assert h.client.request(b"D") == b"OK"
    assert h.client.is_closed_by_peer()
    assert h.finish() == SessionEnd.DETACHED
    assert h.target.detached == 1


def test_kill_ends_the_session():
    h = Harness()
    h.client.send_packet(b"k")
    assert h.client.next_event() == Ack()
    assert h.finish() == SessionEnd.KILLED
    assert h.target.killed == 1


def test_stop_from_another_thread():
    h = Harness()
    assert h.client.request(b"qC") == b"QC1"
    h.session.stop()
    assert h.finish() == SessionEnd.SHUTDOWN


def test_interrupt_while_stopped_is_ignored():
    h = Harness()
    h.client.send_raw(b"\x03")
    assert h.client.request(b"?") == b"T05thread:1;"
    assert h.target.interrupts == 0
    h.client.close()
    h.finish()


def test_last_stop_seeds_the_halt_reason():
    target = FakeX86Target()
    server_sock, client_sock = socket.socketpair()
    session = Session(target, server_sock, last_stop=SwBreak())
    thread = threading.Thread(target=session.run, daemon=True)
    thread.start()
    client = RawClient(client_sock)
    assert client.request(b"?") == b"T05thread:1;"  # GDB did not ask for swbreak
    client.close()
    thread.join(timeout=30)
    assert session.last_stop == SwBreak()


class SlowMonitorTarget(FakeX86Target):
    """A fake whose ``monitor slow`` runs until it is aborted."""

    def __init__(self):
        super().__init__()
        self.monitor_started = threading.Event()
        self.aborted = threading.Event()

    def monitor_command(self, command: str) -> str:
        if command != "slow":
            return super().monitor_command(command)
        self.monitor_started.set()
        if not self.aborted.wait(timeout=30):
            return "never aborted\n"
        return "stopped early\n"

    def abort_monitor(self) -> None:
        self.aborted.set()


def _console(h) -> bytes:
    out = b""
    while (packet := h.client.next_packet()) != b"OK":
        assert packet.startswith(b"O")
        out += bytes.fromhex(packet[1:].decode())
    return out


def test_ctrl_c_aborts_a_running_monitor_command_and_the_session_goes_on():
    h = Harness(SlowMonitorTarget())
    assert h.client.request(b"QStartNoAckMode") == b"OK"
    h.client.send_packet(b"qRcmd," + b"slow".hex().encode())
    assert h.target.monitor_started.wait(timeout=20)
    h.client.send_raw(b"\x03")
    assert _console(h) == b"stopped early\n"
    h.client.send_packet(b"qRcmd," + b"hello".hex().encode())
    assert _console(h) == b"echo: hello\n"
    h.client.close()
    assert h.finish() == SessionEnd.DISCONNECTED


def test_hang_up_during_a_monitor_command_aborts_it_and_ends_the_session():
    h = Harness(SlowMonitorTarget())
    h.client.send_packet(b"qRcmd," + b"slow".hex().encode())
    assert h.target.monitor_started.wait(timeout=20)
    h.client.close()
    assert h.finish() == SessionEnd.DISCONNECTED
    assert h.target.aborted.is_set()


def test_a_target_without_abort_is_not_asked_to_abort():
    target = FakeX86Target()
    assert not capabilities(target).monitor_abort
    assert capabilities(SlowMonitorTarget()).monitor_abort


def test_a_packet_during_a_monitor_command_abandons_it_and_gets_its_own_reply():
    h = Harness(SlowMonitorTarget())
    assert h.client.request(b"QStartNoAckMode") == b"OK"
    h.client.send_packet(b"qRcmd," + b"slow".hex().encode())
    assert h.target.monitor_started.wait(timeout=20)
    # gdb's Ctrl-C ended its wait without a \x03; it goes on with another packet.
    assert h.client.request(b"qC") == b"QC1"  # not the abandoned command's late O packets
    assert h.target.aborted.is_set()
    h.client.close()
    assert h.finish() == SessionEnd.DISCONNECTED


class StreamingMonitorTarget(FakeX86Target):
    """A fake whose ``monitor stream`` yields a piece, then waits for the test
    (or an abort) before the next."""

    def __init__(self):
        super().__init__()
        self.go_on = threading.Event()
        self.aborted = threading.Event()
        self.finished = threading.Event()

    def monitor_command(self, command: str):
        if command != "stream":
            return super().monitor_command(command)
        return self._pieces()

    def _pieces(self):
        yield "first\n"
        if not (self.go_on.wait(timeout=30) and not self.aborted.is_set()):
            return
        yield "second\n"
        self.finished.set()

    def abort_monitor(self) -> None:
        self.aborted.set()
        self.go_on.set()


def test_streamed_monitor_output_reaches_gdb_while_the_command_still_runs():
    h = Harness(StreamingMonitorTarget())
    assert h.client.request(b"QStartNoAckMode") == b"OK"
    h.client.send_packet(b"qRcmd," + b"stream".hex().encode())
    # The first piece arrives while the command waits for us: it was not held back to the end.
    assert h.client.next_packet() == b"O" + b"first\n".hex().encode()
    assert not h.target.finished.is_set()
    h.target.go_on.set()
    assert _console(h) == b"second\n"
    assert h.target.finished.is_set()
    h.client.close()
    assert h.finish() == SessionEnd.DISCONNECTED


def test_ctrl_c_ends_a_streaming_monitor_command_with_nothing_after_ok():
    h = Harness(StreamingMonitorTarget())
    assert h.client.request(b"QStartNoAckMode") == b"OK"
    h.client.send_packet(b"qRcmd," + b"stream".hex().encode())
    assert h.client.next_packet() == b"O" + b"first\n".hex().encode()
    h.client.send_raw(b"\x03")
    assert _console(h) == b""
    assert h.target.aborted.is_set() and not h.target.finished.is_set()
    assert h.client.request(b"qC") == b"QC1"   # the next reply is the next packet's, not a late O
    h.client.close()
    assert h.finish() == SessionEnd.DISCONNECTED

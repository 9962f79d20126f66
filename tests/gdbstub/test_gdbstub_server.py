"""GdbServer over a real loopback socket: robustness and reconnection."""

import socket

import pytest

from gdbstub import GdbServer, SessionEnd
from gdbstub.framing import Ack, Nack, Packet, encode_packet

from gdbstub_fakes import FakeX86Target, RawClient

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def served():
    target = FakeX86Target()
    server = GdbServer(target, port=0, packet_size=0x400)
    server.start()
    yield server, target
    server.close()


def test_default_bind_is_loopback_only():
    server = GdbServer(FakeX86Target(), port=0)
    assert server.host == "127.0.0.1"
    host, port = server.listen()
    assert host == "127.0.0.1" and port > 0
    server.close()


def test_malformed_input_is_answered_or_dropped(served):
    server, target = served
    client = RawClient.connect(server.address)
    client.send_raw(b"\x00garbage\xff+")
    client.send_raw(b"$qC#00")  # bad checksum
    assert client.next_event() == Nack()
    client.send_raw(b"$qC#zz")  # checksum not hex
    assert client.next_event() == Nack()
    client.send_raw(encode_packet(b"M1000,1:" + b"00" * 0x400))  # oversized
    assert client.next_event() == Nack()
    client.send_raw(b"$*!#" + b"%02x" % (ord("*") + ord("!")))  # RLE of nothing
    assert client.next_event() == Nack()
    # a truncated escape inside a well-framed X packet is a malformed packet
    client.send_raw(encode_packet(b"X1000,1:}", escaped=False))
    assert client.next_event() == Ack()
    assert client.next_event() == Packet(b"E01")
    assert client.request(b"m1000,zz") == b"E01"
    assert client.request(b"qNoSuchThing:1") == b""  # unknown -> empty
    assert client.request(b"m0,4") == b"E0e"  # unmapped memory
    client.send_raw(b"$m10")  # a packet interrupted by a new one
    client.send_packet(b"qC")
    assert client.next_event() == Nack()  # for the truncated packet
    assert client.next_packet() == b"QC1"
    assert client.request(b"m1000,2") == b"0000"
    client.close()


def test_second_connection_after_abrupt_disconnect(served):
    server, target = served
    first = RawClient.connect(server.address)
    first.send_raw(b"$m1000,")  # hang up in the middle of a packet
    first.sock.shutdown(socket.SHUT_RDWR)
    first.close()
    second = RawClient.connect(server.address)
    assert second.request(b"qAttached") == b"1"
    second.close()


def test_detach_keeps_the_target_for_the_next_connection(served):
    server, target = served
    first = RawClient.connect(server.address)
    assert first.request(b"QStartNoAckMode") == b"OK"
    assert first.request(b"M1000,4:01020304") == b"OK"
    assert first.request(b"Z0,1080,1") == b"OK"
    assert first.request(b"c") == b"T05thread:1;"
    assert first.request(b"D") == b"OK"
    assert first.is_closed_by_peer()
    first.close()
    second = RawClient.connect(server.address)
    assert second.request(b"m1000,4") == b"01020304"
    assert second.request(b"?") == b"T05thread:1;"  # last stop carried over
    assert target.values["rip"] == 0x1080
    assert target.detached == 1
    assert second.request(b"D") == b"OK"
    second.close()
    assert server.session_ends[:1] == [SessionEnd.DETACHED]


def test_kill_then_reconnect(served):
    server, target = served
    first = RawClient.connect(server.address)
    first.send_packet(b"k")
    assert first.is_closed_by_peer()
    first.close()
    second = RawClient.connect(server.address)
    assert second.request(b"qC") == b"QC1"
    assert target.killed == 1
    second.close()


def test_close_ends_a_running_session():
    target = FakeX86Target()
    server = GdbServer(target, port=0)
    thread = server.start()
    client = RawClient.connect(server.address)
    client.send_packet(b"c")
    assert target.running.wait(timeout=20)
    server.close()
    assert not thread.is_alive()
    assert target.interrupts >= 1
    assert client.is_closed_by_peer()
    client.close()

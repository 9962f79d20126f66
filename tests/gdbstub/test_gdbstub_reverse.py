"""Tests of reverse execution in the protocol layer: ``bs``/``bc`` parsing,
the ``SupportsReverse`` capability gating, and the ``replaylog:begin`` stop reply."""

import socket
import threading

import pytest

from gdbstub import (
    Dispatcher,
    HistoryStart,
    PacketError,
    Resume,
    ResumeAction,
    Session,
    SessionEnd,
    capabilities,
    encode_stop_reply,
    parse_packet,
)
from gdbstub.execution import ReversePacket

from gdbstub_fakes import FakeReversingTarget, FakeX86Target, MinimalTarget, RawClient

pytestmark = pytest.mark.timeout(60)


def test_bs_and_bc_parse_to_reverse_packets():
    assert parse_packet(b"bs") == ReversePacket(ResumeAction.REVERSE_STEP)
    assert parse_packet(b"bc") == ReversePacket(ResumeAction.REVERSE_CONTINUE)


@pytest.mark.parametrize("payload", [b"bs1", b"bc;1", b"bsx"])
def test_reverse_packets_with_arguments_are_malformed(payload):
    with pytest.raises(PacketError):
        parse_packet(payload)


@pytest.mark.parametrize("payload", [b"b", b"b9600", b"bX"])
def test_other_b_packets_are_unsupported(payload):
    assert parse_packet(payload) is None


def test_history_start_is_gdbs_replaylog_begin():
    assert encode_stop_reply(HistoryStart()) == b"T05replaylog:begin;"
    assert encode_stop_reply(HistoryStart(), thread=None, swbreak=True) == b"T05replaylog:begin;"


def test_reverse_capability_is_discovered_by_its_methods():
    assert capabilities(FakeReversingTarget()).reverse
    assert not capabilities(FakeX86Target()).reverse
    assert not capabilities(MinimalTarget()).reverse


def test_qsupported_advertises_reverse_only_with_the_capability():
    def features(target):
        response = Dispatcher(target).handle(b"qSupported:swbreak+")
        return response.packets[0].split(b";")

    with_reverse = features(FakeReversingTarget())
    assert b"ReverseStep+" in with_reverse and b"ReverseContinue+" in with_reverse
    for target in (FakeX86Target(), MinimalTarget()):
        without = features(target)
        assert b"ReverseStep+" not in without and b"ReverseContinue+" not in without


@pytest.mark.parametrize("target", [FakeX86Target(), MinimalTarget()], ids=["x86", "minimal"])
def test_without_the_capability_bs_and_bc_get_the_empty_reply(target):
    d = Dispatcher(target)
    for payload in (b"bs", b"bc"):
        response = d.handle(payload)
        assert response.packets == (b"",) and response.resume is None


def test_with_the_capability_bs_and_bc_are_reverse_resumes():
    d = Dispatcher(FakeReversingTarget())
    assert d.handle(b"bs").resume == Resume(ResumeAction.REVERSE_STEP)
    assert d.handle(b"bc").resume == Resume(ResumeAction.REVERSE_CONTINUE)
    assert d.handle(b"bs1").packets == (b"E01",)


def test_a_session_runs_the_target_backwards():
    target = FakeReversingTarget(mem_base=0x1000)
    target.values["rip"] = 0x1010
    server_sock, client_sock = socket.socketpair()
    session = Session(target, server_sock)
    client = RawClient(client_sock)
    ends = []
    thread = threading.Thread(target=lambda: ends.append(session.run()), daemon=True)
    thread.start()
    try:
        client.request(b"QStartNoAckMode")
        assert client.request(b"qSupported:swbreak+").count(b"Reverse") == 2
        assert client.request(b"Z0,1004,1") == b"OK"
        assert client.request(b"bs") == b"T05thread:1;"
        assert target.values["rip"] == 0x100F
        assert client.request(b"bc") == b"T05swbreak:;thread:1;"
        assert target.values["rip"] == 0x1004
        assert client.request(b"bc") == b"T05replaylog:begin;"
        assert target.values["rip"] == 0x1000
        assert client.request(b"?") == b"T05replaylog:begin;"
        assert client.request(b"bs") == b"T05replaylog:begin;"
        assert target.reverses == ["step", "continue", "continue", "step"]
        assert target.resumes == []  # never ran forwards
        client.request(b"D")
    finally:
        thread.join(timeout=30)
        client.close()
    assert ends == [SessionEnd.DETACHED]

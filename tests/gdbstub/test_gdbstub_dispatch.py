"""Tests of the I/O-free Dispatcher and of stop-reply encoding."""

import pytest

from gdbstub import (
    TargetError,
    SIGBUS,
    SIGINT,
    Dispatcher,
    DoneStep,
    Exited,
    HwBreak,
    Resume,
    ResumeAction,
    SessionEnd,
    Signal,
    SignalStop,
    SwBreak,
    Terminated,
    Watch,
    WatchKind,
    capabilities,
    encode_stop_reply,
)
from gdbstub.framing import unescape

from gdbstub_fakes import REG_INDEX, FakeX86Target, MinimalTarget, x86_target_xml


def reply(dispatcher, payload):
    response = dispatcher.handle(payload)
    assert response.resume is None and response.end is None
    assert len(response.packets) == 1
    return response.packets[0]


# -- stop replies ---------------------------------------------------------------


def test_signal_numbers_follow_gdb_numbering():
    assert (Signal.SIGINT, Signal.SIGTRAP, Signal.SIGSEGV) == (2, 5, 11)
    assert (Signal.SIGILL, Signal.SIGFPE, Signal.SIGKILL, Signal.SIGBUS) == (4, 8, 9, 10)


@pytest.mark.parametrize(
    "reason, kwargs, expected",
    [
        (DoneStep(), {}, b"T05thread:1;"),
        (SignalStop(SIGINT), {}, b"T02thread:1;"),
        (SignalStop(SIGBUS), {"thread": None}, b"T0a"),
        (SwBreak(), {"swbreak": True}, b"T05swbreak:;thread:1;"),
        (SwBreak(), {}, b"T05thread:1;"),
        (HwBreak(), {"hwbreak": True}, b"T05hwbreak:;thread:1;"),
        (Watch(WatchKind.WRITE, 0x2000), {}, b"T05watch:2000;thread:1;"),
        (Watch(WatchKind.READ, 0x10), {}, b"T05rwatch:10;thread:1;"),
        (Watch(WatchKind.ACCESS, 0xABC), {}, b"T05awatch:abc;thread:1;"),
        (Exited(3), {}, b"W03"),
        (Terminated(Signal.SIGSEGV), {}, b"X0b"),
    ],
)
def test_encode_stop_reply(reason, kwargs, expected):
    assert encode_stop_reply(reason, **kwargs) == expected


def test_encode_stop_reply_rejects_other_objects():
    with pytest.raises(TypeError):
        encode_stop_reply("stopped")


# -- capabilities and qSupported ------------------------------------------------------


def test_capabilities_are_discovered_by_methods():
    full = capabilities(FakeX86Target())
    assert full.sw_breakpoints and full.monitor_command and full.detach and full.kill
    assert not full.hw_breakpoints and not full.watchpoints
    bare = capabilities(MinimalTarget())
    assert not any(vars(bare).values())


def test_qsupported_advertises_only_what_the_target_has():
    full = reply(Dispatcher(FakeX86Target()), b"qSupported:swbreak+;hwbreak+").split(b";")
    assert b"PacketSize=20000" in full and b"QStartNoAckMode+" in full
    assert b"vContSupported+" in full
    assert b"qXfer:features:read+" in full and b"swbreak+" in full
    assert b"hwbreak+" not in full
    bare = reply(Dispatcher(MinimalTarget()), b"qSupported").split(b";")
    assert b"swbreak+" not in bare and b"qXfer:features:read+" not in bare


def test_missing_capabilities_get_empty_replies():
    d = Dispatcher(MinimalTarget())
    assert reply(d, b"Z0,10,1") == b""
    assert reply(d, b"z0,10,1") == b""
    assert reply(d, b"Z2,10,4") == b""
    assert reply(d, b"qRcmd,6869") == b""
    assert reply(d, b"qXfer:features:read:target.xml:0,100") == b""


def test_fixed_queries():
    d = Dispatcher(MinimalTarget())
    assert reply(d, b"vCont?") == b"vCont;c;C;s;S"
    assert reply(d, b"qfThreadInfo") == b"m1"
    assert reply(d, b"qsThreadInfo") == b"l"
    assert reply(d, b"qC") == b"QC1"
    assert reply(d, b"qAttached") == b"1"
    assert reply(d, b"?") == b"T05thread:1;"
    assert reply(d, b"Hg0") == b"OK" and reply(d, b"Hc-1") == b"OK"
    assert reply(d, b"Hg2").startswith(b"E")
    assert reply(d, b"T1") == b"OK" and reply(d, b"T2").startswith(b"E")
    assert reply(d, b"vMustReplyEmpty") == b""


def test_malformed_packet_gets_e01():
    assert reply(Dispatcher(MinimalTarget()), b"m12") == b"E01"


# -- registers and memory ------------------------------------------------------


def test_register_access():
    target = FakeX86Target()
    d = Dispatcher(target)
    regs = bytes.fromhex(reply(d, b"g").decode())
    assert len(regs) == len(target.read_registers())
    assert regs[16 * 8 : 17 * 8] == (0x1000).to_bytes(8, "little")
    rip = REG_INDEX["rip"]
    assert reply(d, b"p%x" % rip) == (0x1000).to_bytes(8, "little").hex().encode()
    assert reply(d, b"P%x=%s" % (rip, (0x1234).to_bytes(8, "little").hex().encode())) == b"OK"
    assert target.values["rip"] == 0x1234
    assert reply(d, b"p999").startswith(b"E")
    assert reply(d, b"G" + regs.hex().encode()) == b"OK"
    assert target.values["rip"] == 0x1000
    assert reply(d, b"G00").startswith(b"E")


def test_memory_access():
    target = FakeX86Target()
    target.memory[:4] = b"\xde\xad\xbe\xef"
    d = Dispatcher(target)
    assert reply(d, b"m1000,4") == b"deadbeef"
    assert reply(d, b"M1004,2:cafe") == b"OK"
    assert reply(d, b"X1006,2:}\x03}\x04") == b"OK"
    assert target.memory[4:8] == b"\xca\xfe#$"
    assert reply(d, b"X1000,0:") == b"OK"  # GDB's probe for X support
    assert reply(d, b"m0,4") == b"E0e"  # unmapped
    assert reply(d, b"M0,1:00") == b"E0e"


def test_memory_read_is_clamped_to_packet_size_and_may_be_partial():
    target = FakeX86Target(mem_size=0x1000)
    d = Dispatcher(target, packet_size=256)
    assert len(reply(d, b"m1000,1000")) <= 255
    assert reply(d, b"m1ffe,10") == b"0000"  # only two bytes mapped


def test_target_xml_is_served_in_chunks():
    d = Dispatcher(FakeX86Target(), packet_size=256)
    xml = x86_target_xml().encode()
    received, offset = b"", 0
    while True:
        chunk = reply(d, b"qXfer:features:read:target.xml:%x,%x" % (offset, 0x1000))
        assert chunk[:1] in (b"m", b"l")
        data = unescape(chunk[1:])
        received += data
        offset += len(data)
        if chunk[:1] == b"l":
            break
    assert received == xml
    assert reply(d, b"qXfer:features:read:nope.xml:0,100") == b"E00"
    assert reply(d, b"qXfer:libraries:read::0,100") == b""


# -- breakpoints, monitor, execution ---------------------------------------------------


def test_software_breakpoints_reach_the_target():
    target = FakeX86Target()
    d = Dispatcher(target)
    assert reply(d, b"Z0,1010,1") == b"OK"
    assert target.sw_breakpoints == {0x1010}
    assert reply(d, b"z0,1010,1") == b"OK"
    assert reply(d, b"z0,1010,1") == b"E01"  # the target refused
    assert target.sw_breakpoints == set()
    assert reply(d, b"Z1,1010,1") == b""  # no hardware breakpoints


def test_monitor_command_output_as_console_packets():
    target = FakeX86Target()
    d = Dispatcher(target, packet_size=64)
    command = "info " + "x" * 40
    response = d.handle(b"qRcmd," + command.encode().hex().encode())
    assert response.packets == () and response.monitor == command  # run by the session, off its thread
    streamed = []
    packets = d.finish_monitor(d.run_monitor(response.monitor, streamed.append))
    assert streamed == []   # a target answering with one string streams nothing
    assert packets[-1] == b"OK"
    console = packets[:-1]
    assert len(console) > 1  # split to fit the packet size
    assert all(p.startswith(b"O") and len(p) <= 64 for p in console)
    output = b"".join(bytes.fromhex(p[1:].decode()) for p in console)
    assert output == f"echo: {command}\n".encode()
    assert target.monitor_log == [command]
    failed = d.handle(b"qRcmd," + b"fail".hex().encode()).monitor
    with pytest.raises(TargetError) as error:
        d.run_monitor(failed, streamed.append)
    assert d.finish_monitor(error.value) == (b"E0e",)


def test_monitor_output_a_target_streams_goes_to_the_writer_piece_by_piece():
    class Streaming(FakeX86Target):
        def monitor_command(self, command):
            return iter(["one\n", "", "two\n"])

    d = Dispatcher(Streaming(), packet_size=64)
    streamed = []
    assert d.run_monitor("list", streamed.append) == ""
    assert streamed == ["one\n", "two\n"]       # empty pieces are not sent
    assert d.console_packets("one\n") == (b"O" + b"one\n".hex().encode(),)


def test_resume_requests_and_stop_replies():
    target = FakeX86Target()
    d = Dispatcher(target)
    d.handle(b"qSupported:swbreak+")
    response = d.handle(b"vCont;c")
    assert response.resume == Resume(ResumeAction.CONTINUE)
    assert d.handle(b"vCont;s:1;c").resume == Resume(ResumeAction.STEP)
    assert d.handle(b"vCont;C0b").resume == Resume(ResumeAction.CONTINUE, 11)
    assert d.handle(b"s").resume == Resume(ResumeAction.STEP)
    assert d.handle(b"c1000").resume == Resume(ResumeAction.CONTINUE, 0, 0x1000)
    assert reply(d, b"vCont;c:2").startswith(b"E")
    assert d.finish_run(SwBreak()) == b"T05swbreak:;thread:1;"
    assert reply(d, b"?") == b"T05swbreak:;thread:1;"
    assert d.finish_run(Exited(0)) == b"W00"
    assert reply(d, b"?") == b"W00"


def test_failed_run_is_reported_as_error():
    d = Dispatcher(MinimalTarget())
    assert d.finish_run(RuntimeError("boom")) == b"E01"
    assert d.finish_run("not a stop reason") == b"E01"
    assert reply(d, b"?") == b"T05thread:1;"


def test_no_ack_detach_and_kill_responses():
    target = FakeX86Target()
    d = Dispatcher(target)
    no_ack = d.handle(b"QStartNoAckMode")
    assert no_ack.packets == (b"OK",) and no_ack.start_no_ack
    detach = d.handle(b"D")
    assert detach.packets == (b"OK",) and detach.end == SessionEnd.DETACHED
    assert target.detached == 1
    kill = d.handle(b"k")
    assert kill.packets == () and kill.end == SessionEnd.KILLED
    assert d.handle(b"vKill;1").packets == (b"OK",)
    assert target.killed == 2


def test_target_exceptions_never_escape():
    class Broken(MinimalTarget):
        def read_registers(self):
            raise RuntimeError("bug in target")

    assert reply(Dispatcher(Broken()), b"g") == b"E01"

"""One test per packet parser: good packets give fields, malformed ones PacketError."""

import dataclasses

import pytest

from gdbstub import PacketError, ResumeAction, parse_packet
from gdbstub.execution import (
    Detach,
    Kill,
    ResumePacket,
    SetThread,
    ThreadAlive,
    ThreadOp,
    VCont,
    VContAction,
    VContQuery,
)
from gdbstub.packets import (
    BreakpointType,
    InsertBreakpoint,
    QueryHaltReason,
    ReadMemory,
    ReadRegister,
    ReadRegisters,
    RemoveBreakpoint,
    WriteMemory,
    WriteRegister,
    WriteRegisters,
)
from gdbstub.queries import (
    MonitorCommand,
    QSupported,
    QueryAttached,
    QueryCurrentThread,
    QXferRead,
    StartNoAckMode,
    ThreadInfoFirst,
    ThreadInfoNext,
)


def bad(*payloads):
    for payload in payloads:
        with pytest.raises(PacketError):
            parse_packet(payload)
            print("accepted:", payload)


def test_parsed_packets_are_frozen():
    packet = parse_packet(b"m10,4")
    with pytest.raises(dataclasses.FrozenInstanceError):
        packet.address = 0


def test_halt_reason():
    assert parse_packet(b"?") == QueryHaltReason()
    bad(b"?x")


def test_read_registers():
    assert parse_packet(b"g") == ReadRegisters()
    bad(b"g1")


def test_write_registers():
    assert parse_packet(b"G0011aAbB") == WriteRegisters(b"\x00\x11\xaa\xbb")
    bad(b"G", b"G0", b"G0g", b"G 00")


def test_read_register():
    assert parse_packet(b"p10") == ReadRegister(0x10)
    bad(b"p", b"px", b"p-1", b"p10000")


def test_write_register():
    assert parse_packet(b"P10=0102") == WriteRegister(0x10, b"\x01\x02")
    bad(b"P10", b"P=00", b"P10=", b"P10=0", b"Px=00")


def test_read_memory():
    assert parse_packet(b"mffff8000,40") == ReadMemory(0xFFFF8000, 0x40)
    bad(b"m", b"m1000", b"m1000,", b"m,4", b"m0x10,4", b"m10000000000000000,1")


def test_write_memory_hex():
    assert parse_packet(b"M1000,2:abcd") == WriteMemory(0x1000, b"\xab\xcd")
    assert parse_packet(b"M1000,0:") == WriteMemory(0x1000, b"")
    bad(b"M1000,2", b"M1000,2:ab", b"M1000,1:abcd", b"M1000,1:zz", b"M,1:ab")


def test_write_memory_binary_unescapes():
    assert parse_packet(b"X1000,3:a}\x03b") == WriteMemory(0x1000, b"a#b")
    assert parse_packet(b"X2000,0:") == WriteMemory(0x2000, b"")
    bad(b"X1000,2:a}", b"X1000,5:abc", b"X1000:ab", b"Xzz,1:a")


def test_insert_and_remove_breakpoint():
    assert parse_packet(b"Z0,1010,1") == InsertBreakpoint(BreakpointType.SOFTWARE, 0x1010, 1)
    assert parse_packet(b"z1,2000,1") == RemoveBreakpoint(BreakpointType.HARDWARE, 0x2000, 1)
    assert parse_packet(b"Z4,3000,8") == InsertBreakpoint(BreakpointType.ACCESS_WATCH, 0x3000, 8)
    # condition lists after ';' are ignored
    assert parse_packet(b"Z0,10,1;X2,0a") == InsertBreakpoint(BreakpointType.SOFTWARE, 0x10, 1)
    # an unknown type is well-formed but unsupported
    assert parse_packet(b"Z5,1000,1") is None
    bad(b"Z0,1000", b"Z,1000,1", b"Zx,1000,1", b"z0,1000,1,2", b"Z")


def test_resume_packets():
    assert parse_packet(b"c") == ResumePacket(ResumeAction.CONTINUE)
    assert parse_packet(b"s") == ResumePacket(ResumeAction.STEP)
    assert parse_packet(b"c1000") == ResumePacket(ResumeAction.CONTINUE, 0, 0x1000)
    assert parse_packet(b"s2000") == ResumePacket(ResumeAction.STEP, 0, 0x2000)
    assert parse_packet(b"C0b") == ResumePacket(ResumeAction.CONTINUE, 11)
    assert parse_packet(b"S05;1234") == ResumePacket(ResumeAction.STEP, 5, 0x1234)
    bad(b"cxyz", b"C", b"C100", b"S05;", b"s;1")


def test_vcont_query_and_actions():
    assert parse_packet(b"vCont?") == VContQuery()
    assert parse_packet(b"vCont;c") == VCont((VContAction(ResumeAction.CONTINUE),))
    packet = parse_packet(b"vCont;s:1;C0a:-1;S02:p1.1")
    assert packet == VCont(
        (
            VContAction(ResumeAction.STEP, 0, 1),
            VContAction(ResumeAction.CONTINUE, 10, -1),
            VContAction(ResumeAction.STEP, 2, 1),
        )
    )
    assert packet.action_for(1).action == ResumeAction.STEP
    assert parse_packet(b"vCont;c:2").action_for(1) is None
    bad(b"vCont", b"vCont;", b"vCont;x", b"vCont;t", b"vCont;r10,20", b"vCont;C", b"vCont;c:")


def test_set_thread():
    assert parse_packet(b"Hg0") == SetThread(ThreadOp.GENERAL, 0)
    assert parse_packet(b"Hc-1") == SetThread(ThreadOp.CONTINUE, -1)
    assert parse_packet(b"Hgp1.2") == SetThread(ThreadOp.GENERAL, 2)
    assert parse_packet(b"Hz1") is None
    bad(b"Hg", b"Hgx", b"Hc-2")


def test_thread_alive():
    assert parse_packet(b"T1") == ThreadAlive(1)
    bad(b"T", b"Tq")


def test_detach_and_kill():
    assert parse_packet(b"D") == Detach()
    assert parse_packet(b"D;1f") == Detach(0x1F)
    assert parse_packet(b"k") == Kill()
    assert parse_packet(b"vKill;2a") == Kill(0x2A, needs_reply=True)
    bad(b"Dx", b"D;", b"kk", b"vKill;", b"vKill")


def test_qsupported():
    packet = parse_packet(b"qSupported:multiprocess+;swbreak+;hwbreak-;foo?;xmlRegisters=i386")
    assert packet == QSupported(
        (
            ("multiprocess", "+"),
            ("swbreak", "+"),
            ("hwbreak", "-"),
            ("foo", "?"),
            ("xmlRegisters", "i386"),
        )
    )
    assert packet.supports("swbreak") and not packet.supports("hwbreak")
    assert packet.value("xmlRegisters") == "i386" and packet.value("nope") is None
    assert parse_packet(b"qSupported") == QSupported()
    bad(b"qSupported:swbreak", b"qSupported:+", b"qSupported:a b+", b"qSupported:x=\xff")


def test_qxfer_read():
    assert parse_packet(b"qXfer:features:read:target.xml:0,ffb") == QXferRead(
        "features", "target.xml", 0, 0xFFB
    )
    assert parse_packet(b"qXfer:features:read::10,20") == QXferRead("features", "", 0x10, 0x20)
    assert parse_packet(b"qXfer:features:write:target.xml:0:abc") is None
    bad(
        b"qXfer:features:read:target.xml",
        b"qXfer:features:read:target.xml:0",
        b"qXfer:features:read:target.xml:x,1",
        b"qXfer::read:a:0,1",
        b"qXfer:features",
    )


def test_qrcmd():
    assert parse_packet(b"qRcmd," + b"help".hex().encode()) == MonitorCommand(b"help")
    assert parse_packet(b"qRcmd,") == MonitorCommand(b"")
    bad(b"qRcmd,6", b"qRcmd,zz", b"qRcmd:68")


def test_qattached():
    assert parse_packet(b"qAttached") == QueryAttached()
    assert parse_packet(b"qAttached:1") == QueryAttached(1)
    bad(b"qAttached:", b"qAttached:x")


def test_argumentless_queries():
    assert parse_packet(b"qC") == QueryCurrentThread()
    assert parse_packet(b"qfThreadInfo") == ThreadInfoFirst()
    assert parse_packet(b"qsThreadInfo") == ThreadInfoNext()
    assert parse_packet(b"QStartNoAckMode") == StartNoAckMode()
    bad(b"qC:1", b"qfThreadInfo,1", b"QStartNoAckMode;x")


@pytest.mark.parametrize(
    "payload",
    [b"", b"vMustReplyEmpty", b"qTStatus", b"qCRC:0,10", b"qOffsets", b"!", b"x10,4", b"qSymbol::"],
)
def test_unknown_packets_parse_to_none(payload):
    assert parse_packet(payload) is None

"""Property tests: no input makes the decoder, parsers or dispatcher raise."""

import socket
import threading

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gdbstub import Dispatcher, PacketError, Session, parse_packet
from gdbstub.framing import (
    Ack,
    BadPacket,
    Decoder,
    Interrupt,
    Nack,
    Packet,
    encode_packet,
    unescape,
)

from gdbstub_fakes import FakeX86Target, MinimalTarget, RawClient

# Packets a real GDB sends, as seeds for mutation.
SAMPLE_PACKETS = [
    b"qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+;xmlRegisters=i386",
    b"vMustReplyEmpty",
    b"QStartNoAckMode",
    b"Hg0",
    b"qXfer:features:read:target.xml:0,ffb",
    b"qTStatus",
    b"?",
    b"qfThreadInfo",
    b"qsThreadInfo",
    b"qAttached",
    b"Hc-1",
    b"qC",
    b"g",
    b"G" + b"00" * 276,
    b"p10",
    b"P10=0010000000000000",
    b"m1000,40",
    b"M1000,4:deadbeef",
    b"X1000,4:a}\x03}]b",
    b"Z0,1010,1",
    b"z0,1010,1",
    b"Z2,1100,8",
    b"vCont?",
    b"vCont;s:1;c",
    b"vCont;C0b",
    b"s",
    b"c",
    b"T1",
    b"qRcmd,68656c70",
    b"0* ",
]

EVENT_TYPES = (Packet, Ack, Nack, Interrupt, BadPacket)


class _NeverBlocking(FakeX86Target):
    def __init__(self):
        super().__init__(blocking=False)


def drive(dispatcher, stream, chunk_sizes=None):
    """Decode ``stream`` and dispatch every packet, running resumes inline."""
    decoder = Decoder(dispatcher.packet_size)
    events = []
    if chunk_sizes:
        pos = 0
        for size in chunk_sizes:
            events += decoder.feed(stream[pos : pos + size])
            pos += size
        events += decoder.feed(stream[pos:])
    else:
        events = decoder.feed(stream)
    for event in events:
        assert isinstance(event, EVENT_TYPES)
        if not isinstance(event, Packet):
            continue
        response = dispatcher.handle(event.data)
        payloads = list(response.packets)
        if response.resume is not None:
            try:
                outcome = dispatcher.target.run(response.resume)
            except Exception as exc:
                outcome = exc
            payloads.append(dispatcher.finish_run(outcome))
        for payload in payloads:
            assert isinstance(payload, bytes)
            # every reply survives framing: GDB would decode what we meant
            (decoded,) = Decoder(1 << 20).feed(encode_packet(payload))
            assert unescape(decoded.data) == payload
    return events


@given(st.binary(max_size=512), st.lists(st.integers(1, 64), max_size=16))
def test_decoder_never_raises_and_is_chunking_independent(stream, chunks):
    whole = Decoder(128).feed(stream)
    assert all(isinstance(e, EVENT_TYPES) for e in whole)
    pieces, pos, decoder = [], 0, Decoder(128)
    for size in chunks:
        pieces += decoder.feed(stream[pos : pos + size])
        pos += size
    pieces += decoder.feed(stream[pos:])
    assert pieces == whole


@given(st.binary(max_size=1024))
def test_payloads_survive_encode_then_decode(payload):
    events = Decoder(4096).feed(encode_packet(payload))
    assert len(events) == 1 and isinstance(events[0], Packet)
    assert unescape(events[0].data) == payload


@given(st.lists(st.binary(max_size=64), max_size=8))
def test_packet_sequences_decode_in_order(payloads):
    stream = b"+".join(encode_packet(p) for p in payloads)
    packets = [unescape(e.data) for e in Decoder(4096).feed(stream) if isinstance(e, Packet)]
    assert packets == payloads


@given(st.binary(max_size=256))
def test_parse_packet_raises_only_packet_error(data):
    try:
        parse_packet(data)
    except PacketError:
        pass


@st.composite
def mutated_packet(draw):
    data = bytearray(draw(st.sampled_from(SAMPLE_PACKETS)))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data.insert(pos, draw(st.sampled_from(b"#$}*\x03:,;=-+0fFzZ")))
        elif op == "delete" and data:
            del data[pos]
        elif op == "truncate":
            del data[pos:]
    return bytes(data)


@given(st.lists(mutated_packet(), min_size=1, max_size=8), st.booleans())
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_mutated_packets_never_break_the_dispatcher(payloads, frame_correctly):
    dispatcher = Dispatcher(_NeverBlocking(), packet_size=0x400)
    if frame_correctly:  # valid frames, mutated contents
        stream = b"".join(encode_packet(p, escaped=False) for p in payloads)
    else:  # mutated frames too
        stream = b"".join(b"$" + p + b"#00" for p in payloads)
    drive(dispatcher, stream)


@given(st.binary(max_size=512), st.lists(st.integers(1, 32), max_size=8))
def test_random_streams_never_break_the_dispatcher(stream, chunks):
    drive(Dispatcher(MinimalTarget(), packet_size=0x100), stream, chunks)


@pytest.mark.timeout(120)
@given(st.binary(max_size=256))
@settings(max_examples=25, deadline=None)
def test_session_survives_random_bytes_then_answers(junk):
    assume(not any(end in junk for end in (b"$k#", b"$D", b"$vKill")))  # would end the session
    target = FakeX86Target(blocking=False)
    server_sock, client_sock = socket.socketpair()
    session = Session(target, server_sock)
    thread = threading.Thread(target=session.run, daemon=True)
    thread.start()
    client = RawClient(client_sock)
    try:
        client.send_raw(junk + encode_packet(b"qC"))
        # a '$' ends whatever the junk left open, so qC must be answered
        while True:
            event = client.next_event()
            if event == Packet(b"QC1"):
                break
    finally:
        client.close()
        thread.join(timeout=30)
    assert not thread.is_alive()


@given(st.binary(max_size=20_000))
def test_checksum_of_any_length_is_the_byte_sum(data):
    from gdbstub.framing import checksum

    assert checksum(data) == sum(data) & 0xFF


def test_checksum_of_long_runs_of_0xff_is_exact():
    from gdbstub.framing import checksum

    for n in (255, 256, 257, 512, 16383, 16384):
        assert checksum(b"\xff" * n) == (255 * n) & 0xFF

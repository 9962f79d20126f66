"""Unit tests of gdbstub.framing: checksums, escapes, RLE, acks, interrupts."""

import pytest

from gdbstub.framing import (
    Ack,
    BadPacket,
    BadPacketReason,
    Decoder,
    Interrupt,
    Nack,
    Packet,
    checksum,
    encode_packet,
    escape,
    expand_rle,
    unescape,
)


def test_checksum_is_byte_sum_mod_256():
    assert checksum(b"") == 0
    assert checksum(b"g") == 0x67
    assert checksum(b"OK") == 0x9A
    assert checksum(b"\xff\xff") == 0xFE


def test_encode_known_packets():
    assert encode_packet(b"OK") == b"$OK#9a"
    assert encode_packet(b"") == b"$#00"
    assert encode_packet(b"m1000,4") == b"$m1000,4#" + b"%02x" % checksum(b"m1000,4")


def test_escape_special_bytes():
    assert escape(b"a#b$c}d*e") == b"a}\x03b}\x04c}]d}\x0ae"
    assert escape(b"plain") == b"plain"
    assert unescape(b"a}\x03b}\x04c}]d}\x0ae") == b"a#b$c}d*e"


def test_unescape_truncated_escape_raises_value_error():
    with pytest.raises(ValueError):
        unescape(b"abc}")


def test_encoder_checksum_covers_escaped_bytes():
    frame = encode_packet(b"#")
    assert frame == b"$}\x03#" + b"%02x" % checksum(b"}\x03")
    assert Decoder().feed(frame) == [Packet(b"}\x03")]


def test_encode_decode_round_trip_with_binary_payload():
    payload = bytes(range(256))
    events = Decoder(1024).feed(encode_packet(payload))
    assert len(events) == 1 and isinstance(events[0], Packet)
    assert unescape(events[0].data) == payload


def test_rle_expansion_from_the_manual():
    # "0* " means '0' repeated 32 - 29 = 3 more times.
    assert expand_rle(b"0* ") == b"0000"
    assert expand_rle(b"a*!b") == b"aaaaab"


def test_rle_repeats_a_whole_escape_pair():
    assert expand_rle(b"}]* ") == b"}]" * 4


@pytest.mark.parametrize("data", [b"*!", b"a*", b"a*#", b"a*$", b"a*\x1f", b"a*\x7f", b"a* * "])
def test_rle_malformed(data):
    with pytest.raises(ValueError):
        expand_rle(data)


def test_decoder_expands_rle_in_packets():
    raw = b"0* "
    frame = b"$" + raw + b"#" + b"%02x" % checksum(raw)
    assert Decoder().feed(frame) == [Packet(b"0000")]


def test_decoder_reports_acks_nacks_and_interrupts_between_packets():
    stream = b"+" + encode_packet(b"g") + b"-\x03" + encode_packet(b"?") + b"+"
    assert Decoder().feed(stream) == [Ack(), Packet(b"g"), Nack(), Interrupt(), Packet(b"?"), Ack()]


def test_interrupt_byte_inside_a_packet_is_data():
    frame = encode_packet(b"X1000,1:\x03")
    assert Decoder().feed(frame) == [Packet(b"X1000,1:\x03")]


def test_decoder_is_incremental_byte_by_byte():
    stream = encode_packet(b"qSupported:swbreak+") + b"\x03"
    decoder = Decoder()
    events = []
    for i in range(len(stream)):
        events += decoder.feed(stream[i : i + 1])
    assert events == [Packet(b"qSupported:swbreak+"), Interrupt()]


def test_bad_checksum_is_reported_not_raised():
    events = Decoder().feed(b"$g#00" + encode_packet(b"g"))
    assert isinstance(events[0], BadPacket) and events[0].reason == BadPacketReason.CHECKSUM
    assert events[1] == Packet(b"g")


def test_non_hex_checksum_is_reported():
    (event,) = Decoder().feed(b"$g#zz")
    assert event.reason == BadPacketReason.MALFORMED_CHECKSUM
    assert event.description


def test_checksum_digits_accept_upper_case():
    assert Decoder().feed(b"$OK#9A") == [Packet(b"OK")]


def test_bad_rle_is_reported():
    raw = b"*!"
    (event,) = Decoder().feed(b"$" + raw + b"#" + b"%02x" % checksum(raw))
    assert event.reason == BadPacketReason.BAD_RLE


def test_garbage_between_packets_is_dropped_and_counted():
    decoder = Decoder()
    events = decoder.feed(b"hello" + encode_packet(b"g") + b"\x00\xff")
    assert events == [Packet(b"g")]
    assert decoder.garbage_bytes == 7


def test_new_dollar_inside_packet_resynchronises():
    events = Decoder().feed(b"$m10,4" + encode_packet(b"g"))
    assert [type(e) for e in events] == [BadPacket, Packet]
    assert events[0].reason == BadPacketReason.TRUNCATED
    assert events[1] == Packet(b"g")


def test_dollar_in_checksum_position_resynchronises():
    events = Decoder().feed(b"$g#6" + encode_packet(b"?"))
    assert events[0].reason == BadPacketReason.TRUNCATED
    assert events[1] == Packet(b"?")


def test_oversized_packet_is_dropped_then_decoder_recovers():
    decoder = Decoder(max_packet_size=16)
    big = encode_packet(b"M0,20:" + b"00" * 32)
    events = decoder.feed(big + encode_packet(b"g"))
    assert events[0] == BadPacket(BadPacketReason.OVERSIZED, events[0].data)
    assert len(events[0].data) <= 16
    assert events[1] == Packet(b"g")


def test_packet_at_exact_size_limit_is_accepted():
    decoder = Decoder(max_packet_size=8)
    assert decoder.feed(encode_packet(b"12345678")) == [Packet(b"12345678")]


def test_rle_expansion_past_limit_is_oversized():
    decoder = Decoder(max_packet_size=8)
    raw = b"0*~"  # expands to 98 bytes
    (event,) = decoder.feed(b"$" + raw + b"#" + b"%02x" % checksum(raw))
    assert event.reason == BadPacketReason.OVERSIZED


def test_decoder_rejects_nonpositive_limit():
    with pytest.raises(ValueError):
        Decoder(0)

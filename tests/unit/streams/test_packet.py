"""RtpPacket: exact parsing of binary fixtures, round trips, exact error messages, fuzzing."""

from __future__ import annotations

import re

import numpy as np
import pytest

from semtalk.streams.packet import RtpPacket, SequenceUnwrapper, seq_distance

# V=2, no P/X/CC, M=0, PT=96, seq=1, ts=3000, ssrc=0x12345678, payload "hello"
SIMPLE = bytes.fromhex("8060 0001 00000bb8 12345678") + b"hello"
# CC=2, M=1, PT=96, seq=65535, ts=2**32-1, ssrc=0xdeadbeef, CSRCs 1 and 2, payload "x"
MARKER_CSRC = bytes.fromhex("82e0 ffff ffffffff deadbeef 00000001 00000002") + b"x"
# P=1: payload "ab" then 3 padding bytes (the last one is the count)
PADDED = bytes.fromhex("a060 0002 00000000 00000001") + b"ab" + bytes.fromhex("000003")
# X=1: extension profile 0xbede, one word, then payload "pl"
EXTENDED = bytes.fromhex("9060 0003 00000000 00000001 bede0001 01020304") + b"pl"


def test_parse_simple_fixture():
    pkt = RtpPacket.parse(SIMPLE)
    expected = RtpPacket(
        payload_type=96, sequence_number=1, timestamp=3000, ssrc=0x12345678, payload=b"hello"
    )
    assert pkt == expected
    assert not pkt.marker and pkt.csrc == () and pkt.padding == 0 and pkt.extension is None


def test_parse_marker_and_csrc_fixture():
    pkt = RtpPacket.parse(MARKER_CSRC)
    assert pkt.marker is True
    assert (pkt.payload_type, pkt.sequence_number, pkt.timestamp) == (96, 65535, 2**32 - 1)
    assert pkt.ssrc == 0xDEADBEEF
    assert pkt.csrc == (1, 2)
    assert pkt.payload == b"x"


def test_parse_padding_fixture_strips_padding():
    pkt = RtpPacket.parse(PADDED)
    assert pkt.payload == b"ab"
    assert pkt.padding == 3


def test_parse_extension_fixture_skips_and_keeps_extension():
    pkt = RtpPacket.parse(EXTENDED)
    assert pkt.payload == b"pl"
    assert pkt.extension == bytes.fromhex("bede0001 01020304")


@pytest.mark.parametrize("fixture", [SIMPLE, MARKER_CSRC, PADDED, EXTENDED])
def test_fixtures_round_trip_exactly(fixture):
    assert bytes(RtpPacket.parse(fixture)) == fixture


def test_serialise_builds_the_fixture():
    pkt = RtpPacket(
        payload_type=96,
        sequence_number=65535,
        timestamp=2**32 - 1,
        ssrc=0xDEADBEEF,
        marker=True,
        csrc=[1, 2],
        payload=bytearray(b"x"),
    )
    assert bytes(pkt) == MARKER_CSRC
    assert pkt.csrc == (1, 2) and isinstance(pkt.payload, bytes)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "RTP packet has 0 bytes, fewer than the 12-byte header"),
        (SIMPLE[:11], "RTP packet has 11 bytes, fewer than the 12-byte header"),
        (bytes([0x40]) + SIMPLE[1:], "RTP version is 1, expected 2"),
        (bytes([0xC0]) + SIMPLE[1:], "RTP version is 3, expected 2"),
        (bytes([0x83]) + SIMPLE[1:12] + bytes(4), "RTP packet truncated: 3 CSRCs need 24 bytes, got 16"),
        (
            bytes([0x90]) + SIMPLE[1:12] + b"\xbe",
            "RTP packet truncated: header extension needs 16 bytes, got 13",
        ),
        (
            EXTENDED[:15] + b"\x02" + EXTENDED[16:20],
            "RTP packet truncated: header extension needs 24 bytes, got 20",
        ),
        (PADDED[:-1] + b"\x00", "RTP padding count 0 is invalid for 5 bytes after the header"),
        (PADDED[:-1] + b"\x06", "RTP padding count 6 is invalid for 5 bytes after the header"),
        (bytes([0xA0]) + SIMPLE[1:12], "RTP padding count 120 is invalid for 0 bytes after the header"),
        ("not bytes", "RTP packet must be bytes, got str"),
    ],
)
def test_parse_rejects_bad_input_with_exact_message(data, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        RtpPacket.parse(data)


def test_parse_accepts_bytearray_and_memoryview():
    expected = RtpPacket.parse(SIMPLE)
    assert RtpPacket.parse(bytearray(SIMPLE)) == RtpPacket.parse(memoryview(SIMPLE)) == expected


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"payload_type": 128}, "RTP payload_type must be an int in [0, 127], got 128"),
        ({"sequence_number": 65536}, "RTP sequence_number must be an int in [0, 65535], got 65536"),
        ({"timestamp": -1}, "RTP timestamp must be an int in [0, 4294967295], got -1"),
        ({"ssrc": 1.5}, "RTP ssrc must be an int in [0, 4294967295], got 1.5"),
        ({"padding": 256}, "RTP padding must be an int in [0, 255], got 256"),
        ({"csrc": tuple(range(16))}, "RTP packet can carry at most 15 CSRCs, got 16"),
        (
            {"extension": b"\xbe\xde\x00\x01"},
            "RTP header extension must be profile, length in words, then those words",
        ),
    ],
)
def test_constructor_rejects_out_of_range_fields(fields, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        RtpPacket(**fields)


def test_random_bytes_raise_only_value_error_and_valid_ones_round_trip():
    rng = np.random.default_rng(7)
    parsed = 0
    for _ in range(5000):
        data = rng.integers(0, 256, rng.integers(0, 40)).astype(np.uint8).tobytes()
        if rng.random() < 0.5 and data:
            data = bytes([0x80 | (data[0] & 0x33)]) + data[1:]  # version 2, few CSRCs: reach deeper checks
        try:
            pkt = RtpPacket.parse(data)
        except ValueError:
            continue
        parsed += 1
        assert RtpPacket.parse(bytes(pkt)) == pkt
    assert parsed > 300  # enough valid packets that the round trip is really exercised


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (0, 0, 0),
        (1, 2, 1),
        (2, 1, -1),
        (65535, 0, 1),
        (0, 65535, -1),
        (65500, 10, 46),
        (0, 32767, 32767),
        (0, 32768, -32768),
    ],
)
def test_seq_distance_is_signed_modulo_2_16(a, b, expected):
    assert seq_distance(a, b) == expected


def test_unwrapper_extends_across_wraparound_and_reordering():
    unwrap = SequenceUnwrapper()
    seqs = [65533, 65534, 65535, 1, 0, 2, 65535, 3]
    assert [unwrap(s) for s in seqs] == [65533, 65534, 65535, 65537, 65536, 65538, 65535, 65539]
    assert unwrap.highest == 65539
    assert unwrap.peek(4) == 65540 and unwrap.highest == 65539


def test_unwrapper_places_early_reordered_packet_before_the_first():
    unwrap = SequenceUnwrapper()
    assert [unwrap(5), unwrap(65534), unwrap(6)] == [5, -2, 6]


def test_unwrapper_refuses_a_jump_and_keeps_its_reference():
    unwrap = SequenceUnwrapper(max_dropout=100)
    assert [unwrap(s) for s in (10, 11)] == [10, 11]
    assert unwrap(11 + 100) is None and unwrap(11 + 32767) is None  # forged: a jump ahead, dropped
    assert unwrap((11 - 100) & 0xFFFF) is None  # and one as far behind
    assert unwrap.highest == 11
    assert [unwrap(s) for s in (13, 12, 13 - 99)] == [13, 12, 13 - 99]  # in order, late, as late as allowed
    assert unwrap.highest == 13


def test_unwrapper_follows_a_restart_once_a_second_packet_confirms_it():
    unwrap = SequenceUnwrapper(max_dropout=100)
    unwrap(65530)
    assert unwrap(5000) is None  # the source moved: not trusted yet (RFC 3550 A.1 bad_seq)
    assert unwrap(5002) == 65536 + 5002 and unwrap.highest == 65536 + 5002  # one in order after it confirms
    assert unwrap(65533) is None and unwrap(65534) == 65534 and unwrap.highest == 65534  # and back down


def test_unwrapper_starts_before_the_sessions_first_number():
    unwrap = SequenceUnwrapper(max_dropout=100, first=65530)
    assert unwrap.peek(0) == 65536  # the first six lost: the seventh still lands in order
    assert unwrap(0) == 65536 and unwrap(65531) == 65531
    with pytest.raises(ValueError, match=r"^max_dropout must be in \[1, 32767\], got 0$"):
        SequenceUnwrapper(max_dropout=0)

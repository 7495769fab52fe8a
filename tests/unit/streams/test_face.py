from __future__ import annotations

import re

import numpy as np
import pytest

from semtalk.records import CodedFrame
from semtalk.streams.bits import BitWriter
from semtalk.streams.face import (
    MAX_FRAMES,
    FaceDepacketizer,
    FacePacketizer,
    FaceStreamFormat,
    decode_payload,
    encode_payload,
)
from semtalk.streams.packet import RtpPacket
from tests.unit.streams.payload_frames import N_COEFFS, TAG


def exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


def assert_same_frames(got: list[CodedFrame], want: list[CodedFrame]) -> None:
    assert [f.index for f in got] == [f.index for f in want]
    assert [f.face_found for f in got] == [f.face_found for f in want]
    for g, w in zip(got, want, strict=True):
        assert g.codes.dtype == np.uint16
        np.testing.assert_array_equal(g.codes, w.codes)


def _all_packets(fmt: FaceStreamFormat, frames: list[CodedFrame]) -> list[bytes]:
    pk = FacePacketizer(fmt)
    return [p for f in frames for p in pk.push(f)] + pk.flush()


@pytest.mark.parametrize("seed", range(40))
def test_payload_round_trip_random_walks(fmt, walk, seed):
    rng = np.random.default_rng(seed)
    frames = walk(rng, int(rng.integers(1, MAX_FRAMES + 1)), first_index=7)
    payload = encode_payload(frames, fmt)
    assert payload[0] == (1 << 6) | (len(frames) - 1)
    assert payload[1] == TAG
    assert_same_frames(decode_payload(payload, fmt, 7), frames)


@pytest.mark.parametrize("bits", [2, 12, 16])
def test_payload_round_trip_other_widths(walk, bits):
    fmt = FaceStreamFormat(n_coeffs=5, bits=bits, kb_tag=3)
    frames = walk(np.random.default_rng(bits), 16, n_coeffs=5, bits=bits)
    assert_same_frames(decode_payload(encode_payload(frames, fmt), fmt, 0), frames)


def test_still_frames_cost_one_bit_per_coefficient(fmt):
    codes = np.full(N_COEFFS, 100, dtype=np.uint16)
    frames = [CodedFrame(i, codes) for i in range(5)]
    payload = encode_payload(frames, fmt)
    bits = (1 + 8 * N_COEFFS) + 4 * (1 + N_COEFFS)
    assert len(payload) == 2 + (bits + 7) // 8


def test_full_range_jumps_round_trip(fmt):
    lo, hi = np.zeros(N_COEFFS, np.uint16), np.full(N_COEFFS, 255, np.uint16)
    frames = [CodedFrame(i, hi if i % 2 else lo, i % 3 == 0) for i in range(MAX_FRAMES)]
    assert_same_frames(decode_payload(encode_payload(frames, fmt), fmt, 0), frames)


@pytest.mark.parametrize("n", [0, MAX_FRAMES + 1])
def test_frame_count_limits(fmt, walk, n):
    frames = walk(np.random.default_rng(0), n)
    with pytest.raises(ValueError, match=exactly(f"a face packet carries 1..16 frames, got {n}")):
        encode_payload(frames, fmt)


def test_code_beyond_the_bit_width_is_refused(fmt):
    with pytest.raises(ValueError, match=exactly("value 256 does not fit in 8 bits")):
        encode_payload([CodedFrame(0, np.full(N_COEFFS, 256, dtype=np.uint16))], fmt)


def test_decode_errors(fmt, walk):
    payload = encode_payload(walk(np.random.default_rng(1), 3), fmt)
    with pytest.raises(ValueError, match=exactly("face payload shorter than its 2-byte header")):
        decode_payload(payload[:1], fmt, 0)
    with pytest.raises(ValueError, match=exactly("face payload version 2 is not 1")):
        decode_payload(bytes([0x80 | payload[0] & 0x3F]) + payload[1:], fmt, 0)
    with pytest.raises(ValueError, match=exactly("face payload was coded for another knowledge base")):
        decode_payload(payload[:1] + bytes([TAG ^ 1]) + payload[2:], fmt, 0)
    with pytest.raises(ValueError, match=exactly("payload truncated")):
        decode_payload(payload[:-1], fmt, 0)


def test_delta_leaving_the_range_is_refused(fmt):
    w = BitWriter()
    w.write(1, 1)
    for _ in range(N_COEFFS):
        w.write(255, 8)
    w.write(1, 1)
    for _ in range(N_COEFFS):
        w.write_se(1)  # 255 + 1
    payload = bytes([(1 << 6) | 1, TAG]) + w.to_bytes()
    with pytest.raises(ValueError, match=exactly("face payload delta leaves the quantiser range")):
        decode_payload(payload, fmt, 0)


def test_packetizer_groups_frames_into_rtp_packets(walk):
    fmt = FaceStreamFormat(n_coeffs=N_COEFFS, bits=8, kb_tag=TAG, fps=25.0, frames_per_packet=5,
                           first_seq=65533, first_timestamp=(1 << 32) - 2 * 3600)
    frames = walk(np.random.default_rng(2), 23)
    pk = FacePacketizer(fmt)
    out = [pk.push(f) for f in frames]
    assert [i for i, p in enumerate(out) if p] == [4, 9, 14, 19]
    assert all(len(p) <= 1 for p in out)
    packets = [p for ps in out for p in ps] + pk.flush()
    assert pk.flush() == []
    assert pk.packets == 5
    parsed = [RtpPacket.parse(p) for p in packets]
    assert pk.payload_bits == 8 * sum(len(p.payload) for p in parsed)
    # Sequence numbers and timestamps wrap around; the timestamp is the first frame's, at 90 kHz.
    assert [p.sequence_number for p in parsed] == [65533, 65534, 65535, 0, 1]
    assert [p.timestamp for p in parsed] == [(1 << 32) - 7200, 10800, 28800, 46800, 64800]
    assert [p.marker for p in parsed] == [True, False, False, False, False]
    assert {(p.ssrc, p.payload_type) for p in parsed} == {(fmt.ssrc, fmt.payload_type)}
    depack = FaceDepacketizer(fmt)
    got = [f for p in packets for f in depack(p)]
    assert_same_frames(got, frames)
    assert (depack.garbage, depack.wrong_kb, depack.foreign) == (0, 0, 0)


@pytest.mark.parametrize("fps", [25.0, 30.0, 29.97, 50.0])
def test_timestamps_give_frame_indices(walk, fps):
    fmt = FaceStreamFormat(n_coeffs=N_COEFFS, bits=8, kb_tag=TAG, fps=fps, frames_per_packet=3,
                           first_timestamp=123456)
    frames = walk(np.random.default_rng(3), 10, first_index=1000)
    packets = _all_packets(fmt, frames)
    assert RtpPacket.parse(packets[0]).timestamp == 123456 + 1000 * fmt.ticks_per_frame
    depack = FaceDepacketizer(fmt)
    # Out of order and with one packet lost: every other packet decodes on its own.
    kept = [packets[3], packets[0], packets[2]]
    got = sorted((f for p in kept for f in depack(p)), key=lambda f: f.index)
    want = [f for f in frames if f.index - 1000 not in (3, 4, 5)]
    assert_same_frames(got, want)


def test_depacketizer_never_raises_on_random_bytes(fmt):
    rng = np.random.default_rng(5000)
    depack = FaceDepacketizer(fmt)
    yielded = 0
    for _ in range(5000):
        data = rng.integers(0, 256, size=int(rng.integers(0, 80)), dtype=np.uint8).tobytes()
        yielded += len(list(depack(data)))
    assert yielded == 0
    assert depack.garbage + depack.foreign + depack.wrong_kb == 5000
    assert depack.garbage > 3000  # about 3/4 fail the RTP version check alone


def test_depacketizer_never_raises_on_random_payloads(fmt):
    """Random payloads behind a valid header: each packet either decodes or counts as garbage, once."""
    rng = np.random.default_rng(7)
    depack = FaceDepacketizer(fmt)
    decoded = 0
    for i in range(3000):
        body = bytes([(1 << 6) | int(rng.integers(0, 64)), TAG]) + rng.integers(0, 256, int(rng.integers(0, 40)),
                                                                               dtype=np.uint8).tobytes()
        pkt = RtpPacket(payload_type=fmt.payload_type, sequence_number=i, timestamp=i * fmt.ticks_per_frame,
                        ssrc=fmt.ssrc, payload=body)
        frames = list(depack(bytes(pkt)))
        decoded += bool(frames)
        assert all(int(f.codes.max()) <= 255 and len(f.codes) == N_COEFFS for f in frames)
    assert decoded + depack.garbage == 3000
    assert depack.garbage > 0 and depack.wrong_kb == depack.foreign == 0


def test_truncated_packets_are_garbage(fmt, walk):
    packet = _all_packets(fmt, walk(np.random.default_rng(8), 5))[0]
    depack = FaceDepacketizer(fmt)
    for n in range(len(packet)):
        assert list(depack(packet[:n])) == []
    assert depack.garbage == len(packet)
    assert len(list(depack(packet))) == 5


def test_bit_flipped_packets_never_raise(fmt, walk):
    packet = _all_packets(fmt, walk(np.random.default_rng(9), 5))[0]
    depack = FaceDepacketizer(fmt)
    decoded = 0
    for bit in range(8 * len(packet)):
        data = bytearray(packet)
        data[bit // 8] ^= 0x80 >> (bit % 8)
        frames = list(depack(bytes(data)))
        decoded += bool(frames)
        assert all(int(f.codes.max()) <= 255 for f in frames)
    assert decoded + depack.garbage + depack.foreign + depack.wrong_kb == 8 * len(packet)
    assert depack.garbage > 0 and depack.foreign > 0 and depack.wrong_kb >= 8  # every bit of the tag byte, at least


def test_other_knowledge_base_is_counted_and_dropped(walk):
    theirs = FaceStreamFormat(n_coeffs=N_COEFFS, bits=8, kb_tag=0x12)
    ours = FaceStreamFormat(n_coeffs=N_COEFFS, bits=8, kb_tag=TAG)
    depack = FaceDepacketizer(ours)
    for p in _all_packets(theirs, walk(np.random.default_rng(10), 12)):
        assert list(depack(p)) == []
    assert (depack.wrong_kb, depack.garbage, depack.foreign) == (3, 0, 0)


def test_other_stream_is_foreign(fmt, walk):
    packet = RtpPacket.parse(_all_packets(fmt, walk(np.random.default_rng(11), 5))[0])
    depack = FaceDepacketizer(fmt)
    for other in (RtpPacket(payload_type=97, timestamp=packet.timestamp, ssrc=packet.ssrc, payload=packet.payload),
                  RtpPacket(payload_type=96, timestamp=packet.timestamp, ssrc=1, payload=packet.payload)):
        assert list(depack(bytes(other))) == []
    assert (depack.foreign, depack.garbage, depack.wrong_kb) == (2, 0, 0)


def test_timestamp_off_the_frame_grid_is_garbage(fmt, walk):
    packet = RtpPacket.parse(_all_packets(fmt, walk(np.random.default_rng(12), 5))[0])
    moved = RtpPacket(payload_type=packet.payload_type, timestamp=packet.timestamp + 1, ssrc=packet.ssrc,
                      payload=packet.payload)
    depack = FaceDepacketizer(fmt)
    assert list(depack(bytes(moved))) == []
    assert depack.garbage == 1


def test_sequence_number_jump_is_garbage(fmt, walk):
    """A copy moved 3000 or more sequence numbers away (RFC 3550 MAX_DROPOUT) is dropped; the stream goes on."""
    packets = _all_packets(fmt, walk(np.random.default_rng(13), 20))
    first = RtpPacket.parse(packets[0])
    moved = RtpPacket(payload_type=first.payload_type, sequence_number=3001, timestamp=first.timestamp,
                      ssrc=first.ssrc, payload=first.payload)
    depack = FaceDepacketizer(fmt)
    assert len(depack(packets[0])) == 5 and depack(bytes(moved)) == [] and depack.garbage == 1
    assert [len(depack(p)) for p in packets[1:]] == [5, 5, 5]

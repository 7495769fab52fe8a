"""The range-coded face payload (version 2): exact round trips, precision levels, packets that decode alone,
hostile bytes, and the rate controller."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.records import CodedFrame
from semtalk.streams.face import (
    MAX_FRAMES,
    FaceDepacketizer,
    FacePacketizer,
    FaceStreamFormat,
    decode_payload,
    encode_payload,
)
from semtalk.streams.facecode import LEVELS, FaceCoder, frames_for_rate
from tests.unit.streams.payload_frames import N_COEFFS, TAG, random_walk

FPS = 25.0


def ladder_coder(n: int = N_COEFFS) -> FaceCoder:
    """A coder whose levels coarsen every coefficient (level q: steps 1 + q·(i+1)//4), models mid-range."""
    steps = 1 + np.arange(LEVELS)[:, None] * (np.arange(n)[None] + 1) // 4
    return FaceCoder(steps.astype(np.int64), np.full(n, 127.5), np.full(n, 40.0), np.full(n, 4.0))


def talking(rng: np.random.Generator, n: int, c: int = N_COEFFS) -> np.ndarray:
    """A real-like coefficient track: slow sinusoids (pose, speech rhythm) plus landmark jitter, in 0..255."""
    t = np.arange(n)[:, None]
    freq = rng.uniform(0.02, 0.3, c)[None]
    amp = rng.uniform(5, 40, c)[None]
    x = 128 + amp * np.sin(2 * np.pi * freq * t / 4 + rng.uniform(0, 6, c)) + rng.normal(0, 3, (n, c))
    return np.clip(np.rint(x), 0, 255).astype(np.uint16)


def frames_of(codes: np.ndarray, found: np.ndarray | None = None, first: int = 0) -> list[CodedFrame]:
    found = np.ones(len(codes), bool) if found is None else found
    return [CodedFrame(first + i, c, bool(f)) for i, (c, f) in enumerate(zip(codes, found, strict=True))]


@pytest.mark.parametrize("seed", range(30))
def test_lossless_round_trip_is_bit_exact_on_random_walks(seed):
    rng = np.random.default_rng(seed)
    frames = random_walk(rng, int(rng.integers(1, MAX_FRAMES + 1)))  # includes 0 ↔ 255 jumps and lost faces
    codes = np.stack([f.codes for f in frames])
    found = np.array([f.face_found for f in frames])
    coder = FaceCoder.lossless(N_COEFFS)
    got, got_found, q, _, _ = coder.decode(coder.encode(codes, found, 0), len(frames))
    assert q == 0 and got.dtype == np.uint16
    np.testing.assert_array_equal(got, codes)
    np.testing.assert_array_equal(got_found, found)


@pytest.mark.parametrize("level", [0, 1, 7, 19, LEVELS - 1])
def test_each_level_decodes_to_exactly_what_the_sender_predicts(level):
    coder = ladder_coder()
    codes = talking(np.random.default_rng(level), 12)
    got, _, q, _, _ = coder.decode(coder.encode(codes, np.ones(12, bool), level), 12)
    assert q == level
    np.testing.assert_array_equal(got, coder.reconstruct(codes, level))
    assert np.all(np.abs(got.astype(int) - codes) <= (coder.steps[level] + 1) // 2)


def test_coarser_levels_cost_fewer_bits_and_real_like_tracks_beat_exp_golomb():
    coder = ladder_coder()
    rng = np.random.default_rng(1)
    tracks = [talking(rng, 10) for _ in range(20)]
    sizes = [sum(len(coder.encode(t, np.ones(10, bool), q)) for t in tracks) for q in (0, 8, 24)]
    assert sizes[0] > sizes[1] > sizes[2]
    v1 = FaceStreamFormat(n_coeffs=N_COEFFS, bits=8, kb_tag=TAG)
    v2 = FaceStreamFormat(n_coeffs=N_COEFFS, bits=8, kb_tag=TAG, coder=FaceCoder.lossless(N_COEFFS))
    golomb = sum(len(encode_payload(frames_of(t), v1)) for t in tracks)
    ranged = sum(len(encode_payload(frames_of(t), v2)) for t in tracks)
    assert ranged < 0.9 * golomb


def test_a_packet_decodes_alone_when_the_others_are_lost():
    coder = ladder_coder()
    fmt = FaceStreamFormat(n_coeffs=N_COEFFS, bits=8, kb_tag=TAG, coder=coder, target_kbps=1.0, frames_per_packet=8)
    codes = talking(np.random.default_rng(2), 40)
    pk = FacePacketizer(fmt)
    packets = [p for f in frames_of(codes) for p in pk.push(f)] + pk.flush()
    assert len(packets) == 5
    for keep in range(5):
        dp = FaceDepacketizer(fmt)
        got = dp(packets[keep])
        assert [f.index for f in got] == list(range(8 * keep, 8 * keep + 8)) and dp.garbage == 0
        level = packets[keep][12 + 2:]  # the level is the first coded symbol: recover it from the decoder
        _, _, q, _, _ = coder.decode(level, 8)
        np.testing.assert_array_equal(np.stack([f.codes for f in got]), coder.reconstruct(codes[8 * keep:][:8], q))


def test_a_version_1_packet_is_garbage_to_a_version_2_receiver_and_back():
    codes = talking(np.random.default_rng(3), 5)
    v1 = FaceStreamFormat(n_coeffs=N_COEFFS, bits=8, kb_tag=TAG)
    v2 = FaceStreamFormat(n_coeffs=N_COEFFS, bits=8, kb_tag=TAG, coder=FaceCoder.lossless(N_COEFFS))
    for sent, heard in ((v1, v2), (v2, v1)):
        with pytest.raises(ValueError, match="face payload version"):
            decode_payload(encode_payload(frames_of(codes), sent), heard, 0)


def test_hostile_bodies_raise_value_error_only():
    coder = ladder_coder()
    fmt = FaceStreamFormat(n_coeffs=N_COEFFS, bits=8, kb_tag=TAG, coder=coder)
    rng = np.random.default_rng(4)
    good = encode_payload(frames_of(talking(rng, 10)), fmt, 3)
    bodies = [good[:-1], good[:2], good[:2] + bytes(4), good[:2] + b"\xff" * 8]
    bodies += [good[:2] + rng.bytes(4 * int(rng.integers(1, 40))) for _ in range(300)]
    bodies += [bytes([good[0] | 0x10]) + good[1:]]  # a reserved bit set
    delivered = 0
    for body in bodies:
        try:
            got = decode_payload(body, fmt, 0)
        except ValueError:
            continue
        delivered += 1
        assert len(got) == 10 and all(f.codes.max() <= 255 for f in got)
    assert delivered < len(bodies)


@pytest.mark.parametrize("target", [0.6, 0.9, 1.3])
def test_the_rate_controller_meets_its_target_within_5_percent(target):
    coder = ladder_coder()
    fpp = frames_for_rate(target, FPS, 5)
    fmt = FaceStreamFormat(n_coeffs=N_COEFFS, bits=8, kb_tag=TAG, coder=coder, target_kbps=target,
                           frames_per_packet=fpp)
    codes = talking(np.random.default_rng(5), 400)
    pk = FacePacketizer(fmt)
    for f in frames_of(codes):
        pk.push(f)
    pk.flush()
    kbps = pk.payload_bits / (len(codes) / FPS) / 1000
    assert abs(kbps - target) <= 0.05 * target
    assert 0 < pk.level_sum / pk.packets < LEVELS - 1


def test_without_a_target_the_coder_is_lossless():
    fmt = FaceStreamFormat(n_coeffs=N_COEFFS, bits=8, kb_tag=TAG, coder=ladder_coder())
    codes = talking(np.random.default_rng(6), 10)
    pk = FacePacketizer(fmt)
    packets = [p for f in frames_of(codes) for p in pk.push(f)] + pk.flush()
    got = [f for p in packets for f in FaceDepacketizer(fmt)(p)]
    np.testing.assert_array_equal(np.stack([f.codes for f in got]), codes)


def test_frames_per_packet_grow_as_the_target_falls_and_respect_the_floor():
    counts = [frames_for_rate(k, FPS, 5) for k in (3.2, 1.6, 1.2, 0.8, 0.3)]
    assert counts[:2] == [5, 5] and counts == sorted(counts) and counts[-1] == MAX_FRAMES
    assert frames_for_rate(3.2, FPS, 9) == 9


def test_malformed_coders_are_refused():
    ones = np.ones((LEVELS, 4), np.int64)
    with pytest.raises(ValueError, match="level 0 all ones"):
        FaceCoder(ones * 2, np.zeros(4), np.ones(4), np.ones(4))
    with pytest.raises(ValueError, match="positive"):
        FaceCoder(ones, np.zeros(4), np.zeros(4), np.ones(4))

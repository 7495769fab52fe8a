"""The motion field in the range-coded face payload: exact round trips, packets without one, hostile values,
and the rate controller, which carries the field when it fits and drops it when it does not."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.records import CodedFrame
from semtalk.streams.face import FaceDepacketizer, FacePacketizer, FaceStreamFormat, decode_payload, encode_payload
from semtalk.streams.facecode import FIELD_LIMIT, VARIANTS, frames_for_rate
from tests.unit.streams.payload_frames import N_COEFFS, TAG
from tests.unit.streams.test_facecode import ladder_coder, talking

FPS = 25.0
GRID = 6


def field(rng: np.random.Generator, scale: float = 1.5) -> np.ndarray:
    return np.clip(np.rint(rng.laplace(0, scale, (GRID, GRID, 2))), -FIELD_LIMIT, FIELD_LIMIT).astype(np.int64)


def packet_frames(codes: np.ndarray, lattice: np.ndarray | None, first: int = 0, variant: int = 0) -> list[CodedFrame]:
    return [CodedFrame(first + i, c, True, lattice, variant) for i, c in enumerate(codes)]


def fmt_for(target: float | None = None, fpp: int = 10) -> FaceStreamFormat:
    return FaceStreamFormat(n_coeffs=N_COEFFS, bits=8, kb_tag=TAG, coder=ladder_coder(), target_kbps=target,
                            frames_per_packet=fpp, field_grid=GRID)


@pytest.mark.parametrize("seed", range(10))
def test_the_field_round_trips_exactly_with_every_frame_of_its_packet(seed):
    rng = np.random.default_rng(seed)
    lattice = field(rng, scale=[0.5, 2.0, 8.0][seed % 3])
    lattice[0, 0] = FIELD_LIMIT * (-1) ** seed  # the range's ends are sent too
    codes = talking(rng, 10)
    variant = (7 * seed) % VARIANTS
    got = decode_payload(encode_payload(packet_frames(codes, lattice, variant=variant), fmt_for(), 5), fmt_for(), 40)
    assert [f.index for f in got] == list(range(40, 50))
    for f in got:
        np.testing.assert_array_equal(f.field, lattice)
        assert f.variant == variant
    np.testing.assert_array_equal(np.stack([f.codes for f in got]), ladder_coder().reconstruct(codes, 5))


def test_a_packet_without_a_field_decodes_to_none_and_costs_less():
    rng = np.random.default_rng(1)
    codes = talking(rng, 10)
    with_field = encode_payload(packet_frames(codes, field(rng)), fmt_for(), 3)
    without = encode_payload(packet_frames(codes, None, variant=5), fmt_for(), 3)
    assert len(without) < len(with_field)
    assert all(f.field is None and f.variant == 5 for f in decode_payload(without, fmt_for(), 0))
    # A stream without a field grid never reads one, whatever its frames carry.
    plain = FaceStreamFormat(n_coeffs=N_COEFFS, bits=8, kb_tag=TAG, coder=ladder_coder())
    assert all(f.field is None for f in decode_payload(encode_payload(packet_frames(codes, field(rng)), plain),
                                                       plain, 0))


def test_fields_of_the_wrong_shape_or_range_and_unknown_variants_are_refused_by_the_sender():
    codes = talking(np.random.default_rng(2), 5)
    for bad in (np.zeros((GRID, GRID - 1, 2), np.int64), np.full((GRID, GRID, 2), FIELD_LIMIT + 1)):
        with pytest.raises(ValueError, match="motion field"):
            encode_payload(packet_frames(codes, bad), fmt_for())
    for variant in (-1, VARIANTS):
        with pytest.raises(ValueError, match="rendering variant"):
            encode_payload(packet_frames(codes, None, variant=variant), fmt_for())


def test_hostile_fields_raise_value_error_or_stay_in_range():
    rng = np.random.default_rng(3)
    good = encode_payload(packet_frames(talking(rng, 10), field(rng)), fmt_for(), 4)
    delivered = 0
    for _ in range(300):
        body = good[:-8] + rng.bytes(8 + 4 * int(rng.integers(0, 4)))  # the field sits at the payload's end
        try:
            got = decode_payload(body, fmt_for(), 0)
        except ValueError:
            continue
        delivered += 1
        assert all(f.field is None or (f.field.shape == (GRID, GRID, 2) and np.abs(f.field).max() <= FIELD_LIMIT)
                   for f in got)
        assert all(0 <= f.variant < VARIANTS for f in got)
    assert delivered > 0


def test_the_controller_keeps_the_field_when_it_fits_and_meets_the_target():
    target = 1.6
    fpp = frames_for_rate(target, FPS, 5, field_grid=GRID)
    assert fpp > frames_for_rate(target, FPS, 5)  # the field is a per-packet cost: packets grow
    rng = np.random.default_rng(4)
    codes = talking(rng, 400)
    pk = FacePacketizer(fmt_for(target, fpp))
    packets = []
    for start in range(0, 400, fpp):
        packets += [p for f in packet_frames(codes[start:start + fpp], field(rng), start) for p in pk.push(f)]
    packets += pk.flush()
    kbps = pk.payload_bits / (400 / FPS) / 1000
    assert abs(kbps - target) <= 0.05 * target
    assert pk.fields == pk.packets and 0 < pk.field_bits < pk.payload_bits
    dp = FaceDepacketizer(fmt_for(target, fpp))
    assert all(f.field is not None for p in packets for f in dp(p))


def test_the_controller_drops_the_field_when_even_the_coarsest_level_cannot_pay_for_it():
    rng = np.random.default_rng(5)
    pk = FacePacketizer(fmt_for(0.2, 5))
    lattice = field(rng, scale=12.0)  # a costly field
    for f in packet_frames(talking(rng, 5), lattice):
        pk.push(f)
    assert pk.packets == 1 and pk.fields == 0 and pk.field_bits == 0

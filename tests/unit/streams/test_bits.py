from __future__ import annotations

import re

import pytest

from semtalk.streams.bits import BitReader, BitWriter


def _bits(w: BitWriter) -> str:
    return "".join(f"{b:08b}" for b in w.to_bytes())[: w.length]


def test_signed_exp_golomb_round_trip_over_a_range():
    values = list(range(-1000, 1001))
    w = BitWriter()
    for v in values:
        w.write_se(v)
    r = BitReader(w.to_bytes())
    assert [r.read_se() for _ in values] == values


@pytest.mark.parametrize(("value", "code"), [(0, "1"), (1, "010"), (-1, "011"), (2, "00100"), (-2, "00101"),
                                             (3, "00110"), (-3, "00111"), (4, "0001000"), (-7, "0001111")])
def test_signed_exp_golomb_codes_are_h264_se(value, code):
    w = BitWriter()
    w.write_se(value)
    assert _bits(w) == code
    assert w.length == len(code)


@pytest.mark.parametrize("value", [255, -255, 65535, -65535, 1 << 20])
def test_large_values_round_trip(value):
    w = BitWriter()
    w.write_se(value)
    w.write(5, 3)
    r = BitReader(w.to_bytes())
    assert r.read_se() == value and r.read(3) == 5


def test_fixed_width_fields_and_zero_padding():
    w = BitWriter()
    w.write(1, 1)
    w.write(0b101, 3)
    w.write(0xAB, 8)
    assert w.length == 12
    assert w.to_bytes() == bytes([0b11011010, 0b10110000])
    r = BitReader(w.to_bytes())
    assert (r.read(1), r.read(3), r.read(8), r.read(4)) == (1, 0b101, 0xAB, 0)


def test_empty_writer_has_no_bytes():
    assert BitWriter().to_bytes() == b""


@pytest.mark.parametrize(("value", "bits"), [(8, 3), (-1, 4), (256, 8), (1, 0)])
def test_value_that_does_not_fit_raises(value, bits):
    with pytest.raises(ValueError, match=f"^{re.escape(f'value {value} does not fit in {bits} bits')}$"):
        BitWriter().write(value, bits)


def test_reading_past_the_end_raises():
    r = BitReader(b"\xff")
    assert r.read(5) == 0b11111
    with pytest.raises(ValueError, match=r"^payload truncated$"):
        r.read(4)


def test_unterminated_exp_golomb_raises_truncated():
    with pytest.raises(ValueError, match=r"^payload truncated$"):
        BitReader(b"\x00").read_se()


def test_too_long_exp_golomb_prefix_raises():
    with pytest.raises(ValueError, match=r"^invalid Exp-Golomb code$"):
        BitReader(bytes(8)).read_se()


@pytest.mark.parametrize(("value", "k", "code"), [(0, 0, "1"), (1, 0, "010"), (6, 0, "00111"), (0, 2, "100"),
                                                  (3, 2, "111"), (4, 2, "01000"), (13, 3, "010101")])
def test_exp_golomb_of_order_k_codes_and_round_trips(value, k, code):
    w = BitWriter()
    w.write_ue(value, k)
    assert _bits(w) == code
    assert BitReader(w.to_bytes()).read_ue(k) == value


def test_exp_golomb_rejects_negative_values():
    with pytest.raises(ValueError, match="negative"):
        BitWriter().write_ue(-1, 2)


def test_end_accepts_only_the_writers_zero_padding():
    w = BitWriter()
    w.write_ue(5, 2)
    r = BitReader(w.to_bytes())
    r.read_ue(2)
    r.end()  # 3 bits of zero padding
    r = BitReader(w.to_bytes() + b"\x00")
    r.read_ue(2)
    with pytest.raises(ValueError, match=r"^payload has 11 bits left after its fields, not zero padding$"):
        r.end()
    r = BitReader(bytes([w.to_bytes()[0] | 1]))
    r.read_ue(2)
    with pytest.raises(ValueError, match=r"^payload has 3 bits left after its fields, not zero padding$"):
        r.end()

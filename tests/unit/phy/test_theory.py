"""Closed forms of the radio layer against hand-computed values, and the Eb/N0 ↔ N0 conversions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from semtalk.phy.channel import ebno_to_no, ebno_to_snr_db, no_to_ebno, snr_db_to_no
from semtalk.phy.theory import (
    awgn_capacity,
    ber_bpsk_awgn,
    ber_bpsk_rayleigh,
    capacity_snr_threshold,
    capacity_snr_threshold_db,
    channel_bandwidth_ratio,
    q_function,
)


@pytest.mark.parametrize(
    ("bpp", "cbr", "linear"),
    [(0.1, 1 / 30, 1.0), (0.3, 1 / 20, 3.0), (0.6, 0.1, 3.0), (0.0, 0.1, 0.0), (1.5, 1 / 6, 7.0)],
)
def test_capacity_threshold_matches_hand_computed(bpp, cbr, linear):
    # SNR ≥ 2^(bpp/(3·CBR)) − 1: bpp=0.1, CBR=1/30 → 2^1 − 1 = 1
    assert capacity_snr_threshold(bpp, cbr) == pytest.approx(linear)
    expected_db = 10 * math.log10(linear) if linear > 0 else -math.inf
    assert capacity_snr_threshold_db(bpp, cbr) == pytest.approx(expected_db)


def test_capacity_threshold_db_of_the_seb_example_is_zero():
    assert capacity_snr_threshold_db(0.1, 1 / 30) == pytest.approx(0.0, abs=1e-12)


def test_channel_bandwidth_ratio_and_capacity():
    assert channel_bandwidth_ratio(3 * 32 * 32 / 6, 3 * 32 * 32) == pytest.approx(1 / 6)
    with pytest.raises(ValueError):
        channel_bandwidth_ratio(10, 0)
    assert awgn_capacity(0.0) == pytest.approx(1.0)  # log2(1 + 1)


def test_ber_closed_forms_at_known_points():
    assert q_function(0.0) == pytest.approx(0.5)
    assert ber_bpsk_awgn(0.0) == pytest.approx(0.0786496, rel=1e-5)  # Q(√2)
    assert ber_bpsk_awgn(9.6) == pytest.approx(1.0e-5, rel=0.1)  # the textbook 1e-5 point
    assert ber_bpsk_rayleigh(0.0) == pytest.approx(0.5 * (1 - math.sqrt(0.5)))
    assert ber_bpsk_rayleigh(30.0) == pytest.approx(1 / (4 * 1000), rel=0.01)  # high-SNR 1/(4γ)
    assert np.all(np.diff(ber_bpsk_awgn(np.arange(0, 10))) < 0)


def test_ebno_no_conversions_are_inverse_and_match_sionna_definition():
    assert ebno_to_no(0.0, 2, 0.5) == pytest.approx(1.0)  # Es = r·m·Eb = Eb
    assert ebno_to_no(10.0, 4, 0.75) == pytest.approx(1 / (10 * 3))
    for ebno, m, r in [(3.0, 2, 0.5), (-2.0, 6, 5 / 6), (12.0, 1, 1.0)]:
        assert no_to_ebno(ebno_to_no(ebno, m, r), m, r) == pytest.approx(ebno)
        assert snr_db_to_no(ebno_to_snr_db(ebno, m, r)) == pytest.approx(ebno_to_no(ebno, m, r))

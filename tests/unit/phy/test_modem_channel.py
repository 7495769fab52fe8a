"""Uncoded modulation over AWGN and Rayleigh against theory; fading, pilots and LS channel estimation."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.phy.channel import PilotLayout, draw_rayleigh, ebno_to_snr_db, through_channel
from semtalk.phy.modem import BITS_PER_SYMBOL, Modem, hard_decisions
from semtalk.phy.theory import ber_bpsk_awgn, ber_bpsk_rayleigh

SYMBOLS = 200_000


def uncoded_ber(modulation: str, ebno_db: float, seed: int, **channel) -> tuple[float, int]:
    rng = np.random.default_rng(seed)
    modem = Modem(modulation)
    bits = rng.integers(0, 2, SYMBOLS * modem.bits_per_symbol, dtype=np.uint8)
    eq = through_channel(modem.modulate(bits), ebno_to_snr_db(ebno_db, modem.bits_per_symbol), rng, **channel)
    llr = modem.demodulate(eq.x_hat, eq.no_eff)
    return float(np.mean(hard_decisions(llr) != bits)), eq.channel_uses


@pytest.mark.parametrize("modulation", sorted(BITS_PER_SYMBOL))
def test_constellations_have_unit_energy_and_round_trip(modulation):
    modem = Modem(modulation)
    points = modem.constellation().numpy()
    assert points.size == 2**modem.bits_per_symbol
    assert np.mean(np.abs(points) ** 2) == pytest.approx(1.0, rel=1e-5)
    bits = np.random.default_rng(0).integers(0, 2, 60 * modem.bits_per_symbol, dtype=np.uint8)
    x = modem.modulate(bits)
    assert x.shape == (60,)
    assert np.array_equal(hard_decisions(modem.demodulate(x, 0.01)), bits)


@pytest.mark.parametrize("ebno_db", [0.0, 2.0, 4.0])
def test_uncoded_qpsk_ber_over_awgn_matches_q_function(ebno_db):
    ber, uses = uncoded_ber("qpsk", ebno_db, seed=1)
    assert uses == SYMBOLS  # 4e5 bits
    assert ber == pytest.approx(float(ber_bpsk_awgn(ebno_db)), rel=0.10)


@pytest.mark.parametrize("modulation", ["bpsk", "qpsk"])
@pytest.mark.parametrize("ebno_db", [0.0, 5.0, 10.0])
def test_uncoded_ber_over_fast_rayleigh_with_perfect_csi_matches_theory(modulation, ebno_db):
    ber, _ = uncoded_ber(modulation, ebno_db, seed=2, channel="rayleigh", coherence=1)
    assert ber == pytest.approx(float(ber_bpsk_rayleigh(ebno_db)), rel=0.10)


def test_rayleigh_is_far_worse_than_awgn_at_the_same_snr():
    awgn, _ = uncoded_ber("qpsk", 8.0, seed=3)
    rayleigh, _ = uncoded_ber("qpsk", 8.0, seed=3, channel="rayleigh")
    assert rayleigh > 50 * awgn


def test_block_fading_holds_each_gain_for_the_coherence_time():
    h = draw_rayleigh(1000, 7, np.random.default_rng(4))
    assert h.shape == (1000,)
    blocks = np.split(h, np.arange(7, 1000, 7))
    assert all(np.all(b == b[0]) for b in blocks)
    assert len({complex(b[0]) for b in blocks}) == len(blocks)
    many = draw_rayleigh(200_000, 1, np.random.default_rng(5))
    assert np.mean(np.abs(many) ** 2) == pytest.approx(1.0, rel=0.02)


def test_pilot_layout_counts_pilots_as_channel_uses_and_round_trips():
    layout = PilotLayout(coherence=10, pilots=2)
    x = np.arange(1, 21, dtype=np.complex64)  # 20 data symbols → 3 blocks of 8
    air = layout.insert(x)
    assert air.size == layout.channel_uses(20) == 20 + 2 * 3
    pilots, data = layout.split(air, 20)
    assert np.all(pilots == 1) and np.array_equal(data, x)
    with pytest.raises(ValueError):
        PilotLayout(coherence=1, pilots=1)


def test_pilot_estimated_csi_is_close_to_perfect_csi_and_costs_channel_uses():
    perfect, uses_perfect = uncoded_ber("qpsk", 10.0, seed=6, channel="rayleigh", coherence=50)
    estimated, uses_est = uncoded_ber("qpsk", 10.0, seed=6, channel="rayleigh", coherence=50, csi="estimated",
                                      pilots=4)
    assert uses_perfect == SYMBOLS
    assert uses_est == SYMBOLS + 4 * -(-SYMBOLS // 46)
    assert perfect < estimated < 1.5 * perfect  # LS error N0/4 → about 1 dB worse
    assert perfect == pytest.approx(float(ber_bpsk_rayleigh(10.0)), rel=0.15)


def test_estimated_csi_on_awgn_is_rejected():
    with pytest.raises(ValueError, match="rayleigh"):
        through_channel(np.ones(4, np.complex64), 10.0, np.random.default_rng(0), csi="estimated")

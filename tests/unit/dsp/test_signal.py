"""Effective bandwidth from the long-term spectrum: a steep low-pass is found where it cuts."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.dsp.signal import _masked, band_pass, bandwidth_hz, window_power
from tests.unit.dsp.dsp_fixtures import steep_low_pass

RATE = 16000


@pytest.mark.parametrize("cutoff", [2000.0, 3400.0, 4000.0, 6000.0])
def test_bandwidth_of_low_passed_noise_is_its_cutoff(cutoff: float) -> None:
    noise = np.random.default_rng(0).normal(size=4 * RATE)
    assert bandwidth_hz(steep_low_pass(noise, cutoff, RATE), RATE) == pytest.approx(cutoff, rel=0.1)
    assert bandwidth_hz(noise, RATE) == pytest.approx(RATE / 2, rel=0.1)


def test_silence_has_no_bandwidth() -> None:
    with pytest.raises(ValueError, match=r"^a silent signal has no bandwidth$"):
        bandwidth_hz(np.zeros(RATE), RATE)


def test_band_pass_in_blocks_matches_the_whole_signal_filter_away_from_its_ends() -> None:
    """A long signal is filtered block by block (bounded memory); inside it, the result is the whole-signal FFT
    mask's to well under 1 % of the signal (the whole-signal mask wraps the ends into each other: not compared)."""
    noise = np.random.default_rng(0).standard_normal(RATE * 70)
    whole, blocks = _masked(noise, RATE, 1000.0, 3000.0), band_pass(noise, RATE, 1000.0, 3000.0)
    inner = slice(RATE, -RATE)
    assert np.sqrt(np.mean((whole[inner] - blocks[inner]) ** 2)) < 0.01 * np.sqrt(np.mean(whole**2))
    spectrum = np.abs(np.fft.rfft(blocks[inner]))
    freqs = np.fft.rfftfreq(blocks[inner].size, 1 / RATE)
    outside = spectrum[(freqs < 900) | (freqs > 3100)]
    assert np.sqrt(np.mean(outside**2)) < 0.02 * np.sqrt(np.mean(spectrum[(freqs > 1100) & (freqs < 2900)] ** 2))


def test_band_pass_filters_a_clip_length_signal_whole() -> None:
    noise = np.random.default_rng(1).standard_normal(RATE * 10)
    assert np.array_equal(band_pass(noise, RATE, 1000.0, 3000.0), _masked(noise, RATE, 1000.0, 3000.0))


def test_bandwidth_of_a_long_call_is_averaged_a_span_at_a_time() -> None:
    """Three minutes read as the same band as their first minute: the spans' average is the long-term spectrum."""
    noise = steep_low_pass(np.random.default_rng(2).standard_normal(RATE * 180), 4000.0, RATE)
    assert bandwidth_hz(noise, RATE) == pytest.approx(bandwidth_hz(noise[: RATE * 60], RATE), abs=RATE / 512)


def test_window_power_in_blocks_is_the_whole_signal_running_sum() -> None:
    """Blocks of centres (bounded memory) give each window's mean square, windows cut at the ends included."""
    x = np.random.default_rng(3).standard_normal(RATE * 20)
    centres = np.arange(-5, x.size + 5, 37)  # more centres than one block, some past either end
    for half in (40, 3000):
        lo, hi = np.clip(centres - half, 0, x.size), np.clip(centres + half, 0, x.size)
        expected = [np.mean(x[a:b] ** 2) if b > a else 0.0 for a, b in zip(lo, hi, strict=True)]
        assert np.allclose(window_power(x, centres, half), expected, rtol=1e-9, atol=1e-12)

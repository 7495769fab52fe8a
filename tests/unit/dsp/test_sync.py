"""The audio-video offset recovers shifts the test applies itself (``semtalk.dsp.sync``)."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.dsp.sync import av_offset_ms

RATE = 16000


def _mouth_and_audio(shift_s: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A smooth random mouth curve at 25 fps and noise whose envelope is that curve shifted by ``shift_s``."""
    rng = np.random.default_rng(seed)
    curve = np.convolve(rng.random(210), np.ones(4) / 4, mode="same")[:200]
    t = np.arange(int(200 / 25 * RATE)) / RATE
    envelope = np.interp(t - shift_s, np.arange(200) / 25, curve)
    return curve, (rng.normal(size=t.size) * envelope).astype(np.float32)


@pytest.mark.parametrize("shift_ms", [80.0, -80.0, 0.0, 130.0, -200.0])
def test_av_offset_recovers_a_known_shift(shift_ms: float) -> None:
    curve, audio = _mouth_and_audio(shift_ms / 1000)
    assert av_offset_ms(curve, 25.0, audio, RATE) == pytest.approx(shift_ms, abs=10.0)


def test_av_offset_with_its_peak_outside_the_search_is_an_error_not_the_edge() -> None:
    curve, audio = _mouth_and_audio(0.25)
    assert av_offset_ms(curve, 25.0, audio, RATE, max_lag_ms=400.0) == pytest.approx(250.0, abs=10.0)
    with pytest.raises(ValueError, match=r"^no audio-video correlation peak within ±200 ms"):
        av_offset_ms(curve, 25.0, audio, RATE)


def _band_noise(rng: np.random.Generator, n: int, lo: float, hi: float) -> np.ndarray:
    spectrum = np.fft.rfft(rng.normal(size=n))
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    spectrum[(freqs < lo) | (freqs > hi)] = 0.0
    x = np.fft.irfft(spectrum, n=n)
    return x / x.std()


@pytest.mark.parametrize("shift_ms", [0.0, 80.0, -80.0])
def test_av_offset_ignores_voicing_with_closed_lips(shift_ms: float) -> None:
    """Speech whose 1-3 kHz band follows the mouth (shifted) and whose louder 80-400 Hz murmur sounds while the
    lips are shut, as on /m/, /b/, /n/: the wide-band envelope follows the closures and read -176 ms at 0 ms."""
    rng = np.random.default_rng(1)
    curve = np.convolve(rng.random(210), np.ones(4) / 4, mode="same")[:200]
    t = np.arange(int(200 / 25 * RATE)) / RATE
    opening = np.interp(t - shift_ms / 1000, np.arange(200) / 25, curve)
    audio = _band_noise(rng, t.size, 1000, 3000) * opening + 4 * _band_noise(rng, t.size, 80, 400) * (
        opening.max() - opening)
    assert av_offset_ms(curve, 25.0, audio.astype(np.float32), RATE) == pytest.approx(shift_ms, abs=10.0)


def test_av_offset_rejects_a_too_short_curve() -> None:
    with pytest.raises(ValueError, match=r"^mouth curve needs at least 3 frames, got 2$"):
        av_offset_ms(np.ones(2), 25.0, np.zeros(RATE, np.float32), RATE)

"""Band-limited mel-cepstra see nothing above their band."""

from __future__ import annotations

import numpy as np

from semtalk.dsp.world import ANALYSIS_RATE, band_mel_cepstrum, mel_cepstrum


def test_band_mel_cepstrum_ignores_what_lies_above_the_band() -> None:
    rng = np.random.default_rng(0)
    freqs = np.linspace(0, ANALYSIS_RATE / 2, 513)
    full = np.exp(rng.normal(size=(20, 513)))  # power envelopes, 20 frames
    cut = np.where(freqs <= 4000, full, full * 1e-10)  # the same below 4 kHz, 100 dB down above
    assert np.abs(mel_cepstrum(full) - mel_cepstrum(cut)).max() > 1.0
    np.testing.assert_array_equal(band_mel_cepstrum(full, 3800.0), band_mel_cepstrum(cut, 3800.0))
    assert band_mel_cepstrum(full, 3800.0).shape == mel_cepstrum(full).shape


def _voiced(seconds: float) -> np.ndarray:
    """A gliding 120-200 Hz pulse train through a formant-ish filter, with short pauses: enough for DIO."""
    t = np.arange(int(seconds * ANALYSIS_RATE)) / ANALYSIS_RATE
    f0 = 160 + 40 * np.sin(2 * np.pi * 0.7 * t)
    pulses = np.sin(np.cumsum(2 * np.pi * f0 / ANALYSIS_RATE)) ** 15
    on = (np.sin(2 * np.pi * 0.9 * t) > -0.8).astype(float)
    return np.convolve(pulses * on, np.hanning(31), mode="same").astype(np.float64)


def test_envelopes_in_chunks_lie_on_the_one_analysis_grid() -> None:
    """Chunked analysis (what keeps a long call's MCD in bounded memory) gives as many frames as one analysis,
    and the same envelopes away from the chunk edges."""
    from semtalk.dsp.world import envelopes

    x = _voiced(2.6)
    whole = list(envelopes(x, ANALYSIS_RATE, chunk_s=10.0))
    chunks = list(envelopes(x, ANALYSIS_RATE, chunk_s=1.0))
    assert len(whole) == 1 and len(chunks) == 3
    joined = np.concatenate(chunks)
    assert joined.shape == whole[0].shape
    inside = np.r_[20:180, 220:380, 420:joined.shape[0] - 20]  # 100 ms away from the edges at 1 s and 2 s
    log_error = np.abs(np.log(joined[inside] + 1e-12) - np.log(whole[0][inside] + 1e-12))
    assert np.median(log_error) < 0.05

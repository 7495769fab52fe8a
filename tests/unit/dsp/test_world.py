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

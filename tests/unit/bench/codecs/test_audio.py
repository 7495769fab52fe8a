from __future__ import annotations

import numpy as np
import pytest

from semtalk.bench.codecs import encode_audio


def _lag_ms(x: np.ndarray, y: np.ndarray, rate: int, max_ms: float = 30.0) -> float:
    """Delay of y behind x (ms) at the cross-correlation peak."""
    m = int(max_ms * rate / 1000)
    corr = np.correlate(y, x[m:-m], mode="valid")  # lag l <-> y[m + l : ...] vs x[m : ...]
    return (int(np.argmax(corr)) - m) * 1000 / rate


@pytest.mark.parametrize(("codec", "kbps"), [("opus", 6), ("opus", 12), ("aac", 16)])
def test_length_alignment_and_rate(speechlike, codec, kbps):
    out = encode_audio(speechlike, 16000, codec, kbps)
    assert out.samples.shape == speechlike.shape and out.samples.dtype == np.float32
    assert abs(_lag_ms(speechlike, out.samples, 16000)) <= 1.0
    assert out.kbps == pytest.approx(kbps, rel=0.15)
    corr = np.corrcoef(speechlike, out.samples)[0, 1]
    assert corr > 0.5  # it is the same signal, not silence


def test_odd_rate_and_length_come_back_exact(speechlike):
    x = speechlike[:12345]
    out = encode_audio(x, 22050, "opus", 12)
    assert out.samples.shape == (12345,) and out.rate == 22050


def test_lag_helper_detects_a_delay(speechlike):
    delayed = np.concatenate([np.zeros(80, np.float32), speechlike[:-80]])
    assert _lag_ms(speechlike, delayed, 16000) == pytest.approx(5.0)


def test_rejects_bad_input(speechlike):
    with pytest.raises(ValueError, match="unknown audio codec 'mp3'"):
        encode_audio(speechlike, 16000, "mp3", 16)
    with pytest.raises(ValueError, match=r"expected non-empty mono audio, got shape \(2, 3\)"):
        encode_audio(np.zeros((2, 3), np.float32), 16000, "opus", 8)

"""Prosody: per-word F0 and energy, and their quantiser."""

import numpy as np
import pytest

from semtalk.records import Word
from semtalk.semantics.speech.prosody import ProsodyQuantizer, measure_prosody

RATE = 16_000


def test_prosody_of_a_tone_and_of_silence():
    t = np.arange(RATE) / RATE
    audio = np.concatenate([0.1 * np.sin(2 * np.pi * 200 * t), np.zeros(RATE)]).astype(np.float32)
    voiced, silent = measure_prosody(audio, RATE, [Word("a", 0.2, 0.8), Word("b", 1.2, 1.8)])
    assert voiced.f0 == pytest.approx(200, rel=0.03)
    assert voiced.energy == pytest.approx(20 * np.log10(0.1 / np.sqrt(2)), abs=0.5)
    assert silent.f0 is None and silent.energy < -150


def test_prosody_quantizer_error_bounds():
    q = ProsodyQuantizer(f0_ref=140.0)
    for f0 in (70.0, 100.0, 140.0, 211.0, 320.0):
        back, _ = q.dequantize(*q.quantize(f0, -20.0))
        assert abs(12 * np.log2(back / f0)) <= 0.5 + 1e-9
    for e in (-60.0, -33.3, -8.0):
        _, back = q.dequantize(*q.quantize(None, e))
        assert abs(back - e) <= 2.0 + 1e-9
    assert q.dequantize(*q.quantize(None, None)) == (None, None)
    assert max(q.quantize(5000.0, 30.0)) < 32  # out of range saturates within the bits

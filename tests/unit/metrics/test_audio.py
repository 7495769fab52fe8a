"""Audio metrics on known inputs: identical speech scores perfectly, noise scores badly."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.generators.tts import synthesize
from semtalk.metrics.audio import mcd_db, pesq_wb, speaker_similarity, stoi

RATE = 16000


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    from semtalk.dsp.signal import resample

    syn = synthesize("The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background.")
    return resample(syn.audio, syn.rate, RATE).astype(np.float32)


@pytest.fixture(scope="module")
def noisy(speech: np.ndarray) -> np.ndarray:
    """Speech buried in white noise 5 dB louder than it."""
    noise = np.random.default_rng(0).normal(size=speech.size)
    return (speech + noise * speech.std() * 10 ** (5 / 20)).astype(np.float32)


def test_identical_speech_scores_perfectly(speech: np.ndarray) -> None:
    assert pesq_wb(speech, speech, RATE) > 4.4
    assert stoi(speech, speech, RATE) > 0.99
    assert mcd_db(speech, speech, RATE) == pytest.approx(0.0, abs=1e-9)
    assert speaker_similarity(speech, speech, RATE) == pytest.approx(1.0, abs=1e-4)


def test_noisy_speech_scores_badly(speech: np.ndarray, noisy: np.ndarray) -> None:
    assert pesq_wb(speech, noisy, RATE) < 1.5
    assert stoi(speech, noisy, RATE) < 0.7
    assert mcd_db(speech, noisy, RATE) > 4.0
    assert speaker_similarity(speech, noisy, RATE) < speaker_similarity(speech, speech * 0.5, RATE)


def test_metrics_resample_other_rates(speech: np.ndarray) -> None:
    from semtalk.dsp.signal import resample

    at_22k = resample(speech, RATE, 22050).astype(np.float32)
    assert pesq_wb(at_22k, at_22k, 22050) > 4.4
    assert mcd_db(speech, at_22k, RATE) > 0.0  # the rate is part of the contract: mismatch is visible
    assert mcd_db(at_22k, at_22k, 22050) == pytest.approx(0.0, abs=1e-9)


def test_pesq_rejects_too_short_input(speech: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"^PESQ needs at least 0.25 s of audio, got 0.100 s$"):
        pesq_wb(speech[:1600], speech[:1600], RATE)

"""Audio metrics on known inputs: identical speech scores perfectly, noise scores badly, a band-limited copy is
judged on the band it keeps, and silence has no speaker."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.generators.tts import synthesize
from semtalk.metrics.audio import mcd_db, or_none, pesq_wb, speaker_similarity, stoi
from tests.unit.dsp.dsp_fixtures import steep_low_pass
from tests.unit.semantics.speech.speech_data import shared_file

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


def test_mcd_scores_the_band_both_signals_carry(speech: np.ndarray, noisy: np.ndarray) -> None:
    narrow = steep_low_pass(speech, 4000.0, RATE).astype(np.float32)
    assert mcd_db(speech, narrow, RATE) < 0.3 and mcd_db(narrow, speech, RATE) < 0.3  # band-limiting alone is free
    assert mcd_db(speech, steep_low_pass(noisy, 4000.0, RATE), RATE) > 4.0  # distortion inside the band is not


def test_mcd_of_silence_is_undefined(speech: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"^a silent signal has no bandwidth$"):
        mcd_db(speech, np.zeros_like(speech), RATE)
    assert or_none(mcd_db, speech, np.zeros_like(speech), RATE) is None


def test_speaker_similarity_needs_speech_in_both(speech: np.ndarray) -> None:
    silence = np.zeros(2 * RATE, np.float32)
    hiss = (0.01 * np.random.default_rng(0).normal(size=2 * RATE)).astype(np.float32)
    for a, b, name in ((silence, silence, "reference"), (speech, silence, "output"), (hiss, speech, "reference")):
        with pytest.raises(ValueError, match=rf"^speaker similarity needs speech: the {name} has 0.00 s$"):
            speaker_similarity(a, b, RATE)
    assert or_none(speaker_similarity, silence, silence, RATE) is None


@pytest.mark.slow
@pytest.mark.parametrize("clip, words, seconds", [
    (("speech", "librispeech_1272-128104-0000.wav"), None, None),  # piper says the same words
    (("faces_av", "hdtf_WDA_EdMarkey0_000.mp4"), "The birch canoe slid on the smooth planks.", 10.0),
])
def test_mcd_ranks_codecs_between_a_band_limit_and_another_voice(clip, words, seconds) -> None:
    """On real speech: a 4 kHz cut of the input costs ~nothing, Opus 8 / AAC 16 kbps (4 kHz codecs) a little,
    piper's voice (another speaker) much more — before the common band, the codecs scored 11–17 dB, piper 4.8–4.9."""
    from semtalk.bench.codecs import encode_audio
    from semtalk.dsp.signal import resample
    from semtalk.media.reader import read_audio

    path = shared_file(*clip)
    audio = read_audio(path, rate=RATE, duration=seconds).astype(np.float32)
    voice = synthesize(words or path.with_suffix(".txt").read_text().lower())
    other = resample(voice.audio, voice.rate, RATE).astype(np.float32)
    low_pass = mcd_db(audio, steep_low_pass(audio, 4000.0, RATE), RATE)
    codecs = [mcd_db(audio, encode_audio(audio, RATE, c, k).samples, RATE) for c, k in (("opus", 8), ("aac", 16))]
    assert low_pass < 0.5 < min(codecs)
    assert max(codecs) < 3.0 < mcd_db(audio, other, RATE) - 1.0


def test_windows_cover_the_signal_and_leave_a_clip_whole() -> None:
    from semtalk.dsp.signal import windows

    assert windows(150, 80) == [(0, 150)]  # under two steps: one window, scored exactly as before
    assert windows(250, 80) == [(0, 80), (80, 160), (160, 250)]  # the last takes the remainder


def test_a_long_pair_is_scored_window_by_window(speech: np.ndarray, noisy: np.ndarray, monkeypatch) -> None:
    """Long calls are scored per window (the PESQ reference code fails to allocate on a 10-min signal; STOI held 1.4
    GB): with windows shorter than the signal, the score is the length-weighted mean of the windows' scores."""
    from semtalk.metrics import audio

    whole_pesq, whole_stoi = pesq_wb(speech, noisy, RATE), stoi(speech, noisy, RATE)
    third = (speech.size // 3) / RATE
    monkeypatch.setattr(audio, "PESQ_WINDOW_S", third)
    monkeypatch.setattr(audio, "STOI_WINDOW_S", third)
    spans = audio.windows(speech.size, round(third * RATE))
    assert len(spans) == 3
    expected = np.average([audio.pesq_wb(speech[a:b], noisy[a:b], RATE) for a, b in spans],
                          weights=[b - a for a, b in spans])
    assert pesq_wb(speech, noisy, RATE) == pytest.approx(expected)
    assert pesq_wb(speech, noisy, RATE) != pytest.approx(whole_pesq, abs=1e-6)
    assert stoi(speech, noisy, RATE) == pytest.approx(whole_stoi, abs=0.1)


def test_voice_activity_of_a_long_call_is_taken_a_window_at_a_time() -> None:
    """Windows of ``VAD_CHUNK_S`` (bounded memory): speech in each window is kept, a silent window adds none."""
    from semtalk.dsp.speaker import VAD_CHUNK_S, voice_activity

    rate = 16000
    t = np.arange(round(VAD_CHUNK_S * rate)) / rate
    voiced = (0.3 * np.sin(2 * np.pi * 150 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    call = np.concatenate([voiced, np.zeros_like(voiced), voiced])
    speech = voice_activity(call, rate)
    one = voice_activity(voiced, rate)
    assert one.size > 0
    assert speech.size == 2 * one.size

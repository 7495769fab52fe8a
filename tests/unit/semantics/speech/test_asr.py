"""Speech recognition: word cleaning, window config, and (slow) real transcription."""

import numpy as np
import pytest

from semtalk.metrics.text import wer
from semtalk.semantics.speech.asr import AsrConfig, SpeechRecognizer, clean_word
from tests.unit.semantics.speech.speech_data import shared_file

RATE = 16_000


def test_clean_word_strips_outer_punctuation_only():
    assert clean_word(" Americans,") == "americans"
    assert clean_word("don't") == "don't" and clean_word("U.S.") == "u.s" and clean_word(" ...") == ""


def test_config_rejects_overlap_longer_than_window():
    with pytest.raises(ValueError):
        AsrConfig(chunk_seconds=5, overlap_seconds=5)


@pytest.mark.slow
def test_asr_on_silence_gives_no_words():
    rec = SpeechRecognizer(AsrConfig(cpu_threads=1))
    assert rec.transcribe(np.zeros(3 * RATE, np.float32)) == []
    noise = np.random.default_rng(0).normal(0, 1e-3, 3 * RATE).astype(np.float32)
    assert rec.transcribe(noise) == []


@pytest.mark.slow
def test_asr_on_jfk_clip_streams_words_in_order():
    from semtalk.media.reader import read_audio

    clip = shared_file("speech", "jfk.flac")
    ref = clip.with_suffix(".txt").read_text()
    audio = read_audio(clip, RATE)
    # 4 s windows with 1 s overlap force several window boundaries inside the 11 s clip
    words = SpeechRecognizer(AsrConfig(chunk_seconds=4.0, overlap_seconds=1.0, cpu_threads=1)).transcribe(audio)
    assert wer(ref, " ".join(w.text for w in words)) < 0.2
    starts = [w.start for w in words]
    assert starts == sorted(starts) and all(w.end >= w.start for w in words)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lrs2_00016.mp4", "grid_lbax4n.mpg"])
def test_asr_on_talking_face_clips(name):
    from semtalk.media.reader import read_audio

    clip = shared_file("faces_av", name)
    words = SpeechRecognizer(AsrConfig(cpu_threads=1)).transcribe(read_audio(clip, RATE))
    assert wer(clip.with_suffix(".txt").read_text(), " ".join(w.text for w in words)) < 0.2

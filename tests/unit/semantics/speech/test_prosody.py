import numpy as np
import pytest
from speech_text_data import shared_file

from semtalk.metrics.text import wer
from semtalk.records import Word
from semtalk.semantics.speech.asr import AsrConfig, SpeechRecognizer, clean_word
from semtalk.semantics.speech.prosody import ProsodyQuantizer, measure_prosody

RATE = 16_000


def test_clean_word_strips_outer_punctuation_only():
    assert clean_word(" Americans,") == "americans"
    assert clean_word("don't") == "don't" and clean_word("U.S.") == "u.s" and clean_word(" ...") == ""


def test_config_rejects_overlap_longer_than_window():
    with pytest.raises(ValueError):
        AsrConfig(chunk_seconds=5, overlap_seconds=5)


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

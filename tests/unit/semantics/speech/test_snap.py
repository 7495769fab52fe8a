from __future__ import annotations

import numpy as np
import pytest

from semtalk.records import Word
from semtalk.semantics.speech.snap import SNAP_PAD, snap_to_speech

RATE = 16000


def tone_between(start: float, end: float, seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = 0.003 * rng.standard_normal(int(seconds * RATE))  # a quiet noise floor (about −50 dBFS)
    t = np.arange(int(start * RATE), int(end * RATE))
    x[t] += 0.5 * np.sin(2 * np.pi * 220 * t / RATE)
    return x.astype(np.float32)


def test_silence_before_and_after_a_word_is_trimmed():
    audio = tone_between(1.0, 1.6)
    (w,) = snap_to_speech(audio, [Word("set", 0.7, 1.9)])
    assert w.start == pytest.approx(1.0 - SNAP_PAD, abs=0.011)
    assert w.end == pytest.approx(1.6 + SNAP_PAD, abs=0.011)
    assert w.text == "set"


def test_edges_in_running_sound_do_not_move_and_never_move_outward():
    audio = tone_between(0.5, 2.5)
    words = [Word("a", 0.8, 1.2), Word("b", 1.2, 1.7)]
    assert snap_to_speech(audio, words) == words
    (w,) = snap_to_speech(tone_between(1.0, 1.6), [Word("x", 1.1, 1.3)])
    assert (w.start, w.end) == (1.1, 1.3)


def test_window_offset_is_respected():
    audio = tone_between(1.0, 1.6)
    (w,) = snap_to_speech(audio, [Word("set", 10.7, 11.9)], offset=10.0)
    assert w.start == pytest.approx(11.0 - SNAP_PAD, abs=0.011)


def test_no_contrast_or_no_sound_leaves_words_alone():
    flat = 0.3 * np.ones(RATE * 2, np.float32)
    words = [Word("a", 0.2, 0.6)]
    assert snap_to_speech(flat, words) == words
    assert snap_to_speech(tone_between(1.0, 1.6), [Word("q", 0.1, 0.5)]) == [Word("q", 0.1, 0.5)]
    assert snap_to_speech(np.zeros(10, np.float32), words) == words


def test_repetition_loops_are_dropped_and_the_prompt_reaches_whisper(monkeypatch):
    """A segment whose text compresses like a loop (Whisper's failed-decode test) gives no words."""
    from types import SimpleNamespace

    from semtalk.semantics.speech import asr

    def seg(text: str, start: float, ratio: float):
        words = [SimpleNamespace(word=f" {w}", start=start + 0.2 * i, end=start + 0.2 * i + 0.15)
                 for i, w in enumerate(text.split())]
        return SimpleNamespace(words=words, compression_ratio=ratio)

    seen = {}

    class FakeWhisper:
        def transcribe(self, audio, **kwargs):
            seen.update(kwargs)
            return iter([seg("set white", 0.5, 0.8), seg("see you in the next video " * 5, 1.5, 10.9)]), None

    monkeypatch.setattr(asr, "_whisper", lambda threads: FakeWhisper())
    config = asr.AsrConfig(prompt="Bin blue at f two now.", align=False)
    words = asr.SpeechRecognizer(config).transcribe(tone_between(0.5, 1.0), RATE)
    assert [w.text for w in words] == ["set", "white"]
    assert seen["initial_prompt"] == "Bin blue at f two now."

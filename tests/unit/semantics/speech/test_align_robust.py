"""AV sync robust by construction (issue 25, item 7): the sender's aligner against known offsets of the words it is
given, noise and music beds, a fast talker and a cut at the start, on speech the test makes itself with piper."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.records import Word
from semtalk.semantics.speech.align import align_words

RATE = 16000
TEXT = ["please", "place", "the", "blue", "box", "beside", "it", "now"]


def _speak(length_scale: float = 1.0, lead: float = 0.5) -> tuple[np.ndarray, list[Word]]:
    """Piper speaking TEXT after ``lead`` s of silence (16 kHz), with its own word spans."""
    pytest.importorskip("piper")
    from semtalk.dsp.signal import resample
    from semtalk.generators.speech import word_spans
    from semtalk.generators.tts import synthesize
    from semtalk.text.phones import phonemize

    syn = synthesize(" ".join(TEXT), length_scale=length_scale)
    spans = word_spans(syn.phonemes, [phonemize(w) for w in TEXT])
    audio = np.concatenate([np.zeros(int(lead * RATE), np.float32), resample(syn.audio, syn.rate, RATE),
                            np.zeros(RATE // 4, np.float32)])
    truth = [Word(w, lead + a / syn.rate, lead + b / syn.rate) for w, (a, b) in zip(TEXT, spans, strict=True)]
    return audio.astype(np.float32), truth


@pytest.fixture(scope="module")
def spoken() -> tuple[np.ndarray, list[Word]]:
    return _speak()


def _moved(words: list[Word], by: float) -> list[Word]:
    return [Word(w.text, w.start + by, w.end + by) for w in words]


def _onset_errors(aligned: list[Word], reference: list[Word]) -> np.ndarray:
    return np.array([abs(a.start - r.start) for a, r in zip(aligned, reference, strict=True)])


@pytest.mark.parametrize("offset_ms", [-200, -100, -40, 40, 100, 200])
def test_words_given_off_by_a_known_offset_land_where_they_are_spoken(spoken, offset_ms: int):
    """Whisper's times may be off by ±40…200 ms; the alignment must not carry any of that offset over."""
    audio, truth = spoken
    reference = align_words(audio, truth)
    aligned = align_words(audio, _moved(truth, offset_ms / 1000))
    assert _onset_errors(aligned, reference).max() <= 0.02, (offset_ms, aligned)


@pytest.mark.parametrize("bed", ["noise", "music"])
def test_a_noise_or_music_bed_under_the_speech_leaves_the_onsets_in_place(spoken, bed: str):
    """White noise 15 dB under the speech, or a sustained chord with a beat 10 dB under it: the words are still
    found (not left at the 150 ms-late times they were given)."""
    audio, truth = spoken
    rng = np.random.default_rng(0)
    t = np.arange(audio.size) / RATE
    if bed == "noise":
        under, level_db = rng.normal(size=audio.size), 15.0
    else:
        chord = sum(np.sin(2 * np.pi * f * k * t) / k for f in (220.0, 277.2, 329.6) for k in (1, 2, 3))
        under, level_db = chord * (0.6 + 0.4 * np.sin(2 * np.pi * 2.0 * t) ** 2), 10.0
    speech_rms = float(np.sqrt(np.mean(audio[np.abs(audio) > 0] ** 2)))
    mixed = audio + under / np.sqrt(np.mean(under ** 2)) * speech_rms * 10 ** (-level_db / 20)
    aligned = align_words(mixed.astype(np.float32), _moved(truth, 0.15))
    errors = _onset_errors(aligned, align_words(audio, truth))
    assert np.median(errors) <= 0.03 and errors.max() <= 0.1, errors


def test_a_fast_talker_is_aligned_as_well_as_a_slow_one():
    """Piper at 0.65 of its own durations (about 5 words a second): the onsets are found to the same precision
    as at the normal pace, from times given 100 ms late."""
    audio, truth = _speak(length_scale=0.65)
    aligned = align_words(audio, _moved(truth, 0.1))
    errors = _onset_errors(aligned, truth)
    assert errors.max() < 0.1, errors
    assert _onset_errors(align_words(audio, truth), aligned).max() <= 0.02


def test_a_word_cut_by_the_start_of_the_input_keeps_its_times_and_the_rest_are_aligned(spoken):
    """An excerpt that starts inside its first word (a clip cut mid-word): aligned whole, the cut word took the next
    words' sound and dragged "place the blue" 0.35 s late, and the alignment still succeeded."""
    audio, truth = spoken
    start = truth[0].start + 0.6 * (truth[0].end - truth[0].start)
    cut = audio[int(start * RATE):]
    given = _moved(truth, 0.1 - start)  # times from the excerpt's start, 100 ms late
    aligned = align_words(cut, given)
    assert aligned[0] == given[0]  # the cut word keeps its times
    reference = _moved(align_words(audio, truth), -start)
    # the word after it cannot start before the cut word's given end (its window's edge), so it moves at most
    # that far back towards its sound; every later word lands on the frames of the uncut alignment
    assert reference[1].start - 0.01 <= aligned[1].start <= given[1].start
    assert _onset_errors(aligned[2:], reference[2:]).max() <= 0.02

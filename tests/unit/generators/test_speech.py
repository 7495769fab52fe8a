"""The synthesiser's pure timing logic: time maps, word spans in piper's alignment, lost-timing placement
and the lip shift, on signals the test makes itself (no piper needed)."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.generators import stretch
from semtalk.generators.speech import _laid, dst_bounds, lip_shift, place_untimed, word_spans, word_time_map
from semtalk.records import Word


def test_time_map_hits_every_word_boundary_exactly():
    words = [Word("a", 0.5, 0.8), Word("b", 0.8, 1.4)]
    tmap = word_time_map([0.1, 0.4, 0.7], words, max_stretch=2.0)
    np.testing.assert_allclose(tmap.dst, [0.5, 0.8, 1.4])
    np.testing.assert_allclose(tmap.src, [0.1, 0.4, 0.7])
    np.testing.assert_allclose(tmap(np.array([0.5, 0.65, 0.8, 1.1, 1.4])), [0.1, 0.25, 0.4, 0.55, 0.7])


def test_gap_inside_a_group_is_split_at_its_middle():
    words = [Word("a", 0.5, 0.7), Word("b", 0.9, 1.2)]
    np.testing.assert_allclose(dst_bounds(words), [0.5, 0.8, 1.2])
    tmap = word_time_map([0.0, 0.2, 0.5], words, max_stretch=3.0)
    assert tmap(np.array([0.8]))[0] == pytest.approx(0.2)


def test_overlong_slot_is_spoken_at_max_stretch_centred_in_silence():
    tmap = word_time_map([0.0, 0.1], [Word("a", 1.0, 1.5)], max_stretch=2.0)
    np.testing.assert_allclose(tmap.dst, [1.15, 1.35])
    np.testing.assert_allclose(tmap(np.array([1.15, 1.25, 1.35])), [0.0, 0.05, 0.1])


def test_overlong_first_word_leaves_silence_and_the_next_word_keeps_its_slot():
    words = [Word("a", 1.0, 1.5), Word("b", 1.5, 1.7)]
    tmap = word_time_map([0.0, 0.1, 0.3], words, max_stretch=2.0)
    np.testing.assert_allclose(tmap.dst, [1.15, 1.35, 1.5, 1.7], atol=1e-6)
    assert np.isnan(tmap(np.array([1.4]))[0])  # silence between the capped word and the next
    assert tmap(np.array([1.6]))[0] == pytest.approx(0.2, abs=1e-6)


def test_crushed_slot_is_spoken_at_max_squeeze_and_borrows_from_its_neighbours():
    # Whisper gave "b" 20 ms; piper says it in 0.2 s: it may only go 2x faster than the group, which fits
    # its 1 s slot at piper's pace, so it takes 0.1 s, half from each neighbour, and the group keeps its edges
    words = [Word("a", 0.0, 0.49), Word("b", 0.49, 0.51), Word("c", 0.51, 1.0)]
    tmap = word_time_map([0.0, 0.4, 0.6, 1.0], words, max_stretch=2.0, max_squeeze=2.0)
    edges = tmap.dst
    assert edges[0] == pytest.approx(0.0, abs=1e-6) and edges[-1] == pytest.approx(1.0, abs=1e-6)
    b_start, b_end = tmap.dst[1], tmap.dst[2]
    assert b_end - b_start == pytest.approx(0.1, abs=1e-6)
    assert (b_start + b_end) / 2 == pytest.approx(0.5, abs=1e-6)


def test_a_group_squeezed_as_a_whole_stays_inside_its_slot():
    # piper's 0.3 s for a 0.2 s slot: the group's own pace (2/3) goes beyond max_squeeze, so nothing spills
    # into the silence around it, and each word keeps its share
    words = [Word("a", 1.0, 1.1), Word("b", 1.1, 1.2)]
    tmap = word_time_map([0.0, 0.15, 0.3], words, max_stretch=1.4, max_squeeze=1.15)
    np.testing.assert_allclose(tmap.dst, [1.0, 1.1, 1.2], atol=1e-6)


def test_zero_length_words_are_kept_and_given_time():
    from semtalk.generators.speech import _sanitize

    kept = _sanitize([Word("i", 0.0, 0.0), Word("did", 0.0, 0.18), Word("so", 3.0, 3.0)], 3.0)
    assert [w.text for w in kept] == ["i", "did"]  # "so" starts at the very end: no room
    tmap = word_time_map([0.0, 0.1, 0.3], kept, max_stretch=2.0, max_squeeze=1.5)
    pace = 0.18 / 0.3  # the group's slot over piper's length
    assert tmap.dst[1] - tmap.dst[0] >= 0.1 * pace / 1.5 - 1e-6 > 0


def test_prosody_corrections_stay_near_the_group_median():
    from semtalk.generators.speech import _near_median

    out = _near_median(np.array([0.0, 0.1, np.nan, -1.0, 0.05]), 0.2)
    np.testing.assert_allclose(out[[0, 1, 4]], [0.0, 0.1, 0.05])
    assert out[3] == pytest.approx(0.025 - 0.2) and np.isnan(out[2])


def test_time_map_rejects_bad_knots():
    with pytest.raises(ValueError, match=r"^a time map needs two or more"):
        stretch.TimeMap(np.array([0.0]), np.array([0.0]))
    with pytest.raises(ValueError, match=r"^time map knots must rise strictly in dst and not fall in src$"):
        stretch.TimeMap(np.array([0.0, 1.0]), np.array([1.0, 0.5]))


def test_word_spans_follow_merged_and_reduced_words():
    # espeak merges "in the" into one phoneme word and reduces "cat" (æ → ə) in the sentence
    phonemes = [("^", 100), ("ɪ", 10), ("n", 10), ("ð", 10), ("ə", 10), (" ", 20), ("k", 10), ("ə", 10),
                ("t", 10), (".", 30), ("$", 50)]
    spans = word_spans(phonemes, [["ɪ", "n"], ["ð", "ə"], ["k", "ˈ", "æ", "t"]])
    assert spans == [(100, 120), (120, 140), (160, 190)]


def test_word_spans_of_silence_is_none():
    assert word_spans([("^", 100), ("$", 50)], [["a"]]) is None


def _natural(words):
    return [0.2] * len(words)


def test_lost_word_goes_where_the_lips_move():
    lip = np.full(100, 0.1)
    lip[40:55] = 0.8  # mouth open 1.6–2.2 s
    words = [Word("hi", 0.2, 0.6), Word("lost", 0.7, 1.0, timed=False), Word("bye", 2.6, 3.0)]
    placed = place_untimed(words, 3.2, lip, 25.0, _natural)
    w = placed[1]
    assert w.timed and w.text == "lost"
    assert w.end - w.start == pytest.approx(0.2)
    assert w.start >= 1.6 - 1e-9 and w.end <= 2.2 + 1e-9
    assert placed[0] == words[0] and placed[2] == words[2]


def test_lost_run_without_lips_is_centred_on_its_rough_time_and_split_by_natural_length():
    words = [Word("a", 0.2, 0.6), Word("b", 0.9, 1.0, timed=False), Word("c", 1.0, 1.1, timed=False),
             Word("d", 2.6, 3.0)]
    placed = place_untimed(words, 3.2, None, 25.0, lambda ws: [0.1, 0.3])
    assert [round(w.start, 6) for w in placed[1:3]] == [0.8, 0.9]
    assert [round(w.end, 6) for w in placed[1:3]] == [0.9, 1.2]


def test_lost_word_is_clipped_to_its_gap_and_dropped_without_one():
    words = [Word("a", 0.0, 1.0), Word("b", 0.0, 0.0, timed=False), Word("c", 1.05, 2.0)]
    placed = place_untimed(words, 2.0, None, 25.0, lambda ws: [0.5])
    assert placed[1].start == pytest.approx(1.0) and placed[1].end == pytest.approx(1.05)
    gone = place_untimed([Word("a", 0.0, 1.0), Word("b", 0.0, 0.0, timed=False), Word("c", 1.0, 2.0)],
                         2.0, None, 25.0, lambda ws: [0.5])
    assert [w.text for w in gone] == ["a", "c"]


def _lips_and_speech(lag_s: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """8 s of a smooth random mouth opening at 25 fps, and noise in the 1-3 kHz band whose level follows it
    ``lag_s`` later (positive: the audio lags the lips)."""
    rng = np.random.default_rng(seed)
    lip = np.convolve(rng.random(210), np.ones(4) / 4, mode="same")[:200]
    t = np.arange(8 * 16000) / 16000
    spectrum = np.fft.rfft(rng.normal(size=t.size))
    freqs = np.fft.rfftfreq(t.size, 1 / 16000)
    spectrum[(freqs < 1000) | (freqs > 3000)] = 0.0
    return lip, np.fft.irfft(spectrum, n=t.size) * np.interp(t - lag_s, np.arange(200) / 25, lip)


@pytest.mark.parametrize("lag_ms", [30.0, -20.0, 0.0])
def test_lip_shift_moves_speech_against_its_lag_behind_the_lips(lag_ms: float):
    lip, audio = _lips_and_speech(lag_ms / 1000)
    assert lip_shift(audio, 16000, lip, 25.0, 0.05, 0.3) == pytest.approx(-lag_ms * 16, abs=5 * 16)


def test_lip_shift_is_bounded_and_needs_lips_that_move_with_the_speech():
    lip, audio = _lips_and_speech(0.08)
    assert lip_shift(audio, 16000, lip, 25.0, 0.05, 0.3) == -800  # 80 ms found, 50 ms moved
    assert lip_shift(audio, 16000, lip, 25.0, 0.0, 0.3) == 0
    assert lip_shift(audio, 16000, np.full(200, 0.4), 25.0, 0.05, 0.3) == 0  # a still mouth
    other, _ = _lips_and_speech(0.0, seed=1)
    assert lip_shift(audio, 16000, other, 25.0, 0.05, 0.3) == 0  # another talker's lips: no peak
    assert lip_shift(np.zeros(16000), 16000, lip, 25.0, 0.05, 0.3) == 0  # nothing said


def test_groups_moved_by_the_lip_shift_stay_inside_the_output():
    pieces = [(0, np.ones(100)), (500, np.full(100, 2.0)), (900, np.full(100, 3.0))]
    out = _laid(pieces, 1000, shift=-50)
    assert out.shape == (1000,) and out.sum() == pytest.approx(600.0)
    np.testing.assert_array_equal(out[:100], 1.0)  # the first group cannot go earlier than the start
    np.testing.assert_array_equal(out[450:550], 2.0)
    np.testing.assert_array_equal(out[850:950], 3.0)
    np.testing.assert_array_equal(_laid(pieces, 1000, shift=50)[900:], 3.0)  # nor the last one later than the end


def test_pieces_under_one_source_sample_are_silent_not_an_unbounded_rate():
    tmap = stretch.TimeMap(np.array([0.0, 0.005, 0.3, 0.5, 0.7]), np.array([0.0, 4e-17, 0.3, 0.3, 0.5]))
    np.testing.assert_array_equal(stretch.rising_pieces(tmap, 16000), [1, 3])
    y = stretch.warp(np.full(16000, 0.1), 16000, tmap, 0, round(0.7 * 16000))
    assert not y[:79].any() and not y[round(0.31 * 16000):round(0.49 * 16000)].any()


def test_fade_margins_go_at_the_sources_own_pace_and_no_further_back_than_its_start():
    from semtalk.generators.speech import _with_fade_margins

    tmap = stretch.TimeMap(np.array([1.0, 1.3]), np.array([0.2, 0.4]))
    wide = _with_fade_margins(tmap, 0.005)
    np.testing.assert_allclose(wide.dst, [0.995, 1.0, 1.3, 1.305])
    np.testing.assert_allclose(wide.src, [0.195, 0.2, 0.4, 0.405])
    early = _with_fade_margins(stretch.TimeMap(np.array([1.0, 1.3]), np.array([0.002, 0.4])), 0.005)
    np.testing.assert_allclose(early.dst[:2], [0.998, 1.0])  # 2 ms of source before the speech: a 2 ms head
    at_zero = _with_fade_margins(stretch.TimeMap(np.array([1.0, 1.3]), np.array([4e-17, 0.4])), 0.005)
    np.testing.assert_allclose(at_zero.dst, [1.0, 1.3, 1.305])  # no head at all


@pytest.mark.parametrize("lag_ms", [-200.0, -150.0, -70.0, -40.0, 40.0, 70.0, 150.0, 200.0])
def test_lip_shift_finds_known_lags_up_to_its_reach_and_moves_at_most_its_bound(lag_ms: float):
    """Speech ±40…200 ms off the lips: found within 10 ms when the reach (2·most) covers it; with the receiver's
    default ``most`` (50 ms, reach 100 ms) moved by at most 50 ms, and not at all when the peak is beyond reach."""
    lip, audio = _lips_and_speech(lag_ms / 1000)
    assert lip_shift(audio, 16000, lip, 25.0, 0.2, 0.3) == pytest.approx(-lag_ms * 16, abs=10 * 16)
    expected = -np.sign(lag_ms) * min(abs(lag_ms), 50) * 16 if abs(lag_ms) < 100 else 0
    assert lip_shift(audio, 16000, lip, 25.0, 0.05, 0.3) == pytest.approx(expected, abs=5 * 16)


@pytest.mark.parametrize("unrelated", [0.5, 1.0, 2.0, 4.0, 8.0])
def test_a_weak_lip_correlation_moves_the_speech_the_right_way_or_not_at_all(unrelated: float):
    """The speech's level follows the lips 60 ms late plus another talker's (``unrelated`` times as strong) and a
    noise bed: as the lips explain less of it, the shift may fall to 0, but never goes the wrong way or past the
    truth."""
    lip, audio = _lips_and_speech(0.06)
    _, other = _lips_and_speech(0.0, seed=7)
    noisy = audio + unrelated * other + 0.3 * np.random.default_rng(3).normal(size=audio.size) * audio.std()
    shift = lip_shift(noisy, 16000, lip, 25.0, 0.1, 0.3)
    assert -70 * 16 <= shift <= 0, shift
    if unrelated <= 1.0:
        assert shift == pytest.approx(-60 * 16, abs=15 * 16)

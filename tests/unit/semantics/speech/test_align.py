"""Forced alignment of the sender's words (pocketsphinx) and the KB domain prompt for the sender's ASR."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.kb.language import DomainLM
from semtalk.records import Word
from semtalk.semantics.speech.align import align_words, ipa_to_arpabet
from tests.unit.semantics.speech.speech_data import shared_file


def test_ipa_maps_diphthongs_first_and_skips_stress_and_length():
    assert ipa_to_arpabet(["b", "ˈ", "ɪ", "m", "b", "l", "u", "ː"]) == ["B", "IH", "M", "B", "L", "UW"]
    assert ipa_to_arpabet(["w", "ˈ", "a", "ɪ", "t"]) == ["W", "AY", "T"]
    assert ipa_to_arpabet(["d", "ʒ", "ˈ", "ʌ", "d", "ʒ"]) == ["JH", "AH", "JH"]
    assert ipa_to_arpabet(["ʔ", "ˌ"]) == []


@pytest.fixture(scope="module")
def spoken():
    """Piper speaking a GRID-like sentence after 0.5 s of silence, at 16 kHz, with its own word times."""
    pytest.importorskip("piper")
    from semtalk.dsp.signal import resample
    from semtalk.generators.speech import word_spans
    from semtalk.generators.tts import synthesize
    from semtalk.text.phones import phonemize

    text = ["set", "white", "with", "p", "two", "soon"]
    syn = synthesize(" ".join(text))
    spans = word_spans(syn.phonemes, [phonemize(w) for w in text])
    lead = 0.5
    audio = np.concatenate([np.zeros(int(lead * 16000), np.float32), resample(syn.audio, syn.rate, 16000)])
    truth = [Word(w, lead + a / syn.rate, lead + b / syn.rate) for w, (a, b) in zip(text, spans, strict=True)]
    return audio.astype(np.float32), truth


def test_alignment_follows_the_sound_not_the_times_it_was_given(spoken):
    """Piper's own spans are only a rough truth (VITS gives the word-separating space and stress marks
    durations of their own), so they are matched within 0.1 s; what must hold exactly is that late or
    early guesses all land on the same frames."""
    audio, truth = spoken
    late, early = ([Word(w.text, w.start + d, w.end + d) for w in truth] for d in (0.15, -0.1))
    aligned = align_words(audio, late)
    assert align_words(audio, early) == aligned
    errors = [abs(a.start - t.start) for a, t in zip(aligned, truth, strict=True)]
    assert max(errors) < 0.1, errors
    assert [w.text for w in aligned] == [w.text for w in truth]


def test_alignment_matches_the_grid_hand_marks():
    from semtalk.bench.speech import reference_timings
    from semtalk.media.reader import read_audio

    clip = shared_file("faces_av/grid_id2_vcd_swwp2s.mpg")
    marks = reference_timings(clip)
    audio = read_audio(clip, 16000)
    whisper_like = [Word(w, t + 0.1, t + 0.3) for w, t in marks]
    aligned = align_words(audio, whisper_like)
    errors = [abs(a.start - t) for a, (_, t) in zip(aligned, marks, strict=True)]
    assert np.mean(errors) < 0.04, errors


def test_words_outside_the_dictionary_and_digits_are_aligned(spoken):
    audio, truth = spoken
    split = align_words(audio, truth)
    merged = [*truth[:3], Word("p2", truth[3].start + 0.15, truth[4].end + 0.15), truth[5]]
    aligned = align_words(audio, merged)
    assert abs(aligned[3].start - split[3].start) <= 0.02
    assert abs(aligned[3].end - split[4].end) <= 0.02
    odd = [Word("sett", truth[0].start + 0.1, truth[0].end + 0.1), *truth[1:]]  # not in the CMU dictionary
    assert abs(align_words(audio, odd)[0].start - split[0].start) <= 0.03


def test_a_word_cut_by_the_end_of_the_input_is_left_out_not_all_of_them():
    """An excerpt that ends inside its last word: the words before it are still aligned (they move onto
    the same frames as in the whole recording), the cut word keeps its given times."""
    pytest.importorskip("piper")
    from semtalk.dsp.signal import resample
    from semtalk.generators.speech import word_spans
    from semtalk.generators.tts import synthesize
    from semtalk.semantics.speech.align import _align
    from semtalk.text.phones import phonemize

    text = ["he", "has", "imposed", "an", "illegal"]
    syn = synthesize(" ".join(text))
    spans = word_spans(syn.phonemes, [phonemize(w) for w in text])
    audio = np.concatenate([np.zeros(8000, np.float32), resample(syn.audio, syn.rate, 16000)]).astype(np.float32)
    truth = [Word(w, 0.5 + a / syn.rate, 0.5 + b / syn.rate) for w, (a, b) in zip(text, spans, strict=True)]
    late = [Word(w.text, w.start + 0.1, w.end + 0.1) for w in truth]
    cut = audio[:int((truth[-1].start + 0.3 * (truth[-1].end - truth[-1].start)) * 16000)]
    assert _align(cut, late, 0.0) is None  # the cut word alone makes the whole alignment fail
    aligned, whole = align_words(cut, late), align_words(audio, late)
    assert aligned[-1] == late[-1]
    assert all(abs(a.start - b.start) <= 0.02 for a, b in zip(aligned[:-1], whole[:-1], strict=True))
    assert aligned[:-1] != late[:-1]


def test_alignment_never_moves_a_word_further_than_max_shift(spoken):
    audio, truth = spoken
    far = [Word(w.text, w.start + 0.6, w.end + 0.6) for w in truth]
    assert align_words(audio, far, max_shift=0.4) == far
    noise = np.random.default_rng(0).normal(0, 0.01, 16000).astype(np.float32)
    assert align_words(noise, [Word("hello", 0.2, 0.6)], max_shift=0.05) == [Word("hello", 0.2, 0.6)]
    assert align_words(audio, []) == []


def test_a_word_whisper_put_where_it_cannot_be_is_pinned_by_its_aligned_neighbours(spoken):
    """LRS2 00016: Whisper put "supermarket" in 40 ms, 0.54 s late; the aligner had it right but max_shift
    threw that away. A stray whose given span cannot hold it, between accepted words, takes the alignment."""
    audio, truth = spoken
    split = align_words(audio, truth)
    w = truth[2]  # "with": three phones, given 10 ms half a second late, inside the next words' sound
    given = [*truth[:2], Word(w.text, w.start + 0.5, w.start + 0.51), *truth[3:]]
    aligned = align_words(audio, given, max_shift=0.4)
    assert abs(aligned[2].start - split[2].start) <= 0.03
    assert aligned[:2] == split[:2] and aligned[3:] == split[3:]
    far = [Word(x.text, x.start + 0.6, x.end + 0.6) for x in truth]  # nothing accepted: nothing pins
    assert align_words(audio, far, max_shift=0.4) == far


def test_alignment_does_not_depend_on_what_was_aligned_before(spoken):
    audio, truth = spoken
    first = align_words(audio, truth)
    align_words(np.random.default_rng(1).normal(0, 0.05, 16000).astype(np.float32), [Word("hello", 0.2, 0.6)])
    assert align_words(audio, truth) == first


def test_domain_sample_only_walks_the_domain_text_and_is_reproducible():
    lm = DomainLM.train(["bin blue at f two now", "lay red by c seven again", "set white with p four soon"])
    sentences = lm.sample(8, seed=3)
    assert sentences == lm.sample(8, seed=3)
    for s in sentences:
        seq = ["<s>", *s.split(), "</s>"]
        assert all(tuple(seq[i:i + 3]) in lm.counts for i in range(len(seq) - 2)), s
    prompt = lm.prompt(2)
    assert prompt.endswith(".") and prompt[0].isupper() and prompt.count(".") == 2


def test_onset_error_matches_words_in_order_against_hand_timings(tmp_path):
    from semtalk.bench.speech import onset_error_ms, reference_timings

    clip = tmp_path / "grid_x.mpg"
    clip.with_suffix(".align").write_text("0 12500 sil\n12500 20000 set\n20000 27500 white\n27500 30000 p\n"
                                          "30000 37500 two\n37500 50000 sil\n")
    marks = reference_timings(clip)
    assert marks == [("set", 0.5), ("white", 0.8), ("p", 1.1), ("two", 1.2)]
    sent = [Word("set", 0.55, 0.8), Word("white", 0.75, 1.0), Word("p2", 1.2, 1.5)]  # 'p2' is 'p two'
    got = onset_error_ms(sent, marks)
    assert got["onsets_matched"] == 2
    assert got["onset_error_ms"] == pytest.approx(0.0)
    assert got["onset_abs_error_ms"] == pytest.approx(50.0)
    assert reference_timings(tmp_path / "none.mp4") is None

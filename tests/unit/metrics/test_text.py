"""Text metrics: WER, BLEU and semantic similarity."""

import pytest

from semtalk.metrics.text import bleu, semantic_similarity, wer


def test_wer_normalises_digits_and_counts_errors():
    assert wer("I have 7 cats.", "i have seven cats") == 0.0
    assert wer("the cat sat down", "the dog sat") == pytest.approx(0.5)
    assert wer("", "") == 0.0 and wer("", "x") == 1.0 and wer("a b", "") == 1.0


def test_bleu_is_one_for_identical_and_lower_otherwise():
    ref = "and so my fellow americans ask not what your country can do for you"
    assert bleu(ref, ref.upper() + "!") == pytest.approx(1.0)
    assert 0.0 <= bleu(ref, "and so my friends ask what the country does") < 0.5


@pytest.mark.slow
def test_semantic_similarity_is_one_for_identical_text_and_lower_for_unrelated():
    s = "the weather is lovely today"
    assert semantic_similarity(s, s) == pytest.approx(1.0, abs=1e-5)
    assert semantic_similarity(s, "it is a beautiful sunny day") > semantic_similarity(s, "my invoice is overdue")

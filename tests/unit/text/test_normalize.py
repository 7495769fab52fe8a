"""Text normalisation: numbers spelt out, case and punctuation dropped, acronyms closed up."""

import pytest

from semtalk.metrics.text import wer
from semtalk.text.normalize import normalize, scoring_form, spell_number


@pytest.mark.parametrize(("token", "words"), [
    ("7", "seven"), ("0", "zero"), ("13", "thirteen"), ("42", "forty two"), ("100", "one hundred"),
    ("1990", "nineteen ninety"), ("1905", "nineteen oh five"), ("2000", "two thousand"),
    ("2005", "two thousand five"), ("2023", "twenty twenty three"), ("1,000,000", "one million"),
    ("3.5", "three point five"), ("21st", "twenty first"), ("50%", "fifty percent"), ("30th", "thirtieth"),
])
def test_numbers_are_spelt_out(token, words):
    assert spell_number(token) == words


def test_normalize_drops_case_and_punctuation_but_keeps_contractions():
    assert normalize("Don't stop, \"Americans\"! It's 7.") == "don't stop americans it's seven"
    assert normalize("  ") == ""


def test_scoring_closes_up_acronyms_dotted_or_spelt():
    assert scoring_form("The U.S. court in D.C, at 3.5 p.m.") == "the us court in dc at three point five pm"
    assert normalize("U.S.") == "u s"  # the aligner still reads the letters
    assert scoring_form("a. b, c") == "abc"
    assert scoring_form("before the u s a, in d c at x four") == "before the usa in dc at x four"
    assert wer("before the u.s supreme court", "before the US Supreme Court") == 0.0

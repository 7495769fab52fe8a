"""The speech bench pools re-ASR WER over words, so a short GRID sentence weighs what it says."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.bench.speech import markdown, pooled_wer, steady_wer
from semtalk.records import Word


def _call(clip: str, words: int, wer: float | None, original: float | None) -> dict:
    return {"clip": clip, "words_sent": words, "resynth_wer": wer, "resynth_wer_original": original, "rtf": {}}


CALLS = [_call("lrs2_a", 30, 0.1, 0.0), _call("grid_a", 6, 1 / 6, 1 / 3), _call("grid_b", 6, 0.0, None)]


def test_pooled_wer_weighs_each_clip_by_its_words():
    assert pooled_wer(CALLS, "resynth_wer") == pytest.approx((3 + 1 + 0) / 42)
    assert pooled_wer(CALLS[1:], "resynth_wer") == pytest.approx(1 / 12)
    assert pooled_wer([CALLS[0], _call("grid_c", 6, 1.0, 0.0)], "resynth_wer") == pytest.approx(9 / 36)
    assert pooled_wer(CALLS, "resynth_wer_original") == pytest.approx(2 / 36)  # clips without a value drop out
    assert pooled_wer([_call("x", 0, 0.5, 0.5)], "resynth_wer") is None


def test_markdown_has_a_pooled_row_per_corpus_and_for_all():
    text = markdown({"calls": CALLS, "text_loss": []})
    assert "| grid | 0.083 | 0.333 | – | – |" in text
    assert "| lrs2 | 0.100 | 0.000 | – | – |" in text
    assert "| all | 0.095 | 0.056 | – | – |" in text


def test_long_form_clips_are_pooled_apart_from_the_acceptance_set():
    text = markdown({"calls": [*CALLS, _call("hdtf_a", 20, 0.5, 0.0)], "text_loss": []})
    assert "| all | 0.095 | 0.056 | – | – |" in text  # LRS2 + GRID only, as without the HDTF clip
    assert "| hdtf | 0.500 | 0.000 | – | – |" in text
    assert text.index("| all |") < text.index("| hdtf |")


def test_steady_pools_the_listeners_mean_over_lead_ins():
    calls = [{**CALLS[0], "resynth_wer_steady": 0.2, "resynth_wer_original_steady": 0.1},
             {**CALLS[1], "resynth_wer_steady": 0.5, "resynth_wer_original_steady": 0.0}]
    assert "| all | 0.111 | 0.056 | 0.250 | 0.083 |" in markdown({"calls": calls, "text_loss": []})


def test_steady_wer_averages_one_decode_per_lead_in_of_silence():
    rate = 1000
    audio = np.ones(100, np.float32)
    heard = {0: "red sky", 15: "red sea", 30: "no way"}  # what the listener makes of each lead-in (ms)

    def transcribe(x: np.ndarray, r: int) -> list[Word]:
        assert r == rate and np.all(x[-100:] == 1)
        lead = int(np.flatnonzero(x)[0] * 1000 / rate)
        assert not x[:lead].any()
        return [Word(t, 0.0, 0.0) for t in heard[lead].split()]

    mean = steady_wer("red sky", audio, rate, transcribe, lead_ins=(0.0, 0.015, 0.03))
    assert mean == pytest.approx((0 + 0.5 + 1) / 3)

"""ξ̂ (eq. 9 at the receiver): readings drawn from the decoder's posterior, in proportion to its probabilities."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from semtalk.modes.m3e.check import posterior_similarity, sample_readings


class _Letters:
    def decode(self, ids) -> str:
        return "".join("abcde"[i] for i in ids)


def _decoded(logps: list[list[float]]):
    ids = [list(range(len(row))) for row in logps]
    return SimpleNamespace(tokens=[0] * len(logps), candidate_ids=ids,
                           candidates=[[("x", lp) for lp in row] for row in logps])


def test_a_certain_decoder_draws_its_reading_every_time_and_scores_one():
    decoded = _decoded([[0.0, -40.0, -40.0]] * 4)
    rng = np.random.default_rng(0)
    assert sample_readings(decoded, _Letters(), 5, rng) == ["aaaa"] * 5
    assert posterior_similarity("aaaa", decoded, _Letters(), 8, rng) == 1.0  # no embedding model needed


def test_draws_follow_the_candidates_probabilities():
    decoded = _decoded([[np.log(0.7), np.log(0.3)]])
    draws = sample_readings(decoded, _Letters(), 4000, np.random.default_rng(1))
    assert abs(draws.count("b") / 4000 - 0.3) < 0.03 and set(draws) == {"a", "b"}

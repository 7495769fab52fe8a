"""The ANFIS length controller of LGM-TSC (eqs. 12–17): layers by hand, hybrid learning, data, weights, CLI."""

from __future__ import annotations

import itertools
import json
import math
import sys
import types

import numpy as np
import pytest

from semtalk.cli import main
from semtalk.learned.anfis import train as anfis_train
from semtalk.learned.anfis.model import LENGTH_CLASSES, LENGTH_RATIOS, Anfis, bell, initial_anfis, load_anfis
from semtalk.learned.anfis.train import (
    hybrid_fit,
    labels,
    least_squares_step,
    loss,
    premise_gradient,
    premise_gradient_step,
    slot_transmit,
    targets,
    utilities,
)

SNRS = np.arange(-4.0, 20.5, 2.0)
WIDE = (-math.inf, math.inf)


def synthetic_utility(snr: np.ndarray) -> np.ndarray:
    """Received similarity per class (full, medium, short): shorter text keeps less meaning (ceiling) but arrives
    at lower SNR (midpoint); the best class is short below 4 dB, medium at 4–10 dB, full above."""
    return np.array([1.0, 0.9, 0.8]) / (1 + np.exp(-(np.asarray(snr, float)[:, None] - [5.2, 1.4, 0.0]) / 2.5))


def small_model(domain: tuple[float, float] = WIDE) -> Anfis:
    """Bells of half-width 2 (b = 1) at 0, 4, 8 dB; consequents [rule, class, (p, r)] easy to sum by hand."""
    premises = [[2.0, 1.0, 0.0], [2.0, 1.0, 4.0], [2.0, 1.0, 8.0]]
    consequents = [[[0.0, 1.0], [0.5, 0.0], [0.0, -1.0]],
                   [[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]],
                   [[0.0, 3.0], [-1.0, 0.0], [0.25, 1.0]]]
    return Anfis(np.array(premises), np.array(consequents), domain)


def perturbed(model: Anfis, seed: int = 0) -> Anfis:
    """Premises moved off the hand-set values, so no gradient factor is degenerate."""
    noise = np.random.default_rng(seed).normal(0.0, 0.4, (3, 3))
    return Anfis(model.premises + noise, model.consequents, model.domain)


# layers 1–5 and eq. 17 against hand computation

def test_bell_membership_matches_hand_computation():
    assert bell(2.0, a=2.0, b=1.0, c=0.0) == pytest.approx(0.5)       # |x − c| = a: one half, whatever b
    assert bell(0.0, a=2.0, b=1.0, c=0.0) == 1.0                      # at the centre
    assert bell(4.0, a=2.0, b=1.0, c=0.0) == pytest.approx(1 / 5)     # |u|² = 4
    assert bell(5.0, a=2.0, b=2.0, c=1.0) == pytest.approx(1 / 17)    # |u|⁴ = 16
    assert bell(-3.0, a=2.0, b=2.0, c=1.0) == pytest.approx(1 / 17)   # symmetric about c
    assert bell(1e40, a=1.0, b=5.0, c=0.0) == 0.0                     # overflow of |u|^2b is a clean 0


def test_firing_strengths_are_the_memberships_and_normalise_to_one():
    model = small_model()
    x = np.array([-3.0, 0.0, 2.0, 5.5, 11.0])
    mu = model.memberships(x)
    assert mu.shape == (5, 3)
    assert mu[2] == pytest.approx([0.5, 0.5, 0.1])  # x = 2: u = 1, −1, −3
    assert model.normalised(x) == pytest.approx(mu / mu.sum(axis=1, keepdims=True))
    assert model.normalised(x).sum(axis=1) == pytest.approx(np.ones(5))
    far = model.normalised(1e6)  # every μ underflows; the log-domain normalisation still sums to 1
    assert np.isfinite(far).all() and far.sum() == pytest.approx(1.0) and far.argmax() == 2


def test_sugeno_output_and_softmax_match_hand_computation():
    model = small_model()
    wbar = np.array([0.5, 0.5, 0.1]) / 1.1  # x = 2
    f = np.array([[1.0, 1.0, -1.0],         # rule low: 0·2 + 1, 0.5·2 + 0, 0·2 − 1
                  [2.0, 2.0, 0.0],          # rule medium
                  [3.0, -2.0, 1.5]])        # rule high
    z = wbar @ f
    assert model.logits(2.0) == pytest.approx(z)
    p = model.probabilities(2.0)
    assert p == pytest.approx(np.exp(z) / np.exp(z).sum())
    assert model.probabilities(np.linspace(-10, 30, 41)).sum(axis=-1) == pytest.approx(np.ones(41))
    assert model.choose(2.0) == LENGTH_CLASSES[int(np.argmax(z))]


def test_inputs_are_clipped_into_the_domain():
    model = small_model(domain=(0.0, 8.0))
    assert model.logits(-50.0) == pytest.approx(model.logits(0.0))
    assert model.logits(99.0) == pytest.approx(model.logits(8.0))
    with pytest.raises(ValueError, match=r"ANFIS domain must be an interval, got \(3.0, 1.0\)"):
        Anfis(model.premises, model.consequents, (3.0, 1.0))


def test_initial_model_votes_short_medium_full_and_parameters_are_read_only():
    model = initial_anfis()
    assert [model.choose(s) for s in (-4, 0, 8, 16, 25)] == ["short", "short", "medium", "full", "full"]
    assert LENGTH_RATIOS == {"full": 1.0, "medium": 0.85, "short": 0.75}
    with pytest.raises(ValueError):
        model.premises[0, 0] = 1.0
    with pytest.raises(ValueError, match=r"ANFIS premises must have shape \(3, 3\), got \(2, 3\)"):
        Anfis(np.ones((2, 3)), model.consequents, model.domain)


# hybrid learning

def test_least_squares_step_reduces_the_error_and_is_the_optimum():
    model, t = initial_anfis(), targets(synthetic_utility(SNRS))
    fitted = least_squares_step(model, SNRS, t)
    best = loss(fitted, SNRS, t)
    assert best < 0.5 * loss(model, SNRS, t)
    assert np.array_equal(fitted.premises, model.premises)
    rng = np.random.default_rng(1)
    for _ in range(20):  # E is convex in the consequents: any move away from the solution raises it
        moved = Anfis(fitted.premises, fitted.consequents + rng.normal(0, 1e-3, (3, 3, 2)), fitted.domain)
        assert loss(moved, SNRS, t) > best


def test_premise_gradient_matches_finite_differences():
    t = targets(synthetic_utility(SNRS))
    model = least_squares_step(perturbed(initial_anfis()), SNRS, t)
    analytic, numeric, eps = premise_gradient(model, SNRS, t), np.zeros((3, 3)), 1e-6
    for i in range(3):
        for j in range(3):
            step = np.zeros((3, 3))
            step[i, j] = eps
            up = Anfis(model.premises + step, model.consequents, model.domain)
            down = Anfis(model.premises - step, model.consequents, model.domain)
            numeric[i, j] = (loss(up, SNRS, t) - loss(down, SNRS, t)) / (2 * eps)
    assert np.abs(analytic).max() > 1e-4
    assert analytic == pytest.approx(numeric, rel=1e-4, abs=1e-8)


def test_premise_gradient_is_finite_where_an_input_sits_on_a_centre():
    model = initial_anfis()  # centres 0, 8, 16 dB are points of SNRS
    assert np.isfinite(premise_gradient(model, SNRS, targets(synthetic_utility(SNRS)))).all()


def test_gradient_step_reduces_the_loss_for_a_small_step():
    t = targets(synthetic_utility(SNRS))
    model = least_squares_step(perturbed(initial_anfis()), SNRS, t)
    stepped = premise_gradient_step(model, SNRS, t, lr=1e-3)
    assert loss(stepped, SNRS, t) < loss(model, SNRS, t)
    assert np.linalg.norm(stepped.premises - model.premises) == pytest.approx(1e-3)
    assert np.array_equal(stepped.consequents, model.consequents)


def test_hybrid_fit_learns_short_at_low_snr_and_full_at_high_snr():
    utility = synthetic_utility(SNRS)
    assert labels(utility)[:5] == ["short"] * 5 and labels(utility)[-6:] == ["full"] * 6
    model, history = hybrid_fit(SNRS, utility, initial_anfis(), epochs=150)
    assert all(later <= earlier for earlier, later in itertools.pairwise(history))
    assert history[-1] < 0.2 * history[0]
    assert model.domain == (-4.0, 20.0)
    assert [model.choose(s) for s in (-30, -4, 0, 2)] == ["short"] * 4
    assert [model.choose(s) for s in (6, 7, 8)] == ["medium"] * 3
    assert [model.choose(s) for s in (12, 16, 20, 60)] == ["full"] * 4
    again, _ = hybrid_fit(SNRS, utility, initial_anfis(), epochs=150)
    assert np.array_equal(again.premises, model.premises)  # deterministic


# parameters on disk

def test_json_round_trip_and_bad_files():
    model = perturbed(small_model(domain=(-4.0, 20.0)))
    back = Anfis.from_json(model.to_json())
    assert np.array_equal(back.premises, model.premises) and np.array_equal(back.consequents, model.consequents)
    assert back.domain == model.domain
    assert json.loads(model.to_json())["consequents"]["high"]["short"] == {"p": 0.25, "r": 1.0}
    with pytest.raises(ValueError, match=r"^not an ANFIS parameter file: "):
        Anfis.from_json("{}")
    with pytest.raises(ValueError, match=r"^not an ANFIS parameter file: "):
        Anfis.from_json("[1, 2")
    doc = json.loads(model.to_json())
    doc["format"] = "other/9"
    with pytest.raises(ValueError, match="unsupported ANFIS format 'other/9'"):
        Anfis.from_json(json.dumps(doc))


def test_shipped_weights_load_and_choose_by_snr():
    model = load_anfis()
    assert model is load_anfis()
    assert [model.choose(s) for s in (-10, -4, 0)] == ["short"] * 3  # shorter text at low SNR (the issue)
    assert [model.choose(s) for s in (6, 14, 20, 30)] == ["full"] * 4  # full text at high SNR


# data: utilities through injected fakes

SENTENCES = ["the quick brown fox jumps over the lazy dog near the river bank today",
             "a semantic call sends the meaning of words instead of the waveform itself",
             "the receiver speaks again every word it heard with the timing of the sender"]


def shorten(sentence: str, ratio: float) -> str:
    """Keep leading words up to ``ratio`` of the characters (a crude knowledge base)."""
    kept: list[str] = []
    for word in sentence.split():
        if len(" ".join([*kept, word])) > ratio * len(sentence):
            break
        kept.append(word)
    return " ".join(kept)


def overlap(reference: str, received: str) -> float:
    """Share of the reference's words that arrived (a stand-in for semantic similarity)."""
    ref, got = reference.split(), set(received.split())
    return sum(w in got for w in ref) / len(ref)


def word_channel(text: str, snr_db: float, seed: int) -> str:
    """Each word survives with a probability that rises with its energy: a fixed budget of 12 word-slots per
    message, so a longer text corrupts more of its words at low SNR."""
    words = text.split()
    snr_eff = snr_db + 10 * math.log10(12 / len(words))
    keep = np.random.default_rng(seed).random(len(words)) < 1 / (1 + math.exp(-snr_eff))
    return " ".join(w if k else "#" for w, k in zip(words, keep, strict=True))


def test_utilities_with_fakes_label_short_at_low_snr_and_full_at_high_snr():
    snr, utility = utilities(SENTENCES, [-3.0, 20.0], shorten, word_channel, overlap, seeds=range(40))
    assert snr.tolist() == [-3.0, 20.0] and utility.shape == (2, 3)
    assert labels(utility) == ["short", "full"]
    assert utility[1, 0] > 0.99  # full text at 20 dB: everything arrives


def test_utilities_score_against_the_full_sentence_and_can_stop_early():
    calls: list[tuple[str, float, int]] = []

    def lossless(text: str, snr_db: float, seed: int) -> str:
        calls.append((text, snr_db, seed))
        return text

    done: list[int] = []
    _, utility = utilities(SENTENCES, [0.0, 10.0], shorten, lossless, overlap, seeds=(7,),
                           keep_going=lambda n: done.append(n) or n < 1)
    assert done == [1] and len(calls) == 2 * 3
    assert utility[0] == pytest.approx([1.0, overlap(SENTENCES[0], shorten(SENTENCES[0], 0.85)),
                                        overlap(SENTENCES[0], shorten(SENTENCES[0], 0.75))])
    assert utility[0, 2] < utility[0, 1] < 1.0  # shortening costs meaning on a perfect channel
    assert len({seed for *_, seed in calls}) == 1  # the same noise for every class and SNR of a sentence
    for bad in ({"snrs": []}, {"seeds": ()}, {"sentences": []}):
        kwargs = {"sentences": SENTENCES, "snrs": [0.0], "seeds": (0,)} | bad
        with pytest.raises(ValueError, match=r"^utilities need at least one "):
            utilities(shorten=shorten, transmit=lossless, similarity=overlap, **kwargs)


def test_slot_transmit_repeats_a_shortened_text_to_its_sentence_slot():
    from semtalk.streams.sentence import combine

    sent: list[int] = []

    class Coder:
        def encode(self, text: str) -> np.ndarray:
            return np.arange(1, len(text.split()) + 1).astype(np.complex64)

        def decode(self, symbols: np.ndarray) -> types.SimpleNamespace:
            return types.SimpleNamespace(text=" ".join(f"{abs(s):.2f}" for s in symbols))

    def channel(symbols: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
        sent.append(symbols.size)
        return symbols + 0.1 * rng.normal(size=symbols.shape)

    full = "one two three four five six seven eight"
    transmit = slot_transmit(Coder(), shorten, [full], channel)
    short = shorten(full, 0.75)
    assert len(short.split()) < 8
    transmit(short, 0.0, seed=1)
    assert sent == [8]  # the full sentence's slot, filled with repeats
    assert transmit(full, 0.0, seed=1) == transmit(full, 0.0, seed=1)  # the seed fixes the noise
    assert sent[-1] == 8
    y = np.array([1, 2, 1.2, 2.2], np.complex64)
    assert np.allclose(combine(y, 2), [1.1, 2.1])  # the copies are averaged


# the real wiring, with fakes in place of the text coder, corpus, LM and MiniLM

def test_train_and_save_wires_the_pieces_and_writes_the_controller(tmp_path, monkeypatch):
    class Coder:
        def encode(self, text: str) -> np.ndarray:
            return np.ones(len(text.split()), np.complex64)

        def decode(self, symbols: np.ndarray) -> types.SimpleNamespace:
            return types.SimpleNamespace(text=" ".join("w" for s in symbols if s.real > 0.5))

    class Shortener:
        def shorten(self, sentence: str, ratio: float, keywords: tuple[str, ...] = ()) -> str:
            return shorten(sentence, ratio)

    coder = types.ModuleType("semtalk.learned.textcoder.code")
    coder.load_textcoder = Coder  # type: ignore[attr-defined]
    corpora = types.ModuleType("semtalk.text.corpora")
    corpora.training_sentences = lambda: SENTENCES * 10  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "semtalk.learned.textcoder.code", coder)
    monkeypatch.setitem(sys.modules, "semtalk.text.corpora", corpora)
    monkeypatch.setattr("semtalk.registry.get", lambda kind, name: {("lm", "ngram"): Shortener}[kind, name])
    monkeypatch.setattr("semtalk.metrics.text.semantic_similarity", lambda a, b: len(b.split()) / len(a.split()))
    monkeypatch.setattr(anfis_train, "_awgn", lambda symbols, snr_db, rng: symbols)
    lines: list[str] = []
    out = tmp_path / "anfis" / "anfis.json"
    model = anfis_train.train_and_save(out, sentences=4, snrs=[0.0, 10.0], lm="ngram", seed=0, minutes=1.0,
                                       epochs=5, log=lines.append)
    assert lines[0].startswith("4 sentences, each shortened text repeated")
    assert Anfis.from_json(out.read_text()).domain == model.domain == (0.0, 10.0)
    assert model.choose(10.0) == "full"  # lossless channel: the full text is the best


def test_cli_passes_its_arguments_and_refuses_bad_snrs(tmp_path, monkeypatch, capsys):
    calls: list[dict] = []
    monkeypatch.setattr(anfis_train, "train_and_save", lambda out, **kw: calls.append({"out": out, **kw}))
    out = tmp_path / "a.json"
    assert main(["train", "anfis", "--sentences", "5", "--snrs=-4,0,8.5", "--lm", "ngram", "--seed", "3",
                 "--minutes", "2", "--out", str(out)]) == 0
    assert calls[0]["out"] == out and calls[0]["snrs"] == [-4.0, 0.0, 8.5]
    assert {k: calls[0][k] for k in ("sentences", "lm", "seed", "minutes", "epochs")} == {
        "sentences": 5, "lm": "ngram", "seed": 3, "minutes": 2.0, "epochs": 200}
    assert main(["train", "anfis", "--snrs", "4,x"]) == 2
    assert "not a comma-separated list of SNRs in dB: '4,x'" in capsys.readouterr().err
    assert main(["train", "anfis", "--minutes", "0"]) == 2
    assert capsys.readouterr().err.strip() == "semtalk: error: --minutes must be > 0, got 0.0"

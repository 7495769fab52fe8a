"""Systematic PacSC: exact codes, parity that recovers lost rows, a prior that degrades gracefully."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest

from semtalk import registry
from semtalk.learned.pacsc.code import PacscFec, PacscMaeFec, rate_config
from semtalk.learned.pacsc.linear import LinearCodec, choose_mix, fit
from semtalk.records import CodedFrame
from semtalk.streams.face import FaceDepacketizer, FacePacketizer, FaceStreamFormat

FMT = FaceStreamFormat(n_coeffs=16, bits=8, kb_tag=0x3C)


def _coders(code, reference=None):
    """Both halves of a PacSC ``StreamCode`` on the face stream ``FMT``: the rows replace the face packets."""
    return code.sender(FacePacketizer(FMT)), code.receiver(FaceDepacketizer(FMT), prior=reference)


def _trajectory(n: int, seed: int = 0, rate: float = 0.5) -> np.ndarray:
    """Smooth code trajectories (n, 16) on the 8-bit grid, around the shipped code's per-coefficient mean
    and within its spread: what a talking face sends."""
    code = LinearCodec(rate).code
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    wave = np.sin(t / rng.uniform(3, 9, 16) + rng.uniform(0, 6, 16))
    x = code.coeff_mean + 0.8 * code.coeff_scale * wave + rng.normal(0, 0.5 / 255, (n, 16))
    return np.clip(np.rint(x * 255), 0, 255) / 255


def _steps(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(np.rint(a * 255) - np.rint(b * 255)).mean())


def _spy(receiver, note) -> list:
    """Make ``receiver`` record ``note(decode's arguments as attributes)`` for every decode; the records."""
    calls, decode = [], receiver.codec.decode

    def spy(rows, received, previous=None, lag=1, seen=None, ahead=None):
        calls.append(note(SimpleNamespace(received=received, previous=previous, lag=lag, seen=seen, ahead=ahead)))
        return decode(rows, received, previous, lag, seen, ahead)

    receiver.codec = type("Spy", (), {"cfg": receiver.codec.cfg, "systematic": True, "decode": staticmethod(spy)})()
    return calls


@pytest.mark.parametrize("rate", [0.5, 0.25])
def test_rows_are_the_codes_then_parity(rate):
    codec = LinearCodec(rate)
    x = _trajectory(20, rate=rate)
    rows = codec.encode(x)
    k = codec.cfg.systematic_rows
    assert rows.dtype == np.uint8 and rows.shape == (codec.cfg.rows, 80)
    assert np.array_equal(rows[:k].reshape(20, 16), np.rint(x * 255).astype(np.uint8))
    assert np.array_equal(rows, LinearCodec(rate).encode(x))


@pytest.mark.parametrize("rate", [0.5, 0.25])
def test_received_codes_come_back_exactly_whatever_the_parity(rate):
    codec = LinearCodec(rate)
    x = _trajectory(20, seed=1, rate=rate)
    rows = codec.encode(x)
    rows[codec.cfg.systematic_rows:] = 7  # garbage parity
    mask = np.zeros(codec.cfg.rows, bool)
    mask[: codec.cfg.systematic_rows] = True
    assert _steps(codec.decode(rows, mask), x) == 0.0


@pytest.mark.parametrize("rate", [0.5, 0.25])
def test_any_k_rows_recover_the_block_closely(rate):
    """With K rows in, the parity equations pin the lost frames (up to parity quantisation)."""
    codec = LinearCodec(rate)
    cfg = codec.cfg
    x = _trajectory(21, seed=2, rate=rate)
    rows = codec.encode(x[1:])
    errors = []
    for got in itertools.islice(itertools.combinations(range(cfg.rows), cfg.systematic_rows), 0, None, 7):
        mask = np.zeros(cfg.rows, bool)
        mask[list(got)] = True
        errors.append(_steps(codec.decode(rows, mask, x[0]), x[1:]))
    spread = np.abs(np.rint(x[1:] * 255) - np.rint(x[1:].mean(0) * 255)).mean()
    assert np.mean(errors) < 1.5 < spread


def test_parity_and_the_previous_frame_help_when_too_few_rows_arrive():
    codec = LinearCodec(0.5)
    x = _trajectory(21, seed=3)
    rows = codec.encode(x[1:])
    two_parity_rows = np.isin(np.arange(8), [4, 6])  # no codes at all
    nothing = np.zeros(8, bool)
    assert _steps(codec.decode(rows, two_parity_rows, x[0]), x[1:]) < 0.5 * _steps(codec.decode(rows, nothing, x[0]),
                                                                                       x[1:])
    # A face holding still away from the average: the previous block's last frame tells where.
    code = codec.code
    still = np.tile(np.rint((code.coeff_mean + 1.5 * code.coeff_scale) * 255) / 255, (21, 1))
    rows = codec.encode(still[1:])
    assert _steps(codec.decode(rows, nothing, still[0]), still[1:]) < 0.5 * _steps(codec.decode(rows, nothing),
                                                                                   still[1:])


def test_saturated_parity_is_ignored_not_trusted():
    """A level at 0 or 255 only says "beyond the span": trusting it as a value would pull frame 0 to it."""
    codec = LinearCodec(0.5)
    x = _trajectory(21, seed=4)
    rows = codec.encode(x[1:])
    mask = np.ones(8, bool)
    mask[0] = False
    rows[4:, :16] = 255  # frame 0's column of every parity row saturates
    out = codec.decode(rows, mask, x[0])
    assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
    assert _steps(out[5:], x[6:]) == 0.0
    assert _steps(out[:1], x[1:2]) < 6  # the prior from frame -1 and frames 1-4's parity, not the saturated level


def test_fit_on_synthetic_sequences_gives_a_usable_code():
    cfg = rate_config(0.5)
    seqs = [_trajectory(300, seed=s).astype(np.float32) for s in range(3)]
    code = fit(cfg, seqs, np.random.default_rng(0), windows=2000)
    assert code.mix.shape == (cfg.parity_rows, cfg.systematic_rows)
    assert np.allclose(np.linalg.norm(code.mix, axis=1), 1)
    assert code.cov.shape == (16, 21, 21) and code.span > 0
    codec = LinearCodec(0.5, code)
    x = _trajectory(20, seed=9)
    mask = np.array([0, 1, 0, 1, 1, 1, 0, 0], bool)
    assert _steps(codec.decode(codec.encode(x), mask), x) < 1.5


def test_chosen_mix_is_better_conditioned_than_a_random_one():
    rng = np.random.default_rng(0)

    def worst(g):
        full = np.vstack([np.eye(4), g])
        return max(np.linalg.cond(full[list(s)]) for s in itertools.combinations(range(8), 4))

    random = rng.standard_normal((4, 4))
    random /= np.linalg.norm(random, axis=1, keepdims=True)
    assert worst(choose_mix(4, 4, np.random.default_rng(1), tries=20, steps=200)) < worst(random)


def test_registry_names_and_the_systematic_flag_on_the_wire():
    assert registry.get("fec", "pacsc") is PacscFec and registry.get("fec", "pacsc-mae") is PacscMaeFec
    sender, _ = _coders(PacscFec(code_rate=0.5))
    _, mae_receiver = _coders(PacscMaeFec(code_rate=0.5))
    t = np.arange(20)[:, None]
    packets = [p for i in range(20) for p in sender.push(CodedFrame(i, (128 + 20 * np.sin(t[i] / 4 + np.arange(16)))
                                                                    .astype(np.uint16)))]
    assert len(packets) == 8
    for p in packets:
        assert mae_receiver.push(p) == []
    assert mae_receiver.garbage == 8  # a systematic row is not a transformer row


def test_stream_decodes_as_soon_as_the_codes_are_in_and_uses_the_previous_block():
    sender, receiver = _coders(PacscFec(code_rate=0.5))
    x = _trajectory(40, seed=5)
    packets = [p for i, c in enumerate(x) for p in sender.push(CodedFrame(i, np.rint(c * 255).astype(np.uint16)))]
    first = [f for p in packets[:4] for f in receiver.push(p)]  # block 0: its four code rows, no parity
    assert [f.index for f in first] == list(range(20))
    second = [f for p in packets[8:][1::2] for f in receiver.push(p)]  # block 1: rows 1, 3, 5, 7
    second += receiver.due(40)
    assert [f.index for f in second] == list(range(20, 40))
    got = np.stack([f.codes for f in second]) / 255
    assert _steps(got, x[20:]) < 1.5


def test_an_older_anchor_gets_a_weaker_pull_from_a_valid_prior():
    code = LinearCodec(0.5).code
    mean, cov = code.prior(1)
    assert mean is code.mean and cov is code.cov
    pulls = []
    for lag in (2, 20, 60, 10_000):
        mean, cov = code.prior(lag)
        assert np.all(np.linalg.eigvalsh(cov) > 0)  # still a covariance, whatever the lag
        assert np.allclose(mean[:, 0], 0.0) and np.allclose(cov[:, 1:, 1:], code.cov[:, 1:, 1:])
        pulls.append(np.abs(cov[:, 0, 1]).mean())
    assert pulls[0] > pulls[1] > pulls[2]


def test_a_speaker_far_from_the_training_mean_is_decoded_around_its_own_mean():
    codec = LinearCodec(0.5)
    offset = 1.0 * codec.code.coeff_scale  # a held-out speaker sits about one training std away
    x = np.clip(_trajectory(20, seed=4) + offset, 0, 1)
    rows, nothing = codec.encode(x), np.zeros(codec.cfg.rows, bool)
    seen = (np.clip(codec.code.coeff_mean + offset, 0, 1), 8)
    blind = _steps(codec.decode(rows, nothing), x)
    assert _steps(codec.decode(rows, nothing, seen=seen), x) < 0.7 * blind
    assert _steps(codec.decode(rows, nothing, seen=(seen[0], 0)), x) == blind  # no rows seen: no shift


def test_stream_hands_the_codec_an_old_anchor_with_its_lag_and_the_mean_of_exact_frames():
    sender, receiver = _coders(PacscFec(code_rate=0.5))
    calls = _spy(receiver, lambda a: (a.previous is not None, a.lag, None if a.seen is None else a.seen[1]))
    x = _trajectory(60, seed=6)
    packets = [p for i, c in enumerate(x) for p in sender.push(CodedFrame(i, np.rint(c * 255).astype(np.uint16)))]
    for p in packets[:4]:  # block 0 whole; block 1 lost; block 2: one code row and one parity row
        receiver.push(p)
    for p in (packets[16], packets[21]):
        receiver.push(p)
    receiver.due(41)
    assert calls == [(False, 1, None), (True, 21, 4)]


def test_a_frame_ahead_pulls_the_end_of_a_lost_block_toward_it_from_a_valid_prior():
    code = LinearCodec(0.5).code
    for lag, ahead in itertools.product((1, 2, 20, 500), (1, 6, 16, 1000)):
        mean, cov = code.prior(lag, ahead)
        assert mean.shape == (16, 22) and cov.shape == (16, 22, 22) and np.all(np.linalg.eigvalsh(cov) > 0)
    codec = LinearCodec(0.5)
    x = _trajectory(21, seed=7)
    rows, nothing = codec.encode(x[:20]), np.zeros(codec.cfg.rows, bool)
    blind = codec.decode(rows, nothing, x[0], lag=40)
    seeing = codec.decode(rows, nothing, x[0], lag=40, ahead=(x[20], 1))  # the next block's first frame
    assert _steps(seeing[-3:], x[17:20]) < 0.6 * _steps(blind[-3:], x[17:20])


def test_a_lost_block_plays_frame_by_frame_using_rows_that_arrive_while_it_plays():
    sender, receiver = _coders(PacscFec(code_rate=0.5))
    calls = _spy(receiver, lambda a: (int(a.received.sum()), None if a.ahead is None else a.ahead[1]))
    x = _trajectory(60, seed=8)
    packets = [p for i, c in enumerate(x) for p in sender.push(CodedFrame(i, np.rint(c * 255).astype(np.uint16)))]
    for p in packets[:4]:  # block 0 whole
        receiver.push(p)
    receiver.push(packets[9])  # block 1: code row 1 only
    assert [f.index for f in receiver.due(25)] == list(range(20, 25))
    receiver.push(packets[11])  # block 1 code row 3 arrives late, block 2's code row 0 while block 1 plays
    receiver.push(packets[16])
    later = receiver.due(40)
    assert [f.index for f in later] == list(range(25, 40))
    assert calls[1:] == [(1, None), (2, 1)]  # re-decoded once with what arrived, the frame ahead 1 after
    exact = np.rint(x[35:40] * 255)
    assert np.array_equal(np.stack([f.codes for f in later[-5:]]), exact)  # the late row's frames are exact


def test_the_receiver_starts_from_the_kb_reference_frame():
    sender, receiver = _coders(PacscFec(code_rate=0.5), reference=np.full(16, 200, np.uint16))
    calls = _spy(receiver, lambda a: (None if a.previous is None else np.rint(a.previous * 255), a.lag, a.seen[1]))
    packets = [p for i, c in enumerate(_trajectory(20, seed=9))
               for p in sender.push(CodedFrame(i, np.rint(c * 255).astype(np.uint16)))]
    receiver.push(packets[5])  # one parity row: the block leans on the reference, weighed as a frame 1 before it
    receiver.due(20)
    (previous, lag, rows), = calls
    assert np.all(previous == 200) and lag == 1 and rows == 4

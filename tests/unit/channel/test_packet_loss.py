"""Packet channels: loss statistics, burst lengths, seeding, delay/jitter/reorder/duplicate."""

from __future__ import annotations

import re

import numpy as np
import pytest

from semtalk import registry
from semtalk.channel.packet_loss import BernoulliLoss, GilbertElliottLoss, burst_lengths
from semtalk.records import Datagram


def batch(count: int, spacing: float = 0.01) -> list[Datagram]:
    return [Datagram(i.to_bytes(4, "big"), i * spacing) for i in range(count)]


def ids(datagrams: list[Datagram]) -> list[int]:
    return [int.from_bytes(d.data, "big") for d in datagrams]


def test_burst_lengths_of_exact_masks():
    assert burst_lengths(np.array([1, 1, 0, 1, 0, 0, 1, 1, 1], dtype=bool)).tolist() == [2, 1, 3]
    assert burst_lengths(np.zeros(5, dtype=bool)).tolist() == []
    assert burst_lengths(np.ones(4, dtype=bool)).tolist() == [4]
    assert burst_lengths(np.array([], dtype=bool)).tolist() == []


@pytest.mark.parametrize("p", [0.05, 0.2, 0.5])
def test_bernoulli_loss_rate_and_mean_burst(p):
    mask = BernoulliLoss(p, seed=1).loss_mask(100_000)
    assert abs(mask.mean() - p) < 0.01
    assert burst_lengths(mask).mean() == pytest.approx(1 / (1 - p), rel=0.05)


@pytest.mark.parametrize(("p", "burst"), [(0.05, 2.0), (0.1, 4.0), (0.3, 8.0)])
def test_gilbert_elliott_loss_rate_and_mean_burst(p, burst):
    channel = GilbertElliottLoss(p, burst, seed=2)
    mask = np.concatenate([channel.loss_mask(50_000) for _ in range(4)])  # state carries across calls
    assert abs(mask.mean() - p) < 0.01
    assert burst_lengths(mask).mean() == pytest.approx(burst, rel=0.05)


def test_gilbert_elliott_with_burst_one_over_one_minus_p_is_bernoulli():
    channel = GilbertElliottLoss(0.2, 1.25, seed=3)
    assert channel.p_good_to_bad == pytest.approx(0.2)
    assert channel.p_bad_to_good == pytest.approx(0.8)


def test_extreme_losses():
    assert not GilbertElliottLoss(0.0, 3.0, seed=0).loss_mask(1000).any()
    assert not BernoulliLoss(0.0, seed=0).loss_mask(1000).any()
    assert BernoulliLoss(1.0, seed=0).loss_mask(1000).all()


def test_call_counts_sent_and_lost_and_keeps_send_time_without_delay():
    channel = BernoulliLoss(0.3, seed=4)
    sent = batch(1000)
    out = channel(sent[:500]) + channel(sent[500:])
    assert channel.sent == 1000
    assert channel.lost == 1000 - len(out)
    assert all(d.time == sent[i].time for d, i in zip(out, ids(out), strict=True))
    assert ids(out) == sorted(ids(out))


@pytest.mark.parametrize("cls", [BernoulliLoss, GilbertElliottLoss])
def test_same_seed_same_output_different_seed_different(cls):
    def run(seed: int) -> list[Datagram]:
        args = (0.2,) if cls is BernoulliLoss else (0.2, 3.0)
        return cls(*args, seed=seed, jitter=0.02, reorder=0.1, duplicate=0.1)(batch(500))

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_loss_pattern_does_not_depend_on_timing_settings():
    plain = GilbertElliottLoss(0.2, 3.0, seed=5)(batch(500))
    jittery = GilbertElliottLoss(0.2, 3.0, seed=5, delay=0.1, jitter=0.05, reorder=0.2)(batch(500))
    assert sorted(ids(plain)) == sorted(ids(jittery))


def test_generator_can_be_passed_instead_of_seed():
    a = BernoulliLoss(0.5, seed=np.random.default_rng(9))(batch(200))
    b = BernoulliLoss(0.5, seed=np.random.default_rng(9))(batch(200))
    assert a == b


def test_delay_and_jitter_give_arrival_times_sorted_and_reordered():
    channel = BernoulliLoss(0.0, seed=6, delay=0.05, jitter=0.02)
    sent = batch(1000)
    out = channel(sent)
    assert len(out) == 1000
    times = [d.time for d in out]
    assert times == sorted(times)
    waits = np.array([d.time - sent[i].time for d, i in zip(out, ids(out), strict=True)])
    assert waits.min() >= 0.05
    assert waits.mean() == pytest.approx(0.05 + 0.02 * np.sqrt(2 / np.pi), rel=0.05)  # half-normal mean
    assert ids(out) != sorted(ids(out))


def test_reorder_holds_packets_back_by_reorder_delay():
    channel = BernoulliLoss(0.0, seed=7, reorder=0.25, reorder_delay=0.5)
    sent = batch(4000, spacing=1.0)
    out = channel(sent)
    waits = np.array([d.time - sent[i].time for d, i in zip(out, ids(out), strict=True)])
    assert set(waits.tolist()) == {0.0, 0.5}
    assert abs((waits == 0.5).mean() - 0.25) < 0.02


def test_duplicate_delivers_copies_and_counts_them():
    channel = BernoulliLoss(0.1, seed=8, duplicate=0.2)
    out = channel(batch(5000))
    received = ids(out)
    copies = len(received) - len(set(received))
    assert copies == channel.duplicated
    assert abs(copies / (5000 - channel.lost) - 0.2) < 0.02
    assert len(out) == 5000 - channel.lost + channel.duplicated


def test_empty_batch_gives_empty_output():
    channel = GilbertElliottLoss(0.2, 3.0, seed=1, jitter=0.1)
    assert channel([]) == []
    assert (channel.sent, channel.lost) == (0, 0)


def test_registry_builds_both_channels():
    assert isinstance(registry.get("channel", "bernoulli")(loss=0.1, seed=1), BernoulliLoss)
    channel = registry.get("channel", "gilbert_elliott")(loss=0.1, burst=3.0, seed=1)
    assert isinstance(channel, GilbertElliottLoss)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: BernoulliLoss(1.5), "loss must be in [0, 1], got 1.5"),
        (lambda: BernoulliLoss(float("nan")), "loss must be in [0, 1], got nan"),
        (lambda: GilbertElliottLoss(1.0, 3.0), "Gilbert–Elliott loss must be in [0, 1), got 1.0"),
        (
            lambda: GilbertElliottLoss(0.1, 0.5),
            "Gilbert–Elliott mean burst length must be at least 1, got 0.5",
        ),
        (
            lambda: GilbertElliottLoss(0.75, 2.0),
            "Gilbert–Elliott mean burst length 2.0 is too short for loss 0.75: "
            "it must be at least p / (1 - p) = 3",
        ),
        (lambda: BernoulliLoss(0.1, delay=-1.0), "delay must be at least 0 seconds, got -1.0"),
        (lambda: BernoulliLoss(0.1, jitter=-0.1), "jitter must be at least 0 seconds, got -0.1"),
        (lambda: BernoulliLoss(0.1, reorder=2.0), "reorder probability must be in [0, 1], got 2.0"),
        (
            lambda: GilbertElliottLoss(0.1, 2.0, duplicate=-0.5),
            "duplicate probability must be in [0, 1], got -0.5",
        ),
    ],
)
def test_invalid_parameters_are_rejected_with_clear_message(build, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        build()

"""The simulated link: a seeded channel per stream (seed + 7919·i), deliveries in arrival order, counts."""

from __future__ import annotations

import math

import pytest

from semtalk.channel.packet_loss import BernoulliLoss, GilbertElliottLoss, burst_lengths
from semtalk.link.simulated import STREAM_SEED_STEP, ChannelConfig, SimulatedLink, StreamCounts
from semtalk.records import Datagram


def _packets(stream: int, n: int, size: int = 20) -> list[bytes]:
    """``n`` distinct datagrams of ``stream``, ``size`` bytes each."""
    return [f"s{stream}-{i}".encode().ljust(size, b".") for i in range(n)]


def _everything(link: SimulatedLink) -> list[tuple[int, bytes]]:
    return list(link.deliver(math.inf))


def test_each_stream_has_its_own_channel_seeded_seed_plus_7919_times_its_number():
    assert STREAM_SEED_STEP == 7919
    config = ChannelConfig(loss=0.3, seed=5)
    link = SimulatedLink(config)
    sent = {s: _packets(s, 300) for s in (0, 1, 2)}
    for s in (0, 1, 2):
        link.send(s, sent[s], 0.0)
    got = _everything(link)
    for s in (0, 1, 2):
        alone = BernoulliLoss(0.3, seed=5 + 7919 * s)([Datagram(p, 0.0) for p in sent[s]])
        assert [d for t, d in got if t == s] == [d.data for d in alone]
    lost = [{i for i, p in enumerate(sent[s]) if (s, p) not in got} for s in (0, 1, 2)]
    assert lost[0] != lost[1] and lost[1] != lost[2]  # independent realisations, not one pattern reused


def test_a_streams_losses_do_not_depend_on_the_other_streams_traffic():
    config = ChannelConfig(channel="gilbert_elliott", loss=0.2, burst=3.0, seed=11)
    alone, mixed = SimulatedLink(config), SimulatedLink(config)
    for k in range(50):
        batch = _packets(1, 250)[5 * k:5 * k + 5]
        alone.send(1, batch, k * 0.04)
        mixed.send(0, _packets(0, 100)[2 * k:2 * k + 2], k * 0.04)
        mixed.send(1, batch, k * 0.04)
    assert [d for s, d in _everything(alone)] == [d for s, d in _everything(mixed) if s == 1]
    assert alone.stream(1) == mixed.stream(1)


def test_the_same_seed_gives_the_same_deliveries_and_another_seed_does_not():
    def run(seed: int) -> list[tuple[int, bytes]]:
        link = SimulatedLink(ChannelConfig(loss=0.25, jitter=0.02, seed=seed))
        for k in range(40):
            link.send(k % 2, _packets(k % 2, 200)[5 * k:5 * k + 5], k * 0.04)
        return _everything(link)

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_deliveries_come_in_arrival_order_and_only_once_arrived():
    config = ChannelConfig(delay=0.1, jitter=0.03, seed=2)
    link = SimulatedLink(config)
    batches = [(s, _packets(s, 40)[10 * k:10 * k + 10], 0.02 * k + 0.01 * s) for k in range(4) for s in (0, 1)]
    channels = {s: config.make(s) for s in (0, 1)}
    expected = []
    for s, packets, time in batches:
        link.send(s, packets, time)
        expected += [(d.time, s, d.data) for d in channels[s]([Datagram(p, time) for p in packets])]
    expected.sort(key=lambda e: e[0])  # stable: ties keep sending order, as the link's heap does
    assert list(link.deliver(0.09)) == []  # nothing arrives before the delay
    cut = expected[len(expected) // 2][0]
    first = list(link.deliver(cut))
    assert first == [(s, d) for t, s, d in expected if t <= cut]
    assert list(link.deliver(cut)) == []  # handed out once
    assert first + _everything(link) == [(s, d) for _, s, d in expected]


def test_counts_of_packets_bytes_and_losses_per_stream():
    link = SimulatedLink(ChannelConfig(loss=0.4, seed=9))
    link.send(0, _packets(0, 100, size=30), 0.0)
    link.send(0, _packets(0, 200, size=30)[100:], 0.5)
    link.send(3, _packets(3, 50, size=12), 0.0)
    link.send(3, [], 1.0)  # nothing to send: nothing counted
    got = _everything(link)
    zero, three = link.stream(0), link.stream(3)
    assert (zero.packets, zero.bytes) == (200, 200 * 30)
    assert (three.packets, three.bytes) == (50, 50 * 12)
    assert zero.lost == 200 - sum(s == 0 for s, _ in got) and 40 < zero.lost < 120
    assert three.lost == 50 - sum(s == 3 for s, _ in got)
    assert link.stream(7) == StreamCounts() and set(link.counts) == {0, 3}


def test_no_loss_delivers_everything_and_total_loss_nothing():
    clean, dead = SimulatedLink(ChannelConfig(loss=0.0)), SimulatedLink(ChannelConfig(loss=1.0))
    for link in (clean, dead):
        link.send(0, _packets(0, 30), 0.0)
    assert [d for _, d in _everything(clean)] == _packets(0, 30)
    assert _everything(dead) == [] and dead.stream(0).lost == 30


def test_a_burst_length_needs_the_gilbert_elliott_channel():
    link = SimulatedLink(ChannelConfig(channel="bernoulli", loss=0.2, burst=3.0))
    with pytest.raises(ValueError, match="gilbert_elliott"):
        link.send(0, _packets(0, 5), 0.0)
    bursty = ChannelConfig(channel="gilbert_elliott", loss=0.2, burst=4.0, seed=1)
    assert isinstance(bursty.make(0), GilbertElliottLoss)
    link = SimulatedLink(bursty)
    sent = _packets(0, 5000)
    link.send(0, sent, 0.0)
    arrived = {d for _, d in _everything(link)}
    mask = [p not in arrived for p in sent]
    assert burst_lengths(mask).mean() == pytest.approx(4.0, rel=0.25)


def test_radio_totals_sum_the_streams_and_a_packet_link_has_none():
    link = SimulatedLink(ChannelConfig(channel="awgn", snr=2.0, seed=3))
    for s in (0, 1):
        link.send(s, _packets(s, 20, size=60), 0.0)
    total, face, words = link.radio(), link.radio([0]), link.radio([1])
    assert total == face + words
    assert total.packets_sent == 40 and face.channel_uses > 0
    assert link.stream(0).lost == face.packets_lost and link.stream(1).lost == words.packets_lost
    packet = SimulatedLink(ChannelConfig(loss=0.5))
    packet.send(0, _packets(0, 5), 0.0)
    assert packet.radio() is None

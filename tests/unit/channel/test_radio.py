"""The radio as a link channel: packets intact or dropped by the PHY, seeded, counted for the report."""

from __future__ import annotations

import pytest

from semtalk import registry
from semtalk.channel.radio import RadioChannel
from semtalk.link.simulated import ChannelConfig
from semtalk.phy.radio import RadioConfig
from semtalk.records import Datagram


def _batch(n: int = 6, size: int = 40, time: float = 1.0) -> list[Datagram]:
    return [Datagram(bytes([i]) * size, time) for i in range(n)]


def test_both_radio_names_are_the_radio_channel_and_say_so():
    for name in ("awgn", "rayleigh"):
        assert registry.get("channel", name) is RadioChannel
    assert RadioChannel.kind == "radio" and registry.get("channel", "bernoulli").kind == "packet"


def test_a_clean_link_delivers_every_packet_exact_after_the_delay():
    channel = RadioChannel(RadioConfig(channel="awgn"), snr_db=20.0, seed=1, delay=0.05)
    batch = _batch()
    got = channel(batch)
    assert [d.data for d in got] == [d.data for d in batch]
    assert all(d.time == pytest.approx(1.05) for d in got)
    assert channel.sent == 6 and channel.lost == 0 and channel.counts.channel_uses > 0


def test_a_dead_link_drops_everything_and_counts_it():
    channel = RadioChannel(RadioConfig(channel="rayleigh", coherence=50), snr_db=-10.0, seed=1)
    assert channel(_batch()) == []
    assert channel.lost == channel.sent == 6
    assert channel.counts.bler == 1.0 and channel.counts.ber_uncoded > 0.2


def test_counts_add_up_over_batches_and_the_seed_fixes_the_realisation():
    def run(seed: int) -> tuple[list[list[bytes]], RadioChannel]:
        channel = RadioChannel(RadioConfig(channel="rayleigh", coherence=100), snr_db=4.0, seed=seed)
        return [[d.data for d in channel(_batch(8))] for _ in range(10)], channel

    a, channel = run(3)
    b, again = run(3)
    assert a == b and channel.counts == again.counts
    assert a != run(4)[0]  # at 4 dB over Rayleigh some packets go; another seed loses others
    assert channel.sent == 80 and 0 < channel.lost < 80
    assert channel.lost == sum(8 - len(x) for x in a)
    assert channel.counts.packet_loss == pytest.approx(channel.lost / 80)


def test_from_config_takes_the_radio_fields_and_refuses_packet_loss_settings():
    channel = RadioChannel.from_config(ChannelConfig(channel="rayleigh", snr=7.0, modulation="16qam",
                                                     ldpc_rate=0.75, csi="estimated", coherence=40, pilots=2), 5)
    c = channel.config
    assert (channel.snr_db, c.modulation, float(c.ldpc_rate), c.csi, c.coherence, c.pilots) == \
        (7.0, "16qam", 0.75, "estimated", 40, 2)
    for bad in ({"loss": 0.1}, {"burst": 2.0}, {"jitter": 0.01}):
        with pytest.raises(ValueError, match="packet channels"):
            RadioChannel.from_config(ChannelConfig(channel="awgn", **bad), 0)

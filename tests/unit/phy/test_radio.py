"""DigitalRadio: packets come back exact or erased (never corrupted), counts, seeding, LDPC waterfall, config."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from semtalk.phy.channel import ebno_to_snr_db
from semtalk.phy.radio import DigitalRadio, RadioConfig, ldpc_rate
from semtalk.phy.theory import ber_bpsk_awgn


def random_packets(sizes: list[int], seed: int = 0) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [rng.bytes(s) for s in sizes]


@pytest.fixture(scope="module")
def radio() -> DigitalRadio:
    return DigitalRadio(RadioConfig(modulation="qpsk", ldpc_rate=0.5))


def test_high_snr_delivers_every_packet_exactly_with_consistent_counts(radio):
    sizes = [0, 1, 40, 125, 126, 300, 1200]
    packets = random_packets(sizes)
    out = radio.transmit(packets, snr_db=20.0, rng=1)
    assert out.packets == packets
    assert [radio.segment(s) for s in (0, 125, 126, 1200)] == [(1, 1), (1, 125), (2, 63), (10, 120)]
    assert out.blocks == sum(radio.segment(s)[0] for s in sizes)
    assert out.block_errors == out.undetected_errors == out.coded_bit_errors == out.uncoded_bit_errors == 0
    assert out.info_bits == 8 * sum(sizes)
    assert out.channel_uses == out.coded_bits // 2 == radio.data_symbols(sizes)
    assert out.pilot_symbols == 0 and out.packet_loss == 0.0
    empty = radio.transmit([], snr_db=0.0, rng=1)
    assert empty.packets == [] and empty.channel_uses == 0 and empty.bler == 0.0


def test_a_packet_with_forced_wrong_bits_is_erased_never_delivered(radio):
    packets = random_packets([100, 100, 250])
    tx = radio.encode(packets)
    rx = radio.propagate(tx, snr_db=20.0, rng=2)
    llr = rx.llr.copy()
    llr[tx.block_offsets[0] : tx.block_offsets[1]] *= -1  # every bit of packet 0's block decided wrong
    llr[tx.block_offsets[3] : tx.block_offsets[4]] *= -1  # the second block of packet 2
    out = radio.decode(tx, dataclasses.replace(rx, llr=llr))
    assert out.packets == [None, packets[1], None]
    assert out.block_errors == 2 and out.packet_loss == pytest.approx(2 / 3)
    assert out.uncoded_bit_errors == (tx.block_offsets[1] - tx.block_offsets[0]) + (
        tx.block_offsets[4] - tx.block_offsets[3])


def test_a_block_that_passes_its_crc_on_wrong_data_is_still_erased(radio):
    packets, impostor = random_packets([100, 100], seed=3), random_packets([100], seed=4)[0]
    tx = radio.encode(packets)
    fake = radio.encode([impostor])  # a valid codeword, CRC included, of other data of the same size
    rx = radio.propagate(tx, snr_db=20.0, rng=5)
    llr = rx.llr.copy()
    llr[: tx.block_offsets[1]] = 20.0 * (2.0 * fake.coded_bits - 1.0)
    out = radio.decode(tx, dataclasses.replace(rx, llr=llr))
    assert out.packets == [None, packets[1]]
    assert out.undetected_errors == 1 and out.block_errors == 1


def test_no_packet_is_ever_delivered_corrupted_near_the_cliff():
    radio = DigitalRadio(RadioConfig(modulation="16qam", ldpc_rate=0.75))
    packets = random_packets([60] * 80, seed=6)
    out = radio.transmit(packets, snr_db=10.0, rng=7)
    assert 0.05 < out.packet_loss < 0.95
    assert all(got is None or got == sent for got, sent in zip(out.packets, packets, strict=True))


def test_same_seed_same_outcome_different_seed_differs(radio):
    packets = random_packets([80] * 40, seed=8)
    snr = ebno_to_snr_db(1.2, 2, 0.5)  # in the waterfall
    a, b, c = (radio.transmit(packets, snr, rng=s) for s in (11, 11, 12))
    assert a == b
    assert a.uncoded_bit_errors != c.uncoded_bit_errors and a.packets != c.packets
    assert radio.transmit(packets, snr, np.random.default_rng(11)) == a


def test_ldpc_half_rate_qpsk_bler_through_the_radio(radio):
    """Acceptance through the whole chain: BLER < 1 % at Eb/N0 = 3 dB, > 50 % at 0 dB (64-byte packets)."""
    packets = random_packets([64] * 200, seed=9)
    good = radio.transmit(packets, ebno_to_snr_db(3.0, 2, 0.5), rng=13)
    bad = radio.transmit(packets, ebno_to_snr_db(0.0, 2, 0.5), rng=14)
    assert good.bler < 0.01 and bad.bler > 0.5
    assert good.packet_loss < 0.01 and bad.packet_loss > 0.5
    assert bad.ber_uncoded == pytest.approx(float(ber_bpsk_awgn(-10 * np.log10(2))), rel=0.1)  # Ec = Es/2


def test_estimated_csi_sends_pilots_and_still_delivers():
    perfect = DigitalRadio(RadioConfig(channel="rayleigh", coherence=40))
    estimated = DigitalRadio(RadioConfig(channel="rayleigh", coherence=40, csi="estimated", pilots=2))
    packets = random_packets([100] * 30, seed=10)
    p = perfect.transmit(packets, 25.0, rng=15)
    e = estimated.transmit(packets, 25.0, rng=15)
    assert p.pilot_symbols == 0 and p.channel_uses == perfect.data_symbols([100] * 30)
    assert e.pilot_symbols == 2 * -(-p.channel_uses // 38) and e.channel_uses == p.channel_uses + e.pilot_symbols
    assert p.packet_loss < 0.1 and e.packet_loss < 0.2


@pytest.mark.parametrize(
    "bad",
    [dict(modulation="8psk"), dict(ldpc_rate=0.4), dict(channel="awgn", csi="estimated"),
     dict(channel="rayleigh", csi="estimated", coherence=1), dict(channel="fading"), dict(max_block_bytes=0)],
)
def test_nonsense_configurations_are_rejected(bad):
    with pytest.raises(ValueError):
        RadioConfig(**bad)


def test_rates_snap_to_the_5g_set():
    assert [float(ldpc_rate(r)) for r in (0.5, "2/3", 0.333, 0.75, 5 / 6)] == [0.5, 2 / 3, 1 / 3, 0.75, 5 / 6]

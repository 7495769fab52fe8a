"""RTCP: packets round-trip, bad bytes raise ValueError only, and the reception statistics give RFC 3550's
fraction lost, cumulative lost, interarrival jitter and round-trip time for scripted loss and delay patterns."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from semtalk.streams import rtcp


def test_compound_round_trip():
    block = rtcp.ReportBlock(0x1234, fraction_lost=64, cumulative_lost=-3, highest_seq=70_000, jitter=900,
                             lsr=0xABCD0123, dlsr=65536)
    packets = [rtcp.SenderReport(7, rtcp.ntp_timestamp(1e9 + 0.5), 3600, 10, 500, (block,)),
               rtcp.App(7, b"STLK", b'{"frames": 3}', subtype=1), rtcp.Bye((7,)), rtcp.ReceiverReport(9, (block,))]
    parsed = rtcp.parse_compound(rtcp.compound(*packets))
    assert parsed[0] == packets[0] and parsed[2:] == packets[2:]
    app = parsed[1]
    assert (app.ssrc, app.name, app.subtype, app.data.rstrip(b"\0")) == (7, b"STLK", 1, b'{"frames": 3}')
    assert rtcp.ntp_seconds(parsed[0].ntp) == pytest.approx(1e9 + 0.5, abs=1e-6)


def test_rtcp_and_rtp_are_told_apart_on_one_port():
    assert rtcp.is_rtcp(bytes(rtcp.ReceiverReport(1)))
    assert not rtcp.is_rtcp(bytes([0x80, 96]) + bytes(10))  # RTP payload type 96
    assert not rtcp.is_rtcp(b"\x80")


def test_any_bytes_raise_value_error_or_parse():
    rng = np.random.default_rng(0)
    good = rtcp.compound(rtcp.SenderReport(1, 2, 3, 4, 5, (rtcp.ReportBlock(1),)), rtcp.Bye((1,)))
    for n in range(3000):
        data = bytearray(good)
        if n % 2:
            data = bytearray(rng.integers(0, 256, rng.integers(0, 80), dtype=np.uint8).tobytes())
            data[:1] = b"\x81"
        else:
            for _ in range(3):
                data[rng.integers(0, len(data))] = rng.integers(0, 256)
            data = data[: rng.integers(0, len(data) + 1)]
        with contextlib.suppress(ValueError):  # any other exception fails the test
            rtcp.parse_compound(bytes(data))


def test_fraction_lost_and_cumulative_lost_follow_a_scripted_loss_pattern():
    stats = rtcp.ReceptionStats(0x42, clock_rate=90_000)
    for seq in range(100):
        if seq % 4 != 1:  # every 4th lost: 25 of 100
            stats.arrived(seq, seq * 3600, seq / 25)
    block = stats.block(now=4.0)
    assert block.cumulative_lost == 25 and block.highest_seq == 99
    assert block.fraction_lost == (25 << 8) // 100  # 64: a quarter, in 1/256
    for seq in range(100, 200):  # the next interval loses nothing
        stats.arrived(seq, seq * 3600, seq / 25)
    assert stats.block(now=8.0).fraction_lost == 0 and stats.lost == 25


def test_highest_sequence_number_is_extended_across_the_wrap():
    stats = rtcp.ReceptionStats(1, clock_rate=1000)
    for i in range(10):
        stats.arrived((65_530 + i) & 0xFFFF, i, i / 100)
    assert stats.block(0.1).highest_seq == 65_539 and stats.lost == 0


def test_interarrival_jitter_converges_to_a_scripted_delay_alternation():
    stats = rtcp.ReceptionStats(1, clock_rate=90_000)
    for k in range(400):  # sent every 40 ms; network delay alternates 5 ms / 15 ms: |D| = 10 ms each time
        stats.arrived(k, k * 3600, k * 0.04 + (0.005 if k % 2 else 0.015))
    assert stats.jitter_seconds == pytest.approx(0.010, rel=1e-3)
    assert stats.block(16.0).jitter == pytest.approx(900, abs=1)  # 10 ms in 90 kHz units


def test_constant_delay_is_no_jitter():
    stats = rtcp.ReceptionStats(1, clock_rate=90_000)
    for k in range(50):
        stats.arrived(k, k * 3600, 100 + k * 0.04 + 0.2)
    assert stats.jitter_seconds == pytest.approx(0.0, abs=1e-9)


def test_round_trip_from_lsr_and_dlsr():
    stats = rtcp.ReceptionStats(7, clock_rate=90_000)
    stats.arrived(0, 0, 1000.0)
    sr_sent = 1_700_000_000.0
    stats.sender_report(rtcp.ntp_timestamp(sr_sent), arrival=50.0)  # arrival on the receiver's own clock
    block = stats.block(now=50.3)  # the receiver holds the SR 0.3 s before reporting
    assert block.dlsr == round(0.3 * 65536)
    # the report reaches the sender 0.1 s after the SR went + 0.3 s held + 0.1 s back
    assert block.round_trip(sr_sent + 0.5) == pytest.approx(0.2, abs=1e-4)
    assert rtcp.ReportBlock(7).round_trip(sr_sent) is None  # no SR yet: no RTT

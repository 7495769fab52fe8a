"""JitterBuffer: ordering, duplicates, late packets, wraparound, capacity."""

from __future__ import annotations

import pytest

from semtalk.rtp.jitter import JitterBuffer
from semtalk.rtp.packet import RtpPacket


def pkt(seq: int) -> RtpPacket:
    return RtpPacket(payload_type=96, sequence_number=seq & 0xFFFF, ssrc=1, payload=bytes([seq & 0xFF]))


def seqs(packets: list[RtpPacket]) -> list[int]:
    return [p.sequence_number for p in packets]


def test_reordered_packets_pop_in_sequence_order():
    jb = JitterBuffer()
    for s in [3, 1, 2, 0, 4]:
        jb.push(pkt(s))
    assert len(jb) == 5
    assert seqs(jb.pop()) == [0, 1, 2, 3, 4]
    assert len(jb) == 0 and jb.missing == 0


def test_duplicates_are_dropped_and_counted():
    jb = JitterBuffer()
    for s in [0, 1, 1, 0, 2]:
        jb.push(pkt(s))
    assert seqs(jb.pop()) == [0, 1, 2]
    assert jb.duplicates == 2


def test_pop_until_gives_up_gaps_and_drops_late_arrivals():
    jb = JitterBuffer()
    for s in [10, 11, 13, 15]:
        jb.push(pkt(s))
    assert seqs(jb.pop(until=14)) == [10, 11, 13]
    assert jb.missing == 1  # 12 never came
    assert jb.next_seq == 14
    jb.push(pkt(12))  # too late: already played past
    jb.push(pkt(14))
    assert jb.late == 1
    assert seqs(jb.pop(until=16)) == [14, 15]
    assert jb.pop(until=12) == []


def test_pop_contiguous_stops_at_first_gap():
    jb = JitterBuffer()
    for s in [0, 1, 3]:
        jb.push(pkt(s))
    assert seqs(jb.pop_contiguous()) == [0, 1]
    assert seqs(jb.pop_contiguous()) == []
    jb.push(pkt(2))
    assert seqs(jb.pop_contiguous()) == [2, 3]
    assert jb.missing == 0


def test_sequence_wraparound_keeps_order():
    jb = JitterBuffer()
    for s in [65534, 1, 65535, 0, 2]:
        jb.push(pkt(s))
    assert seqs(jb.pop()) == [65534, 65535, 0, 1, 2]
    assert jb.highest_seq == 65536 + 2
    assert jb.extend(3) == 65536 + 3


def test_packet_before_the_first_is_kept_until_the_first_pop():
    jb = JitterBuffer()
    jb.push(pkt(5))
    jb.push(pkt(4))
    assert seqs(jb.pop()) == [4, 5]


def test_capacity_drops_the_oldest():
    jb = JitterBuffer(capacity=3)
    for s in range(5):
        jb.push(pkt(s))
    assert jb.overflow == 2
    assert seqs(jb.pop()) == [2, 3, 4]
    jb.push(pkt(1))
    assert jb.late == 1


def test_capacity_must_be_positive():
    with pytest.raises(ValueError, match=r"^jitter buffer capacity must be at least 1, got 0$"):
        JitterBuffer(capacity=0)

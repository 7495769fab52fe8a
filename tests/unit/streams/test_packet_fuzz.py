"""Property tests of the RTP header parser, the stream filter and the sequence unwrapper on a hostile channel."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from semtalk.streams.face import FacePacketizer, FaceStreamFormat
from semtalk.streams.packet import MAX_DROPOUT, RtpPacket, SequenceUnwrapper, StreamFilter, seq_distance
from tests.unit.streams.fuzz import JUMPS, delivered, forged, fuzz
from tests.unit.streams.payload_frames import BITS, N_COEFFS, TAG, random_walk

FMT = FaceStreamFormat(n_coeffs=N_COEFFS, bits=BITS, kb_tag=TAG, first_seq=65530)
_pk = FacePacketizer(FMT)
HONEST = [p for f in random_walk(np.random.default_rng(0), 60) for p in _pk.push(f)] + _pk.flush()


@fuzz(400)
@given(st.lists(st.one_of(forged(HONEST), st.sampled_from(HONEST)), min_size=20, max_size=40))
def test_filter_admits_exactly_this_streams_packets_and_counts_the_rest(stream):
    """~12,000 datagrams a run. Each datagram is admitted or counted under one reason; what is admitted parses to
    this stream's SSRC, payload type and KB tag and serialises back to a packet that parses the same; a wrong version
    is garbage."""
    flt = StreamFilter(FMT.ssrc, FMT.payload_type, FMT.kb_tag)
    admitted = 0
    for data in stream:
        before = (flt.garbage, flt.foreign, flt.wrong_kb)
        pkt = flt.admit(data)
        if pkt is not None:
            admitted += 1
            assert (pkt.ssrc, pkt.payload_type) == (FMT.ssrc, FMT.payload_type)
            assert len(pkt.payload) < 2 or pkt.payload[1] == FMT.kb_tag
            assert RtpPacket.parse(bytes(pkt)) == pkt
            assert data not in HONEST or bytes(pkt) == data
        elif data[:1] and data[0] >> 6 != 2:
            assert (flt.garbage, flt.foreign, flt.wrong_kb) == (before[0] + 1, *before[1:])
        assert data not in HONEST or pkt is not None
    assert admitted + flt.garbage + flt.foreign + flt.wrong_kb == len(stream)


@st.composite
def honest_numbers(draw, max_n: int = 400) -> tuple[int, list[int]]:
    first = draw(st.one_of(st.sampled_from([0, 65530, 65535]), st.integers(0, 0xFFFF)))
    n = draw(st.integers(1, max_n))
    return first, [first + i for i in range(n)]


@fuzz(150)
@given(st.data())
def test_unwrapper_places_every_honest_number_exactly(data):
    """~10,000 numbers a run. Loss, duplicates and any reordering within the dropout: every number extends to its
    true value."""
    first, numbers = data.draw(honest_numbers())
    unwrap = SequenceUnwrapper(first=first)
    for ext in data.draw(delivered(numbers)):
        assert unwrap(ext & 0xFFFF) == ext


def _unwrap_with_forgeries(data, max_forged: int, near_half: bool) -> None:
    """k forged numbers among an honest stream (in order, with loss), each drawn relative to the honest number
    before it: an honest number is placed exactly or refused, and at most k of them are refused."""
    first, numbers = data.draw(honest_numbers(max_n=200))
    stream = [("honest", ext) for ext in data.draw(delivered(numbers, reorder=False))]
    offsets = st.one_of(st.sampled_from(JUMPS), st.integers(0, 0xFFFF))
    if not near_half:
        offsets = offsets.filter(lambda o: abs(seq_distance(0, o)) < 32768 - 2 * 200)
    n_forged = data.draw(st.integers(1, max_forged))
    for _ in range(n_forged):
        at = data.draw(st.integers(0, len(stream)))
        before = [ext for who, ext in stream[:at] if who == "honest"]
        stream.insert(at, ("forged", (before[-1] if before else first) + data.draw(offsets)))
    unwrap = SequenceUnwrapper(MAX_DROPOUT, first=first)
    refused = 0
    for who, ext in stream:
        got = unwrap(ext & 0xFFFF)
        if who == "honest":
            assert got in (None, ext)
            refused += got is None
    assert refused <= n_forged


@fuzz(150)
@given(st.data())
def test_unwrapper_forged_numbers_cost_at_most_their_own_count(data):
    """Up to 4 forged numbers, which may confirm each other as a restart, short of half the number space
    away (see the xfail below)."""
    _unwrap_with_forgeries(data, max_forged=4, near_half=False)


@fuzz(100)
@given(st.data())
def test_unwrapper_one_forged_number_anywhere_costs_at_most_one(data):
    """A lone forged number, +32767 and +32768 included, cannot confirm itself."""
    _unwrap_with_forgeries(data, max_forged=1, near_half=True)


@pytest.mark.xfail(strict=True, reason="issue 25: a confirmed jump of half the number space makes the honest "
                   "stream that returns after it extend 65536 too low (seq_distance is ambiguous at 32768)")
def test_unwrapper_a_forged_pair_half_the_space_ahead_misplaces_the_stream_that_returns():
    unwrap = SequenceUnwrapper(first=100)
    assert [unwrap(s) for s in (100, 101)] == [100, 101]
    assert [unwrap(101 + 32767), unwrap(101 + 32768)] == [None, 101 - 32768]  # the forged pair: a "restart"
    assert [unwrap(102), unwrap(103)] == [None, 103]  # the real stream confirms itself: got 103 - 65536

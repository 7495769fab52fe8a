"""Property tests of the RS-protected face stream receiver (``ProtectedReceiver``: ``RsDecoder``, then
``FaceDepacketizer``) on a hostile channel: what it delivers, not only that it survives."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from semtalk.fec.reed_solomon import REPAIR_HEADER, ReedSolomonFec
from semtalk.streams.face import FaceDepacketizer, FacePacketizer, FaceStreamFormat
from semtalk.streams.packet import RtpPacket
from tests.unit.streams.fuzz import (
    FaceStream,
    delivered,
    face_stream,
    face_streams,
    forged,
    fuzz,
    is_sent,
    rebuilt,
    with_forgeries,
)
from tests.unit.streams.payload_frames import BITS, N_COEFFS, TAG, random_walk

fecs = st.builds(ReedSolomonFec, k=st.integers(1, 6), code_rate=st.sampled_from([1.0, 0.75, 0.5, 0.34]))


def protect(fec: ReedSolomonFec, stream: FaceStream) -> tuple[list[bytes], dict[bytes, int]]:
    """The datagrams the protected sender sends, and the FEC block (first source seq) of each."""
    sender = fec.sender(FacePacketizer(stream.fmt))
    datagrams = [d for f in stream.frames for d in sender.push(f)] + sender.flush()
    assert [d for d in datagrams if d in stream.indices] == stream.packets
    block, first, count = {}, None, 0
    for d in datagrams:
        pkt = RtpPacket.parse(d)
        if d in stream.indices:
            if count == fec.k or first is None or (first + count) & 0xFFFF != pkt.sequence_number:
                first, count = pkt.sequence_number, 0
            count += 1
            block[d] = first
        else:
            block[d] = REPAIR_HEADER.unpack_from(pkt.payload)[0]
    return datagrams, block


@fuzz(250)
@given(fecs, face_streams(min_frames=20), st.data())
def test_honest_stream_with_loss_duplicates_and_reordering(fec, stream, data):
    """~2,900 datagrams a run. Every frame of a block with any k of its packets in is delivered, the others of
    the source packets that came: each exactly once and byte-identical; ``recovered`` counts the restored."""
    datagrams, block = protect(fec, stream)
    arrived = data.draw(delivered(datagrams))
    receiver = fec.receiver(FaceDepacketizer(stream.fmt))
    got = Counter()
    for d in arrived:
        for frame in receiver.push(d):
            assert is_sent(frame, stream)
            got[frame.index] += 1
    members = defaultdict(set)
    for d in set(arrived):
        members[block[d]].add(d)
    whole = {b for b in members if len(members[b]) >= sum(v == b for d, v in block.items() if d in stream.indices)}
    due = [p for p in stream.packets if p in arrived or block[p] in whole]
    assert got == Counter(i for p in due for i in stream.indices[p])
    assert sum(p not in arrived for p in due) <= receiver.recovered <= len(due)  # or restored before it came
    assert receiver.garbage == receiver.wrong_kb == receiver.decoder.garbage == 0
    assert len(receiver.decoder) <= receiver.decoder.window


@fuzz(120)
@given(fecs, face_streams(min_frames=40, max_frames=200), st.data())
def test_forged_packets_cost_at_most_their_own_slot_and_two_blocks(fec, stream, data):
    """~11,000 datagrams a run (both receptions), 1-4 of each stream forged (sources and repairs, some as confirming
    pairs) anywhere, before the first source packet too (the decoder has the stream's SSRC from the session).
    Against the same lossy stream without them, nothing raises and each forged datagram costs at most its own slot
    and the recovery of the two FEC blocks it can overlap: an erasure code cannot tell a forged symbol from a real
    one, so one forged into a block spoils that block's decoding."""
    datagrams, _ = protect(fec, stream)
    honest = data.draw(delivered(datagrams, reorder=False))
    mixed, k = data.draw(with_forgeries(honest, datagrams))
    baseline = _right(fec, stream, honest)
    right = _right(fec, stream, mixed)
    assert len(baseline - right) <= k * (1 + 2 * fec.k) * stream.fmt.frames_per_packet


def test_a_forged_ssrc_before_the_stream_does_not_turn_its_fec_off():
    fec = ReedSolomonFec(k=2, code_rate=0.5)
    fmt = FaceStreamFormat(n_coeffs=N_COEFFS, bits=BITS, kb_tag=TAG)
    stream = face_stream(fmt, random_walk(np.random.default_rng(0), 20))
    datagrams, _ = protect(fec, stream)  # s0 s1 r r s2 s3 r r ...: s1 is lost, its repairs restore it
    assert _right(fec, stream, datagrams[:1] + datagrams[2:]) == set(range(20))
    forged = rebuilt(datagrams[0], ssrc=1)
    assert _right(fec, stream, [forged, datagrams[0], *datagrams[2:]]) == set(range(20))


def _right(fec: ReedSolomonFec, stream: FaceStream, datagrams: list[bytes]) -> set[int]:
    """Indices of the frames received byte-identical to what was sent."""
    receiver = fec.receiver(FaceDepacketizer(stream.fmt))
    return {f.index for d in datagrams for f in receiver.push(d) if is_sent(f, stream)}


@fuzz(200)
@given(fecs, face_streams(max_frames=20), st.data())
def test_garbage_never_yields_more_packets_than_were_fed(fec, stream, data):
    """~1,600 datagrams a run, every one forged or random: the decoder passes on at most as many packets as came
    (a restored packet needs a repair symbol), and each datagram is counted somewhere or kept as a repair."""
    datagrams, _ = protect(fec, stream)
    junk = data.draw(st.lists(forged(datagrams), min_size=1, max_size=40))
    receiver = fec.receiver(FaceDepacketizer(stream.fmt))
    rs, dp = receiver.decoder, receiver.depacketizer
    out = delivering = repairs = 0
    for fed, d in enumerate(junk, 1):
        packets = rs.push(d)
        out += len(packets)
        assert out <= fed
        delivering += sum(bool(dp(p)) for p in packets)
        repairs += d[8:12] == fec.repair_ssrc.to_bytes(4, "big")
    counted = rs.garbage + rs.stale + rs.duplicates + dp.garbage + dp.foreign + dp.wrong_kb + delivering
    assert counted + repairs >= len(junk)

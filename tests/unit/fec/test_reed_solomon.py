"""ReedSolomonFec: wire format, recovery from any k of n, partial blocks, disorder, garbage."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from semtalk import registry
from semtalk.fec.reed_solomon import DEFAULT_REPAIR_SSRC, REPAIR_HEADER, ReedSolomonFec
from semtalk.streams.packet import RtpPacket

SSRC = 0x1234


def sources(count: int, first_seq: int = 0, seed: int = 0) -> list[bytes]:
    """Source RTP packets of varied sizes (so padding to the longest matters)."""
    rng = np.random.default_rng(seed)
    return [
        bytes(
            RtpPacket(
                payload_type=96,
                sequence_number=(first_seq + i) & 0xFFFF,
                timestamp=3000 * i,
                ssrc=SSRC,
                marker=bool(i % 2),
                payload=rng.integers(0, 256, int(rng.integers(0, 60))).astype(np.uint8).tobytes(),
            )
        )
        for i in range(count)
    ]


def encode(fec: ReedSolomonFec, packets: list[bytes]) -> list[bytes]:
    enc = fec.encoder()
    out = [sent for p in packets for sent in enc.push(p)]
    return out + enc.flush()


def decode(fec: ReedSolomonFec, received: list[bytes]) -> tuple[list[bytes], object]:
    dec = fec.decoder()
    return [p for d in received for p in dec.push(d)], dec


def by_seq(packets: list[bytes]) -> list[bytes]:
    return sorted(packets, key=lambda p: RtpPacket.parse(p).sequence_number)


def test_n_and_code_rate_follow_k_and_rate():
    fec = ReedSolomonFec()
    assert (fec.k, fec.n, fec.code_rate) == (4, 8, 0.5)
    odd = ReedSolomonFec(k=5, code_rate=0.4)
    assert (odd.n, odd.code_rate) == (12, 5 / 12)
    assert registry.get("fec", "rs")(k=4, code_rate=0.5) == fec


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"code_rate": 0.0}, "FEC code_rate must be in (0, 1], got 0.0"),
        ({"code_rate": 1.5}, "FEC code_rate must be in (0, 1], got 1.5"),
        ({"code_rate": float("nan")}, "FEC code_rate must be in (0, 1], got nan"),
        ({"k": 0}, "FEC block size k must be an int of at least 1, got 0"),
        ({"k": 2.0}, "FEC block size k must be an int of at least 1, got 2.0"),
        (
            {"k": 200, "code_rate": 0.5},
            "FEC k=200 at code_rate=0.5 needs n=400 packets per block; "
            "the 8-bit repair header allows at most 255",
        ),
        ({"repair_payload_type": 128}, "FEC repair_payload_type must be in [0, 127], got 128"),
        ({"repair_ssrc": 1 << 32}, "FEC repair_ssrc must be a 32-bit unsigned int, got 4294967296"),
    ],
)
def test_invalid_config_is_rejected_with_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        ReedSolomonFec(**kwargs)


def test_encoder_sends_sources_unchanged_then_repairs_with_exact_header():
    fec = ReedSolomonFec(k=4, code_rate=0.5)
    packets = sources(4, first_seq=100)
    enc = fec.encoder()
    assert [enc.push(p) for p in packets[:3]] == [[p] for p in packets[:3]]
    last = enc.push(packets[3])
    assert last[0] == packets[3] and len(last) == 1 + 4
    size = 2 + max(len(p) for p in packets)
    for i, data in enumerate(last[1:]):
        repair = RtpPacket.parse(data)
        assert (repair.ssrc, repair.payload_type) == (DEFAULT_REPAIR_SSRC, 127)
        assert repair.sequence_number == i
        assert repair.timestamp == RtpPacket.parse(packets[3]).timestamp
        assert repair.payload[:5] == bytes([0, 100, 4, 8, 4 + i])
        assert REPAIR_HEADER.unpack_from(repair.payload) == (100, 4, 8, 4 + i)
        assert len(repair.payload) == 5 + size
    assert enc.flush() == []


def test_code_rate_one_sends_no_repair():
    packets = sources(8)
    assert encode(ReedSolomonFec(k=4, code_rate=1.0), packets) == packets


def test_any_k_of_n_restore_the_block_exactly():
    fec = ReedSolomonFec(k=4, code_rate=0.5)
    packets = sources(4, first_seq=7)
    sent = encode(fec, packets)
    assert len(sent) == 8
    for subset in itertools.combinations(range(8), 4):
        out, dec = decode(fec, [sent[i] for i in subset])
        assert by_seq(out) == packets, subset
        assert dec.recovered == sum(i >= 4 for i in subset)
        assert len(out) == 4  # each packet exactly once


def test_fewer_than_k_symbols_restore_nothing_but_pass_sources():
    fec = ReedSolomonFec(k=4, code_rate=0.5)
    packets = sources(4)
    sent = encode(fec, packets)
    for subset in itertools.combinations(range(8), 3):
        out, dec = decode(fec, [sent[i] for i in subset])
        assert out == [sent[i] for i in subset if i < 4]
        assert dec.recovered == 0


def test_random_k_of_16_in_random_order_restore_the_block():
    fec = ReedSolomonFec(k=8, code_rate=0.5)
    assert fec.n == 16
    rng = np.random.default_rng(1)
    for trial in range(200):
        packets = sources(8, first_seq=int(rng.integers(0, 65536)), seed=trial)
        sent = encode(fec, packets)
        pick = rng.permutation(16)[:8]
        out, _ = decode(fec, [sent[i] for i in pick])
        assert by_seq(out) == by_seq(packets)


def test_partial_last_block_carries_its_own_k_and_is_recoverable():
    fec = ReedSolomonFec(k=4, code_rate=0.5)
    packets = sources(6, first_seq=20)
    sent = encode(fec, packets)
    assert sent[8:10] == packets[4:]
    tail = [RtpPacket.parse(d) for d in sent[10:]]
    # k' = 2 keeps the full block's n - k per k: n' = 2 + ceil(2 * 4 / 4) = 4, so 2 repair packets
    assert [REPAIR_HEADER.unpack_from(r.payload) for r in tail] == [(24, 2, 4, 2), (24, 2, 4, 3)]
    received = [d for d in sent if d not in packets[4:]]
    out, dec = decode(fec, received)
    assert by_seq(out) == packets
    assert dec.recovered == 2


def test_partial_block_repair_count_rounds_up():
    fec = ReedSolomonFec(k=9, code_rate=0.9)
    assert fec.n == 10
    sent = encode(fec, sources(1))
    assert [REPAIR_HEADER.unpack_from(RtpPacket.parse(d).payload)[1:] for d in sent[1:]] == [(1, 2, 1)]


def test_sequence_jump_closes_the_block_early():
    fec = ReedSolomonFec(k=4, code_rate=0.5)
    packets = sources(3) + sources(4, first_seq=50, seed=9)
    enc = fec.encoder()
    out = enc.push(packets[0]) + enc.push(packets[1]) + enc.push(packets[2])
    jumped = enc.push(packets[3])
    headers = [REPAIR_HEADER.unpack_from(RtpPacket.parse(d).payload) for d in jumped[:-1]]
    assert headers == [(0, 3, 6, 3), (0, 3, 6, 4), (0, 3, 6, 5)]
    assert jumped[-1] == packets[3] and out == packets[:3]


def test_loss_reordering_duplicates_and_wraparound_deliver_each_packet_once():
    fec = ReedSolomonFec(k=4, code_rate=0.5)
    packets = sources(400, first_seq=65400)
    sent = encode(fec, packets)
    rng = np.random.default_rng(3)
    blocks = [sent[i : i + 8] for i in range(0, len(sent), 8)]
    received = []
    for block in blocks:  # lose up to n - k = 4 of each block's 8 packets
        keep = [block[i] for i in sorted(rng.permutation(8)[: int(rng.integers(4, 9))])]
        received += [*keep, keep[int(rng.integers(len(keep)))]]  # and duplicate one
    order = np.argsort(np.arange(len(received)) + rng.uniform(0, 20, len(received)))  # local shuffle
    out, dec = decode(fec, [received[i] for i in order])
    assert by_seq(out) == by_seq(packets)
    assert len(out) == len(set(out)) == 400
    assert dec.duplicates >= len(blocks)  # one per block, plus originals that came after their recovery
    assert dec.garbage == 0 and dec.stale == 0


def test_random_garbage_never_raises_and_is_counted():
    fec = ReedSolomonFec(k=4, code_rate=0.5)
    dec = fec.decoder()
    rng = np.random.default_rng(11)
    invalid = 0
    for _ in range(3000):
        data = rng.integers(0, 256, int(rng.integers(0, 80))).astype(np.uint8).tobytes()
        try:
            RtpPacket.parse(data)
        except ValueError:
            invalid += 1
        dec.push(data)
    assert dec.garbage == invalid > 2000
    assert dec.push("not bytes") == [] and dec.garbage == invalid + 1  # type: ignore[arg-type]


def test_forged_repair_packets_never_raise_nor_corrupt_delivered_packets():
    fec = ReedSolomonFec(k=4, code_rate=0.5)
    packets = sources(300, first_seq=65500)
    sent = encode(fec, packets)
    rng = np.random.default_rng(5)
    dec = fec.decoder()
    delivered = []
    kept = 0
    for data in sent:
        if rng.random() < 0.2:
            continue
        kept += data in packets
        for _ in range(2):
            header = rng.integers(0, 256, 5).astype(np.uint8).tobytes()
            if rng.random() < 0.5:
                header = header[:2] + bytes([4, 8, int(rng.integers(4, 8))])
            forged = RtpPacket(
                payload_type=127,
                ssrc=DEFAULT_REPAIR_SSRC,
                payload=header + rng.integers(0, 256, int(rng.integers(0, 70))).astype(np.uint8).tobytes(),
            )
            delivered += dec.push(bytes(forged))
        delivered += dec.push(data)
    assert set(delivered) <= set(packets)
    assert len(delivered) > kept  # every source that came, plus some recovered despite the forgeries
    assert len(delivered) == len(set(delivered))
    assert dec.garbage > 0


def test_other_streams_pass_through_unprotected():
    fec = ReedSolomonFec()
    dec = fec.decoder()
    own = sources(1)[0]
    other = bytes(RtpPacket(payload_type=0, sequence_number=0, ssrc=99, payload=b"a"))
    assert dec.push(own) == [own]
    assert dec.push(other) == [other]
    assert dec.push(other) == [other]


def test_packets_older_than_the_window_are_stale_and_memory_is_bounded():
    fec = ReedSolomonFec(k=4, code_rate=0.5)
    packets = sources(5000)
    dec = fec.decoder(window=256)
    for p in packets[1:]:
        dec.push(p)
    assert len(dec) <= 256 + 64 + 1
    assert dec.push(packets[0]) == []
    assert dec.stale == 1


def test_encoder_rejects_a_second_stream_and_the_repair_ssrc():
    enc = ReedSolomonFec().encoder()
    enc.push(sources(1)[0])
    other = bytes(RtpPacket(sequence_number=1, ssrc=7))
    message = "FEC encoder protects one stream (SSRC 0x00001234), got SSRC 0x00000007; "
    message += "use one encoder per stream"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        enc.push(other)
    clash = bytes(RtpPacket(ssrc=DEFAULT_REPAIR_SSRC))
    with pytest.raises(
        ValueError, match=r"^source SSRC 0xfec0fec0 equals the FEC repair_ssrc; choose another$"
    ):
        ReedSolomonFec().encoder().push(clash)
    with pytest.raises(ValueError, match=r"^RTP packet has 3 bytes, fewer than the 12-byte header$"):
        ReedSolomonFec().encoder().push(b"abc")


def test_decoder_window_is_validated():
    with pytest.raises(ValueError, match=r"^FEC decoder window must be in \[8, 32767\], got 4$"):
        ReedSolomonFec().decoder(window=4)


def test_one_forged_packet_far_ahead_stops_nothing():
    """A copy of a source packet moved 2049 ahead (past half the window) is dropped; all 1000 frames arrive."""
    from semtalk.records import CodedFrame
    from semtalk.streams.face import FaceDepacketizer, FacePacketizer, FaceStreamFormat

    fmt = FaceStreamFormat(n_coeffs=4, bits=8, kb_tag=0x2A)
    frames = [CodedFrame(i, np.full(4, i % 256, dtype=np.uint16)) for i in range(1000)]
    code = ReedSolomonFec(k=4, code_rate=0.5)
    sender = code.sender(FacePacketizer(fmt))
    sent = [d for f in frames for d in sender.push(f)] + sender.flush()
    real = RtpPacket.parse(sent[8])
    forged = bytes(RtpPacket(payload_type=real.payload_type, sequence_number=real.sequence_number + 2049,
                             timestamp=real.timestamp, ssrc=real.ssrc, payload=real.payload))
    receiver = code.receiver(FaceDepacketizer(fmt))
    got = [f.index for d in [*sent[:10], forged, *sent[10:]] for f in receiver.push(d)]
    assert sorted(got) == list(range(1000))
    assert receiver.decoder.garbage == 1 and receiver.decoder.stale == 0


@pytest.mark.parametrize("forged_seqs", [(10_000, 10_001), (30_000,)])
def test_forged_sources_far_ahead_leave_no_real_packet_stale(forged_seqs):
    """A forged pair far ahead confirms a jump (RFC 3550 A.1), a lone one ahead of the stream sets the reference:
    either once left every later real packet behind the window, stale for good. Now the real stream confirms
    itself with its next packet, so all that is lost is the one packet that did."""
    fec = ReedSolomonFec(k=4, code_rate=0.5)
    packets = sources(40)
    sent = encode(fec, packets)
    forged = [bytes(RtpPacket(payload_type=96, sequence_number=s, ssrc=SSRC)) for s in forged_seqs]
    at = 10 if len(forged) > 1 else 0
    got, dec = decode(fec, [*sent[:at], *forged, *sent[at:]])
    assert len(set(got) & set(packets)) >= 39 and dec.stale <= 1


def test_a_forged_repair_header_cannot_claim_a_block_the_encoder_never_sends():
    """A repair header whose (k, n) no block of this scheme has (here k = 200) is garbage; taken, it claimed
    200 sequence numbers and every real repair packet for them was refused as overlapping."""
    fec = ReedSolomonFec(k=4, code_rate=0.5)
    packets = sources(40)
    sent = [d for d in encode(fec, packets) if d != packets[5]]
    forged = bytes(RtpPacket(payload_type=127, ssrc=DEFAULT_REPAIR_SSRC,
                             payload=REPAIR_HEADER.pack(0, 200, 201, 200) + bytes(60)))
    got, dec = decode(fec, [sent[0], forged, *sent[1:]])
    assert sorted(got, key=packets.index) == packets and dec.garbage == 1 and dec.recovered == 1


def test_a_code_rate_changed_mid_stream_is_decoded_by_a_receiver_started_at_another():
    """The live sender adapts its rate to the reported loss (``RsEncoder.set_code_rate``): the receiver, started at
    rate 1/2, restores blocks sent at 4/11 (7 repairs, so 7 of 11 lost) and at 4/5."""
    fec = ReedSolomonFec(k=4, code_rate=0.5)
    enc, packets = fec.encoder(), sources(12)
    sent = [d for p in packets[:4] for d in enc.push(p)]
    assert enc.set_code_rate(0.36) == pytest.approx(4 / 11)
    sent += [d for p in packets[4:8] for d in enc.push(p)]
    assert enc.set_code_rate(0.8) == pytest.approx(0.8)
    sent += [d for p in packets[8:] for d in enc.push(p)] + enc.flush()
    assert len(sent) == 8 + 11 + 5
    second = sent[8:19]
    kept = sent[:8] + second[:2] + second[9:] + sent[19:]  # 7 of the 11 of the 4/11 block lost (sources 2-3 too)
    got, dec = decode(fec, kept)
    assert by_seq(got) == packets
    assert dec.recovered == 2 and dec.garbage == 0

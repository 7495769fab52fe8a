"""NoFec: the pass-through baseline behind the same interface as the real schemes."""

from __future__ import annotations

import re

import numpy as np
import pytest

from semtalk import registry
from semtalk.fec.base import NoFec
from semtalk.streams.packet import RtpPacket

PACKET = bytes(RtpPacket(payload_type=96, sequence_number=3, ssrc=5, payload=b"abc"))


def test_built_like_every_scheme_and_reports_what_it_sends():
    fec = registry.get("fec", "none")(k=4, code_rate=0.5)
    assert isinstance(fec, NoFec)
    assert (fec.k, fec.n, fec.code_rate) == (1, 1, 1.0)
    assert repr(NoFec()) == "NoFec()"


def test_encoder_passes_packets_through_and_flushes_nothing():
    enc = NoFec().encoder()
    assert enc.push(PACKET) == [PACKET]
    assert enc.push(bytearray(PACKET)) == [PACKET]
    assert enc.flush() == []


def test_encoder_rejects_non_rtp():
    with pytest.raises(ValueError, match=f"^{re.escape('RTP version is 0, expected 2')}$"):
        NoFec().encoder().push(bytes(12))


def test_decoder_passes_valid_packets_and_counts_garbage():
    dec = NoFec().decoder()
    assert dec.push(PACKET) == [PACKET]
    assert dec.push(PACKET) == [PACKET]  # duplicates are the jitter buffer's business
    assert dec.push(b"\x00junk") == []
    assert dec.push(None) == []  # type: ignore[arg-type]
    assert (dec.garbage, dec.recovered) == (2, 0)


def _face_stream():
    from semtalk.records import CodedFrame
    from semtalk.streams.face import FaceDepacketizer, FacePacketizer, FaceStreamFormat

    fmt = FaceStreamFormat(n_coeffs=6, bits=8, kb_tag=0x2A)
    frames = [CodedFrame(i, (np.arange(6, dtype=np.uint16) * 7 + 3 * i) % 256) for i in range(40)]
    return FacePacketizer(fmt), FaceDepacketizer(fmt), frames


def _send_all(sender, frames) -> list[bytes]:
    return [d for f in frames for d in sender.push(f)] + sender.flush()


def test_protected_sender_and_receiver_recover_a_lost_source_packet_with_reed_solomon():
    from semtalk.fec.base import ProtectedReceiver, ProtectedSender
    from semtalk.fec.reed_solomon import ReedSolomonFec

    code = ReedSolomonFec(k=4, code_rate=0.5)
    packetizer, depacketizer, frames = _face_stream()
    sender = code.sender(packetizer)
    assert isinstance(sender, ProtectedSender)
    datagrams = _send_all(sender, frames)
    assert sender.packets == 8 and len(datagrams) == 16  # 40 frames in 5-frame packets, then 4 repair per 4
    assert sender.payload_bits == packetizer.payload_bits > 0
    sources = [d for d in datagrams if RtpPacket.parse(d).ssrc == packetizer.fmt.ssrc]
    assert len(sources) == 8
    receiver = code.receiver(depacketizer)
    assert isinstance(receiver, ProtectedReceiver)
    got = []
    for d in datagrams:
        if d != sources[1]:  # frames 5..9 are lost on the link
            got += receiver.push(d)
    assert sorted(f.index for f in got) == list(range(40))  # every frame once: none lost, none twice
    by_index = {f.index: f for f in got}
    assert all(np.array_equal(by_index[f.index].codes, f.codes) for f in frames)
    assert receiver.recovered == 1 and receiver.garbage == 0 and receiver.due(40) == []


def test_protected_receiver_without_repair_loses_the_frames_of_a_lost_packet():
    packetizer, depacketizer, frames = _face_stream()
    code = NoFec()
    datagrams = _send_all(code.sender(packetizer), frames)
    assert len(datagrams) == 8
    receiver = code.receiver(depacketizer)
    got = [f for d in datagrams[:1] + datagrams[2:] for f in receiver.push(d)]
    assert sorted(f.index for f in got) == [i for i in range(40) if not 5 <= i < 10]
    assert receiver.recovered == 0
    assert receiver.push(b"\x00junk") == [] and receiver.decoder.garbage == 1  # not RTP: dropped by the FEC decoder

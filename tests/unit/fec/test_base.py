"""NoFec: the pass-through baseline behind the same interface as the real schemes."""

from __future__ import annotations

import re

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

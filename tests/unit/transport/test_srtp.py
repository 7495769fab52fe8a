"""SRTP/SRTCP through libsrtp: what one end protects the other restores; tampered, replayed and wrong-key
packets are refused and counted by reason, never returned."""

from __future__ import annotations

import pytest

from semtalk.streams import rtcp
from semtalk.streams.packet import RtpPacket
from semtalk.transport.srtp import BACK, FORWARD, PROFILES, Protector, master_secret, session_key

pytest.importorskip("pylibsrtp")
MASTER = master_secret(b"correct horse battery staple")


def rtp(seq: int, payload: bytes = b"face coefficients") -> bytes:
    return bytes(RtpPacket(payload_type=96, sequence_number=seq, timestamp=seq * 3600, ssrc=0x5E7A1C01,
                           payload=payload))


@pytest.fixture(params=sorted(PROFILES))
def ends(request):
    return (Protector.for_session(MASTER, 0, FORWARD, request.param),
            Protector.for_session(MASTER, 0, BACK, request.param))


def test_round_trip_hides_the_payload(ends):
    sender, receiver = ends
    plain = rtp(1)
    wire = sender.protect(plain)
    assert b"face coefficients" not in wire and wire[:12] == plain[:12]  # header clear, payload encrypted
    assert receiver.unprotect(wire, rtcp=False) == plain
    report = rtcp.compound(rtcp.ReceiverReport(9, (rtcp.ReportBlock(1, 12),)))
    assert sender.unprotect(receiver.protect(report, rtcp=True), rtcp=True) == report  # SRTCP back


def test_tampered_packet_is_refused(ends):
    sender, receiver = ends
    wire = bytearray(sender.protect(rtp(2)))
    wire[14] ^= 0x01
    assert receiver.unprotect(bytes(wire), rtcp=False) is None
    assert receiver.auth_failed == 1 and receiver.rejected == 1


def test_replayed_packet_is_refused(ends):
    sender, receiver = ends
    wire = sender.protect(rtp(3))
    assert receiver.unprotect(wire, rtcp=False) is not None
    assert receiver.unprotect(wire, rtcp=False) is None
    assert receiver.replayed == 1 and receiver.auth_failed == 0


def test_wrong_key_is_refused(ends):
    sender, _ = ends
    stranger = Protector.for_session(master_secret(b"another passphrase"), 0, BACK, sender.profile)
    assert stranger.unprotect(sender.protect(rtp(4)), rtcp=False) is None
    assert stranger.auth_failed == 1


def test_keys_differ_per_session_and_direction():
    keys = {session_key(MASTER, s, d) for s in range(3) for d in (FORWARD, BACK)}
    assert len(keys) == 6 and all(len(k) == 30 for k in keys)
    with pytest.raises(ValueError):
        master_secret(b"")

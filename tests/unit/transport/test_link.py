"""The live link ends over real UDP on 127.0.0.1, with the real RS FEC, face depacketiser and play-out behind the
call loop's receive side: reordered and partly lost packets are repaired and played in order; SRTP refusals and
garbage are counted and never reach (or never crash) the receiver; receiver reports reach the sender."""

from __future__ import annotations

import time

import numpy as np
import pytest

from semtalk.call.loop import ReceiveSide
from semtalk.fec.reed_solomon import ReedSolomonFec
from semtalk.records import CodedFrame, StageTimer
from semtalk.semantics.face.quantize import Quantizer
from semtalk.streams.face import FaceDepacketizer, FacePacketizer, FaceStreamFormat
from semtalk.streams.playout import FacePlayout
from semtalk.transport.rtp_link import ReceiveLink, SendLink, Wire
from semtalk.transport.srtp import Protector, master_secret
from semtalk.transport.udp import UdpPorts

FMT = FaceStreamFormat(n_coeffs=3, bits=8, kb_tag=7, fps=25.0, frames_per_packet=5)
Q = Quantizer(np.zeros(3), np.ones(3), 8)
CLOCKS = [(90_000, 1 / 25), (1000, 0.0)]


class MiniReceiver:
    """The face half of SyncSC's receiver: FEC → depacketiser → play-out (no renderer)."""

    latency = 0.84

    def __init__(self) -> None:
        self.face = ReedSolomonFec(k=4, code_rate=0.5).receiver(FaceDepacketizer(FMT))
        self.playout = FacePlayout(Q, np.zeros(3))

    def receive(self, stream: int, datagram: bytes) -> None:
        if stream == 0:
            for frame in self.face.push(datagram):
                self.playout.push(frame)

    def play(self, until: int):
        return self.playout.pop(until)


def _datagrams(frames: int) -> list[bytes]:
    sender = ReedSolomonFec(k=4, code_rate=0.5).sender(FacePacketizer(FMT))
    out = []
    for i in range(frames):
        out += sender.push(CodedFrame(i, np.array([i % 256, 3, 200], np.uint16)))
    return out + sender.flush()


def _ends(secure: bool):
    rx_ports = UdpPorts(2)
    tx_ports = UdpPorts(2, peer=rx_ports.address(0))
    master = master_secret(b"test secret") if secure else None
    tx = Wire(tx_ports, [Protector.for_session(master, i, "forward") for i in range(2)] if secure else None)
    rx = Wire(rx_ports, [Protector.for_session(master, i, "back") for i in range(2)] if secure else None)
    return SendLink(tx, origin=time.time(), clocks=CLOCKS, hello={"kb": "x"}), ReceiveLink(rx, CLOCKS)


def _drain(link, side=None, rounds: int = 20) -> None:
    for _ in range(rounds):
        if not link.wire.ports.wait(0.05):
            return
        if side is None:
            list(link.deliver(0.0))
        else:
            side.deliver(0.0)


@pytest.mark.parametrize("secure", [False, True])
def test_reordered_and_lost_packets_are_repaired_and_played_in_order(secure):
    send, recv = _ends(secure)
    send.tick(0.0, force=True)
    packets = _datagrams(40)  # 8 source packets, 2 blocks of 4 + 4 repairs each
    shuffled = []
    for b in range(0, len(packets), 8):  # within each block: reversed order, and its second source packet lost
        block = packets[b:b + 8]
        shuffled += (block[:1] + block[2:])[::-1]
    for p in shuffled:
        send.send(0, [p], 0.0)
    receiver, played = MiniReceiver(), []
    side = ReceiveSide(receiver, recv, StageTimer(), 25.0, played.append)
    _drain(recv, side)
    side.play(40)
    assert [f.index for f in played] == list(range(40))
    assert not any(f.concealed for f in played)  # every lost packet restored by FEC, every frame in place
    assert receiver.face.recovered >= 2 and recv.hello == {"kb": "x"} and recv.origin is not None
    face = recv.source_stats(0, FMT.ssrc)
    assert face.received == 6 and face.lost == 2  # RTCP's view: 2 of 8 source packets missing (before FEC)


def test_srtp_refuses_tampered_replayed_and_wrong_key_packets():
    send, recv = _ends(secure=True)
    packets = _datagrams(40)
    plain = send.wire.protectors[0].protect(packets[0])
    raw = send.wire.ports.sockets[0]
    target = recv.wire.ports.address(0)
    raw.sendto(plain, target)
    raw.sendto(plain, target)  # replay
    tampered = bytearray(send.wire.protectors[0].protect(packets[1]))
    tampered[-3] ^= 0x40
    raw.sendto(bytes(tampered), target)
    stranger = Protector.for_session(master_secret(b"wrong"), 0, "forward")
    raw.sendto(stranger.protect(packets[2]), target)
    time.sleep(0.1)
    got = list(recv.deliver(0.0))
    assert got == [(0, packets[0])]  # only the genuine packet, once
    assert recv.wire.srtp_rejected == {"auth_failed": 2, "replayed": 1, "other": 0}


@pytest.mark.parametrize("secure", [False, True])
def test_garbage_datagrams_never_crash_the_receiver(secure):
    send, recv = _ends(secure)
    rng = np.random.default_rng(5)
    raw = send.wire.ports.sockets[0]
    for n in range(300):
        data = rng.integers(0, 256, rng.integers(0, 200), dtype=np.uint8).tobytes()
        if n % 3 == 0:
            data = b"\x80\xc8" + data  # looks like RTCP
        elif n % 3 == 1:
            data = b"\x80\x60" + data  # looks like RTP
        raw.sendto(data, recv.wire.ports.address(n % 2))
    receiver = MiniReceiver()
    side = ReceiveSide(receiver, recv, StageTimer(), 25.0, lambda f: None)
    _drain(recv, side)
    side.play(10)
    assert recv.wire.received >= 250  # loopback may drop a few under load; nothing raised
    if secure:
        assert sum(recv.wire.srtp_rejected.values()) == recv.wire.received and recv.datagrams == 0
    else:
        assert receiver.face.garbage + receiver.face.depacketizer.foreign + recv.rtcp_invalid > 0
    assert receiver.playout.concealed == 10  # no forged frame was played


def test_receiver_reports_reach_the_sender_with_loss_and_round_trip():
    send, recv = _ends(secure=True)
    send.tick(0.0, force=True)
    packets = _datagrams(40)
    for p in packets[:2] + packets[3:]:  # one source packet lost
        send.send(0, [p], 0.0)
    send.tick(time.time() - send.origin, force=True)  # an SR of the face source (its NTP time: now), for LSR/DLSR
    _drain(recv)
    recv.tick(1.0, time.time())
    deadline = time.monotonic() + 2
    blocks = []
    while not blocks and time.monotonic() < deadline:
        send.wire.ports.wait(0.05)
        blocks = send.tick(time.time() - send.origin)
    face = {b.ssrc: b for _, b in blocks}[FMT.ssrc]
    assert face.cumulative_lost == 1 and face.fraction_lost == (1 << 8) // 8
    assert send.rtt and 0 <= send.rtt[0] < 1.0

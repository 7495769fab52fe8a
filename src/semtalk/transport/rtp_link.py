"""The live call's two link ends over ``UdpPorts``: SRTP, RTCP reports and pcap capture around the mode's datagrams.

``SendLink`` is the sender's ``call.loop.Link``: every datagram the mode sends goes out on its stream's port
(SRTP-protected unless insecure), and ``tick`` sends a compound RTCP (SR + APP) per session every ``interval``
and reads the receiver reports that came back: fraction lost, jitter and RTT per source (``reports``).
``ReceiveLink`` is the receiver's: ``deliver`` drains the sockets, drops what SRTP refuses (counted), keeps
RFC 3550 reception statistics per source, reads the SRs (media clock origin, one-way delay, LSR) and the APP
messages, and hands every RTP datagram (garbage included: the mode's depacketiser counts it) to the receiver;
``tick`` answers with receiver reports.

The SR maps each session's RTP clock to the sender's wall clock (RFC 3550 §6.4.1): ``clocks[i]`` = (RTP clock
rate, media time of RTP timestamp 0) of stream ``i``; the receiver takes its media clock origin from stream 0's
SR. RTCP every 0.5 s is far above RFC 3550's 5 % share on these kbit/s streams' terms but quick enough for FEC
adaptation within a second (RFC 4585 allows such early feedback); it is ~100 bytes per session and second.
"""

from __future__ import annotations

import json
import time as _time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from semtalk.streams import rtcp
from semtalk.streams.packet import RtpPacket
from semtalk.transport.pcap import PcapWriter
from semtalk.transport.srtp import Protector
from semtalk.transport.udp import UdpPorts

APP_NAME = b"STLK"
HELLO, END = 0, 1  # APP subtypes: the call's description at start, the sender's totals at the end
RECEIVER_SSRC = 0x5E7A0BAC  # the receiver's own SSRC, for its reports


@dataclass
class Wire:
    """Ports + optional SRTP (one ``Protector`` per session) + optional pcap: the bytes as they are on the wire."""

    ports: UdpPorts
    protectors: list[Protector] | None = None
    pcap: PcapWriter | None = None
    wall: Callable[[], float] = _time.time
    via: tuple[str, int] | None = None  # RTP (not RTCP) goes here instead, after ``rewrite`` (an SFU's ingress)
    rewrite: Callable[[int, bytes], bytes] | None = None
    sent_packets: int = 0
    sent_bytes: int = 0
    session_bytes: dict[int, int] = field(default_factory=dict)  # session → bytes sent on it (RTP + RTCP)
    received: int = 0  # every datagram, before SRTP
    received_bytes: int = 0

    def send(self, i: int, plain: bytes, is_rtcp: bool) -> None:
        data = plain if self.protectors is None else self.protectors[i].protect(plain, is_rtcp)
        if self.via is not None and not is_rtcp:
            data = data if self.rewrite is None else self.rewrite(i, data)
            sent, target = self.ports.send_to(i, data, self.via), self.via
        else:
            sent, target = self.ports.send(i, data), self.ports.peers[i]
        if sent:
            self.sent_packets += 1
            self.sent_bytes += len(data)
            self.session_bytes[i] = self.session_bytes.get(i, 0) + len(data)
            if self.pcap is not None:
                self.pcap.write(self.wall(), self.ports.address(i), target, data)

    def receive(self) -> Iterator[tuple[int, bytes, tuple[str, int], float]]:
        """``(session, plain datagram, source, arrival wall time)`` of what passed SRTP."""
        for i, data, source, arrival in self.ports.receive():
            self.received += 1
            self.received_bytes += len(data)
            if self.pcap is not None:
                self.pcap.write(arrival, source, self.ports.address(i), data)
            if self.protectors is not None:
                data = self.protectors[i].unprotect(data, rtcp.is_rtcp(data))
                if data is None:
                    continue
            yield i, data, source, arrival

    @property
    def srtp_rejected(self) -> dict[str, int]:
        ps = self.protectors or []
        return {"auth_failed": sum(p.auth_failed for p in ps), "replayed": sum(p.replayed for p in ps),
                "other": sum(p.other for p in ps)}


@dataclass
class SendLink:
    """The sender's end. ``origin``: the wall time of media time 0; ``hello``: what the APP at start says."""

    wire: Wire
    origin: float
    clocks: list[tuple[int, float]]
    hello: dict
    interval: float = 0.5
    lag: float = 0.0  # how far the capture is behind the wall clock (a sender that cannot keep real time)
    reports: dict[tuple[int, int], rtcp.ReportBlock] = field(default_factory=dict)
    rtt: list[float] = field(default_factory=list)
    _ssrc: dict[int, int] = field(default_factory=dict)  # session → its first (source) SSRC, the SR's
    _counts: dict[int, list[int]] = field(default_factory=dict)  # SSRC → [packets, payload octets]
    _last_rtcp: float = -1e9

    pending = False  # nothing of the sender's waits on a link it can see

    def send(self, stream: int, packets: list[bytes], time: float) -> None:
        for p in packets:
            ssrc = int.from_bytes(p[8:12], "big") if len(p) >= 12 else 0
            self._ssrc.setdefault(stream, ssrc)
            counts = self._counts.setdefault(ssrc, [0, 0])
            counts[0] += 1
            counts[1] += max(0, len(p) - 12)
            self.wire.send(stream, p, False)

    def deliver(self, now: float) -> list[tuple[int, bytes]]:
        return []

    def _report(self, session: int, now: float, subtype: int, message: dict, bye: bool = False) -> None:
        """SR + APP(``subtype``: ``message`` as JSON) [+ BYE] on ``session``."""
        rate, offset = self.clocks[session] if session < len(self.clocks) else (90_000, 0.0)
        ssrc = self._ssrc.get(session, 0x5E7A0000 + session)
        packets, octets = self._counts.get(ssrc, (0, 0))
        # NTP: now; RTP: the capture clock now, ``lag`` behind it when the sender falls behind real time, so the
        # receiver's play-out follows the frames that exist rather than concealing the ones not yet captured.
        media = now - self.lag
        sr = rtcp.SenderReport(ssrc, rtcp.ntp_timestamp(self.origin + now), round((media - offset) * rate) & 0xFFFFFFFF,
                               packets, octets)
        app = rtcp.App(ssrc, APP_NAME, json.dumps(message).encode(), subtype)
        self.wire.send(session, rtcp.compound(sr, app, *([rtcp.Bye((ssrc,))] if bye else [])), True)

    def tick(self, now: float, force: bool = False) -> list[tuple[int, rtcp.ReportBlock]]:
        """Read the receiver reports that came in; send SR + APP(hello) on every session when due. The new report
        blocks as ``(session, block)``."""
        got = []
        for i, data, source, arrival in self.wire.receive():
            if not rtcp.is_rtcp(data):
                continue
            try:
                packets = rtcp.parse_compound(data)
            except ValueError:
                continue
            self.wire.ports.learn(i, source)
            for p in packets:
                for block in getattr(p, "blocks", ()) if isinstance(p, rtcp.ReceiverReport) else ():
                    self.reports[(i, block.ssrc)] = block
                    rtt = block.round_trip(arrival)
                    if rtt is not None and rtt < 60:
                        self.rtt.append(rtt)
                    got.append((i, block))
        if force or now - self._last_rtcp >= self.interval:
            self._last_rtcp = now
            for session in range(len(self.wire.ports.sockets)):
                self._report(session, now, HELLO, self.hello)
        return got

    def close(self, now: float, end: dict, repeat: int = 3) -> None:
        """SR + APP(end: the sender's totals) + BYE on every session, ``repeat`` times against loss."""
        for _ in range(repeat):
            for session in range(len(self.wire.ports.sockets)):
                self._report(session, now, END, end, bye=True)


@dataclass
class Arrival:
    """One RTP packet the receiver accepted: its session, header fields, and arrival (wall) time."""

    session: int
    ssrc: int
    payload_type: int
    timestamp: int
    wall: float


@dataclass
class ReceiveLink:
    """The receiver's end. After ``deliver``: ``arrivals`` (RTP packets since the last call), ``origin`` (the
    sender's wall time of media time 0, from stream 0's latest SR: later when the sender falls behind;
    ``first_origin`` from its first), ``owd`` (one-way delay of the last SRs), ``hello``
    and ``end`` (the sender's APP messages) and ``bye``."""

    wire: Wire
    clocks: list[tuple[int, float]]
    interval: float = 0.5
    stats: dict[tuple[int, int], rtcp.ReceptionStats] = field(default_factory=dict)
    arrivals: list[Arrival] = field(default_factory=list)
    origin: float | None = None
    first_origin: float | None = None
    origins: list = field(default_factory=list)  # (arrival, origin) of the video SRs, for diagnosis
    highest_timestamp: dict[int, int] = field(default_factory=dict)  # session → the highest RTP timestamp seen
    owd: list[float] = field(default_factory=list)
    hello: dict | None = None
    end: dict | None = None
    bye: bool = False
    rtcp_invalid: int = 0
    datagrams: int = 0
    last_arrival: float | None = None
    _last_rtcp: float = -1e9
    _sr: dict = field(default_factory=dict)  # (session, SSRC) → its last SR's (NTP, arrival)

    pending = False

    def deliver(self, now: float) -> Iterator[tuple[int, bytes]]:
        self.arrivals = []
        for i, data, source, arrival in self.wire.receive():
            self.datagrams += 1
            self.last_arrival = arrival
            if rtcp.is_rtcp(data):
                self._rtcp(i, data, source, arrival)
                continue
            try:
                pkt = RtpPacket.parse(data)
            except ValueError:
                yield i, data  # the mode's stream filter counts it as garbage
                continue
            if self.wire.ports.peers[i] is None:  # RTCP teaches the peer; RTP may come through an SFU
                self.wire.ports.learn(i, source)
            rate = self.clocks[i][0] if i < len(self.clocks) else 90_000
            stats = self.stats.get((i, pkt.ssrc))
            if stats is None and len(self.stats) < 64:  # a flood of forged SSRCs must not grow this without bound
                stats = self.stats[(i, pkt.ssrc)] = rtcp.ReceptionStats(pkt.ssrc, rate)
                if (i, pkt.ssrc) in self._sr:  # its SR came first
                    stats.sender_report(*self._sr[(i, pkt.ssrc)])
            if stats is not None:
                stats.arrived(pkt.sequence_number, pkt.timestamp, arrival)
            self.arrivals.append(Arrival(i, pkt.ssrc, pkt.payload_type, pkt.timestamp, arrival))
            self.highest_timestamp[i] = max(self.highest_timestamp.get(i, 0), pkt.timestamp)
            yield i, data

    def _rtcp(self, i: int, data: bytes, source, arrival: float) -> None:
        try:
            packets = rtcp.parse_compound(data)
        except ValueError:
            self.rtcp_invalid += 1
            return
        self.wire.ports.learn(i, source)
        for p in packets:
            if isinstance(p, rtcp.SenderReport):
                sent = rtcp.ntp_seconds(p.ntp)
                self.owd = [*self.owd[-19:], arrival - sent]
                stats = self.stats.get((i, p.ssrc))
                if len(self._sr) < 64:
                    self._sr[(i, p.ssrc)] = (p.ntp, arrival)
                if stats is not None:
                    stats.sender_report(p.ntp, arrival)
                if i == 0 and i < len(self.clocks):
                    rate, offset = self.clocks[0]
                    ts = p.rtp_timestamp if p.rtp_timestamp < 1 << 31 else p.rtp_timestamp - (1 << 32)
                    self.origin = sent - (ts / rate + offset)
                    if len(self.origins) < 200:
                        self.origins.append((round(arrival, 3), round(self.origin, 3)))
                    if self.first_origin is None:
                        self.first_origin = self.origin
            elif isinstance(p, rtcp.App) and p.name == APP_NAME:
                try:
                    message = json.loads(p.data.rstrip(b"\0"))
                except ValueError:
                    self.rtcp_invalid += 1
                    continue
                if isinstance(message, dict):
                    if p.subtype == HELLO:
                        self.hello = message
                    elif p.subtype == END:
                        self.end = message
            elif isinstance(p, rtcp.Bye):
                self.bye = True

    def tick(self, now: float, wall: float) -> None:
        """Send a receiver report on every session that has a peer, when due (``wall``: the receiver's time, which
        also schedules the reports: the media clock ``now`` steps back when the sender falls behind)."""
        del now
        if wall - self._last_rtcp < self.interval:
            return
        self._last_rtcp = wall
        for session in range(len(self.wire.ports.sockets)):
            blocks = tuple(s.block(wall) for (i, _), s in self.stats.items() if i == session)[:31]
            if self.wire.ports.peers[session] is not None:
                self.wire.send(session, rtcp.compound(rtcp.ReceiverReport(RECEIVER_SSRC, blocks)), True)

    def source_stats(self, session: int, ssrc: int) -> rtcp.ReceptionStats | None:
        return self.stats.get((session, ssrc))

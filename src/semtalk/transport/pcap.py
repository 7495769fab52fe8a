"""A pcap of the call's datagrams as they were on the wire (after SRTP), for tshark and Wireshark.

Each datagram is wrapped in Ethernet / IPv4 / UDP headers with the real addresses and ports, so a dissector
sees an ordinary UDP flow (``tshark -d udp.port==P,rtp`` or "Decode As… RTP"; RTCP on the same port per RFC
5761 is recognised by its packet type). Pure apart from the file it writes: the time of each packet is an
argument.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import BinaryIO


class PcapWriter:
    """``write(time, src, dst, payload)``; ``src``/``dst`` are ``(ipv4, port)``; a context manager."""

    def __init__(self, path: str | Path | BinaryIO) -> None:
        import dpkt

        self._file = open(path, "wb") if isinstance(path, str | Path) else path  # noqa: SIM115 (closed in close())
        self._owned = isinstance(path, str | Path)
        self._writer = dpkt.pcap.Writer(self._file, linktype=dpkt.pcap.DLT_EN10MB)
        self.packets = 0

    def write(self, time: float, src: tuple[str, int], dst: tuple[str, int], payload: bytes) -> None:
        import dpkt

        udp = dpkt.udp.UDP(sport=src[1], dport=dst[1], data=payload)
        udp.ulen = len(udp)
        ip = dpkt.ip.IP(src=socket.inet_aton(src[0]), dst=socket.inet_aton(dst[0]), p=dpkt.ip.IP_PROTO_UDP, data=udp,
                        ttl=64)
        ip.len = len(ip)
        eth = dpkt.ethernet.Ethernet(src=b"\x02\x00\x00\x00\x00\x01", dst=b"\x02\x00\x00\x00\x00\x02",
                                     type=dpkt.ethernet.ETH_TYPE_IP, data=ip)
        self._writer.writepkt(bytes(eth), ts=time)
        self.packets += 1

    def close(self) -> None:
        if self._owned:
            self._file.close()

    def __enter__(self) -> PcapWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_udp_payloads(path: str | Path) -> list[tuple[float, int, int, bytes]]:
    """``(time, source port, destination port, payload)`` of every UDP datagram in a pcap (for tests and tools)."""
    import dpkt

    out = []
    with open(path, "rb") as f:
        for ts, frame in dpkt.pcap.Reader(f):
            ip = dpkt.ethernet.Ethernet(frame).data
            if isinstance(ip, dpkt.ip.IP) and isinstance(ip.data, dpkt.udp.UDP):
                out.append((ts, ip.data.sport, ip.data.dport, bytes(ip.data.data)))
    return out

"""The packet-level FEC interface, and ``NoFec``, the baseline that adds no redundancy.

A FEC scheme is a config object that makes a fresh, stateful encoder for the sender and decoder
for the receiver. Both work on whole RTP packets as bytes, one at a time, so the pipeline can put
FEC between the packetiser and the channel without knowing which scheme it runs::

    packetiser -> encoder.push -> channel -> decoder.push -> jitter buffer -> depacketiser
"""

from __future__ import annotations

from typing import Protocol

from semtalk.streams.packet import RtpPacket


class FecEncoder(Protocol):
    """Sender side: source RTP packets in, packets to send out (sources unchanged, plus repair)."""

    def push(self, packet: bytes) -> list[bytes]:
        """Take one source packet; return it and any repair packets now due."""
        ...

    def flush(self) -> list[bytes]:
        """End of stream: return repair packets for a partly filled block, if any."""
        ...


class FecDecoder(Protocol):
    """Receiver side: any datagram in, source RTP packets that became available out."""

    recovered: int  # source packets restored from repair data
    garbage: int  # datagrams ignored because they were not valid packets

    def push(self, packet: bytes) -> list[bytes]:
        """Take one received datagram; never raises, whatever the bytes."""
        ...


class PacketFec(Protocol):
    """A FEC scheme: ``k`` source packets per block, ``n`` sent in all, ``code_rate = k / n``."""

    k: int
    n: int
    code_rate: float

    def encoder(self) -> FecEncoder: ...

    def decoder(self) -> FecDecoder: ...


class NoFec:
    """No protection: packets pass straight through (the baseline every scheme is compared with).

    Takes ``k`` and ``code_rate`` only so the pipeline can build every scheme the same way
    (``cls(k=k, code_rate=r)``); they are ignored, and the attributes report what is really
    sent: one packet per packet, ``k = n = 1`` and ``code_rate = 1.0``.
    """

    k = 1
    n = 1
    code_rate = 1.0

    def __init__(self, k: int | None = None, code_rate: float | None = None) -> None:
        del k, code_rate

    def __repr__(self) -> str:
        return "NoFec()"

    def encoder(self) -> PassThroughEncoder:
        return PassThroughEncoder()

    def decoder(self) -> PassThroughDecoder:
        return PassThroughDecoder()


class PassThroughEncoder:
    """Sends each source packet as it is; checks that it is RTP, like every FEC encoder does."""

    def push(self, packet: bytes) -> list[bytes]:
        RtpPacket.parse(packet)
        return [bytes(packet)]

    def flush(self) -> list[bytes]:
        return []


class PassThroughDecoder:
    """Passes every datagram that parses as RTP; counts the rest as garbage.

    Duplicates are passed on too: dropping them is the jitter buffer's job.
    """

    def __init__(self) -> None:
        self.recovered = 0
        self.garbage = 0

    def push(self, packet: bytes) -> list[bytes]:
        try:
            RtpPacket.parse(packet)
        except ValueError:
            self.garbage += 1
            return []
        return [bytes(packet)]

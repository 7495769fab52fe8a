"""The stream-code interface, the packet FEC interface, and ``NoFec``, the baseline that adds no redundancy.

A packet FEC scheme is a config object that makes a fresh, stateful encoder for the sender and decoder
for the receiver. Both work on whole RTP packets as bytes, one at a time::

    packetiser -> encoder.push -> link -> decoder.push -> depacketiser -> play-out

What a mode sees is a ``StreamCode``: ``sender(packetizer)`` turns records into the datagrams to send,
``receiver(depacketizer)`` turns datagrams into records. A packet FEC (``PacketCode``) wraps the
packetiser; a learned code (PacSC) replaces it. Every ``fec`` registry entry is a ``StreamCode``, so
the call never asks which one it runs.
"""

from __future__ import annotations

from typing import Any, Protocol

from semtalk.streams.packet import RtpPacket


class Packetizer(Protocol):
    """Records (frames, words) in, RTP packets out; counts what it made."""

    payload_bits: int
    packets: int

    def push(self, item: Any) -> list[bytes]: ...

    def flush(self) -> list[bytes]: ...


class Depacketizer(Protocol):
    """One RTP packet in, the records it carries out; never raises."""

    garbage: int
    wrong_kb: int
    ssrc: int  # the stream's SSRC, agreed at session start

    def __call__(self, data: bytes) -> list: ...


class StreamSender(Protocol):
    """Sender half of a coded stream: records in, every datagram to put on the link out."""

    payload_bits: int  # source payload, headers and repair excluded
    packets: int  # source packets

    def push(self, item: Any) -> list[bytes]: ...

    def flush(self) -> list[bytes]: ...


class StreamReceiver(Protocol):
    """Receiver half: datagrams in, records out as they become available or fall due."""

    recovered: int
    garbage: int
    wrong_kb: int

    def push(self, datagram: bytes) -> list: ...

    def due(self, until: int) -> list:
        """Records a block code can only now give (play-out reached index ``until``)."""
        ...


class StreamCode(Protocol):
    """A ``fec`` registry entry: how a mode's main stream is coded against loss."""

    k: int  # source packets per block: sets the play-out delay
    n: int
    code_rate: float

    def check_stream(self, frames_per_packet: int) -> None:
        """ValueError when the code cannot carry packets of this many frames."""
        ...

    def sender(self, packetizer: Packetizer) -> StreamSender: ...

    def receiver(self, depacketizer: Depacketizer, prior: Any = None) -> StreamReceiver:
        """``prior``: what the receiver knows before any packet (the KB reference frame's codes)."""
        ...

    def packet_code(self) -> PacketFec:
        """The packet FEC for the call's other streams (words)."""
        ...


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

    def decoder(self, ssrc: int | None = None) -> FecDecoder:
        """``ssrc``: the protected stream's, from the session; None takes the first source packet's."""
        ...


class PacketCode:
    """A packet FEC as a ``StreamCode``: each packet of the packetiser is protected as it comes."""

    def encoder(self) -> FecEncoder:
        raise NotImplementedError

    def decoder(self, ssrc: int | None = None) -> FecDecoder:
        raise NotImplementedError

    def check_stream(self, frames_per_packet: int) -> None:
        del frames_per_packet  # any packet goes

    def sender(self, packetizer: Packetizer) -> ProtectedSender:
        return ProtectedSender(packetizer, self.encoder())

    def receiver(self, depacketizer: Depacketizer, prior: Any = None) -> ProtectedReceiver:
        del prior  # an erasure code restores packets exactly or not at all; play-out conceals the rest
        return ProtectedReceiver(self.decoder(depacketizer.ssrc), depacketizer)

    def packet_code(self) -> PacketCode:
        return self


class ProtectedSender:
    """Packetiser, then packet FEC: source packets and their repair packets, in sending order."""

    def __init__(self, packetizer: Packetizer, encoder: FecEncoder):
        self.packetizer, self.encoder = packetizer, encoder

    @property
    def payload_bits(self) -> int:
        return self.packetizer.payload_bits

    @property
    def packets(self) -> int:
        return self.packetizer.packets

    def push(self, item: Any) -> list[bytes]:
        return [d for p in self.packetizer.push(item) for d in self.encoder.push(p)]

    def flush(self) -> list[bytes]:
        return [d for p in self.packetizer.flush() for d in self.encoder.push(p)] + self.encoder.flush()


class ProtectedReceiver:
    """Packet FEC decoding, then depacketising; records come out as soon as their packet is in."""

    def __init__(self, decoder: FecDecoder, depacketizer: Depacketizer):
        self.decoder, self.depacketizer = decoder, depacketizer

    @property
    def recovered(self) -> int:
        return self.decoder.recovered

    @property
    def garbage(self) -> int:
        return self.depacketizer.garbage

    @property
    def wrong_kb(self) -> int:
        return self.depacketizer.wrong_kb

    def push(self, datagram: bytes) -> list:
        return [r for p in self.decoder.push(datagram) for r in self.depacketizer(p)]

    def due(self, until: int) -> list:
        del until  # every record was handed out when its packet arrived
        return []


class NoFec(PacketCode):
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

    def decoder(self, ssrc: int | None = None) -> PassThroughDecoder:
        del ssrc  # nothing is protected
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

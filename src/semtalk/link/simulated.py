"""Network half of a simulated call: FEC encoder → channel → FEC decoder, driven by simulated time.

Datagrams carry their send time; the channel turns it into an arrival time; ``deliver(now)`` hands
the receiver everything that has arrived by ``now``. No wall clock anywhere, so a run is exactly
reproducible from its seed.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass

from semtalk import registry
from semtalk.records import Datagram


@dataclass(frozen=True)
class NetworkConfig:
    """Packet loss (``burst`` > 1 selects Gilbert–Elliott), delay/jitter, and the packet FEC."""

    loss: float = 0.0
    burst: float = 1.0
    delay: float = 0.0
    jitter: float = 0.0
    fec: str = "rs"
    code_rate: float = 0.5
    fec_k: int = 4
    seed: int = 0

    @property
    def channel_name(self) -> str:
        return "gilbert_elliott" if self.burst > 1.0 else "bernoulli"


class SimulatedLink:
    """One direction of a call: sender-side FEC, a seeded channel, receiver-side FEC."""

    def __init__(self, config: NetworkConfig):
        self.config = config
        self.fec = registry.get("fec", config.fec)(k=config.fec_k, code_rate=config.code_rate)
        cls = registry.get("channel", config.channel_name)
        args = (config.loss, config.burst) if config.channel_name == "gilbert_elliott" else (config.loss,)
        self.channel = cls(*args, seed=config.seed, delay=config.delay, jitter=config.jitter)
        self._fec_enc = self.fec.encoder()
        self._fec_dec = self.fec.decoder()
        self._inflight: list[tuple[float, int, bytes]] = []
        self._order = 0
        self.source_packets = 0
        self.sent_packets = 0
        self.sent_bytes = 0

    def send(self, packet: bytes | None, time: float) -> None:
        if packet is not None:
            self.source_packets += 1
            self._transmit(self._fec_enc.push(packet), time)

    def close(self, time: float) -> None:
        self._transmit(self._fec_enc.flush(), time)

    def _transmit(self, packets: list[bytes], time: float) -> None:
        if not packets:
            return
        self.sent_packets += len(packets)
        self.sent_bytes += sum(map(len, packets))
        for d in self.channel([Datagram(p, time) for p in packets]):
            heapq.heappush(self._inflight, (d.time, self._order, d.data))
            self._order += 1

    def deliver(self, now: float) -> Iterator[bytes]:
        """Source packets available to the receiver at ``now`` (received or recovered by FEC)."""
        while self._inflight and self._inflight[0][0] <= now:
            _, _, data = heapq.heappop(self._inflight)
            yield from self._fec_dec.push(data)

    @property
    def lost(self) -> int:
        return int(self.channel.lost)

    @property
    def recovered(self) -> int:
        return int(self._fec_dec.recovered)

    def latency(self, frames_per_packet: int, fps: float) -> float:
        """Play-out delay that lets a whole FEC block arrive before its first frame is due."""
        block = frames_per_packet * max(1, self.fec.k)
        return (block + 1) / fps + self.config.delay + 4 * self.config.jitter

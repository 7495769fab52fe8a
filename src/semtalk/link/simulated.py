"""The simulated link: every stream of a call through its own seeded channel, in simulated time.

Datagrams carry their send time; the channel turns it into an arrival time; ``deliver(now)`` hands the
receiver everything that has arrived by ``now``, in arrival order. No wall clock and no FEC here (coding
is the mode's): the live call replaces this object with sockets and keeps the sender and receiver.
Stream ``i`` draws from ``seed + 7919·i``, as separate RTP sessions on one path would see independent
losses, and a seed gives the same run whatever else changes.
"""

from __future__ import annotations

import functools
import heapq
import operator
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from semtalk import registry
from semtalk.records import Datagram

STREAM_SEED_STEP = 7919
BACK_SEED = 104729  # the return link's seed offset: its losses are independent of the forward link's


@dataclass(frozen=True)
class ChannelConfig:
    """Which channel (a ``channel`` registry name) and its parameters; the same for every stream.

    ``loss``, ``burst`` and ``jitter`` belong to the packet channels; ``snr`` (Es/N0 in dB per complex symbol)
    and the fields after it to the radio channels. Radio defaults: QPSK, 5G LDPC 1/2, perfect CSI, Rayleigh
    fades held for 100 symbols (slow fading: about one fade per LDPC block) and, with ``estimated`` CSI, 4
    pilots per fade (4 % of the channel uses).
    """

    channel: str = "bernoulli"
    loss: float = 0.0
    burst: float = 1.0
    delay: float = 0.0
    jitter: float = 0.0
    seed: int = 0
    snr: float = 10.0
    modulation: str = "qpsk"
    ldpc_rate: float = 0.5
    csi: str = "perfect"
    coherence: int = 100
    pilots: int = 4

    def make(self, stream: int):
        """A fresh channel for stream number ``stream``."""
        return registry.get("channel", self.channel).from_config(self, seed=self.seed + STREAM_SEED_STEP * stream)


@dataclass
class StreamCounts:
    """What one stream put on the link and lost there."""

    packets: int = 0
    bytes: int = 0
    lost: int = 0


@dataclass
class SimulatedLink:
    """One direction of a call: a channel per stream, and the datagrams in flight."""

    config: ChannelConfig
    analog: frozenset[int] = frozenset()  # streams of analog symbols (learned JSCC): ``channel.analog`` carries them
    back: SimulatedLink | None = None  # the return direction, for a mode with feedback (``Mode.feedback``)
    counts: dict[int, StreamCounts] = field(default_factory=dict)
    _channels: dict = field(default_factory=dict, repr=False)
    _inflight: list[tuple[float, int, int, bytes]] = field(default_factory=list, repr=False)
    _order: int = 0

    def send(self, stream: int, packets: list[bytes], time: float) -> None:
        """Put one batch of datagrams of ``stream`` on the link at ``time``."""
        if not packets:
            return
        channel = self._channels.get(stream)
        if channel is None:
            channel = self._channels[stream] = self._make(stream)
        counts = self.counts.setdefault(stream, StreamCounts())
        counts.packets += len(packets)
        counts.bytes += sum(map(len, packets))
        for d in channel([Datagram(p, time) for p in packets]):
            heapq.heappush(self._inflight, (d.time, self._order, stream, d.data))
            self._order += 1
        counts.lost = int(channel.lost)

    def _make(self, stream: int):
        if stream not in self.analog:
            return self.config.make(stream)
        from semtalk.channel.analog import AnalogChannel

        return AnalogChannel.from_config(self.config, seed=self.config.seed + STREAM_SEED_STEP * stream)

    def deliver(self, now: float) -> Iterator[tuple[int, bytes]]:
        """``(stream, datagram)`` for everything that has arrived by ``now``."""
        while self._inflight and self._inflight[0][0] <= now:
            _, _, stream, data = heapq.heappop(self._inflight)
            yield stream, data

    @property
    def pending(self) -> bool:
        """Whether datagrams are still in flight."""
        return bool(self._inflight)

    @classmethod
    def call(cls, config: ChannelConfig, analog: frozenset[int] = frozenset(), feedback: bool = False) -> SimulatedLink:
        """The link of one call: forward, and with ``feedback`` a return direction on the same channel (its own
        seed; the return path carries short digital requests, never analog symbols)."""
        back = cls(replace(config, seed=config.seed + BACK_SEED)) if feedback else None
        return cls(config, analog=analog, back=back)

    def stream(self, stream: int) -> StreamCounts:
        return self.counts.get(stream, StreamCounts())

    def radio(self, streams: Iterable[int] | None = None):
        """The PHY totals (``phy.radio.RadioCounts``) of these streams (default all), or None on a packet
        channel."""
        chosen = self._channels if streams is None else {s: self._channels[s] for s in streams if s in self._channels}
        counts = [c.counts for c in chosen.values() if getattr(c, "kind", "packet") == "radio"]
        return functools.reduce(operator.add, counts) if counts else None

    def analog_counts(self, stream: int):
        """The ``channel.analog.AnalogCounts`` of an analog stream (None if it sent nothing)."""
        channel = self._channels.get(stream)
        return channel.counts if getattr(channel, "kind", None) == "analog" else None

"""The live receiver's adaptive play-out delay: the mode's own delay plus a network margin that follows the
measured one-way delay and jitter, within bounds, and the late packets that tell it was too short.

    delay = base + margin,   margin → clamp(owd + k · J, low, high)

``base`` is the receiver's structural delay (an FEC block's time, ``Receiver.latency`` without margin); ``owd`` the
one-way delay seen on the sender reports (arrival − the SR's NTP time: exact on one host, needs synchronised
clocks across hosts); ``J`` the RFC 3550 interarrival jitter in seconds. ``k`` = 4 as in the simulated call's
margin (``delay + 4·jitter``, ``SyncscMode.build``). A packet that comes after its frame was played is counted
late and raises the margin at once by how late it was; the margin comes down slowly (``decay`` s per second), so
one quiet second does not undo what a burst taught. Pure: times are arguments.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class AdaptiveDelay:
    base: float
    low: float = 0.02
    high: float = 1.0
    k: float = 4.0
    decay: float = 0.05  # s of margin given back per second while the target is lower
    margin: float = 0.0
    late_packets: int = 0
    _updated: float | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.low <= self.high:
            raise ValueError(f"play-out margin bounds must satisfy 0 ≤ low ≤ high, got {self.low}, {self.high}")
        self.margin = min(max(self.margin, self.low), self.high)

    @property
    def delay(self) -> float:
        return self.base + self.margin

    def update(self, now: float, owd: float, jitter: float) -> float:
        """New measurements at ``now``: move the margin toward ``owd + k·jitter`` (up at once, down slowly)."""
        target = min(max(owd + self.k * jitter, self.low), self.high)
        elapsed = 0.0 if self._updated is None else max(0.0, now - self._updated)
        self._updated = now
        if target >= self.margin:
            self.margin = target
        else:
            self.margin = max(target, self.margin - self.decay * elapsed)
        return self.delay

    def arrived(self, capture: float, arrival: float) -> bool:
        """A media packet whose first frame was captured at ``capture`` arrived at ``arrival`` (media times):
        late if that frame's play-out time had passed; the margin then grows by the lateness."""
        lateness = arrival - (capture + self.delay)
        if lateness <= 0:
            return False
        self.late_packets += 1
        self.margin = min(self.high, self.margin + lateness)
        return True

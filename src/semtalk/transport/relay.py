"""``semtalk relay``: a loopback middlebox that forwards a call's datagrams with loss, delay and jitter.

Datagrams from the sender to ``listen port + i`` go out to ``to port + i`` after the packet channel of the
simulated link (``link.simulated.ChannelConfig``: Bernoulli loss, or Gilbert–Elliott with ``burst`` > 1; delay +
|N(0, jitter²)|, so jitter reorders), one seeded channel per session as in ``semtalk run``. What the receiver sends
back (RTCP receiver reports) returns to the sender unimpaired. Runs until ``duration`` seconds or interrupted.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field

from semtalk.link.simulated import ChannelConfig
from semtalk.records import Datagram
from semtalk.transport.udp import UdpPorts


@dataclass
class RelayCounts:
    forwarded: int = 0
    dropped: int = 0
    returned: int = 0
    per_session: dict[int, list[int]] = field(default_factory=dict)  # session → [in, out]


def relay(listen: tuple[str, int], to: tuple[str, int], sessions: int, channel: ChannelConfig,
          duration: float | None = None, idle: float | None = None, ready=None) -> RelayCounts:
    """Forward until ``duration`` s have passed, or ``idle`` s without a datagram once one came; ``ready()`` is
    called once the ports are bound."""
    counts = RelayCounts()
    channels = [channel.make(i) for i in range(sessions)]
    queue: list[tuple[float, int, int, bytes]] = []
    order = 0
    start = time.monotonic()
    last = None
    with UdpPorts(sessions, listen[0], listen[1]) as inside, UdpPorts(sessions, listen[0], 0, peer=to) as outside:
        if ready is not None:
            ready()
        while True:
            now = time.monotonic() - start
            if duration is not None and now >= duration:
                break
            if idle is not None and last is not None and now - last > idle:
                break
            for i, data, source, _ in inside.receive():
                inside.learn(i, source)
                last = now
                survivors = channels[i]([Datagram(data, now)])
                session = counts.per_session.setdefault(i, [0, 0])
                session[0] += 1
                counts.dropped += 1 - len(survivors)
                for d in survivors:
                    heapq.heappush(queue, (d.time, order, i, d.data))
                    order += 1
            for i, data, _, _ in outside.receive():
                last = now
                counts.returned += inside.send(i, data)
            while queue and queue[0][0] <= now:
                _, _, i, data = heapq.heappop(queue)
                counts.forwarded += outside.send(i, data)
                counts.per_session[i][1] += 1
            wait = 0.05 if not queue else queue[0][0] - now
            inside.wait(min(wait, 0.005))
            outside.wait(0)
    return counts

"""The impairment relay over real sockets: it forwards each session to its port, drops with the seeded
channel's loss, and returns what the receiver sends back."""

from __future__ import annotations

import threading
import time

from semtalk.link.simulated import ChannelConfig
from semtalk.transport.relay import relay
from semtalk.transport.udp import UdpPorts, free_ports


def _run(channel: ChannelConfig, count: int = 200):
    receiver = UdpPorts(2, port=free_ports(2))
    base = free_ports(2)
    result = {}
    thread = threading.Thread(target=lambda: result.update(counts=relay(
        ("127.0.0.1", base), receiver.address(0), 2, channel, duration=3.0, idle=0.7)))
    thread.start()
    time.sleep(0.2)
    sender = UdpPorts(2, peer=("127.0.0.1", base))
    for k in range(count):
        sender.send(k % 2, b"%d" % k)
    got = []
    deadline = time.monotonic() + 2
    while len(got) < count and time.monotonic() < deadline:
        receiver.wait(0.1)
        got += receiver.receive()
        if got and not receiver.peers[0]:
            receiver.learn(0, got[0][2])
            receiver.send(0, b"report")  # back through the relay to the sender
    back = []
    deadline = time.monotonic() + 1
    while not back and time.monotonic() < deadline:
        sender.wait(0.1)
        back = sender.receive()
    thread.join()
    for p in (sender, receiver):
        p.close()
    return got, back, result["counts"]


def test_lossless_relay_forwards_every_session_to_its_port_and_returns_reports():
    got, back, counts = _run(ChannelConfig())
    assert sorted(int(d) for _, d, _, _ in got) == list(range(200))
    assert all(int(d) % 2 == i for i, d, _, _ in got)  # session i arrives on port + i
    assert [d for _, d, _, _ in back] == [b"report"] and counts.returned == 1


def test_relay_drops_what_its_channel_loses():
    got, _, counts = _run(ChannelConfig(loss=0.3, seed=4))
    assert counts.dropped > 30 and len(got) == 200 - counts.dropped

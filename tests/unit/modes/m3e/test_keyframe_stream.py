"""M3E's payloads: keyframe fragments and retransmission requests round-trip; broken ones are refused."""

from __future__ import annotations

import pytest

from semtalk.streams.keyframe import (
    Keyframe,
    KeyframeDepacketizer,
    KeyframePacketizer,
    Request,
    RequestDepacketizer,
)


def test_a_keyframe_comes_back_whole_only_when_every_fragment_arrived():
    key = Keyframe(3, 120, "avif", bytes(range(256)) * 5)
    packets = KeyframePacketizer(kb_tag=9, fps=25.0, fragment=500).push(key)
    assert len(packets) == 3
    depack = KeyframeDepacketizer(kb_tag=9)
    assert [k for p in packets for k in depack(p)] == [key]
    partial = KeyframeDepacketizer(kb_tag=9)
    assert [k for p in packets[:2] for k in partial(p)] == [] and partial.pending == [3] and partial.highest == 3
    assert KeyframeDepacketizer(kb_tag=8)(packets[0]) == []  # another KB


def test_broken_keyframe_packets_are_counted_not_raised():
    depack = KeyframeDepacketizer(kb_tag=9)
    packet = KeyframePacketizer(kb_tag=9, fps=25.0).push(Keyframe(0, 0, "webp", b"x" * 40))[0]
    assert depack(packet[:20]) == [] and depack.garbage == 1
    with pytest.raises(ValueError, match="unknown keyframe codec"):
        KeyframePacketizer(kb_tag=9, fps=25.0).push(Keyframe(0, 0, "png", b"x"))


def test_a_request_round_trips_and_a_truncated_one_is_refused():
    request = Request(sentences=(1, 70000), keyframes=(4,))
    packet = request.packet(kb_tag=2, seq=0)
    assert RequestDepacketizer(kb_tag=2)(packet) == [Request((1, 70000 & 0xFFFF), (4,))]
    depack = RequestDepacketizer(kb_tag=2)
    assert depack(packet[:-1]) == [] and depack.invalid == 1
    with pytest.raises(ValueError, match="at most 255"):
        Request(sentences=tuple(range(256)))

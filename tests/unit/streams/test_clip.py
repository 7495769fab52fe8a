from __future__ import annotations

import pytest

from semtalk.streams.clip import MAX_PENDING, Clip, ClipDepacketizer, ClipPacketizer

TAG = 0x5A


def _clip(clip_id: int, first: int = 0, n: int = 4) -> Clip:
    return Clip(clip_id, first, "x265", tuple(bytes([clip_id, i]) * (300 + 50 * i) for i in range(n)))


def test_a_clip_round_trips_in_any_order():
    packets = ClipPacketizer(TAG, 25.0, fragment=256).push(_clip(3, first=40))
    assert len(packets) > 3
    receiver = ClipDepacketizer(TAG)
    got = [c for p in reversed(packets) for c in receiver(p)]
    assert got == [_clip(3, first=40)]
    assert receiver.garbage == 0


def test_a_clip_missing_one_fragment_is_never_delivered_and_memory_stays_bounded():
    sender = ClipPacketizer(TAG, 25.0, fragment=256)
    receiver = ClipDepacketizer(TAG)
    for i in range(20):
        packets = sender.push(_clip(i, first=10 * i))
        assert [c for p in packets[1:] for c in receiver(p)] == []
    assert len(receiver._pending) <= MAX_PENDING


def test_duplicates_deliver_once_and_garbage_or_other_kb_is_counted():
    packets = ClipPacketizer(TAG, 25.0, fragment=256).push(_clip(1))
    receiver = ClipDepacketizer(TAG)
    assert len([c for p in packets + packets for c in receiver(p)]) == 1
    assert receiver(b"\x00garbage") == [] and receiver.garbage == 1
    other = ClipPacketizer(TAG + 1, 25.0).push(_clip(2))
    assert [c for p in other for c in receiver(p)] == [] and receiver.wrong_kb == len(other)


def test_a_forged_fragment_with_a_different_shape_is_refused():
    packets = ClipPacketizer(TAG, 25.0, fragment=256).push(_clip(1))
    forged = ClipPacketizer(TAG, 25.0, fragment=128).push(_clip(1))  # same id, other fragment count
    receiver = ClipDepacketizer(TAG)
    receiver(packets[0])
    assert receiver(forged[1]) == [] and receiver.invalid == 1
    assert [c for p in packets[1:] for c in receiver(p)] == [_clip(1)]


def test_bad_clips_are_refused_by_the_sender():
    with pytest.raises(ValueError):
        ClipPacketizer(TAG, 25.0).push(Clip(0, 0, "mpeg2", (b"x",)))
    with pytest.raises(ValueError):
        ClipPacketizer(TAG, 25.0).push(Clip(0, 0, "x265", ()))

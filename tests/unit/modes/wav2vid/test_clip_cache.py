"""The clip cache (``--clip-cache``): a clip due at a pose a cached clip already shows is reused, not sent; the
receiver keeps the same bounded set of clips and switches its reference on a reuse record it can honour."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.kb.knowledge_base import kb_tag
from semtalk.media.video_codec import encode_video
from semtalk.modes.wav2vid.config import Wav2vidConfig
from semtalk.modes.wav2vid.ends import CLIPS, HORIZON_FRAMES, Wav2vidReceiver, Wav2vidSender
from semtalk.modes.wav2vid.pose import PoseTrigger
from semtalk.records import StageTimer
from semtalk.streams.clip import Clip, ClipDepacketizer, ClipPacketizer, Reuse
from tests.unit.cli_refusal import assert_refused
from tests.unit.kb.kb_fixtures import make_kb

TAG = 0x5A
A, B, C, D = (np.array([yaw, 0.0, 0.0]) for yaw in (0.0, 20.0, 40.0, 60.0))


def _decisions(trigger: PoseTrigger, poses) -> tuple[list[int], list[tuple[int, int]]]:
    """First frames of the clips sent, and (first frame, clip id) of the clips replaced by a reuse."""
    starts, reuses, first = [], [], None
    for k, pose in enumerate(poses):
        step = trigger(pose)
        if step.send and first is None:
            first = k
        assert step.reuse is None or step.last
        if step.last:
            starts += [first] if step.reuse is None else []
            reuses += [(first, step.reuse)] if step.reuse is not None else []
            first = None
    if trigger.cut():  # the input ends: an open clip goes out as it is
        starts.append(first)
    return starts, reuses


def _track() -> np.ndarray:
    k = np.arange(300)
    return np.stack([25 * np.sin(2 * np.pi * k / 60), 8 * np.sin(2 * np.pi * k / 45), 2 * np.cos(2 * np.pi * k / 90)],
                    -1)


def test_a_head_that_returns_reuses_the_first_clip_instead_of_sending_a_third():
    poses = [A] * 30 + [B] * 30 + [A] * 30
    trigger = PoseTrigger(15.0, clip_frames=5, window=5, cache=8)
    starts, reuses = _decisions(trigger, poses)
    assert starts == [0, 33] and len(reuses) == 1
    frame, clip_id = reuses[0]
    assert clip_id == 0 and 60 <= frame <= 64 and trigger.clips == 2
    np.testing.assert_allclose(trigger.reference, A)  # the receiver now animates clip 0, which shows A
    assert _decisions(PoseTrigger(15.0, 5, 5, cache=0), poses) == ([0, 33, 63], [])  # without the cache: a third


def test_a_pose_only_near_a_cached_one_is_not_reused():
    poses = [A] * 30 + [B] * 30 + [np.array([-9.0, 0, 0])] * 30  # 9° from A: more than ρ·ε = 7.5°
    assert _decisions(PoseTrigger(15.0, 5, 1, cache=8, reuse_fraction=0.5), poses)[1] == []
    assert _decisions(PoseTrigger(15.0, 5, 1, cache=8, reuse_fraction=0.7), poses)[1] == [(60, 0)]


def test_the_cache_holds_only_the_last_clips_sent():
    poses = [A] * 20 + [B] * 20 + [C] * 20 + [D] * 20 + [A] * 20
    small = PoseTrigger(15.0, 5, 1, cache=2)  # window 1: no averaged pose between the steps
    starts, reuses = _decisions(small, poses)
    assert starts == [0, 20, 40, 60, 80] and reuses == []  # A's clip fell out of a 2-clip cache: sent again
    assert [clip_id for clip_id, _ in small.cached] == [3, 4]
    assert _decisions(PoseTrigger(15.0, 5, 1, cache=4), poses) == ([0, 20, 40, 60], [(80, 0)])


def test_no_cache_reproduces_the_decisions_without_reuse_exactly():
    # the clip starts of this track from the trigger before the cache existed (commit 5ed5a03)
    before = [0, 9, 25, 34, 45, 56, 65, 76, 88, 97, 116, 125, 137, 148, 157, 179, 188, 206, 215, 227, 238, 247, 269,
              278, 296]
    assert _decisions(PoseTrigger(15.0, 5, 5, cache=0), _track()) == (before, [])
    starts, reuses = _decisions(PoseTrigger(15.0, 5, 5, cache=8), _track())
    assert reuses and len(starts) < len(before)  # the cache changes these decisions
    assert Wav2vidConfig(clip_cache=0).clip_cache == 0


def test_bad_cache_settings_are_refused():
    with pytest.raises(ValueError):
        PoseTrigger(15.0, 5, cache=-1)
    with pytest.raises(ValueError):
        PoseTrigger(15.0, 5, cache=4, reuse_fraction=1.0)


def test_a_reuse_record_round_trips_and_a_malformed_one_is_refused():
    sender = ClipPacketizer(TAG, 25.0)
    (packet,) = sender.push_reuse(Reuse(3, 120))
    receiver = ClipDepacketizer(TAG)
    assert receiver(packet) == [Reuse(3, 120)] and receiver(packet) == [Reuse(3, 120)]  # no dedup: idempotent
    assert Reuse(3, 120).bytes == 14 and sender.payload_bits == 8 * 14
    assert receiver(packet + b"x") == [] and receiver.invalid == 1  # a body after a reuse header
    clip = Clip(4, 130, "x265", (b"a" * 40,))  # a clip after it still arrives
    assert [c for p in sender.push(clip) for c in receiver(p)] == [clip]


@pytest.fixture(scope="module")
def synthetic():
    made = make_kb()
    return made.kb, made.kb.to_bytes()


def _send(receiver: Wav2vidReceiver, packets: list[bytes]) -> None:
    for packet in packets:
        receiver.receive(CLIPS, packet)


def test_the_receiver_switches_to_a_reused_clip_and_ignores_an_unknown_id(synthetic):
    kb, kb_bytes = synthetic
    receiver = Wav2vidReceiver(Wav2vidConfig(fec="none", clip_cache=8), kb, kb_bytes, StageTimer())
    references = []
    receiver.head.set_reference = lambda frames: references.append(round(float(np.mean(frames))))
    packetizer = ClipPacketizer(kb_tag(kb_bytes), 25.0)
    size = kb.crop.size
    for clip_id, first, grey in ((0, 0, 200), (1, 10, 60)):
        picture = np.full((size, size, 3), grey, np.uint8)
        _send(receiver, packetizer.push(Clip(clip_id, first, "x265", encode_video([picture] * 3, "x265",
                                                                                   300.0).packets)))
    _send(receiver, packetizer.push_reuse(Reuse(0, 20)))  # back to clip 0 at frame 20
    _send(receiver, packetizer.push_reuse(Reuse(7, 25)))  # a clip it never received: ignored
    _send(receiver, packetizer.push_reuse(Reuse(0, 10 * HORIZON_FRAMES)))  # forged far ahead: refused, counted
    assert receiver.clips.invalid == 1
    receiver.play(30)
    assert [abs(r - g) < 4 for r, g in zip(references, (200, 60, 200), strict=True)] == [True] * 3
    assert receiver.reuses_applied == [(20, 0)] and receiver._reference == 0
    assert receiver._switches == {}


def test_the_receiver_keeps_only_the_last_clips_and_none_without_a_cache(synthetic):
    kb, kb_bytes = synthetic
    size = kb.crop.size
    packets = encode_video([np.full((size, size, 3), 128, np.uint8)] * 2, "x265", 300.0).packets
    for cache in (2, 0):
        receiver = Wav2vidReceiver(Wav2vidConfig(fec="none", clip_cache=cache), kb, kb_bytes, StageTimer())
        packetizer = ClipPacketizer(kb_tag(kb_bytes), 25.0)
        for clip_id in range(5):
            _send(receiver, packetizer.push(Clip(clip_id, 10 * clip_id, "x265", packets)))
        _send(receiver, packetizer.push_reuse(Reuse(0, 55)))  # evicted: the newest clip stays
        receiver.play(60)
        assert sorted(receiver._kept) == ([3, 4] if cache else [])
        assert receiver.reuses_applied == [] and receiver._reference == 4


def test_the_sender_sends_a_reuse_record_and_counts_its_bytes(synthetic):
    kb, kb_bytes = synthetic
    sender = Wav2vidSender(Wav2vidConfig(fec="none", clip_cache=8), kb, kb_bytes, StageTimer())
    sender.tracker.close()
    out = sender._send_reuse(Reuse(2, 40))
    assert sender.reused == [(40, 2)] and sender.control_bytes == 14
    assert ClipDepacketizer(kb_tag(kb_bytes))(out[0]) == [Reuse(2, 40)]


@pytest.mark.parametrize("args, message", [
    (["--mode", "wav2vid", "--clip-cache", "-1"], "--clip-cache is the clips kept for reuse and must be in 0..64"),
    (["--clip-cache", "4"], "--clip-cache is a setting of --mode wav2vid"),
])
def test_a_bad_or_misplaced_clip_cache_is_refused(tmp_path, capsys, args, message):
    assert_refused(tmp_path, capsys, args, message)

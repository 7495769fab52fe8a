"""The Wav2Vid receiver fed whatever a channel or an attacker delivers: it plays every frame, keeps its memory
bounded and counts what it refused."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.kb.knowledge_base import kb_tag
from semtalk.media.video_codec import encode_video
from semtalk.modes.wav2vid.config import Wav2vidConfig
from semtalk.modes.wav2vid.ends import AUDIO, CLIPS, HORIZON_FRAMES, Wav2vidReceiver
from semtalk.records import StageTimer
from semtalk.streams.clip import Clip, ClipPacketizer
from tests.unit.kb.kb_fixtures import make_kb


@pytest.fixture(scope="module")
def synthetic():
    made = make_kb()
    return made.kb, made.kb.to_bytes()


def test_garbage_and_forged_far_clips_are_counted_and_every_frame_still_plays(synthetic):
    kb, kb_bytes = synthetic
    receiver = Wav2vidReceiver(Wav2vidConfig(fec="none"), kb, kb_bytes, StageTimer())
    rng = np.random.default_rng(0)
    for _ in range(300):
        receiver.receive(int(rng.integers(2)), rng.bytes(int(rng.integers(0, 300))))
    frames = [kb.reference.image[..., :3]] * 3
    forged = Clip(0, 10 * HORIZON_FRAMES, "x265", encode_video(frames, "x265", 150.0).packets)
    for packet in ClipPacketizer(kb_tag(kb_bytes), 25.0).push(forged):
        receiver.receive(CLIPS, packet)
    played = receiver.play(40)
    assert [p.index for p in played] == list(range(40))
    assert all(p.image.shape == (kb.crop.size, kb.crop.size, 3) for p in played)
    assert receiver._cached == [] and receiver.received_clips == []
    report = receiver.report()
    assert report["garbage_packets"] >= 200  # the unparsable ones (a parsable one is another stream's: foreign)
    assert receiver.clips.invalid == 1  # the forged clip, far ahead of play-out
    speech = receiver.finish(40 / 25)
    assert speech.audio.shape == (round(40 / 25 * 16000),) and not np.any(speech.audio)  # nothing real arrived


def test_an_honest_clip_is_shown_on_its_frames(synthetic):
    kb, kb_bytes = synthetic
    receiver = Wav2vidReceiver(Wav2vidConfig(fec="none"), kb, kb_bytes, StageTimer())
    picture = np.full((kb.crop.size, kb.crop.size, 3), 200, np.uint8)
    clip = Clip(0, 5, "x265", encode_video([picture] * 3, "x265", 300.0).packets)
    for packet in ClipPacketizer(kb_tag(kb_bytes), 25.0).push(clip):
        receiver.receive(CLIPS, packet)
    played = receiver.play(12)
    assert receiver.received_clips == [(5, 3)]
    shown = [p.index for p in played if abs(float(p.image.mean()) - 200) < 3]
    assert shown == [5, 6, 7]
    assert receiver.generated == [0, 1, 2, 3, 4, 8, 9, 10, 11]
    assert AUDIO == 1

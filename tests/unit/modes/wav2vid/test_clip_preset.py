"""The clip codec's preset (``--clip-preset``): the sender codes its clips with it, the benchmark's re-coding
(``bench.wav2vid.encode_clip``, Table II's byte-exact check) gives the same bytes, and the CLI refuses a bad one."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.bench.wav2vid import encode_clip
from semtalk.kb.knowledge_base import kb_tag
from semtalk.media.video_codec import encode_video
from semtalk.modes.wav2vid.config import CLIP_PRESETS, Wav2vidConfig
from semtalk.modes.wav2vid.ends import FPS, Wav2vidSender
from semtalk.records import StageTimer
from semtalk.streams.clip import ClipDepacketizer
from tests.unit.cli_refusal import assert_refused
from tests.unit.kb.kb_fixtures import make_kb


@pytest.fixture(scope="module")
def synthetic():
    made = make_kb()
    return made.kb, made.kb.to_bytes()


def _frames(size: int, n: int = 4) -> list[np.ndarray]:
    yy, xx = np.mgrid[0:size, 0:size]
    return [np.stack([(xx * 3 + 5 * t) % 256, (yy * 2 - 3 * t) % 256, (xx + yy + 7 * t) % 256], -1).astype(np.uint8)
            for t in range(n)]


def _sent(config: Wav2vidConfig, kb, kb_bytes, frames) -> tuple[bytes, ...]:
    """The codec packets of one clip of ``frames`` as the sender sends it, read back by the receiver's depacketiser."""
    sender = Wav2vidSender(config, kb, kb_bytes, StageTimer())
    sender._crops, sender._first = list(frames), 0  # the frames a pose change selected
    sender.tracker.close()
    depacketize = ClipDepacketizer(kb_tag(kb_bytes))
    clips = [clip for packet in sender._send_clip() for clip in depacketize(packet)]
    assert len(clips) == 1 and sender.clip_bytes == sum(len(p) for p in clips[0].packets)
    return clips[0].packets


def test_the_default_preset_is_the_tuned_one_for_x265_and_the_codec_default_otherwise():
    assert Wav2vidConfig().preset == CLIP_PRESETS["x265"] == "slow"
    assert Wav2vidConfig(clip_codec="svtav1").preset is None
    assert Wav2vidConfig(clip_preset="medium").preset == "medium"


@pytest.mark.parametrize("preset", [None, "medium", "ultrafast"])
def test_the_sender_codes_its_clips_with_the_configured_preset(synthetic, preset):
    kb, kb_bytes = synthetic
    frames = _frames(kb.crop.size)
    config = Wav2vidConfig(fec="none", clip_preset=preset)
    sent = _sent(config, kb, kb_bytes, frames)
    expected = encode_video(frames, "x265", config.clip_kbps, FPS, preset=preset or "slow").packets
    assert sent == expected
    assert encode_clip(frames, "x265", config.clip_kbps, preset)[0].packets == expected  # Table II's re-coding
    others = {encode_video(frames, "x265", config.clip_kbps, FPS, preset=p).packets
              for p in ("ultrafast", "medium", "slow") if p != (preset or "slow")}
    assert sent not in others  # the preset matters for these frames, so equality above means it was used


@pytest.mark.parametrize("args, message", [
    (["--mode", "wav2vid", "--clip-preset", "fastest"], "--clip-preset: x265 has no preset 'fastest'"),
    (["--mode", "wav2vid", "--clip-codec", "svtav1", "--clip-preset", "slow"],
     "--clip-preset: svtav1 has no preset 'slow'; choose one of 0–13"),
    (["--clip-preset", "slow"], "--clip-preset is a setting of --mode wav2vid"),
])
def test_a_bad_or_misplaced_preset_is_refused_in_one_line_before_any_work(tmp_path, capsys, args, message):
    assert_refused(tmp_path, capsys, args, message)

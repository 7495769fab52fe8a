"""``--video-kbps`` (issue 24): checked before any work, one line naming the flag; it reaches the face stream."""

from __future__ import annotations

import pytest

from semtalk.call.run import RunConfig
from semtalk.modes.syncsc.mode import DEFAULT_VIDEO_KBPS, SyncscConfig, SyncscMode
from tests.unit.cli_refusal import assert_refused


@pytest.mark.parametrize("args, message", [
    (["--video-kbps", "-1"], "--video-kbps must be in [0.2, 64] (or 0: the uncontrolled version-1 stream), got -1"),
    (["--video-kbps", "0.1"], "--video-kbps must be in [0.2, 64]"),
    (["--video-kbps", "500"], "--video-kbps must be in [0.2, 64]"),
    (["--video-kbps", "nan"], "--video-kbps must be a finite number, got nan"),
    (["--video-kbps", "1.2", "--fec", "pacsc"], "--video-kbps needs the entropy-coded face stream (--fec rs or none)"),
    (["--video-kbps", "1.2", "--mode", "wav2vid"], "--video-kbps is a setting of --mode syncsc"),
])
def test_nonsense_targets_are_refused_with_one_line(tmp_path, capsys, args, message):
    assert_refused(tmp_path, capsys, args, message)



@pytest.mark.parametrize("kbps, fpp, target", [(None, 5, DEFAULT_VIDEO_KBPS), (0.0, 5, None), (0.8, 10, 0.8),
                                                (3.2, 5, 3.2)])
def test_the_target_sets_the_stream_version_and_frames_per_packet(kbps, fpp, target):
    run_config = RunConfig(video_kbps=kbps)
    mode = SyncscMode.build(run_config, kb=None, kb_bytes=b"", receiver_kb=None)
    assert mode.config.video_target() == target
    assert mode.config.frames_per_packet == fpp


def test_pacsc_keeps_the_version_1_stream_and_its_packets():
    config = SyncscConfig(fec="pacsc")
    assert config.video_target() is None
    mode = SyncscMode.build(RunConfig(fec="pacsc"), kb=None, kb_bytes=b"", receiver_kb=None)
    assert mode.config.frames_per_packet == 5

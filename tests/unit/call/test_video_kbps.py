"""``--video-kbps`` and ``--flow-grid`` (issue 24): checked before any work, one line naming the flag; they reach
the face stream."""

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
    (["--flow-grid", "1"], "--flow-grid must be 0 (no motion field) or 2..16, got 1"),
    (["--flow-grid", "17"], "--flow-grid must be 0 (no motion field) or 2..16, got 17"),
    (["--flow-grid", "-3"], "--flow-grid must be 0 (no motion field) or 2..16, got -3"),
    (["--flow-grid", "4", "--mode", "wav2vid"], "--flow-grid is a setting of --mode syncsc"),
])
def test_nonsense_targets_are_refused_with_one_line(tmp_path, capsys, args, message):
    assert_refused(tmp_path, capsys, args, message)



@pytest.mark.parametrize("kbps, grid, fpp, target", [
    (None, 6, 10, DEFAULT_VIDEO_KBPS), (None, 0, 5, DEFAULT_VIDEO_KBPS), (0.0, 6, 5, None), (0.8, 6, 16, 0.8),
    (0.8, 0, 10, 0.8), (3.2, 6, 5, 3.2), (3.2, 0, 5, 3.2)])
def test_the_target_sets_the_stream_version_and_frames_per_packet(kbps, grid, fpp, target):
    """The motion field is a per-packet cost (``frames_for_rate``): with it, a low target groups more frames."""
    run_config = RunConfig(video_kbps=kbps, flow_grid=grid)
    mode = SyncscMode.build(run_config, kb=None, kb_bytes=b"", receiver_kb=None)
    assert mode.config.video_target() == target
    assert mode.config.frames_per_packet == fpp
    assert mode.config.field_grid() == (grid if target is not None else 0)


def test_pacsc_keeps_the_version_1_stream_and_its_packets():
    config = SyncscConfig(fec="pacsc")
    assert config.video_target() is None
    mode = SyncscMode.build(RunConfig(fec="pacsc"), kb=None, kb_bytes=b"", receiver_kb=None)
    assert mode.config.frames_per_packet == 5

"""Real talking-face clips from ../shared/data (skipped when the data is absent)."""

from __future__ import annotations

import numpy as np
import pytest
from shared_data import real_clip

from semtalk.pipelines.syncsc import RunConfig, run


def test_coefficients_round_trip_on_a_real_clip():
    from semtalk.kb.build import build_kb
    from semtalk.media.reader import read_video
    from semtalk.semantics.encoder import CropConfig, FaceEncoder, FaceTracker

    clip = real_clip("grid_bbaf2n.mpg")
    tracker = FaceTracker(CropConfig())
    frames = list(tracker(read_video(clip, duration=3.0)))
    tracker.close()
    kb = build_kb(frames[:50], tracker.ref_box, 25.0, CropConfig())
    enc = FaceEncoder(kb.face_model, kb.quantizer)
    errors = []
    for f in frames[50:]:
        coeffs = kb.quantizer.dequantize(enc(f).codes)
        rebuilt = kb.face_model.decode(coeffs)
        errors.append(np.abs(rebuilt[:468, :2] - f.points[:468, :2]).mean() * 256)
    # Held-out frames, 8-bit coefficients: mean landmark error in 256-px crop pixels.
    assert np.mean(errors) < 1.5


@pytest.mark.slow
def test_lrs2_clip_end_to_end(tmp_path):
    clip = real_clip("lrs2_00004.mp4")
    report = run(clip, tmp_path, RunConfig(loss=0.1, progress=False, vmaf=False))
    v = report["video"]
    assert v["stream_kbps"] <= 3.2
    assert v["ssim"] > 0.5
    assert (tmp_path / "side_by_side.mp4").stat().st_size > 10_000

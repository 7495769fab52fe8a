"""Real talking-face clips from ../shared/data (skipped when the data is absent)."""

from __future__ import annotations

import numpy as np
import pytest
from shared_data import real_clip

from semtalk.call.run import RunConfig, run


def test_coefficients_round_trip_on_a_real_clip():
    from semtalk.enroll.build import build_kb
    from semtalk.media.reader import read_video
    from semtalk.semantics.face.encoder import CropConfig, FaceEncoder, FaceTracker

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
    from semtalk.media.reader import probe, read_audio

    clip = real_clip("lrs2_00016.mp4")
    report = run(clip, tmp_path, RunConfig(loss=0.1, progress=False, vmaf=False,
                                           transcript=str(clip.with_suffix(".txt"))))
    v, s = report["video"], report["speech"]
    assert v["stream_kbps"] <= 3.2
    assert v["ssim"] > 0.5
    assert (tmp_path / "side_by_side.mp4").stat().st_size > 10_000
    # Words, not waveforms: ≤ 100 bps of text and timing, the sentence survives, the speech is intelligible.
    assert s["text_bps"] + s["timing_bps"] <= 100
    assert s["asr_wer"] < 0.2 and s["received_wer"] < 0.2 and s["resynth_wer"] < 0.4
    assert report["kb"]["info"]["voice"]["profile"] and not s["voice_adapted"]
    assert s["speaker_similarity_adapted"] is not None and s["resynth_wer_adapted"] is not None
    assert abs(s["av_offset_ms"]) < 200
    info = probe(tmp_path / "received.mp4")
    assert abs(read_audio(tmp_path / "received.mp4", 16000).size / 16000 - info.duration) <= 1 / 25

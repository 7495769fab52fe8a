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


@pytest.mark.slow
def test_lrs2_call_over_rayleigh_has_phy_keys_and_degrades_without_failing(tmp_path):
    """The issue-18 command at 10 dB and at 0 dB: video, speech and ``phy.*`` either way; 0 dB erases more."""
    clip = real_clip("lrs2_00004.mp4")
    reports = {snr: run(clip, tmp_path / f"snr{snr}", RunConfig(channel="rayleigh", snr=snr, modulation="qpsk",
                                                                 ldpc_rate=0.5, progress=False, vmaf=False))
               for snr in (10.0, 0.0)}
    for snr, r in reports.items():
        phy = r["phy"]
        assert {"channel", "snr_db", "modulation", "ldpc_rate", "channel_uses_per_s", "ber_uncoded", "ber_coded",
                "bler", "packet_loss"} <= set(phy)
        assert (phy["channel"], phy["snr_db"], phy["modulation"], phy["ldpc_rate"]) == ("rayleigh", snr, "qpsk", 0.5)
        assert r["video"]["ssim"] > 0.4 and r["speech"]["words_sent"] > 0
        assert (tmp_path / f"snr{snr}" / "received.mp4").is_file()
    good, bad = reports[10.0]["phy"], reports[0.0]["phy"]
    assert good["packet_loss"] < 0.1 < 0.5 < bad["packet_loss"]
    assert good["ber_uncoded"] < bad["ber_uncoded"] and reports[0.0]["video"]["concealed_frames"] > 0
    assert good["channel_uses_per_s"] == bad["channel_uses_per_s"]  # same bits, same bandwidth, whatever the SNR

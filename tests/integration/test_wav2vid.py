"""The Wav2Vid mode end to end: on the sample clip the project makes, and on a shared HDTF clip over Rayleigh."""

from __future__ import annotations

import pytest
from shared_data import real_clip

from semtalk.call.run import RunConfig, run


def _check_keys(report: dict) -> None:
    assert report["mode"] == "wav2vid"
    w = report["wav2vid"]
    for key in ("clips_sent", "frames_sent_fraction", "mouth_correlation", "data_bytes"):
        assert key in w, key
    assert report["audio"]["carrier"] in ("opus", "asc") and "pesq_wb" in report["audio"]
    assert "av_offset_ms" in report["speech"]


def test_sample_clip_sends_the_audio_and_few_frames_and_plays_every_frame(tmp_path, sample_clip):
    from semtalk.media.reader import probe, read_audio

    report = run(sample_clip, tmp_path, RunConfig(mode="wav2vid", progress=False, vmaf=False))
    _check_keys(report)
    w, v, a = report["wav2vid"], report["video"], report["audio"]
    assert w["clips_sent"] >= 1 and w["clips_received"] == w["clips_sent"]
    assert 0 < w["frames_sent_fraction"] < 1 and w["frames_generated"] > 0
    assert w["frames_sent"] + w["frames_generated"] == v["frames"]
    assert w["data_bytes"] == w["data_bytes_clips"] + w["data_bytes_control"] + w["data_bytes_audio"]
    assert w["data_bytes_control"] == 14 * w["clips_reused"] and w["reuses_applied"] == w["clips_reused"]
    assert a["carrier"] == "opus" and a["kbps"] == pytest.approx(8.0, rel=0.05)
    assert a["pesq_wb"] is not None and a["pesq_wb"] > 2.0  # Opus at 8 kbps over a clean link
    assert v["ssim"] > 0.5
    info = probe(tmp_path / "received.mp4")
    assert info.has_audio and abs(read_audio(tmp_path / "received.mp4", 16000).size / 16000 - info.duration) <= 0.04
    assert (tmp_path / "received.wav").is_file() and (tmp_path / "report.json").is_file()


def test_sample_clip_over_heavy_packet_loss_still_plays_every_frame(tmp_path, sample_clip):
    report = run(sample_clip, tmp_path, RunConfig(mode="wav2vid", loss=0.4, seed=3, fec="none", progress=False,
                                                  vmaf=False, write_video=False))
    assert report["video"]["frames"] == 100
    assert report["audio"]["packets_lost"] > 0 and report["video"]["concealed_frames"] > 0


@pytest.mark.slow
def test_hdtf_clip_over_rayleigh_the_issue_command(tmp_path):
    """``semtalk run hdtf_WDA_EdMarkey0_000.mp4 --mode wav2vid --channel rayleigh --snr 10``."""
    clip = real_clip("hdtf_WDA_EdMarkey0_000.mp4")
    report = run(clip, tmp_path, RunConfig(mode="wav2vid", channel="rayleigh", snr=10.0, progress=False, vmaf=False))
    _check_keys(report)
    assert report["phy"]["channel"] == "rayleigh" and report["phy"]["channel_uses"] > 0
    assert report["wav2vid"]["frames_sent_fraction"] < 0.5
    assert report["audio"]["pesq_wb"] > 2.0
    assert report["wav2vid"]["mouth_correlation"] > 0.3
    assert abs(report["speech"]["av_offset_ms"]) <= 80


def test_sample_clip_with_the_asc_over_awgn_sends_analog_symbols_and_loses_nothing(tmp_path, sample_clip):
    report = run(sample_clip, tmp_path, RunConfig(mode="wav2vid", channel="awgn", snr=12.0, audio_carrier="asc",
                                                  progress=False, vmaf=False, write_video=False))
    w, a = report["wav2vid"], report["audio"]
    assert a["carrier"] == "asc" and a["packets_lost"] == 0 and a["kbps"] is None
    assert a["symbols_per_s"] == pytest.approx(4000, rel=0.03)  # the ASC's latent, plus nothing else
    assert w["data_bytes_audio"] == 0 and w["audio_analog_symbols"] == a["spans"] * 800
    assert w["channel_symbols"]["audio"] > w["audio_analog_symbols"]  # plus the digital headers
    assert a["pesq_wb"] is not None and report["video"]["concealed_frames"] == 0

"""The radio suite: its grid, its PHY cell, and every cell end to end on one real clip."""

from __future__ import annotations

from pathlib import Path

import pytest

from semtalk.bench.radio import NO_CLIP, SNRS, RadioGrid, radio_phy_method, run_suite
from semtalk.bench.runner import BenchEnv, BenchOptions, Task
from semtalk.cli import main


def test_the_full_grid_sweeps_0_to_20_db_in_2_db_steps_on_both_channels_for_every_system():
    grid = RadioGrid.full()
    assert tuple(float(s) for s in range(0, 21, 2)) == SNRS and grid.channels == ("awgn", "rayleigh")
    tasks = grid.tasks(seed=3)
    methods = {t.method for t in tasks}
    assert methods == {"semtalk_radio", "codec_radio_video", "codec_radio_speech", "jpeg_radio", "radio_phy"}
    assert {t.clip for t in tasks} == {*grid.clips, NO_CLIP} and len(grid.clips) == 6
    calls = [t for t in tasks if t.method == "semtalk_radio"]
    assert len(calls) == 6 * 2 * 11 and all(t.seed == 3 for t in tasks)
    video = [t.params for t in tasks if t.method == "codec_radio_video"]
    assert {p["codec"] for p in video} == {"x264", "x265", "svtav1"}
    assert {p["bandwidth"] for p in video} == set(grid.bandwidths) and len(grid.bandwidths) == 2
    assert tasks[0].method == "semtalk_radio"  # the longest cells first
    assert len({t.key("v") for t in tasks}) == len(tasks)  # no two cells alike


def test_the_quick_grid_is_one_clip_and_fewer_points():
    quick = RadioGrid.quick().tasks()
    assert {t.clip for t in quick} == {"lrs2_00004.mp4", NO_CLIP}
    assert len([t for t in quick if t.method == "semtalk_radio"]) == 2 * 5


def _phy(snr: float, channel: str = "awgn", modulation: str = "qpsk") -> dict:
    task = Task.make("radio_phy", NO_CLIP, 0, channel=channel, snr=snr, modulation=modulation, ldpc_rate=0.5,
                     coherence=100)
    return radio_phy_method(task, BenchEnv("", ""))


def test_the_phy_cell_measures_ber_beside_theory_and_the_ldpc_cliff():
    low, high = _phy(0.0), _phy(8.0)
    assert low["bits"] >= 2e5
    assert low["ber_uncoded"] == pytest.approx(low["theory_ber_uncoded"], rel=0.1)
    assert low["bler"] == 1.0 and high["bler"] == 0.0 and high["ber_coded"] == 0.0
    fading = _phy(10.0, "rayleigh")
    assert fading["ber_uncoded"] == pytest.approx(fading["theory_ber_uncoded"], rel=0.15)
    assert _phy(10.0, modulation="16qam")["theory_ber_uncoded"] is None


SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"
CLIP = "grid_bbaf2n.mpg"


def test_cli_bench_radio_names_the_missing_clips(tmp_path, capsys):
    rc = main(["bench", "--suite", "radio", "--data", str(tmp_path / "nodata"), "--out", str(tmp_path / "out"),
               "--workers", "0", "--quick"])
    assert rc == 2
    assert "benchmark clips not found" in capsys.readouterr().err


@pytest.mark.slow
def test_run_suite_on_one_real_clip_shows_the_cliff_of_every_baseline(tmp_path):
    """Every cell kind at a dead (−4 dB) and a clean (12 dB) AWGN link: the baselines lose everything below the
    LDPC threshold and nothing above it, semtalk's call still finishes, and the report is written."""
    if not (SHARED / "faces_av" / CLIP).is_file():
        pytest.skip(f"real data not available ({SHARED})")
    grid = RadioGrid(clips=(CLIP,), channels=("awgn",), snrs=(-4.0, 12.0), video_codecs=("x264",),
                     bandwidths=(32000.0,), speech_codecs=("opus",), speech_bandwidths=(16000.0,),
                     phy_modulations=("qpsk",), speech=True, vmaf=False)
    rows = run_suite(SHARED, tmp_path, BenchOptions(workers=0), grid=grid, progress=False)
    assert [r["error"] for r in rows if r["status"] != "ok"] == []
    by = {(r["method"], r["snr"]): r for r in rows if r["clip"] == CLIP}
    for method in ("semtalk_radio", "codec_radio_video", "codec_radio_speech", "jpeg_radio"):
        dead, clean = by[(method, -4.0)], by[(method, 12.0)]
        assert dead["packet_loss"] > 0.9 and clean["packet_loss"] == 0.0, method
    video = by[("codec_radio_video", 12.0)]
    assert video["channel_uses_per_s"] <= 32000.0 and video["ssim"] > by[("codec_radio_video", -4.0)]["ssim"]
    assert by[("codec_radio_speech", 12.0)]["channel_uses_per_s"] <= 16000.0
    assert by[("semtalk_radio", 12.0)]["ssim"] > 0.3 and by[("semtalk_radio", 12.0)]["ber_coded"] == 0.0
    md = (tmp_path / "results.md").read_text()
    assert "| semtalk |" in md and "| x264 @ 32k |" in md and (tmp_path / "report.html").is_file()

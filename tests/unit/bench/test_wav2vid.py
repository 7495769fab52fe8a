"""The Wav2Vid suite: its grid, the matched-quality search, Table II and the report, on fake rows (no data needed)."""

from __future__ import annotations

import json

import pytest

from semtalk import registry
from semtalk.bench.runner import BenchEnv
from semtalk.bench.wav2vid import (
    PESQ_FLOOR,
    SNRS,
    Wav2vidGrid,
    call_folder,
    pesq_or_floor,
    syncsc_config,
    wav2vid_config,
)
from semtalk.bench.wav2vid_cells import match_rate, pick_matched
from semtalk.bench.wav2vid_report import curve_tables, curves, reduction, table2, write_all
from semtalk.cli import main


def test_the_full_grid_runs_every_system_at_every_snr_on_six_clips():
    grid = Wav2vidGrid.full()
    assert tuple(float(s) for s in range(0, 21, 2)) == SNRS and grid.table_snr == 20.0 and len(grid.clips) == 6
    calls, derived = grid.calls(seed=2), grid.derived(seed=2)
    assert len(calls) == 6 * 11 * 3 and len(derived) == 6 * 11 + 6
    w2v = [t.params for t in calls if t.method == "wav2vid_call"]
    assert {p["carrier"] for p in w2v} == {"opus", "asc"} and {p["modulation"] for p in w2v} == {"16qam"}
    assert {t.params["modulation"] for t in calls + derived if t.method in ("wav2vid_syncsc", "txt2vid")} == {"qpsk"}
    assert {t.params["snr"] for t in derived if t.method == "wav2vid_table"} == {20.0}
    assert {t.method for t in calls} == {"wav2vid_call", "wav2vid_syncsc"}
    assert {t.method for t in derived} == {"txt2vid", "wav2vid_table"}
    tasks = grid.tasks(seed=2)
    assert len({t.key("v") for t in tasks}) == len(tasks) and all(t.seed == 2 for t in tasks)
    for t in tasks:  # every cell is registered
        assert registry.get("bench_method", t.method)
    assert registry.get("bench_suite", "wav2vid")


def test_the_quick_grid_is_one_lrs2_clip_three_snrs_and_no_vmaf():
    grid = Wav2vidGrid.quick()
    tasks = grid.tasks()
    assert {t.clip for t in tasks} == {"lrs2_00004.mp4"} and grid.snrs == (0.0, 10.0, 20.0)
    assert len(tasks) == 3 * 3 + 3 + 1
    assert not any(t.params.get("score_vmaf") for t in tasks)


def test_each_call_has_its_own_folder_and_the_opus_run_is_16qam():
    env, grid = BenchEnv("data", "work"), Wav2vidGrid.quick()
    opus = wav2vid_config(env, "c.mp4", {**grid.radio(), "snr": 4.0}, 0, "opus")
    asc = wav2vid_config(env, "c.mp4", {**grid.radio(), "snr": 4.0}, 0, "asc")
    sync = syncsc_config(env, "c.mp4", {**grid.syncsc_radio(), "snr": 4.0}, 0)
    assert (opus.mode, opus.modulation, opus.audio_carrier, opus.channel) == ("wav2vid", "16qam", "opus", "rayleigh")
    assert sync.mode == "syncsc" and sync.modulation == "qpsk"
    assert len({call_folder(env, "c.mp4", c) for c in (opus, asc, sync)}) == 3


def test_a_silent_output_is_drawn_at_the_pesq_floor_and_marked():
    assert pesq_or_floor(None, True) == (PESQ_FLOOR, True)
    assert pesq_or_floor(2.5, False) == (2.5, False)
    assert pesq_or_floor(None, False) == (None, False)  # unscorable for another reason: a gap, not the floor


def test_match_rate_finds_the_lowest_rate_that_reaches_the_target():
    def quality(kbps: float) -> float:  # monotone, 0.9 at 100 kbps
        return 1 - 10 / kbps

    points = match_rate(quality, 0.9, 4.0, 4000.0, steps=12)
    rate, q, reached = pick_matched(points, 0.9)
    assert reached and q >= 0.9 and rate == pytest.approx(100.0, rel=0.01)
    assert pick_matched(match_rate(quality, 0.999, 4.0, 4000.0), 0.999)[2] is False  # unreachable: best tried
    floor = match_rate(quality, 0.1, 20.0, 4000.0)
    assert len(floor) == 2 and pick_matched(floor, 0.1)[0] == 20.0  # the floor already does
    assert pick_matched([(10.0, 0.5), (20.0, 0.95), (40.0, 0.97)], 0.9) == (20.0, 0.95, True)


def _table_row(clip: str, h264: float, w2v: float, **extra) -> dict:
    row = {"method": "wav2vid_table", "clip": clip, "status": "ok", "seed": 0, "config": "{}", "error": None,
           "table": "data", "system": "table2", "snr": 20.0, "seconds": 5.0,
           "h264_aac_bytes": h264, "syncsc_bytes": 2000.0, "txt2vid_bytes": 3000.0, "wav2vid_bytes": w2v,
           "h264_aac_symbols": int(8 * h264), "syncsc_symbols": 16000, "txt2vid_symbols": 24000,
           "wav2vid_symbols": int(8 * w2v), "ssim_wav2vid_clips": 0.95, "ssim_h264": 0.951, "h264_reached": True,
           "h264_kbps": 80.0, "ssim_h264_heldout": 0.94, "ssim_wav2vid_heldout": 0.8, "matched_frames": 30,
           "match_basis": "clip frames", "pesq_opus": 2.3, "pesq_aac": 2.35, "aac_reached": True,
           "aac_floor": False, "aac_kbps": 18.0, "wav2vid_clips_sent": 3, "wav2vid_frames_sent_fraction": 0.2,
           "wav2vid_bytes_clips": int(w2v) - 5000, "wav2vid_bytes_audio": 5000, "syncsc_face_bytes": 1500.0,
           "syncsc_words_bytes": 500.0, "txt2vid_words_bytes": 100.0, "txt2vid_reference_bytes": 2900,
           "h264_bytes": int(h264) - 10000, "aac_bytes": 10000, "wav2vid_symbols_on_air": 90000,
           "syncsc_symbols_on_air": 40000, "kb_bytes": 150000}
    return {**row, **extra}


def _curve_row(system: str, snr: float, clip: str = "a", **values) -> dict:
    return {"method": "txt2vid" if system == "txt2vid" else "wav2vid_call", "clip": clip, "status": "ok", "seed": 0,
            "config": "{}", "error": None, "table": "curve", "system": system, "snr": snr, "modulation": "16qam",
            "ldpc_rate": 0.5, "audio_kbps": 8.0, **values}


def test_table2_gives_the_reduction_per_clip_and_pooled_over_bytes():
    rows = [_table_row("a.mp4", 100_000.0, 10_000.0), _table_row("b.mp4", 300_000.0, 90_000.0),
            {**_table_row("c.mp4", 1.0, 1.0), "status": "error"}]
    md, pooled = table2(rows)
    assert reduction(10_000.0, 100_000.0) == pytest.approx(90.0)
    assert pooled["clips"] == 2 and pooled["reduction_pct"] == pytest.approx(75.0)  # 1 − 100k / 400k
    assert pooled["mean_clip_reduction_pct"] == pytest.approx(80.0)  # (90 + 70) / 2
    assert "90.0 % less" in md and "70.0 % less" in md and "75.0 % less" in md and "c.mp4" not in md
    assert "0.9500 (30 clip frames)" in md and "0.9510" in md
    more, _ = table2([_table_row("a.mp4", 1000.0, 1500.0)])
    assert "50.0 % more" in more


def test_curves_average_clips_and_mark_a_floored_pesq():
    rows = [_curve_row("wav2vid_opus", 0.0, "a", pesq_wb=1.0, pesq_floor=True, ssim=0.5),
            _curve_row("wav2vid_opus", 0.0, "b", pesq_wb=2.0, pesq_floor=False, ssim=0.7),
            _curve_row("wav2vid_asc", 0.0, "a", pesq_wb=1.8, ssim=None),
            _curve_row("txt2vid", 0.0, "a", pesq_wb=1.1, ssim=0.6)]
    c = curves(rows, "pesq_wb")
    assert list(c) == ["Wav2Vid, Opus 8 kbps + 16qam LDPC 0.5", "Wav2Vid, ASC (analog)",
                       "Txt2Vid-like (words at 16qam LDPC 0.5)"]
    assert c["Wav2Vid, Opus 8 kbps + 16qam LDPC 0.5"][0.0] == (1.5, True)
    assert "Wav2Vid, ASC (analog)" not in curves(rows, "ssim")  # a missing value is a gap, not a zero
    tables = curve_tables(rows)
    pesq = next(v for k, v in tables.items() if k.startswith("Fig. 5"))
    assert "| Wav2Vid, Opus 8 kbps + 16qam LDPC 0.5 | 1.50* |" in pesq and "| Wav2Vid, ASC (analog) | 1.80 |" in pesq


def test_write_all_writes_every_file_with_table2_the_curves_and_the_notes(tmp_path):
    rows = [_table_row("a.mp4", 100_000.0, 10_000.0),
            _curve_row("wav2vid_opus", 0.0, pesq_wb=1.0, pesq_floor=True, ssim=0.5, psnr=20.0, wer=1.0),
            _curve_row("wav2vid_opus", 20.0, pesq_wb=2.4, pesq_floor=False, ssim=0.8, psnr=25.0, wer=0.1),
            _curve_row("txt2vid", 20.0, pesq_wb=1.1, ssim=0.6, psnr=22.0, wer=0.2),
            {**_curve_row("wav2vid_asc", 0.0), "status": "error", "error": "boom"}]
    paths = write_all(rows, tmp_path, "Clips: a.mp4.")
    assert json.loads(paths["json"].read_text())[0]["wav2vid_bytes"] == 10_000.0
    md = paths["md"].read_text()
    assert "4 cells ok, 1 failed" in md and "Clips: a.mp4." in md and "failed: wav2vid_call a" in md
    assert "pooled over 1 clips: 90.0 % less data" in md and "## Table II" in md
    assert "FID is not reported" in md and "1.00*" in md
    assert (tmp_path / "figures" / "quality_vs_snr.png").is_file()
    assert (tmp_path / "figures" / "table2_bytes.png").is_file()
    assert "data:image/png;base64" in paths["html"].read_text()


def test_cli_bench_wav2vid_names_the_missing_clips(tmp_path, capsys):
    rc = main(["bench", "--suite", "wav2vid", "--data", str(tmp_path / "nodata"), "--out", str(tmp_path / "out"),
               "--workers", "0", "--quick"])
    assert rc == 2
    assert "benchmark clips not found" in capsys.readouterr().err

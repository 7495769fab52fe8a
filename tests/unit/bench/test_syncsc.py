"""The suite end to end: the CLI's syncsc entry, and run_suite on one real clip with a tiny grid (every cell kind)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from semtalk.bench.runner import BenchOptions
from semtalk.bench.syncsc import Grid, run_suite
from semtalk.cli import main

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"
CLIP = "grid_bbaf2n.mpg"


def test_cli_bench_syncsc_names_the_missing_clips(tmp_path, capsys):
    rc = main(["bench", "--suite", "syncsc", "--data", str(tmp_path / "nodata"), "--out", str(tmp_path / "out"),
               "--workers", "0", "--quick"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "benchmark clips not found" in err and "hdtf_WDA_KatieHill_000.mp4" in err


@pytest.mark.slow
def test_run_suite_on_one_real_clip_fills_every_table(tmp_path):
    if not (SHARED / "faces_av" / CLIP).is_file():
        pytest.skip(f"real data not available ({SHARED})")
    grid = Grid(clips=(CLIP,), codecs=("x264",), rates_kbps=(20.0,), loss_clips=(CLIP,), losses=(0.0, 0.5),
                bursts=(1.0,), loss_codecs=("x264",), code_rates=(0.5,), semtalk_fecs=(("rs", 0.5),),
                text_losses=(0.8,), speech=False, vmaf=False, complexity=False)
    rows = run_suite(SHARED, tmp_path, BenchOptions(workers=0), grid=grid, progress=False)
    assert [r["error"] for r in rows if r["status"] != "ok"] == []
    codec = next(r for r in rows if r["method"] == "codec_video" and r["table"] == "rate_quality")
    assert codec["kbps"] <= 1.05 * 20.0 or codec["floor"]
    assert abs(codec["psnr"] - codec["ffmpeg_psnr"]) < 0.1  # the acceptance cross-check
    assert abs(codec["ssim_block"] - codec["ffmpeg_ssim"]) < 0.01
    loss = [r for r in rows if r["table"] == "loss"]
    assert {(r["method"], r["loss"]) for r in loss} == {(m, p) for m in ("semtalk_loss", "codec_video")
                                                         for p in (0.0, 0.5)}
    for method in ("semtalk_loss", "codec_video"):
        clean, lossy = (next(r for r in loss if r["method"] == method and r["loss"] == p) for p in (0.0, 0.5))
        assert clean["packet_loss"] == 0.0 and lossy["packet_loss"] > 0.2
        assert 0.0 < lossy["ssim"] <= clean["ssim"] <= 1.0
    rates = {r["codec"]: r["text_bps"] for r in rows if r["method"] == "text_rate"}
    assert set(rates) == {"utf8", "5bit", "huffman", "brotli"} and rates["5bit"] < rates["utf8"]
    text = {r["conceal"]: r for r in rows if r["method"] == "text_loss"}
    assert text[True]["concealed_words"] > 0 and text[False]["concealed_words"] == 0
    md = (tmp_path / "results.md").read_text()
    assert "| x264 + RS 0.5 @ 20 kbps | Bernoulli |" in md and "| semtalk + RS 0.5 | Bernoulli |" in md
    assert json.loads((tmp_path / "results.json").read_text())[0]["clip"] == CLIP

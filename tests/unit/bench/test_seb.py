"""The Seb suite's derived figures (Fig. 4 selection, Fig. 5 split, gain over JPEG 2000) on hand-made rows."""

from __future__ import annotations

import math

import pytest

from semtalk.bench.seb import SebGrid, rgb_psnr
from semtalk.bench.seb_report import CBR, SNRS, fig4, fig5, gain_over, ideal_bpp, markdown
from semtalk.phy.theory import capacity_snr_threshold_db


def _row(codec, quality, bpp, psnr, clip="hdtf_a.mp4", **extra):
    return {"status": "ok", "method": "seb_rd", "clip": clip, "codec": codec, "quality": quality,
            "dataset": clip.split("_")[0], "bpp": bpp, "psnr": psnr, "ms_ssim": psnr / 40, "pixels": 1000, **extra}


@pytest.mark.parametrize("snr", [-2.0, 0.0, 5.0, 20.0])
def test_ideal_bpp_inverts_the_capacity_threshold(snr):
    assert capacity_snr_threshold_db(ideal_bpp(snr), CBR) == pytest.approx(snr)


def test_ideal_bpp_hand_computed():
    assert ideal_bpp(0.0) == pytest.approx(0.1)  # 3 · 1/30 · log2(2)
    assert ideal_bpp(10 * math.log10(3)) == pytest.approx(0.2)


def test_fig4_takes_each_clips_best_coding_within_the_budget():
    rows = [_row("jpeg2000", 10, 0.05, 25.0), _row("jpeg2000", 20, 0.15, 28.0), _row("jpeg2000", 30, 0.5, 33.0),
            _row("seb-low", 60, 0.09, 27.0), _row("seb", 60, 0.19, 30.0)]
    f = fig4(rows)
    assert f["jpeg2000"][0.0][0] == 25.0  # budget 0.1 bpp
    assert f["seb"][0.0][0] == 27.0  # every λ is one scheme: seb-low fits
    assert f["seb"][5.0][0] == 30.0  # budget 0.206
    assert f["seb"][-2.0] is None and f["jpeg2000"][-2.0][0] == 25.0  # 0.071 bpp: only J2K's 0.05 fits
    assert f["jpeg2000"][20.0][0] == 33.0
    assert set(f["jpeg2000"]) == set(SNRS)


def test_fig5_splits_cbr_by_part_for_the_best_coding_that_fits():
    bits = {"bits_sebs": 100.0, "bits_usage": 50.0, "bits_residual": 50.0}
    rows = [_row("seb", 60, 0.2, 30.0, **bits), _row("seb", 90, 0.5, 33.0, **bits),  # 0.5 bpp: over 0.206
            _row("seb-high", 60, 0.4, 31.0, **bits)]
    f = fig5(rows)
    cap = math.log2(1 + 10 ** 0.5)
    assert f["seb"]["sebs"] == pytest.approx(100 / (cap * 3 * 1000))
    assert sum(f["seb"][p] for p in ("sebs", "usage", "residual")) == pytest.approx(200 / (cap * 3 * 1000))
    assert f["seb"]["psnr"] == 30.0 and "seb-high" not in f  # nothing of seb-high fits


def test_gain_over_jpeg2000_at_equal_bpp():
    rows = [_row("jpeg2000", q, b, p) for q, b, p in ((10, 0.1, 26.0), (20, 0.4, 30.0), (30, 1.6, 34.0))]
    rows += [_row("seb", 60, 0.2, 29.0)]  # log-interpolated J2K at 0.2 bpp: 26 + 4·(log 2 / log 4) = 28
    assert gain_over(rows)["hdtf"] == pytest.approx(1.0)
    assert "| hdtf | 1.00 |" in markdown(rows)


def test_rgb_psnr_and_the_quick_grid():
    import numpy as np

    a = np.zeros((4, 4, 3), np.uint8)
    b = a.copy()
    b[0, 0, 0] = 255  # MSE = 255² / 48
    assert rgb_psnr(a, b) == pytest.approx(10 * math.log10(48))
    assert rgb_psnr(a, a) == 100.0
    quick = SebGrid.quick()
    assert len(quick.clips) == 2 and all(t.method == "seb_rd" for t in quick.tasks())

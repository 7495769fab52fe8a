"""The M3E suite's fill cells (issue 22, item 5): hold, cross-fade and eq.-10 flow between keyframes, on synthetic
pictures the tests make (no data needed)."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk import registry
from semtalk.bench import m3e_fill
from semtalk.bench.crops import FaceCrops
from semtalk.bench.m3e import M3eGrid
from semtalk.bench.m3e_fill import FILLS, crossfade, fill_of, hold, reconstruct, score, select_keyframes
from semtalk.bench.m3e_report import fill_table, write_all
from semtalk.bench.runner import BenchEnv, Task
from semtalk.modes.m3e.config import M3eConfig


def _texture(size: int, seed: int) -> np.ndarray:
    import cv2

    noise = np.random.default_rng(seed).integers(0, 256, (size + 80, size + 80, 3)).astype(np.uint8)
    return (cv2.GaussianBlur(noise, (0, 0), 2.5).astype(np.float32) - 127.5) * 4  # about ±60 around 0


def _moving(texture: np.ndarray, dx: int, size: int) -> np.ndarray:
    """The texture moved ``dx`` px to the right (a camera pan)."""
    return np.clip(128 + texture[40:40 + size, 40 - dx:40 - dx + size], 0, 255).astype(np.uint8)


def _pan(frames: int, step: int = 2, size: int = 96, seed: int = 4) -> np.ndarray:
    texture = _texture(size, seed)
    return np.stack([_moving(texture, step * t, size) for t in range(frames)])


def test_on_a_pan_flow_beats_cross_fade_and_hold_between_the_keyframes():
    frames = _pan(9)  # keyframes 0 and 8, 16 px apart; frames 1..7 between
    pictures = {0: frames[0], 8: frames[8]}
    got = {name: score(frames, reconstruct(9, pictures, fill_of(name)), [0, 8]) for name in ("hold", "crossfade",
                                                                                              "flow")}
    assert all(g["frames_between"] == 7 and g["frames"] == 9 for g in got.values())
    assert got["flow"]["psnr_between"] > got["crossfade"]["psnr_between"] + 2
    assert got["flow"]["psnr_between"] > got["hold"]["psnr_between"] + 2
    assert got["flow"]["ssim_between"] > max(got["crossfade"]["ssim_between"], got["hold"]["ssim_between"]) + 0.2
    assert got["flow"]["psnr"] > got["flow"]["psnr_between"]  # the keyframes themselves are exact here


def test_hold_takes_the_nearer_keyframe_and_cross_fade_mixes_by_time():
    a, b = np.zeros((4, 4, 3), np.uint8), np.full((4, 4, 3), 200, np.uint8)
    assert hold(a, b, 0.25) is a and hold(a, b, 0.5) is a and hold(a, b, 0.75) is b
    assert np.all(crossfade(a, b, 0.25) == 50) and np.all(crossfade(a, b, 1.0) == 200)


def test_reconstruct_fills_strictly_between_and_holds_the_last_keyframe():
    pictures = {i: np.full((2, 2, 3), i, np.uint8) for i in (0, 4, 6)}
    calls = []

    def fill(a, b, alpha, key):
        calls.append((int(a[0, 0, 0]), int(b[0, 0, 0]), alpha, key))
        return np.full((2, 2, 3), 99, np.uint8)

    shown = reconstruct(9, pictures, fill)
    assert [int(s[0, 0, 0]) for s in shown] == [0, 99, 99, 99, 4, 99, 6, 6, 6]
    assert calls == [(0, 4, 0.25, (0, 4)), (0, 4, 0.5, (0, 4)), (0, 4, 0.75, (0, 4)), (4, 6, 0.5, (4, 6))]
    with pytest.raises(ValueError, match="at least one keyframe"):
        reconstruct(3, {}, fill)
    with pytest.raises(ValueError, match="unknown fill 'morph'"):
        fill_of("morph")


def test_the_scores_skip_the_range_the_call_does_not_score():
    frames = _pan(6)
    shown = list(frames)
    shown[1] = np.zeros_like(frames[1])  # frame 1 is bad, but before ``start``
    q = score(frames, shown, [0, 5], start=2)
    assert q["frames"] == 4 and q["frames_between"] == 3 and q["psnr"] == 100.0 and q["ssim"] == pytest.approx(1.0)


def test_the_cell_codes_the_mode_keyframes_and_scores_a_synthetic_clip(tmp_path, monkeypatch):
    frames = np.concatenate([_pan(8, step=1), _pan(8, step=1, seed=9)])  # a cut at frame 8
    crops = FaceCrops(frames, 1)
    monkeypatch.setattr(m3e_fill, "m3e_crops", lambda env, clip: crops)
    env = BenchEnv(str(tmp_path / "data"), str(tmp_path / "work"))
    c = M3eConfig()
    rows = {f: m3e_fill.m3e_fill_method(Task.make("m3e_fill", "synthetic.mp4", 0, fill=f, tau=c.keyframe_threshold,
                                                  codec=c.keyframe_codec, bpp=c.keyframe_bpp), env)
            for f in ("hold", "flow")}
    keys = select_keyframes(frames, c.keyframe_threshold)
    assert 0 in keys and 8 in keys
    for f, row in rows.items():
        assert row["table"] == "fill" and row["system"] == f and row["keyframes"] == len(keys)
        assert row["frames"] == 15 and row["extra_kbps"] == 0.0
        assert 0 < row["keyframe_kbps"] <= c.keyframe_bpp * 96 * 96 * len(keys) / (16 / 25) / 1000
    assert rows["flow"]["psnr_between"] > rows["hold"]["psnr_between"]


def test_the_grid_runs_every_fill_per_clip_at_the_mode_defaults():
    c = M3eConfig()
    for grid, clips in ((M3eGrid.full(), 3), (M3eGrid.quick(), 1)):
        tasks = grid.fills(seed=1)
        assert len(tasks) == clips * len(FILLS) and {t.params["fill"] for t in tasks} == set(FILLS)
        assert {(t.params["tau"], t.params["codec"], t.params["bpp"]) for t in tasks} == {
            (c.keyframe_threshold, c.keyframe_codec, c.keyframe_bpp)}
        assert all(registry.get("bench_method", t.method) for t in tasks)


def test_the_report_has_a_fill_table_per_clip_and_a_mean(tmp_path):
    rows = [{"status": "ok", "table": "fill", "method": "m3e_fill", "clip": f"hdtf_{i}.mp4", "system": f,
             "psnr_between": 20.0 + j + i, "ssim_between": 0.7, "psnr": 25.0, "ssim": 0.8, "keyframes": 29,
             "gop_frames_mean": 6.9, "keyframe_kbps": 116.5, "extra_kbps": 1.6 if f == "face" else 0.0}
            for i in range(2) for j, f in enumerate(FILLS)]
    table = fill_table(rows)
    assert table.count("\n| hdtf_") == 8 and "| mean | flow | 22.50 |" in table and "| mean | face | 23.50 |" in table
    assert table.index("| hdtf_0 | hold |") < table.index("| hdtf_0 | face |") < table.index("| hdtf_1 | hold |")
    assert fill_table([{**rows[0], "status": "error"}]) == ""
    md = write_all(rows, tmp_path)["md"].read_text()
    assert "## Between keyframes" in md and "| hdtf_1 | face | 24.00 |" in md


def test_face_guidance_draws_a_mouth_that_opens_between_two_shut_keyframes():
    from semtalk.bench.m3e_fill import FaceFill, coefficient_stream
    from tests.unit.generators.test_talking_head import mouth_kb
    from tests.unit.kb.kb_fixtures import SIZE, face_image

    kb = mouth_kb()
    base = kb.quantizer.dequantize(kb.reference.codes).astype(np.float64)
    codes = []
    for jaw in (0.0, 0.2, 0.45, 0.7, 0.75, 0.7, 0.45, 0.2, 0.0):  # shut at both keyframes, open between
        c = base.copy()
        c[0] = jaw
        codes.append(kb.quantizer.quantize(c))
    codes = np.stack(codes)
    frames = np.stack([face_image(kb.face_model.decode(kb.quantizer.dequantize(c)) * SIZE) for c in codes])
    received, kbps = coefficient_stream(kb, kb.to_bytes(), codes, 25.0)
    assert received.shape == codes.shape and 0 < kbps < 4  # SyncSC's default target is 1.6 kbps
    assert np.abs(received.astype(int) - codes).max() <= 8  # the rate controller's coarser grid, not garbage
    pictures = {0: frames[0], 8: frames[8]}
    face = score(frames, reconstruct(9, pictures, FaceFill(kb, received)), [0, 8])
    for name in ("hold", "crossfade", "flow"):
        other = score(frames, reconstruct(9, pictures, fill_of(name)), [0, 8])
        assert face["psnr_between"] > other["psnr_between"] + 3, name

"""A local Dask cluster (2 worker processes) and a serial run give identical rows: fakes and a real codec cell."""

from __future__ import annotations

import shutil

import numpy as np
from bench_fakes import fake_method

from semtalk.bench import report
from semtalk.bench.crops import FaceCrops
from semtalk.bench.runner import BenchEnv, DaskExecutor, SerialExecutor, Task, local_client, run
from semtalk.bench.syncsc import crops_path

CLIP = "synthetic.mp4"


def _synthetic_crops(env: BenchEnv) -> None:
    """A 64×64 moving gradient with a blob: 30 frames, the first 10 'enrollment'."""
    yy, xx = np.mgrid[0:64, 0:64]
    frames = []
    for t in range(30):
        blob = 120 * np.exp(-(((xx - 20 - t) ** 2 + (yy - 32) ** 2) / 60.0))
        base = np.stack([xx * 3, yy * 3, (xx + yy + 5 * t) % 256], axis=-1) + blob[..., None]
        frames.append(np.clip(base, 0, 255).astype(np.uint8))
    path = crops_path(env, CLIP)
    path.parent.mkdir(parents=True)
    FaceCrops(np.stack(frames), 10).save(path)


def _tasks() -> list[Task]:
    fakes = [Task.make("fake", f"clip{i}.mp4", 5, table="loss", loss=p, burst=1.0)
             for i in range(3) for p in (0.0, 0.3)]
    codec = [Task.make("codec_video", CLIP, 5, table="rate_quality", codec="x264", target_kbps=kbps, loss=0.0,
                       burst=1.0, code_rate=1.0, score_vmaf=False) for kbps in (20.0, 60.0)]
    return fakes + codec


def _comparable(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in report.normalise(r).items() if k not in report.TIMING} for r in rows]


def test_dask_and_serial_give_identical_rows(tmp_path):
    env = BenchEnv(str(tmp_path / "data"), str(tmp_path / "work"))
    _synthetic_crops(env)
    serial = run(_tasks(), env, SerialExecutor(), progress=False, methods={"fake": fake_method})
    assert all(r["status"] == "ok" for r in serial), [r["error"] for r in serial]
    codec_rows = [r for r in serial if r["method"] == "codec_video"]
    assert all(r["kbps"] <= 1.05 * r["target_kbps"] or r["floor"] for r in codec_rows)
    assert all(0.0 < r["ssim"] <= 1.0 for r in codec_rows)
    shutil.rmtree(env.clip_dir(CLIP) / "encoded")  # the cluster must encode afresh, not read the serial run's cache
    client = local_client(2)
    try:
        assert len(client.scheduler_info()["workers"]) == 2
        dask = run(_tasks(), env, DaskExecutor(client), progress=False, methods={"fake": fake_method})
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()
    assert _comparable(dask) == _comparable(serial)

"""The task runner: stable keys, the JSONL cache skips finished cells, failures are reported, not cached; a local
Dask cluster (2 worker processes) and a serial run give identical rows: fakes and a real codec cell."""

from __future__ import annotations

import shutil

import numpy as np

from semtalk.bench import report
from semtalk.bench.clips import crops_path
from semtalk.bench.crops import FaceCrops
from semtalk.bench.runner import CACHE_NAME, BenchEnv, DaskExecutor, SerialExecutor, Task, local_client, run
from tests.unit.bench.bench_fakes import calls, fake_method


def _tasks(fail: bool = False) -> list[Task]:
    tasks = [Task.make("fake", "a.mp4", 3, table="loss", loss=p, burst=1.0) for p in (0.0, 0.2, 0.4)]
    if fail:
        tasks.append(Task.make("fake", "a.mp4", 3, table="loss", loss=0.9, fail=True))
    return tasks


def test_task_key_is_stable_and_sensitive():
    a = Task.make("fake", "a.mp4", 0, loss=0.1, burst=1.0)
    b = Task.make("fake", "a.mp4", 0, burst=1.0, loss=0.1)
    assert a == b and a.key("v1") == b.key("v1")
    assert a.key("v1") != a.key("v2")
    assert a.key("v1") != Task.make("fake", "a.mp4", 1, loss=0.1, burst=1.0).key("v1")
    assert a.key("v1") != Task.make("fake", "a.mp4", 0, loss=0.2, burst=1.0).key("v1")


def test_rerun_skips_cached_cells_and_retries_failed_ones(tmp_path):
    env = BenchEnv(str(tmp_path / "data"), str(tmp_path / "work"))
    cache = tmp_path / CACHE_NAME
    first = run(_tasks(fail=True), env, SerialExecutor(), cache, progress=False, methods={"fake": fake_method})
    assert calls(env) == 4
    assert [r["status"] for r in first] == ["ok", "ok", "ok", "error"]
    assert "asked to fail" in first[-1]["error"]
    assert len(cache.read_text().splitlines()) == 3  # the failure is not cached
    second = run(_tasks(fail=True), env, SerialExecutor(), cache, progress=False, methods={"fake": fake_method})
    assert calls(env) == 5  # only the failed cell ran again
    assert second[:3] == first[:3]
    more = [*_tasks(), Task.make("fake", "a.mp4", 3, table="loss", loss=0.6, burst=1.0)]
    third = run(more, env, SerialExecutor(), cache, progress=False, methods={"fake": fake_method})
    assert calls(env) == 6 and third[:3] == first[:3]


def test_rows_carry_config_seed_and_code_version(tmp_path):
    env = BenchEnv(str(tmp_path), str(tmp_path / "work"))
    row = run(_tasks()[:1], env, SerialExecutor(), progress=False, methods={"fake": fake_method})[0]
    assert row["seed"] == 3 and row["loss"] == 0.0 and row["table"] == "loss"
    assert '"loss": 0.0' in row["config"]
    assert row["git_sha"] and row["code_version"].startswith("0.")
    same = run(_tasks()[:1], env, SerialExecutor(), progress=False, methods={"fake": fake_method})[0]
    assert {k: v for k, v in row.items() if k not in ("wall_s", "cpu_s")} == {
        k: v for k, v in same.items() if k not in ("wall_s", "cpu_s")}


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


def _mixed_tasks() -> list[Task]:
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
    serial = run(_mixed_tasks(), env, SerialExecutor(), progress=False, methods={"fake": fake_method})
    assert all(r["status"] == "ok" for r in serial), [r["error"] for r in serial]
    codec_rows = [r for r in serial if r["method"] == "codec_video"]
    assert all(r["kbps"] <= 1.05 * r["target_kbps"] or r["floor"] for r in codec_rows)
    assert all(0.0 < r["ssim"] <= 1.0 for r in codec_rows)
    shutil.rmtree(env.clip_dir(CLIP) / "encoded")  # the cluster must encode afresh, not read the serial run's cache
    client = local_client(2)
    try:
        assert len(client.scheduler_info()["workers"]) == 2
        dask = run(_mixed_tasks(), env, DaskExecutor(client), progress=False, methods={"fake": fake_method})
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()
    assert _comparable(dask) == _comparable(serial)

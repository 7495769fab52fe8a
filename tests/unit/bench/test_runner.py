"""The task runner: stable keys, the JSONL cache skips finished cells, failures are reported, not cached."""

from __future__ import annotations

from bench_fakes import calls, fake_method

from semtalk.bench.runner import CACHE_NAME, BenchEnv, SerialExecutor, Task, run


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

"""The benchmark harness: ``run(tasks, executor, cache)`` (house rule 8).

A task is one cell of a grid (clip × method × condition). A method is a plain function
``fn(task, env) -> dict`` registered by name under the registry kind ``"bench_method"``; the task
travels to a worker as data and the worker looks the function up, so nothing but names and numbers
is pickled. The executor is passed in: ``SerialExecutor`` runs in this process, ``DaskExecutor``
on a ``distributed`` cluster (local processes or an existing scheduler). Finished rows are appended
to a JSONL cache keyed by a hash of the task and the code version, so an interrupted or repeated
run skips what is done; a failed task is reported but not cached, so the next run retries it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import subprocess
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from semtalk import __version__

CACHE_NAME = "cache.jsonl"


@dataclass(frozen=True)
class BenchOptions:
    """What ``semtalk bench`` passes every suite (``bench_suite`` registry entries: ``run_suite(data, out,
    options)``). ``workers``/``scheduler``: the Dask executor of the suites that use one; ``cache``: where a
    suite keeps expensive intermediate results between runs."""

    quick: bool = False
    seed: int = 0
    workers: int = 2
    scheduler: str | None = None
    cache: Path | None = None


@dataclass(frozen=True)
class BenchEnv:
    """Where things are (not what is measured, so not part of a task's key): data and scratch folders."""

    data: str
    work: str

    @classmethod
    def of_suite(cls, data: str | Path, work: str | Path, clips: Iterable[str]) -> BenchEnv:
        """The clips in ``data``/faces_av and the scratch folder ``work``; a one-line error naming the clips that
        are missing, before any work."""
        from semtalk.errors import SemtalkError

        env = cls(str(Path(data) / "faces_av"), str(work))
        missing = [c for c in dict.fromkeys(clips) if not env.clip_path(c).is_file()]
        if missing:
            raise SemtalkError(f"benchmark clips not found in {env.data}: {', '.join(missing)} "
                               "(pass --data ../shared/data)")
        return env

    def clip_path(self, clip: str) -> Path:
        return Path(self.data) / clip

    def clip_dir(self, clip: str) -> Path:
        """Per-clip scratch folder shared by all tasks of that clip (KB, crops)."""
        return Path(self.work) / Path(clip).stem


@dataclass(frozen=True)
class Task:
    """One grid cell: a registered method run on one clip under one condition with one seed.

    ``condition`` is a sorted tuple of (name, value) pairs so a task is hashable and its key stable.
    """

    method: str
    clip: str
    condition: tuple[tuple[str, Any], ...] = ()
    seed: int = 0

    @classmethod
    def make(cls, method: str, clip: str, seed: int = 0, **condition: Any) -> Task:
        return cls(method, clip, tuple(sorted(condition.items())), seed)

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.condition)

    def key(self, version: str) -> str:
        """sha256 over the task and the code version: equal keys mean an equal (cached) row."""
        blob = json.dumps([self.method, self.clip, self.condition, self.seed, version], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:20]


Method = Callable[[Task, BenchEnv], dict]


@functools.lru_cache(maxsize=1)
def git_sha() -> str:
    """HEAD of the checkout this code runs from, or "unknown" outside git."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=10, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def code_version() -> str:
    """The package version and git SHA: a new commit invalidates every cached row."""
    return f"{__version__}+{git_sha()[:12]}"


def execute(task: Task, env: BenchEnv, version: str, method: Method | None = None) -> dict:
    """Run one task (on whatever process the executor chose) and wrap its result in a row.

    ``method`` None: the function registered as ``task.method`` under ``"bench_method"``.
    """
    from semtalk import registry

    _one_thread()
    start, cpu = time.perf_counter(), _cpu_seconds()
    row: dict[str, Any] = {"key": task.key(version), "method": task.method, "clip": task.clip, **task.params,
                           "seed": task.seed, "code_version": version, "git_sha": git_sha(),
                           "config": json.dumps(task.params, sort_keys=True)}
    try:
        fn: Method = method or registry.get("bench_method", task.method)
        row.update(fn(task, env))
        row["status"], row["error"] = "ok", None
    except Exception as exc:  # a benchmark reports a failed cell and goes on with the others
        row["status"], row["error"] = "error", f"{type(exc).__name__}: {exc}"
        row["traceback"] = traceback.format_exc(limit=6)
    row["wall_s"] = round(time.perf_counter() - start, 3)
    row["cpu_s"] = round(_cpu_seconds() - cpu, 3)
    return row


def _cpu_seconds() -> float:
    """CPU seconds of this process and its finished children (ffmpeg, probes): on a machine shared with
    other jobs, the cost of a cell that wall time overstates."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _one_thread() -> None:
    """Each worker uses one core: the cluster, not the libraries, supplies the parallelism."""
    import os

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


class Executor(Protocol):
    """Runs ``fn`` on every item and yields the results in completion order."""

    def map_unordered(self, fn: Callable[..., dict], items: list[tuple]) -> Iterator[dict]: ...


class SerialExecutor:
    """In this process, one task after another (``--workers 0``; what debuggers and tests like)."""

    def map_unordered(self, fn: Callable[..., dict], items: list[tuple]) -> Iterator[dict]:
        for args in items:
            yield fn(*args)


@dataclass
class DaskExecutor:
    """On a ``distributed`` cluster; ``client`` is passed in, so the caller owns its lifetime."""

    client: Any

    def map_unordered(self, fn: Callable[..., dict], items: list[tuple]) -> Iterator[dict]:
        from distributed import as_completed

        if not items:
            return
        futures = [self.client.submit(fn, *args, pure=False, key=f"bench-{args[0].key(args[2])}-{i}")
                   for i, args in enumerate(items)]
        for future in as_completed(futures):
            yield future.result()
            future.release()


# One core per worker (the cluster supplies the parallelism), and glibc keeping freed large buffers instead of
# unmapping them: the per-frame 256×256 float images otherwise cost a page fault per page, every frame.
WORKER_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}


def local_client(workers: int) -> Any:
    """A local cluster of single-threaded worker processes (the Python code holds the GIL)."""
    import os

    from distributed import Client, LocalCluster

    saved = {name: os.environ.get(name) for name in WORKER_ENV}
    os.environ.update({k: v for k, v in WORKER_ENV.items() if saved[k] is None})  # read at process start (glibc)
    try:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=40)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
    return Client(cluster)


@dataclass
class RowCache:
    """Append-only JSONL of finished rows; the last row of a key wins."""

    path: Path
    rows: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def open(cls, path: Path) -> RowCache:
        cache = cls(path)
        if path.is_file():
            for line in path.read_text().splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:  # a line cut short by an interrupted run
                    continue
                cache.rows[row["key"]] = row
        return cache

    def add(self, row: dict) -> None:
        self.rows[row["key"]] = row
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as f:
            f.write(json.dumps(row, sort_keys=True) + "\n")


def prepare_clips(tasks: Iterable[Task], env: BenchEnv, executor: Executor, progress: bool = True,
                  desc: str = "prepare") -> None:
    """Run a suite's per-clip preparation (KB, crops, ASR) uncached; one line naming every clip that failed."""
    from semtalk.errors import SemtalkError

    failed = [f"{r['clip']}: {r['error']}" for r in run(tasks, env, executor, progress=progress, desc=desc)
              if r["status"] != "ok"]
    if failed:
        raise SemtalkError("could not prepare clips: " + "; ".join(failed))


def run(tasks: Iterable[Task], env: BenchEnv, executor: Executor, cache: Path | None = None,
        progress: bool = True, desc: str = "bench", methods: Mapping[str, Method] | None = None) -> list[dict]:
    """Every task's row, in task order; tasks whose key is cached are not run again.

    Rows of failed tasks are returned (``status == "error"``) but not cached. ``methods`` overrides
    the registry for some names (functions must be importable by the workers, e.g. test fakes).
    """
    from tqdm import tqdm

    tasks = list(tasks)
    version = code_version()
    store = RowCache.open(cache) if cache else RowCache(Path(), {})
    methods = methods or {}
    todo = [(t, env, version, methods.get(t.method)) for t in tasks if t.key(version) not in store.rows]
    fresh: dict[str, dict] = {}
    bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc=desc, unit="task",
               disable=None if progress else True)
    for row in executor.map_unordered(execute, todo):
        fresh[row["key"]] = row
        if cache and row["status"] == "ok":
            store.add(row)
        bar.update(1)
    bar.close()
    return [fresh.get(k) or store.rows[k] for k in (t.key(version) for t in tasks)]


@contextlib.contextmanager
def open_executor(workers: int, scheduler: str | None = None) -> Iterator[Executor]:
    """``--scheduler ADDR``: that cluster; ``--workers 0``: serial; else a local cluster of ``workers`` processes."""
    if scheduler is None and workers == 0:
        yield SerialExecutor()
        return
    if scheduler is not None:
        from distributed import Client

        client = Client(scheduler)
    else:
        client = local_client(workers)
    try:
        yield DaskExecutor(client)
    finally:
        cluster = client.cluster
        client.close()
        if scheduler is None and cluster is not None:
            cluster.close()

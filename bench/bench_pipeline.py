"""End to end: ingest + run + export of a synthetic operation, per stage wall, CPU and busy cores, peak RSS.

An operation is synthesised (not timed); then, in a fresh process per executor so each one's CPU and memory are
its own, the stages run one after another:

- ingest: every exhibit recorded and kept in the vault, then all parsed together (``ingest_many``: units read in
  worker processes, one writer; the media already kept are hashed in the same pool when a worker would idle),
  then the operation's hash lists imported;
- each step of ``ringtrace run`` (``stages.run.STEPS``, in its order: parse of what is pending, hash,
  text+match+analyze (one step: text's OCR in the workers while match and analyze run in this process), notes,
  views), on the same kind of executor;
- export: the JSON export as `ringtrace export` writes it (and, apart, not in the total, with every message).

Each stage gets its own executor (made when the stage first maps work), closed at the stage's end, so the CPU
of its (reaped) worker processes is counted in that stage: busy cores = (user + system CPU of this process and
its workers) / wall. CPU seconds do not depend on how loaded the machine is; wall seconds and busy cores do.
Executors: ``local`` (a process pool of ``--workers``) and ``dask`` (a dask.distributed LocalCluster of
``--workers`` worker processes, one thread each). The exports of all executors must be identical (wall-clock keys
aside); the script says whether they are.

    python bench/bench_pipeline.py --scale small
    python bench/bench_pipeline.py --scale medium --executors local,dask --out bench/results/pipeline.md
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cases import cpu, exhibit_specs  # noqa: E402 - the folder of this script, not a package

VOLATILE = {"generated_at", "ingested_at"}


def _cpu() -> float:
    return sum(cpu())  # workers count once they are reaped (executor closed)


def _stable_digest(path: Path) -> str:
    """SHA-256 of an export file without its wall-clock lines (the export is written one key a line)."""
    volatile = re.compile(rb'^\s*"(' + b"|".join(k.encode() for k in sorted(VOLATILE)) + rb')":')
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for line in fh:
            if not volatile.match(line):
                h.update(line)
    return h.hexdigest()


class _OnFirstUse:
    """An executor made only when a stage first maps work over it: the steps of ``run`` that use none (match,
    analyze ...) start no pool and no cluster."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._ex: Any = None
        self.name = "bench"

    def _get(self) -> Any:
        if self._ex is None:
            self._ex = self._make()
        return self._ex

    @property
    def workers(self) -> int:
        return int(getattr(self._get(), "workers", 2))

    def map(self, fn: Callable[[Any], Any], items: Any, chunksize: int = 16) -> Iterator[Any]:
        return cast(Iterator[Any], self._get().map(fn, items, chunksize=chunksize))

    def start(self) -> None:
        self._get().start()

    def close(self) -> None:
        if self._ex is not None:
            self._ex.close()
            self._ex = None


@contextmanager
def _executor(kind: str, workers: int) -> Iterator[Any]:
    from ringtrace.compute import make_executor

    if kind == "local":
        ex = _OnFirstUse(lambda: make_executor(f"local:{workers}"))
        try:
            yield ex
        finally:
            ex.close()
        return
    from distributed import LocalCluster

    cluster_cls: Any = LocalCluster
    clusters: list[Any] = []

    def dask() -> Any:
        clusters.append(cluster_cls(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None))
        return make_executor(f"dask:{clusters[-1].scheduler_address}")

    ex = _OnFirstUse(dask)
    try:
        yield ex
    finally:
        ex.close()
        for c in clusters:
            c.close()


def one(op: Path, work: Path, kind: str, workers: int) -> dict[str, Any]:
    from ringtrace.case import Case
    from ringtrace.dissemination.export import write_export
    from ringtrace.matching.sets import import_hashset
    from ringtrace.stages import noop_progress
    from ringtrace.stages.intake import ingest_many
    from ringtrace.stages.run import STEPS, RunResult

    (work / kind).mkdir(parents=True, exist_ok=True)
    case = Case.init(work / kind / "case", actor="bench")
    manifest = json.loads((op / "operation.json").read_text(encoding="utf-8"))
    specs = exhibit_specs(op)
    stages: dict[str, dict[str, float]] = {}

    def timed(name: str, fn: Callable[[], object]) -> None:
        c0, w0 = _cpu(), time.perf_counter()
        fn()
        wall, cpu = time.perf_counter() - w0, _cpu() - c0
        stages[name] = {"wall_s": wall, "cpu_s": cpu, "busy_cores": cpu / wall if wall else 0.0,
                        "peak_rss_mb_so_far": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}

    def ingest() -> None:
        with _executor(kind, workers) as ex:
            ingest_many(case, specs, examiner="bench", executor=ex)
        for hl in manifest.get("hashlists", []):
            import_hashset(case, op / hl["path"], name=hl["name"], format=hl.get("format"))

    res = RunResult()

    def step(run: Callable[..., None]) -> Callable[[], None]:
        def go() -> None:
            with _executor(kind, workers) as ex:
                run(case, ex, noop_progress, res)
        return go

    timed("ingest", ingest)
    for st in STEPS:  # what `ringtrace run` does, in its order
        timed(st.name, step(st.run))
    timed("export", lambda: write_export(case, work / kind / "export-default.json"))  # `ringtrace export`
    rss_pipeline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # not in the total: the export with every message and event (`ringtrace export --with-messages`)
    timed("export --with-messages", lambda: write_export(case, work / kind / "export-full.json", with_messages=True))
    # the streamed export with messages, its wall-clock lines left out, is what the executors must agree on
    (work / kind / "export.json").write_text(_stable_digest(work / kind / "export-full.json"))
    case.close()
    run = tuple(st.name for st in STEPS)
    counted = ("ingest", *run, "export")
    total_wall = sum(stages[k]["wall_s"] for k in counted)
    total_cpu = sum(stages[k]["cpu_s"] for k in counted)
    run_wall = sum(stages[k]["wall_s"] for k in run)
    run_cpu = sum(stages[k]["cpu_s"] for k in run)
    return {"executor": kind, "workers": workers, "exhibits": len(specs), "stages": stages, "steps": list(run),
            "notes": {st.name: st.note for st in STEPS if st.note},
            "run": {"wall_s": run_wall, "cpu_s": run_cpu, "busy_cores": run_cpu / run_wall},
            "total": {"wall_s": total_wall, "cpu_s": total_cpu, "busy_cores": total_cpu / total_wall},
            "peak_rss_mb_main": rss_pipeline,
            "peak_rss_mb_largest_worker": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", default="small")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--executors", default="local", help="comma-separated: local, dask")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--op", type=Path, help="reuse an operation synthesised before (its folder)")
    ap.add_argument("--one", nargs=3, metavar=("OP", "WORK", "EXECUTOR"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(Path(a.one[0]), Path(a.one[1]), a.one[2], a.workers)))
        return
    from ringtrace.synth.operation import write_operation

    with tempfile.TemporaryDirectory(prefix="rt-bench-pipe-") as d:
        work = Path(d)
        synth_s = 0.0
        op = a.op
        if op is None:
            op = work / "op"
            t = time.perf_counter()
            write_operation(op, seed=a.seed, scale=a.scale)
            synth_s = time.perf_counter() - t
        rows = []
        kinds = [k.strip() for k in a.executors.split(",") if k.strip()]
        for kind in kinds:
            out = subprocess.run([sys.executable, __file__, "--workers", str(a.workers), "--one", str(op),
                                  str(work), kind], capture_output=True, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        exports = [(work / k / "export.json").read_text() for k in kinds]
        same = all(e == exports[0] for e in exports)
    lines = [f"### scale {a.scale}, seed {a.seed}, {rows[0]['exhibits']} exhibits, {a.workers} workers "
             f"({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end; synthesis "
             f"{synth_s:.0f} s, not counted)", "",
             "| executor | stage | wall | CPU (this process + workers) | busy cores |", "|---|---|---|---|---|"]
    for r in rows:
        for name, s in [*r["stages"].items(), ("run (" + "+".join(r["steps"]) + ")", r["run"]),
                        ("**ingest + run + export**", r["total"])]:
            lines.append(f"| {r['executor']} | {name} | {s['wall_s']:.1f} s | {s['cpu_s']:.1f} s | "
                         f"{s['busy_cores']:.2f} |")
    lines += [""] + [f"peak RSS ({r['executor']}): main process {r['peak_rss_mb_main']:.0f} MB through ingest + run + "
                     f"export (after each stage: " + ", ".join(f"{k} {v['peak_rss_mb_so_far']:.0f}"
                                                             for k, v in r["stages"].items())
                     + f" MB), largest worker {r['peak_rss_mb_largest_worker']:.0f} MB" for r in rows]
    notes = {k: v for r in rows for k, v in r.get("notes", {}).items()}
    lines += [""] + [f"{k}: {v}" for k, v in notes.items()]  # steps of `run` that are more than one stage
    lines += ["", f"exports identical across executors (wall-clock keys aside): {'yes' if same else 'NO'}", ""]
    text = "\n".join(lines)
    print(text)
    if a.out:
        with a.out.open("a", encoding="utf-8") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()

"""Busy cores of ``ringtrace run`` (user+sys CPU of the process and its workers / wall), parse before/after.

An operation is synthesised (not timed), its exhibits ingested with ``parse=False`` (timed apart), then ``run``
is timed in a fresh process per mode, so each mode's CPU and peak RSS are its own:

- ``before``: the run as it was, exhibit after exhibit parsed on one core, then hash on the local pool;
- ``after``: ``run`` with the local pool: every unit of every exhibit read in worker processes, written by one
  writer, then hash on the same pool.

Both modes must give the same export (checked here too, wall-clock keys aside).

    python bench/bench_pipeline.py --scale small
    python bench/bench_pipeline.py --scale medium --out bench/results/pipeline.md
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

VOLATILE = {"generated_at", "ingested_at"}


def _cpu() -> float:
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)  # workers count once they are reaped (pool shutdown)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def _strip(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _strip(x) for k, x in v.items() if k not in VOLATILE}
    if isinstance(v, list):
        return [_strip(x) for x in v]
    return v


def one(op: Path, work: Path, mode: str, workers: int) -> dict[str, Any]:
    from ringtrace.case import Case
    from ringtrace.compute import make_executor
    from ringtrace.dissemination.export import build_export
    from ringtrace.stages.analyze import analyze_stage
    from ringtrace.stages.hash import hash_stage
    from ringtrace.stages.intake import ingest
    from ringtrace.stages.match import match_stage
    from ringtrace.stages.parse import parse_source
    from ringtrace.stages.run import run

    (work / mode).mkdir(parents=True, exist_ok=True)
    case = Case.init(work / mode / "case", actor="bench")
    manifest = json.loads((op / "operation.json").read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    for ex in manifest["exhibits"]:
        ingest(case, op / ex["path"], exhibit=ex["exhibit"], timezone=ex.get("timezone", "UTC"),
               owner=ex.get("owner"), region=ex.get("region"), seizure_country=ex.get("seizure_country"),
               examiner="bench", parse=False)
    ingest_s = time.perf_counter() - t0
    stages: dict[str, float] = {}
    c0, w0 = _cpu(), time.perf_counter()
    ex = make_executor(f"local:{workers}")
    try:
        if mode == "before":
            from sqlalchemy import select

            from ringtrace.store import schema as S

            with case.engine.connect() as con:
                pending = [r[0] for r in con.execute(select(S.sources.c.id).order_by(S.sources.c.id))]
            t = time.perf_counter()
            for sid in pending:
                parse_source(case, sid)
            stages["parse"] = time.perf_counter() - t
            t = time.perf_counter()
            hash_stage(case, ex)
            stages["hash"] = time.perf_counter() - t
            t = time.perf_counter()
            match_stage(case)
            analyze_stage(case)
            stages["match+analyze"] = time.perf_counter() - t
        else:
            marks: dict[str, float] = {}

            def progress(stage: str, i: int, n: int) -> None:
                marks.setdefault(stage, time.perf_counter())

            run(case, executor=ex, progress=progress)
            order = [k for k in ("parse", "hash", "match", "analyze") if k in marks]
            stages["(stage starts, s after run start)"] = 0.0
            for k in order:
                stages[f"{k} starts at"] = marks[k] - w0
    finally:
        ex.close()
    wall, cpu = time.perf_counter() - w0, _cpu() - c0
    export = _strip(build_export(case, with_messages=True))
    case.close()
    (work / mode / "export.json").write_text(json.dumps(export, sort_keys=True, default=str))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"mode": mode, "ingest_s": ingest_s, "run_wall_s": wall, "run_cpu_s": cpu, "busy_cores": cpu / wall,
            "stages": stages, "peak_rss_mb_main": rss, "exhibits": len(manifest["exhibits"])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", default="small")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--one", nargs=3, metavar=("OP", "WORK", "MODE"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(Path(a.one[0]), Path(a.one[1]), a.one[2], a.workers)))
        return
    from ringtrace.synth.operation import write_operation

    with tempfile.TemporaryDirectory(prefix="rt-bench-pipe-") as d:
        work = Path(d)
        t = time.perf_counter()
        write_operation(work / "op", seed=a.seed, scale=a.scale)
        synth_s = time.perf_counter() - t
        rows = []
        for mode in ("before", "after"):
            out = subprocess.run([sys.executable, __file__, "--workers", str(a.workers), "--one", str(work / "op"),
                                  str(work), mode], capture_output=True, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        same = (work / "before" / "export.json").read_text() == (work / "after" / "export.json").read_text()
    lines = [f"## `ringtrace run`, scale {a.scale}, seed {a.seed}, {rows[0]['exhibits']} exhibits, "
             f"local pool of {a.workers} ({os.cpu_count()} CPUs; synthesis {synth_s:.0f} s, not counted)", "",
             "| mode | ingest (parse=False) | run wall | run CPU (user+sys, workers too) | busy cores | main RSS |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['mode']} | {r['ingest_s']:.1f} s | {r['run_wall_s']:.1f} s | {r['run_cpu_s']:.1f} s | "
                     f"**{r['busy_cores']:.2f}** | {r['peak_rss_mb_main']:.0f} MB |")
    lines += ["", "stages: " + "; ".join(f"{r['mode']}: " + ", ".join(f"{k} {v:.1f} s" for k, v in r["stages"].items()
                                                                   if not k.startswith("(")) for r in rows),
              "", f"exports identical (wall-clock keys aside): {'yes' if same else 'NO'}", ""]
    text = "\n".join(lines)
    print(text)
    if a.out:
        with a.out.open("a", encoding="utf-8") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()

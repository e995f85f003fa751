"""Ingest of many exhibits (``ingest_many``), this tree against an older commit of ringtrace, in the same run.

Each side runs in a fresh process (its own CPU and memory), the two alternating ``--rounds`` times, on the same
operation (folder of a synthesised operation, read only). Per side: wall, CPU seconds (this process and its reaped
worker processes, ``resource.getrusage``), busy cores (CPU / wall) and peak RSS. Then the two cases are compared
table by table (every row and id; wall-clock columns and the audit log aside) and by the parse seals recorded in
their audit logs, each after the hash stage has run on it (its CPU apart: a side that hashes while it ingests
leaves it less to do): the script says whether they are identical.

    python bench/bench_ingest.py --op /work/op-medium --old 7a65be9 --out bench/results/pipeline.md
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

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(HERE))
from cases import cpu, differing_tables, exhibit_specs  # noqa: E402 - the folder of this script, not a package


def one(op: Path, where: Path, workers: int) -> dict[str, Any]:
    from ringtrace.case import Case
    from ringtrace.compute import make_executor
    from ringtrace.stages.intake import ingest_many

    case = Case.init(where, actor="bench")
    specs = exhibit_specs(op)
    ex = make_executor(f"local:{workers}")
    (m0, c0), w0 = cpu(), time.perf_counter()
    try:
        ingest_many(case, specs, examiner="bench", executor=ex)
    finally:
        ex.close()
    wall, (m1, c1) = time.perf_counter() - w0, cpu()
    from ringtrace.stages.hash import hash_stage

    hx = make_executor(f"local:{workers}")
    h0 = sum(cpu())
    try:
        hashed_after = hash_stage(case, hx)  # what is left to `run`'s hash stage; then both sides' media compared
    finally:
        hx.close()
    hash_cpu = sum(cpu()) - h0
    case.close()
    main_s, workers_s = m1 - m0, c1 - c0
    return {"exhibits": len(specs), "wall_s": wall, "cpu_s": main_s + workers_s, "main_cpu_s": main_s,
            "workers_cpu_s": workers_s, "busy_cores": (main_s + workers_s) / wall, "hashed_after": hashed_after,
            "hash_after_cpu_s": hash_cpu,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "worker_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--op", type=Path, help="the operation folder (required)")
    ap.add_argument("--old", default="HEAD", help="the commit to compare with")
    ap.add_argument("--new-src", type=Path, default=SRC, help="the src folder of the new side (default: this tree)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--one", nargs=2, metavar=("OP", "WHERE"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(Path(a.one[0]), Path(a.one[1]), a.workers)))
        return
    if a.op is None:
        ap.error("--op is required")
    with tempfile.TemporaryDirectory(prefix="rt-bench-ingest-") as d:
        work = Path(d)
        old_src = work / "old"
        old_src.mkdir()
        archive = subprocess.run(["git", "-C", str(HERE.parent), "archive", a.old, "src"], capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old_src)], input=archive, check=True)
        sides = {"old": old_src / "src", "new": a.new_src}
        runs: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
        for r in range(a.rounds):
            for side, src in sides.items():
                where = work / f"{side}-{r}" / "case"
                env = {**os.environ, "PYTHONPATH": str(src)}
                out = subprocess.run([sys.executable, __file__, "--workers", str(a.workers), "--one", str(a.op),
                                      str(where)], capture_output=True, text=True, check=True, env=env)
                runs[side].append(json.loads(out.stdout.strip().splitlines()[-1]))
                print(side, json.dumps(runs[side][-1]), file=sys.stderr, flush=True)
        differ = differing_tables(work / "old-0" / "case", work / "new-0" / "case")
    rev = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--short", a.old], capture_output=True,
                         text=True).stdout.strip()
    lines = [f"#### ingest of {runs['new'][0]['exhibits']} exhibits (`ingest_many`, local pool of {a.workers}), "
             f"old = {rev} vs this tree, alternating, {a.rounds} round(s); load average {os.getloadavg()[0]:.1f} at "
             "the end", "",
             "| side | round | wall | CPU (process + workers) | of which main / workers | busy cores | "
             "peak RSS main / largest worker | then hash stage: hashed, CPU |",
             "|---|---|---|---|---|---|---|---|"]
    for side in ("old", "new"):
        for i, r in enumerate(runs[side]):
            lines.append(f"| {side} | {i + 1} | {r['wall_s']:.1f} s | {r['cpu_s']:.1f} s | {r['main_cpu_s']:.1f} / "
                         f"{r['workers_cpu_s']:.1f} s | {r['busy_cores']:.2f} | "
                         f"{r['rss_mb']:.0f} / {r['worker_rss_mb']:.0f} MB | {r['hashed_after']}, "
                         f"{r['hash_after_cpu_s']:.1f} s |")
    lines += ["", "cases identical (every table row by row, ids included; parse seals): "
              + ("yes" if not differ else "NO: " + ", ".join(differ)), ""]
    text = "\n".join(lines)
    print(text)
    if a.out:
        with a.out.open("a", encoding="utf-8") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()

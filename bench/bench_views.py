"""The views stage and the default export (no messages) on a copied case, CPU seconds (process + reaped children)
and wall, one side per process: ``python bench/bench_views.py CASE [--export OUT]``; run once with the code before
on PYTHONPATH and once with the code after, in the same hour, several rounds, best taken."""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path


def _cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("case", type=Path)
    ap.add_argument("--export", type=Path, help="also write the default export here, after the stage")
    a = ap.parse_args()
    from ringtrace.case import Case
    from ringtrace.dissemination.export import write_export
    from ringtrace.stages.views import views_stage

    case = Case.open(a.case)
    out: dict[str, object] = {}
    c0, w0 = _cpu(), time.perf_counter()
    detail = views_stage(case)
    out["views_cpu"], out["views_wall"] = round(_cpu() - c0, 2), round(time.perf_counter() - w0, 2)
    out["seconds"], out["stamped"] = detail["seconds"], detail["stamped"]
    if a.export:
        c0, w0 = _cpu(), time.perf_counter()
        write_export(case, a.export)
        out["export_cpu"], out["export_wall"] = round(_cpu() - c0, 2), round(time.perf_counter() - w0, 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

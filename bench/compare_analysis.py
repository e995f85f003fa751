"""Every analysis table of a case, as the code on PYTHONPATH and another copy of the code write them, compared.

    python bench/compare_analysis.py --dump CASE            # digests of CASE's analysis tables (JSON)
    python bench/compare_analysis.py --case CASE --old DIR  # analyze two copies of CASE (left untouched): one with
                                                            # the code in DIR (a src folder, e.g. `git archive main
                                                            # src`), one with this one; compare every table; CPU s
                                                            # and peak RSS of each analyze (a process of its own)

A table's digest is the SHA-256 of its rows, each as sorted-key JSON, sorted; the wall-clock column of the label
merges recorded in ``overrides`` is left out. The stage's audit entry is compared without its seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

TABLES = ("persons", "person_accounts", "groups", "group_chats", "memberships", "labels", "overrides")
VOLATILE = {"overrides": ("at",)}


def table_digests(case_path: Path) -> dict[str, Any]:
    """{table: [rows, sha256]} for every analysis table, and the last analyze audit entry less its seconds."""
    from sqlalchemy import select

    from ringtrace.case import Case
    from ringtrace.store import schema as S

    case = Case.open(case_path, actor="compare")
    out: dict[str, Any] = {}
    try:
        with case.engine.connect() as con:
            for name in TABLES:
                t = S.metadata.tables[name]
                cols = [c for c in t.c if c.name not in VOLATILE.get(name, ())]
                rows = sorted(json.dumps(dict(r._mapping), sort_keys=True, default=str)
                              for r in con.execute(select(*cols)))
                h = hashlib.sha256()
                for r in rows:
                    h.update(r.encode() + b"\n")
                out[name] = [len(rows), h.hexdigest()]
            last = con.execute(select(S.audit_log.c.detail).where(S.audit_log.c.action == "stage.analyze")
                               .order_by(S.audit_log.c.seq.desc()).limit(1)).scalar()
        entry = json.loads(last) if last else {}
        entry.pop("seconds", None)
        out["audit stage.analyze"] = hashlib.sha256(json.dumps(entry, sort_keys=True).encode()).hexdigest()
    finally:
        case.close()
    return out


def _analyze(src: Path, case: Path) -> dict[str, Any]:
    """Analyze ``case`` in a process of its own with the code in ``src``: its CPU s, peak RSS and digests."""
    code = ("import json, resource, sys; from pathlib import Path; from ringtrace.case import Case; "
            "from ringtrace.stages.analyze import analyze_stage; "
            "c = Case.open(Path(sys.argv[1]), actor='compare'); r0 = resource.getrusage(resource.RUSAGE_SELF); "
            "analyze_stage(c); c.close(); r = resource.getrusage(resource.RUSAGE_SELF); "
            "print(json.dumps({'cpu_s': round(r.ru_utime + r.ru_stime - r0.ru_utime - r0.ru_stime, 2), "
            "'peak_rss_mb': round(r.ru_maxrss / 1024, 1)}))")
    env = {**os.environ, "PYTHONPATH": str(src)}
    run = subprocess.run([sys.executable, "-c", code, str(case)], env=env, capture_output=True, text=True,
                         check=True)
    res: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    dump = subprocess.run([sys.executable, __file__, "--dump", str(case)], env=env, capture_output=True, text=True,
                          check=True)
    res["digests"] = json.loads(dump.stdout)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", type=Path)
    ap.add_argument("--case", type=Path)
    ap.add_argument("--old", type=Path, help="the src folder of the code to compare with")
    ap.add_argument("--rounds", type=int, default=1)
    a = ap.parse_args()
    if a.dump:
        print(json.dumps(table_digests(a.dump), sort_keys=True))
        return
    if not (a.case and a.old):
        ap.error("--dump CASE, or --case CASE --old SRC")
    new_src = Path(__file__).resolve().parents[1] / "src"
    with tempfile.TemporaryDirectory(dir=os.environ.get("COMPARE_TMP")) as d:
        runs: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
        for i in range(a.rounds):
            for name, src in (("old", a.old), ("new", new_src)):  # side by side, round after round
                copy = Path(d) / f"{name}{i}"
                shutil.copytree(a.case, copy)
                runs[name].append(_analyze(src, copy))
                shutil.rmtree(copy)
                print(name, {k: v for k, v in runs[name][-1].items() if k != "digests"}, flush=True)
        old, new = runs["old"][0]["digests"], runs["new"][0]["digests"]
        same = all(r["digests"] == old for rs in runs.values() for r in rs)
        for k in sorted(old):
            print(f"{k}: {'same' if old[k] == new.get(k) else 'DIFFERENT'} {old[k]}")
        print("identical:", same)
        for name, rs in runs.items():
            print(f"{name}: best CPU {min(r['cpu_s'] for r in rs)} s, peak RSS {max(r['peak_rss_mb'] for r in rs)} MB")
        sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()

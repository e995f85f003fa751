"""Web benchmark: server time of every page, search and graph.json on the medium synthetic operation.

    python bench/bench_web.py [--scale medium] [--seed 1] [--runs 20] [--build-only]

Builds the case once (``write_operation`` + ``ingest_operation`` + ``ringtrace.run``: minutes on medium) and caches
it under bench/out/web-<scale>-<seed>/; later runs reuse it. Each URL is fetched once to warm up (the export
document, the rankings and the names are computed per case version, then cached), then ``--runs`` times through
Starlette's TestClient, timing the server side of each request. Prints a Markdown table (copy into
bench/results/web.md); the timing is the whole request through the ASGI app, without network.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

HERE = Path(__file__).parent
PASSWORD = "bench horse battery staple"


def build(scale: str, seed: int) -> Path:
    import ringtrace
    from ringtrace.case import Case
    from ringtrace.demo import ingest_operation
    from ringtrace.synth.operation import write_operation

    root = HERE / "out" / f"web-{scale}-{seed}"
    case_dir, done = root / "case", root / "case.done"
    if done.exists():
        return case_dir
    op = root / "operation"
    t0 = time.perf_counter()
    if not (op / "operation.json").exists():
        write_operation(op, seed=seed, scale=scale)
        print(f"synth {scale}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    if case_dir.exists():
        import shutil

        shutil.rmtree(case_dir)  # a half-built case from an interrupted run
    case = Case.init(case_dir, name=f"Operation bench ({scale})", actor="bench")
    ingest_operation(case, op)
    print(f"ingest: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    ringtrace.run(case)
    case.close()
    print(f"run: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    done.write_text("ok\n")
    return case_dir


def urls(case_dir: Path) -> list[str]:
    """Every page of the navigation, one of each detail page (the busiest person and group), search and graph."""
    from sqlalchemy import func, select

    from ringtrace.case import Case
    from ringtrace.store import schema as S

    with Case.open(case_dir) as case, case.engine.connect() as con:
        person = con.execute(select(S.persons.c.label, func.count()).join(
            S.person_accounts, S.person_accounts.c.person_id == S.persons.c.id).group_by(S.persons.c.label)
            .order_by(func.count().desc()).limit(1)).first()
        group = con.execute(select(S.groups.c.label).order_by(S.groups.c.label)).scalar()
        phone = con.execute(select(S.accounts.c.value).where(S.accounts.c.kind == "phone").limit(1)).scalar()
        sha = con.execute(select(S.matches.c.media_sha256).order_by(S.matches.c.media_sha256).limit(1)).scalar()
    out = ["/cases", "/cases/1", "/cases/1/suspects", "/cases/1/suspects?sort=name&page=2", "/cases/1/persons",
           "/cases/1/persons?q=an&sort=-name", "/cases/1/groups", "/cases/1/leads", "/cases/1/series",
           "/cases/1/media", "/cases/1/media?matched=1&page=2", "/cases/1/timeline", "/cases/1/timeline?page=20",
           "/cases/1/timeline.json", "/cases/1/audit", "/cases/1/audit?web=1&page=3"]
    if person:
        out.append(f"/cases/1/persons/{person[0]}")
    if group:
        out += [f"/cases/1/groups/{group}", f"/cases/1/chats/{group}", f"/cases/1/chats/{group}?date=2025-06-01"]
    e164 = phone or "+34600000000"
    digits = e164[1:]
    spaced = "+" + " ".join(digits[i:i + 3] for i in range(0, len(digits), 3))
    for q in (e164, spaced, "00" + digits, sha or "0" * 64, "hello", "send the link"):
        out.append("/cases/1/search?q=" + quote(q))
    out += ["/cases/1/graph", "/cases/1/graph.json"]
    return out


def measure(case_dir: Path, runs: int) -> list[tuple[str, int, float, float, float]]:
    import tempfile

    from argon2 import PasswordHasher
    from fastapi.testclient import TestClient

    from ringtrace.web.app import create_app
    from ringtrace.web.settings import WebSettings

    home = Path(tempfile.mkdtemp(prefix="bench-web-"))
    app = create_app(WebSettings(home=home, secure_cookies=False),
                     hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    st = app.state.web
    st.store.add_user("sam", PASSWORD, "supervisor")
    st.store.grant("sam", case_dir, "bench")
    rows = []
    with TestClient(app) as c:
        tok = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
        assert tok
        r = c.post("/login", data={"username": "sam", "password": PASSWORD, "csrf": tok.group(1), "next": ""},
                   follow_redirects=False)
        assert r.status_code == 303, r.text
        for url in urls(case_dir):
            t0 = time.perf_counter()
            r = c.get(url)
            first = time.perf_counter() - t0
            if r.status_code == 404 and url.endswith(("/graph", "/graph.json")):
                continue  # the graph is not in this tree yet
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                r = c.get(url)
                times.append(time.perf_counter() - t0)
            times.sort()
            p95 = times[min(len(times) - 1, max(0, round(0.95 * len(times)) - 1))]
            rows.append((url, r.status_code, first * 1000, statistics.median(times) * 1000, p95 * 1000))
            print(f"{url}: {r.status_code} first {first * 1000:.0f} ms, p50 {rows[-1][3]:.0f}, p95 {p95 * 1000:.0f}",
                  file=sys.stderr)
    st.cases.close()
    st.store.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", default="medium")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--build-only", action="store_true")
    a = ap.parse_args()
    t0 = time.perf_counter()
    case_dir = build(a.scale, a.seed)
    if a.build_only:
        print(f"case ready at {case_dir} ({time.perf_counter() - t0:.0f} s)")
        return
    rows = measure(case_dir, a.runs)
    machine = f"{platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}"
    info: dict[str, Any] = {"machine": machine, "scale": a.scale, "runs": a.runs}
    print(f"Web pages, {info['scale']} operation (seed {a.seed}), {info['machine']}; {a.runs} timed runs after one"
          " warm-up, server time through TestClient\n")
    print("| page | status | first (ms) | p50 (ms) | p95 (ms) | p95 <= 300 ms |")
    print("|---|---|---:|---:|---:|---|")
    for url, status, first, p50, p95 in rows:
        print(f"| `{url}` | {status} | {first:.0f} | {p50:.0f} | {p95:.0f} | {'yes' if p95 <= 300 else 'NO'} |")


if __name__ == "__main__":
    main()

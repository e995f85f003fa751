"""Leads benchmark: pages/second from a WARC through ringtrace's capture reader + indicator extraction,
against a bare baseline (warcio iteration + one ``re.findall`` for chat.whatsapp.com / t.me links).

    python bench/bench_leads.py [--pages 10000] [--seed 1] [--rounds 3] [--before-src DIR]

``--before-src``: the ``src`` folder of older code (``git archive <commit> src | tar -x -C /tmp/old``), measured as a
third reader in the same rounds.

Writes nothing but a temporary WARC; prints a Markdown table (copy into bench/results/leads.md).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

import ringtrace
from ringtrace.model import Indicator, Page, ReadOptions
from ringtrace.sources.base import Unit
from ringtrace.sources.captures.warc import WarcFormat
from ringtrace.synth.formats.captures import make_pages, page_html

BARE = re.compile(rb"(?:chat\.whatsapp\.com/[A-Za-z0-9]{20,24}|t\.me/(?:\+|joinchat/)[A-Za-z0-9_-]{12,64})")


def write_warc(n: int, seed: int, path: Path) -> set[tuple[str, str]]:
    """Write the WARC; return (page uri, code) for every invite link on every page (WhatsApp + Telegram)."""
    pages = make_pages(n, seed, images=False, n_links=200)
    rng = random.Random(seed)
    with path.open("wb") as fh:
        w = WARCWriter(fh, gzip=True)
        for p in pages:
            body = page_html(p, [], rng).encode()
            hh = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            w.write_record(w.create_warc_record(p.uri, "response", payload=io.BytesIO(body), http_headers=hh))
    return {(p.uri, lk.code) for p in pages for lk in p.links if lk.kind in ("whatsapp", "telegram")}


def bare(path: Path) -> tuple[int, set[tuple[str, str]]]:
    n, found = 0, set()
    with path.open("rb") as fh:
        for rec in ArchiveIterator(fh):
            if rec.rec_type == "response":
                n += 1
                uri = rec.rec_headers.get_header("WARC-Target-URI")
                for m in BARE.findall(rec.content_stream().read()):
                    found.add((uri, m.decode().rsplit("/", 1)[-1].lstrip("+")))
    return n, found


def ours(path: Path) -> tuple[int, set[tuple[str, str]]]:
    n, found = 0, set()
    for r in WarcFormat().read(Unit(path.parent, path.name, "warc"), ReadOptions()):
        if isinstance(r, Page):
            n += 1
        elif isinstance(r, Indicator) and r.kind in ("whatsapp_invite", "telegram_invite") and r.code:
            found.add((r.page_uri or "", r.code))
    return n, found


def child(reader: str, warc: Path) -> None:
    """One timed read in this (fresh) process: caches start cold, as they do for a real run."""
    fn = bare if reader == "bare" else ours
    t0, c0 = time.perf_counter(), time.process_time()
    n, found = fn(warc)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    print(json.dumps({"cpu": cpu, "wall": wall, "pages": n, "found": sorted(found)}))


def run_child(reader: str, warc: Path, src: str | None) -> dict[str, Any]:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    out = subprocess.run(
        [sys.executable, __file__, "--child", reader, "--warc", str(warc)],
        env=env, check=True, capture_output=True, text=True,
    ).stdout
    res: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    res["found"] = {tuple(x) for x in res["found"]}
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--before-src", help="a src/ folder with the code to compare against (e.g. a git archive of an "
                    "older commit): run as a third reader, in the same rounds")
    ap.add_argument("--child", choices=("bare", "ours"), help=argparse.SUPPRESS)
    ap.add_argument("--warc", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, Path(args.warc))
        return
    own_src = str(Path(ringtrace.__file__).resolve().parent.parent)
    readers: list[tuple[str, str, str | None]] = [
        ("warcio + bare regex", "bare", own_src),
        ("ringtrace WARC + extraction", "ours", own_src),
    ]
    if args.before_src:
        readers.append(("ringtrace WARC + extraction, before", "ours", str(Path(args.before_src).resolve())))
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "bench.warc.gz"
        truth = write_warc(args.pages, args.seed, path)
        size = path.stat().st_size
        # every read in a fresh process (cold caches, as in a real run), the readers alternating round by round;
        # each one's best round by CPU time (user + system), which a shared machine disturbs less than the wall
        best: dict[str, dict[str, Any]] = {}
        for _ in range(args.rounds):
            for label, reader, src in readers:
                res = run_child(reader, path, src)
                if label not in best or res["cpu"] < best[label]["cpu"]:
                    best[label] = res
    n = best[readers[0][0]]["pages"]
    print(f"machine: {platform.machine()} {platform.python_version()}, WARC {size / 1e6:.1f} MB gzip, {n} pages, "
          f"best of {args.rounds} rounds, each read in a fresh process")
    print("| reader | CPU s | wall s | pages per CPU s | WA+TG link occurrences found (page, code) | false |")
    print("|---|---|---|---|---|---|")
    for label, _, _ in readers:
        r = best[label]
        hit, false = len(r["found"] & truth), len(r["found"] - truth)
        print(f"| {label} | {r['cpu']:.2f} | {r['wall']:.2f} | {r['pages'] / r['cpu']:,.0f} | {hit}/{len(truth)} | "
              f"{false} |")
    cb, co = best[readers[0][0]]["cpu"], best[readers[1][0]]["cpu"]
    print(f"ratio (ours / bare CPU time): {co / cb:.1f}x")
    if args.before_src:
        print(f"speed-up (before / ours CPU time): {best[readers[2][0]]['cpu'] / co:.2f}x")


if __name__ == "__main__":
    main()

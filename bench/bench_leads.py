"""Leads benchmark: pages/second from a WARC through ringtrace's capture reader + indicator extraction,
against a bare baseline (warcio iteration + one ``re.findall`` for chat.whatsapp.com / t.me links).

    python bench/bench_leads.py [--pages 10000] [--seed 1]

Writes nothing but a temporary WARC; prints a Markdown table (copy into bench/results/leads.md).
"""

from __future__ import annotations

import argparse
import io
import platform
import random
import re
import tempfile
import time
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "bench.warc.gz"
        truth = write_warc(args.pages, args.seed, path)
        size = path.stat().st_size
        # alternate the two readers; keep each one's best round by CPU time (user + system of this process),
        # which a shared machine disturbs less than the wall clock
        tb = to = cb = co = float("inf")
        for _ in range(args.rounds):
            t0, c0 = time.perf_counter(), time.process_time()
            nb, fb = bare(path)
            tb, cb = min(tb, time.perf_counter() - t0), min(cb, time.process_time() - c0)
            t0, c0 = time.perf_counter(), time.process_time()
            no, fo = ours(path)
            to, co = min(to, time.perf_counter() - t0), min(co, time.process_time() - c0)
    print(f"machine: {platform.machine()} {platform.python_version()}, WARC {size / 1e6:.1f} MB gzip, {nb} pages, "
          f"best of {args.rounds} rounds")
    print("| reader | CPU s | wall s | pages per CPU s | WA+TG link occurrences found (page, code) | false |")
    print("|---|---|---|---|---|---|")
    print(f"| warcio + bare regex | {cb:.2f} | {tb:.2f} | {nb / cb:,.0f} | {len(fb & truth)}/{len(truth)} | "
          f"{len(fb - truth)} |")
    hit, false = len(fo & truth), len(fo - truth)
    print(f"| ringtrace WARC + extraction | {co:.2f} | {to:.2f} | {no / co:,.0f} | {hit}/{len(truth)} | {false} |")
    print(f"ratio (ours / bare CPU time): {co / cb:.1f}x")


if __name__ == "__main__":
    main()

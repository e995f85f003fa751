"""Parse speed of the WhatsApp export format: lines per second over a generated export.

Usage: python bench/bench_whatsapp_export.py [lines] [--against REV]  (default 200000 lines). With ``--against``
the export reader of git revision REV is loaded beside the current one and both are run alternately on the
same files (the machine is shared: only ratios under the same load mean anything), and their record streams
are compared (they must be equal). Writes nothing but a temp dir.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib.util
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ringtrace.model import ReadOptions
from ringtrace.sources import base
from ringtrace.sources.base import Unit
from ringtrace.sources.whatsapp.export import WhatsAppExport

NAMES = ["Ana B", "\u202a+34 612 34 56 78\u202c", "Bo", "~\u202fCy", "Dee"]
MODULE = "src/ringtrace/sources/whatsapp/export.py"
OPTIONS = ReadOptions(timezone="Europe/Madrid")


def make(path: Path, n: int, ios: bool) -> None:
    rng = random.Random(1)
    lines = []
    day, minute = 1, 0
    for i in range(n):
        minute += rng.randint(0, 3)
        if minute >= 1440:
            minute, day = minute - 1440, day + 1
        d, m = (day - 1) % 28 + 1, ((day - 1) // 28) % 12 + 1
        h, mi = divmod(minute, 60)
        who = NAMES[i % len(NAMES)]
        if ios:
            ts = f"[{d:02d}/{m:02d}/2023, {h:02d}:{mi:02d}:{rng.randint(0, 59):02d}] "
        else:
            ts = f"{d:02d}/{m:02d}/2023, {h:02d}:{mi:02d} - "
        if i % 10 == 9:
            lines.append(f"a continuation line number {i}")
        else:
            lines.append(f"{ts}{who}: message number {i} with some ordinary text")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def load_old(rev: str) -> Any:
    """The export format class of revision ``rev``, imported under a private module name."""
    src = subprocess.run(["git", "show", f"{rev}:{MODULE}"], capture_output=True, text=True, check=True).stdout
    tmp = Path(tempfile.mkdtemp()) / "old_whatsapp_export.py"
    tmp.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("old_whatsapp_export", tmp)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["old_whatsapp_export"] = mod
    spec.loader.exec_module(mod)
    base._DECLARED.remove(mod.WhatsAppExport)  # a bench-only copy: not a format of this process
    return mod.WhatsAppExport()


def timed(fmt: Any, root: Path, name: str) -> tuple[float, Counter[str]]:
    """CPU seconds of one full read, records consumed as they come (as the ingest does: none kept alive, so the
    cyclic GC does not walk 180,000 of them over and over), and the record counts."""
    gc.collect()
    t0 = time.process_time()
    counts = Counter(type(r).__name__ for r in fmt.read(Unit(root, name, fmt.name), OPTIONS))
    return time.process_time() - t0, counts


def digest(fmt: Any, root: Path, name: str) -> str:
    """The record stream of one read, hashed (untimed): old and new must agree record for record."""
    h = hashlib.sha256()
    for r in fmt.read(Unit(root, name, fmt.name), OPTIONS):
        h.update(repr(r).encode())
    return h.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("lines", nargs="?", type=int, default=200_000)
    ap.add_argument("--against", help="git revision whose reader runs side by side")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    n = args.lines
    new = WhatsAppExport()
    old = load_old(args.against) if args.against else None
    for variant in ("android", "ios"):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            name = "WhatsApp Chat with Bench.txt"
            make(root / name, n, variant == "ios")
            for fmt in (new, old):  # warm-up: locale regexes compiled, layout regex cached
                if fmt is not None:
                    timed(fmt, root, name)
            if old is not None:
                assert digest(new, root, name) == digest(old, root, name), "record streams differ"
            for _ in range(args.rounds):
                dt, counts = timed(new, root, name)
                line = f"{variant}: new {n / dt:,.0f} lines/s ({dt:.2f} s CPU)"
                if old is not None:
                    dt_old, _ = timed(old, root, name)
                    line += f"; {args.against} {n / dt_old:,.0f} lines/s ({dt_old:.2f} s); ratio {dt_old / dt:.2f}x"
                print(line, flush=True)
            print(f"  {dict(counts)}")


if __name__ == "__main__":
    main()

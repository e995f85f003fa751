"""Parse speed of the WhatsApp export format: lines per second over a generated export.

Usage: python bench/whatsapp_export_bench.py [lines]  (default 300000). Writes nothing but a temp dir.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from ringtrace.model import ReadOptions
from ringtrace.sources.base import Unit
from ringtrace.sources.whatsapp.export import WhatsAppExport

NAMES = ["Ana B", "\u202a+34 612 34 56 78\u202c", "Bo", "~\u202fCy", "Dee"]


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


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    fmt = WhatsAppExport()
    for variant in ("android", "ios"):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            name = "WhatsApp Chat with Bench.txt"
            make(root / name, n, variant == "ios")
            t0 = time.process_time()
            counts = Counter(
                type(r).__name__ for r in fmt.read(Unit(root, name, fmt.name), ReadOptions(timezone="Europe/Madrid"))
            )
            dt = time.process_time() - t0
            print(f"{variant}: {n} lines in {dt:.2f} s CPU = {n / dt:,.0f} lines/s; {dict(counts)}")


if __name__ == "__main__":
    main()

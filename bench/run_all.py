"""Run every benchmark with its default (full) sizes, one after another, each in its own process.

`make bench` runs this; each script prints its own table side by side with its peer. Results are recorded by hand
in bench/RESULTS.md (with machine and date) and in detail in bench/results/<topic>.md. Pass --quick for a short
smoke run of all of them (smaller sizes; numbers are then not comparable to RESULTS.md).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FULL: list[list[str]] = [
    ["bench_digests.py"],
    ["bench_hashing.py"],
    ["bench_matching.py", "--sizes", "1000000"],
    ["bench_leads.py"],
    ["bench_msgstore.py"],
    ["bench_whatsapp_export.py", "200000"],
    ["bench_analysis.py"],
    ["bench_disk.py"],
    ["bench_ocr.py", "--pages", "3"],
    ["bench_scrub.py"],
]
QUICK: list[list[str]] = [
    ["bench_digests.py", "--mib", "64", "--files", "4"],
    ["bench_hashing.py", "--n", "4"],
    ["bench_matching.py", "--sizes", "100000", "--items", "2000", "--peer-items", "200", "--oracle-items", "100"],
    ["bench_leads.py", "--pages", "500"],
    ["bench_msgstore.py", "--messages", "50000"],
    ["bench_whatsapp_export.py", "20000"],
    ["bench_disk.py", "--files", "100", "--blob-kib", "64", "--runs", "1"],
    ["bench_analysis.py", "--base", "2000"],
    ["bench_ocr.py", "--pages", "1"],
    ["bench_scrub.py", "--persons", "300", "--texts", "5000"],
]


def main() -> int:
    runs = QUICK if "--quick" in sys.argv else FULL
    failed = 0
    for argv in runs:
        print(f"\n=== {' '.join(argv)}", flush=True)
        rc = subprocess.call([sys.executable, str(HERE / argv[0]), *argv[1:]])
        failed += rc != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

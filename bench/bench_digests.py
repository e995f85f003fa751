"""Digest throughput: ringtrace's one-pass MD5+SHA-1+SHA-256 reader vs md5sum, sha1sum, sha256sum run one
after another (three reads) on the same files.

    python bench/bench_digests.py [--mib 1024] [--files 8]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from ringtrace.media.digests import digest_file


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mib", type=int, default=1024, help="total size of generated files")
    ap.add_argument("--files", type=int, default=8)
    args = ap.parse_args()
    per = args.mib * 1024 * 1024 // args.files
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i in range(args.files):
            p = Path(tmp) / f"f{i}.bin"
            with open(p, "wb") as fh:
                left = per
                while left:
                    n = min(left, 16 << 20)
                    fh.write(os.urandom(n))
                    left -= n
            files.append(p)
        total = per * args.files
        for f in files:  # page cache warm for both sides
            f.read_bytes()
        t0 = time.perf_counter()
        ours = {f: digest_file(f) for f in files}
        t_ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        tools = {}
        for tool in ("md5sum", "sha1sum", "sha256sum"):
            out = subprocess.run([tool, *map(str, files)], capture_output=True, text=True, check=True).stdout
            tools[tool] = {Path(line.split(None, 1)[1].strip()): line.split()[0] for line in out.splitlines()}
        t_tools = time.perf_counter() - t0
        for f in files:
            _, md5, sha1, sha256 = ours[f]
            assert (md5, sha1, sha256) == (tools["md5sum"][f], tools["sha1sum"][f], tools["sha256sum"][f])
        gib = total / (1 << 30)
        print(f"{gib:.2f} GiB in {args.files} files (page cache warm)")
        print("| reader | seconds | GiB/s (file bytes) |")
        print("|---|---|---|")
        print(f"| ringtrace one-pass (md5+sha1+sha256) | {t_ours:.2f} | {gib / t_ours:.2f} |")
        print(f"| md5sum; sha1sum; sha256sum | {t_tools:.2f} | {gib / t_tools:.2f} |")
        print(f"ratio: {t_tools / t_ours:.2f}x")


if __name__ == "__main__":
    main()

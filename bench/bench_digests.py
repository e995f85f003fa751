"""Digest throughput: ringtrace's one-pass MD5+SHA-1+SHA-256 reader (one process, one core) against md5sum,
sha1sum and sha256sum on the same files, run one after another (three reads, one core) and IN PARALLEL (three
processes at once, up to three cores: on a 2-core machine they share two).

    python bench/bench_digests.py [--mib 1024] [--files 8] [--rounds 2]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

from ringtrace.media.digests import digest_file

TOOLS = ("md5sum", "sha1sum", "sha256sum")


def _parse(out: str) -> dict[Path, str]:
    return {Path(line.split(None, 1)[1].strip()): line.split()[0] for line in out.splitlines()}


def tools_sequential(files: list[Path]) -> dict[str, dict[Path, str]]:
    res = {}
    for tool in TOOLS:
        out = subprocess.run([tool, *map(str, files)], capture_output=True, text=True, check=True).stdout
        res[tool] = _parse(out)
    return res


def tools_parallel(files: list[Path]) -> dict[str, dict[Path, str]]:
    procs = {
        tool: subprocess.Popen([tool, *map(str, files)], stdout=subprocess.PIPE, text=True) for tool in TOOLS
    }
    res = {}
    for tool, proc in procs.items():
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"{tool} exited {proc.returncode}")
        res[tool] = _parse(out)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mib", type=int, default=1024, help="total size of generated files")
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds; each side's best counts")
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
        for f in files:  # page cache warm for every side
            f.read_bytes()
        best = {"ours": math.inf, "seq": math.inf, "par": math.inf}
        ours: dict[Path, tuple[int, str, str, str]] = {}
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            ours = {f: digest_file(f) for f in files}
            best["ours"] = min(best["ours"], time.perf_counter() - t0)
            for key, fn in (("seq", tools_sequential), ("par", tools_parallel)):
                t0 = time.perf_counter()
                tools = fn(files)
                best[key] = min(best[key], time.perf_counter() - t0)
                for f in files:
                    _, md5, sha1, sha256 = ours[f]
                    assert (md5, sha1, sha256) == (tools["md5sum"][f], tools["sha1sum"][f], tools["sha256sum"][f])
        gib = total / (1 << 30)
        print(
            f"{gib:.2f} GiB in {args.files} files (page cache warm), best of {args.rounds} rounds, "
            f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}"
        )
        print("| reader | cores used | seconds | GiB/s (file bytes) | ringtrace speed-up |")
        print("|---|---|---|---|---|")
        print(f"| ringtrace one-pass (md5+sha1+sha256) | 1 | {best['ours']:.2f} | {gib / best['ours']:.2f} | - |")
        print(
            f"| md5sum; sha1sum; sha256sum (one after another) | 1 | {best['seq']:.2f} | {gib / best['seq']:.2f} "
            f"| {best['seq'] / best['ours']:.2f}x |"
        )
        print(
            f"| md5sum & sha1sum & sha256sum (in parallel) | up to 3 | {best['par']:.2f} | {gib / best['par']:.2f} "
            f"| {best['par'] / best['ours']:.2f}x |"
        )


if __name__ == "__main__":
    main()

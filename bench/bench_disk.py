"""Files and bytes per second off a disk image against a plain walk-and-hash of the same tree.

A volume image (ext4 built with mke2fs -d, NTFS with mkntfs + ntfscp (one alternate data stream per tenth file),
or exFAT filled by ringtrace.synth.formats.exfat; never mounted) holds N files: generated JPEGs and
incompressible blobs. The same tree lies on the host file system. Both sides compute MD5 + SHA-1 + SHA-256 of
every file in one read:

- ringtrace: dfVFS opens the image, The Sleuth Kit walks the file system (deleted entries and NTFS streams
  included), every file streamed out and hashed (ringtrace.disk.walk + vault.digest_stream, what intake does
  before keeping a file); and the whole intake (walk, hash, keep the files in the vault, record disk_files) as a
  second figure;
- peer: os.walk + hashlib over the tree on the host file system (the image's own bytes are not involved);
- old (``--old-src /work/main/src``): the same image walk with another checkout's code, in a subprocess.

Each side runs once to warm the page cache, then ``--runs`` times; the best run is reported, with its CPU seconds
(user + sys of this process; of the subprocess for the old code).
  python bench/bench_disk.py --fs ext4 --files 2000 --blob-kib 256 --old-src /work/main/src
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ringtrace.synth.formats.disk_image import FileSpec, VolumeSpec, build_disk, picture


def ours(image: Path) -> tuple[int, int]:
    from ringtrace.disk.image import open_image
    from ringtrace.disk.walk import FoundFile, open_fs_info, walk
    from ringtrace.stages.intake_disk import _EntryStream
    from ringtrace.vault import digest_stream

    img = open_image(image)
    n = b = 0
    for vol in img.volumes:
        info, fs_type = open_fs_info(vol)
        for item in walk(vol, info, fs_type):
            if isinstance(item, FoundFile):
                d = digest_stream(_EntryStream(item))
                n, b = n + 1, b + d.size
    return n, b


def peer(root: Path) -> tuple[int, int]:
    n = b = 0
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            s, h1, m = hashlib.sha256(), hashlib.sha1(), hashlib.md5()  # noqa: S324
            with open(os.path.join(dirpath, f), "rb") as fh:
                while chunk := fh.read(1024**2):
                    s.update(chunk)
                    h1.update(chunk)
                    m.update(chunk)
                    b += len(chunk)
            n += 1
    return n, b


def intake(image: Path, work: Path) -> tuple[int, int]:
    from ringtrace.case import Case
    from ringtrace.stages.intake import ingest

    d = work / f"case-{time.monotonic_ns()}"
    c = Case.init(d)
    r = ingest(c, image, parse=False)
    c.close()
    size = sum(p.stat().st_size for p in (d / "vault" / "objects").rglob("*") if p.is_file())
    shutil.rmtree(d)
    return r.files, size


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def best(fn, *args, runs: int) -> tuple[float, int, int, float]:  # type: ignore[no-untyped-def]
    fn(*args)  # warm-up
    times, cpus = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), _cpu()
        n, b = fn(*args)
        times.append(time.perf_counter() - t)
        cpus.append(_cpu() - c)
    return min(times), n, b, min(cpus)


def old_walk(src: str, image: Path, runs: int) -> tuple[float, int, int, float]:
    """The image walk with the code at ``src`` (another checkout), in a subprocess: (s, files, bytes, CPU s)."""
    env = {**os.environ, "PYTHONPATH": src}
    out = subprocess.run([sys.executable, __file__, "--walk-only", str(image), "--runs", str(runs)], env=env,
                         capture_output=True, text=True, check=True).stdout
    d = json.loads(out.strip().splitlines()[-1])
    return d["s"], d["files"], d["bytes"], d["cpu"]


def _specs(fs: str, files: int, blob_kib: int) -> list[FileSpec]:
    specs = []
    for i in range(files):
        data = picture(i) if i % 2 == 0 else os.urandom(blob_kib * 1024)
        path = f"Users/u{i % 7}/d{i % 31}/f{i:05d}.{'jpg' if i % 2 == 0 else 'bin'}"
        if fs == "ntfs":  # ntfscp makes no folders; one file in ten has a stream (walked as a file of its own)
            specs.append(FileSpec(path.replace("/", "_"), data,
                                  streams=((("Zone.Identifier", b"[ZoneTransfer]\r\nZoneId=3\r\n"),)
                                           if i % 10 == 0 else ())))
        else:
            specs.append(FileSpec(path, data))
    return specs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fs", choices=["ext4", "ntfs", "exfat"], default="ext4")
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--blob-kib", type=int, default=256)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--old-src", help="another checkout's src folder: its image walk measured on the same image")
    ap.add_argument("--walk-only", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.walk_only:
        t, n, b, c = best(ours, a.walk_only, runs=a.runs)
        print(json.dumps({"s": t, "files": n, "bytes": b, "cpu": c}))
        return
    with tempfile.TemporaryDirectory(prefix="bench-disk-") as tmp:
        work = Path(tmp)
        specs = _specs(a.fs, a.files, a.blob_kib)
        tree = work / "tree"
        for sp in specs:
            p = tree / sp.path
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(sp.data)
            for name, data in sp.streams:  # on the host, a stream is a file beside its file
                p.with_name(f"{p.name}:{name}").write_bytes(data)
        size = 2 * sum(len(sp.data) for sp in specs) // 1024**2 + 16
        truth = build_disk(work / "img", [VolumeSpec(a.fs, specs, size_mib=size)], None, "raw")
        n_want = len(specs) + sum(len(sp.streams) for sp in specs)
        total = sum(len(sp.data) + sum(len(d) for _, d in sp.streams) for sp in specs)
        print(f"{a.fs}: {n_want} files, {total / 1024**2:.1f} MiB, image {truth.image.stat().st_size / 1024**2:.0f} "
              "MiB")
        t_o, n_o, b_o, c_o = best(ours, truth.image, runs=a.runs)
        t_p, n_p, b_p, c_p = best(peer, tree, runs=a.runs)
        rows = [("ringtrace: image walk + 3 digests", t_o, n_o, b_o, c_o),
                ("peer: os.walk + hashlib on the tree", t_p, n_p, b_p, c_p)]
        if a.old_src:
            t_x, n_x, b_x, c_x = old_walk(a.old_src, truth.image, a.runs)
            rows.append((f"old code ({a.old_src}): image walk + 3 digests", t_x, n_x, b_x, c_x))
        t_i, n_i, _, c_i = best(intake, truth.image, work, runs=1)
        rows.append(("ringtrace: whole intake (media digest, walk, hash, vault, disk_files)", t_i, n_i, total, c_i))
        assert n_o == n_p == n_want and b_o == b_p == total, (n_o, n_p, b_o, b_p)
        print("| side | files | files/s | MiB/s | s | CPU s |\n|---|---|---|---|---|---|")
        for name, t, n, b, c in rows:
            print(f"| {name} | {n:,} | {n / t:,.0f} | {b / t / 1024**2:,.1f} | {t:.2f} | {c:.2f} |")
        print(f"ratio image walk / plain walk: {t_p / t_o:.2f}x (wall), {c_p / c_o:.2f}x (CPU)")


if __name__ == "__main__":
    main()

"""Files and bytes per second off a disk image against a plain walk-and-hash of the same tree.

An ext4 image (built with mke2fs -d, never mounted) holds N files: generated JPEGs and incompressible blobs. The
same tree lies on the host file system. Both sides compute MD5 + SHA-1 + SHA-256 of every file in one read:

- ringtrace: dfVFS opens the image, The Sleuth Kit walks the file system (deleted entries included), every file
  streamed out and hashed (ringtrace.disk.walk + vault.digest_stream, what intake does before keeping a file);
  and the whole intake (walk, hash, keep the files in the vault, record disk_files) as a second figure;
- peer: os.walk + hashlib over the tree on the host file system (the image's own bytes are not involved).

Each side runs once to warm the page cache, then ``--runs`` times; the best run is reported.
  python bench/bench_disk.py --files 2000 --blob-kib 256
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
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


def best(fn, *args, runs: int) -> tuple[float, int, int]:  # type: ignore[no-untyped-def]
    fn(*args)  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        n, b = fn(*args)
        times.append(time.perf_counter() - t)
    return min(times), n, b


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--blob-kib", type=int, default=256)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-disk-") as tmp:
        work = Path(tmp)
        specs = []
        for i in range(a.files):
            data = picture(i) if i % 2 == 0 else os.urandom(a.blob_kib * 1024)
            specs.append(FileSpec(f"Users/u{i % 7}/d{i % 31}/f{i:05d}.{'jpg' if i % 2 == 0 else 'bin'}", data))
        tree = work / "tree"
        for s in specs:
            p = tree / s.path
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(s.data)
        truth = build_disk(work / "img", [VolumeSpec("ext4", specs)], None, "raw")
        total = sum(len(s.data) for s in specs)
        print(f"{a.files} files, {total / 1024**2:.1f} MiB, image {truth.image.stat().st_size / 1024**2:.0f} MiB")
        t_o, n_o, b_o = best(ours, truth.image, runs=a.runs)
        t_p, n_p, b_p = best(peer, tree, runs=a.runs)
        t_i, n_i, _ = best(intake, truth.image, work, runs=1)
        assert n_o == n_p == a.files and b_o == b_p == total, (n_o, n_p, b_o, b_p)
        print("| side | files/s | MiB/s | s |\n|---|---|---|---|")
        for name, t, n, b in (("ringtrace: image walk + 3 digests", t_o, n_o, b_o),
                              ("peer: os.walk + hashlib on the tree", t_p, n_p, b_p),
                              ("ringtrace: whole intake (walk, hash, vault, disk_files)", t_i, n_i, total)):
            print(f"| {name} | {n / t:,.0f} | {b / t / 1024**2:,.1f} | {t:.2f} |")
        print(f"ratio image walk / plain walk: {t_p / t_o:.2f}x (files/s)")


if __name__ == "__main__":
    main()

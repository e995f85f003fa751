"""Images/second, one process: ringtrace hash_file vs the plain python-threatexchange path.

Baseline ("threatexchange path"): Pillow full decode of the whole image, convert("RGB"), pdqhash.compute
on the full-size array, then md5, sha1 and sha256 each reading the file separately. ringtrace: one read
feeding all three digests + JPEG draft decode + 512x512 pre-resize + pdqhash.compute_dihedral
(it also yields the 8 dihedral hashes).

    python bench/bench_hashing.py [--n-big 20] [--n-phone 50]
"""

from __future__ import annotations

import argparse
import hashlib
import math
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pdqhash
from PIL import Image, ImageDraw

from ringtrace.media.hashing import hash_file
from ringtrace.media.pdq import bits_to_hex, hamming


def make_photo(path: Path, width: int, height: int, seed: int) -> None:
    """Smooth gradients + shapes + noise, JPEG quality 90 (benign, generated)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 127 + 100 * np.sin(x / width * math.pi * rng.uniform(0.5, 3) + seed)
    g = 127 + 100 * np.cos(y / height * math.pi * rng.uniform(0.5, 3))
    b = 127 + 100 * np.sin((x + y) / (width + height) * math.pi * rng.uniform(0.5, 3))
    arr = np.stack([r, g, b], axis=-1) + rng.normal(0, 8, size=(height, width, 3)).astype(np.float32)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1, y1 = x0 + int(rng.integers(20, width // 3)), y0 + int(rng.integers(20, height // 3))
        draw.ellipse((x0, y0, x1, y1), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    img.save(path, "JPEG", quality=90)


def baseline(path: Path) -> tuple[str, int, str, str, str]:
    img = Image.open(path)
    arr = np.asarray(img.convert("RGB"))
    vec, quality = pdqhash.compute(arr)
    digests = []
    for algo in ("md5", "sha1", "sha256"):
        h = hashlib.new(algo)
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        digests.append(h.hexdigest())
    return bits_to_hex(vec), int(quality), *digests


def reference_style(path: Path) -> str:
    """Full-precision pipeline shaped like Meta's C++ hasher (full decode, RGB 512x512 Lanczos): the yardstick
    for the fast path's draft/luma shortcuts. Not timed."""
    img = Image.open(path).convert("RGB").resize((512, 512), Image.Resampling.LANCZOS)
    return bits_to_hex(pdqhash.compute(np.asarray(img))[0])


def run(files: list[Path], label: str) -> list[str]:
    lines = []
    # warm the page cache so both sides read from memory
    for f in files:
        f.read_bytes()
    t0 = time.perf_counter()
    base = [baseline(f) for f in files]
    t_base = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours = [hash_file(f) for f in files]
    t_ours = time.perf_counter() - t0
    dists = [hamming(b[0], o.pdq or "") for b, o in zip(base, ours, strict=True)]
    ref = [hamming(reference_style(f), o.pdq or "") for f, o in zip(files, ours, strict=True)]
    assert all(b[2] == o.md5 and b[4] == o.sha256 for b, o in zip(base, ours, strict=True))
    n = len(files)
    lines.append(
        f"| {label} | {n} | {n / t_base:.1f} | {n / t_ours:.1f} | {t_base / t_ours:.2f}x "
        f"| {max(dists)} / {sum(dists) / n:.1f} | {max(ref)} / {sum(ref) / n:.1f} |"
    )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=None, help="shortcut: N big and 2.5N phone images")
    ap.add_argument("--n-big", type=int, default=20)
    ap.add_argument("--n-phone", type=int, default=50)
    args = ap.parse_args()
    if args.n is not None:
        args.n_big, args.n_phone = args.n, int(args.n * 2.5)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        big = [d / f"big{i}.jpg" for i in range(args.n_big)]
        phone = [d / f"phone{i}.jpg" for i in range(args.n_phone)]
        t0 = time.perf_counter()
        for i, p in enumerate(big):
            make_photo(p, 4000, 3000, i)
        for i, p in enumerate(phone):
            make_photo(p, 1600, 1200, 1000 + i)
        gen = time.perf_counter() - t0
        print(f"generated in {gen:.1f}s on {platform.machine()} (Python {platform.python_version()})")
        print("| set | images | baseline img/s | ringtrace img/s | speed-up | bits vs base | vs ref-style |")
        print("|---|---|---|---|---|---|---|")
        for line in run(big, "12 Mpx JPEG (4000x3000, q90)") + run(phone, "phone JPEG (1600x1200, q90)"):
            print(line)


if __name__ == "__main__":
    main()

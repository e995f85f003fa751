"""Images/second on ONE core: ringtrace hash_file against two peers doing the same work.

- pytx path: what python-threatexchange does. Pillow full decode, ``convert("RGB")``, ``pdqhash.compute`` on
  the full-size array, then md5, sha1 and sha256 each reading the file separately (one hash, not 8).
- draft peer (the strongest: what a performance-minded user would write): one read of the bytes feeding the
  three digests, Pillow DCT draft decode of JPEGs to >= 512 px (``img.draft("RGB", (512, 512))``; other
  formats have no draft and decode in full), ``pdqhash.compute_dihedral`` (Meta's C++ core) for all 8
  dihedral hashes. The same outputs as ringtrace: 3 digests + 8 PDQ hashes + quality.

Both run in this process pinned to one CPU (``sched_setaffinity``) with BLAS at one thread; every side is
warmed up first, then the sides run in alternating rounds and each side's best round counts (the machine is
shared, so only ratios within one run mean anything). Sets: 12 Mpx and phone-sized JPEGs, PNG, HEIC.

    python bench/bench_hashing.py [--n-big 12] [--n-phone 40] [--n-png 20] [--n-heic 12] [--rounds 3]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import math
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pdqhash
from PIL import Image, ImageDraw
from pillow_heif import register_heif_opener
from threadpoolctl import threadpool_limits

from ringtrace.media.hashing import hash_file
from ringtrace.media.pdq import bits_to_hex, hamming

register_heif_opener()

Row = tuple[str, int, str, str, str]  # pdq hex, quality, md5, sha1, sha256


def make_photo(path: Path, width: int, height: int, seed: int, fmt: str = "JPEG") -> None:
    """Smooth gradients + shapes + noise (benign, generated), saved as JPEG q90, PNG or HEIF q90."""
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
    if fmt == "PNG":
        img.save(path, "PNG")
    else:
        img.save(path, fmt, quality=90)


def pytx_path(path: Path) -> Row:
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
    return bits_to_hex(vec), int(quality), digests[0], digests[1], digests[2]


def draft_peer(path: Path) -> Row:
    data = path.read_bytes()
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    sha1 = hashlib.sha1(data, usedforsecurity=False).hexdigest()
    sha256 = hashlib.sha256(data).hexdigest()
    img = Image.open(io.BytesIO(data))
    if img.format == "JPEG":
        img.draft("RGB", (512, 512))
    vectors, quality = pdqhash.compute_dihedral(np.asarray(img.convert("RGB")))
    return bits_to_hex(vectors[0]), int(quality), md5, sha1, sha256


def ringtrace(path: Path) -> Row:
    h = hash_file(path)
    assert h.error is None and h.pdq is not None and len(h.pdq_dihedral) == 8, h.error
    return h.pdq, h.pdq_quality or 0, h.md5 or "", h.sha1 or "", h.sha256 or ""


def reference_style(path: Path) -> str:
    """Full-precision pipeline shaped like Meta's C++ hasher (full decode, RGB 512x512 Lanczos when bigger): the
    yardstick for every side's shortcuts. Not timed."""
    img = Image.open(path).convert("RGB")
    if img.width > 512 or img.height > 512:
        img = img.resize((512, 512), Image.Resampling.LANCZOS)
    return bits_to_hex(pdqhash.compute(np.asarray(img))[0])


SIDES: dict[str, Callable[[Path], Row]] = {"pytx": pytx_path, "draft": draft_peer, "ringtrace": ringtrace}


def run(files: list[Path], label: str, rounds: int) -> str:
    for f in files:  # page cache warm for every side
        f.read_bytes()
    for fn in SIDES.values():  # warm-up: imports, decoder set-up, ringtrace's matrix cache for these sizes
        fn(files[0])
    best = dict.fromkeys(SIDES, math.inf)
    out: dict[str, list[Row]] = {}
    for _ in range(rounds):
        for name, fn in SIDES.items():
            t0 = time.perf_counter()
            out[name] = [fn(f) for f in files]
            best[name] = min(best[name], time.perf_counter() - t0)
    ref = [reference_style(f) for f in files]
    for name in SIDES:
        assert all(a[2:] == b[2:] for a, b in zip(out[name], out["pytx"], strict=True)), f"{name}: digests differ"

    def bits(name: str) -> str:
        d = [hamming(r, o[0]) for r, o in zip(ref, out[name], strict=True)]
        return f"{max(d)} / {sum(d) / len(d):.1f}"

    n = len(files)
    rate = {name: n / best[name] for name in SIDES}
    return (
        f"| {label} | {n} | {rate['pytx']:.1f} | {rate['draft']:.1f} | {rate['ringtrace']:.1f} "
        f"| {best['pytx'] / best['ringtrace']:.2f}x | **{best['draft'] / best['ringtrace']:.2f}x** "
        f"| {bits('pytx')} | {bits('draft')} | {bits('ringtrace')} |"
    )


def _digests_only(path: Path) -> None:
    data = path.read_bytes()
    hashlib.md5(data, usedforsecurity=False).digest()
    hashlib.sha1(data, usedforsecurity=False).digest()
    hashlib.sha256(data).digest()


def _draft_luma_only(path: Path) -> None:
    img = Image.open(io.BytesIO(path.read_bytes()))
    img.draft("L", (256, 256))  # what ringtrace decodes of a big JPEG: the Y plane at the smallest DCT scale
    img.load()


def parts(files: list[Path], label: str, rounds: int) -> str:
    """Where one JPEG's time goes: the floor under any hasher that must digest the file and decode it (the
    entropy-coded data is read in full at every DCT scale; libjpeg-turbo already skips the AC values' storage
    at 1/8). ``simplejpeg`` (libjpeg-turbo with less wrapping) is timed when installed, as a what-if."""
    steps: dict[str, Callable[[Path], object]] = {
        "3 digests": _digests_only, "Pillow draft decode, Y at 1/8": _draft_luma_only,
        "draft peer, whole": draft_peer, "ringtrace, whole": ringtrace}
    try:
        import simplejpeg  # type: ignore[import-not-found]

        def _turbo(path: Path) -> None:
            simplejpeg.decode_jpeg(path.read_bytes(), colorspace="GRAY", min_height=256, min_width=256)

        steps["simplejpeg decode, Y at 1/8"] = _turbo
    except ImportError:
        pass
    for fn in steps.values():
        fn(files[0])
    best = dict.fromkeys(steps, math.inf)
    for _ in range(rounds):
        for name, fn in steps.items():
            t0 = time.process_time()
            for f in files:
                fn(f)
            best[name] = min(best[name], (time.process_time() - t0) / len(files) * 1000)
    floor = best["3 digests"] + best["Pillow draft decode, Y at 1/8"]
    cells = " | ".join(f"{name} {ms:.1f}" for name, ms in best.items())
    return (f"| {label} | {cells} | digests + decode {floor:.1f} ms: at most "
            f"**{best['draft peer, whole'] / floor:.2f}x** the draft peer with Pillow's decoder |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-big", type=int, default=12)
    ap.add_argument("--n-phone", type=int, default=40)
    ap.add_argument("--n-png", type=int, default=20)
    ap.add_argument("--n-heic", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--parts", action="store_true", help="also time the steps of the JPEG sets (CPU ms an image)")
    ap.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the last one allowed)")
    args = ap.parse_args()
    allowed = sorted(os.sched_getaffinity(0))
    cpu = args.cpu if args.cpu is not None else allowed[-1]
    os.sched_setaffinity(0, {cpu})
    sets = [
        ("12 Mpx JPEG (4000x3000, q90)", "big", args.n_big, 4000, 3000, "JPEG", "jpg"),
        ("phone JPEG (1600x1200, q90)", "phone", args.n_phone, 1600, 1200, "JPEG", "jpg"),
        ("PNG (1600x1200)", "png", args.n_png, 1600, 1200, "PNG", "png"),
        ("HEIC phone (4032x3024, q90)", "heic", args.n_heic, 4032, 3024, "HEIF", "heic"),
    ]
    with tempfile.TemporaryDirectory() as tmp, threadpool_limits(limits=1):
        d = Path(tmp)
        t0 = time.perf_counter()
        made: list[tuple[str, list[Path]]] = []
        for label, stem, n, w, h, fmt, ext in sets:
            files = [d / f"{stem}{i}.{ext}" for i in range(n)]
            for i, p in enumerate(files):
                make_photo(p, w, h, 1000 * len(made) + i, fmt)
            made.append((label, files))
        gen = time.perf_counter() - t0
        print(
            f"generated in {gen:.1f}s; pinned to CPU {cpu} of {len(allowed)}, BLAS 1 thread, best of "
            f"{args.rounds} alternating rounds; {platform.machine()}, Python {platform.python_version()}"
        )
        print(
            "| set | images | pytx path img/s | draft peer img/s | ringtrace img/s | vs pytx | vs draft peer "
            "| pytx bits vs ref-style (max / mean) | draft peer bits | ringtrace bits |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        for label, files in made:
            if files:
                print(run(files, label, args.rounds), flush=True)
        if args.parts:
            print("\n| set | CPU ms an image, best round |  floor |\n|---|---|---|")
            for label, files in made:
                if files and "JPEG" in label:
                    print(parts(files, label, args.rounds), flush=True)


if __name__ == "__main__":
    main()

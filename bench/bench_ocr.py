"""OCR character accuracy and speed on synthetic notes: ringtrace's OCR (EXIF, OSD turn, psm 3, lines from TSV,
unsure pages read again enlarged and by RapidOCR, fused), the same with Tesseract alone (before RapidOCR), and
plain `tesseract IMAGE stdout -l LANGS` (the strongest peer: the same engine, as an examiner would run it by hand,
no orientation step) on the same rendered pages; speed in pages per CPU second (this process and Tesseract's).

Pages come from ``ringtrace.synth.formats.notes``: invented contact lists in print (DejaVu Sans) and in every
handwriting-like font installed, as photos (JPEG, skew up to 1.5 degrees, noise, blur) and scans (PNG); every
fourth page is photographed sideways (turned 90 degrees), every sixth from the second on upside down (180).
Character accuracy = 1 - CER, the Levenshtein distance between the rendered lines and the lines read (both joined
by newlines, runs of spaces made one) over the rendered length, clipped at 0.

    python bench/bench_ocr.py [--pages 3] [--seed 5] [--out bench/results/ocr-run.json] [--det-side 1280|none]
    python bench/bench_ocr.py --memory PICTURE... [--sides none,1280] [--rounds 2]

``--memory``: each picture read as the text stage reads it (``ocr_picture``) in a fresh process per RapidOCR
detector side limit, the limits alternating round by round; the child's peak RSS (``ru_maxrss`` by ``os.wait4``),
its CPU seconds for the page (Tesseract's too) and for RapidOCR alone (``read_rapid``), after the engine is loaded.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

from ringtrace.media import ocr
from ringtrace.media.ocr import ocr_picture, rapid_engine, tesseract_version
from ringtrace.synth.formats.notes import (
    PRINT_FONT,
    TESSERACT_LANG,
    RenderStyle,
    available_hand_fonts,
    compose_page,
    encode,
    render_page_image,
)


def _cpu() -> float:
    """CPU seconds of this process and the processes it reaped (Tesseract): what a page costs on a loaded machine."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def levenshtein(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _norm(lines: list[str]) -> str:
    return "\n".join(" ".join(x.split()) for x in lines if x.strip())


def accuracy(want: list[str], got: list[str]) -> float:
    ref = _norm(want)
    return max(0.0, 1 - levenshtein(ref, _norm(got)) / max(1, len(ref)))


def peer(data: bytes, langs: str) -> list[str]:
    with tempfile.NamedTemporaryFile(suffix=".img") as fh:
        fh.write(data)
        fh.flush()
        out = subprocess.run(["tesseract", fh.name, "stdout", "-l", langs], capture_output=True, text=True,
                             check=True, timeout=300).stdout
    return out.splitlines()


def det_side(text: str) -> int | None:
    """``none`` (RapidOCR's own rule: the page at full size) or a side in pixels."""
    return None if text.lower() == "none" else int(text)


def _child(path: Path, side: int | None) -> None:
    """One page read in this fresh process with the detector limit ``side``; its figures as JSON on stdout."""
    from ringtrace.media.images import open_checked

    ocr.RAPID_DET_SIDE = side
    rapid_engine()  # loaded before timing, as a text worker loads it once
    spent = [0.0]
    read = ocr.read_rapid

    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        t = _cpu()
        try:
            return read(*args, **kwargs)
        finally:
            spent[0] += _cpu() - t

    ocr.read_rapid = timed  # type: ignore[assignment]
    img = open_checked(path.read_bytes())
    img.load()
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = _cpu()
    res = ocr_picture(img, "eng")
    print(json.dumps({"cpu_s": _cpu() - t0, "rapid_s": spent[0], "rss_loaded_mb": loaded, "by": res.by,
                      "lines": [ln.text for ln in res.lines]}))


def memory(paths: list[Path], sides: list[int | None], rounds: int) -> None:
    """Peak RSS and CPU of one OCR process a page, every side limit in turn, round after round."""
    print(f"{'picture':<28} {'det side':>8} {'peak RSS MB':>11} {'after load':>10} {'page CPU s':>10} "
          f"{'RapidOCR CPU s':>14}  lines")
    for r in range(rounds):
        for path in paths:
            for side in (sides if r % 2 == 0 else sides[::-1]):
                cmd = [sys.executable, __file__, "--child", str(path), "--det-side", str(side).lower()]
                proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)  # noqa: S603
                out = proc.stdout.read() if proc.stdout else ""
                _, status, ru = os.wait4(proc.pid, 0)
                if status:
                    raise SystemExit(f"{cmd} failed: {status}")
                got = json.loads(out)
                print(f"{path.name:<28} {str(side):>8} {ru.ru_maxrss / 1024:>11.0f} {got['rss_loaded_mb']:>10.0f} "
                      f"{got['cpu_s']:>10.2f} {got['rapid_s']:>14.2f}  {len(got['lines'])} "
                      f"({'RapidOCR' if 'rapidocr' in got['by'] else 'Tesseract only'})", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=3, help="pages per font")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--out", type=Path, default=None, help="write every page's figures here (JSON)")
    ap.add_argument("--det-side", type=det_side, default=ocr.RAPID_DET_SIDE,
                    help="RapidOCR detector side limit (none: the page at full size)")
    ap.add_argument("--memory", type=Path, nargs="+", default=None, help="pictures to measure memory on")
    ap.add_argument("--sides", default="none,1280", help="--memory: the detector side limits compared")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if shutil.which("tesseract") is None:
        raise SystemExit("tesseract is not installed")
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # one core each side: the figures compare like with like
    if a.child:
        _child(a.child, a.det_side)
        return
    if a.memory:
        memory(a.memory, [det_side(x) for x in a.sides.split(",")], a.rounds)
        return
    ocr.RAPID_DET_SIDE = a.det_side
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # one core each side: the figures compare like with like
    rapid_engine()  # loaded before timing (once a process)
    fonts = {"print (dejavu-sans)": PRINT_FONT, **{f"hand ({k})": v for k, v in available_hand_fonts().items()}}
    rng = random.Random(a.seed)
    used: set[str] = set()
    rows = []
    countries = list(TESSERACT_LANG)
    for name, font in fonts.items():
        for i in range(a.pages):
            country = countries[(len(rows)) % len(countries)]
            page = compose_page(rng, country, used, n_lines=7)
            medium = "scan" if i % 3 == 2 else "photo"
            turn = 90 if len(rows) % 4 == 3 else 180 if len(rows) % 6 == 1 else 0
            hand = font != PRINT_FONT
            st = RenderStyle(font=font, size=44 if hand else 36, medium=medium, skew=round(rng.uniform(-1.5, 1.5), 2),
                             turn=turn)
            data = encode(render_page_image(page, st, seed=len(rows)), medium)
            langs = TESSERACT_LANG[country]
            t_ = _cpu()
            alone = ocr_picture(Image.open(io.BytesIO(data)), langs, second_reader=False)
            t0 = _cpu()
            res = ocr_picture(Image.open(io.BytesIO(data)), langs)
            t1 = _cpu()
            plain = peer(data, langs)
            t2 = _cpu()
            rows.append({"font": name, "medium": medium, "turn": turn, "languages": langs,
                         "tesseract_alone": accuracy(page.texts, [ln.text for ln in alone.lines]),
                         "tesseract_alone_s": t0 - t_, "rotation_alone": alone.rotation,
                         "ringtrace": accuracy(page.texts, [ln.text for ln in res.lines]), "ringtrace_s": t1 - t0,
                         "rotation_found": res.rotation, "peer": accuracy(page.texts, plain), "peer_s": t2 - t1,
                         "lines_want": len(page.texts), "lines_got": len(res.lines)})
            r = rows[-1]
            print(f"{name:<26} {medium:<5} turn {turn:>2}  ringtrace {r['ringtrace']:.3f} ({r['ringtrace_s']:.1f} s)"
                  f"  Tesseract alone {r['tesseract_alone']:.3f} ({r['tesseract_alone_s']:.1f} s)"
                  f"  peer {r['peer']:.3f} ({r['peer_s']:.1f} s)", flush=True)
    print(f"\n{tesseract_version()}, Python {platform.python_version()}, {os.cpu_count()} CPUs")
    print("| pages | ringtrace accuracy | Tesseract alone (before) | peer accuracy | ringtrace pages/CPU s "
          "| before pages/CPU s | peer pages/CPU s |")
    print("|---|---|---|---|---|---|---|")

    def line(label: str, sel: list[dict[str, object]]) -> None:
        if not sel:
            return
        n = len(sel)
        acc = sum(float(str(s["ringtrace"])) for s in sel) / n
        bacc = sum(float(str(s["tesseract_alone"])) for s in sel) / n
        pacc = sum(float(str(s["peer"])) for s in sel) / n
        rt = n / sum(float(str(s["ringtrace_s"])) for s in sel)
        bt = n / sum(float(str(s["tesseract_alone_s"])) for s in sel)
        pt = n / sum(float(str(s["peer_s"])) for s in sel)
        print(f"| {label} ({n}) | {acc:.3f} | {bacc:.3f} | {pacc:.3f} | {rt:.2f} | {bt:.2f} | {pt:.2f} |")

    for style in ("print", "hand"):
        label = "print" if style == "print" else "handwriting fonts"
        for turn, how in ((0, "upright"), (90, "sideways"), (180, "upside down")):
            line(f"{label}, {how}", [r for r in rows if r["font"].startswith(style) and r["turn"] == turn])
    for f in fonts:
        line(f, [r for r in rows if r["font"] == f])
    line("all", rows)
    if a.out:
        a.out.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""What notes say, measured: entity recall and precision against the synthetic notes' ground truth.

Three readings of the same invented pages (synth.formats.notes): the text layer (what was written, as a PDF or
DOCX gives it), OCR of printed pages (DejaVu Sans, scans and phone photos) and OCR of handwriting-font pages
(every handwriting-like font installed from Debian's packages). Goals (issue 15): printed >= 0.95 both; handwriting
reported, goal >= 0.8. OCR readings are compared page by page (OCR may split or join lines).

    python bench/bench_notes.py [--pages 12] [--sides none,1024] [--no-alone] [--out PATH]

``--sides``: the second reader's rows once per RapidOCR detector side limit (``media.ocr.RAPID_DET_SIDE``; none:
the page at full size), the order turned at every style so that neither side always runs first.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from datetime import date
from pathlib import Path

from ringtrace.indicators.note_entities import NoteLine, extract_note_entities
from ringtrace.media import ocr as ocr_module
from ringtrace.media.ocr import ocr_picture, rapid_engine
from ringtrace.synth.formats.notes import (
    PRINT_FONT,
    TESSERACT_LANG,
    RenderStyle,
    available_hand_fonts,
    compose_pages,
    render_page_image,
)
from ringtrace.synth.notes_truth import Score, score

sys.path.insert(0, str(Path(__file__).parent))
from bench_ocr import accuracy, det_side  # noqa: E402

OUT = Path(__file__).parent / "results" / "notes.md"


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _read(pages, style_of, second: bool):  # type: ignore[no-untyped-def]
    """OCR every page in its style; the entities found (numbered by page), CPU seconds, mean character accuracy."""
    found = []
    seconds = 0.0
    acc = 0.0
    for pn, page in enumerate(pages, start=1):
        img = render_page_image(page, style_of(pn), seed=pn)
        t0 = _cpu()
        res = ocr_picture(img, TESSERACT_LANG[page.country] + "+eng", second_reader=second)
        seconds += _cpu() - t0
        acc += accuracy(page.texts, [tl.text for tl in res.lines])
        lines = [NoteLine("p", pn, tl.line_no, tl.text, ocr=True) for tl in res.lines]
        found += extract_note_entities(lines, region=page.country, prefer_countries=[page.country])
    return found, seconds, acc / max(1, len(pages))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=12)
    ap.add_argument("--sides", default=None, help="RapidOCR detector side limits, comma-separated (none: full size)")
    ap.add_argument("--no-alone", action="store_true", help="leave out the Tesseract-alone rows")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    sides = [det_side(x) for x in args.sides.split(",")] if args.sides else [ocr_module.RAPID_DET_SIDE]
    load = os.getloadavg()[0]
    pages = compose_pages(seed=7, n_pages=args.pages)
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # one Tesseract thread, as the text stage runs it in a pool
    for side in sides:  # loaded once before timing (a process of the text stage loads it once too)
        ocr_module.RAPID_DET_SIDE = side
        rapid_engine()
    rows: list[tuple[str, Score, float, int, float | None]] = []

    t0 = time.perf_counter()
    text = [NoteLine("p", pn, ln, line.text) for pn, p in enumerate(pages, 1) for ln, line in enumerate(p.lines, 1)]
    by_page: dict[int, list[NoteLine]] = {}
    for nl in text:
        by_page.setdefault(nl.page, []).append(nl)
    found = [e for pn, p in enumerate(pages, 1)
             for e in extract_note_entities(by_page[pn], region=p.country, prefer_countries=[p.country])]
    rows.append(("text layer (what was written), by line", score(pages, found), time.perf_counter() - t0, len(pages),
                 None))

    styles = [(f"printed {m}s", lambda pn, m=m: RenderStyle(font=PRINT_FONT, medium=m, skew=0.6 * (pn % 3 - 1)))
              for m in ("scan", "photo")]
    styles += [(f"handwriting font {name} (scans)", lambda pn, p=path: RenderStyle(font=p, medium="scan", size=44))
               for name, path in sorted(available_hand_fonts().items())]
    for k, (label, style) in enumerate(styles):
        runs: list[tuple[bool, str, int | None]] = [] if args.no_alone else [(False, "Tesseract alone (before)", None)]
        for side in sides if k % 2 == 0 else sides[::-1]:
            limit = "" if len(sides) == 1 else f", detector side {side or 'full'}"
            runs.append((True, f"+ RapidOCR (PP-OCRv6) on unsure pages{limit} (now)", side))
        for second, how, side in runs:
            ocr_module.RAPID_DET_SIDE = side
            f, secs, acc = _read(pages, style, second)
            rows.append((f"OCR, {label}, {how}", score(pages, f, by_line=False), secs, len(pages), acc))
            print(rows[-1][0], f"{rows[-1][1].recall:.3f}", flush=True)

    lines = ["# Notes: entity recall and precision", "",
             f"Machine: {platform.machine()}, {platform.python_version()}, date {date.today().isoformat()}; "
             f"{args.pages} synthetic pages (seed 7), `python bench/bench_notes.py --pages {args.pages}`; "
             f"{os.cpu_count()} CPUs shared, load average {load:.1f} at the start: seconds move with the load, "
             "recall and precision do not.", "",
             "OCR as the text stage does it (`media.ocr.ocr_picture`: an unsure page read again 1.5x larger, the "
             "more confident reading kept; then read by RapidOCR, PP-OCRv6 small, and fused word by word), each "
             "page twice in "
             "this run: Tesseract alone and with the second reader (now); entities with the OCR repairs "
             "of lines read by OCR (`indicators/ocr_repair.py`, fuzzy towns and given names). What else was tried "
             "on handwriting, measured: [ocr.md](ocr.md#handwriting-what-was-tried).", "",
             "| reading | entities written | precision | recall | per kind (precision/recall) | character accuracy "
             "| OCR CPU s/page |",
             "|---|---:|---:|---:|---|---:|---:|"]
    for label, s, secs, n, acc in rows:
        kinds = ", ".join(f"{k} {p:.2f}/{r:.2f}" for k, (p, r) in s.by_kind().items())
        written = sum(s.true.values()) + sum(s.missed.values())
        ocr = f"{secs / n:.2f}" if label.startswith("OCR") else "-"
        chars = f"{acc:.3f}" if acc is not None else "-"
        lines.append(f"| {label} | {written} | {s.precision:.3f} | {s.recall:.3f} | {kinds} | {chars} | {ocr} |")
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

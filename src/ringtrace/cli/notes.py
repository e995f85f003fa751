"""Documents and notes commands: the ``notes`` group (paper exhibits and OCR languages, OCR on request, an
examiner's transcription, the lines read out of a content)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ringtrace.cli._app import CaseArg, app, console, fail, open_case
from ringtrace.textsafe import shown

notes_app = typer.Typer(no_args_is_help=True, help="Documents and pictures of paper: OCR, transcriptions, lines.")
app.add_typer(notes_app, name="notes")

MediaArg = Annotated[str, typer.Argument(help="The content: its sha256 or a unique prefix (6+ hex digits).")]


@notes_app.command("paper")
def notes_paper(case: CaseArg, exhibit: Annotated[str, typer.Argument(help="Exhibit number.")],
                undo: Annotated[bool, typer.Option("--undo", help="No longer paper.")] = False,
                languages: Annotated[str | None, typer.Option(help="OCR languages for it, e.g. spa+eng.")] = None,
                ) -> None:
    """Mark an exhibit as paper (photos and scans of notes): every picture in it is OCR'd by the next run."""
    from ringtrace.documents.settings import configure
    from ringtrace.media.ocr import OcrError

    c = open_case(case)
    try:
        now = configure(c, exhibit, paper=not undo, langs=languages)
    except (ValueError, OcrError) as e:
        fail(str(e))
    console.print(f"paper exhibits: {shown(', '.join(now.paper) or 'none')}; {shown(exhibit)} reads in "
                  f"{shown(now.languages)}")
    console.print(f"Next: ringtrace run {shown(str(case))}")


@notes_app.command("languages")
def notes_languages(case: CaseArg, languages: Annotated[str, typer.Argument(help="Tesseract languages: spa+eng.")],
                    exhibit: Annotated[str | None, typer.Option(help="Only for this exhibit.")] = None) -> None:
    """Set the OCR languages of the case (default eng) or of one exhibit."""
    from ringtrace.documents.settings import configure
    from ringtrace.media.ocr import OcrError

    c = open_case(case)
    try:
        now = configure(c, exhibit, langs=languages)
    except (ValueError, OcrError) as e:
        fail(str(e))
    console.print(f"{shown(exhibit or 'the case')} reads in {shown(now.languages)}")


@notes_app.command("ocr")
def notes_ocr(case: CaseArg,
              media: Annotated[list[str] | None, typer.Argument(help="Pictures or PDFs (sha256 or prefix; a PDF: "
                                                                "every page); default: all pending.")] = None,
              languages: Annotated[str | None, typer.Option(help="Languages for this reading.")] = None) -> None:
    """OCR pictures now: the ones given (read again, page-like or not; a PDF's every page), else what the text
    stage has pending."""
    from ringtrace.documents.transcribe import TranscriptionError, resolve_content
    from ringtrace.lock import case_lock
    from ringtrace.media.ocr import OcrError, check_languages, tesseract_path
    from ringtrace.stages.text import ocr_contents, text_stage

    c = open_case(case)
    if tesseract_path() is None:
        fail("tesseract is not installed (Debian: apt-get install tesseract-ocr tesseract-ocr-eng ...)")
    try:
        if languages:
            languages = check_languages(languages)
        with c.engine.connect() as con:
            shas = [resolve_content(con, m) for m in media or []]
    except (OcrError, TranscriptionError) as e:
        fail(str(e))
    with case_lock(c.path, wait=c.lock_wait):
        res = ocr_contents(c, shas, languages) if shas else text_stage(c)
    console.print(f"read {res.pictures} pictures and {res.scanned} scanned PDFs ({res.lines} lines), "
                  f"{res.failed} failed")
    console.print(f"Next: ringtrace notes show {shown(str(case))} SHA256")


@notes_app.command("transcribe")
def notes_transcribe(case: CaseArg, media: MediaArg,
                     text_file: Annotated[Path, typer.Option("--text-file", help="UTF-8 text of the page.")],
                     page: Annotated[int, typer.Option(help="Page of the content (1 for a picture).")] = 1,
                     examiner: Annotated[str | None, typer.Option(help="Who transcribed (default: the examiner "
                                                                  "running ringtrace).")] = None,
                     reason: Annotated[str | None, typer.Option(help="Why (kept in the audit log).")] = None) -> None:
    """Store an examiner's transcription of a picture of paper, beside its OCR, audited."""
    from ringtrace.documents.transcribe import MAX_TRANSCRIPTION_CHARS, TranscriptionError, transcribe

    c = open_case(case)
    try:
        with text_file.open("rb") as fh:
            raw = fh.read(MAX_TRANSCRIPTION_CHARS * 4 + 1)
        text = raw.decode("utf-8-sig")
    except OSError as e:
        fail(f"{text_file}: cannot be read: {e.strerror or e}")
    except UnicodeDecodeError as e:
        fail(f"{text_file}: not UTF-8 text ({e.reason} at byte {e.start})")
    try:
        t = transcribe(c, media, text, examiner=examiner, page=page, reason=reason)
    except TranscriptionError as e:
        fail(str(e))
    console.print(f"transcription of {t.sha256[:16]}… page {t.page}: {t.lines} lines stored"
                  + (f" (replacing {t.replaced})" if t.replaced else ""))
    console.print(f"Next: ringtrace notes show {shown(str(case))} {t.sha256[:12]}")


@notes_app.command("show")
def notes_show(case: CaseArg, media: MediaArg) -> None:
    """The lines read out of a content: its text layer, OCR (box, confidence) and transcriptions."""
    from ringtrace.documents.transcribe import TranscriptionError, lines_of, resolve_content

    c = open_case(case)
    with c.engine.connect() as con:
        try:
            sha = resolve_content(con, media)
        except TranscriptionError as e:
            fail(str(e))
        rows = lines_of(con, sha)
    if not rows:
        console.print(f"no lines read from {sha[:16]}… (ringtrace run, or ringtrace notes ocr)")
        return
    t = Table("origin", "by", "page", "line", "text", "confidence", "box")
    for r in rows:
        box = (f"{r['box_left']},{r['box_top']} {r['box_width']}x{r['box_height']}"
               if r["box_left"] is not None else "")
        conf = f"{r['confidence']:.0f}" if r["confidence"] is not None else ""
        t.add_row(str(r["origin"]), shown(str(r["by"])), str(r["page"]), str(r["line_no"]), shown(str(r["text"])),
                  conf, box)
    console.print(t)

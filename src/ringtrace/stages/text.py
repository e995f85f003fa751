"""The text stage: the text lines of every distinct document (PDF, DOCX, ODT, RTF, plain text) and OCR of the
pictures that show paper, stored in ``text_lines`` keyed by content sha256, like media.

Which contents: every distinct content of every source whose bytes say it is a document (``documents.kinds``);
plain text only where no source format read the file but the text-capture fallback (a chat export is not a
note). Which pictures:
every image of an exhibit marked as paper (``ringtrace notes paper``), and any other image at least
``min_page_side`` on both sides that the cheap page test (``media.pagelike``) takes for a page; any picture on
request (``ringtrace notes ocr``). Languages: the exhibit's setting, else the case's, else English.

Runs after hashing (pictures are known from ``media``), through the ``compute`` executor like hashing. Each
content's lines and its ``text_reads`` row are committed together, in batches, so a crash loses at most one
batch and the next run reads only what is not yet recorded; a content that failed or gave nothing is recorded
too (never read twice). A bad document is a named problem naming its file; the run goes on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from ringtrace.case import Case, content_path, iter_content_heads
from ringtrace.compute import Executor, make_executor
from ringtrace.documents.limits import DEFAULT_DOC_LIMITS, DocLimits
from ringtrace.documents.lines import TextLine
from ringtrace.stages import Progress, noop_progress
from ringtrace.store import schema as S

TEXT_BATCH = 20  # contents committed together: a crash loses at most this much reading
HEAD = 4096
FREE_TEXT_FORMATS = ("text-capture", "text_capture")  # formats whose plain text files are read as documents too


@dataclass(frozen=True)
class ReadJob:
    sha256: str
    path: str
    method: str  # text | ocr
    kind: str  # document kind, or "image"
    languages: str = ""
    force: bool = False  # OCR even when the picture does not look like a page
    single_thread: bool = False  # Tesseract one thread a process when a pool runs many at once
    limits: DocLimits = DEFAULT_DOC_LIMITS
    pages: tuple[int, ...] = ()  # a scanned PDF's pages to OCR (those without a text layer)
    photo_pages: tuple[int, ...] = ()  # pages with a text layer holding photos of paper: those photos OCR'd


@dataclass
class ReadResult:
    sha256: str
    method: str
    kind: str
    status: str  # read | empty | failed | not-page | unavailable (no Tesseract here: not recorded, retried)
    by: str
    lines: list[TextLine] = field(default_factory=list)
    pages: int | None = None
    reason: str | None = None
    problems: list[str] = field(default_factory=list)
    languages: str | None = None


@dataclass
class TextStageResult:
    documents: int = 0
    pictures: int = 0
    scanned: int = 0  # PDFs whose pages without text were OCR'd
    lines: int = 0
    failed: int = 0


def read_job(job: ReadJob) -> ReadResult:
    """Runs in a worker: read one content. Never raises for a bad content (a failed result says why)."""
    if job.method == "text":
        return _read_text(job)
    return _read_scanned(job) if job.kind == "pdf" else _read_picture(job)


def _read_text(job: ReadJob) -> ReadResult:
    from ringtrace.documents.extract import DocumentError, extract_document

    try:
        ex = extract_document(Path(job.path), job.kind, job.limits)
    except DocumentError as exc:
        return ReadResult(job.sha256, "text", job.kind, "failed", f"ringtrace {job.kind} reader", reason=str(exc))
    return ReadResult(job.sha256, "text", job.kind, "read" if ex.lines else "empty", ex.by, ex.lines, ex.pages,
                      "; ".join(ex.problems) or None, ex.problems)


def _read_picture(job: ReadJob) -> ReadResult:
    import pytesseract

    from ringtrace.media.images import open_checked
    from ringtrace.media.limits import DEFAULT_LIMITS
    from ringtrace.media.ocr import OcrError, ocr_picture
    from ringtrace.media.pagelike import page_likeness

    if job.single_thread:
        os.environ["OMP_THREAD_LIMIT"] = "1"  # Tesseract's advice when many run side by side
    fail = ReadResult(job.sha256, "ocr", "image", "failed", "tesseract")
    try:
        size = Path(job.path).stat().st_size
        if size > DEFAULT_LIMITS.max_decode_bytes:
            fail.reason = f"{size} bytes: larger than the {DEFAULT_LIMITS.max_decode_bytes}-byte decode limit"
            return fail
        img = open_checked(Path(job.path).read_bytes())
        img.load()
    except Exception as exc:  # noqa: BLE001  # any decoder error of a hostile picture: that picture fails
        fail.reason = f"picture not decoded: {type(exc).__name__}: {exc}"
        return fail
    if not job.force:
        pl = page_likeness(img)
        if not pl.is_page:
            return ReadResult(job.sha256, "ocr", "image", "not-page", "ringtrace page test",
                              reason=f"not taken for a page ({pl})")
    try:
        res = ocr_picture(img, job.languages, job.limits)
    except pytesseract.TesseractNotFoundError:
        return ReadResult(job.sha256, "ocr", "image", "unavailable", "tesseract", reason="tesseract is not installed")
    except OcrError as exc:
        fail.reason = str(exc)
        return fail
    return ReadResult(job.sha256, "ocr", "image", "read" if res.lines else "empty", res.by, res.lines, 1,
                      "; ".join(res.notes) or None, [], res.languages)


def _read_scanned(job: ReadJob) -> ReadResult:
    import pytesseract

    from ringtrace.documents.scanned import ScanError, ocr_pdf_pages, page_spans
    from ringtrace.media.ocr import OcrError

    if job.single_thread:
        os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        res = ocr_pdf_pages(Path(job.path), list(job.pages), job.languages, job.limits, list(job.photo_pages))
    except pytesseract.TesseractNotFoundError:
        return ReadResult(job.sha256, "ocr", "pdf", "unavailable", "tesseract", reason="tesseract is not installed")
    except (ScanError, OcrError) as exc:
        return ReadResult(job.sha256, "ocr", "pdf", "failed", "tesseract (pdftoppm)", reason=str(exc))
    parts = [f"OCR of pages without text: {page_spans(res.pages_read)}"] if res.pages_read else []
    parts += [f"OCR of photos on pages with text: {page_spans(res.photo_pages_read)}"] if res.photo_pages_read else []
    reason = "; ".join(parts + res.notes) or None
    return ReadResult(job.sha256, "ocr", "pdf", "read" if res.lines else "empty", res.by, res.lines,
                      len(set(res.pages_read) | set(res.photo_pages_read)), reason, res.problems, res.languages)


# ---- what is pending ------------------------------------------------------------------------------------


def _holders(con: Connection) -> dict[str, list[tuple[str, int, str]]]:
    """sha256 -> [(exhibit, source id, relpath)], sorted, for every content of the case."""
    out: dict[str, list[tuple[str, int, str]]] = {}
    q = (select(S.source_files.c.sha256, S.sources.c.exhibit, S.source_files.c.source_id, S.source_files.c.relpath)
         .join(S.sources, S.sources.c.id == S.source_files.c.source_id))
    for r in con.execute(q):
        out.setdefault(r.sha256, []).append((r.exhibit, r.source_id, r.relpath))
    for v in out.values():
        v.sort()
    return out


def _done(con: Connection, method: str) -> dict[str, str]:
    return {r.sha256: r.status for r in con.execute(select(S.text_reads.c.sha256, S.text_reads.c.status)
                                                    .where(S.text_reads.c.method == method))}


def pending_documents(case: Case, limits: DocLimits = DEFAULT_DOC_LIMITS) -> Iterator[ReadJob]:
    """Distinct contents not yet read whose bytes say they are documents."""
    from ringtrace.documents.kinds import document_kind

    with case.engine.connect() as con:
        done = _done(con, "text")
        media = {r[0] for r in con.execute(select(S.media.c.sha256))}
        # plain text that a format read is that format's (a chat export), except the fallback for any text with
        # a link or an e-mail in it (text-capture): a typed note is often just that
        by_format = {r[0] for r in con.execute(select(S.source_files.c.sha256).distinct()
                                               .where(S.source_files.c.format.is_not(None))
                                               .where(S.source_files.c.format.not_in(FREE_TEXT_FORMATS)))}
        for sha, path, head in iter_content_heads(case, con, done.keys() | media, HEAD):
            kind = document_kind(head, path)
            if kind is None or (kind == "text" and sha in by_format):
                continue
            yield ReadJob(sha, str(path), "text", kind, limits=limits)


def pending_pictures(case: Case, only: Iterable[str] | None = None, languages: str | None = None,
                     limits: DocLimits = DEFAULT_DOC_LIMITS) -> list[ReadJob]:
    """Pictures to OCR: given ones (``only``: read again even if read before), else those of paper exhibits and
    large enough images not yet looked at."""
    from ringtrace.documents import settings

    with case.engine.connect() as con:
        holders = _holders(con)
        paper = set(settings.paper_exhibits(con))
        done = _done(con, "ocr")
        q = select(S.media.c.sha256, S.media.c.width, S.media.c.height).where(S.media.c.kind == "image")
        q = q.where(S.media.c.error.is_(None))
        wanted = set(only) if only is not None else None
        jobs: list[ReadJob] = []
        for r in con.execute(q.order_by(S.media.c.sha256)):
            exhibits = [h[0] for h in holders.get(r.sha256, [])]
            on_paper = any(e in paper for e in exhibits)
            if wanted is not None:
                if r.sha256 not in wanted:
                    continue
            elif r.sha256 in done and not (on_paper and done[r.sha256] == "not-page"):
                continue
            elif not on_paper and min(r.width or 0, r.height or 0) < limits.min_page_side:
                continue
            path = content_path(case, r.sha256, con)
            if path is None:
                continue
            langs = languages or _languages_for(con, exhibits)
            jobs.append(ReadJob(r.sha256, str(path), "ocr", "image", langs, on_paper or wanted is not None,
                                limits=limits))
    return jobs


def pending_scanned(case: Case, limits: DocLimits = DEFAULT_DOC_LIMITS, only: Iterable[str] | None = None,
                    languages: str | None = None) -> list[ReadJob]:
    """PDFs whose text layer was read and left pages without text, not yet OCR'd: a job for those pages each.
    ``only``: these PDFs, every page of them (text layer or not), read again even if read before."""
    from sqlalchemy import func

    from ringtrace.documents.scanned import MIN_TEXT_CHARS

    wanted = set(only) if only is not None else None
    with case.engine.connect() as con:
        done = _done(con, "ocr")
        pdfs = {r.sha256: min(r.pages or 0, limits.max_pages) for r in con.execute(
            select(S.text_reads.c.sha256, S.text_reads.c.pages).where(S.text_reads.c.method == "text")
            .where(S.text_reads.c.kind == "pdf").where(S.text_reads.c.status.in_(("read", "empty"))))
            if (r.sha256 in wanted if wanted is not None else r.sha256 not in done)}
        if not pdfs:
            return []
        holders = _holders_of(con, list(pdfs))
        jobs: list[ReadJob] = []
        shas = sorted(pdfs)
        for i in range(0, len(shas), 500):
            chunk = shas[i:i + 500]
            visible = func.length(func.replace(func.replace(S.text_lines.c.text, " ", ""), "\t", ""))
            texted: dict[str, set[int]] = {}
            q = (select(S.text_lines.c.sha256, S.text_lines.c.page).where(S.text_lines.c.origin == "text")
                 .where(S.text_lines.c.sha256.in_(chunk)).group_by(S.text_lines.c.sha256, S.text_lines.c.page)
                 .having(func.sum(visible) >= MIN_TEXT_CHARS))
            for r in con.execute(q):
                texted.setdefault(r.sha256, set()).add(r.page)
            for sha in chunk:
                blank = tuple(p for p in range(1, pdfs[sha] + 1)
                              if wanted is not None or p not in texted.get(sha, set()))
                with_text = sorted(texted.get(sha, set())) if wanted is None else []
                path = content_path(case, sha, con) if blank or with_text else None
                if path is None:
                    continue
                photos = _photo_pages(path, with_text, limits)
                if not blank and not photos:
                    continue
                langs = languages or _languages_for(con, [h[0] for h in holders.get(sha, [])])
                jobs.append(ReadJob(sha, str(path), "ocr", "pdf", langs, limits=limits, pages=blank,
                                    photo_pages=photos))
    return jobs


def _photo_pages(path: Path, pages: list[int], limits: DocLimits) -> tuple[int, ...]:
    """Of the PDF's pages with a text layer, those holding a picture large enough to be a photo of paper (judged
    on the pictures' declared sizes: nothing is decoded here)."""
    if not pages:
        return ()
    from ringtrace.documents.extract import page_photos

    photos, _ = page_photos(path, pages, limits)  # what is left out is said when the photos are read
    return tuple(sorted({ph.page for ph in photos}))


def _languages_for(con: Connection, exhibits: list[str]) -> str:
    from ringtrace.documents import settings

    for e in exhibits:
        own = settings.languages(con, e)
        if own != settings.languages(con):
            return own
    return settings.languages(con)


# ---- running and storing --------------------------------------------------------------------------------


def text_stage(case: Case, executor: Executor | None = None, progress: Progress = noop_progress,
               limits: DocLimits = DEFAULT_DOC_LIMITS) -> TextStageResult:
    """Read every pending document and picture of paper; say how many."""
    return start_text(case, executor, progress, limits).finish()


def start_text(case: Case, executor: Executor | None = None, progress: Progress = noop_progress,
               limits: DocLimits = DEFAULT_DOC_LIMITS) -> TextInFlight:
    """The text stage up to its OCR: documents read and stored (which PDF pages have no text layer is known only
    from their stored lines), then the OCR jobs handed to the executor. A pool or a cluster starts on them at
    once, so the caller may do other work here (``stages.run``: match and analyze) before ``finish`` stores what
    they read. Nothing of the OCR is stored before ``finish``: a run that stops before it reads them again."""
    res = TextStageResult()
    docs = list(pending_documents(case, limits))
    _run(case, docs, executor, progress, res, "documents", pool_from=32)
    from ringtrace.media.ocr import tesseract_path

    pics = pending_pictures(case, limits=limits)
    scans = pending_scanned(case, limits)
    if (pics or scans) and tesseract_path() is None:
        _problem_once(case, "tesseract is not installed: pictures of paper and scanned PDF pages not OCR'd "
                            "(install tesseract-ocr and its language packs, then run again)")
        pics, scans = [], []
    from ringtrace.documents.scanned import pdftoppm_path

    if scans and pdftoppm_path() is None:
        _problem_once(case, "pdftoppm is not installed: scanned PDF pages not OCR'd (install poppler-utils, then "
                            "run again)")
        scans = []
    # the pool reads the longest first: a scanned PDF is many pages
    flight = TextInFlight(case, res, progress)
    flight.submit(sorted(scans, key=lambda j: -len(j.pages)) + pics, executor, "ocr", pool_from=4)
    return flight


class TextInFlight:
    """OCR jobs handed to an executor and not yet stored: ``finish`` stores their results in batches (the text
    stage's own store, one writer, in the caller's thread) and logs the stage; ``abandon`` drops them (what was
    not stored is read again by the next run). A serial executor reads each job only when ``finish`` asks."""

    def __init__(self, case: Case, res: TextStageResult, progress: Progress) -> None:
        self.case, self.res, self.progress = case, res, progress
        self._jobs: list[ReadJob] = []
        self._results: Iterator[ReadResult] | None = None
        self._own: Executor | None = None  # made here, closed here
        self._what = "ocr"

    def submit(self, jobs: list[ReadJob], executor: Executor | None, what: str, pool_from: int) -> None:
        if not jobs:
            return
        ex = executor or make_executor(os.environ.get("RINGTRACE_EXECUTOR") or
                                       ("local" if len(jobs) >= pool_from else "serial"))
        self._own = None if executor is not None else ex
        try:
            if ex.name != "serial":
                jobs = [replace(j, single_thread=True) for j in jobs]
            self._jobs, self._what = jobs, what
            # a process pool submits every job here, a cluster its first batches: they run from now on
            self._results = ex.map(read_job, jobs, chunksize=1 if what == "ocr" else 4)
        except BaseException:
            self.abandon()
            raise
        self.progress(f"text:{what}", 0, len(jobs))

    def finish(self) -> TextStageResult:
        """Store every result, then log the stage."""
        self.store()
        res = self.res
        self.case.log("stage.text", {"documents": res.documents, "pictures": res.pictures, "scanned": res.scanned,
                                     "lines": res.lines, "failed": res.failed})
        return res

    def store(self) -> None:
        """Store every result as it comes (in batches: a crash loses at most one)."""
        try:
            if self._results is not None:
                batch: list[ReadResult] = []
                for i, r in enumerate(self._results):
                    batch.append(r)
                    if len(batch) >= TEXT_BATCH:
                        _store(self.case, batch, self.res)
                        batch = []
                    self.progress(f"text:{self._what}", i + 1, len(self._jobs))
                _store(self.case, batch, self.res)
        except BaseException:
            self.abandon()
            raise
        self._results = None
        self._close()

    def abandon(self) -> None:
        """Drop the jobs not yet stored: a pool's not yet started are cancelled; an executor made here is closed."""
        results, self._results = self._results, None
        close = getattr(results, "close", None)  # a pool's result generator cancels its pending futures on close
        if close is not None:
            close()
        self._close()

    def _close(self) -> None:
        own, self._own = self._own, None
        if own is not None:
            own.close()


def ocr_contents(case: Case, shas: list[str], languages: str | None = None, executor: Executor | None = None,
                 progress: Progress = noop_progress) -> TextStageResult:
    """OCR the given pictures now (again, if read before), page-like or not; given PDFs, every page."""
    res = TextStageResult()
    jobs = pending_scanned(case, only=shas, languages=languages) + pending_pictures(case, only=shas,
                                                                                   languages=languages)
    _run(case, jobs, executor, progress, res, "ocr", pool_from=4)
    case.log("notes.ocr", {"media": shas, "languages": languages, "pictures": res.pictures,
                           "scanned": res.scanned, "lines": res.lines, "failed": res.failed})
    return res


def _run(case: Case, jobs: list[ReadJob], executor: Executor | None, progress: Progress, res: TextStageResult,
         what: str, pool_from: int) -> None:
    """Read the jobs and store what they read, now."""
    flight = TextInFlight(case, res, progress)
    flight.submit(jobs, executor, what, pool_from)
    flight.store()


def _store(case: Case, results: list[ReadResult], res: TextStageResult) -> None:
    if not results:
        return
    now = datetime.now(UTC)
    with case.begin() as con:
        holders = _holders_of(con, [r.sha256 for r in results])
        for r in results:
            origin = r.method
            where = holders.get(r.sha256)
            source_id, relpath = (where[0][1], where[0][2]) if where else (None, f"content {r.sha256}")
            if r.status == "unavailable":
                _problem(con, source_id, relpath, r.sha256, r.reason or "not read", "warning", now)
                continue
            con.execute(delete(S.text_lines).where(S.text_lines.c.sha256 == r.sha256)
                        .where(S.text_lines.c.origin == origin))
            con.execute(delete(S.text_reads).where(S.text_reads.c.sha256 == r.sha256)
                        .where(S.text_reads.c.method == r.method))
            if r.lines:
                con.execute(S.text_lines.insert(), [_line_row(r, ln, now) for ln in r.lines])
            con.execute(S.text_reads.insert().values(
                sha256=r.sha256, method=r.method, kind=r.kind, status=r.status, pages=r.pages, lines=len(r.lines),
                reason=(r.reason or None) and r.reason[:2000], by=r.by, at=now))
            if r.status == "failed":
                res.failed += 1
                what = ("document not read" if r.method == "text" else
                        "pages without text not OCR'd" if r.kind == "pdf" else "picture not read")
                _problem(con, source_id, relpath, r.sha256, f"{r.kind} {what}: {r.reason}", "error", now)
            for p in r.problems:
                part = "scanned pages read in part" if r.method == "ocr" else "document read in part"
                _problem(con, source_id, relpath, r.sha256, f"{r.kind} {part}: {p}", "warning", now)
            if r.status != "not-page":
                if r.method == "text":
                    res.documents += 1
                elif r.kind == "pdf":
                    res.scanned += 1
                else:
                    res.pictures += 1
            res.lines += len(r.lines)


def _line_row(r: ReadResult, ln: TextLine, now: datetime) -> dict[str, Any]:
    b = ln.box
    return {"sha256": r.sha256, "origin": r.method, "page": ln.page, "line_no": ln.line_no, "text": ln.text,
            "box_left": b.left if b else None, "box_top": b.top if b else None,
            "box_width": b.width if b else None, "box_height": b.height if b else None,
            "confidence": ln.confidence, "rotation": ln.rotation, "language": r.languages, "by": ln.by or r.by,
            "at": now, "image": ln.image}


def _holders_of(con: Connection, shas: list[str]) -> dict[str, list[tuple[str, int, str]]]:
    out: dict[str, list[tuple[str, int, str]]] = {}
    q = (select(S.source_files.c.sha256, S.sources.c.exhibit, S.source_files.c.source_id, S.source_files.c.relpath)
         .join(S.sources, S.sources.c.id == S.source_files.c.source_id).where(S.source_files.c.sha256.in_(shas)))
    for r in con.execute(q):
        out.setdefault(r.sha256, []).append((r.exhibit, r.source_id, r.relpath))
    for v in out.values():
        v.sort()
    return out


def _problem(con: Connection, source_id: int | None, relpath: str, sha: str, reason: str, severity: str,
             now: datetime) -> None:
    con.execute(S.problems.insert().values(source_id=source_id, stage="text", file=relpath, reason=reason[:4000],
                                           severity=severity, locator=f"sha256:{sha}", at=now))


def _problem_once(case: Case, reason: str) -> None:
    with case.begin() as con:
        seen = con.execute(select(S.problems.c.id).where(S.problems.c.stage == "text")
                           .where(S.problems.c.reason == reason).limit(1)).first()
        if seen is None:
            con.execute(S.problems.insert().values(stage="text", file="(case)", reason=reason, severity="warning",
                                                   at=datetime.now(UTC)))

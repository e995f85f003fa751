"""Documents on any source: recognised by content, their text lines (page, line) stored by the text stage, bounded,
a named problem for each bad one, resumable and idempotent. Fixtures are the synthetic notes, built in code."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

import ringtrace
from ringtrace.case import Case
from ringtrace.documents.extract import DocumentError, extract_document
from ringtrace.documents.kinds import document_kind
from ringtrace.documents.limits import DocLimits
from ringtrace.store import schema as S
from ringtrace.synth.formats.notes import compose_pages, document_bytes, pdf_bytes

pytest.importorskip("pypdf", reason="the documents extra is not installed (pip install 'ringtrace[documents]')")

PAGES = compose_pages(11, n_pages=2, n_lines=4)
WANT = [(p + 1, i + 1, t) for p, page in enumerate(PAGES) for i, t in enumerate(page.texts)]


@pytest.mark.parametrize("kind", ["pdf", "docx", "odt", "rtf", "txt"])
def test_each_kind_is_recognised_by_content_and_gives_the_rendered_lines(kind: str, tmp_path: Path) -> None:
    data = document_bytes(kind, PAGES)
    path = tmp_path / "no-extension"  # the name says nothing
    path.write_bytes(data)
    found = document_kind(data[:4096], path)
    assert found == ("text" if kind == "txt" else kind)
    ex = extract_document(path, found)
    assert [(ln.page, ln.line_no, ln.text) for ln in ex.lines] == WANT
    assert ex.pages == 2 and not ex.problems
    assert all(ln.box is None and ln.confidence is None for ln in ex.lines)


def test_not_documents_are_left_alone() -> None:
    assert document_kind(b'{"messages": []}') is None  # JSON is some format's, not a note
    assert document_kind(b"<html><body>x</body></html>") is None
    assert document_kind(b"\x89PNG\r\n\x1a\n" + bytes(100)) is None
    assert document_kind(b"PK\x03\x04" + bytes(100)) is None  # a zip that is no office document
    assert document_kind("Lista de la compra: pan, leche\n".encode("utf-16")) == "text"
    assert document_kind("caf\xe9 con leche\n".encode("cp1252")) == "text"


def test_encrypted_pdf_is_a_named_problem_unless_it_opens_without_password(tmp_path: Path) -> None:
    pytest.importorskip("cryptography")
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(pdf_bytes([PAGES[0].texts], password="s3cret"))
    with pytest.raises(DocumentError, match="encrypted PDF"):
        extract_document(locked, "pdf")
    open_ = tmp_path / "owner-only.pdf"  # only an owner password: viewers open it, so do we
    open_.write_bytes(pdf_bytes([PAGES[0].texts], password=""))
    assert [ln.text for ln in extract_document(open_, "pdf").lines] == PAGES[0].texts


def _zip(members: dict[str, bytes], stored: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_zip_bombs_and_entity_expansion_are_refused_before_anything_is_inflated(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.docx"
    bomb.write_bytes(_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>",
                           "word/media/fill.bin": bytes(8 * 1024 * 1024)}))
    assert document_kind(bomb.read_bytes()[:4096], bomb) == "docx"
    with pytest.raises(DocumentError, match="zip bomb"):
        extract_document(bomb, "docx")
    with pytest.raises(DocumentError, match="inflates to"):
        extract_document(bomb, "docx", DocLimits(max_zip_total=1024 * 1024))
    laughs = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
              b"<d>&b;</d>")
    evil = tmp_path / "laughs.docx"
    evil.write_bytes(_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": laughs}))
    with pytest.raises(DocumentError, match="DTD"):
        extract_document(evil, "docx")


def test_pages_and_characters_are_bounded(tmp_path: Path) -> None:
    p = tmp_path / "long.txt"
    p.write_bytes(document_bytes("txt", PAGES))
    ex = extract_document(p, "text", DocLimits(max_pages=1))
    assert {ln.page for ln in ex.lines} == {1} and any("only the first 1" in x for x in ex.problems)
    ex = extract_document(p, "text", DocLimits(max_chars=30))
    assert sum(len(ln.text) for ln in ex.lines) <= 30 and any("cut at 30" in x for x in ex.problems)
    with pytest.raises(DocumentError, match="larger than"):
        extract_document(p, "text", DocLimits(max_file_bytes=10))


def _evidence(tmp_path: Path) -> Path:
    ev = tmp_path / "laptop"
    (ev / "Documents").mkdir(parents=True)
    for kind in ("pdf", "docx", "odt", "rtf"):
        (ev / "Documents" / f"list.{kind}").write_bytes(document_bytes(kind, PAGES))
    (ev / "Documents" / "copy-of-list.bin").write_bytes(document_bytes("pdf", PAGES))  # same content, once
    (ev / "Documents" / "notes.txt").write_bytes(document_bytes("txt", PAGES[:1]))
    (ev / "Documents" / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage")
    (ev / "Documents" / "locked.pdf").write_bytes(pdf_bytes([PAGES[1].texts], password="s3cret"))
    (ev / "Documents" / "torn.docx").write_bytes(document_bytes("docx", PAGES)[:3000])
    return ev


def test_text_stage_stores_lines_of_every_document_once_and_names_bad_ones(case: Case, tmp_path: Path) -> None:
    pytest.importorskip("cryptography")
    ringtrace.ingest(case, _evidence(tmp_path), exhibit="EX-LAPTOP")
    ringtrace.run(case)
    with case.engine.connect() as con:
        files = {f.relpath: f.sha256 for f in con.execute(select(S.source_files))}
        reads = {r.sha256: r for r in con.execute(select(S.text_reads))}
        probs = [(p.file, p.reason, p.severity) for p in con.execute(select(S.problems)
                                                                     .where(S.problems.c.stage == "text"))]

        def lines(rel: str) -> list[tuple[int, int, str]]:
            q = (select(S.text_lines.c.page, S.text_lines.c.line_no, S.text_lines.c.text)
                 .where(S.text_lines.c.sha256 == files[rel]).order_by(S.text_lines.c.page, S.text_lines.c.line_no))
            return [tuple(r) for r in con.execute(q)]  # type: ignore[misc]

        for kind in ("pdf", "docx", "odt", "rtf"):
            assert lines(f"Documents/list.{kind}") == WANT, kind
            r = reads[files[f"Documents/list.{kind}"]]
            assert (r.method, r.kind, r.status, r.pages, r.lines) == ("text", kind, "read", 2, len(WANT))
        assert lines("Documents/notes.txt")[0] == (1, 1, PAGES[0].texts[0])
        assert all(r.origin == "text" and r.by for r in con.execute(select(S.text_lines)))
        n_lines = con.execute(select(func.count()).select_from(S.text_lines)).scalar()
    text = "\n".join(f"{f}: {why}" for f, why, _ in probs)
    for bad, why in (("broken.pdf", "not a readable PDF"), ("locked.pdf", "encrypted PDF"),
                     ("torn.docx", "zip")):
        assert any(f.endswith(bad) and why in r and sev == "error" for f, r, sev in probs), (bad, text)
    assert reads[files["Documents/locked.pdf"]].status == "failed"
    # a second run reads nothing again and adds nothing
    res = ringtrace.run(case)
    assert res.text.documents == 0
    with case.engine.connect() as con:
        assert con.execute(select(func.count()).select_from(S.text_lines)).scalar() == n_lines
        assert con.execute(select(func.count()).select_from(S.problems)
                           .where(S.problems.c.stage == "text")).scalar() == len(probs)


def test_chat_exports_are_not_read_as_documents(case: Case, tmp_path: Path) -> None:
    ev = tmp_path / "phone"
    ev.mkdir()
    chat = "\n".join(f"0{d}/03/2025, 10:0{d} - +34 612 34 56 7{d}: hello {d}" for d in range(1, 8)) + "\n"
    (ev / "WhatsApp Chat with Ana.txt").write_text(chat, encoding="utf-8")
    ringtrace.ingest(case, ev, exhibit="EX-1", timezone="Europe/Madrid")
    ringtrace.run(case)
    with case.engine.connect() as con:
        assert con.execute(select(func.count()).select_from(S.text_lines)).scalar() == 0


def test_a_crash_mid_stage_is_completed_by_the_next_run(case: Case, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from ringtrace.stages import text as text_stage

    ringtrace.ingest(case, _evidence(tmp_path), exhibit="EX-LAPTOP")
    real = text_stage.read_job
    calls = {"n": 0}

    def crashing(job: text_stage.ReadJob) -> text_stage.ReadResult:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("power cut")
        return real(job)

    monkeypatch.setattr(text_stage, "read_job", crashing)
    monkeypatch.setattr(text_stage, "TEXT_BATCH", 1)
    with pytest.raises(KeyboardInterrupt):
        ringtrace.run(case)
    with case.engine.connect() as con:
        half = con.execute(select(func.count()).select_from(S.text_reads)).scalar()
    assert half == 2  # what was read before the crash is kept
    monkeypatch.setattr(text_stage, "read_job", real)
    res = ringtrace.run(case)
    with case.engine.connect() as con:
        done = con.execute(select(func.count()).select_from(S.text_reads)).scalar()
        per = con.execute(select(S.text_lines.c.sha256, func.count()).group_by(S.text_lines.c.sha256)).all()
        failed = con.execute(select(func.count()).select_from(S.text_reads)
                             .where(S.text_reads.c.status == "failed")).scalar()
    assert failed == 3  # broken, locked, torn
    assert res.text.documents == done - half
    assert done == 8  # 4 kinds + text + broken + locked + torn; the copy is the same content
    assert all(n in (len(WANT), len(PAGES[0].texts)) for _, n in per)  # no line stored twice


# ---- photos of paper on pages that have a text layer ------------------------------------------------------------


def _report_with_photo(photo: bytes, logo: bytes, n_photos: int = 1) -> bytes:
    """A typed report (text layer on every page) with a photo of a handwritten-like note pasted on page 1 (and
    more copies of it when asked) and a small logo on page 2 (too small to be paper)."""
    from datetime import UTC, datetime

    from fpdf import FPDF

    from ringtrace.synth.formats.notes import PRINT_FONT

    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime(2000, 1, 1, tzinfo=UTC))
    pdf.add_font("DejaVu", fname=PRINT_FONT)
    pdf.set_font("DejaVu", size=12)
    pdf.add_page()
    pdf.cell(0, 9, "Search report: items found in the kitchen drawer", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 9, "Item 3, a note, photographed in place:", new_x="LMARGIN", new_y="NEXT")
    for k in range(n_photos):
        pdf.image(io.BytesIO(photo), x=15 + 2 * k, y=40 + 2 * k, w=150)  # the same picture: one XObject
    pdf.add_page()
    pdf.cell(0, 9, "Page two of the report, with the unit's logo only.", new_x="LMARGIN", new_y="NEXT")
    pdf.image(io.BytesIO(logo), x=15, y=30, w=20)
    return bytes(pdf.output())


def _note_photo() -> tuple[list[str], bytes]:
    import random

    from ringtrace.synth.formats.notes import RenderStyle, compose_page, encode, render_page_image

    page = compose_page(random.Random(21), "GB", set(), n_lines=4)
    st = RenderStyle(medium="photo", skew=0.5, size=32, page_px=(1100, 700), noise=3.0)
    return page.texts, encode(render_page_image(page, st, seed=2), "photo")


def _size(photo: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(photo)) as img:
        return img.size


def _logo() -> bytes:
    from ringtrace.synth.images import base_image, encode_jpeg

    return encode_jpeg(base_image(5, (120, 90)))


def test_photos_on_pages_with_text_are_listed_by_their_declared_size_and_bounded(tmp_path: Path) -> None:
    from ringtrace.documents.extract import page_photos, photo_image

    _, photo = _note_photo()
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(_report_with_photo(photo, _logo()))
    w, h = _size(photo)
    photos, problems = page_photos(pdf, [1, 2, 7])
    assert [(p.page, p.width, p.height) for p in photos] == [(1, w, h)] and not problems
    assert photos[0].label == f"{photos[0].name} ({w}x{h})"
    assert photo_image(pdf, photos[0]).size == (w, h)
    # a picture past the OCR pixel bound is not decoded, and the count of photos is bounded
    few, why = page_photos(pdf, [1], DocLimits(max_ocr_pixels=500_000))
    assert not few and why == [f"page 1: picture {photos[0].name} of {w}x{h} pixels is larger than the 500000-pixel "
                               "OCR limit: not read"]
    none, why = page_photos(pdf, [1], DocLimits(max_pdf_photos=0))
    assert not none and "more than 0 photos" in why[0]
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\n garbage")
    assert page_photos(bad, [1])[0] == []


@pytest.mark.skipif(__import__("shutil").which("tesseract") is None, reason="tesseract is not installed")
def test_a_photo_of_a_note_on_a_page_with_text_is_ocrd_with_page_box_and_picture(case: Case, tmp_path: Path) -> None:
    import difflib

    texts, photo = _note_photo()
    ev = tmp_path / "office"
    ev.mkdir()
    (ev / "report.pdf").write_bytes(_report_with_photo(photo, _logo()))
    ringtrace.ingest(case, ev, exhibit="EX-OFFICE")
    res = ringtrace.run(case)
    with case.engine.connect() as con:
        rows = con.execute(select(S.text_lines).order_by(S.text_lines.c.origin, S.text_lines.c.page,
                                                         S.text_lines.c.line_no)).all()
        reads = {r.method: r for r in con.execute(select(S.text_reads))}
    text = [r for r in rows if r.origin == "text"]
    ocr = [r for r in rows if r.origin == "ocr"]
    assert {r.page for r in text} == {1, 2} and all(r.image is None for r in text)  # the text layer as it was
    assert ocr and {r.page for r in ocr} == {1}  # the photo's page only; the logo is no paper
    w, h = _size(photo)
    assert {r.image for r in ocr} == {ocr[0].image} and ocr[0].image.endswith(f"({w}x{h})")
    assert [r.line_no for r in ocr] == list(range(1, len(ocr) + 1))
    assert all(r.box_width and 0 <= r.box_left and r.box_left + r.box_width <= w for r in ocr)  # its pixels
    got = "\n".join(r.text for r in ocr)
    assert difflib.SequenceMatcher(None, "\n".join(texts), got).ratio() > 0.8, got
    assert (reads["ocr"].status, reads["ocr"].pages) == ("read", 1) and res.text.scanned == 1
    assert "photos on pages with text: 1" in reads["ocr"].reason
    assert ringtrace.run(case).text.scanned == 0  # recorded: not read twice

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

"""The synthetic notes and their ground truth, the interface entity extraction is measured against: every entity's
text is on its line, values are valid (phones for their country, ISO dates), files are what the truth says, the
same seed gives the same bytes, and the operation holds the notes exhibit with lines its documents really give."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import phonenumbers
import pytest

from ringtrace.synth.formats.notes import ENTITY_KINDS, TOWNS, write_notes


def test_ground_truth_is_consistent_and_deterministic(tmp_path: Path) -> None:
    pytest.importorskip("docx", reason="the documents extra is not installed")
    truth = write_notes(tmp_path / "a", seed=9, n_pages=3)
    again = write_notes(tmp_path / "b", seed=9, n_pages=3)
    assert [f["sha256"] for f in truth["files"]] == [f["sha256"] for f in again["files"]]
    media = {f["medium"] for f in truth["files"]}
    assert {"photo", "scan", "pdf", "docx"} <= media
    assert any(f["style"] == "hand" for f in truth["files"]) and any(f["turn"] == 90 for f in truth["files"])
    kinds = set()
    for f in truth["files"]:
        assert hashlib.sha256((tmp_path / "a" / f["path"]).read_bytes()).hexdigest() == f["sha256"]
        for page in f["pages"]:
            lines = {ln["line"]: ln["text"] for ln in page["lines"]}
            assert sorted(lines) == list(range(1, len(lines) + 1))
            for e in page["entities"]:
                kinds.add(e["kind"])
                assert e["kind"] in ENTITY_KINDS and e["page"] == page["page"]
                assert e["text"] in lines[e["line"]], e
                if e["kind"] == "phone":
                    num = phonenumbers.parse(e["value"])
                    assert phonenumbers.is_valid_number(num)
                    assert phonenumbers.region_code_for_number(num) == page["country"]
                    assert phonenumbers.parse(e["text"]).national_number == num.national_number
                elif e["kind"] == "date":
                    assert date.fromisoformat(e["value"]).year < 2025
                elif e["kind"] == "place":
                    assert e["value"] == {"town": e["text"], "country": page["country"]}
                    assert e["text"] in TOWNS[page["country"]]
                elif e["kind"] == "age":
                    assert e["value"] == int(e["text"])
                elif e["kind"] == "email":
                    assert e["value"].endswith(("@example.org", "@example.net")) and e["value"].isascii()
                elif e["kind"] == "username":
                    assert e["text"] == "@" + e["value"]
    assert kinds == set(ENTITY_KINDS)
    json.dumps(truth)  # it is what ground-truth.json holds


def test_operation_holds_the_notes_exhibit_and_its_documents_give_the_truths_lines(tiny_operation: Path) -> None:
    pytest.importorskip("pypdf", reason="the documents extra is not installed")
    from ringtrace.documents.extract import extract_document
    from ringtrace.documents.kinds import document_kind

    manifest = json.loads((tiny_operation / "operation.json").read_text(encoding="utf-8"))
    truth = json.loads((tiny_operation / "ground-truth.json").read_text(encoding="utf-8"))["notes"]
    ex = next(e for e in manifest["exhibits"] if e["exhibit"] == "EX-NOTES")
    assert ex["paper"] and truth["exhibit"] == "EX-NOTES"
    assert {f["medium"] for f in truth["files"]} == {"pdf", "docx"}  # the tiny scale: no pictures to OCR
    for f in truth["files"]:
        p = tiny_operation / ex["path"] / f["path"]
        got = extract_document(p, document_kind(p.read_bytes()[:4096], p) or "")
        want = [(pg["page"], ln["line"], ln["text"]) for pg in f["pages"] for ln in pg["lines"]]
        assert [(ln.page, ln.line_no, ln.text) for ln in got.lines] == want

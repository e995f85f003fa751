"""OCR of pictures of paper (Tesseract): lines with boxes and confidences, orientation detected, which pictures are
read, resumable; examiners' transcriptions kept beside OCR, audited. Pages are rendered in code, small and few."""

from __future__ import annotations

import importlib.util
import io
import json
import random
import shutil
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select
from typer.testing import CliRunner

import ringtrace
from ringtrace.case import Case
from ringtrace.documents.lines import Box, TextLine
from ringtrace.documents.settings import configure
from ringtrace.media.pagelike import page_likeness
from ringtrace.store import schema as S
from ringtrace.synth.formats.notes import NotePage, RenderStyle, compose_page, encode, render_page_image
from ringtrace.synth.images import base_image, encode_jpeg

needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None,
                                     reason="tesseract is not installed (apt-get install tesseract-ocr)")
pytest.importorskip("pytesseract", reason="the documents extra is not installed (pip install 'ringtrace[documents]')")


def _page(seed: int = 4, n: int = 4) -> NotePage:
    return compose_page(random.Random(seed), "GB", set(), n_lines=n)


def _picture(page: NotePage, turn: int = 0, medium: str = "scan") -> bytes:
    st = RenderStyle(medium=medium, turn=turn, skew=0.8, size=30, page_px=(1000, 640), noise=4.0)
    return encode(render_page_image(page, st, seed=1), medium)


def _cer(want: str, got: str) -> float:
    import difflib

    sm = difflib.SequenceMatcher(None, want, got, autojunk=False)
    return 1 - sum(b.size for b in sm.get_matching_blocks()) / max(1, len(want))


@needs_tesseract
def test_printed_page_gives_its_lines_with_boxes_and_confidence() -> None:
    from ringtrace.media.ocr import ocr_picture

    page = _page()
    res = ocr_picture(Image.open(io.BytesIO(_picture(page))), "eng")
    assert [ln.line_no for ln in res.lines] == list(range(1, len(res.lines) + 1))
    assert len(res.lines) == len(page.texts)
    for want, ln in zip(page.texts, res.lines, strict=True):
        assert _cer(want, ln.text) < 0.1, (want, ln.text)
        assert ln.box is not None and ln.box.width > 100 and 10 < ln.box.height < 120
        assert ln.confidence is not None and ln.confidence > 60
    tops = [ln.box.top for ln in res.lines if ln.box]
    assert tops == sorted(tops)  # reading order
    assert res.by.startswith("tesseract ") and res.languages == "eng"


@needs_tesseract
def test_a_page_photographed_sideways_is_turned_upright_before_reading() -> None:
    from ringtrace.media.ocr import ocr_picture

    page = _page(seed=8, n=6)
    res = ocr_picture(Image.open(io.BytesIO(_picture(page, turn=90))), "eng")
    assert res.rotation == 90
    assert all(ln.rotation == 90 for ln in res.lines)
    assert _cer("\n".join(page.texts), "\n".join(ln.text for ln in res.lines)) < 0.1


@needs_tesseract
def test_a_page_upside_down_is_turned_half_way_round() -> None:
    from ringtrace.media.ocr import garbled, ocr_picture

    page = _page(seed=8, n=6)
    res = ocr_picture(Image.open(io.BytesIO(_picture(page, turn=180, medium="photo"))), "eng")
    assert res.rotation == 180 and all(ln.rotation == 180 for ln in res.lines)
    assert _cer("\n".join(page.texts), "\n".join(ln.text for ln in res.lines)) < 0.1
    assert garbled(res.lines) < 0.1


@needs_tesseract
def test_an_unsure_reading_of_a_small_hand_is_read_again_larger_and_kept_if_surer() -> None:
    from ringtrace.documents.limits import DEFAULT_DOC_LIMITS
    from ringtrace.media import ocr
    from ringtrace.synth.formats.notes import HAND_FONTS

    font = HAND_FONTS["dancingscript"]
    if not Path(font).is_file():
        pytest.skip("fonts-dancingscript is not installed")
    page = _page()
    img = render_page_image(page, RenderStyle(font=font, medium="scan", skew=0.8, size=30, page_px=(1000, 640),
                                              noise=4.0), seed=1)
    res = ocr.ocr_picture(img, "eng")
    plain = ocr._read(img, "eng", 0, DEFAULT_DOC_LIMITS)
    assert any(n.startswith("read at 1.5x") for n in res.notes), res.notes
    want = "\n".join(page.texts)
    assert _cer(want, "\n".join(ln.text for ln in res.lines)) < _cer(want, "\n".join(ln.text for ln in plain))
    # boxes stay in pixels of the picture as it is, not of the enlarged copy
    for ln, near in zip(res.lines, plain, strict=False):
        assert ln.box is not None and near.box is not None
        assert ln.box.left + ln.box.width <= 1000 and ln.box.top + ln.box.height <= 640
        assert abs((ln.box.top + ln.box.height / 2) - (near.box.top + near.box.height / 2)) < 15


needs_rapidocr = pytest.mark.skipif(
    importlib.util.find_spec("rapidocr") is None,
    reason="rapidocr is not installed (pip install 'ringtrace[documents]')")


def _hand_page(font: str, turn: int = 0) -> tuple[NotePage, Image.Image]:
    from ringtrace.synth.formats.notes import HAND_FONTS

    if not Path(HAND_FONTS[font]).is_file():
        pytest.skip(f"the {font} font is not installed")
    page = compose_page(random.Random(3), "ES", set(), n_lines=3)
    st = RenderStyle(font=HAND_FONTS[font], medium="scan", size=36, page_px=(1100, 420), noise=4.0, turn=turn)
    return page, render_page_image(page, st, seed=2)


def test_rapidocr_boxes_are_gathered_into_lines_down_the_page() -> None:
    from ringtrace.media.ocr import rapid_lines

    def box(x0: int, y0: int, x1: int, y1: int) -> list[list[int]]:
        return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]

    boxes = [[box(300, 12, 420, 48), "13, Cuenca", 0.8], [box(10, 10, 280, 50), "Carmen Lunsett,", 0.9],
             [box(12, 80, 200, 118), "Alba Sallow", 0.7], [box(0, 0, 5, 5), "  ", 0.9], ["junk"]]
    lines = rapid_lines(boxes, 90, 20, "rapid")
    assert [ln.text for ln in lines] == ["Carmen Lunsett, 13,", "Alba Sallow"]  # cut at max_line_chars
    assert [ln.line_no for ln in lines] == [1, 2] and all(ln.rotation == 90 and ln.by == "rapid" for ln in lines)
    assert lines[0].box == Box(10, 10, 410, 40) and lines[0].confidence == 86.09  # character-weighted


def test_two_readings_of_a_line_are_fused_word_by_word() -> None:
    from ringtrace.media.ocr import combine, fuse, plausible

    assert plausible("Carmen") == 1 and plausible("+34") == 1 and plausible("@owl_lamp16") == 1
    assert plausible("Lunsett,") == 0 and plausible("sAllow") == -1 and plausible("Carl。") == -1
    assert plausible("2OC9") == 0 and plausible("Sallow-Lugo-@quiet_oak90") == 0 and plausible("Ana-sAllow") == -1
    # what both read alike keeps the accents, else RapidOCR's spelling (its case); where they differ RapidOCR's
    # word is kept, a misreading either way
    assert fuse("Lucía Ruddock, 46, Málaga #34 CIV", "Lucia Ruddock, 46, Malaga +34 612") == \
        "Lucía Ruddock, 46, Málaga +34 612"
    assert fuse("luca Sallan", "Luca Sallew") == "Luca Sallew"
    assert fuse("Carmen Lunsett,", "Carnen Lunset,") == "Carnen Lunset,"
    assert fuse("Carmen Lunsett,", "Carmen Lunset+,") == "Carmen Lunsett,"
    # the case languages' letters a reader dropped (ñ, ç, ã, ö, ß ...) come from the other where it read them
    assert fuse("João Gonçalves, Würzburg, Peña, Weiß", "Joao Goncalves, Wurzburg, Pena, Weiss") == \
        "João Gonçalves, Würzburg, Peña, Weiß"
    assert fuse("Malaga", "Málaga") == "Málaga"
    # a word no writer writes (case flipping inside it, a sign among letters) gives way to Tesseract's; a run
    # Tesseract alone read is left out, one RapidOCR alone read kept
    assert fuse("Alba Sallow", "Alba sAllow") == "Alba Sallow"
    assert fuse("Alba Sallow P", "Alba Sallow") == "Alba Sallow"
    assert fuse("Alba", "Alba Sallow") == "Alba Sallow"
    # a number with letters read for digits (any of ocr_repair's look-alikes) is a number misread, not a non-word
    assert plausible("ZO2C") == 0 and plausible("C2/07/2C16") == 0 and plausible("l6") == 0
    assert fuse("18 Apnil VUVO", "18 Apnil ZO2C") == "18 Apnil ZO2C"
    # a capital O RapidOCR read as '@' gives way to Tesseract's capitalised word; a handle both read stays one
    assert fuse("Ellis Orrin - Exeter", "Ellis @rrin - Exeter") == "Ellis Orrin - Exeter"
    assert fuse("Carmen Orrin", "Carmen @Rrin") == "Carmen Orrin"
    assert fuse("Ellis - Qowl_lamp16", "Ellis - @owl_lamp16") == "Ellis - @owl_lamp16"
    assert fuse("Ellis - OWLS", "Ellis - @WLS") == "Ellis - @WLS"
    tess = [TextLine(1, 1, "Bok Café", Box(10, 10, 300, 40), 60.0, 0, "tess"),
            TextLine(1, 2, "Alba Sallow", Box(10, 120, 300, 40), 70.0, 0, "tess")]
    rapid = [TextLine(1, 1, "Book Cafe", Box(12, 14, 290, 36), 90.0, 0, "rapid"),
             TextLine(1, 2, "Jorge Varnet", Box(10, 60, 300, 40), 88.0, 0, "rapid")]
    got = combine(tess, rapid)
    assert [(ln.line_no, ln.text, ln.by) for ln in got] == [
        (1, "Book Café", "tess + rapid"), (2, "Jorge Varnet", "rapid"), (3, "Alba Sallow", "tess")]
    assert got[0].box == tess[0].box and got[0].confidence == 90.0  # Tesseract's box, the surer confidence


@needs_tesseract
@needs_rapidocr
def test_an_unsure_handwritten_page_is_read_again_by_rapidocr() -> None:
    from ringtrace.media import ocr

    page, img = _hand_page("femkeklaver")
    res = ocr.ocr_picture(img, "spa")
    assert any(n.startswith("read again by RapidOCR") for n in res.notes), res.notes
    assert "rapidocr 3." in res.by and res.by.startswith("tesseract ")
    assert {ln.by for ln in res.lines} - {None} and all(ln.by for ln in res.lines)
    assert [ln.line_no for ln in res.lines] == list(range(1, len(res.lines) + 1))
    for ln in res.lines:
        assert ln.box is not None and ln.box.left + ln.box.width <= 1100 and ln.box.top + ln.box.height <= 420
        assert ln.confidence is not None and 0 <= ln.confidence <= 100
    alone = ocr._read(img, "spa", 0, ocr.DEFAULT_DOC_LIMITS)
    want = "\n".join(page.texts)
    assert _cer(want, "\n".join(ln.text for ln in res.lines)) < _cer(want, "\n".join(ln.text for ln in alone))


@needs_tesseract
@needs_rapidocr
def test_rapidocr_reads_a_page_turned_upright_first() -> None:
    from ringtrace.media import ocr

    page, img = _hand_page("dkg-handwriting", turn=180)
    res = ocr.ocr_picture(img, "spa")
    assert res.rotation == 180 and all(ln.rotation == 180 for ln in res.lines)
    assert any(n.startswith("read again by RapidOCR") for n in res.notes), res.notes
    assert _cer("\n".join(page.texts), "\n".join(ln.text for ln in res.lines)) < 0.2
    # boxes in pixels of the page as read, that is turned (here the same size)
    assert all(ln.box and ln.box.left + ln.box.width <= 1100 and ln.box.top + ln.box.height <= 420 for ln in res.lines)


@needs_rapidocr
def test_rapidocr_detects_on_a_copy_bounded_in_size_and_recognises_the_page_itself(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the detector's memory grows with the pixels it is given (~700 MB on a page at full size): it gets a copy at
    # most RAPID_DET_SIDE a side, while its boxes come back in pixels of the page and the recogniser reads the page
    from rapidocr.ch_ppocr_det.utils import DetPreProcess

    from ringtrace.media import ocr

    side = ocr.RAPID_DET_SIDE
    assert side is not None and side < 2000  # under RapidOCR's own bound, else nothing is bounded
    seen: list[tuple[int, ...]] = []
    resize = DetPreProcess.resize

    def spy(self: DetPreProcess, img: object) -> object:
        out = resize(self, img)
        seen.append(getattr(out, "shape", ()))
        return out

    monkeypatch.setattr(DetPreProcess, "resize", spy)
    page = _page(seed=6, n=3)
    st = RenderStyle(medium="scan", size=60, page_px=(1900, 1300), noise=2.0)  # larger than the side on both axes
    lines = ocr.read_rapid(render_page_image(page, st, seed=1), 0)
    assert lines is not None and seen
    assert all(max(sh[:2]) <= side + 16 for sh in seen), seen  # rounded to a multiple of 32
    assert _cer("\n".join(page.texts), "\n".join(ln.text for ln in lines)) < 0.1
    # boxes in pixels of the page, not of the detector's copy: the text runs past the copy's width
    assert max(ln.box.left + ln.box.width for ln in lines if ln.box) > side
    assert all(ln.box and ln.box.left + ln.box.width <= 1900 and ln.box.top + ln.box.height <= 1300 for ln in lines)


@needs_tesseract
def test_without_rapidocr_tesseract_reads_alone_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from ringtrace.media import ocr

    monkeypatch.setattr(ocr, "rapid_engine", lambda: None)
    _page_, img = _hand_page("femkeklaver")
    res = ocr.ocr_picture(img, "spa")
    assert any("RapidOCR is not installed" in n for n in res.notes), res.notes
    assert res.by == ocr.tesseract_version() and all(ln.by is None for ln in res.lines)


def test_garbled_words_are_what_a_page_read_upside_down_gives() -> None:
    from ringtrace.documents.lines import TextLine
    from ringtrace.media.ocr import garbled

    upside_down = ["gE1eo JINb© - speeq - JoUeA UeIAN", "ajAeiq UIA! Joy ee} ‘selieyeq 7Z0Z/ZO/ET"]
    handwriting = ["Alba, Sallow = Lugo - @guiet_oak 20", "8 February 2002 milk, stamps for Alva Ostrava",
                   "CHESS evenings", "met O'Neill in Leeds"]
    assert garbled([TextLine(1, i, t) for i, t in enumerate(upside_down, 1)]) > 0.5
    assert garbled([TextLine(1, i, t) for i, t in enumerate(handwriting, 1)]) == 0.0


def test_languages_are_checked_against_what_tesseract_has() -> None:
    from ringtrace.media.ocr import OcrError, check_languages

    with pytest.raises(OcrError, match="not a Tesseract language"):
        check_languages("eng;rm -rf")
    if shutil.which("tesseract"):
        assert check_languages("eng+eng") == "eng"
        with pytest.raises(OcrError, match="not installed: xyz"):
            check_languages("eng+xyz")


def test_page_test_takes_notes_and_not_photos() -> None:
    page = _page()
    assert page_likeness(Image.open(io.BytesIO(_picture(page, medium="photo")))).is_page
    assert page_likeness(Image.open(io.BytesIO(_picture(page, turn=90)))).is_page
    for seed in range(6):  # the synthetic operation's pictures: colour fields and shapes
        assert not page_likeness(base_image(seed, (800, 600))).is_page


def _evidence(tmp_path: Path, page: NotePage) -> Path:
    ev = tmp_path / "search"
    ev.mkdir()
    (ev / "IMG_0001.png").write_bytes(_picture(page))
    (ev / "holiday.jpg").write_bytes(encode_jpeg(base_image(3, (900, 700))))
    (ev / "broken.jpg").write_bytes(encode_jpeg(base_image(4, (900, 700)))[:500])
    return ev


@needs_tesseract
def test_paper_exhibit_is_read_once_and_resumes(case: Case, tmp_path: Path) -> None:
    page = _page()
    ringtrace.ingest(case, _evidence(tmp_path, page), exhibit="EX-PAPER")
    configure(case, "EX-PAPER", paper=True, langs="eng")
    res = ringtrace.run(case)
    with case.engine.connect() as con:
        files = {f.relpath: f.sha256 for f in con.execute(select(S.source_files))}
        rows = con.execute(select(S.text_lines).where(S.text_lines.c.sha256 == files["IMG_0001.png"])
                           .order_by(S.text_lines.c.line_no)).all()
        reads = {r.sha256: r.status for r in con.execute(select(S.text_reads))}
        audit = [r.action for r in con.execute(select(S.audit_log.c.action))]
    assert len(rows) == len(page.texts) and all(r.origin == "ocr" and r.language == "eng" for r in rows)
    assert all(r.box_width and r.confidence is not None and r.rotation == 0 for r in rows)
    # on a paper exhibit every picture is read, page-like or not; the one that will not decode is not
    assert reads[files["IMG_0001.png"]] == "read" and files["holiday.jpg"] in reads
    assert files["broken.jpg"] not in reads
    assert res.text.pictures == 2 and "notes.settings" in audit and "stage.text" in audit
    with case.engine.connect() as con:
        before = con.execute(select(func.count()).select_from(S.text_lines)).scalar()
    again = ringtrace.run(case)
    assert again.text.pictures == 0
    with case.engine.connect() as con:
        assert con.execute(select(func.count()).select_from(S.text_lines)).scalar() == before


def test_pictures_elsewhere_are_read_only_when_they_look_like_paper(case: Case, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import ringtrace.media.ocr as ocr
    from ringtrace.stages import text as text_stage

    seen: list[str] = []
    monkeypatch.setattr(ocr, "tesseract_path", lambda: "/usr/bin/tesseract")  # the spy stands in for it
    real = text_stage.read_job

    def spy(job: text_stage.ReadJob) -> text_stage.ReadResult:
        seen.append(job.sha256)
        if job.force:
            raise AssertionError("not a paper exhibit: nothing is forced")
        if job.method == "ocr" and not page_likeness(Image.open(job.path)).is_page:
            return real(job)
        return text_stage.ReadResult(job.sha256, job.method, job.kind, "empty", "spy")

    monkeypatch.setattr(text_stage, "read_job", spy)
    ringtrace.ingest(case, _evidence(tmp_path, _page()), exhibit="EX-PHONE")
    ringtrace.run(case)
    with case.engine.connect() as con:
        files = {f.relpath: f.sha256 for f in con.execute(select(S.source_files))}
        reads = {r.sha256: r.status for r in con.execute(select(S.text_reads))}
    assert reads[files["holiday.jpg"]] == "not-page"
    assert reads[files["IMG_0001.png"]] == "empty"  # the spy stood in for Tesseract
    # marking the exhibit as paper later reads what the page test passed over
    configure(case, "EX-PHONE", paper=True)
    assert [j.sha256 for j in text_stage.pending_pictures(case)] == [files["holiday.jpg"]]


def test_without_tesseract_the_run_says_so_once_and_reads_later(case: Case, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import ringtrace.media.ocr as ocr

    monkeypatch.setattr(ocr, "tesseract_path", lambda: None)
    ringtrace.ingest(case, _evidence(tmp_path, _page()), exhibit="EX-PAPER")
    configure(case, "EX-PAPER", paper=True)
    ringtrace.run(case)
    ringtrace.run(case)
    with case.engine.connect() as con:
        probs = [p.reason for p in con.execute(select(S.problems).where(S.problems.c.stage == "text"))]
        assert con.execute(select(func.count()).select_from(S.text_reads)).scalar() == 0
    assert len(probs) == 1 and "tesseract is not installed" in probs[0]


def test_transcription_is_the_examiners_audited_and_beside_ocr(case: Case, tmp_path: Path) -> None:
    from ringtrace.cli import app

    page = _page()
    ringtrace.ingest(case, _evidence(tmp_path, page), exhibit="EX-PAPER")
    with case.engine.connect() as con:
        sha = con.execute(select(S.source_files.c.sha256).where(S.source_files.c.relpath == "IMG_0001.png")).scalar()
    assert sha
    f = tmp_path / "page.txt"
    f.write_text("\n".join(page.texts) + "\n\n", encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(app, ["notes", "transcribe", str(case.path), sha[:10], "--text-file", str(f),
                            "--examiner", "DC Rowan Pell", "--reason", "handwriting OCR reads poorly"])
    assert r.exit_code == 0, r.output
    f.write_text("\n".join(page.texts[:2]), encoding="utf-8")
    r = runner.invoke(app, ["notes", "transcribe", str(case.path), sha, "--text-file", str(f), "--examiner",
                            "DC Rowan Pell"])
    assert r.exit_code == 0 and "replacing" in r.output
    with case.engine.connect() as con:
        rows = con.execute(select(S.text_lines).where(S.text_lines.c.sha256 == sha)).all()
        log = [json.loads(a.detail) for a in con.execute(select(S.audit_log)
                                                         .where(S.audit_log.c.action == "notes.transcribe"))]
    assert [(r.origin, r.by, r.line_no, r.text) for r in rows] == [
        ("transcription", "DC Rowan Pell", i + 1, t) for i, t in enumerate(page.texts[:2])]
    assert len(log) == 2 and log[0]["lines"] == len(page.texts) and log[1]["replaced_lines"] == len(page.texts)
    assert log[0]["reason"] == "handwriting OCR reads poorly" and page.texts[0] not in json.dumps(log)
    shown = runner.invoke(app, ["notes", "show", str(case.path), sha[:8]])
    assert shown.exit_code == 0 and page.texts[1] in shown.output
    bad = runner.invoke(app, ["notes", "transcribe", str(case.path), "zzzz", "--text-file", str(f)])
    assert bad.exit_code == 2 and "not a sha256" in bad.output


# ---- scanned PDFs: pages without a text layer rendered and OCR'd --------------------------------------------

needs_pdftoppm = pytest.mark.skipif(shutil.which("pdftoppm") is None,
                                    reason="pdftoppm is not installed (apt-get install poppler-utils)")


def _scan(page: NotePage) -> Image.Image:
    st = RenderStyle(medium="scan", skew=0.8, size=30, page_px=(1000, 640), noise=4.0)
    return render_page_image(page, st, seed=1)


@needs_tesseract
@needs_pdftoppm
def test_scanned_pdf_pages_are_ocrd_with_their_page_numbers(case: Case, tmp_path: Path) -> None:
    from ringtrace.synth.formats.notes import scanned_pdf_bytes

    typed, scanned = _page(seed=4), _page(seed=9)
    ev = tmp_path / "laptop"
    ev.mkdir()
    # a typed page (text layer) then a scanned one (a picture, no text): as a scanning app files a letter
    (ev / "scan0001.pdf").write_bytes(scanned_pdf_bytes([typed.texts, _scan(scanned)], dpi=300))
    ringtrace.ingest(case, ev, exhibit="EX-LAPTOP")
    res = ringtrace.run(case)
    with case.engine.connect() as con:
        rows = con.execute(select(S.text_lines).order_by(S.text_lines.c.origin, S.text_lines.c.page,
                                                         S.text_lines.c.line_no)).all()
        reads = {r.method: r for r in con.execute(select(S.text_reads))}
        probs = con.execute(select(S.problems.c.reason).where(S.problems.c.stage == "text")).scalars().all()
    text = [r for r in rows if r.origin == "text"]
    ocr = [r for r in rows if r.origin == "ocr"]
    assert [(r.page, r.text) for r in text] == [(1, t) for t in typed.texts]  # the text layer is not OCR'd
    assert {r.page for r in ocr} == {2} and [r.line_no for r in ocr] == list(range(1, len(ocr) + 1))
    assert _cer("\n".join(scanned.texts), "\n".join(r.text for r in ocr)) < 0.1
    # boxes in pixels of the page as rendered (300 dpi: the picture's own size here)
    assert all(r.box_width and 0 < r.box_left + r.box_width <= 1000 and r.confidence > 60 for r in ocr)
    assert all(r.by.startswith("tesseract ") and "pdftoppm" in r.by and r.language == "eng" for r in ocr)
    assert (reads["ocr"].kind, reads["ocr"].status, reads["ocr"].pages) == ("pdf", "read", 1)
    assert "pages without text: 2" in reads["ocr"].reason and res.text.scanned == 1 and not probs
    again = ringtrace.run(case)  # recorded: not read twice
    assert again.text.scanned == 0 and again.text.documents == 0
    # on request every page is OCR'd, the typed one too (a text layer can be wrong), the text layer kept
    from ringtrace.cli import app

    r = CliRunner().invoke(app, ["notes", "ocr", str(case.path), reads["ocr"].sha256[:10]])
    assert r.exit_code == 0 and "1 scanned PDFs" in r.output, r.output
    with case.engine.connect() as con:
        pages = {(x.origin, x.page) for x in con.execute(select(S.text_lines))}
    assert pages == {("text", 1), ("ocr", 1), ("ocr", 2)}


@needs_pdftoppm
def test_scanned_pdf_ocr_is_bounded_and_a_bad_page_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    import ringtrace.documents.scanned as scanned
    import ringtrace.media.ocr as ocr
    from ringtrace.documents.limits import DocLimits
    from ringtrace.documents.lines import TextLine
    from ringtrace.synth.formats.notes import scanned_pdf_bytes

    sizes: list[tuple[int, int]] = []

    def fake_ocr(img: Image.Image, languages: str, limits: object) -> ocr.OcrResult:  # Tesseract's part is tested
        sizes.append(img.size)  # above; here what reaches it, and what is said
        return ocr.OcrResult([TextLine(1, 1, f"{img.width}x{img.height}")], 0, languages, "tesseract (fake)")

    monkeypatch.setattr(ocr, "ocr_picture", fake_ocr)
    monkeypatch.setattr(ocr, "check_languages", lambda langs: langs)
    pic = _scan(_page())
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(scanned_pdf_bytes([pic, pic, pic, pic], dpi=300))
    real = scanned.render_page

    def flaky(path: Path, page: int, dpi: float, limits: DocLimits) -> Image.Image:
        if page == 2:
            raise scanned.ScanError("page 2 not rendered: pdftoppm: Syntax Error: broken stream")
        return real(path, page, dpi, limits)

    monkeypatch.setattr(scanned, "render_page", flaky)
    res = scanned.ocr_pdf_pages(pdf, [1, 2, 3, 4, 9], "eng", DocLimits(max_ocr_pdf_pages=3))
    assert res.pages_read == [1, 3] and [ln.page for ln in res.lines] == [1, 3]
    assert sizes == [(1000, 640), (1000, 640)]  # rendered at 300 dpi: the scanner's own pixels
    assert res.problems == ["4 pages without text: only the first 3 OCR'd",
                            "page 2 not rendered: pdftoppm: Syntax Error: broken stream"]
    # a page too large for the pixel bound is rendered at a lower resolution, within it
    small = DocLimits(max_render_pixels=160_000)
    assert scanned.render_dpi(1000 * 72 / 300, 640 * 72 / 300, small) == 150.0
    scanned.ocr_pdf_pages(pdf, [4], "eng", small)
    assert sizes[-1][0] * sizes[-1][1] <= 160_000 and sizes[-1][0] == 500
    with pytest.raises(scanned.ScanError, match="page 2 not rendered"):
        scanned.ocr_pdf_pages(pdf, [2], "eng")


def test_pages_without_text_are_those_with_next_to_nothing_on_them() -> None:
    from ringtrace.documents.lines import TextLine
    from ringtrace.documents.scanned import page_spans, pages_without_text

    lines = [TextLine(1, 1, "Garden club - contacts"), TextLine(2, 1, "- 2 -"), TextLine(4, 1, "Scanned with App"),
             TextLine(4, 2, "Alba Quarles, 27, Málaga")]
    assert pages_without_text(lines, 5) == [2, 3, 5]
    assert page_spans([1, 2, 3, 5, 7, 8]) == "1-3, 5, 7-8"


@pytest.mark.skipif(importlib.util.find_spec("rapidocr") is None, reason="the documents extra's rapidocr")
def test_second_reader_loads_its_models_without_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    # RapidOCR downloads a model it cannot find (or whose digest differs) in its package; ours must come from the
    # wheel: with every connection refused the engine still loads (a download attempt would make it None)
    import socket

    from ringtrace.media import ocr

    def refuse(*_a: object, **_k: object) -> None:
        raise OSError("network use in a test of the second reader")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    ocr._rapid_engine.cache_clear()
    try:
        assert ocr.rapid_engine() is not None
    finally:
        ocr._rapid_engine.cache_clear()

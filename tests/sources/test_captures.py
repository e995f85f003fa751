"""Capture formats (WARC, MHTML, saved HTML, ACHE, text dumps): synthetic round trip and hostile input."""

from __future__ import annotations

import base64
import gzip
import io
import json
import resource
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from ringtrace.model import Indicator, MediaFile, Page, Problem, ReadOptions, Record
from ringtrace.sources.base import Candidate, FormatError, Unit, registry
from ringtrace.synth.formats.captures import (
    STYLES,
    LinkSpec,
    PageSpec,
    expected_links,
    make_pages,
    write_captures,
)

INVITE_KINDS = {"whatsapp_invite", "telegram_invite", "signal_group", "discord_invite"}
WA = "AbCdEfGhIjKlMnOpQrStUv"


def best_format(root: Path, rel: str) -> tuple[str, int]:
    cand = Candidate(root, rel, (root / rel).stat().st_size)
    scores = {name: cls().claim(cand) for name, cls in registry().items()}
    name = max(scores, key=lambda k: scores[k])
    return name, scores[name]


def read_file(root: Path, rel: str, options: ReadOptions | None = None) -> list[Record]:
    name, score = best_format(root, rel)
    assert score > 0, f"no format claims {rel}"
    fmt = registry()[name]()
    return list(fmt.read(Unit(root, rel, name), options or ReadOptions()))


def invites(records: list[Record]) -> set[tuple[str, str]]:
    return {(r.platform or "", r.code or "") for r in records if isinstance(r, Indicator) and r.kind in INVITE_KINDS}


# ---- synthetic round trip ----------------------------------------------------------------------------------


def test_synthetic_captures_precision_recall(tmp_path: Path) -> None:
    pages = make_pages(30, seed=7)
    used = {lk.style for p in pages for lk in p.links}
    assert used == set(STYLES)
    files = write_captures(pages, tmp_path, seed=7)
    claimed: dict[str, int] = {}
    got: set[tuple[str, str]] = set()
    media = 0
    for f in files:
        rel = f.relative_to(tmp_path).as_posix()
        if "_files/" in rel:
            continue
        name, _ = best_format(tmp_path, rel)
        claimed[name] = claimed.get(name, 0) + 1
        recs = read_file(tmp_path, rel)
        got |= invites(recs)
        media += sum(isinstance(r, MediaFile) for r in recs)
        assert not [r for r in recs if isinstance(r, Problem) and r.severity == "error"], rel
    assert set(claimed) == {"warc", "mhtml", "html-page", "ache", "text-capture"}
    truth = expected_links(pages)
    assert got - truth == set(), "false positives"
    assert truth - got == set(), "missed links"
    assert media > 0


def test_writer_is_deterministic(tmp_path: Path) -> None:
    pages = make_pages(10, seed=3)
    a = write_captures(pages, tmp_path / "a", seed=3)
    b = write_captures(pages, tmp_path / "b", seed=3)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


# ---- WARC -----------------------------------------------------------------------------------------------


def _warc(pages: list[bytes], gz: bool, ctype: str = "text/html; charset=utf-8") -> bytes:
    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=gz)
    for i, body in enumerate(pages):
        hh = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
        rec = w.create_warc_record(
            f"http://paste.example/{i}",
            "response",
            payload=io.BytesIO(body),
            http_headers=hh,
            warc_headers_dict={"WARC-Record-ID": f"<urn:uuid:0000-{i}>", "WARC-Date": "2024-01-02T03:04:05Z"},
        )
        w.write_record(rec)
    return buf.getvalue()


def _page(i: int) -> bytes:
    return f"<html><title>P{i}</title><body>join chat.whatsapp.com/{WA[:-2]}{i:02d}</body></html>".encode()


def _codes(recs: list[Record]) -> set[str]:
    return {r.code or "" for r in recs if isinstance(r, Indicator) and r.kind == "whatsapp_invite"}


@pytest.mark.parametrize("gz", [False, True])
def test_warc_pages_and_provenance(tmp_path: Path, gz: bool) -> None:
    (tmp_path / "a.warc").write_bytes(_warc([_page(i) for i in range(3)], gz))
    recs = read_file(tmp_path, "a.warc")
    pages = [r for r in recs if isinstance(r, Page)]
    assert [p.title for p in pages] == ["P0", "P1", "P2"]
    assert pages[0].captured_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    ind = [r for r in recs if isinstance(r, Indicator)]
    assert ind[1].prov.table == "warc" and ind[1].prov.row == "<urn:uuid:0000-1>"
    assert ind[1].page_uri == "http://paste.example/1" and ind[1].at == pages[1].captured_at


def test_warc_whole_file_gzip(tmp_path: Path) -> None:
    (tmp_path / "w.warc.gz").write_bytes(gzip.compress(_warc([_page(i) for i in range(3)], False), mtime=0))
    assert len(_codes(read_file(tmp_path, "w.warc.gz"))) == 3


def test_warc_truncated_gzip_keeps_earlier_records(tmp_path: Path) -> None:
    data = _warc([_page(i) for i in range(3)], True)
    (tmp_path / "t.warc.gz").write_bytes(data[:-30])
    recs = read_file(tmp_path, "t.warc.gz")
    probs = [r for r in recs if isinstance(r, Problem)]
    assert any("truncated gzip" in p.reason and p.file == "t.warc.gz" for p in probs)
    assert {f"{WA[:-2]}00", f"{WA[:-2]}01"} <= _codes(recs)


def test_warc_corrupt_gzip_member_is_skipped(tmp_path: Path) -> None:
    parts = [_warc([_page(i)], True) for i in range(3)]
    bad = bytearray(parts[1])
    bad[40:60] = b"\xff" * 20
    (tmp_path / "c.warc.gz").write_bytes(parts[0] + bytes(bad) + parts[2])
    recs = read_file(tmp_path, "c.warc.gz")
    assert any(isinstance(r, Problem) and "corrupt gzip" in r.reason for r in recs)
    assert _codes(recs) == {f"{WA[:-2]}00", f"{WA[:-2]}02"}


def test_warc_malformed_record_resyncs(tmp_path: Path) -> None:
    data = _warc([_page(i) for i in range(3)], False)
    cut = data.find(b"WARC/1.", 10)
    data = data[:cut] + b"this is not a warc record\r\n\r\n" + data[cut:]
    (tmp_path / "m.warc").write_bytes(data)
    recs = read_file(tmp_path, "m.warc")
    assert any(isinstance(r, Problem) and "malformed WARC record" in r.reason for r in recs)
    assert len(_codes(recs)) == 3


def test_warc_response_without_target_uri_is_a_problem(tmp_path: Path) -> None:
    # warcio raises AttributeError on a response record with an HTTP payload and no WARC-Target-URI: that record
    # is named as a problem, and the records before and after it are kept
    data = _warc([_page(i) for i in range(3)], False)
    first = data.find(b"WARC/1.", 10)
    second = data.find(b"WARC/1.", first + 10)
    middle = data[first:second]
    start = middle.find(b"WARC-Target-URI:")
    middle = middle[:start] + middle[middle.find(b"\r\n", start) + 2:]
    (tmp_path / "u.warc").write_bytes(data[:first] + middle + data[second:])
    recs = read_file(tmp_path, "u.warc")
    problems = [r for r in recs if isinstance(r, Problem)]
    assert len(problems) == 1 and problems[0].file == "u.warc"
    assert "malformed WARC record" in problems[0].reason and "cannot parse this record" in problems[0].reason
    assert _codes(recs) == {f"{WA[:-2]}00", f"{WA[:-2]}02"}


def test_warc_revisit_and_image(tmp_path: Path) -> None:
    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=True)
    w.write_record(
        w.create_warc_record(
            "http://x.example/a.png",
            "response",
            payload=io.BytesIO(b"\x89PNG\r\n\x1a\nfake"),
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Record-ID": "<urn:uuid:img>"},
        )
    )
    w.write_record(
        w.create_revisit_record("http://x.example/", "sha1:AAAA", "http://x.example/", "2024-01-01T00:00:00Z")
    )
    (tmp_path / "r.warc.gz").write_bytes(buf.getvalue())
    recs = read_file(tmp_path, "r.warc.gz")
    media = [r for r in recs if isinstance(r, MediaFile)]
    assert media and media[0].path == "r.warc.gz#<urn:uuid:img>" and media[0].content == b"\x89PNG\r\n\x1a\nfake"
    assert any(isinstance(r, Problem) and r.severity == "info" and "revisit" in r.reason for r in recs)


def test_warc_binary_and_wrong_charset(tmp_path: Path) -> None:
    latin = f"<html><body>Niño: chat.whatsapp.com/{WA}</body></html>"
    data = _warc([latin.encode("latin-1")], False) + _warc([b"\x00\x01\x02" * 500], False)
    (tmp_path / "cs.warc").write_bytes(data)
    recs = read_file(tmp_path, "cs.warc")
    assert _codes(recs) == {WA}
    reasons = [r.reason for r in recs if isinstance(r, Problem)]
    assert any("not valid utf-8 as declared" in r for r in reasons)
    assert any("binary" in r for r in reasons)


def test_binary_junk_is_not_claimed(tmp_path: Path) -> None:
    (tmp_path / "junk.bin").write_bytes(bytes(range(256)) * 100)
    assert best_format(tmp_path, "junk.bin")[1] == 0


# ---- other formats ----------------------------------------------------------------------------------------


def test_mhtml_parts_and_bad_part(tmp_path: Path) -> None:
    html = f"<html><body>Join https://chat.whatsapp.com/{WA}</body></html>".encode()
    qp = html.replace(b"=", b"=3D")
    doc = (
        b"From: <Saved by Blink>\r\nSnapshot-Content-Location: http://b.example/\r\nSubject: Board\r\n"
        b"Date: Tue, 02 Jan 2024 03:04:05 +0000\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/related; type="text/html"; boundary="BB"\r\n\r\n'
        b"--BB\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n"
        b"Content-Location: http://b.example/\r\n\r\n" + qp + b"\r\n"
        b"--BB\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(b"PNGDATA")
        + b"\r\n--BB\r\nContent-Type: image/gif\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64***\r\n--BB--\r\n"
    )
    (tmp_path / "c.mhtml").write_bytes(doc)
    recs = read_file(tmp_path, "c.mhtml")
    page = next(r for r in recs if isinstance(r, Page))
    assert page.uri == "http://b.example/" and page.title == "Board"
    assert _codes(recs) == {WA}
    ind = next(r for r in recs if isinstance(r, Indicator))
    assert ind.prov.table == "mhtml part"
    assert any(isinstance(r, MediaFile) and r.content == b"PNGDATA" and r.path == "c.mhtml#2" for r in recs)
    assert any(isinstance(r, Problem) and "part 3" in r.reason for r in recs)


def test_mhtml_not_multipart_is_format_error(tmp_path: Path) -> None:
    (tmp_path / "x.mhtml").write_bytes(
        b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=z\r\n\r\nno parts"
    )
    fmt = registry()["mhtml"]()
    with pytest.raises(FormatError, match="x.mhtml"):
        list(fmt.read(Unit(tmp_path, "x.mhtml", "mhtml"), ReadOptions()))


def test_saved_html_with_saved_from_mark(tmp_path: Path) -> None:
    (tmp_path / "p.html").write_text(
        f'<!-- saved from url=(0020)http://c.example/x/ -->\n<!DOCTYPE html><html lang="pt-BR"><body>'
        f"ligue 11 98765-4321 t.me/+{WA[:16]}</body></html>"
    )
    recs = read_file(tmp_path, "p.html")
    page = next(r for r in recs if isinstance(r, Page))
    assert page.uri == "http://c.example/x/" and page.language == "pt-BR"
    kinds = {(r.kind, r.value) for r in recs if isinstance(r, Indicator)}
    assert ("telegram_invite", f"t.me/+{WA[:16]}") in kinds
    assert ("phone", "+5511987654321") in kinds  # region from the declared language


def test_ache_lines_and_bad_line(tmp_path: Path) -> None:
    good = {
        "url": "http://d.example/",
        "content": base64.b64encode(_page(5)).decode(),
        "content_type": "text/html",
        "fetch_time": 1704164645000,
        "crawler_id": "c1",
    }
    legacy = {"url": "http://d.example/old", "response_body": _page(6).decode(), "fetch_time": 1704164645000}
    text = json.dumps(good) + "\n{broken json\n" + json.dumps(legacy) + "\n"
    (tmp_path / "a.jsonl").write_text(text)
    recs = read_file(tmp_path, "a.jsonl")
    assert _codes(recs) == {f"{WA[:-2]}05", f"{WA[:-2]}06"}
    assert any(isinstance(r, Problem) and "line 2" in r.reason and r.file == "a.jsonl" for r in recs)
    page = next(r for r in recs if isinstance(r, Page))
    assert page.captured_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_text_dump_line_numbers_and_bad_bytes(tmp_path: Path) -> None:
    data = b"paste 1\nnothing\n\xff\xfe bad bytes\nhxxps://chat[.]whatsapp[.]com/" + WA.encode() + b"\n"
    (tmp_path / "d.txt").write_bytes(data)
    recs = read_file(tmp_path, "d.txt")
    ind = [r for r in recs if isinstance(r, Indicator)]
    assert [(i.code, i.prov.line) for i in ind] == [(WA, 4)]
    assert any(isinstance(r, Problem) and "UTF-8" in r.reason for r in recs)


def test_text_without_links_is_not_claimed(tmp_path: Path) -> None:
    (tmp_path / "n.txt").write_text("just some notes\n")
    assert best_format(tmp_path, "n.txt")[1] == 0


def test_huge_single_line_page_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "huge.html"
    chunk = b"a" * (1 << 20)
    with path.open("wb") as fh:
        fh.write(b"<!DOCTYPE html><html><body>chat.whatsapp.com/" + WA.encode() + b" ")
        for _ in range(100):
            fh.write(chunk)
        fh.write(b"</body></html>")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.monotonic()
    recs = read_file(tmp_path, "huge.html")
    elapsed = time.monotonic() - t0
    grew_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    assert _codes(recs) == {WA}
    assert any(isinstance(r, Problem) and "cut at" in r.reason and r.file == "huge.html" for r in recs)
    assert elapsed < 30
    assert grew_mb < 1500


def test_huge_single_line_text_dump_streams(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as fh:
        fh.write(b"https://x.example/ ")
        for _ in range(24):
            fh.write(b"b" * (1 << 20))
        fh.write(b" t.me/+" + WA[:16].encode() + b"\nsecond line wa.me/34612345678\n")
    t0 = time.monotonic()
    recs = read_file(tmp_path, "huge.txt")
    assert time.monotonic() - t0 < 30
    got = {(r.kind, r.prov.line) for r in recs if isinstance(r, Indicator)}
    assert ("telegram_invite", 1) in got and ("whatsapp_phone", 2) in got


def test_page_spec_all_styles_single_page(tmp_path: Path) -> None:
    links = [LinkSpec("whatsapp", WA, s) for s in STYLES]
    page = PageSpec("http://e.example/", datetime(2024, 1, 1, tzinfo=UTC), "de", "T", links, True, [])
    files = write_captures([page], tmp_path, seed=1)
    recs = read_file(tmp_path, files[0].relative_to(tmp_path).as_posix())
    assert invites(recs) == {("whatsapp", WA)}
    n = sum(1 for r in recs if isinstance(r, Indicator) and r.kind == "whatsapp_invite")
    assert n >= len(STYLES) - 5  # visible occurrences each counted; attribute copies folded

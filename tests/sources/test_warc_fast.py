"""The WARC fast path (``warc._fast_records``) gives exactly the records warcio alone gives, on well-formed WARCs
and on every kind of damage or oddity we could think of (and on seeded random mutations of them)."""

from __future__ import annotations

import gzip
import io
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from ringtrace.model import Problem, ReadOptions, Record
from ringtrace.sources.base import Unit
from ringtrace.sources.captures import warc
from ringtrace.synth.formats.captures import make_pages, page_html

_OFFSET = re.compile(r"near offset \d+")


def _read(path: Path, fast: bool, monkeypatch: pytest.MonkeyPatch) -> list[Record]:
    with monkeypatch.context() as m:
        if not fast:
            def none(src: object) -> Iterator[object]:
                return iter(())
            m.setattr(warc, "_fast_records", none)
        return list(warc.WarcFormat().read(Unit(path.parent, path.name, "warc"), ReadOptions(region="ES")))


def _comparable(recs: list[Record]) -> list[Record]:
    # "near offset N" says how far warcio had read when it failed: the fast path reads ahead differently
    return [
        Problem(r.file, _OFFSET.sub("near offset N", r.reason), r.prov, r.severity) if isinstance(r, Problem) else r
        for r in recs
    ]


def same_records(tmp_path: Path, data: bytes, monkeypatch: pytest.MonkeyPatch, name: str = "t.warc") -> None:
    path = tmp_path / name
    path.write_bytes(data)
    slow = _outcome(path, False, monkeypatch)
    fast = _outcome(path, True, monkeypatch)
    assert fast == slow, data[:3000]


def _outcome(path: Path, fast: bool, monkeypatch: pytest.MonkeyPatch) -> list[Record]:
    return _comparable(_read(path, fast, monkeypatch))


def _record(w: WARCWriter, i: int, body: bytes, headers: list[tuple[str, str]] | None = None,
            rtype: str = "response", uri: str | None = None) -> None:
    hh = StatusAndHeaders("200 OK", headers or [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
    w.write_record(w.create_warc_record(
        uri or f"https://paste.example/{i}", rtype, payload=io.BytesIO(body),
        http_headers=hh if rtype in ("response", "request") else None,
        warc_headers_dict={"WARC-Record-ID": f"<urn:uuid:{i}>", "WARC-Date": "2024-01-02T03:04:05Z"},
    ))


def _pages(n: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [page_html(p, [], rng).encode() for p in make_pages(n, seed, images=False, n_links=20)]


def _warc(bodies: list[bytes], gz: bool) -> bytes:
    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=gz)
    for i, b in enumerate(bodies):
        _record(w, i, b)
    return buf.getvalue()


@pytest.mark.parametrize("gz", [False, True])
def test_synthetic_warc_identical(tmp_path: Path, gz: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    same_records(tmp_path, _warc(_pages(60, 3), gz), monkeypatch)


def test_odd_records_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = _pages(1, 1)[0]
    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=False)
    _record(w, 0, page)
    _record(w, 1, gzip.compress(page, mtime=0), [("Content-Type", "text/html"), ("Content-Encoding", "gzip")])
    _record(w, 2, b"5\r\nhello\r\n0\r\n\r\n", [("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")])
    _record(w, 3, b"\x89PNG\r\n\x1a\nfake", [("Content-Type", "image/png")])
    _record(w, 4, page, rtype="resource", uri="https://paste.example/r")
    _record(w, 5, b"chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv", rtype="metadata", uri="https://paste.example/m")
    _record(w, 6, b"GET / HTTP/1.1", rtype="request")
    _record(w, 7, page, uri="dns:paste.example")
    _record(w, 8, b"", [("Content-Type", "text/html")])
    _record(w, 9, page, [("Content-Type", "text/html"), ("X-Long", "a\r\n continued")])
    revisit = w.create_revisit_record("https://x.example/", "sha1:AAAA", "https://x.example/", "2024-01-01T00:00:00Z")
    w.write_record(revisit)
    _record(w, 10, page)
    data = buf.getvalue()
    same_records(tmp_path, data, monkeypatch)
    same_records(tmp_path, gzip.compress(data, mtime=0), monkeypatch, "t.warc.gz")


def _variants(data: bytes) -> Iterator[bytes]:
    cut = data.find(b"WARC/1.", 10)
    yield data[:cut] + b"this is not a warc record\r\n\r\n" + data[cut:]
    yield data[:cut] + b"\r\n\r\n\r\n \r\n" + data[cut:]
    yield data[: cut - 2] + data[cut:]  # one blank line missing after a block
    yield data[: cut - 4] + data[cut:]  # both missing
    yield data.replace(b"WARC/1.0\r\n", b"warc/1.0\r\n", 1)
    yield data.replace(b"WARC/1.0\r\n", b"WARC/1.1\r\n")
    yield data.replace(b"WARC/1.0\r\n", b"WARC/0.18\r\n")
    yield data.replace(b"Content-Length: ", b"Content-Length: +", 2)
    yield data.replace(b"Content-Length: ", b"Content-Length:  ", 2)
    yield data.replace(b"Content-Length: ", b"content-length:", 3)
    yield data.replace(b"Content-Length: ", b"X-Gone: ", 1)
    yield data.replace(b"WARC-Target-URI: https://", b"WARC-Target-URI: <https://", 1)
    yield data.replace(b"WARC-Target-URI: https://paste.example/1", b"WARC-Target-URI: <https://paste.example/1>")
    yield data.replace(b"WARC-Target-URI: https://paste.example/", b"WARC-Target-URI: https://paste example/", 1)
    yield data.replace(b"WARC-Target-URI: https://", b"WARC-Target-URI: ftp://", 1)
    yield data.replace(b"WARC-Target-URI: https://", b"WARC-Target-URI: https://\xc3\xa9", 1)
    yield data.replace(b"WARC-Target-URI: https://", b"WARC-Target-URI: https://\xff", 1)
    yield data.replace(b"WARC-Type: response\r\n", b"WARC-Type: response\r\n continued\r\n", 1)
    yield data.replace(b"WARC-Type: response\r\n", b"WARC-Type: response\r\nno colon here\r\n", 1)
    yield data.replace(b"WARC-Type: response\r\n", b"WARC-Type: response\n", 1)
    yield data.replace(b"WARC-Type: response\r\n", b"WARC-Type : response \t\r\n", 1)
    yield data.replace(b"WARC-Type: response\r\n", b"WARC-Type: RESPONSE\r\nWARC-Type: request\r\n", 1)
    yield data.replace(b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 200 OK\n", 1)
    yield data.replace(b"HTTP/1.1 200 OK\r\n", b"\r\n", 1)
    yield data.replace(b"HTTP/1.1 200 OK\r\n", b"", 1)
    yield data.replace(b"Content-Type: text/html", b"Content-Type:text/html\x0b", 1)
    yield data.replace(b"Content-Type: text/html", b"CONTENT-TYPE: image/png", 1)
    yield data.replace(b"\r\n\r\n<", b"\r\n", 1)  # HTTP headers run into the body
    yield data[:-1]
    yield data[:-3] + b"\r\n  "
    yield data[: len(data) // 2]
    yield data + b"\r\n\r\n"
    yield data + b"garbage"
    yield b"\r\n\r\n" + data
    yield b"\x1f\x8b\x08" + data[3:]
    yield data[:cut] + b"\r\n" * 40000 + data[cut:]  # blank lines past what the fast path buffers
    yield data[:cut] + b" " * 70000 + b"\r\n" + data[cut:]  # a blank line longer than that
    yield data[:cut] + b"x" * 70000 + data[cut:]


def test_damaged_records_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _warc(_pages(4, 5), False)
    for i, variant in enumerate(_variants(data)):
        same_records(tmp_path, variant, monkeypatch, f"v{i}.warc")


@pytest.mark.parametrize("seed", range(3))
def test_random_mutations_identical(tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    base = _warc(_pages(5, seed), False)
    tokens = [b"\r\n", b"\n", b"\r", b" ", b"\t", b":", b"WARC/1.0\r\n", b"\xff", b"\x00", b"<", b"0", b"9", b""]
    for k in range(60):
        data = bytearray(base)
        for _ in range(rng.randrange(1, 4)):
            at = rng.randrange(len(data))
            data[at : at + rng.randrange(0, 3)] = rng.choice(tokens)
        same_records(tmp_path, bytes(data), monkeypatch, f"r{seed}-{k}.warc")
        if k % 10 == 0:
            same_records(tmp_path, gzip.compress(bytes(data), mtime=0), monkeypatch, f"r{seed}-{k}.warc.gz")


def test_header_lines_as_warcio_parses_them() -> None:
    # where _header_lines takes a header block, every name it gives has warcio's value; where it refuses, fine
    from warcio.statusandheaders import StatusAndHeadersParser

    parser = StatusAndHeadersParser(["WARC/1.0"])
    rng = random.Random(4)
    toks = [b"\r\n", b":", b" ", b"\t", b"a", b"B", b"\x0b", b"\x1c", b"\x0c", b"Name", b"value", b"::", b"\r", b"\n"]
    taken = 0
    for _ in range(20000):
        head = b"".join(rng.choice(toks) for _ in range(rng.randrange(0, 12)))
        got = warc._header_lines(head)
        if got is None:
            continue
        taken += 1
        ref = parser.parse(io.BytesIO(b"WARC/1.0\r\n" + head + b"\r\n\r\n"))
        assert {n.lower() for n, _ in ref.headers} == set(got), head
        for name, value in got.items():
            assert ref.get_header(name) == value, head
    assert taken > 1000

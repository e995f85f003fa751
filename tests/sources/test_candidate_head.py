"""Recognition's sniffing reads: Candidate.head (unbuffered) is the file's first HEAD_BYTES whatever its size; the
Zone.Identifier claim's '[' pre-test and the crypt claim's name test leave their answers as they were."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringtrace.sources.base import HEAD_BYTES, Candidate
from ringtrace.sources.browsers.zone_identifier import ZoneIdentifier


@pytest.mark.parametrize("size", [0, 1, HEAD_BYTES - 1, HEAD_BYTES, HEAD_BYTES + 1, 3 * HEAD_BYTES])
def test_head_is_the_first_bytes(tmp_path: Path, size: int) -> None:
    data = bytes(i % 251 for i in range(size))
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f.bin").write_bytes(data)
    assert Candidate(tmp_path, "d/f.bin", size).head == data[:HEAD_BYTES]
    assert Candidate(tmp_path, "d/missing", 0).head == b""
    assert Candidate(tmp_path, "d", 0).head == b""  # a folder: nothing read


@pytest.mark.parametrize(("text", "enc", "score"), [
    ("[ZoneTransfer]\r\nZoneId=3\r\n", "utf-8", 90), ("  [zonetransfer]\nZoneId=3", "utf-8-sig", 90),
    ("[ZoneTransfer]\r\nZoneId=3\r\n", "utf-16", 90), ("[ZoneTransfer]\r\n", "utf-16-be", 90),
    ("ZoneTransfer]", "utf-8", 0), ("no section", "utf-16", 0), ("[Other]\nZoneId=3", "utf-8", 0),
])
def test_zone_claim(tmp_path: Path, text: str, enc: str, score: int) -> None:
    data = text.encode(enc)
    if enc == "utf-16-be":  # with its byte-order mark
        data = b"\xfe\xff" + data
    (tmp_path / "f:Zone.Identifier").write_bytes(data)
    assert ZoneIdentifier().claim(Candidate(tmp_path, "f:Zone.Identifier", len(data))) == score


def _zone_reference(head: bytes) -> int:
    """The Zone.Identifier claim as it was before its first-byte test (the answer it must keep)."""
    from ringtrace.sources.browsers.zone_identifier import SECTION, decode

    return 90 if decode(head[:1024]).lstrip().lower().startswith(SECTION) else 0


def _zone_heads() -> list[bytes]:
    import random

    rnd = random.Random(14)
    tail = b"[ZoneTransfer]\r\nZoneId=3\r\n"
    heads = [bytes([b]) + tail for b in range(256)]  # every first byte before the section
    heads += [bytes([a, b]) + tail for a in (0xC2, 0xE2, 0xE3, 0xEF, 0xFE, 0xFF, 0xE1) for b in range(256)]
    heads += [" \u00a0\u2003\u3000\x85\x1c".encode() + tail, "\u2028[zonetransfer]".encode(),  # Unicode blanks
              b"\xef\xbb\xbf \t" + tail, b"\xef\xbb" + tail, b"\xff\xfe" + "  [ZoneTransfer]".encode("utf-16-le"),
              b"\xfe\xff" + "\u3000[ZONETRANSFER]".encode("utf-16-be"), b"\xff\xd8\xff\xe0\x00\x10JFIF[", b"["]
    heads += [chr(c).encode() + tail for c in range(0x110000) if chr(c).isspace()]  # each blank lstrip takes
    heads += [rnd.randbytes(rnd.randrange(1, 64)) + tail for _ in range(2000)]
    return heads


def test_zone_claim_first_byte_test_keeps_every_answer(tmp_path: Path) -> None:
    claim = ZoneIdentifier().claim
    seen = set()
    for head in _zone_heads():
        cand = Candidate(tmp_path, "f:Zone.Identifier", len(head))
        cand.__dict__["head"] = head  # as recognise hands intake's heads
        want = _zone_reference(head)
        assert claim(cand) == want, head[:8]
        seen.add(want)
    assert seen == {0, 90}  # both answers met: the test can fail either way


def test_is_sqlite_answers_from_the_head(tmp_path: Path) -> None:
    (tmp_path / "a.db").write_bytes(b"SQLite format 3\x00" + bytes(100))
    (tmp_path / "b.db").write_bytes(b"SQLite format 2\x00" + bytes(100))
    assert Candidate(tmp_path, "a.db", 116).is_sqlite
    assert not Candidate(tmp_path, "b.db", 116).is_sqlite
    given = Candidate(tmp_path, "b.db", 116)
    given.__dict__["head"] = b"SQLite format 3\x00"
    assert given.is_sqlite and given.is_sqlite  # asked twice: the same answer

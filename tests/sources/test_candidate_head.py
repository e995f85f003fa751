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

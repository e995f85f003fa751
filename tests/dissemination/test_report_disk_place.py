"""The case report lists known material found in a disk image with its place (partition, path, inode, deleted,
MACB): hashes and places only, escaped, deleted files first, bounded."""

from __future__ import annotations

import html as html_lib
import json
from pathlib import Path

import pytest

from ringtrace.case import Case
from ringtrace.dissemination.report import known_on_disks, write_report


def _pictures(case_dir: Path) -> list[dict[str, object]]:
    truth = json.loads((case_dir.parent / "op" / "ground-truth.json").read_text(encoding="utf-8"))
    if not truth["disks"]:
        pytest.skip("the computer was written as a folder: the disk image's tools or the 'disk' extra are missing")
    return [p for p in truth["disks"][0]["pictures"] if p["known"]]


def test_report_lists_known_pictures_on_the_disk_with_their_place(case: Case, case_dir: Path,
                                                                   tmp_path: Path) -> None:
    known = _pictures(case_dir)
    write_report(case, tmp_path / "r")
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    section = page.split("Known material found in disk images")[1].split("</table>")[0]
    for p in known:
        row = section[section.index(str(p["sha256"])):]
        row = row[:row.index("</tr>")]
        assert html_lib.escape(str(p["fs_path"])) in row and f"inode {p['inode']}" in row, p["fs_path"]
        assert ("<b>deleted</b>" in row) is p["deleted"]
        assert all(f"{k} {p[t]}" in row for k, t in (("M", "mtime"), ("A", "atime"), ("C", "ctime"), ("B", "crtime")))
    deleted_first = [("<b>deleted</b>" in r) for r in section.split("<tr>")[2:]]
    assert deleted_first == sorted(deleted_first, reverse=True) and any(deleted_first)


def test_known_on_disks_is_bounded_and_keeps_only_disk_files() -> None:
    place = {"partition": "p1", "fs_type": "Ext4", "fs_path": "/a.jpg", "inode": 12, "deleted": False,
             "media_offset": None, "mtime": None, "atime": None, "ctime": None, "crtime": None}
    match = {"hashset": "h", "method": "sha256", "category": "c1", "distance": 0}
    media = [{"sha256": f"{i:064x}", "matches": [match] if i % 2 == 0 else [],
              "files": [{"source": "EX-PC", "path": f"p1/{i}.jpg", "place": {**place, "fs_path": f"/{i}.jpg",
                                                                               "deleted": i % 4 == 0}},
                        {"source": "EX-001", "path": "x.jpg"}]} for i in range(10)]
    rows, total = known_on_disks(media, limit=3)  # type: ignore[arg-type]
    assert total == 5 and len(rows) == 3  # the matched ones only, and only their files found in an image
    assert [r["place"]["fs_path"] for r in rows] == ["/0.jpg", "/4.jpg", "/8.jpg"]  # deleted first

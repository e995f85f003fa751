"""The media page gives a disk file's place (partition, file system, path, inode, deleted, MACB), escaped: a
file system's names are evidence, and hostile ones are shown as text."""

from __future__ import annotations

import html as html_lib
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.web.helpers import HOSTILE, PASSWORD, fast_hasher, login


def _deleted_known_picture(tiny_operation: Path) -> dict[str, object]:
    truth = json.loads((tiny_operation / "ground-truth.json").read_text(encoding="utf-8"))
    if not truth["disks"]:
        pytest.skip("the computer was written as a folder: the disk image's tools or the 'disk' extra are missing")
    return next(p for p in truth["disks"][0]["pictures"] if p["known"] and p["deleted"])


def _media_page(tmp_path: Path, case_dir: Path) -> str:
    from fastapi.testclient import TestClient

    from ringtrace.web.app import create_app
    from ringtrace.web.settings import WebSettings

    a = create_app(WebSettings(home=tmp_path / "home", secure_cookies=False, page_size=10_000), hasher=fast_hasher())
    a.state.web.store.add_user("ivy", PASSWORD, "investigator")
    a.state.web.store.grant("ivy", case_dir, "test")
    try:
        with TestClient(a) as c:
            login(c, "ivy")
            return c.get("/cases/1/media?matched=1").text
    finally:
        a.state.web.cases.close()
        a.state.web.store.close()


def test_media_page_shows_a_deleted_disk_pictures_place(tmp_path: Path, web_case: Path,
                                                         tiny_operation: Path) -> None:
    pic = _deleted_known_picture(tiny_operation)
    page = _media_page(tmp_path, web_case)
    row = page[page.index(str(pic["sha256"])):]
    row = row[:row.index("</tr>")]
    assert f"{pic['partition']} (Ext4)" in row and html_lib.escape(str(pic["fs_path"])) in row
    assert f"inode {pic['inode']}" in row and "deleted</b>" in row
    assert f"M {str(pic['mtime']).replace('T', ' ').rstrip('Z')}" in row
    assert f"B {str(pic['crtime']).replace('T', ' ').rstrip('Z')}" in row


def test_a_hostile_file_system_name_is_shown_as_text(tmp_path: Path, web_case: Path, tiny_operation: Path) -> None:
    from ringtrace.case import Case
    from ringtrace.store import schema as S

    pic = _deleted_known_picture(tiny_operation)
    copy = tmp_path / "case"
    shutil.copytree(web_case, copy)
    with Case.open(copy) as case, case.begin() as con:
        n = con.execute(update(S.disk_files).where(S.disk_files.c.sha256 == pic["sha256"])
                        .values(fs_path="/" + HOSTILE, fs_type=HOSTILE)).rowcount
    assert n == 1
    # written behind the library's back (no audit entry, the case version unchanged): store the views again
    from ringtrace.stages.views import views_stage

    with Case.open(copy) as case:
        views_stage(case)
    page = _media_page(tmp_path, copy)
    assert HOSTILE not in page and "onerror=alert(1)&gt;" in page

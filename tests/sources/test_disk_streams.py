"""NTFS alternate data streams off a disk image (issue 15): each named ``$DATA`` stream is a file of its own
(``path:stream``) with its place, hashed and kept like any file (a picture hidden in a stream goes to the hash
stage), and a download's ``Zone.Identifier`` (Mark of the Web) gives its host and referrer as indicators whose
provenance is the stream, counted by the leads as a visit by the device's owner to the captured post."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

import ringtrace
from ringtrace.case import Case
from ringtrace.model import Indicator, Problem, ReadOptions
from ringtrace.sources.base import Candidate, Unit, registry
from ringtrace.sources.browsers import BROWSER_FORMATS
from ringtrace.sources.browsers.zone_identifier import host_file, parse
from ringtrace.store import schema as S
from ringtrace.synth.formats.disk_image import (
    FileSpec,
    VolumeSpec,
    board_host,
    build_disk,
    missing_tools,
    picture,
    sample_files,
    zone_identifier,
)

OWNER = "+34612345678"  # an invented, valid Spanish mobile number


def _claims(p: Path) -> dict[str, int]:
    cand = Candidate(p.parent, p.name, p.stat().st_size)
    return {n: c().claim(cand) for n, c in registry().items() if c().claim(cand)}


def _winner(p: Path) -> str | None:
    c = _claims(p)
    return max(c, key=lambda k: c[k]) if c else None


def test_zone_identifier_is_recognised_by_content_and_read(tmp_path: Path) -> None:
    p = tmp_path / "renamed.bin"
    p.write_bytes(zone_identifier("https://files.example/a.zip", "https://board.example/t/1"))
    assert _winner(p) == "zone-identifier"
    recs = list(registry()["zone-identifier"]().read(Unit(tmp_path, "renamed.bin", "zone-identifier"),
                                                     ReadOptions()))
    inds = [r for r in recs if isinstance(r, Indicator)]
    assert [(i.kind, i.value, i.prov.row, i.prov.line) for i in inds] == [
        ("url", "https://files.example/a.zip", "HostUrl", 4), ("url", "https://board.example/t/1", "ReferrerUrl", 3)]
    assert inds[0].page_uri == "https://files.example/a.zip" and "ZoneId=3: Internet" in inds[0].context
    # UTF-16 with its mark, keys in any case, another section's keys left alone
    u = tmp_path / "u16"
    u.write_bytes("\ufeff[ZoneTransfer]\r\nzoneid=4\r\nhosturl=http://x.example/f\r\n[Other]\r\nHostUrl=http://no/\r\n"
                  .encode("utf-16-le"))
    assert _winner(u) == "zone-identifier"
    got = list(registry()["zone-identifier"]().read(Unit(tmp_path, "u16", "zone-identifier"), ReadOptions()))
    assert [(i.value, "restricted" in i.context) for i in got if isinstance(i, Indicator)] == [
        ("http://x.example/f", True)]
    # not claimed: another INI, or a stream too large to be a Mark of the Web
    other = tmp_path / "desktop.ini"
    other.write_bytes(b"[.ShellClassInfo]\r\nIconResource=x\r\n")
    big = tmp_path / "big"
    big.write_bytes(b"[ZoneTransfer]\r\n" + b"x" * 70_000)
    assert "zone-identifier" not in _claims(other) and "zone-identifier" not in _claims(big)
    assert parse("[ZoneTransfer]\nZoneId=3\nZoneId=1\n")["zoneid"] == ("3", 2)
    assert host_file("p1/Users/a/b.zip:Zone.Identifier") == "p1/Users/a/b.zip"
    assert host_file("b.zip:Zone.Identifier") == "b.zip" and host_file("p1/a:b/c.txt") == "p1/a:b/c.txt"
    assert "zone-identifier" in BROWSER_FORMATS


def test_overlong_url_is_cut_with_a_problem(tmp_path: Path) -> None:
    p = tmp_path / "z"
    p.write_bytes(b"[ZoneTransfer]\r\nZoneId=3\r\nHostUrl=https://files.example/" + b"a" * 9000 + b"\r\n")
    recs = list(registry()["zone-identifier"]().read(Unit(tmp_path, "z", "zone-identifier"), ReadOptions()))
    assert any(isinstance(r, Problem) and "cut to 8192" in r.reason for r in recs)
    assert all(len(r.value) <= 8192 for r in recs if isinstance(r, Indicator))


def test_damaged_zone_identifiers_never_crash_the_reader(tmp_path: Path) -> None:
    import random

    rng = random.Random("zone-fuzz")
    original = zone_identifier("http://" + board_host(3) + "/f.zip", "https://chat.whatsapp.com/AbcdefghijKLMNOP123456")
    fmt = registry()["zone-identifier"]()
    for i in range(200):
        buf = bytearray(original)
        for _ in range(rng.randrange(1, 12)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        data = bytes(buf[:rng.randrange(len(buf) + 1)]) + rng.randbytes(rng.randrange(0, 40))
        f = tmp_path / f"m{i}"
        f.write_bytes(data)
        for rec in fmt.read(Unit(tmp_path, f.name, "zone-identifier"), ReadOptions(owner=OWNER)):
            assert isinstance(rec, Indicator | Problem) or type(rec).__name__ in ("Account", "DeviceOwner")


pytest.importorskip("dfvfs", reason="the 'disk' extra (dfVFS, pytsk3) is not installed")
pytest.importorskip("pytsk3", reason="the 'disk' extra (dfVFS, pytsk3) is not installed")


def _need(volumes: list[VolumeSpec], table: str | None, container: str) -> None:
    missing = missing_tools(volumes, table, container)
    if missing:
        pytest.skip(f"Debian tools to build the synthetic image are missing: {', '.join(missing)}")


def test_alternate_data_streams_are_files_with_their_place_and_a_download_origin_a_lead(tmp_path: Path) -> None:
    from ringtrace.analysis.leads import rank_leads
    from ringtrace.stages.hash import hash_stage
    from ringtrace.synth.formats.captures import LinkSpec, PageSpec, write_captures

    files = [*sample_files(7), FileSpec("many.txt", b"a file with many streams\n",
                                        streams=tuple((f"s{k:02d}", b"x%d" % k) for k in range(66)))]
    vols = [VolumeSpec("ntfs", files)]
    _need(vols, "mbr", "raw")
    truth = build_disk(tmp_path / "img", vols, "mbr", "raw")
    streams = [f for f in truth.volumes[0]["files"] if f.get("stream_of")]
    assert {f["path"].split(":", 1)[1] for f in streams} >= {"Zone.Identifier", "hidden"}
    board = f"http://{board_host(7)}/board/thread-7"
    t0 = datetime(2025, 6, 3, 21, 0, tzinfo=UTC)
    write_captures([PageSpec(uri=board, captured_at=t0 - timedelta(days=3), title="Tulip album",
                             links=[LinkSpec("whatsapp", "StreamLeadCodeAbcdef12", "https")])],
                   tmp_path / "captures", seed=5)
    case = Case.init(tmp_path / "case")
    ringtrace.ingest(case, tmp_path / "captures", exhibit="EX-CAP")
    r = ringtrace.ingest(case, truth.image, exhibit="EX-PC", owner=OWNER)
    assert r.added
    # more streams on one file than are read: named, the first ones kept
    assert [p for p in r.problems if "many.txt" in p] == [
        f"{truth.image.name}:p1 (NTFS):/many.txt: more than 64 named data streams: only the first 64 read"]
    with case.engine.connect() as con:
        rows = {x.fs_path: x for x in con.execute(select(S.disk_files))}
        inds = list(con.execute(select(S.indicators).where(S.indicators.c.prov_file.like("%:Zone.Identifier"))))
        fmt = dict(con.execute(select(S.source_files.c.relpath, S.source_files.c.format)).all())
    for f in streams[:3]:
        row = rows["/" + f["path"]]
        assert (row.sha256, row.size, row.deleted, row.stored) == (f["sha256"], f["size"], False, True)
        host = rows["/" + f["stream_of"]]
        assert row.inode == host.inode and row.mtime == host.mtime  # the stream is of its file's MFT record
    assert len([p for p in rows if p.startswith("/many.txt:")]) == 64
    hidden = rows["/Users_marta_Documents_list.txt:hidden"]
    assert hidden.media_offset is not None  # non-resident: its first run's byte in the media
    assert truth.image.read_bytes()[hidden.media_offset:hidden.media_offset + 64] == picture(75)[:64]
    zone = "p1/Users_marta_Downloads_album.zip:Zone.Identifier"
    assert fmt[zone] == "zone-identifier"
    assert {(i.kind, i.prov_row) for i in inds} == {("url", "HostUrl"), ("url", "ReferrerUrl"),
                                                    ("onion", "HostUrl"), ("onion", "ReferrerUrl")}
    what = {"HostUrl": "downloaded from", "ReferrerUrl": "download linked from"}
    assert all(i.prov_file == zone and i.context.startswith(f"p1/Users_marta_Downloads_album.zip {what[i.prov_row]}")
               for i in inds)
    # the picture hidden in a stream is hashed like any picture
    hash_stage(case)
    with case.engine.connect() as con:
        hashed = set(con.execute(select(S.media.c.sha256)).scalars())
    assert hashlib.sha256(picture(75)).hexdigest() in hashed
    # the download's referrer is the captured post: a visit to it on the computer, by its owner
    ringtrace.run(case)
    rep = rank_leads(case)
    page = next(p for p in rep.pages if p.uri == board)
    assert [(v.what, v.source, v.location) for v in page.visits] == [
        ("the onion site", "EX-PC", f"{zone}:ZoneTransfer:row HostUrl"),
        ("the page", "EX-PC", f"{zone}:ZoneTransfer:row ReferrerUrl")]
    assert all(v.persons for v in page.visits)  # the computer's owner (given at intake)

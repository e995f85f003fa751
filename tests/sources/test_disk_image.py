"""Disk images as a source (issue 15 items 1-4): every container (EWF split, raw split, VMDK, VHD, VHDX) and table
(MBR, GPT) recognised by content, every file of ext4, FAT32, NTFS (and an empty exFAT; exFAT with files in
test_disk_exfat.py, NTFS streams in test_disk_streams.py) recorded with its place, deleted files read and marked,
the image verified in place (EWF's stored hashes), the files formats and hashing need offered to them, and bad
images (truncated, corrupt table, looping folder) named problems that keep what could be read. Images are built
in code with Debian's tools (ringtrace.synth.formats.disk_image), never mounted."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from ringtrace.case import Case
from ringtrace.disk.image import DiskImage
from ringtrace.stages.intake import IntakeLimits, ingest
from ringtrace.store import schema as S
from ringtrace.synth.formats.disk_image import (
    DiskTruth,
    FileSpec,
    VolumeSpec,
    build_disk,
    missing_tools,
    picture,
    sample_files,
)

pytest.importorskip("dfvfs", reason="the 'disk' extra (dfVFS, pytsk3) is not installed")
pytest.importorskip("pytsk3", reason="the 'disk' extra (dfVFS, pytsk3) is not installed")

FILES = sample_files(7)
LIVE = [f for f in FILES if not f.deleted]


def _need(volumes: list[VolumeSpec], table: str | None, container: str) -> None:
    missing = missing_tools(volumes, table, container)
    if missing:
        pytest.skip(f"Debian tools to build the synthetic image are missing: {', '.join(missing)}")


def _build(tmp: Path, volumes: list[VolumeSpec], table: str | None = "mbr", container: str = "raw",
           segment_mib: int | None = None) -> DiskTruth:
    _need(volumes, table, container)
    return build_disk(tmp / "img", volumes, table, container, segment_mib)


def _rows(case: Case, table: S.Table) -> list:
    with case.engine.connect() as con:
        return list(con.execute(select(table)))


@pytest.fixture
def case(tmp_path: Path) -> Case:
    return Case.init(tmp_path / "case")


@pytest.mark.parametrize(("container", "table", "segment_mib"), [
    ("ewf", "gpt", 4), ("split", "mbr", 8), ("vmdk", "mbr", None), ("vhd", "gpt", None), ("vhdx", "mbr", None),
])
def test_every_container_and_table_is_read_by_content(tmp_path: Path, case: Case, container: str, table: str,
                                                      segment_mib: int | None) -> None:
    vols = [VolumeSpec("ext4", FILES), VolumeSpec("fat32", FILES), VolumeSpec("ntfs", FILES)]
    truth = _build(tmp_path, vols, table, container, segment_mib)
    if segment_mib:
        assert len(truth.segments) > 1  # the split is real: the later segments are found by dfVFS's glob
    r = ingest(case, truth.image, exhibit="EX-PC")
    assert r.added and not r.problems, r.problems
    src = _rows(case, S.sources)[0]
    assert (src.kind, src.mode) == ("disk", "in-place")
    img = _rows(case, S.disk_images)[0]
    assert img.image_type == {"ewf": "EWF", "split": "RAW", "vmdk": "VMDK", "vhd": "VHDI", "vhdx": "VHDI"}[container]
    assert [s["name"] for s in img.segments] == [s.name for s in truth.segments]
    if truth.media_sha256:
        assert src.sha256 == img.sha256 == truth.media_sha256
    assert [v["fs_type"] for v in img.volumes] == ["Ext4", "FAT32", "NTFS"]
    assert [v["partition"] for v in img.volumes] == ["p1", "p2", "p3"]
    files = {(r.partition, r.sha256): r for r in _rows(case, S.disk_files)}
    for vol in truth.volumes:
        for f in vol["files"]:
            row = files[(vol["partition"], f["sha256"])]
            assert row.deleted is f["deleted"]
            assert row.size == f["size"] and row.inode is not None and row.mtime is not None
            if not f["deleted"] or vol["fs"] == "ext4":  # FAT loses a deleted name's first character
                assert row.fs_path == "/" + f["path"]
    # NTFS: the deleted picture's MFT record is no longer in use, its data still there: read and marked deleted
    ntfs_old = files[("p3", next(f.sha256 for f in FILES if f.path.endswith("old.jpg")))]
    assert ntfs_old.deleted and ntfs_old.fs_type == "NTFS" and ntfs_old.stored
    assert sum(1 for (part, _), r in files.items() if part == "p3" and r.deleted) == 2
    # the image stays where it lies: no segment of it is in the vault
    seg_shas = {__import__("hashlib").sha256(s.read_bytes()).hexdigest() for s in truth.segments}
    assert not any(case.vault.has(s) for s in seg_shas)


def test_place_deleted_files_and_what_formats_and_hashing_get(tmp_path: Path, case: Case) -> None:
    truth = _build(tmp_path, [VolumeSpec("ext4", FILES), VolumeSpec("fat32", FILES)], "gpt", "raw")
    r = ingest(case, truth.image, exhibit="EX-PC")
    rows = {r.relpath: r for r in _rows(case, S.disk_files)}
    ext_deleted = rows["p1/Users/marta/Pictures/old.jpg"]
    assert ext_deleted.deleted and ext_deleted.stored and ext_deleted.fs_type == "Ext4"
    assert ext_deleted.sha256 == next(f.sha256 for f in FILES if f.path.endswith("old.jpg"))  # data intact
    fat_deleted = rows["p2/Users/marta/Pictures/_ld.jpg"]  # FAT's deleted entry: first character gone
    assert fat_deleted.deleted and fat_deleted.sha256 == ext_deleted.sha256
    live = rows["p1/Users/marta/Pictures/beach.jpg"]
    assert not live.deleted and live.media_offset is not None and live.media_offset >= 2048 * 512
    raw = truth.image.read_bytes()
    data = next(f.data for f in FILES if f.path.endswith("beach.jpg"))
    assert raw[live.media_offset:live.media_offset + len(data)] == data  # the offset is the byte in the media
    # formats find the browser history by content; its indicators keep the file inside the image
    assert ("firefox-places", "p1/Users/marta/Firefox/places.sqlite") in r.parse.units
    with case.engine.connect() as con:
        provs = {row.prov_file for row in con.execute(select(S.indicators.c.prov_file))}
    assert "p1/Users/marta/Firefox/places.sqlite" in provs
    # every picture (deleted ones and the one inside a zip too) goes to the hash stage
    from ringtrace.stages.hash import hash_stage

    hash_stage(case)
    hashed = {m.sha256 for m in _rows(case, S.media)}
    pics = {f.sha256 for f in FILES if f.path.endswith((".jpg", ".png"))}
    assert pics <= hashed
    zipped = [s for s in _rows(case, S.source_files) if "album.zip!/" in s.relpath]
    assert zipped and zipped[0].sha256 in hashed


def test_ewf_stored_hashes_are_checked_and_a_mismatch_is_named(tmp_path: Path, case: Case) -> None:
    truth = _build(tmp_path, [VolumeSpec("ext4", FILES)], "mbr", "ewf", segment_mib=64)  # stored uncompressed
    ingest(case, truth.image, exhibit="EX-OK")
    img = _rows(case, S.disk_images)[0]
    assert img.verification == "match" and img.stored_md5 == img.md5 == truth.media_md5
    data = bytearray(truth.image.read_bytes())
    needle = FILES[0].data[100:140]
    data[data.find(needle) + 7] ^= 0xFF  # one byte of a picture changed in the image file
    bad = tmp_path / "bad" / "altered.E01"
    bad.parent.mkdir()
    bad.write_bytes(bytes(data))
    r = ingest(case, bad, exhibit="EX-BAD")
    assert r.added
    assert any("stored MD5" in p and "does not match" in p for p in r.problems), r.problems
    assert [i.verification for i in _rows(case, S.disk_images)] == ["match", "mismatch"]


def test_same_disk_twice_adds_nothing_and_verify_holds_the_image_in_place(tmp_path: Path, case: Case) -> None:
    from ringtrace.verification import verify

    truth = _build(tmp_path, [VolumeSpec("ext4", LIVE)], None, "raw")
    assert ingest(case, truth.image, exhibit="EX-1").added
    again = tmp_path / "copy" / "same.dd"
    again.parent.mkdir()
    shutil.copyfile(truth.image, again)
    assert not ingest(case, again).added  # the media's digest is the identity, whatever the file is called
    assert verify(case).ok
    with truth.image.open("r+b") as fh:  # the original image altered after intake
        fh.seek(600)
        fh.write(b"\x01")
    rep = verify(case)
    assert any("altered: disk image of EX-1" in f for f in rep.findings), rep.findings


def test_copy_image_keeps_segments_in_the_vault(tmp_path: Path, case: Case) -> None:
    truth = _build(tmp_path, [VolumeSpec("fat32", LIVE)], "mbr", "split", segment_mib=16)
    ingest(case, truth.image, copy_image=True)
    img = _rows(case, S.disk_images)[0]
    assert img.copied and len(img.segments) == len(truth.segments) > 1
    assert all(case.vault.has(s["sha256"]) for s in img.segments)
    assert _rows(case, S.sources)[0].mode == "vault"


def test_exfat_and_a_bare_file_system_are_recognised(tmp_path: Path, case: Case) -> None:
    truth = _build(tmp_path, [VolumeSpec("exfat")], None, "raw")
    r = ingest(case, truth.image)
    assert r.added and not r.problems
    img = _rows(case, S.disk_images)[0]
    assert [(v["partition"], v["fs_type"]) for v in img.volumes] == [("fs", "exFAT")]


def test_raw_look_alike_without_a_volume_is_a_plain_file(tmp_path: Path, case: Case) -> None:
    p = tmp_path / "looks.bin"
    head = bytearray(4096)
    head[446 + 4], head[446 + 8], head[446 + 12] = 0x83, 1, 4  # one MBR entry, nothing behind it
    head[510:512] = b"\x55\xaa"
    p.write_bytes(bytes(head))
    ingest(case, p)
    assert _rows(case, S.sources)[0].kind == "file"


# ---- bad images -----------------------------------------------------------------------------------------------


def test_truncated_ewf_is_a_named_problem_and_its_files_are_salvaged(tmp_path: Path, case: Case) -> None:
    """An E01 cut short has lost its chunk tables (written after the chunks): libewf cannot read it, so its chunks
    are read one after another; the files on the part before the cut are recovered, from a volume marked
    salvaged."""
    truth = _build(tmp_path, [VolumeSpec("ext4", FILES)], "mbr", "ewf")
    cut = tmp_path / "cut" / "cut.E01"
    cut.parent.mkdir()
    data = truth.image.read_bytes()
    cut.write_bytes(data[:len(data) * 4 // 5])
    r = ingest(case, cut, exhibit="EX-CUT")
    assert r.added and any("cut.E01" in p and "read chunk by chunk" in p for p in r.problems), r.problems
    src = _rows(case, S.sources)[0]
    img = _rows(case, S.disk_images)[0]
    assert src.kind == "disk" and img.verification == "salvaged"
    assert [(v["partition"], v["fs_type"], v.get("salvaged")) for v in img.volumes] == [("p1", "Ext4", True)]
    assert img.sha256 != truth.media_sha256 and img.media_size == 7 * 1024**2  # the size its volume section says
    got = {r.fs_path: r.sha256 for r in _rows(case, S.disk_files)}
    # what lies before the cut is recovered whole; nothing is made up past it
    want = {"/" + f.path: f.sha256 for f in FILES}
    assert got and all(want[p] == sha for p, sha in got.items())
    readable = next(p for p in r.problems if "read chunk by chunk" in p)
    assert "files lying past byte" in readable


def test_truncated_ewf_names_the_files_past_the_cut(tmp_path: Path, case: Case) -> None:
    """Files laid one after another on FAT32 (mcopy), the E01 cut inside the second one: the first is recovered,
    the second and the third are named unreadable, and the digests recorded are of the readable part."""
    import hashlib
    import random

    rnd = random.Random(5)
    big = rnd.randbytes(3 * 1024**2)  # incompressible: stored chunk by chunk as it is
    files = [FileSpec("a_first.jpg", picture(41)), FileSpec("b_big.bin", big), FileSpec("c_last.jpg", picture(42))]
    truth = _build(tmp_path, [VolumeSpec("fat32", files)], None, "ewf")
    data = truth.image.read_bytes()
    at = data.find(big[len(big) // 2:len(big) // 2 + 64])
    assert at > 0
    cut = tmp_path / "cut" / "stick.E01"
    cut.parent.mkdir()
    cut.write_bytes(data[:at])
    r = ingest(case, cut, exhibit="EX-CUT")
    got = {x.fs_path: x.sha256 for x in _rows(case, S.disk_files)}
    assert got == {"/a_first.jpg": files[0].sha256}
    unreadable = [p for p in r.problems if "could not be read" in p]
    assert any("b_big.bin" in p and "past the readable part" in p for p in unreadable), r.problems
    assert any("c_last.jpg" in p for p in unreadable), r.problems
    img = _rows(case, S.disk_images)[0]
    assert img.verification == "salvaged" and img.image_type == "EWF"
    raw = hashlib.sha256()  # the digests are of the readable part: whole chunks from byte 0
    from ringtrace.disk.image import open_image

    opened = open_image(cut)
    assert opened.salvage is not None and 0 < opened.salvage.readable < opened.media_size
    raw.update(opened.salvage.read(0, opened.salvage.readable))
    assert img.sha256 == raw.hexdigest()
    from ringtrace.verification import verify

    assert verify(case).ok  # the same salvage gives the same digests: the image is verified as it is


def test_truncated_raw_keeps_the_partitions_before_the_cut(tmp_path: Path, case: Case) -> None:
    truth = _build(tmp_path, [VolumeSpec("ext4", LIVE), VolumeSpec("fat32", LIVE)], "mbr", "raw")
    data = truth.image.read_bytes()
    cut = tmp_path / "cut.dd"
    cut.write_bytes(data[:8 * 1024**2])  # p1 (ext4, 4 MiB at 1 MiB) whole, p2 (FAT32) gone
    r = ingest(case, cut)
    assert r.problems, "the lost partition must be named"
    parts = {row.partition for row in _rows(case, S.disk_files)}
    assert "p1" in parts
    assert {row.sha256 for row in _rows(case, S.disk_files) if row.partition == "p1"} >= {f.sha256 for f in LIVE}


def test_corrupt_partition_table_entry_is_named_and_the_rest_kept(tmp_path: Path, case: Case) -> None:
    truth = _build(tmp_path, [VolumeSpec("ext4", LIVE), VolumeSpec("fat32", LIVE)], "mbr", "raw")
    with truth.image.open("r+b") as fh:  # the second entry's start now points into the first one's middle
        fh.seek(446 + 16 + 8)
        fh.write((4096).to_bytes(4, "little"))
    r = ingest(case, truth.image)
    assert any("p2" in p for p in r.problems), r.problems
    assert {row.sha256 for row in _rows(case, S.disk_files) if row.partition == "p1"} >= {f.sha256 for f in LIVE}


def test_looping_folder_is_a_named_problem_not_an_endless_walk(tmp_path: Path, case: Case) -> None:
    vols = [VolumeSpec("ext4", [FileSpec("a/b/pic.jpg", picture(3)), FileSpec("a/note.txt", b"bland\n")])]
    truth = _build(tmp_path, vols, None, "raw")
    subprocess.run(["debugfs", "-w", "-R", "ln /a /a/b/back", str(truth.image)], check=True, capture_output=True)
    r = ingest(case, truth.image)
    assert any("folder loop" in p and "a/b/back" in p for p in r.problems), r.problems
    assert {row.fs_path for row in _rows(case, S.disk_files)} == {"/a/b/pic.jpg", "/a/note.txt"}


def test_file_limit_names_what_is_left_out(tmp_path: Path, case: Case) -> None:
    truth = _build(tmp_path, [VolumeSpec("ext4", LIVE)], None, "raw")
    r = ingest(case, truth.image, limits=IntakeLimits(max_members=2))
    assert len(_rows(case, S.disk_files)) == 2
    assert any("more than 2 files" in p for p in r.problems)


def test_programs_and_big_unknown_files_are_inventoried_not_kept(tmp_path: Path, case: Case) -> None:
    pe = bytearray(b"MZ" + bytes(200))
    pe[0x3C:0x40] = (128).to_bytes(4, "little")
    pe[128:132] = b"PE\x00\x00"
    vols = [VolumeSpec("ext4", [FileSpec("Windows/prog.exe", bytes(pe)), FileSpec("big.bin", b"\x00\x01" * 40_000),
                                FileSpec("pic.jpg", picture(9))])]
    truth = _build(tmp_path, vols, None, "raw")
    ingest(case, truth.image, limits=IntakeLimits(store_unknown_bytes=10_000))
    stored = {r.fs_path: r.stored for r in _rows(case, S.disk_files)}
    assert stored == {"/Windows/prog.exe": False, "/big.bin": False, "/pic.jpg": True}
    assert {r.relpath for r in _rows(case, S.source_files)} == {"fs/pic.jpg"}


def test_export_gives_each_media_file_its_place_in_the_image(tmp_path: Path, case: Case) -> None:
    import json

    import jsonschema

    from ringtrace.dissemination.export import build_export
    from ringtrace.stages.hash import hash_stage

    truth = _build(tmp_path, [VolumeSpec("ext4", FILES)], "mbr", "raw")
    ingest(case, truth.image, exhibit="EX-PC")
    hash_stage(case)
    doc = build_export(case)
    schema = json.loads((Path(__import__("ringtrace").__file__).parent / "dissemination" / "export_schema.json")
                        .read_text(encoding="utf-8"))
    jsonschema.validate(doc, schema)
    assert doc["sources"][0]["kind"] == "disk" and doc["sources"][0]["mode"] == "in-place"
    old = next(f.sha256 for f in FILES if f.path.endswith("old.jpg"))
    media = next(m for m in doc["media"] if m["sha256"] == old)
    place = media["files"][0]["place"]
    assert place["partition"] == "p1" and place["fs_type"] == "Ext4" and place["deleted"] is True
    assert place["fs_path"] == "/Users/marta/Pictures/old.jpg" and place["inode"] and place["mtime"]


def test_a_stamped_disk_is_reproducible_and_its_e01_holds_the_same_media(tmp_path: Path, case: Case) -> None:
    """Built with a Stamp, the same files give the same raw bytes (the synthetic operation relies on it) and the
    truth gives each ext4 file's inode and MACB as The Sleuth Kit reads them; kept as an E01 the media is the same
    disk (one source), its stored hashes verified, though ewfacquire's header dates make the E01 file differ."""
    from ringtrace.synth.formats.disk_image import Stamp

    stamp = Stamp(1_700_000_000, 11)
    files = [*FILES, FileSpec("Users/marta/Tor Browser/notes b.txt", b"bland text\n", mtime=1_650_000_000,
                              crtime=1_600_000_000)]
    vols = [VolumeSpec("ext4", files)]
    _need(vols, "gpt", "ewf")
    one = build_disk(tmp_path / "one", vols, "gpt", "raw", stamp=stamp)
    two = build_disk(tmp_path / "two", vols, "gpt", "raw", stamp=stamp)
    assert one.image.read_bytes() == two.image.read_bytes()
    ewf = build_disk(tmp_path / "ewf", vols, "gpt", "ewf", stamp=stamp)
    assert (ewf.media_sha256, ewf.media_md5, ewf.volumes) == (one.media_sha256, one.media_md5, one.volumes)
    r = ingest(case, ewf.image, exhibit="EX-E01")
    assert r.added and not r.problems, r.problems
    img = _rows(case, S.disk_images)[0]
    assert (img.image_type, img.verification, img.sha256) == ("EWF", "match", one.media_sha256)
    assert not ingest(case, one.image).added  # the dd of the same disk is the same source
    rows = {r.fs_path: r for r in _rows(case, S.disk_files)}
    for f in one.volumes[0]["files"]:
        row = rows["/" + f["path"]]
        assert (row.inode, row.deleted) == (f["inode"], f["deleted"]), f["path"]
        got = [getattr(row, k).strftime("%Y-%m-%dT%H:%M:%SZ") for k in ("mtime", "atime", "ctime", "crtime")]
        assert got == [f[k] for k in ("mtime", "atime", "ctime", "crtime")], f["path"]
    assert rows["/Users/marta/Tor Browser/notes b.txt"].crtime.year == 2020  # a file's own birth time



def test_ntfs_deletion_is_as_windows_leaves_it_and_the_file_is_still_recovered(tmp_path: Path, case: Case) -> None:
    """The synthetic NTFS deletion frees the MFT record (header flag and $MFT's $BITMAP), the file's clusters
    ($Bitmap) and takes its entry out of the folder's $I30 index: ntfs-3g no longer lists it and finds the volume
    consistent; The Sleuth Kit finds the unused record (under its old folder, by its $FILE_NAME's parent) and the
    reader recovers the file, marked deleted, its data intact."""
    import struct

    import pytsk3

    from ringtrace.synth.formats.disk_image import _Ntfs, _ntfs_delete

    keep = [f for f in LIVE if f.path.endswith((".jpg", ".png", ".txt"))]
    vols = [VolumeSpec("ntfs", keep)]
    _need(vols, None, "raw")
    truth = build_disk(tmp_path / "img", vols, None, "raw")
    name = "Users_marta_Pictures_beach.jpg"
    fs = pytsk3.FS_Info(pytsk3.Img_Info(str(truth.image)))
    n = int(fs.open(f"/{name}").info.meta.addr)
    del fs
    assert _ntfs_delete(truth.image, name)  # its index entry taken out (a leaf block of the root's $I30)
    data = bytearray(truth.image.read_bytes())
    vol = _Ntfs(data)
    rec = vol.rec(n)
    assert not struct.unpack_from("<H", rec, 0x16)[0] & 1  # the record's in-use flag
    fs = pytsk3.FS_Info(pytsk3.Img_Info(str(truth.image)))
    meta = fs.open_meta(inode=n).info.meta
    assert int(meta.flags) & int(pytsk3.TSK_FS_META_FLAG_UNALLOC)  # The Sleuth Kit reads $MFT's $BITMAP
    runs = [r for k, nm, a in vol.attrs(rec) if k == 0x80 and not nm for r in vol.runs(rec, a)]
    bitmap_rec = vol.rec(6)
    (_, _, a6), = [x for x in vol.attrs(bitmap_rec) if x[0] == 0x80]
    first_cluster = vol.runs(bitmap_rec, a6)[0][0] * vol.cluster
    for lcn, length in runs:  # its clusters free in $Bitmap
        assert all(not data[first_cluster + c // 8] >> (c % 8) & 1 for c in range(lcn, lcn + length))
    if shutil.which("ntfsls"):
        listed = subprocess.run(["ntfsls", str(truth.image)], capture_output=True, text=True, check=True).stdout
        assert name not in listed and "Users_marta_Pictures_garden.png" in listed
    if shutil.which("ntfsfix"):
        done = subprocess.run(["ntfsfix", "-n", str(truth.image)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    ingest(case, truth.image, exhibit="EX-NTFS")
    rows = {r.fs_path: r for r in _rows(case, S.disk_files)}
    row = rows[f"/{name}"]
    assert row.deleted and row.inode == n and row.sha256 == keep[0].sha256 and row.stored
    assert sum(r.deleted for r in rows.values()) == 1


class _ShortMedia(io.BytesIO):
    """A back-end that returns fewer bytes than the container declares, then fails if ``fail`` is set."""

    def __init__(self, data: bytes, fail: bool) -> None:
        super().__init__(data)
        self.fail = fail

    def read(self, n: int | None = -1, /) -> bytes:
        buf = super().read(n)
        if not buf and self.fail:
            raise OSError("read error at the end of the segment")
        return buf


@pytest.mark.parametrize("fail", [False, True])
def test_media_digests_of_a_short_read_keep_what_was_read_and_say_why(fail: bool, monkeypatch: pytest.MonkeyPatch
                                                                      ) -> None:
    """The media of an image that ends early (or whose back-end fails) is digested as far as it reads, and the
    reason names the byte where it stopped."""
    data = bytes(range(256)) * 9000  # 2.3 MB: more than one read
    img = DiskImage(path=Path("x.E01"), image_type="EWF", segments=[], media_spec=None, media_size=len(data) + 512)
    monkeypatch.setattr(img, "open_media", lambda: _ShortMedia(data, fail))
    seen: list[int] = []
    digests, why = img.media_digests(seen.append)
    assert (digests.sha256, digests.md5, digests.size) == (hashlib.sha256(data).hexdigest(),
                                                           hashlib.md5(data).hexdigest(), len(data))
    assert seen[-1] == len(data) and seen == sorted(seen)
    expected = (f"the media cannot be read past byte {len(data)}: read error" if fail
                else f"the media ends at byte {len(data)} of the {len(data) + 512} its container declares")
    assert why is not None and why.startswith(expected)

"""exFAT with files (issue 15): the synthetic writer (ringtrace.synth.formats.exfat) fills the empty volume
mkfs.exfat makes, per the exFAT specification (entry sets with SetChecksum and NameHash, NoFatChain runs and FAT
chains, a deleted file's entry set marked not in use and its clusters freed); fsck.exfat finds it clean, the same
input gives the same bytes, and intake reads every file off it (The Sleuth Kit through disk/walk.py) with its
path, times (UTC whatever the host's zone) and deleted flag."""

from __future__ import annotations

import hashlib
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from ringtrace.case import Case
from ringtrace.stages.intake import ingest
from ringtrace.store import schema as S
from ringtrace.synth.formats import exfat
from ringtrace.synth.formats.disk_image import (
    FileSpec,
    Stamp,
    VolumeSpec,
    build_disk,
    missing_tools,
    picture,
    sample_files,
)

STAMP = Stamp(1_717_200_000, 5)  # 2024-06-01
FILES = [
    *sample_files(7),
    FileSpec("DCIM/100PHOTO/IMG_0001.JPG", picture(101, (640, 480)), mtime=1_717_236_001, crtime=1_717_230_000),
    FileSpec("DCIM/100PHOTO/IMG_0002.JPG", picture(102, (640, 480)), mtime=1_717_236_003, fragmented=True),
    FileSpec("DCIM/100PHOTO/IMG_0003.JPG", picture(103), deleted=True, mtime=1_717_236_005),
    FileSpec("Notas/una lista de la compra con un nombre muy largo, ñandú y acentos.txt", b"pan\nleche\n"),
    FileSpec("empty.txt", b""),
]


def _need(table: str | None = None) -> None:
    missing = missing_tools([VolumeSpec("exfat")], table, "raw")
    missing += [] if shutil.which("fsck.exfat") or Path("/usr/sbin/fsck.exfat").exists() else ["fsck.exfat"]
    if missing:
        pytest.skip(f"Debian tools to build the synthetic image are missing: {', '.join(missing)}")


def _fsck(image: Path) -> str:
    done = subprocess.run(["/usr/sbin/fsck.exfat", "-n", str(image)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_writer_makes_a_clean_reproducible_volume(tmp_path: Path) -> None:
    _need()
    one = build_disk(tmp_path / "one", [VolumeSpec("exfat", FILES, label="STICK")], None, "raw", stamp=STAMP)
    two = build_disk(tmp_path / "two", [VolumeSpec("exfat", FILES, label="STICK")], None, "raw", stamp=STAMP)
    assert one.image.read_bytes() == two.image.read_bytes()
    live = sum(1 for f in FILES if not f.deleted)
    folders = 1 + len({f.path.rsplit("/", 1)[0] for f in FILES if "/" in f.path} | {"Users", "Users/marta", "DCIM"})
    assert f"clean. directories {folders}, files {live}" in _fsck(one.image)
    img = one.image.read_bytes()
    # the boot region's checksum (sector 11) is that of its first 11 sectors, and the backup region is the same
    assert struct.unpack_from("<I", img, 11 * 512)[0] == exfat.boot_checksum(img, 512)
    assert img[:12 * 512] == img[12 * 512:24 * 512]
    assert struct.unpack_from("<I", img, 100)[0] == int(STAMP.uuid("exfat")[:8], 16)  # the serial, not the clock
    # the deleted picture: its entry set is there with InUse cleared, its data intact, its clusters free
    name = "IMG_0003.JPG".encode("utf-16-le")
    at = img.find(name)
    assert at > 0 and img[at - 2] == 0x41 and img[at - 2 - 32] == 0x40 and img[at - 2 - 64] == 0x05
    data = next(f.data for f in FILES if f.path.endswith("IMG_0003.JPG"))
    assert img.find(data) > 0


def test_a_full_volume_and_bad_input_are_named(tmp_path: Path) -> None:
    _need()
    with pytest.raises(exfat.ExfatError, match="no room"):
        build_disk(tmp_path / "full", [VolumeSpec("exfat", [FileSpec("big.bin", b"\x01" * 9 * 1024**2)],
                                                  size_mib=8)], None, "raw", stamp=STAMP)
    with pytest.raises(exfat.ExfatError, match="1 to 255"):
        build_disk(tmp_path / "long", [VolumeSpec("exfat", [FileSpec("x" * 256, b"a")])], None, "raw", stamp=STAMP)
    p = tmp_path / "not.img"
    p.write_bytes(bytes(4096))
    with pytest.raises(exfat.ExfatError, match="no exFAT volume"):
        exfat.fill(p, [], STAMP.at)


pytest.importorskip("dfvfs", reason="the 'disk' extra (dfVFS, pytsk3) is not installed")
pytest.importorskip("pytsk3", reason="the 'disk' extra (dfVFS, pytsk3) is not installed")


@pytest.mark.parametrize("zone", ["UTC", "Europe/Madrid"])
def test_intake_reads_the_files_off_exfat_with_path_times_and_deletions(tmp_path: Path, zone: str,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    _need("mbr")
    truth = build_disk(tmp_path / "img", [VolumeSpec("exfat", FILES, label="STICK")], "mbr", "raw", stamp=STAMP)
    monkeypatch.setenv("TZ", zone)  # The Sleuth Kit reads exFAT's times as the host's local time
    time.tzset()
    try:
        case = Case.init(tmp_path / "case")
        r = ingest(case, truth.image, exhibit="EX-USB")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert r.added and not r.problems, r.problems
    with case.engine.connect() as con:
        rows = {x.fs_path: x for x in con.execute(select(S.disk_files))}
        img = con.execute(select(S.disk_images)).one()
    assert [(v["partition"], v["fs_type"], v["deleted"]) for v in img.volumes] == [("p1", "exFAT", 2 + 1)]
    want = truth.volumes[0]["files"]
    assert set(rows) == {"/" + f["path"] for f in want}  # the volume label and the bitmap are not files
    for f in want:
        row = rows["/" + f["path"]]
        assert (row.sha256, row.size, row.deleted, row.fs_type) == (f["sha256"], f["size"], f["deleted"], "exFAT")
        got = {k: getattr(row, k).strftime("%Y-%m-%dT%H:%M:%SZ") if getattr(row, k) else None
               for k in ("mtime", "atime", "ctime", "crtime")}
        assert got == {k: f[k] for k in ("mtime", "atime", "ctime", "crtime")}, f["path"]
    frag = rows["/DCIM/100PHOTO/IMG_0002.JPG"]
    assert frag.sha256 == hashlib.sha256(FILES[-4].data).hexdigest()  # read through its FAT chain
    first = rows["/DCIM/100PHOTO/IMG_0001.JPG"]
    raw = truth.image.read_bytes()
    assert raw[first.media_offset:first.media_offset + 64] == FILES[-5].data[:64]

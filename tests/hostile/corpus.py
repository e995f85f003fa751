"""Hostile containers built in code: each function writes one archive or folder into ``tmp`` and returns it."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path


def add_tar_bytes(tf: tarfile.TarFile, name: str | bytes, data: bytes) -> None:
    info = tarfile.TarInfo(os.fsdecode(name) if isinstance(name, bytes) else name)
    info.size = len(data)
    tf.addfile(info, io.BytesIO(data))


def folder_with_bad_name(tmp: Path) -> Path:
    root = tmp / "phone"
    root.mkdir()
    (root / "ok.txt").write_bytes(b"plain\n")
    with open(os.path.join(os.fsencode(root), b"name\xff.txt"), "wb") as fh:
        fh.write(b"latin-1 named file\n")
    return root


def tar_with_bad_name(tmp: Path) -> Path:
    path = tmp / "bad-name.tar"
    with tarfile.open(path, "w", encoding="utf-8", errors="surrogateescape") as tf:
        add_tar_bytes(tf, b"name\xff.txt", b"latin-1 named member\n")
        add_tar_bytes(tf, "after.txt", b"a later member\n")
    return path


def zip_with_bad_utf8_name(tmp: Path) -> Path:
    """A member flagged UTF-8 whose name is not UTF-8 (the placeholder's two bytes are overwritten)."""
    path = tmp / "bad-name.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("first.txt", b"first\n")
        zf.writestr("name\u00e9.txt", b"badly named member\n")  # UTF-8 flag set; bytes c3 a9
        zf.writestr("after.txt", b"a later member\n")
    data = path.read_bytes()
    assert data.count(b"name\xc3\xa9.txt") == 2  # local header and central directory
    path.write_bytes(data.replace(b"name\xc3\xa9.txt", b"name\xff\xfe.txt"))
    return path


def zip_with_duplicate(tmp: Path) -> Path:
    path = tmp / "dup.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("chat.txt", b"earlier\n")
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Duplicate name": exactly what a hostile archive holds
            zf.writestr("chat.txt", b"later\n")
        zf.writestr("other.txt", b"other\n")
    return path


def tar_appended(tmp: Path) -> Path:
    """What ``tar -r`` makes: the same name twice."""
    path = tmp / "appended.tar"
    with tarfile.open(path, "w") as tf:
        add_tar_bytes(tf, "chat.txt", b"earlier\n")
    with tarfile.open(path, "a") as tf:
        add_tar_bytes(tf, "chat.txt", b"later\n")
    return path


def tar_file_then_folder(tmp: Path) -> Path:
    path = tmp / "collide.tar"
    with tarfile.open(path, "w") as tf:
        add_tar_bytes(tf, "a", b"a file called a\n")
        add_tar_bytes(tf, "a/b", b"a file under a\n")
        add_tar_bytes(tf, "c.txt", b"more\n")
        add_tar_bytes(tf, "d/e.txt", b"more still\n")
    return path


def tar_with_hard_link(tmp: Path) -> Path:
    path = tmp / "links.tar"
    with tarfile.open(path, "w") as tf:
        add_tar_bytes(tf, "orig.txt", b"linked content\n")
        link = tarfile.TarInfo("copy.txt")
        link.type = tarfile.LNKTYPE
        link.linkname = "orig.txt"
        tf.addfile(link)
        stray = tarfile.TarInfo("stray.txt")
        stray.type = tarfile.LNKTYPE
        stray.linkname = "elsewhere.txt"
        tf.addfile(stray)
    return path


def zip_with_nul_name(tmp: Path) -> Path:
    path = tmp / "nul.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("evil#.txt", b"nul named\n")
        zf.writestr("fine.txt", b"fine\n")
    data = path.read_bytes()
    path.write_bytes(data.replace(b"evil#.txt", b"evil\x00.txt"))
    return path


def nested_zips(tmp: Path, depth: int) -> Path:
    """``outer.zip`` holding a zip holding a zip ... ``depth`` levels below the outer one."""
    inner = b""
    for level in range(depth, 0, -1):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(f"level{level}.txt", f"level {level}\n".encode())
            if inner:
                zf.writestr(f"z{level + 1}.zip", inner)
        inner = buf.getvalue()
    path = tmp / "outer.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("z1.zip", inner)
    return path


def zip_bomb(tmp: Path, members: int, member_bytes: int) -> Path:
    """Many members each under any per-member threshold, together far past the container's budget."""
    path = tmp / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for i in range(members):
            zf.writestr(f"part{i:02d}.bin", b"\0" * member_bytes)
    return path


def folder_with_dir_symlink(tmp: Path) -> Path:
    root = tmp / "linked"
    (root / "real").mkdir(parents=True)
    (root / "real" / "x.txt").write_bytes(b"x\n")
    outside = tmp / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"not part of the exhibit\n")
    os.symlink(outside, root / "elsewhere")
    return root

"""MediaResolver's string look-up (a folder's real path cached, os.stat/lstat per file) against the pathlib one it
replaced (is_file, resolve, is_relative_to per candidate): the same answer for every declared path, hostile ones
(symlinks out of the exhibit, loops, NUL, "..", "." and empty parts) included."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ringtrace.sources.whatsapp.android import MediaResolver


def reference(r: MediaResolver, declared: str | None) -> str | None:
    """The pathlib look-up as it was before the string one."""
    if not declared:
        return None
    p = declared.replace("\\", "/")
    idx = p.find(r.marker + "/")
    if idx < 0:
        return None
    bases = r.bases()
    rel = p[idx:]
    if not bases or ".." in rel.split("/"):
        return None
    for base in bases:
        cand = base / rel
        try:
            if cand.is_file():
                real = cand.resolve()
                if real.is_relative_to(r.root):
                    return real.relative_to(r.root).as_posix()
        except OSError:
            continue
    return None


def _tree(tmp: Path) -> Path:
    outside = tmp / "outside"
    (outside / "Media" / "Img").mkdir(parents=True)
    (outside / "secret.jpg").write_bytes(b"s")
    (outside / "Media" / "Img" / "o.jpg").write_bytes(b"o")
    root = tmp / "exhibit"
    wa = root / "sdcard" / "WhatsApp" / "Media"
    (wa / "WhatsApp Images" / "Sent").mkdir(parents=True)
    (root / "data" / "com.whatsapp" / "databases").mkdir(parents=True)
    (root / "data" / "com.whatsapp" / "databases" / "msgstore.db").write_bytes(b"")
    (wa / "WhatsApp Images" / "IMG-1.jpg").write_bytes(b"1")
    (wa / "WhatsApp Images" / "Sent" / "IMG-2.jpg").write_bytes(b"2")
    (wa / "top.jpg").write_bytes(b"t")
    os.symlink(wa / "WhatsApp Images" / "IMG-1.jpg", wa / "inside-link.jpg")
    os.symlink(outside / "secret.jpg", wa / "outside-link.jpg")
    os.symlink(outside / "Media" / "Img", wa / "OutDir")
    os.symlink(wa / "WhatsApp Images", wa / "InDir")
    os.symlink(wa / "loop-a.jpg", wa / "loop-b.jpg")
    os.symlink(wa / "loop-b.jpg", wa / "loop-a.jpg")
    os.symlink(wa / "missing.jpg", wa / "broken.jpg")
    # a second base, tried after the first: a file only there is found there
    (root / "data" / "com.whatsapp" / "Media").mkdir()
    (root / "data" / "com.whatsapp" / "Media" / "only-here.jpg").write_bytes(b"h")
    return root


DECLARED = [
    None, "", "no marker here", "Media/", "Media", "/storage/emulated/0/WhatsApp/Media/WhatsApp Images/IMG-1.jpg",
    "Media/WhatsApp Images/IMG-1.jpg", "Media/WhatsApp Images/Sent/IMG-2.jpg", "Media\\WhatsApp Images\\IMG-1.jpg",
    "Media//WhatsApp Images/./IMG-1.jpg", "Media/WhatsApp Images/IMG-1.jpg/", "Media/./top.jpg", "Media/top.jpg",
    "Media/inside-link.jpg", "Media/outside-link.jpg", "Media/OutDir/o.jpg", "Media/InDir/IMG-1.jpg",
    "Media/InDir/Sent/IMG-2.jpg", "Media/loop-a.jpg", "Media/broken.jpg", "Media/missing.jpg",
    "Media/WhatsApp Images", "Media/../../outside/secret.jpg", "Media/WhatsApp Images/../top.jpg",
    "Media/WhatsApp Images/IMG\x00-1.jpg", "Media/WhatsApp\x00 Images/IMG-1.jpg", "Media/only-here.jpg",
    "x/Media/Media/top.jpg", "Media/\udcff.jpg",
]


@pytest.mark.parametrize("via_link", [False, True])
def test_resolve_same_as_pathlib(tmp_path: Path, via_link: bool) -> None:
    root = _tree(tmp_path)
    if via_link:  # the exhibit reached through a symlinked folder: answers relative to its real path
        os.symlink(root, tmp_path / "link")
        root = tmp_path / "link"
    db = "data/com.whatsapp/databases/msgstore.db"
    for prefixes in (None, ("Message", "")):
        new = MediaResolver(root, db) if prefixes is None else MediaResolver(root, db, prefixes=prefixes)
        old = MediaResolver(root, db) if prefixes is None else MediaResolver(root, db, prefixes=prefixes)
        for d in DECLARED * 2:  # twice: the second time through the folder cache
            assert new.resolve(d) == reference(old, d), d
    r = MediaResolver(root, db)
    assert r.resolve("Media/WhatsApp Images/IMG-1.jpg") == "sdcard/WhatsApp/Media/WhatsApp Images/IMG-1.jpg"
    assert r.resolve("Media/inside-link.jpg") == "sdcard/WhatsApp/Media/WhatsApp Images/IMG-1.jpg"
    assert r.resolve("Media/outside-link.jpg") is None
    assert r.resolve("Media/OutDir/o.jpg") is None
    assert r.resolve("Media/only-here.jpg") == "data/com.whatsapp/Media/only-here.jpg"


def test_folder_cache_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ringtrace.sources.whatsapp.android as A

    root = _tree(tmp_path)
    monkeypatch.setattr(A, "FOLDER_CACHE", 1)
    r = MediaResolver(root, "data/com.whatsapp/databases/msgstore.db")
    old = MediaResolver(root, "data/com.whatsapp/databases/msgstore.db")
    for d in DECLARED:
        assert r.resolve(d) == reference(old, d), d
    assert len(r._folders) == 1


def test_nested_folders_and_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder's real path is built from its parent's (one lstat a folder): links at any depth, links to links,
    a file where a folder should be, and folders deeper than FOLDER_DEPTH give pathlib's answers."""
    import ringtrace.sources.whatsapp.android as A

    root = _tree(tmp_path)
    wa = root / "sdcard" / "WhatsApp" / "Media"
    deep = wa / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (deep / "f.jpg").write_bytes(b"f")
    os.symlink(wa / "a" / "b", wa / "a" / "lb")  # a link inside the exhibit, one level down
    os.symlink(wa / "a" / "lb", wa / "a" / "llb")  # a link to a link
    os.symlink(tmp_path / "outside" / "Media", wa / "a" / "out")  # a link out of the exhibit, one level down
    os.symlink("../a", wa / "a" / "b" / "up")  # a relative link back up
    chain = wa / "d"
    for i in range(40):
        chain = chain / f"l{i}"
    chain.mkdir(parents=True)
    (chain / "z.jpg").write_bytes(b"z")
    declared = ["Media/a/b/c/f.jpg", "Media/a/lb/c/f.jpg", "Media/a/llb/c/f.jpg", "Media/a/out/Img/o.jpg",
                "Media/a/b/up/b/c/f.jpg", "Media/a/b/up/lb/c/f.jpg", "Media/top.jpg/x.jpg", "Media/a/b/c",
                "Media/" + "/".join(["d"] + [f"l{i}" for i in range(40)]) + "/z.jpg", "Media/InDir/Sent/IMG-2.jpg",
                "Media/a/b/up/out/Img/o.jpg"]
    db = "data/com.whatsapp/databases/msgstore.db"
    for cache in (4096, 2):
        monkeypatch.setattr(A, "FOLDER_CACHE", cache)
        new, old = MediaResolver(root, db), MediaResolver(root, db)
        for d in declared * 2:
            assert new.resolve(d) == reference(old, d), d
    r = MediaResolver(root, db)
    assert r.resolve("Media/a/llb/c/f.jpg") == "sdcard/WhatsApp/Media/a/b/c/f.jpg"
    assert r.resolve("Media/a/out/Img/o.jpg") is None

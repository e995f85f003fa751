"""The synthetic operation: same seed, same bytes (in separate processes, whatever the hash seed), and the
invented data obeys the rules (valid numbers, 13+ countries, benign generated images only)."""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys
from pathlib import Path

import phonenumbers

from ringtrace.synth.world import build_world


def _synth(out: Path, hashseed: str) -> None:
    env = dict(os.environ, PYTHONHASHSEED=hashseed)
    subprocess.run([sys.executable, "-c", "from ringtrace.cli import main; main()", "synth", str(out), "--seed", "4",
                    "--scale", "tiny"], check=True, env=env, capture_output=True)


def _tree(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_same_seed_same_bytes_across_processes(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    _synth(a, "1")
    _synth(b, "2")
    files = _tree(a)
    assert files == _tree(b) and len(files) > 50
    _, mismatch, errors = filecmp.cmpfiles(a, b, files, shallow=False)
    assert mismatch == [] and errors == []


def test_people_are_valid_and_spread_over_countries() -> None:
    w = build_world(8, "small")
    for p in w.persons.values():
        num = phonenumbers.parse(p.v.phone)
        assert phonenumbers.is_valid_number(num)
        assert phonenumbers.region_code_for_number(num) == p.country
    assert len({p.country for p in w.persons.values()}) >= 13
    assert len({p.v.phone for p in w.persons.values()}) == len(w.persons)


def test_ground_truth_lists_what_a_perfect_analysis_must_find(tiny_operation: Path) -> None:
    truth = json.loads((tiny_operation / "ground-truth.json").read_text())
    assert {"persons", "groups", "known_media", "invite_links", "media_first_shared", "devices"} <= set(truth)
    assert any(g["observed_by"] for g in truth["groups"])
    manifest = json.loads((tiny_operation / "operation.json").read_text())
    assert all((tiny_operation / e["path"]).exists() for e in manifest["exhibits"])


def test_the_computer_is_a_reproducible_disk_image_with_its_truth(tiny_operation: Path) -> None:
    """EX-PC1 is a raw GPT disk whose ext4 partition holds the browser profiles, the iPhone backup and the saved
    pictures (known and unknown, some deleted); the ground truth gives each file's place."""
    manifest = json.loads((tiny_operation / "operation.json").read_text())
    truth = json.loads((tiny_operation / "ground-truth.json").read_text())
    (pc,) = [e for e in manifest["exhibits"] if e["exhibit"] == "EX-PC1"]
    if pc["held_as"] != "disk-image":
        import pytest

        pytest.skip(f"this machine cannot build the image: {pc['disk_image_not_built']}")
    assert pc["image"] == {"container": "raw", "table": "gpt", "file_system": "ext4"}
    (disk,) = [d for d in truth["disks"] if d["exhibit"] == "EX-PC1"]
    raw = (tiny_operation / pc["path"]).read_bytes()
    assert disk["image"] == pc["path"] and raw[512:520] == b"EFI PART"
    (part,) = disk["partitions"]
    assert raw[part["offset"] + 1080:part["offset"] + 1082] == b"\x53\xef"  # the ext4 superblock, where told
    paths = {f["tree_path"] for f in disk["files"]}
    assert {v["file"] for v in truth["browser_visits"]} <= paths
    assert any(p.startswith(truth["backups"][0]["path"] + "/") for p in paths)
    pics = disk["pictures"]
    assert {(p["known"], p["deleted"]) for p in pics} == {(True, True), (True, False), (False, True), (False, False)}
    assert all(p["inode"] and p["mtime"] and p["crtime"] for p in pics)
    assert all(p["deleted_at"] for p in pics if p["deleted"])
    listed = {k["sha256"] for k in truth["known_media"]}
    assert {p["sha256"] for p in pics if p["known"]} <= listed


def test_the_usb_stick_is_an_exfat_disk_with_the_saved_pictures(tiny_operation: Path, tmp_path: Path) -> None:
    """EX-USB1, seized beside the computer, is a raw MBR disk whose exFAT volume (written by synth.formats.exfat,
    clean to fsck.exfat) holds pictures the computer does not, known and unknown, one known one deleted; the
    ground truth gives each file's place and times."""
    import shutil
    import subprocess

    manifest = json.loads((tiny_operation / "operation.json").read_text())
    truth = json.loads((tiny_operation / "ground-truth.json").read_text())
    sticks = [e for e in manifest["exhibits"] if e["exhibit"] == "EX-USB1"]
    if not sticks:
        import pytest

        (pc,) = [e for e in manifest["exhibits"] if e["exhibit"] == "EX-PC1"]
        pytest.skip(pc.get("usb_stick_not_built") or pc.get("disk_image_not_built") or "no stick")
    (stick,) = sticks
    assert stick["image"] == {"container": "raw", "table": "mbr", "file_system": "exfat"}
    (disk,) = [d for d in truth["disks"] if d["exhibit"] == "EX-USB1"]
    (part,) = disk["partitions"]
    raw = (tiny_operation / stick["path"]).read_bytes()
    assert disk["image"] == stick["path"] and raw[part["offset"] + 3:part["offset"] + 11] == b"EXFAT   "
    (pc,) = [d for d in truth["disks"] if d["exhibit"] == "EX-PC1"]
    pics = disk["pictures"]
    assert not {p["sha256"] for p in pics} & {p["sha256"] for p in pc["pictures"]}  # not the computer's copies
    states = {(p["known"], p["deleted"]) for p in pics}
    assert (True, True) in states and (False, False) in states and states <= {(True, True), (True, False),
                                                                               (False, False)}
    assert {p["sha256"] for p in pics if p["known"]} <= {k["sha256"] for k in truth["known_media"]}
    assert all(f["mtime"] and f["crtime"] and f["ctime"] is None for f in disk["files"])
    fsck = shutil.which("fsck.exfat") or "/usr/sbin/fsck.exfat"
    if Path(fsck).exists():
        vol = tmp_path / "stick-volume.img"
        vol.write_bytes(raw[part["offset"]:part["offset"] + part["size"]])
        done = subprocess.run([fsck, "-n", str(vol)], capture_output=True, text=True, check=False)
        assert done.returncode == 0 and "clean" in done.stdout, done.stdout + done.stderr


def test_the_computer_falls_back_to_a_folder_without_the_tools(tmp_path: Path, tiny_operation: Path,
                                                                monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Where the Debian tools are missing, the computer is written as a folder of its live files (the same files
    as on the disk) and operation.json says why; the ground truth lists no disk, and no known material that only a
    deleted file held."""
    import hashlib

    from ringtrace.synth import computer_plan
    from ringtrace.synth.operation import write_operation

    monkeypatch.setattr(computer_plan, "missing_tools", lambda *a: ["mke2fs"])
    write_operation(tmp_path / "op", seed=3, scale="tiny")
    manifest = json.loads((tmp_path / "op" / "operation.json").read_text(encoding="utf-8"))
    truth = json.loads((tmp_path / "op" / "ground-truth.json").read_text(encoding="utf-8"))
    (pc,) = [e for e in manifest["exhibits"] if e["exhibit"] == "EX-PC1"]
    assert pc["held_as"] == "folder" and "mke2fs" in pc["disk_image_not_built"] and "image" not in pc
    folder = tmp_path / "op" / pc["path"]
    assert folder.is_dir() and truth["disks"] == []
    (page, _) = truth["browser_visits"]
    assert (folder / page["file"]).is_file() and (folder / truth["backups"][0]["path"]).is_dir()
    held = {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file()}
    normal = json.loads((tiny_operation / "ground-truth.json").read_text(encoding="utf-8"))
    if normal["disks"]:  # the same live files as the disk holds, and the known copy only a deleted file held gone
        (disk,) = [d for d in normal["disks"] if d["exhibit"] == "EX-PC1"]
        assert held == {f["tree_path"].split("/", 1)[1]: f["sha256"] for f in disk["files"] if not f["deleted"]}
        only = {p["sha256"] for p in disk["pictures"] if p["only_here"]}
        assert only and {k["sha256"] for k in normal["known_media"]} - {k["sha256"] for k in truth["known_media"]} \
            == only

"""Render a DeviceView as an iTunes/Finder iOS backup folder (unencrypted).

The WhatsApp iOS app group (``ringtrace.synth.formats.whatsapp_ios``) is written first, then every file is
stored under its hashed name ``ab/abcdef...`` = SHA-1 of ``domain-relativePath`` (as iOS does), listed in
``Manifest.db`` (``Files``: fileID, domain, relativePath, flags, file; directories with flags 2), beside
``Info.plist`` (device name, phone number, an invented IMEI), ``Manifest.plist`` and ``Status.plist``.
Deterministic for a seed.
"""

from __future__ import annotations

import hashlib
import plistlib
import random
import shutil
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from ringtrace.synth.formats import whatsapp_ios
from ringtrace.synth.view import DeviceView

MANIFEST_SCHEMA = """
CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);
CREATE INDEX FilesDomainIdx ON Files(domain);
CREATE INDEX FilesRelativePathIdx ON Files(relativePath);
CREATE INDEX FilesFlagsIdx ON Files(flags);
CREATE TABLE Properties (key TEXT PRIMARY KEY, value BLOB);
"""
BACKUP_DATE = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def file_id(domain: str, relpath: str) -> str:
    return hashlib.sha1(f"{domain}-{relpath}".encode()).hexdigest()  # noqa: S324 - iOS's own naming


def luhn_imei(rng: random.Random) -> str:
    """An invented 15-digit IMEI with a valid Luhn check digit (TAC 35 + random digits)."""
    body = "35" + "".join(str(rng.randrange(10)) for _ in range(12))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def write(view: DeviceView, out: Path, seed: int, device_name: str | None = None,
          phone_number: bool = True) -> list[Path]:
    """Write ``view`` as an iOS backup folder ``out``; returns the files written."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    rows: list[tuple[str, str, str, int, bytes]] = []
    with tempfile.TemporaryDirectory(prefix="ringtrace-synth-iosbk-") as td:
        tree = Path(td)
        whatsapp_ios.write(view, tree, seed)
        dirs: set[tuple[str, str]] = set()
        for f in sorted(p for p in tree.rglob("*") if p.is_file()):
            domain, rel = f.relative_to(tree).as_posix().split("/", 1)
            parent = rel.rsplit("/", 1)[0] if "/" in rel else ""
            while parent:
                dirs.add((domain, parent))
                parent = parent.rsplit("/", 1)[0] if "/" in parent else ""
            fid = file_id(domain, rel)
            dst = out / fid[:2] / fid
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dst)
            written.append(dst)
            meta = plistlib.dumps({"Size": f.stat().st_size, "Mode": 0o100644,
                                   "LastModified": int(BACKUP_DATE.timestamp())}, fmt=plistlib.FMT_BINARY)
            rows.append((fid, domain, rel, 1, meta))
        for domain, d in sorted(dirs):
            rows.append((file_id(domain, d), domain, d, 2,
                         plistlib.dumps({"Mode": 0o40755}, fmt=plistlib.FMT_BINARY)))
    man = out / "Manifest.db"
    con = sqlite3.connect(man)
    try:
        con.executescript(MANIFEST_SCHEMA)
        con.executemany("INSERT INTO Files VALUES (?,?,?,?,?)", sorted(rows))
        con.commit()
    finally:
        con.close()
    written.append(man)
    name = device_name or f"{view.owner.name.split()[0]}'s iPhone"
    udid = "".join(rng.choice("0123456789abcdef") for _ in range(40))
    info: dict[str, object] = {
        "Device Name": name, "Display Name": name, "IMEI": luhn_imei(rng), "Product Type": "iPhone14,5",
        "Product Version": "17.4.1", "Serial Number": "F" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ")
                                                                 for _ in range(11)),
        "Unique Identifier": udid.upper(), "Last Backup Date": BACKUP_DATE.replace(tzinfo=None),
    }
    if phone_number:
        info["Phone Number"] = view.owner.phone
    (out / "Info.plist").write_bytes(plistlib.dumps(info))
    manifest_plist = {"IsEncrypted": False, "Version": "10.0", "Date": BACKUP_DATE.replace(tzinfo=None),
                      "Lockdown": {"DeviceName": name, "ProductVersion": "17.4.1", "UniqueDeviceID": udid}}
    (out / "Manifest.plist").write_bytes(plistlib.dumps(manifest_plist, fmt=plistlib.FMT_BINARY))
    (out / "Status.plist").write_bytes(plistlib.dumps({"IsFullBackup": False, "Version": "3.3",
                                                       "BackupState": "new", "SnapshotState": "finished"},
                                                      fmt=plistlib.FMT_BINARY))
    written += [out / "Info.plist", out / "Manifest.plist", out / "Status.plist"]
    return written

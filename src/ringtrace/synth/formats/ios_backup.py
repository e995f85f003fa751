"""Render a DeviceView as an iTunes/Finder iOS backup folder, plain or encrypted with a password.

The WhatsApp iOS app group (``ringtrace.synth.formats.whatsapp_ios``) is written first, then every file is
stored under its hashed name ``ab/abcdef...`` = SHA-1 of ``domain-relativePath`` (as iOS does), listed in
``Manifest.db`` (``Files``: fileID, domain, relativePath, flags, file; directories with flags 2; ``file`` the
NSKeyedArchiver ``MBFile`` plist), beside ``Info.plist`` (device name, phone number, an invented IMEI),
``Manifest.plist`` and ``Status.plist``. Deterministic for a seed.

Encrypted (``password=``), the encryption side of Apple's documented scheme (iOS Security Guide, "Keybags:
Backup"; the iphone-dataprotection keybag layout that iphone_backup_decrypt and mvt read), written here with
``cryptography`` so the reader's library is tested against an independent writer:

* ``Manifest.plist`` ``BackupKeyBag``: TLV records (4-byte tag, 4-byte big-endian length): VERS, TYPE (1 =
  backup), UUID, HMCK, WRAP, SALT, ITER, DPWT, DPIC, DPSL, then per protection class UUID, CLAS, WRAP (2 =
  wrapped with the passphrase key), KTYP, WPKY. The passphrase key is PBKDF2-HMAC-SHA1(PBKDF2-HMAC-SHA256(
  password, DPSL, DPIC), SALT, ITER), 32 bytes; each class key is AES-key-wrapped (RFC 3394) with it.
* every file has its own random AES-256 key, wrapped with its class key; the ``MBFile`` plist keeps it as
  ``EncryptionKey`` (NSData: 4-byte little-endian class + the 40-byte wrapped key); its content is AES-256-CBC
  with a zero IV and PKCS#7 padding.
* ``Manifest.db`` itself is encrypted the same way with ``ManifestKey`` (class + wrapped key) from Manifest.plist.

Real backups use DPIC 10,000,000 and ITER 10,000; the synthetic ones take smaller counts (``iterations=``) so
tests stay fast, the same code path either way.
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

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.keywrap import aes_key_wrap

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
#: (DPIC, ITER) of synthetic encrypted backups; iOS uses (10_000_000, 10_000)
TEST_ITERATIONS = (2_000, 100)
FILE_CLASS = 3  # NSFileProtectionCompleteUntilFirstUserAuthentication, what most app files get
MANIFEST_CLASS = 4
CLASSES = range(1, 12)


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


def _tlv(tag: bytes, value: bytes | int) -> bytes:
    data = value.to_bytes(4, "big") if isinstance(value, int) else value
    return tag + len(data).to_bytes(4, "big") + data


def _pbkdf2(algorithm: hashes.HashAlgorithm, secret: bytes, salt: bytes, rounds: int) -> bytes:
    return PBKDF2HMAC(algorithm=algorithm, length=32, salt=salt, iterations=rounds).derive(secret)


def passphrase_key(password: str, dpsl: bytes, dpic: int, salt: bytes, iters: int) -> bytes:
    """The key that wraps the class keys: PBKDF2-SHA256 then PBKDF2-SHA1, as iOS 10.2 and later derive it."""
    return _pbkdf2(hashes.SHA1(), _pbkdf2(hashes.SHA256(), password.encode(), dpsl, dpic), salt, iters)  # noqa: S303


def cbc_encrypt(key: bytes, data: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(key), modes.CBC(b"\x00" * 16)).encryptor()
    return enc.update(padder.update(data) + padder.finalize()) + enc.finalize()


class Keybag:
    """A backup keybag: one random key per protection class, wrapped with the password's key."""

    def __init__(self, rng: random.Random, password: str, iterations: tuple[int, int]) -> None:
        dpic, iters = iterations
        dpsl, salt = rng.randbytes(20), rng.randbytes(20)
        pkey = passphrase_key(password, dpsl, dpic, salt, iters)
        self.class_keys = {c: rng.randbytes(32) for c in CLASSES}
        blob = (_tlv(b"VERS", 4) + _tlv(b"TYPE", 1) + _tlv(b"UUID", rng.randbytes(16))
                + _tlv(b"HMCK", rng.randbytes(40)) + _tlv(b"WRAP", 0) + _tlv(b"SALT", salt) + _tlv(b"ITER", iters)
                + _tlv(b"DPWT", 1) + _tlv(b"DPIC", dpic) + _tlv(b"DPSL", dpsl))
        for c, k in self.class_keys.items():
            blob += (_tlv(b"UUID", rng.randbytes(16)) + _tlv(b"CLAS", c) + _tlv(b"WRAP", 2) + _tlv(b"KTYP", 0)
                     + _tlv(b"WPKY", aes_key_wrap(pkey, k)))
        self.blob = blob

    def wrapped(self, rng: random.Random, cls: int) -> tuple[bytes, bytes]:
        """A fresh file key and its stored form (4-byte little-endian class + RFC 3394 wrap)."""
        key = rng.randbytes(32)
        return key, cls.to_bytes(4, "little") + aes_key_wrap(self.class_keys[cls], key)


def mbfile(size: int, mode: int, encryption_key: bytes | None = None, cls: int = FILE_CLASS) -> bytes:
    """The ``file`` column: an NSKeyedArchiver plist of an MBFile, as iOS writes it."""
    ts = int(BACKUP_DATE.timestamp())
    obj: dict[str, object] = {"$class": plistlib.UID(3 if encryption_key else 2), "Size": size, "Mode": mode,
                              "LastModified": ts, "Birth": ts, "LastStatusChange": ts, "ProtectionClass": cls,
                              "UserID": 501, "GroupID": 501, "InodeNumber": 0, "Flags": 0,
                              "RelativePath": plistlib.UID(0)}
    objects: list[object] = ["$null", obj]
    if encryption_key is not None:
        obj["EncryptionKey"] = plistlib.UID(2)
        objects.append({"NS.data": encryption_key, "$class": plistlib.UID(4)})
    objects.append({"$classname": "MBFile", "$classes": ["MBFile", "NSObject"]})
    if encryption_key is not None:
        objects.append({"$classname": "NSMutableData", "$classes": ["NSMutableData", "NSData", "NSObject"]})
    return plistlib.dumps({"$version": 100000, "$archiver": "NSKeyedArchiver", "$top": {"root": plistlib.UID(1)},
                           "$objects": objects}, fmt=plistlib.FMT_BINARY)


def write(view: DeviceView, out: Path, seed: int, device_name: str | None = None,
          phone_number: bool = True, password: str | None = None,
          iterations: tuple[int, int] = TEST_ITERATIONS) -> list[Path]:
    """Write ``view`` as an iOS backup folder ``out`` (encrypted with ``password`` when given); returns the files
    written."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    keybag = Keybag(rng, password, iterations) if password is not None else None
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
            data = f.read_bytes()
            if keybag is None:
                shutil.copyfile(f, dst)
                meta = mbfile(len(data), 0o100644)
            else:
                key, stored = keybag.wrapped(rng, FILE_CLASS)
                dst.write_bytes(cbc_encrypt(key, data))
                meta = mbfile(len(data), 0o100644, stored)
            written.append(dst)
            rows.append((fid, domain, rel, 1, meta))
        for domain, d in sorted(dirs):
            rows.append((file_id(domain, d), domain, d, 2, mbfile(0, 0o40755)))
    man = out / "Manifest.db"
    with tempfile.TemporaryDirectory(prefix="ringtrace-synth-iosbk-") as td:
        plain_man = Path(td) / "Manifest.db"
        con = sqlite3.connect(plain_man)
        try:
            con.executescript(MANIFEST_SCHEMA)
            con.executemany("INSERT INTO Files VALUES (?,?,?,?,?)", sorted(rows))
            con.commit()
        finally:
            con.close()
        manifest_key = None
        if keybag is None:
            shutil.copyfile(plain_man, man)
        else:
            key, manifest_key = keybag.wrapped(rng, MANIFEST_CLASS)
            man.write_bytes(cbc_encrypt(key, plain_man.read_bytes()))
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
    manifest_plist: dict[str, object] = {
        "IsEncrypted": keybag is not None, "Version": "10.0", "Date": BACKUP_DATE.replace(tzinfo=None),
        "Lockdown": {"DeviceName": name, "ProductVersion": "17.4.1", "UniqueDeviceID": udid}}
    if keybag is not None and manifest_key is not None:
        manifest_plist["BackupKeyBag"] = keybag.blob
        manifest_plist["ManifestKey"] = manifest_key
    (out / "Manifest.plist").write_bytes(plistlib.dumps(manifest_plist, fmt=plistlib.FMT_BINARY))
    (out / "Status.plist").write_bytes(plistlib.dumps({"IsFullBackup": False, "Version": "3.3",
                                                       "BackupState": "new", "SnapshotState": "finished"},
                                                      fmt=plistlib.FMT_BINARY))
    written += [out / "Info.plist", out / "Manifest.plist", out / "Status.plist"]
    return written

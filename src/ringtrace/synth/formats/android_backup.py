"""Android phone backups as they end up on a PC: an ``adb backup`` file (``.ab``) and a WhatsApp folder copied off
the phone (``WhatsApp/Databases/msgstore.db.crypt15`` + ``WhatsApp/Media/...``). Both hold the synthetic WhatsApp
Android extraction (``ringtrace.synth.formats.whatsapp_android``).

Written independently of the readers, from the formats' own descriptions: the .ab header and encryption as AOSP's
BackupManagerService writes them (see ``ringtrace.sources.backups.android``); crypt15 as wa-crypt-tools documents
it (see ``ringtrace.sources.whatsapp.crypt``). Everything is built with ``cryptography`` and the standard library.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import random
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from pathlib import Path

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ringtrace.synth.formats import whatsapp_android
from ringtrace.synth.view import DeviceView

PKG = "com.whatsapp"
DB = f"data/data/{PKG}/databases/msgstore.db"
#: Android's folders under /data/data/<package>/ -> adb backup's tokens
TOKENS = {"databases": "db", "shared_prefs": "sp", "files": "f", "cache": "c"}
TEST_ROUNDS = 1_000  # AOSP uses 10,000 PBKDF2 rounds; fewer keep tests fast, same code path
MANIFEST = f"1\n{PKG}\n452\n11\n1\n0\n".encode()  # _manifest: version, package, versionCode, sdk, ...


def _extraction(view: DeviceView, tree: Path, seed: int) -> Path:
    """The synthetic WhatsApp Android extraction under ``tree``, its msgstore.db with the WAL folded in (a backup
    copies the database, not the journal)."""
    whatsapp_android.write(view, tree, seed)
    db = tree / DB
    folded = tree / "folded.db"
    con = sqlite3.connect(db)
    try:
        con.execute("VACUUM INTO ?", (str(folded),))
    finally:
        con.close()
    for sib in ("-wal", "-shm"):
        db.with_name(db.name + sib).unlink(missing_ok=True)
    shutil.move(folded, db)
    return db


def adb_member(android_rel: str) -> str | None:
    """Where a file of the extraction goes in an adb backup's tar, or None (not backed up)."""
    parts = android_rel.split("/")
    if parts[:2] == ["data", "data"] and len(parts) >= 5 and parts[3] in TOKENS:
        return "/".join(["apps", parts[2], TOKENS[parts[3]], *parts[4:]])
    if parts[0] == "sdcard" and len(parts) > 1:
        return "/".join(["shared", "0", *parts[1:]])
    return None


def _java_chars_utf8(key: bytes) -> bytes:
    # Java's String(char[]) of a byte[] cast to char: each byte sign-extended to 16 bits, then UTF-8
    return "".join(chr(b if b < 0x80 else 0xFF00 | b) for b in key).encode("utf-8")


def _cbc(key: bytes, iv: bytes, data: bytes) -> bytes:
    p = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(p.update(data) + p.finalize()) + enc.finalize()


def write_ab(view: DeviceView, out: Path, seed: int, password: str | None = None, compressed: bool = True,
             version: int = 5, rounds: int = TEST_ROUNDS, shared: bool = True) -> Path:
    """``view`` as ``adb backup [-shared] com.whatsapp`` would write it to the file ``out``."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="ringtrace-synth-ab-") as td:
        tree = Path(td)
        _extraction(view, tree, seed)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
            def add(name: str, data: bytes) -> None:
                info = tarfile.TarInfo(name)
                info.size, info.mtime, info.mode = len(data), 1717243200, 0o600
                tf.addfile(info, io.BytesIO(data))

            add(f"apps/{PKG}/_manifest", MANIFEST)
            for f in sorted(p for p in tree.rglob("*") if p.is_file()):
                member = adb_member(f.relative_to(tree).as_posix())
                if member is not None and (shared or not member.startswith("shared/")):
                    add(member, f.read_bytes())
        body = zlib.compress(buf.getvalue()) if compressed else buf.getvalue()
    header = f"ANDROID BACKUP\n{version}\n{int(compressed)}\n"
    if password is None:
        data = (header + "none\n").encode() + body
    else:
        user_salt, ck_salt, user_iv = rng.randbytes(64), rng.randbytes(64), rng.randbytes(16)
        mk, mk_iv = rng.randbytes(32), rng.randbytes(16)
        user_key = hashlib.pbkdf2_hmac("sha1", password.encode(), user_salt, rounds, 32)
        check = hashlib.pbkdf2_hmac("sha1", _java_chars_utf8(mk) if version >= 2 else mk, ck_salt, rounds, 32)
        blob = _cbc(user_key, user_iv, bytes([16]) + mk_iv + bytes([32]) + mk + bytes([32]) + check)
        lines = [user_salt.hex().upper(), ck_salt.hex().upper(), str(rounds), user_iv.hex().upper(),
                 blob.hex().upper()]
        data = (header + "AES-256\n" + "".join(x + "\n" for x in lines)).encode() + _cbc(mk, mk_iv, body)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return out


# ---- a WhatsApp folder copied to a PC ----------------------------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _pb(field: int, value: bytes | int) -> bytes:
    if isinstance(value, int):
        return _varint(field << 3) + _varint(value)
    return _varint(field << 3 | 2) + _varint(len(value)) + value


def crypt15(plain_db: bytes, root_key: bytes, iv: bytes) -> bytes:
    """msgstore.db.crypt15: protobuf prefix (key type, IV, app version), AES-256-GCM of zlib(db), tag, MD5."""
    aes = hmac.new(hmac.new(b"\x00" * 32, root_key, hashlib.sha256).digest(), b"backup encryption\x01",
                   hashlib.sha256).digest()
    prefix = _pb(1, 1) + _pb(3, _pb(1, iv)) + _pb(4, _pb(1, b"2.24.10.79")) + _pb(4, _pb(2, b"x" * 140))
    body = _varint(len(prefix)) + prefix + AESGCM(aes).encrypt(iv, zlib.compress(plain_db), None)
    return body + hashlib.md5(body).digest()  # noqa: S324 - the format's own checksum


def write_whatsapp_folder(view: DeviceView, out: Path, seed: int, root_key: bytes) -> list[Path]:
    """``WhatsApp/`` as copied off a phone onto a PC: ``Databases/msgstore.db.crypt15`` (encrypted with the
    64-hex end-to-end backup key ``root_key``) and ``Media/...``; returns the files written."""
    rng = random.Random(seed)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="ringtrace-synth-wafolder-") as td:
        tree = Path(td)
        db = _extraction(view, tree, seed)
        crypt = out / "WhatsApp" / "Databases" / "msgstore.db.crypt15"
        crypt.parent.mkdir(parents=True, exist_ok=True)
        crypt.write_bytes(crypt15(db.read_bytes(), root_key, rng.randbytes(16)))
        written.append(crypt)
        media = tree / "sdcard" / "WhatsApp" / "Media"
        for f in sorted(p for p in media.rglob("*") if p.is_file()):
            dst = out / "WhatsApp" / "Media" / f.relative_to(media)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dst)
            written.append(dst)
    return written

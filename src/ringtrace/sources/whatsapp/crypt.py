"""Encrypted WhatsApp Android backups: ``msgstore.db.crypt12`` / ``.crypt14`` / ``.crypt15``.

Without a key the file is recognised and the examiner is told what is needed. With a key
(``ReadOptions.extra["key"]``: 64 hex digits, or the path of a key file) the backup is decrypted into a private
temporary directory (never beside the evidence) and read by the WhatsApp-Android reader itself; its records keep
``Prov.file`` = the ``.crypt*`` file. The key is never logged or stored: one ``info`` Problem records that a key
was supplied and the SHA-256 fingerprint of the key bytes.

Formats, as implemented by ElDavoo/wa-crypt-tools (GPLv3; read, not copied):

* ``src/wa_crypt_tools/lib/key/key15.py`` + ``lib/utils.py`` (``encryptionloop``): crypt15 root key = 32 bytes
  (the 64-hex end-to-end key, or ``encrypted_backup.key``). AES key = HMAC-SHA256(HMAC-SHA256(32 zero bytes,
  root), b"backup encryption" + b"\\x01") -- HKDF-SHA256 with a zero salt, info "backup encryption", 32 bytes.
* ``src/wa_crypt_tools/lib/key/key14.py`` (and ``decrypt14_15.py`` ``Key.load_crypt14``): the crypt12/14 ``key``
  file is a Java-serialised ``byte[131]``: cipher version (2, 00 01), key version (1), server salt (32),
  google-id salt (16), SHA-256 of that salt (32), zero IV (16), AES-256 key (32). A crypt15
  ``encrypted_backup.key`` is the same serialisation of ``byte[32]`` (``utils.create_jba``).
* ``src/wa_crypt_tools/lib/db/dbfactory.py``, ``lib/db/db14.py``, ``proto/prefix.proto``,
  ``proto/backup_prefix.proto``, ``proto/C14_cipher.proto``, ``proto/C15_IV.proto``: crypt14/15 start with the
  protobuf length (a varint -- db14.py notes the old "feature flag" 0x01 was the varint's continuation byte;
  older writers did put a 0x01/0x00 byte after a one-byte length, so that is skipped too), then ``BackupPrefix``:
  field 2 = C14 cipher data (IV in its field 5), field 3 = C15 data (IV in its field 1). Then AES-256-GCM
  ciphertext, the 16-byte GCM tag, and a 16-byte MD5 of everything before it; multi-file backups lack the MD5,
  which is detected by checking it (db14.py ``decrypt``).
* ``src/wa_crypt_tools/lib/db/db12.py``: crypt12 has a raw 67-byte header (cipher version 2, key version 1,
  server salt 32, google id 16, IV 16) and a trailer of tag (16) + MD5 (16) + 4 bytes of the user's JID.
* ``lib/utils.py`` ``test_decompression``: the plaintext is a zlib stream of the SQLite file (``PK`` = a
  multi-file zip backup, not a message store: reported, not read).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import sqlite3
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ringtrace.model import Problem, Prov, ReadOptions, Record
from ringtrace.sources._helpers.sqlite_util import DEFAULT_MAX_BYTES, open_readonly_copy, table_columns
from ringtrace.sources.base import SQLITE_MAGIC, Candidate, FormatError, SourceFormat, Unit, register

_NAME = re.compile(r"^(msgstore|wa|backup_settings|stickers|chatsettingsbackup)[\w.-]*\.db\.crypt(1[2-5])$")

#: ReadOptions.extra key that carries the examiner's key (64 hex digits, or a key file path).
KEY_OPTION = "key"
#: Refuse to write more decompressed bytes than this (zip-bomb guard; the same bound as SQLite copies).
MAX_PLAINTEXT_BYTES = DEFAULT_MAX_BYTES
MAX_KEY_FILE_BYTES = 4096
MAX_HEADER_BYTES = 64 * 1024
CHUNK = 1024 * 1024
TAG = 16
MD5 = 16
CRYPT12_HEADER = 67
CRYPT12_TRAILER_JID = 4

BACKUP_ENCRYPTION = b"backup encryption"
# Java serialisation of a byte[]: magic, version, TC_ARRAY, TC_CLASSDESC "[B", serialVersionUID, flags
# SC_SERIALIZABLE, no fields, TC_ENDBLOCKDATA, TC_NULL superclass; then a 4-byte length and the bytes.
_JAVA_BYTE_ARRAY = bytes.fromhex("aced0005757200025b42acf317f8060854e00200007870")
_HEX_KEY = re.compile(r"^[0-9a-fA-F]{64}$")


class CryptError(FormatError):
    """A backup or key that cannot be used; the message names the file and the reason, never the key."""


# ---- keys -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False)
class BackupKey:
    """A key the examiner supplied. ``kind``: 'crypt15' (32-byte root key) or 'crypt14' (131-byte key file,
    also used by crypt12). ``repr`` shows only the fingerprint, so a stray log line cannot leak the key."""

    kind: str
    material: bytes  # root key (crypt15) or the 131-byte key array (crypt12/14)
    source: str  # "64-hex key" or "key file <name>"

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the key bytes, hex: safe to record, identifies the key without revealing it."""
        return hashlib.sha256(self.material).hexdigest()

    def aes_key(self) -> bytes:
        if self.kind == "crypt15":
            prk = hmac.new(b"\x00" * 32, self.material, hashlib.sha256).digest()
            return hmac.new(prk, BACKUP_ENCRYPTION + b"\x01", hashlib.sha256).digest()
        return self.material[99:131]

    def __repr__(self) -> str:
        return f"BackupKey({self.kind}, {self.source}, sha256={self.fingerprint[:16]}...)"


def load_key(value: str) -> BackupKey:
    """The examiner's ``--key`` value: 64 hex digits (spaces allowed, as WhatsApp shows it in groups) or the
    path of a key file (``encrypted_backup.key`` for crypt15, ``key`` for crypt12/14, or a text file holding
    the 64 hex digits). Raises CryptError; the message never repeats the value itself."""
    compact = re.sub(r"[\s-]", "", value)
    if _HEX_KEY.match(compact):
        return BackupKey("crypt15", bytes.fromhex(compact), "64-hex key")
    path = Path(value).expanduser()
    try:
        if not path.is_file():
            raise CryptError(
                "the supplied key is neither 64 hex digits nor an existing key file "
                f"({len(compact)} characters given)"
            )
        with path.open("rb") as fh:
            data = fh.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise CryptError(f"key file {path.name}: cannot read ({exc.strerror or exc})") from exc
    if len(data) > MAX_KEY_FILE_BYTES:
        raise CryptError(f"key file {path.name}: {path.stat().st_size} bytes, too large to be a WhatsApp key")
    return parse_key_bytes(data, path.name)


def parse_key_bytes(data: bytes, name: str) -> BackupKey:
    """A key file's content -> BackupKey (see the module docstring for the layouts)."""
    source = f"key file {name}"
    if data.startswith(_JAVA_BYTE_ARRAY[:4]):
        head = len(_JAVA_BYTE_ARRAY)
        if not data.startswith(_JAVA_BYTE_ARRAY) or len(data) < head + 4:
            raise CryptError(f"key file {name}: a Java serialised object, but not a byte array key")
        n = int.from_bytes(data[head : head + 4], "big")
        raw = data[head + 4 :]
        if n != len(raw):
            raise CryptError(f"key file {name}: byte array says {n} bytes, file holds {len(raw)}")
        if n == 32:
            return BackupKey("crypt15", raw, source)
        if n == 131:
            return BackupKey("crypt14", _check_key14(raw, name), source)
        raise CryptError(f"key file {name}: a {n}-byte array is not a WhatsApp key (32 or 131 bytes)")
    try:
        text = data.decode("ascii").strip()
    except UnicodeDecodeError:
        text = ""
    compact = re.sub(r"[\s-]", "", text)
    if _HEX_KEY.match(compact):
        return BackupKey("crypt15", bytes.fromhex(compact), source)
    raise CryptError(
        f"key file {name}: not a WhatsApp key (neither a serialised key nor 64 hex digits; {len(data)} bytes)"
    )


def _check_key14(raw: bytes, name: str) -> bytes:
    if raw[:2] != b"\x00\x01":
        raise CryptError(f"key file {name}: unsupported cipher version {raw[:2].hex()} (expected 0001)")
    if hashlib.sha256(raw[35:51]).digest() != raw[51:83]:
        raise CryptError(f"key file {name}: damaged (the google-id salt does not match its SHA-256)")
    return raw


# ---- backup header ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Header:
    version: str  # crypt12 | crypt14 | crypt15
    iv: bytes
    data_start: int


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("varint runs past the end")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7


def _fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Minimal protobuf walk: (field, wire type, value); raises ValueError on malformed input."""
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        fno, wt = tag >> 3, tag & 7
        if fno == 0:
            raise ValueError("field number 0")
        if wt == 0:
            v, pos = _varint(buf, pos)
            yield fno, wt, v
        elif wt == 2:
            n, pos = _varint(buf, pos)
            if pos + n > len(buf):
                raise ValueError("length-delimited field runs past the end")
            yield fno, wt, buf[pos : pos + n]
            pos += n
        elif wt in (1, 5):
            size = 8 if wt == 1 else 4
            if pos + size > len(buf):
                raise ValueError("fixed field runs past the end")
            yield fno, wt, buf[pos : pos + size]
            pos += size
        else:
            raise ValueError(f"unsupported wire type {wt}")


def _sub_bytes(msg: bytes, field: int) -> bytes | None:
    for fno, wt, v in _fields(msg):
        if fno == field and wt == 2 and isinstance(v, bytes):
            return v
    return None


def parse_proto_header(head: bytes) -> Header | None:
    """The crypt14/15 header from the file's first bytes, or None when they are not one."""
    try:
        size, pos = _varint(head, 0)
        if head[0] < 0x80 and pos < len(head) and head[pos] in (0, 1):
            pos += 1  # old writers' "feature flag" byte after a one-byte length
        if not 2 <= size <= MAX_HEADER_BYTES or pos + size > len(head):
            return None
        prefix = head[pos : pos + size]
        c14 = c15 = None
        for fno, wt, v in _fields(prefix):
            if fno == 2 and wt == 2 and isinstance(v, bytes):
                c14 = _sub_bytes(v, 5)
            elif fno == 3 and wt == 2 and isinstance(v, bytes):
                c15 = _sub_bytes(v, 1)
    except (ValueError, IndexError):
        return None
    if c15 is not None and len(c15) == 16:
        return Header("crypt15", c15, pos + size)
    if c14 is not None and len(c14) == 16:
        return Header("crypt14", c14, pos + size)
    return None


def _looks_proto(head: bytes) -> bool:
    """The loose shape wa-crypt-tools' dbfactory reads: one-byte length, flag byte, key_type tag 0x08."""
    return len(head) > 3 and 2 <= head[0] < 0x80 and head[1] in (0, 1) and head[2] == 0x08


def crypt_version(candidate: Candidate) -> str | None:
    """'crypt12'..'crypt15' by header (and name, for crypt12's raw header), or None."""
    name = candidate.name
    m = _NAME.match(name)
    if m is None and not name.endswith((".crypt14", ".crypt15")):
        return None  # every answer below needs one of these names: no header parsed for the exhibit's other files
    head = candidate.head
    if candidate.is_sqlite or len(head) < CRYPT12_HEADER:
        return None
    hdr = parse_proto_header(head)
    if hdr is not None:
        return hdr.version
    if m and m.group(2) != "12" and _looks_proto(head):
        return f"crypt{m.group(2)}"
    if m and m.group(2) == "12" and head[:2] == b"\x00\x01":
        return "crypt12"
    return f"crypt{m.group(2)}" if m else None


# ---- decryption -------------------------------------------------------------------------------------------


def _ends_inside_prefix(head: bytes) -> bool:
    """The file is shorter than the header length it declares (a cut-off copy, not a foreign file)."""
    try:
        size, pos = _varint(head, 0)
    except ValueError:
        return False
    return len(head) < MAX_HEADER_BYTES and 2 <= size <= MAX_HEADER_BYTES and pos + size > len(head)


def _read_header(fh: BinaryIO, path: Path, size: int) -> Header:
    head: bytes = fh.read(MAX_HEADER_BYTES)
    hdr = parse_proto_header(head)
    if hdr is None and path.name.endswith(".crypt12") and head[:2] == b"\x00\x01" and len(head) >= 67:
        hdr = Header("crypt12", head[51:67], CRYPT12_HEADER)
    if hdr is None and _ends_inside_prefix(head):
        raise CryptError(f"{path.name}: truncated ({size} bytes, ends inside the header)")
    if hdr is None:
        raise CryptError(f"{path.name}: corrupt or unknown backup header (no protobuf prefix with a 16-byte IV)")
    trailer = TAG + (CRYPT12_TRAILER_JID if hdr.version == "crypt12" else 0)
    if size < hdr.data_start + trailer + 2:
        raise CryptError(f"{path.name}: truncated ({size} bytes, ends inside the header)")
    return hdr


def decrypt_backup(path: Path, key: BackupKey, out: Path, max_bytes: int = MAX_PLAINTEXT_BYTES) -> str:
    """Decrypt and inflate the backup at ``path`` into ``out`` (a file in a private directory). Reads and
    writes in bounded chunks; writes at most ``max_bytes``. Returns the crypt version. Raises CryptError
    naming the file: wrong key (authentication failed), truncated/damaged, bad header, too large."""
    try:
        size = path.stat().st_size
        fh = path.open("rb")
    except OSError as exc:
        raise CryptError(f"{path.name}: cannot open ({exc.strerror or exc})") from exc
    with fh:
        hdr = _read_header(fh, path, size)
        if hdr.version == "crypt15" and key.kind != "crypt15":
            raise CryptError(
                f"{path.name}: a crypt15 backup needs the 64-hex end-to-end key or encrypted_backup.key; "
                f"the {key.source} is a crypt12/14 key"
            )
        if hdr.version != "crypt15" and key.kind == "crypt15":
            raise CryptError(
                f"{path.name}: a {hdr.version} backup needs the app's 131-byte 'key' file; "
                f"the {key.source} is a crypt15 (end-to-end) key"
            )
        # MD5 checksum present? It covers every byte before it (db14.py / db12.py).
        md5_end = size - (CRYPT12_TRAILER_JID if hdr.version == "crypt12" else 0)
        md5_at = md5_end - MD5
        fh.seek(0)
        digest = hashlib.md5(usedforsecurity=False)
        left = md5_at
        while left > 0:
            chunk = fh.read(min(CHUNK, left))
            if not chunk:
                break
            digest.update(chunk)
            left -= len(chunk)
        stored = fh.read(MD5)
        has_md5 = md5_at >= hdr.data_start + TAG and digest.digest() == stored
        data_end = (md5_at if has_md5 else md5_end) - TAG
        if data_end < hdr.data_start:
            raise CryptError(f"{path.name}: truncated ({size} bytes, no room for data and tag)")
        fh.seek(data_end)
        tag = fh.read(TAG)
        fh.seek(hdr.data_start)
        return _decrypt_stream(fh, path, key, hdr, data_end - hdr.data_start, tag, out, max_bytes)


def _decrypt_stream(
    fh: BinaryIO, path: Path, key: BackupKey, hdr: Header, length: int, tag: bytes, out: Path, max_bytes: int
) -> str:
    dec = Cipher(algorithms.AES(key.aes_key()), modes.GCM(hdr.iv)).decryptor()
    inflater = zlib.decompressobj()
    written = 0
    first = True
    zerr: str | None = None  # why the plaintext could not be inflated; the tag decides what that means
    wrong_start = False
    with out.open("wb") as dst:
        left = length
        while left > 0:
            chunk = fh.read(min(CHUNK, left))
            if not chunk:
                raise CryptError(f"{path.name}: truncated (file ended while reading)")
            left -= len(chunk)
            plain = dec.update(chunk)
            if zerr is not None:
                continue  # keep decrypting only to check the tag
            if first and plain:
                first = False
                if plain[:2] == b"PK":
                    zerr, wrong_start = "a multi-file (zip) backup, not a single database", False
                    continue
                if len(plain) >= 2 and (plain[0] != 0x78 or (plain[0] << 8 | plain[1]) % 31):
                    zerr, wrong_start = "plaintext is not a zlib stream", True
                    continue
            try:
                buf = plain
                while buf:
                    part = inflater.decompress(buf, CHUNK)
                    written += len(part)
                    if written > max_bytes:
                        raise CryptError(
                            f"{path.name}: decompresses to more than {max_bytes} bytes; refused (size limit)"
                        )
                    dst.write(part)
                    buf = inflater.unconsumed_tail
            except zlib.error as exc:
                zerr = f"compressed data damaged ({exc})"
        try:
            dec.finalize_with_tag(tag)
        except InvalidTag:
            if wrong_start or written == 0:
                raise CryptError(f"{path.name}: key does not open this backup (authentication failed)") from None
            raise CryptError(
                f"{path.name}: backup is damaged or truncated (authentication failed after {written} "
                "bytes inflated correctly)"
            ) from None
        if zerr is not None:
            raise CryptError(f"{path.name}: decrypted and authenticated, but {zerr}")
        if not inflater.eof:
            raise CryptError(f"{path.name}: decrypted, but the compressed database ends early (truncated)")
    with out.open("rb") as chk:
        if not chk.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC:
            raise CryptError(f"{path.name}: decrypted, but the content is not a SQLite database")
    return hdr.version


# ---- the format -------------------------------------------------------------------------------------------


@register
class WhatsAppCrypt(SourceFormat):
    name = "whatsapp-crypt"
    description = "encrypted WhatsApp backup (crypt12/14/15): decrypted with the examiner's key, else reported"

    def claim(self, candidate: Candidate) -> int:
        if ".crypt1" not in candidate.name:
            return 0  # every name crypt_version answers for ends .crypt12 .. .crypt15: no regex run for the rest
        version = crypt_version(candidate)
        if version is None:
            return 0
        if version in ("crypt14", "crypt15"):
            head = candidate.head
            return 80 if parse_proto_header(head) or _looks_proto(head) else 40
        return 80 if version == "crypt12" else 40

    def read(self, unit: Unit, options: ReadOptions) -> Iterator[Record]:
        name = unit.primary.rsplit("/", 1)[-1]
        version = name.rsplit(".", 1)[-1] if ".crypt" in name else "crypt"
        value = options.extra.get(KEY_OPTION)
        if not value:
            yield Problem(
                unit.primary,
                f"encrypted WhatsApp backup ({version}): a key is needed (key file or 64-hex key)",
                Prov(unit.primary),
                "error",
            )
            return
        try:
            key = load_key(value)
        except CryptError as exc:
            yield Problem(unit.primary, f"{name}: not decrypted: {exc}", Prov(unit.primary), "error")
            return
        yield from self.read_with_key(unit, options, key)

    def read_with_key(
        self, unit: Unit, options: ReadOptions, key: BackupKey, max_bytes: int = MAX_PLAINTEXT_BYTES
    ) -> Iterator[Record]:
        """Decrypt into a private temporary directory and run the WhatsApp-Android reader over it."""
        # imported here so that format discovery does not depend on module order
        from ringtrace.sources.whatsapp.android import is_message_store, read_message_store

        with tempfile.TemporaryDirectory(prefix="ringtrace-wacrypt-") as td:
            plain = Path(td) / "plain" / "msgstore.db"
            plain.parent.mkdir()
            version = decrypt_backup(unit.path, key, plain, max_bytes)
            yield Problem(
                unit.primary,
                f"decrypted ({version}) with the examiner's {key.source} ({key.kind} key, SHA-256 fingerprint "
                f"{key.fingerprint}); the key itself is not stored",
                Prov(unit.primary),
                "info",
            )
            try:
                con = open_readonly_copy(plain, Path(td) / "db", max_bytes)
            except FormatError as exc:
                raise CryptError(f"{name_of(unit)}: decrypted, but the database is unusable: {exc}") from exc
            plain.unlink()  # the reader works on its copy; free the disk now
            try:
                schema = table_columns(con)
                if not is_message_store(schema):
                    yield Problem(
                        unit.primary,
                        f"decrypted, but not a message store (tables: {', '.join(sorted(schema)[:8]) or 'none'})"
                        "; its contents are not read",
                        Prov(unit.primary),
                        "warning",
                    )
                    return
                yield from read_message_store(unit, options, con, Path(td))
            except sqlite3.DatabaseError as exc:
                raise CryptError(f"{name_of(unit)}: decrypted database unreadable: {exc}") from exc
            finally:
                con.close()


def name_of(unit: Unit) -> str:
    return unit.primary.rsplit("/", 1)[-1]

"""Android ``adb backup`` files (``.ab``), found by content wherever they sit (a PC folder, a zip, a disk).

The layout, as AOSP's BackupManagerService / PerformAdbBackupTask writes it and Nikolay Elenkov's
android-backup-extractor (``AndroidBackup.java``) reads it: text header lines ``ANDROID BACKUP``, the format
version (1-5), ``1``/``0`` (compressed), then ``none`` or ``AES-256``. Encrypted, five more lines: user-password
salt, master-key checksum salt, PBKDF2 rounds, user-key IV and the master-key blob, all hex. The user key is
PBKDF2-HMAC-SHA1(password, salt, rounds, 256 bits); it opens (AES-256-CBC, PKCS#7) the blob ``[len] IV [len]
master key [len] checksum``; the checksum is PBKDF2 of the master key (from version 2 on, the key's bytes as Java
turns them into a char array and UTF-8: each byte sign-extended to a 16-bit char) with the checksum salt, which
tells a wrong password from a damaged file. The rest is AES-256-CBC with the master key and IV, then a zlib
stream (when compressed) of a tar: ``apps/<package>/_manifest``, ``apps/<package>/db/...`` (databases),
``sp/`` (shared_prefs), ``f/`` (files), ``r/`` (the app's root), ``c/``, ``ef/`` and ``shared/0/...`` (shared storage).

The tar is read as a stream (never seeking, so never decrypted to disk whole) into a private temporary folder
with the tokens mapped back to Android's own layout (``apps/com.whatsapp/db/msgstore.db`` ->
``data/data/com.whatsapp/databases/msgstore.db``; ``shared/0/WhatsApp`` -> ``data/media/0/WhatsApp``), so the
formats already there read it (WhatsApp's msgstore.db, wa.db, shared_prefs and media). Every record keeps the
backup and the member it came from as its file: ``backup.ab#apps/com.whatsapp/db/msgstore.db``; attachments are
stored as embedded files under that name. Bounded: members, bytes, names; links, devices and unsafe names are
named and left out. The password (``ReadOptions.extra`` ``password``) is used in memory only.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ringtrace.model import MediaFile, Message, Problem, Prov, ReadOptions, Record
from ringtrace.sources.base import Candidate, FormatError, SourceFormat, Unit, register

MAGIC = b"ANDROID BACKUP\n"
PASSWORD_OPTION = "password"  # noqa: S105 - the ReadOptions.extra key, not a password
MAX_HEADER_LINE = 4096
MAX_ROUNDS = 10_000_000  # AOSP uses 10,000; more is a hostile file making us spin
MAX_MEMBERS = 200_000
MAX_MEMBER_BYTES = 8 * 1024**3
MAX_TOTAL_BYTES = 16 * 1024**3
MAX_EMBEDDED_FILE = 128 * 1024**2  # an attachment is stored as an embedded file up to this size
MAX_LISTED = 20
CHUNK = 1024 * 1024
#: adb backup's domain tokens -> the folder they come from under /data/data/<package>/
TOKENS = {"db": "databases", "sp": "shared_prefs", "f": "files", "r": "", "c": "cache", "nb": "no_backup",
          "ef": "../../media/0/Android/data/{pkg}", "obb": "../../media/0/Android/obb/{pkg}"}


class BackupError(FormatError):
    """An .ab that cannot be opened; the message names the file and the reason, never the password."""


@dataclass(frozen=True)
class Header:
    version: int
    compressed: bool
    encryption: str  # "none" | "AES-256"
    body_offset: int
    lines: tuple[str, ...] = ()  # the five encryption lines, when encrypted


def read_header(fh: BinaryIO, name: str) -> Header:
    lines: list[str] = []
    for _ in range(9):
        raw = fh.readline(MAX_HEADER_LINE)
        if not raw.endswith(b"\n"):
            raise BackupError(f"{name}: header cut short or a header line over {MAX_HEADER_LINE} bytes")
        lines.append(raw[:-1].decode("ascii", "replace"))
        if len(lines) == 4 and lines[3] == "none":
            break
    if lines[0] != MAGIC[:-1].decode():
        raise BackupError(f"{name}: not an Android backup (no 'ANDROID BACKUP' header)")
    if not lines[1].isdigit() or not 1 <= int(lines[1]) <= 5:
        raise BackupError(f"{name}: Android backup format version {lines[1][:20]!r} is not one this reader knows "
                          "(1-5)")
    if len(lines) < 4 or lines[2] not in ("0", "1") or lines[3] not in ("none", "AES-256"):
        raise BackupError(f"{name}: Android backup header has compression {lines[2][:10]!r} and encryption "
                          f"{(lines[3] if len(lines) > 3 else '')[:20]!r}; expected 0/1 and none/AES-256")
    return Header(int(lines[1]), lines[2] == "1", lines[3], fh.tell(), tuple(lines[4:]))


def _java_password_bytes(key: bytes) -> bytes:
    """The master key as AOSP's checksum sees it from version 2 on: each byte a sign-extended Java char, UTF-8."""
    return "".join(chr(b if b < 0x80 else 0xFF00 | b) for b in key).encode("utf-8")


def _pbkdf2_sha1(secret: bytes, salt: bytes, rounds: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha1", secret, salt, rounds, 32)


def master_key(header: Header, password: str, name: str) -> tuple[bytes, bytes]:
    """(master key, IV) from the header's encryption lines; BackupError for a wrong password or a bad header."""
    try:
        user_salt, ck_salt = bytes.fromhex(header.lines[0]), bytes.fromhex(header.lines[1])
        rounds = int(header.lines[2])
        user_iv, blob = bytes.fromhex(header.lines[3]), bytes.fromhex(header.lines[4])
    except (ValueError, IndexError) as e:
        raise BackupError(f"{name}: encryption header lines are damaged ({e})") from e
    if not 1 <= rounds <= MAX_ROUNDS or len(user_iv) != 16 or not blob or len(blob) % 16:
        raise BackupError(f"{name}: encryption header is damaged or hostile (rounds {rounds}, IV {len(user_iv)} "
                          f"bytes, key blob {len(blob)} bytes)")
    user_key = _pbkdf2_sha1(password.encode("utf-8"), user_salt, rounds)
    dec = Cipher(algorithms.AES(user_key), modes.CBC(user_iv)).decryptor()
    raw = dec.update(blob) + dec.finalize()
    wrong = BackupError(f"{name}: wrong password (the master key does not open with the password given)")
    try:
        unpad = padding.PKCS7(128).unpadder()
        raw = unpad.update(raw) + unpad.finalize()
        parts, pos = [], 0
        for _ in range(3):
            n = raw[pos]
            parts.append(raw[pos + 1:pos + 1 + n])
            pos += 1 + n
    except (ValueError, IndexError) as e:
        raise wrong from e
    iv, mk, checksum = parts
    seen = _java_password_bytes(mk) if header.version >= 2 else mk
    if len(iv) != 16 or len(mk) != 32 or _pbkdf2_sha1(seen, ck_salt, rounds) != checksum:
        raise wrong
    return mk, iv


class _Plain(io.RawIOBase):
    """The body as a readable stream: decrypted (AES-256-CBC, PKCS#7) and inflated (zlib) on the fly."""

    def __init__(self, fh: BinaryIO, key: tuple[bytes, bytes] | None, compressed: bool, name: str) -> None:
        self.fh, self.where, self.buf, self.eof = fh, name, b"", False
        self.dec = Cipher(algorithms.AES(key[0]), modes.CBC(key[1])).decryptor() if key else None
        self.unpad = padding.PKCS7(128).unpadder() if key else None
        self.z = zlib.decompressobj() if compressed else None

    def readable(self) -> bool:
        return True

    def _more(self) -> bytes:
        data = self.fh.read(CHUNK)
        last = not data
        try:
            if self.dec is not None and self.unpad is not None:
                data = (self.unpad.update(self.dec.finalize()) + self.unpad.finalize() if last
                        else self.unpad.update(self.dec.update(data)))
            if self.z is not None:
                data = self.z.decompress(data) + (self.z.flush() if last else b"")
        except (ValueError, zlib.error) as e:
            step = "decryption (damaged, or cut short)" if self.dec is not None else "zlib"
            raise BackupError(f"{self.where}: damaged body ({step}: {e})") from e
        self.eof = last
        return data

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self.buf and not self.eof:
            self.buf = self._more()
        n = min(len(b), len(self.buf))
        b[:n] = self.buf[:n]
        self.buf = self.buf[n:]
        return n


def android_path(member: str) -> str | None:
    """Where an adb-backup member sits on the phone, relative to its root (``data/data/...``), or None."""
    parts = PurePosixPath(member).parts
    if len(parts) >= 3 and parts[0] == "apps":
        pkg, token, rest = parts[1], parts[2], parts[3:]
        if token == "_manifest" and not rest:  # noqa: S105 - a file name, not a password
            return f"data/data/{pkg}/_manifest"
        if token not in TOKENS or not rest:
            return None
        base = PurePosixPath("data/data", pkg, TOKENS[token].format(pkg=pkg)) if TOKENS[token] else PurePosixPath(
            "data/data", pkg)
        norm = "/".join(_normalise(base.parts + rest))
        return norm or None
    if len(parts) >= 3 and parts[0] == "shared" and parts[1].isdigit():
        return "/".join(("data", "media", parts[1], *parts[2:]))
    return None


def _normalise(parts: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for p in parts:
        if p == "..":
            if out:
                out.pop()
        elif p not in ("", "."):
            out.append(p)
    return out


def _safe(name: str) -> str | None:
    if not name or "\x00" in name or name.startswith("/") or "\\" in name:
        return None
    parts = [p for p in PurePosixPath(name).parts if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


@register
class AndroidBackup(SourceFormat):
    name = "android-backup"
    description = "Android adb backup (.ab; plain, or encrypted with the intake password): the apps' files read"

    def claim(self, candidate: Candidate) -> int:
        return 95 if candidate.head.startswith(MAGIC) else 0

    def read(self, unit: Unit, options: ReadOptions) -> Iterator[Record]:
        name = unit.primary
        with unit.path.open("rb") as fh:
            header = read_header(fh, name)
            key = None
            if header.encryption != "none":
                password = options.extra.get(PASSWORD_OPTION)
                if not password:
                    yield Problem(name, f"encrypted Android backup (version {header.version}, AES-256): password "
                                  "needed (give it at intake with --password-file or --ask-password); its files are "
                                  "not read", Prov(name))
                    return
                key = master_key(header, password, name)
                yield Problem(name, "encrypted Android backup decrypted with the examiner's password (given at "
                              "intake; used in memory only, not stored)", Prov(name), "info")
            with tempfile.TemporaryDirectory(prefix="ringtrace-ab-") as td:
                tree = Path(td)
                found: dict[str, str] = {}  # android relpath -> member name
                stream = io.BufferedReader(_Plain(fh, key, header.compressed, name), CHUNK)
                yield from self.extract(stream, name, tree, found)
                yield from self.read_tree(unit, options, tree, found)

    def extract(self, stream: IO[bytes], name: str, tree: Path, found: dict[str, str]) -> Iterator[Problem]:
        refused = 0
        total = 0

        def refuse(member: str, why: str) -> Iterator[Problem]:
            nonlocal refused
            refused += 1
            if refused <= MAX_LISTED:
                yield Problem(name, f"member {member[:200]!r}: {why}; not read", Prov(name), "warning")

        try:
            with tarfile.open(fileobj=stream, mode="r|") as tf:
                for n, m in enumerate(tf):
                    if n >= MAX_MEMBERS:
                        yield Problem(name, f"more than {MAX_MEMBERS} members; the rest are not read", Prov(name),
                                      "warning")
                        break
                    if m.isdir():
                        continue
                    clean = _safe(m.name)
                    if clean is None:
                        yield from refuse(m.name, "unsafe member path (absolute, '..', NUL or backslash)")
                        continue
                    if not m.isreg():
                        yield from refuse(clean, "not a regular file (link or device)")
                        continue
                    where = android_path(clean)
                    if where is None:
                        yield from refuse(clean, "not a part of an adb backup this reader knows")
                        continue
                    if m.size > MAX_MEMBER_BYTES or total + m.size > MAX_TOTAL_BYTES:
                        yield from refuse(clean, f"{m.size} bytes, past the bound ({MAX_MEMBER_BYTES} a member, "
                                                 f"{MAX_TOTAL_BYTES} a backup)")
                        continue
                    src = tf.extractfile(m)
                    if src is None:
                        continue
                    out = tree / where
                    if where in found or any(str(p) in found for p in PurePosixPath(where).parents):
                        yield from refuse(clean, f"a second member for {where}")
                        continue
                    out.parent.mkdir(parents=True, exist_ok=True)
                    try:
                        with src, out.open("wb") as dst:
                            left = m.size
                            while left > 0:
                                data = src.read(min(CHUNK, left))
                                if not data:
                                    raise EOFError(f"member {clean} cut short")
                                dst.write(data)
                                left -= len(data)
                    except BaseException:
                        out.unlink(missing_ok=True)  # a member cut short is not read as if it were whole
                        raise
                    total += m.size
                    found[where] = clean
        except (tarfile.TarError, EOFError, OSError) as e:
            yield Problem(name, f"the backup's tar is damaged after {len(found)} members ({e}); what was read is "
                                "kept", Prov(name), "error")
        if refused > MAX_LISTED:
            yield Problem(name, f"{refused - MAX_LISTED} more members not read (not listed)", Prov(name), "warning")
        if not found:
            yield Problem(name, "Android backup holds no files this reader can place", Prov(name), "warning")

    def read_tree(self, unit: Unit, options: ReadOptions, tree: Path, found: dict[str, str]) -> Iterator[Record]:
        """Recognise the apps' files by content, as in any exhibit, and read them with their own formats."""
        from ringtrace.sources.base import registry
        from ringtrace.stages.parse import recognise

        files = [(rel, (tree / rel).stat().st_size) for rel in sorted(found)]
        names = {rel: f"{unit.primary}#{member}"[:1000] for rel, member in found.items()}
        embedded: set[str] = set()
        for inner in recognise(tree, files):
            if inner.format == self.name:
                yield Problem(names[inner.primary], "an Android backup inside an Android backup: not opened",
                              Prov(names[inner.primary]), "warning")
                continue
            yield Problem(unit.primary, f"member {found[inner.primary]} read as {inner.format}", Prov(unit.primary),
                          "info")
            try:
                for rec in registry()[inner.format]().read(inner, options):
                    yield from _relocated(rec, names, tree, embedded)
            except FormatError as e:
                yield Problem(names[inner.primary], f"{inner.format}: {e}", Prov(names[inner.primary]))


def _relocated(rec: Record, names: dict[str, str], tree: Path, embedded: set[str]) -> Iterator[Record]:
    """``rec`` with every file it names given as backup#member; a message's attachments yielded first as
    embedded files so the writer hashes and stores them."""
    if isinstance(rec, Message) and rec.media:
        refs = []
        for ref in rec.media:
            if ref.path is not None and ref.path in names:
                path = names[ref.path]
                if path not in embedded:
                    size = (tree / ref.path).stat().st_size
                    if size <= MAX_EMBEDDED_FILE:
                        embedded.add(path)
                        yield MediaFile(path, Prov(path), size, (tree / ref.path).read_bytes())
                    else:
                        yield Problem(path, f"attachment of {size} bytes, over {MAX_EMBEDDED_FILE}: not kept "
                                      "(extract the backup offline)", Prov(path), "warning")
                ref = replace(ref, path=path if path in embedded else None, declared_only=path not in embedded)
            refs.append(ref)
        rec = replace(rec, media=tuple(refs))
    changes: dict[str, object] = {}
    for f in fields(rec):
        v = getattr(rec, f.name)
        if isinstance(v, Prov) and v.file in names:
            changes[f.name] = replace(v, file=names[v.file])
        elif f.name in ("file", "path") and isinstance(v, str) and v in names:
            changes[f.name] = names[v]
    yield replace(rec, **changes) if changes else rec  # type: ignore[arg-type]

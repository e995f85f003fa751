"""iTunes/Finder iOS backups: a folder with ``Manifest.db``, ``Manifest.plist``, ``Info.plist`` and the backed-up
files under hashed names ``ab/abcdef...`` (SHA-1 of ``domain-relativePath``, as iLEAPP, mvt and
iphone_backup_decrypt read them). ``Manifest.db`` table ``Files(fileID, domain, relativePath, flags, file)``
maps each hashed name to its domain and path; flags 1 = file, 2 = directory, 4 = symlink.

WhatsApp's ``ChatStorage.sqlite``, its ``Message/Media/...`` and the preferences plist naming the owner sit in
the shared app-group domain ``AppDomainGroup-group.net.whatsapp.WhatsApp.shared``. They are resolved through the
manifest and read with the WhatsApp iOS reader; every record keeps the hashed file it came from as its file, and
the unit reports which hashed file is which domain path. ``Info.plist`` names the device (name, phone number,
IMEI): recorded as the backup's own device-owner record.

Encrypted backups (``Manifest.plist`` IsEncrypted) need the examiner's password (``ReadOptions.extra``
``password``, given at intake with ``--password-file`` or ``--ask-password``; memory only). They are decrypted
with iphone_backup_decrypt's keybag code (``utils.BackupKeyBag``: the keybag in Manifest.plist unlocked with
PBKDF2-SHA256 + PBKDF2-SHA1 of the password, class keys and per-file keys unwrapped with RFC 3394;
``utils.aes_decrypt_chunked``: AES-256-CBC of a file) into a private temporary folder: first ``Manifest.db``
(with ``ManifestKey``), then only the files of the WhatsApp app group. They are read as for a plain backup, every
record keeping the hashed (encrypted) file of the exhibit as its file; decrypted attachments are stored as
embedded files ``<hashed file>#<domain>/<path>``. A missing or wrong password, a damaged keybag and a file that
does not decrypt are named problems; the password is never written anywhere, only that one was given.
"""

from __future__ import annotations

import plistlib
import re
import sqlite3
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from ringtrace.model import (
    Account,
    AccountKey,
    DeviceOwner,
    MediaFile,
    Message,
    Platform,
    Problem,
    Prov,
    ReadOptions,
    Record,
)
from ringtrace.sources._helpers.sqlite_util import open_readonly_copy
from ringtrace.sources.base import Candidate, FormatError, SourceFormat, Unit, read_sqlite_schema, register
from ringtrace.sources.whatsapp.ios import CALL_DB, OWNER_PLIST, REQUIRED, _IOSReader, read_owner_plist

WA_DOMAIN = "AppDomainGroup-group.net.whatsapp.WhatsApp.shared"
CHAT_STORAGE = "ChatStorage.sqlite"
OWNER_PLIST_PATH = f"Library/Preferences/{OWNER_PLIST}"
MANIFEST = "Manifest.db"
MANIFEST_PLIST = "Manifest.plist"
INFO_PLIST = "Info.plist"
SIDE_FILES = (MANIFEST_PLIST, INFO_PLIST, "Status.plist", MANIFEST + "-wal", MANIFEST + "-shm")
FILE_ID = re.compile(r"[0-9a-f]{40}")
HASHED = re.compile(r"(?:^|/)([0-9a-f]{2})/([0-9a-f]{40})$")
PLIST_MAX_BYTES = 4 * 1024 * 1024
MANIFEST_MAX_ROWS = 2_000_000
MAX_LISTED = 20  # bad manifest rows named one by one; the rest counted
PASSWORD_OPTION = "password"  # noqa: S105 - the ReadOptions.extra key, not a password
FLAG_FILE = 1
MAX_FILE_BLOB = 100 * 1024  # an MBFile plist is 1-3 KB; iphone_backup_decrypt refuses blobs over 100 KB too
MAX_DECRYPTED_FILE = 256 * 1024**2  # one decrypted app-group file (a video) kept at most
MAX_DECRYPTED_TOTAL = 2 * 1024**3  # all decrypted files of one backup, on the private temporary folder
MAX_EMBEDDED_FILE = 128 * 1024**2  # a decrypted attachment is stored as an embedded file up to this size


def _dir_of(relpath: str) -> str:
    return relpath.rsplit("/", 1)[0] + "/" if "/" in relpath else ""


def read_plist(path: Path) -> dict[str, object] | None:
    """A bounded plist as a dict, or None when it is missing, too large or unreadable."""
    try:
        if path.stat().st_size > PLIST_MAX_BYTES:
            return None
        data = plistlib.loads(path.read_bytes())
    except (OSError, plistlib.InvalidFileException, ValueError, TypeError, OverflowError):
        return None
    return data if isinstance(data, dict) else None


def _text(v: object, limit: int = 200) -> str | None:
    if isinstance(v, (str, int)) and not isinstance(v, bool):
        s = str(v).strip()
        return s[:limit] if s else None
    return None


@dataclass
class Manifest:
    """The manifest of one backup: (domain, relativePath) -> hashed relpath inside the exhibit."""

    prefix: str  # the backup folder inside the exhibit ("" or "dir/")
    files: dict[tuple[str, str], str] = field(default_factory=dict)
    file_ids: dict[str, str] = field(default_factory=dict)  # hashed relpath -> "domain/relativePath"
    blobs: dict[str, bytes] = field(default_factory=dict)  # hashed relpath -> MBFile plist (asked-for domains)

    def lookup(self, domain: str, relpath: str) -> str | None:
        return self.files.get((domain, relpath))


def read_manifest(root: Path, manifest_rel: str, present: set[str], db_path: Path | None = None,
                  blob_domain: str | None = None) -> tuple[Manifest, list[Problem]]:
    """Read ``Files`` of a Manifest.db (``db_path``: its decrypted copy, when not the exhibit's own file). Rows
    whose file id is not a SHA-1, whose path climbs out of its domain or whose file is missing from the exhibit
    are named problems (bounded), and left out. The ``file`` plists of ``blob_domain`` are kept (file keys)."""
    prefix = _dir_of(manifest_rel)
    man = Manifest(prefix)
    problems: list[Problem] = []
    bad = {"outside": 0, "missing": 0}
    with tempfile.TemporaryDirectory(prefix="ringtrace-iosbk-") as td:
        try:
            con = open_readonly_copy(db_path or root / manifest_rel, Path(td))
        except (FormatError, sqlite3.DatabaseError, OSError) as exc:
            raise FormatError(f"{manifest_rel}: not a readable iOS backup manifest: {exc}") from exc
        try:
            rows = con.execute(
                "SELECT rowid, fileID, domain, relativePath, flags, CASE WHEN domain = ? AND length(file) <= ? "
                "THEN file END FROM Files ORDER BY rowid LIMIT ?",
                (blob_domain, MAX_FILE_BLOB, MANIFEST_MAX_ROWS + 1),
            ).fetchall()
        except sqlite3.DatabaseError as exc:
            raise FormatError(f"{manifest_rel}: manifest table 'Files' unreadable (truncated or damaged "
                              f"Manifest.db?): {exc}") from exc
        finally:
            con.close()
    if len(rows) > MANIFEST_MAX_ROWS:
        problems.append(Problem(manifest_rel, f"manifest lists more than {MANIFEST_MAX_ROWS} files; the rest "
                                "are not read", Prov(manifest_rel, "Files"), "warning"))
        rows = rows[:MANIFEST_MAX_ROWS]
    real_root = root.resolve()
    for rowid, fid, domain, rel, flags, blob in rows:
        if flags != FLAG_FILE:
            continue  # directories and symlinks have no content in the backup
        prov = Prov(manifest_rel, "Files", str(rowid))
        where = f"{domain!s:.80}/{rel!s:.200}"
        parts = PurePosixPath(rel).parts if isinstance(rel, str) else ()
        if (not isinstance(fid, str) or not FILE_ID.fullmatch(fid) or not isinstance(domain, str)
                or not isinstance(rel, str) or ".." in parts or rel.startswith("/") or "\x00" in rel):
            bad["outside"] += 1
            if bad["outside"] <= MAX_LISTED:
                problems.append(Problem(manifest_rel, f"manifest row {rowid} ({where!r}) names file id "
                                        f"{str(fid)[:60]!r}, which points outside the backup; not read", prov))
            continue
        hashed = f"{prefix}{fid[:2]}/{fid}"
        target = root / hashed
        ok = hashed in present
        if ok:
            try:
                ok = target.is_file() and target.resolve().is_relative_to(real_root)
            except OSError:
                ok = False
        if not ok:
            bad["missing"] += 1
            if bad["missing"] <= MAX_LISTED:
                problems.append(Problem(manifest_rel, f"manifest row {rowid}: backup file {hashed} "
                                        f"({where}) is missing from the exhibit", prov, "warning"))
            continue
        man.files[(domain, rel)] = hashed
        man.file_ids[hashed] = f"{domain}/{rel}"
        if isinstance(blob, bytes):
            man.blobs[hashed] = blob
    for kind, n in bad.items():
        if n > MAX_LISTED:
            problems.append(Problem(manifest_rel, f"{n - MAX_LISTED} more manifest rows {kind} (not listed)",
                                    Prov(manifest_rel, "Files"), "warning"))
    return man, problems


class ManifestMedia:
    """Resolves ChatStorage's declared media paths (``Media/...`` under the domain's ``Message/``) through the
    manifest to hashed backup files."""

    def __init__(self, manifest: Manifest, domain: str = WA_DOMAIN) -> None:
        self.manifest, self.domain = manifest, domain
        self.resolved: dict[str, str] = {}  # hashed relpath -> domain/relativePath, in first-use order

    def resolve(self, declared: str | None) -> str | None:
        if not declared:
            return None
        p = declared.replace("\\", "/")
        idx = p.find("Media/")
        if idx < 0:
            return None
        rel = p[idx:]
        if ".." in PurePosixPath(rel).parts:
            return None
        for pre in ("Message/", ""):
            hit = self.manifest.lookup(self.domain, pre + rel)
            if hit is not None:
                self.resolved.setdefault(hit, f"{self.domain}/{pre}{rel}")
                return hit
        return None


class _BackupChatReader(_IOSReader):
    """The WhatsApp iOS reader over a ChatStorage found through a backup manifest."""

    def __init__(self, unit: Unit, options: ReadOptions, con: sqlite3.Connection, manifest: Manifest,
                 workdir: Path | None = None) -> None:
        super().__init__(unit, options, con, workdir)
        self.manifest = manifest
        self.backup_media = ManifestMedia(manifest)
        self.media = self.backup_media  # type: ignore[assignment]

    def run(self) -> Iterator[Record]:
        yield from super().run()
        for hashed, where in self.backup_media.resolved.items():
            yield Problem(hashed, f"backup file {hashed} = {where} (WhatsApp attachment, found through the "
                          "manifest)", Prov(hashed), "info")

    def call_db(self) -> list[str]:
        """The call log in a backup is the hashed file the manifest names for the app group's CallHistory.sqlite."""
        hashed = self.manifest.lookup(WA_DOMAIN, CALL_DB)
        return [hashed] if hashed is not None else []

    def read_owner(self) -> Iterator[Record]:
        plist = self.manifest.lookup(WA_DOMAIN, OWNER_PLIST_PATH)
        recorded = ((read_owner_plist(self.unit.root / plist), Prov(plist, "OwnJabberID"),
                     f"preferences OwnJabberID (backup file {plist} = {WA_DOMAIN}/{OWNER_PLIST_PATH})")
                    for _ in (0,) if plist is not None)
        yield from self.recorded_owner(recorded)
        if self.owner is None:
            yield from self.infer_owner()


def _is_encrypted(plist: dict[str, object] | None) -> bool:
    return bool(plist and plist.get("IsEncrypted") is True)


@register
class IOSBackup(SourceFormat):
    name = "ios-backup"
    description = "iTunes/Finder iOS backup (Manifest.db; WhatsApp ChatStorage and media through the manifest)"

    def claim(self, candidate: Candidate) -> int:
        if candidate.name != MANIFEST:
            return 0
        if candidate.is_sqlite:
            schema = candidate.sqlite_schema
            if {"fileID", "domain", "relativePath", "flags"} <= schema.get("Files", set()):
                return 99
        side = candidate.path.parent / MANIFEST_PLIST
        if side.is_file():
            # encrypted (Manifest.db is ciphertext) or damaged: still the backup's, read() says what is wrong
            return 90 if _is_encrypted(read_plist(side)) else 60
        return 0

    def members(self, candidate: Candidate, all_relpaths: list[str]) -> list[str]:
        prefix = _dir_of(candidate.relpath)
        out: list[str] = []
        for p in all_relpaths:
            if not p.startswith(prefix):
                continue
            rest = p[len(prefix):]
            if rest in SIDE_FILES or HASHED.fullmatch(rest):
                out.append(p)
        return out

    def read(self, unit: Unit, options: ReadOptions) -> Iterator[Record]:
        prefix = _dir_of(unit.primary)
        present = set(unit.members) | {unit.primary}
        mplist_rel = prefix + MANIFEST_PLIST
        mplist = read_plist(unit.root / mplist_rel) if mplist_rel in present else None
        yield from self.read_device(unit, prefix, present, mplist)
        if _is_encrypted(mplist) and mplist is not None:
            yield from self.encrypted(unit, options, mplist_rel, mplist, present)
            return
        if not unit.path.read_bytes()[:16].startswith(b"SQLite format 3"):
            raise FormatError(f"{unit.primary}: not an SQLite manifest and {MANIFEST_PLIST} does not say the "
                              "backup is encrypted: damaged backup")
        schema = read_sqlite_schema(unit.path)
        if not {"fileID", "domain", "relativePath", "flags"} <= schema.get("Files", set()):
            raise FormatError(f"{unit.primary}: manifest has no readable 'Files' table (truncated or damaged "
                              "Manifest.db)")
        manifest, problems = read_manifest(unit.root, unit.primary, present)
        yield from problems
        chat = manifest.lookup(WA_DOMAIN, CHAT_STORAGE)
        if chat is None:
            yield Problem(unit.primary, f"backup holds no WhatsApp {CHAT_STORAGE} (domain {WA_DOMAIN}); only the "
                          "device details are read", Prov(unit.primary, "Files"), "info")
            return
        yield Problem(unit.primary, f"backup file {chat} = {WA_DOMAIN}/{CHAT_STORAGE}; read as WhatsApp iOS",
                      Prov(unit.primary, "Files"), "info")
        yield from self.read_chat_storage(unit, options, manifest, chat)

    def read_chat_storage(self, unit: Unit, options: ReadOptions, manifest: Manifest, chat: str,
                          ) -> Iterator[Record]:
        members = [m for m in (manifest.lookup(WA_DOMAIN, CHAT_STORAGE + s) for s in ("-wal", "-shm")) if m]
        with tempfile.TemporaryDirectory(prefix="ringtrace-iosbk-") as td:
            tmp = Path(td)
            src = unit.root / chat
            if members:
                # the -wal must sit beside the database under its own name for SQLite to apply it
                staged = tmp / "src" / CHAT_STORAGE
                staged.parent.mkdir()
                staged.write_bytes(src.read_bytes())
                for m, s in zip(members, ("-wal", "-shm"), strict=False):
                    (staged.parent / (CHAT_STORAGE + s)).write_bytes((unit.root / m).read_bytes())
                src = staged
            try:
                con = open_readonly_copy(src, tmp / "db")
            except FormatError as exc:
                yield Problem(chat, f"backup file {chat} ({WA_DOMAIN}/{CHAT_STORAGE}): unreadable: {exc}",
                              Prov(chat))
                return
            try:
                schema = read_sqlite_schema(src)
                if not all(t in schema and c <= schema[t] for t, c in REQUIRED.items()):
                    yield Problem(chat, f"backup file {chat} ({WA_DOMAIN}/{CHAT_STORAGE}) is not a WhatsApp "
                                  "ChatStorage (tables missing)", Prov(chat))
                    return
                inner = Unit(unit.root, chat, "whatsapp-ios", members)
                try:
                    (tmp / "work").mkdir()
                    yield from _BackupChatReader(inner, options, con, manifest, tmp / "work").run()
                except FormatError as exc:
                    yield Problem(chat, f"backup file {chat} ({WA_DOMAIN}/{CHAT_STORAGE}): {exc}", Prov(chat))
            finally:
                con.close()

    def read_device(self, unit: Unit, prefix: str, present: set[str], mplist: dict[str, object] | None,
                    ) -> Iterator[Record]:
        info_rel = prefix + INFO_PLIST
        info = read_plist(unit.root / info_rel) if info_rel in present else None
        if info is None:
            yield Problem(unit.primary, f"{info_rel} missing or unreadable: the device is not named",
                          Prov(unit.primary), "warning")
            info = {}
        lockdown = mplist.get("Lockdown") if mplist else None
        lock = lockdown if isinstance(lockdown, dict) else {}
        name = _text(info.get("Device Name")) or _text(info.get("Display Name")) or _text(lock.get("DeviceName"))
        imei = _text(info.get("IMEI"), 20)
        details = [f"device {name!r}" if name else "device name not recorded"]
        for label, field_name, src in (("IMEI", "IMEI", info), ("serial", "Serial Number", info),
                                ("product", "Product Type", info), ("iOS", "Product Version", info),
                                ("UDID", "Unique Identifier", info)):
            v = _text(src.get(field_name), 80)
            if v:
                details.append(f"{label} {v}")
        if not imei:
            details.append("no IMEI recorded")
        desc = ", ".join(details)
        phone = _text(info.get("Phone Number"), 40)
        digits = re.sub(r"\D", "", phone or "")
        prov = Prov(info_rel, "Phone Number")
        if phone and 5 <= len(digits) <= 15:
            owner = AccountKey(Platform.PHONE.value, "phone", "+" + digits)
            yield Account(owner, prov)
            yield DeviceOwner(owner, f"iOS backup Info.plist Phone Number ({desc})", prov)
        else:
            yield Problem(info_rel if info else unit.primary, f"iOS backup of {desc}; no phone number in "
                          f"{INFO_PLIST}", Prov(info_rel), "info")

    def encrypted(self, unit: Unit, options: ReadOptions, mplist_rel: str, mplist: dict[str, object],
                  present: set[str]) -> Iterator[Record]:
        password = options.extra.get(PASSWORD_OPTION)
        where = Prov(mplist_rel, "IsEncrypted")
        if not password:
            yield Problem(unit.primary, f"encrypted iOS backup ({mplist_rel} IsEncrypted): password needed "
                          "(give it at intake with --password-file or --ask-password); its files are not read", where)
            return
        try:
            from iphone_backup_decrypt import utils as ibd
        except ImportError:
            yield Problem(unit.primary, "encrypted iOS backup: iphone_backup_decrypt is not installed (pip install "
                          "'ringtrace[backups]'); its files are not read", where)
            return
        with tempfile.TemporaryDirectory(prefix="ringtrace-iosbk-plain-") as td:
            plain = Path(td)
            opened = _Decryptor(ibd, unit, mplist_rel, mplist, plain)
            problem = opened.unlock(password)
            if problem is not None:
                yield problem
                return
            yield Problem(unit.primary, "encrypted iOS backup decrypted with the examiner's password (given at "
                          "intake; used in memory only, not stored)", where, "info")
            man_path = plain / "Manifest.db.plain"
            problem = opened.decrypt_manifest(man_path)
            if problem is not None:
                yield problem
                return
            manifest, problems = read_manifest(unit.root, unit.primary, present, man_path, WA_DOMAIN)
            yield from problems
            chat = manifest.lookup(WA_DOMAIN, CHAT_STORAGE)
            if chat is None:
                yield Problem(unit.primary, f"backup holds no WhatsApp {CHAT_STORAGE} (domain {WA_DOMAIN}); only "
                              "the device details are read", Prov(unit.primary, "Files"), "info")
                return
            yield from opened.decrypt_domain(manifest, WA_DOMAIN)
            if chat not in opened.decrypted:
                return  # its failure is named above
            yield Problem(unit.primary, f"backup file {chat} = {WA_DOMAIN}/{CHAT_STORAGE} (decrypted); read as "
                          "WhatsApp iOS", Prov(unit.primary, "Files"), "info")
            inner = Unit(plain, unit.primary, unit.format, unit.members)
            embedded: set[str] = set()
            for rec in self.read_chat_storage(inner, options, manifest, chat):
                if isinstance(rec, Message) and rec.media:
                    refs = []
                    for ref in rec.media:
                        if ref.path is not None:  # the exhibit's file is ciphertext: point at the plaintext
                            path = f"{ref.path}#{manifest.file_ids[ref.path]}"[:1000]
                            if path not in embedded and ref.path in opened.decrypted:
                                embedded.add(path)
                                yield from opened.embed(ref.path, path)
                            kept = path in opened.embedded
                            ref = replace(ref, path=path if kept else None, declared_only=not kept)
                        refs.append(ref)
                    rec = replace(rec, media=tuple(refs))
                yield rec


class _Decryptor:
    """The keybag of one encrypted backup and the files decrypted from it into ``plain`` (same relpaths)."""

    def __init__(self, ibd: Any, unit: Unit, mplist_rel: str, mplist: dict[str, object], plain: Path) -> None:
        self.ibd, self.unit, self.mplist_rel, self.mplist, self.plain = ibd, unit, mplist_rel, mplist, plain
        self.keybag: Any = None
        self.decrypted: set[str] = set()
        self.embedded: set[str] = set()
        self.total = 0

    def unlock(self, password: str) -> Problem | None:
        blob = self.mplist.get("BackupKeyBag")
        where = Prov(self.mplist_rel, "BackupKeyBag")
        if not isinstance(blob, bytes):
            return Problem(self.unit.primary, f"encrypted iOS backup: {self.mplist_rel} has no BackupKeyBag; "
                           "damaged backup, its files are not read", where)
        try:
            self.keybag = self.ibd.BackupKeyBag(blob)
            ok = self.keybag.unlock_with_passphrase(password.encode("utf-8"))
        except (ValueError, KeyError, TypeError, struct.error) as exc:  # UnsafeBackupError is a ValueError
            return Problem(self.unit.primary, f"encrypted iOS backup: the keybag in {self.mplist_rel} is damaged or "
                           f"unsafe ({str(exc)[:200]}); its files are not read", where)
        if not ok:
            return Problem(self.unit.primary, f"encrypted iOS backup: wrong password (the keybag in "
                           f"{self.mplist_rel} does not open with the password given); its files are not read", where)
        return None

    def decrypt_manifest(self, out: Path) -> Problem | None:
        mkey = self.mplist.get("ManifestKey")
        where = Prov(self.mplist_rel, "ManifestKey")
        try:
            if not isinstance(mkey, bytes) or len(mkey) != 44:
                raise ValueError(f"ManifestKey missing or not 44 bytes in {self.mplist_rel}")
            cls = struct.unpack("<l", mkey[:4])[0]
            key = self.keybag.unwrap_key_for_class(cls, mkey[4:])
            self.ibd.aes_decrypt_chunked(in_filename=str(self.unit.path), key=key, out_filepath=str(out))
        except (ValueError, KeyError, OSError) as exc:
            return Problem(self.unit.primary, f"encrypted iOS backup: {self.unit.primary} does not decrypt "
                           f"({str(exc)[:200]}); damaged backup, its files are not read", where)
        with out.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                return Problem(self.unit.primary, f"encrypted iOS backup: {self.unit.primary} decrypted to something "
                               "that is not SQLite (damaged Manifest.db or ManifestKey); its files are not read", where)
        return None

    def decrypt_domain(self, manifest: Manifest, domain: str) -> Iterator[Problem]:
        """Decrypt every file of ``domain`` to the same relpath under ``plain``; each failure is named."""
        for (dom, rel), hashed in sorted(manifest.files.items()):
            if dom != domain:
                continue
            where = f"backup file {hashed} ({dom}/{rel})"
            blob = manifest.blobs.get(hashed)
            try:
                if blob is None:
                    raise ValueError("no file record (or one over 100 KB) in Manifest.db")
                meta = self.ibd.FilePlist(blob)
                if meta.encryption_key is None:
                    raise ValueError("no EncryptionKey in its file record")
                size = (self.unit.root / hashed).stat().st_size
                if size > MAX_DECRYPTED_FILE or self.total + size > MAX_DECRYPTED_TOTAL:
                    yield Problem(hashed, f"{where}: {size} bytes, over the decryption bound "
                                  f"({MAX_DECRYPTED_FILE} a file, {MAX_DECRYPTED_TOTAL} a backup); not decrypted",
                                  Prov(hashed), "warning")
                    continue
                key = self.keybag.unwrap_key_for_class(meta.protection_class, meta.encryption_key)
                out = self.plain / hashed
                self.ibd.aes_decrypt_chunked(in_filename=str(self.unit.root / hashed), key=key, out_filepath=str(out))
            except (ValueError, KeyError, TypeError, IndexError, AttributeError, OSError,
                    plistlib.InvalidFileException) as exc:
                yield Problem(hashed, f"{where} does not decrypt: {str(exc)[:200]}", Prov(hashed))
                continue
            self.total += size
            self.decrypted.add(hashed)

    def embed(self, hashed: str, path: str) -> Iterator[Record]:
        """A decrypted attachment as an embedded file of the exhibit (stored in the vault, hashed, matched)."""
        plain = self.plain / hashed
        size = plain.stat().st_size
        if size > MAX_EMBEDDED_FILE:
            yield Problem(hashed, f"decrypted attachment {path} is {size} bytes, over {MAX_EMBEDDED_FILE}: not "
                          "kept (decrypt it offline)", Prov(hashed), "warning")
            return
        self.embedded.add(path)
        yield MediaFile(path, Prov(hashed), size, plain.read_bytes())

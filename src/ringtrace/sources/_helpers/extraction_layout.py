"""Where apps keep their data inside a full file-system extraction (a folder, as Cellebrite / GrayKey /
Magnet / ADB-style tools write them, after ingest has unpacked any archive).

Pure helpers, no records: format readers call them to find a database's siblings (``wa.db`` beside
``msgstore.db``, the ``Media`` tree, the owner's number in ``shared_prefs``). Every path returned is posix and
relative to ``root`` (the exhibit root), like ``Candidate.relpath``.

Extractions put the device tree under an extra folder or two (``Dump/``, ``fs/``, ``extraction_FFS/fs/``), so
the known paths are tried below every folder up to ``ANCHOR_DEPTH`` levels down. Nothing outside ``root`` is
ever touched: a symlink that resolves outside it is ignored, and every walk is bounded in depth and entries.
iTunes-style backups (``Manifest.db`` + hashed names) are out of scope.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ringtrace.phones import to_e164

ANCHOR_DEPTH = 3  # wrapper folders tolerated above the device tree (Dump/, fs/, extraction_FFS/fs/)
MAX_ANCHORS = 5_000
WALK_MAX_DEPTH = 10
WALK_MAX_ENTRIES = 200_000
PREFS_MAX_BYTES = 4 * 1024 * 1024
HEAD_BYTES = 64 * 1024

WHATSAPP = "com.whatsapp"
WHATSAPP_BUSINESS = "com.whatsapp.w4b"
ANDROID_PACKAGES = (WHATSAPP, WHATSAPP_BUSINESS)

#: Where app-private data lives, relative to the device root. ``apps/<pkg>`` is the ``adb backup`` layout
#: (``db/``, ``sp/``, ``f/`` instead of ``databases/``, ``shared_prefs/``, ``files/``).
ANDROID_DATA_BASES = ("data/data", "data/user/0", "data/user/10", "data/user/11", "data/user/150", "apps")
#: Where shared storage ("sdcard") appears, relative to the device root ("" = the root is the sdcard).
ANDROID_SDCARD_BASES = (
    "sdcard",
    "storage/emulated/0",
    "data/media/0",
    "media/0",
    "storage/emulated/legacy",
    "",
)
ANDROID_MEDIA = {
    WHATSAPP: ("Android/media/com.whatsapp/WhatsApp/Media", "WhatsApp/Media"),
    WHATSAPP_BUSINESS: (
        "Android/media/com.whatsapp.w4b/WhatsApp Business/Media",
        "WhatsApp Business/Media",
    ),
}
#: shared_prefs files that hold the registered number, best first.
ANDROID_PREFS = (
    "com.whatsapp_preferences_light.xml",
    "com.whatsapp.w4b_preferences_light.xml",
    "com.whatsapp_preferences.xml",
    "com.whatsapp.w4b_preferences.xml",
    "RegisterPhone.xml",
)
IOS_APPGROUP_BASES = (
    "private/var/mobile/Containers/Shared/AppGroup",
    "var/mobile/Containers/Shared/AppGroup",
    "mobile/Containers/Shared/AppGroup",
)
_UUID_RE = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")


@dataclass(frozen=True)
class AndroidWhatsAppLayout:
    package: str  # com.whatsapp | com.whatsapp.w4b
    app_dir: str | None  # data/data/<package> (or apps/<package> for adb backups); None if only media found
    msgstore: str | None  # databases/msgstore.db (its -wal/-shm sit beside it)
    wa_db: str | None  # databases/wa.db (contacts, LID map)
    prefs: tuple[str, ...]  # shared_prefs files from ANDROID_PREFS that exist, best first
    media_roots: tuple[str, ...]  # .../WhatsApp/Media folders of this package


@dataclass(frozen=True)
class IOSWhatsAppLayout:
    app_group: str  # .../Shared/AppGroup/<UUID>
    chatstorage: str  # <app_group>/ChatStorage.sqlite
    media_root: str | None  # <app_group>/Message/Media
    contacts: str | None  # <app_group>/ContactsV2.sqlite
    business: bool  # group.net.whatsapp.WhatsAppSMB.shared (WhatsApp Business)


@dataclass(frozen=True)
class TelegramExportLayout:
    result_json: str  # .../result.json
    folder: str  # the export folder (media paths in result.json are relative to it)
    kind: str  # full | single


class _Root:
    """Path checks confined to one root: a path counts only if it resolves inside the root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.real = root.resolve()

    def _inside(self, path: Path) -> bool:
        try:
            return path.resolve(strict=True).is_relative_to(self.real)
        except (OSError, RuntimeError):  # broken link, loop
            return False

    def is_dir(self, rel: str) -> bool:
        p = self.root / rel if rel else self.root
        return self._inside(p) and p.is_dir()

    def is_file(self, rel: str) -> bool:
        p = self.root / rel
        return self._inside(p) and p.is_file()

    def children(self, rel: str, limit: int = 10_000) -> list[str]:
        """Sub-folder names of ``rel`` (real folders; links not followed), sorted, at most ``limit``."""
        out: list[str] = []
        try:
            with os.scandir(self.root / rel if rel else self.root) as it:
                for entry in it:
                    if entry.is_dir(follow_symlinks=False):
                        out.append(entry.name)
                        if len(out) >= limit:
                            break
        except OSError:
            return []
        return sorted(out)

    def anchors(self) -> list[str]:
        """The root and folders up to ANCHOR_DEPTH below it: where a device tree may start."""
        found = [""]
        frontier = [""]
        for _ in range(ANCHOR_DEPTH):
            nxt: list[str] = []
            for rel in frontier:
                for name in self.children(rel):
                    child = f"{rel}/{name}" if rel else name
                    nxt.append(child)
                    if len(found) + len(nxt) >= MAX_ANCHORS:
                        return found + nxt
            found += nxt
            frontier = nxt
        return found


def _join(*parts: str) -> str:
    return "/".join(p for p in parts if p)


def find_android_whatsapp(root: Path) -> list[AndroidWhatsAppLayout]:
    """Every WhatsApp / WhatsApp Business install found in an Android extraction (one per package and user
    profile), best-populated first. Empty when there is none."""
    r = _Root(root)
    apps: dict[str, list[str]] = {pkg: [] for pkg in ANDROID_PACKAGES}
    media: dict[str, list[str]] = {pkg: [] for pkg in ANDROID_PACKAGES}
    for anchor in r.anchors():
        for base in ANDROID_DATA_BASES:
            for pkg in ANDROID_PACKAGES:
                rel = _join(anchor, base, pkg)
                if rel not in apps[pkg] and r.is_dir(rel):
                    apps[pkg].append(rel)
        for sd in ANDROID_SDCARD_BASES:
            for pkg, suffixes in ANDROID_MEDIA.items():
                for suffix in suffixes:
                    rel = _join(anchor, sd, suffix)
                    if rel not in media[pkg] and r.is_dir(rel):
                        media[pkg].append(rel)
    out: list[AndroidWhatsAppLayout] = []
    for pkg in ANDROID_PACKAGES:
        for app in apps[pkg]:
            adb = app.split("/")[-2] == "apps"
            db_dir = _join(app, "db" if adb else "databases")
            sp_dir = _join(app, "sp" if adb else "shared_prefs")
            msgstore = _join(db_dir, "msgstore.db")
            wa_db = _join(db_dir, "wa.db")
            prefs = tuple(_join(sp_dir, n) for n in ANDROID_PREFS if r.is_file(_join(sp_dir, n)))
            out.append(
                AndroidWhatsAppLayout(
                    pkg,
                    app,
                    msgstore if r.is_file(msgstore) else None,
                    wa_db if r.is_file(wa_db) else None,
                    prefs,
                    tuple(media[pkg]),
                )
            )
        if not apps[pkg] and media[pkg]:
            out.append(AndroidWhatsAppLayout(pkg, None, None, None, (), tuple(media[pkg])))
    out.sort(key=lambda lay: (lay.msgstore is None, lay.wa_db is None, lay.package, lay.app_dir or ""))
    return out


def find_ios_whatsapp(root: Path) -> list[IOSWhatsAppLayout]:
    """WhatsApp app groups (``ChatStorage.sqlite``) in an iOS file-system extraction; empty when none."""
    r = _Root(root)
    out: list[IOSWhatsAppLayout] = []
    seen: set[str] = set()
    for anchor in r.anchors():
        for base in IOS_APPGROUP_BASES:
            groups_dir = _join(anchor, base)
            if not r.is_dir(groups_dir):
                continue
            for name in r.children(groups_dir):
                group = _join(groups_dir, name)
                store = _join(group, "ChatStorage.sqlite")
                if group in seen or not _UUID_RE.match(name) or not r.is_file(store):
                    continue
                seen.add(group)
                media = _join(group, "Message/Media")
                contacts = _join(group, "ContactsV2.sqlite")
                out.append(
                    IOSWhatsAppLayout(
                        group,
                        store,
                        media if r.is_dir(media) else None,
                        contacts if r.is_file(contacts) else None,
                        _is_business_group(r, group),
                    )
                )
    return out


def _is_business_group(r: _Root, group: str) -> bool:
    """The container metadata plist names the app group; we look for the Business id in its bytes only."""
    meta = _join(group, ".com.apple.mobile_container_manager.metadata.plist")
    if not r.is_file(meta):
        return False
    try:
        with (r.root / meta).open("rb") as fh:
            return b"WhatsAppSMB" in fh.read(HEAD_BYTES)
    except OSError:
        return False


def walk_files(
    root: Path, max_depth: int = WALK_MAX_DEPTH, max_entries: int = WALK_MAX_ENTRIES
) -> Iterator[str]:
    """Relpaths of regular files under ``root``, breadth first, sorted per folder; links never followed.
    Stops quietly after ``max_entries`` directory entries or below ``max_depth``."""
    seen = 0
    frontier = [""]
    for _depth in range(max_depth + 1):
        nxt: list[str] = []
        for rel in frontier:
            try:
                with os.scandir(root / rel if rel else root) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                seen += 1
                if seen > max_entries:
                    return
                child = f"{rel}/{entry.name}" if rel else entry.name
                if entry.is_dir(follow_symlinks=False):
                    nxt.append(child)
                elif entry.is_file(follow_symlinks=False):
                    yield child
        frontier = nxt
        if not frontier:
            return


def find_telegram_exports(root: Path, max_depth: int = WALK_MAX_DEPTH) -> list[TelegramExportLayout]:
    """Telegram Desktop JSON exports (``result.json`` recognised by content) anywhere under ``root``."""
    from ringtrace.sources.telegram.desktop_export import sniff

    out: list[TelegramExportLayout] = []
    for rel in walk_files(root, max_depth=max_depth):
        if rel.rsplit("/", 1)[-1].lower() != "result.json":
            continue
        try:
            with (root / rel).open("rb") as fh:
                kind = sniff(fh.read(HEAD_BYTES))
        except OSError:
            continue
        if kind:
            out.append(TelegramExportLayout(rel, rel.rpartition("/")[0], kind))
    return out


# ---- the owner's number from shared_prefs ----------------------------------------------------------------


def owner_from_prefs_file(path: Path, region: str | None = None) -> str | None:
    """The registered number (E.164) in one WhatsApp shared_prefs XML file, or None.

    Keys, best first: ``registration_jid`` (international digits, sometimes with ``@s.whatsapp.net``), then
    ``cc`` + ``ph``, then ``RegisterPhone.xml``'s ``com.whatsapp.RegisterPhone.country_code`` +
    ``...phone_number``. Parsed with defusedxml (no DTDs/entities); files over 4 MiB are refused."""
    try:
        if path.stat().st_size > PREFS_MAX_BYTES:
            return None
        data = path.read_bytes()
        tree = fromstring(data)
    except (OSError, ParseError, DefusedXmlException, ValueError):
        return None
    values: dict[str, str] = {}
    for el in tree.iter("string"):
        name = el.get("name")
        if name and el.text and name not in values:
            values[name] = el.text.strip()
    jid = values.get("registration_jid", "").split("@", 1)[0]
    candidates = []
    if jid.isdigit():
        candidates.append("+" + jid)
    for cc_key, ph_key in (
        ("cc", "ph"),
        ("com.whatsapp.RegisterPhone.country_code", "com.whatsapp.RegisterPhone.phone_number"),
    ):
        cc, ph = values.get(cc_key, "").lstrip("+"), values.get(ph_key, "")
        if cc.isdigit() and ph:
            candidates.append(f"+{cc}{ph}")
    for cand in candidates:
        e164 = _e164(cand, region)
        if e164:
            return e164
    return None


def owner_from_android_prefs(root: Path, layout: AndroidWhatsAppLayout | None = None) -> str | None:
    """The WhatsApp owner's number (E.164) from shared_prefs, or None. ``layout`` picks the install; by
    default the best one :func:`find_android_whatsapp` finds."""
    layouts = [layout] if layout is not None else find_android_whatsapp(root)
    r = _Root(root)
    for lay in layouts:
        for rel in lay.prefs:
            if r.is_file(rel):
                found = owner_from_prefs_file(root / rel)
                if found:
                    return found
    return None


def _e164(raw: str, region: str | None) -> str | None:
    return to_e164(raw, region, bare_digits_international=False)

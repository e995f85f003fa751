"""A suspect's computer in the synthetic operation, seized as a disk image: a Tor Browser profile that visited
the dark-web post advertising a group and then opened its invite link, a Chrome profile of benign browsing, an
iTunes/Finder backup of the suspect's iPhone, and a Pictures folder of pictures saved from the groups (some on the
operation's VICS list) of which some were deleted (one of them known material that no other exhibit holds), laid
out as in a Windows user's folder.

The files are written with the format writers (``synth.formats.browsers``, ``synth.formats.ios_backup``) into a
staging folder, then put on the ext4 partition of a GPT disk kept as a raw (dd) image with
``synth.formats.disk_image.build_disk``, reproducibly (``Stamp``: the same seed gives the same bytes; an E01 could
not be, ewfacquire stamps its header with the acquisition date and a random GUID). Where the Debian tools that build
it, or the 'disk' extra that reads it, are missing, the computer is written as a folder of its live files instead
(deleted files cannot be), and operation.json says so. What the computer holds goes into the ground truth
(``browser_visits``, ``backups``, ``disks``; its known pictures into ``known_media``).

Beside it a USB stick (``EX-USB1``) is seized: an exFAT volume in an MBR table, kept raw, written with
``synth.formats.exfat`` (reproducibly too), holding in a camera-like folder pictures of the operation the
computer does not hold (known and unknown, one written in fragments, one known picture deleted); its disk is the
second entry of ``disks``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import random
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ringtrace.synth.formats import ios_backup
from ringtrace.synth.formats.browsers import Visit, sample_visits, write_chrome_history, write_firefox_places
from ringtrace.synth.formats.captures import FORMATS, PageSpec
from ringtrace.synth.formats.disk_image import FileSpec, Stamp, VolumeSpec, build_disk, missing_tools
from ringtrace.synth.images import variant_bytes
from ringtrace.synth.view import DeviceView
from ringtrace.synth.world import Device, World, device_view

EXHIBIT = "EX-PC1"
STICK = "EX-USB1"  # a USB stick seized beside the computer
TOR_PLACES = "Desktop/Tor Browser/Browser/TorBrowser/Data/Browser/profile.default/places.sqlite"
CHROME_HISTORY = "AppData/Local/Google/Chrome/User Data/Default/History"
BACKUP_DIR = "AppData/Roaming/Apple Computer/MobileSync/Backup"
PICTURES = "Pictures/Saved"
BEFORE_JOIN = timedelta(minutes=20)  # the post read this long before joining through its link
TO_THE_LINK = timedelta(minutes=3)  # then the link opened
LAST_USE = timedelta(minutes=30)  # the computer's last use (the deletions) this long before the seizure
BACKUP_AGE = timedelta(days=2)  # the iPhone was last backed up this long before the last use
# the disk: one ext4 partition on a GPT disk, kept raw (reproducible; E01 is exercised by the unit tests)
TABLE, FS, CONTAINER, PARTITION = "gpt", "ext4", "raw", "p1"


@dataclass
class Plan:
    owner: Device  # the suspect's phone (its owner owns the computer)
    page: PageSpec  # the onion post the suspect read
    code: str
    group_key: str | None  # the group the post advertised
    page_at: datetime
    joined: bool  # the suspect joined through that very code
    tied: bool = True  # the devices' evidence ties the code to its group (else no analysis can name the group)


def _iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def plan(world: World, pages: list[PageSpec], truth: dict[str, Any]) -> Plan | None:
    """Whose computer, and which post they read (one captured with its address): a phone's owner (iPhone
    owners first; the computer then holds that iPhone's backup) who joined a group through a code an onion post
    advertised; else the first phone owner reading an onion post whose code the devices tie to its group; else
    one reading any onion post that advertises a group."""
    ios = [d for d in world.devices if d.fmt == "whatsapp_ios"]
    phones = ios + [d for d in world.devices if d.fmt in ("whatsapp_android", "whatsapp_export")]
    # a post captured as plain text keeps no address, so a visit could never be matched to it: not one of those
    onion = [p for i, p in enumerate(pages) if ".onion/" in p.uri and FORMATS[i % len(FORMATS)] != "text"]
    if not phones or not onion:
        return None
    advertises = {x["code"]: x["group_key"] for x in truth["invite_links"] if x["platform"] == "whatsapp"}
    tied = {c: g for c, g in advertises.items() if any(x["code"] == c and x["group_observable"]
                                                       for x in truth["invite_links"])}
    groups = {g.key: g for g in world.groups.values()}
    advertised = [(page, link.code) for page in onion for link in page.links
                  if link.kind == "whatsapp" and link.code in tied]
    for dev in phones:
        for page, code in advertised:
            g = groups.get(tied[code] or "")
            joins = [iv[0] for iv, via in zip(g.intervals.get(dev.owner, []), g.via.get(dev.owner, []),
                                              strict=False) if via == code and iv[0]] if g else []
            if joins:
                return Plan(dev, page, code, tied[code], min(joins) - BEFORE_JOIN, True)
    if advertised:
        page, code = advertised[0]
        return Plan(phones[0], page, code, tied[code], page.captured_at - BEFORE_JOIN, False)
    # no post with an address advertises a code the devices tie: the suspect reads one advertising a group anyway
    page = next((p for p in onion if any(advertises.get(x.code) for x in p.links)), onion[0])
    wa = next((x for x in page.links if advertises.get(x.code)), page.links[0])
    return Plan(phones[0], page, wa.code, advertises.get(wa.code), page.captured_at - BEFORE_JOIN, False, False)


def write_computer(world: World, pages: list[PageSpec], truth: dict[str, Any], out: Path, seed: int,
                   ) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]] | None:
    """Write the computer under ``out`` (the exhibit folder): its disk image, or (tools missing) a folder of its
    live files. Returns its operation.json entry and its ground truth (``known_media`` entries it adds under
    ``known_media_added``), or None when the world has no phone or no onion post."""
    p = plan(world, pages, truth)
    if p is None:
        return None
    rng = random.Random(seed)
    person = world.persons[p.owner.owner]
    home = f"Users/{person.v.name.split()[0].lower()}"
    clock = p.owner.seized_at - LAST_USE
    invite = f"https://chat.whatsapp.com/{p.code}"
    post = Visit(p.page.uri, p.page_at, p.page.title or "Board")
    link = Visit(invite, p.page_at + TO_THE_LINK, "WhatsApp Group Invite")
    before = sample_visits(rng, p.page_at - timedelta(hours=3), [], [], n_benign=4)
    tor = sorted([*before, post, link], key=lambda v: v.at)
    chrome = sample_visits(rng, p.page_at - timedelta(days=2), [], [])
    view = device_view(world, p.owner) if p.owner.fmt == "whatsapp_ios" else None
    udid = f"{rng.getrandbits(160):040x}" if view is not None else ""
    backup_rel = f"{home}/{BACKUP_DIR}/{udid}"
    files: list[FileSpec] = []
    with tempfile.TemporaryDirectory(prefix="rt-pc-") as tmp:
        stage = Path(tmp)
        write_firefox_places(stage / home / TOR_PLACES, tor)
        write_chrome_history(stage / home / CHROME_HISTORY, chrome)
        files += _staged(stage, f"{home}/{TOR_PLACES}", tor[-1].at, tor[0].at - timedelta(days=1))
        files += _staged(stage, f"{home}/{CHROME_HISTORY}", max(v.at for v in chrome),
                         min(v.at for v in chrome) - timedelta(days=30))
        if view is not None:
            ios_backup.write(view, stage / backup_rel, seed)
            at = clock - BACKUP_AGE
            files += _staged(stage, backup_rel, at, at)
    pics, pic_truth = _pictures(world, view or device_view(world, p.owner), truth, f"{home}/{PICTURES}", clock, rng)
    files += pics
    why_not = _why_no_disk()
    if why_not is None:
        disk = build_disk(out, [VolumeSpec(FS, files)], table=TABLE, container=CONTAINER, name=EXHIBIT,
                          stamp=Stamp(int(clock.timestamp()), seed))
        prefix = f"{PARTITION}/"
        path = f"computers/{EXHIBIT}/{disk.image.name}"
    else:
        for f in files:
            if not f.deleted:  # a folder cannot hold a deleted file
                (out / f.path).parent.mkdir(parents=True, exist_ok=True)
                (out / f.path).write_bytes(f.data)
        prefix, path = "", f"computers/{EXHIBIT}"
    held = {f.sha256 for f in files if why_not is None or not f.deleted}
    visits = [{"exhibit": EXHIBIT, "person": p.owner.owner, "phone": person.v.phone, "browser": "tor",
               "file": f"{prefix}{home}/{TOR_PLACES}", "url": v.url, "at": _iso(v.at), "what": what,
               "code": p.code, "group_key": p.group_key, "group_tied_by_evidence": p.tied and p.group_key is not None,
               "joined_through_it": p.joined}
              for v, what in ((post, "the page"), (link, "the link"))]
    backups: list[dict[str, Any]] = []
    if view is not None:
        backups.append({"exhibit": EXHIBIT, "path": prefix + backup_rel, "format": "ios-backup", "encrypted": False,
                        "of_device": p.owner.exhibit, "owner": person.v.phone, "person": p.owner.owner,
                        "chats": sorted(g.key for g in view.groups)})
    known = {k["sha256"] for k in truth["known_media"]}
    added = [{k: x[k] for k in ("sha256", "family", "transform", "method")} for x in pic_truth
             if x["known"] and x["sha256"] in held and x["sha256"] not in known]
    entry: dict[str, Any] = {
        "exhibit": EXHIBIT, "path": path, "format": "computer", "owner": person.v.phone,
        "owner_person": p.owner.owner, "timezone": p.owner.timezone, "seizure_country": p.owner.country,
        "region": person.country, "seized_at": _iso(p.owner.seized_at),
        "held_as": "disk-image" if why_not is None else "folder"}
    disks: list[dict[str, Any]] = []
    more: list[dict[str, Any]] = []
    if why_not is None:
        entry["image"] = {"container": CONTAINER, "table": TABLE, "file_system": FS}
        disks.append(_disk_truth(disk.as_dict(), path, pic_truth))
        stick = _usb_stick(out.parent / STICK, world, truth, pic_truth, entry, clock, seed)
        if isinstance(stick, str):
            entry["usb_stick_not_built"] = stick
        else:
            more.append(stick[0])
            disks.append(stick[1])
    else:
        entry["disk_image_not_built"] = why_not
    return entry, {"browser_visits": visits, "backups": backups, "disks": disks, "known_media_added": added,
                   "exhibits_added": more}


def _usb_stick(out: Path, world: World, truth: dict[str, Any], pc_pictures: list[dict[str, Any]],
               pc: dict[str, Any], clock: datetime, seed: int) -> tuple[dict[str, Any], dict[str, Any]] | str:
    """The suspect's USB stick, found beside the computer: an exFAT volume (the file system of sticks and camera
    cards) in an MBR table, kept raw, holding in a camera-like folder pictures of the operation the computer does
    not hold: up to two listed known ones (the last of them deleted) and an unknown one, the first written in
    fragments (a FAT chain). Returns its operation.json entry and its ground truth, or why it was not built (the
    tool that makes exFAT is missing)."""
    missing = missing_tools([VolumeSpec("exfat")], "mbr", "raw")
    if missing:
        return f"no USB stick: the Debian tools that build it are missing: {', '.join(missing)} (exfatprogs)"
    on_pc = {x["sha256"] for x in pc_pictures}
    items = {hashlib.sha256(m.data()).hexdigest(): m for m in world.media.values()}
    listed = {k["sha256"]: k for k in truth["known_media"]}
    known = sorted(sha for sha in listed if sha in items and sha not in on_pc)[:2]
    unknown = sorted(sha for sha, m in items.items() if not m.known and sha not in on_pc)[:1]
    files, rows = [], []
    for n, sha in enumerate(known + unknown, 1):
        it = items[sha]
        name = f"DCIM/100MEDIA/IMG{n:04d}.JPG"
        at = int((clock - timedelta(days=40 - n)).timestamp())
        deleted = n == len(known)  # the last known picture, deleted from the stick
        files.append(FileSpec(name, it.data(), deleted, at, at - 3600, fragmented=n == 1))
        k = listed.get(sha)
        rows.append({"sha256": sha, "path": name, "deleted": deleted, "known": k is not None, "family": it.family,
                     "transform": it.transform, "only_here": False, "method": k["method"] if k else None})
    files.append(FileSpec("notes.txt", b"garden club: bring the seeds on saturday\n", mtime=int(clock.timestamp())))
    disk = build_disk(out, [VolumeSpec("exfat", files, label="STICK")], table="mbr", container="raw", name=STICK,
                      stamp=Stamp(int(clock.timestamp()), seed + 1))
    path = f"computers/{STICK}/{disk.image.name}"
    entry = {"exhibit": STICK, "path": path, "format": "usb-stick", "held_as": "disk-image",
             **{k: pc[k] for k in ("owner", "owner_person", "timezone", "seizure_country", "region", "seized_at")},
             "image": {"container": "raw", "table": "mbr", "file_system": "exfat"}}
    return entry, _disk_truth(disk.as_dict(), path, rows, STICK)


def _why_no_disk() -> str | None:
    """Why the computer cannot be a disk image here (None: it can): the Debian tools that build it, or the
    'disk' extra that reads it, are missing."""
    missing = missing_tools([VolumeSpec(FS)], TABLE, CONTAINER)
    if missing:
        return (f"written as a folder of its live files (no deleted files): the Debian tools that build the disk "
                f"image are missing: {', '.join(missing)} (e2fsprogs, fdisk)")
    absent = [m for m in ("dfvfs", "pytsk3") if importlib.util.find_spec(m) is None]
    if absent:
        return (f"written as a folder of its live files (no deleted files): this install cannot read a disk image "
                f"({', '.join(absent)} missing: install ringtrace with the 'disk' extra)")
    return None


def _staged(stage: Path, rel: str, mtime: datetime, crtime: datetime) -> list[FileSpec]:
    """The file (or every file under the folder) ``rel`` of the staging folder as FileSpecs with these times."""
    root = stage / rel
    found = [root] if root.is_file() else sorted(x for x in root.rglob("*") if x.is_file())
    m, b = int(mtime.timestamp()), int(min(crtime, mtime).timestamp())
    return [FileSpec(x.relative_to(stage).as_posix(), x.read_bytes(), mtime=m, crtime=b) for x in found]


def _pictures(world: World, view: DeviceView, truth: dict[str, Any], folder: str, clock: datetime,
              rng: random.Random) -> tuple[list[FileSpec], list[dict[str, Any]]]:
    """Pictures the suspect saved from the groups his phone shows, each a few minutes after it came (topped up from
    the other groups' pictures where his phone shows too few): two known and two unknown kept, one of each deleted;
    and known material no other exhibit holds, deleted (the disk alone holds it). Returns the files and, per
    picture, its truth."""
    items = {hashlib.sha256(m.data()).hexdigest(): m for m in world.media.values()}
    first: dict[str, datetime] = {}  # sha256 -> when it was first shared anywhere
    for wg in world.groups.values():
        for wm in wg.messages:
            if wm.media is not None:
                sha = hashlib.sha256(world.media[wm.media].data()).hexdigest()
                first[sha] = min(first.get(sha, wm.at), wm.at)
    seen: dict[str, datetime] = {}  # sha256 -> when his phone first shows it
    for g in view.groups:
        for msg in g.messages:
            med = msg.media
            if med is not None and med.kind == "image" and med.sha256 in items:
                seen[med.sha256] = min(seen.get(med.sha256, msg.at), msg.at)
    mine = sorted(seen.items(), key=lambda kv: (kv[1], kv[0]))
    others = sorted(((s, t) for s, t in first.items() if s not in seen), key=lambda kv: (kv[1], kv[0]))
    chosen: list[tuple[tuple[str, datetime], bool]] = []
    for known in (True, False):
        pool = [kv for kv in mine + others if items[kv[0]].known is known][:3]
        chosen += [(kv, i == 2 or len(pool) == 1 and i == 0) for i, kv in enumerate(pool)]
    files: list[FileSpec] = []
    rows: list[dict[str, Any]] = []
    latest = clock - timedelta(minutes=10)
    for n, ((sha, at), deleted) in enumerate(sorted(chosen, key=lambda c: (c[0][1], c[0][0]))):
        saved = min(at + timedelta(minutes=rng.randrange(1, 90)), latest)
        name = f"{folder}/IMG-{saved:%Y%m%d}-WA{n:04d}.jpg"  # as WhatsApp Desktop names a saved picture
        it = items[sha]
        files.append(FileSpec(name, it.data(), deleted, int(saved.timestamp())))
        rows.append({"sha256": sha, "path": name, "deleted": deleted, "known": it.known,
                     "family": it.family, "transform": it.transform, "only_here": False,
                     "method": ("sha256" if it.transform is None else "pdq") if it.known else None})
    # known material only this disk holds, deleted: a known family's original no exhibit holds, else a copy of
    # one re-encoded here (found by its PDQ hash, as any altered copy is)
    listed = {k["sha256"] for k in truth["known_media"]}
    fams = sorted(world.known_families)
    listed |= {kv[0] for kv, _ in chosen}
    unlisted = [f for f in fams if hashlib.sha256(variant_bytes(f, None, 0)).hexdigest() not in listed]
    if fams:
        fam, how = (unlisted[0], None) if unlisted else (fams[rng.randrange(len(fams))], "recompress")
        data = variant_bytes(fam, how, rng.randrange(10**9))
        saved = latest - timedelta(days=rng.randrange(3, 30))
        name = f"{folder}/IMG_{fam:04d}.jpg"
        files.append(FileSpec(name, data, True, int(saved.timestamp())))
        rows.append({"sha256": hashlib.sha256(data).hexdigest(), "path": name, "deleted": True, "known": True,
                     "family": fam, "transform": how, "only_here": True, "method": "sha256" if how is None else "pdq"})
    return files, rows


def _disk_truth(d: dict[str, Any], path: str, pictures: list[dict[str, Any]], exhibit: str = EXHIBIT,
                ) -> dict[str, Any]:
    """The ground truth of the disk: the image, its partitions, every file with its place (partition, path, tree
    path as intake names it, inode, MACB, deleted) and which pictures are known material."""
    by_path = {x["path"]: x for x in pictures}
    parts, files, pics = [], [], []
    for v in d["volumes"]:
        parts.append({"partition": v["partition"], "fs": v["fs"], "offset": v["offset"], "size": v["size"]})
        for f in v["files"]:
            place = {"partition": v["partition"], "fs": v["fs"], "fs_path": "/" + f["path"],
                     "tree_path": f"{v['partition']}/{f['path']}",
                     **{k: f.get(k) for k in ("inode", "mtime", "atime", "ctime", "crtime")}}
            row = {**place, "sha256": f["sha256"], "size": f["size"], "deleted": f["deleted"],
                   **({"deleted_at": f["deleted_at"]} if f.get("deleted_at") else {})}
            files.append(row)
            pic = by_path.get(f["path"])
            if pic is not None:
                pics.append({**row, **{k: pic[k] for k in ("known", "family", "transform", "method", "only_here")}})
    return {"exhibit": exhibit, "image": path, "container": d["container"], "table": d["table"],
            "segments": d["segments"], "media_sha256": d["media_sha256"], "media_md5": d["media_md5"],
            "partitions": parts, "files": files, "pictures": pics}

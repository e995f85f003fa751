"""A suspect's computer in the synthetic operation: a Tor Browser profile that visited the dark-web post
advertising a group and then opened its invite link, a Chrome profile of benign browsing, and an iTunes/Finder
backup of the suspect's iPhone, laid out as on a Windows PC. Written with the format writers
(``synth.formats.browsers``, ``synth.formats.ios_backup``), each into its own folder, so a disk image can hold
the same files later. What the computer holds goes into the ground truth (``browser_visits``, ``backups``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ringtrace.synth.formats import ios_backup
from ringtrace.synth.formats.browsers import Visit, sample_visits, write_chrome_history, write_firefox_places
from ringtrace.synth.formats.captures import FORMATS, PageSpec
from ringtrace.synth.world import Device, World, device_view

EXHIBIT = "EX-PC1"
TOR_PLACES = "Desktop/Tor Browser/Browser/TorBrowser/Data/Browser/profile.default/places.sqlite"
CHROME_HISTORY = "AppData/Local/Google/Chrome/User Data/Default/History"
BACKUP_DIR = "AppData/Roaming/Apple Computer/MobileSync/Backup"
BEFORE_JOIN = timedelta(minutes=20)  # the post read this long before joining through its link
TO_THE_LINK = timedelta(minutes=3)  # then the link opened


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
    """Write the computer under ``out`` (the exhibit folder); returns its operation.json entry and its ground
    truth, or None when the world has no phone or no onion post."""
    p = plan(world, pages, truth)
    if p is None:
        return None
    rng = random.Random(seed)
    person = world.persons[p.owner.owner]
    home = f"Users/{person.v.name.split()[0].lower()}"
    invite = f"https://chat.whatsapp.com/{p.code}"
    post = Visit(p.page.uri, p.page_at, p.page.title or "Board")
    link = Visit(invite, p.page_at + TO_THE_LINK, "WhatsApp Group Invite")
    before = sample_visits(rng, p.page_at - timedelta(hours=3), [], [], n_benign=4)
    write_firefox_places(out / home / TOR_PLACES, sorted([*before, post, link], key=lambda v: v.at))
    write_chrome_history(out / home / CHROME_HISTORY, sample_visits(rng, p.page_at - timedelta(days=2), [], []))
    visits = [{"exhibit": EXHIBIT, "person": p.owner.owner, "phone": person.v.phone, "browser": "tor",
               "file": f"{home}/{TOR_PLACES}", "url": v.url, "at": _iso(v.at), "what": what, "code": p.code,
               "group_key": p.group_key, "group_tied_by_evidence": p.tied and p.group_key is not None,
               "joined_through_it": p.joined}
              for v, what in ((post, "the page"), (link, "the link"))]
    backups: list[dict[str, Any]] = []
    if p.owner.fmt == "whatsapp_ios":
        view = device_view(world, p.owner)
        udid = f"{rng.getrandbits(160):040x}"
        rel = f"{home}/{BACKUP_DIR}/{udid}"
        ios_backup.write(view, out / rel, seed)
        backups.append({"exhibit": EXHIBIT, "path": rel, "format": "ios-backup", "encrypted": False,
                        "of_device": p.owner.exhibit, "owner": person.v.phone, "person": p.owner.owner,
                        "chats": sorted(g.key for g in view.groups)})
    entry = {"exhibit": EXHIBIT, "path": f"computers/{EXHIBIT}", "format": "computer", "owner": person.v.phone,
             "owner_person": p.owner.owner, "timezone": p.owner.timezone, "seizure_country": p.owner.country,
             "region": person.country, "seized_at": _iso(p.owner.seized_at)}
    return entry, {"browser_visits": visits, "backups": backups}

"""Writes a whole synthetic operation to disk: every seized device in its real format, captured pages, a
suspect's computer as a disk image (browser profiles, an iPhone backup, pictures, deleted ones), a VICS hash list,
``operation.json`` (what an investigator would know at intake: exhibit numbers, owners, time zones, seizure
countries) and ``ground-truth.json`` (what a perfect analysis must find). Same seed, same bytes."""

from __future__ import annotations

import hashlib
import importlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ringtrace.synth.images import variant_bytes
from ringtrace.synth.world import World, build_world, device_view

Progress = Callable[[str, int, int], None]


@dataclass
class Operation:
    root: Path
    world: World
    manifest: dict[str, Any]
    truth: dict[str, Any]


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat().replace("+00:00", "Z") if dt else None


def write_operation(out: Path, seed: int = 1, scale: str = "small", progress: Progress | None = None) -> Operation:
    out.mkdir(parents=True, exist_ok=True)
    world = build_world(seed, scale)
    exhibits: list[dict[str, Any]] = []
    declared: dict[str, set[str]] = {}  # sha256 -> devices holding it (file or app database)
    file_holders: dict[str, set[str]] = {}
    observed: dict[str, dict[str, Any]] = {}  # group key -> what devices saw
    other_chats: list[dict[str, Any]] = []
    name_only: list[dict[str, Any]] = []  # Telegram people an export names only by name, and can be tied
    calls: list[dict[str, Any]] = []  # what the phones' call logs must give: one event per callee
    for i, dev in enumerate(world.devices):
        if progress:
            progress("devices", i, len(world.devices))
        ddir = out / "devices" / dev.exhibit
        ddir.mkdir(parents=True, exist_ok=True)
        view = device_view(world, dev)
        if dev.fmt == "media_folder":
            _write_media_folder(world, view, ddir, seed)
        else:
            writer = importlib.import_module(f"ringtrace.synth.formats.{dev.fmt}")
            writer.write(view, ddir, seed * 1000 + i)
        keeps_hash = dev.fmt in ("whatsapp_android", "whatsapp_ios")
        shown = _telegram_names(view) if dev.fmt == "telegram_export" else None
        if shown is not None:
            name_only += _telegram_name_only(dev.exhibit, view, shown)
        calls += _call_events(dev.exhibit, view)
        for chat in view.others:
            other_chats.append({"exhibit": dev.exhibit, "jid": chat.jid, "kind": chat.kind,
                                "message_keys": sorted(p.key for p in chat.posts),
                                "senders": sorted({p.sender.phone for p in chat.posts if p.sender})})
        for g in view.groups:
            o = observed.setdefault(g.key, {"devices": [], "phones": set(), "tg_ids": set(), "codes": set(),
                                            "created_seen": False})
            o["devices"].append(dev.exhibit)
            rendered = _notice_kinds(dev)
            o.setdefault("notices", []).extend(
                {"exhibit": dev.exhibit, "key": n.key, "kind": n.kind, "at": _iso(n.at),
                 "actor": n.actor.phone if n.actor and n.kind != "encryption_notice" else None}
                for n in g.notices if rendered is None or n.kind in rendered)
            if shown is not None:
                _telegram_conduct_seen(o, g, view, shown)
            o["created_seen"] |= any(e.kind == "created" for e in g.events)
            o.setdefault("event_keys", set()).update(e.key for e in g.events if _names_target(dev, view, e))
            admins = o.setdefault("admins", set())
            if dev.fmt != "whatsapp_export":  # an export lists no roles and prints no one else's promotion
                admins.update(p.phone for p, role in g.participants if role in ("admin", "superadmin"))
                admins.update(e.target.phone for e in g.events if e.kind == "promoted" and e.target)
            first = o.setdefault("first_share", {})
            for m in g.messages:
                if m.media is not None and (m.media.present or keeps_hash):
                    cur = first.get(m.media.sha256)
                    if cur is None or (m.at, m.key) < (cur[0], cur[2]):
                        first[m.media.sha256] = (m.at, m.sender.phone, m.key)
            admin_phones = {p.phone for p, role in g.participants if role in ("admin", "superadmin")}
            admin_phones |= {e.target.phone for e in g.events if e.kind == "promoted" and e.target}
            admin_phones.add(g.creator.phone)
            # the group's link posted in the group by one of its admins, on a device that names senders by
            # number (an export names contacts by the owner's label: that post ties nothing by itself)
            for m in g.messages if dev.fmt != "whatsapp_export" else ():
                if m.text and "chat.whatsapp.com/" in m.text and m.sender.phone in admin_phones:
                    o["codes"].add(m.text.rsplit("/", 1)[1])
            people = [p for p, _ in g.participants] + [m.sender for m in g.messages]
            people += [x for e in g.events for x in (e.actor, e.target) if x is not None]
            printed_with_id: set[Any] = set()
            if shown is not None:  # a Telegram export lists no members: only what its messages print
                printed_with_id = {m.sender for m in g.messages}
                printed_with_id |= {e.actor or e.target for e in g.events if _tg_service(e)} - {None}
                people = [*printed_with_id]
                people += [e.target for e in g.events if _tg_service(e) and e.target is not None]
            for p in people:
                o["phones"].add(p.phone)
                # a name printed without an id counts where the same export gives that name one id alone
                if shown is None or p in printed_with_id or _telegram_resolvable(p, g, view, shown):
                    o["tg_ids"].add(p.tg_id)
            for m in g.messages:
                if m.media is None:
                    continue
                if m.media.present or dev.fmt == "media_folder":
                    file_holders.setdefault(m.media.sha256, set()).add(dev.exhibit)
                if m.media.present or keeps_hash:
                    declared.setdefault(m.media.sha256, set()).add(dev.exhibit)
        owner = world.persons[dev.owner]
        exhibits.append({
            "exhibit": dev.exhibit, "path": f"devices/{dev.exhibit}", "format": dev.fmt, "variant": dev.variant,
            # an extraction that names no owner: the examiner gives no --owner either
            "owner": owner.v.phone if dev.owner_recorded else None, "owner_person": dev.owner,
            "timezone": dev.timezone,
            "seizure_country": dev.country, "region": owner.country, "seized_at": _iso(dev.seized_at),
        })
    # pages captured on the dark web and paste sites that point at the groups
    from ringtrace.synth import captures_plan

    pages, expected_links = captures_plan.plan_pages(world, random.Random(seed + 17))
    from ringtrace.synth.formats.captures import write_captures

    write_captures(pages, out / "captures", seed)
    exhibits.append({"exhibit": "EX-CAP", "path": "captures", "format": "captures", "timezone": "UTC"})
    # notes found in a search: typed lists (PDF, DOCX) and, past the tiny scale (OCR takes seconds a page),
    # photos and scans of handwritten and printed pages; what each holds goes in the ground truth
    from ringtrace.synth.formats.notes import write_notes

    notes = write_notes(out / "notes", seed + 23, pictures=scale != "tiny")
    langs = "+".join(sorted({x for f in notes["files"] for x in f["languages"].split("+")}))
    exhibits.append({"exhibit": "EX-NOTES", "path": "notes", "format": "notes", "timezone": "UTC", "paper": True,
                     "languages": langs})
    hashlist = out / "hashlists" / "vics-2.0.json"
    known_entries = _write_vics(world, hashlist, seed)
    manifest = {"seed": seed, "scale": scale, "exhibits": exhibits,
                "hashlists": [{"path": "hashlists/vics-2.0.json", "format": "vics", "name": "synthetic-vics"}]}
    truth = _ground_truth(world, observed, declared, file_holders, known_entries, expected_links)
    # a suspect's computer, seized as a disk image: browser visits to an advertising post and its link, a backup
    # of their iPhone, pictures saved from the groups (deleted ones too)
    from ringtrace.synth.computer_plan import EXHIBIT, write_computer

    computer = write_computer(world, pages, truth, out / "computers" / EXHIBIT, seed + 29)
    if computer is not None:
        exhibits.append(computer[0])
        exhibits += computer[1].pop("exhibits_added")  # the USB stick seized beside it
        added = computer[1].pop("known_media_added")
        truth.update(computer[1])
        truth["known_media"] = sorted(truth["known_media"] + added, key=lambda k: k["sha256"])
        for bk in truth["backups"]:  # the iPhone's backup holds its call log too
            calls += [dict(c, exhibit=bk["exhibit"]) for c in calls if c["exhibit"] == bk["of_device"]]
    truth["notes"] = dict(notes, exhibit="EX-NOTES")
    truth["other_chats"] = other_chats
    truth["telegram_name_only"] = name_only
    truth["calls"] = calls
    (out / "operation.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (out / "ground-truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return Operation(out, world, manifest, truth)


def _call_events(exhibit: str, view: Any) -> list[dict[str, Any]]:
    """A call log's calls as the events a reader must give: the caller acts, each callee is a target; an incoming
    call that was not answered is a missed call (WhatsApp-Chat-Exporter's reading of call_result)."""
    out = []
    owner = view.owner.phone
    for c in view.calls:
        callees = [(p.phone, r) for p, r in c.participants] or [(c.peer.phone if c.from_me else owner, c.result)]
        for callee, result in callees:
            kind = "call" if c.from_me or result in (3, 5) else "missed_call"
            out.append({"exhibit": exhibit, "at": _iso(c.at), "kind": kind, "video": c.video,
                        "caller": owner if c.from_me else c.peer.phone, "callee": callee,
                        "group": c.group_key})
    return out


def _notice_kinds(dev: Any) -> frozenset[str] | None:
    """The notice kinds a device's format writes (None: all; an export writes none of the database's)."""
    if dev.fmt == "whatsapp_android":
        from ringtrace.synth.formats.whatsapp_android import NOTICE_KINDS

        return NOTICE_KINDS.get(dev.variant or "current")
    if dev.fmt == "whatsapp_ios":
        from ringtrace.synth.formats.whatsapp_ios import NOTICE_KINDS as IOS_KINDS

        return IOS_KINDS
    return frozenset()


def _telegram_names(view: Any) -> dict[str, set[int]]:
    """What a Telegram export prints with an id: display name -> the ids printed with it (from/from_id of
    messages, actor/actor_id of service messages, the contacts list, personal_information)."""
    from ringtrace.synth.formats.telegram_export import tg_id

    book = {p.phone: name for p, name in view.contacts}
    out: dict[str, set[int]] = {}

    def add(name: str, person: Any) -> None:
        out.setdefault(name, set()).add(tg_id(person))

    add(view.owner.name, view.owner)
    for p, name in view.contacts:
        add(name, p)
    for g in view.groups:
        for m in g.messages:
            add(book.get(m.sender.phone, m.sender.name), m.sender)
        for e in g.events:
            who = e.actor or e.target
            if who is not None and _tg_service(e):
                add(book.get(who.phone, who.name), who)
    return out


def _telegram_name_only(exhibit: str, view: Any, shown: dict[str, set[int]]) -> list[dict[str, Any]]:
    """People a Telegram export prints only by name (in a member list or as a link's inviter), never as a
    message's from/from_id or a service actor, whom the same export gives that name with an id alone (its
    contacts list, personal_information)."""
    from ringtrace.synth.formats.telegram_export import tg_id

    book = {p.phone: name for p, name in view.contacts}
    with_id = {m.sender for g in view.groups for m in g.messages}
    with_id |= {(e.actor or e.target) for g in view.groups for e in g.events if _tg_service(e)}
    by_name = set()
    for g in view.groups:
        for e in g.events:
            if e.kind in ("added", "removed") and e.target is not None and e.target != e.actor:
                by_name.add(e.target)
            if e.kind == "joined_link" and e.inviter is not None:
                by_name.add(e.inviter)
    out = []
    for p in sorted(by_name - with_id, key=lambda q: q.phone):
        name = book.get(p.phone, p.name)
        if shown.get(name) == {tg_id(p)}:
            out.append({"exhibit": exhibit, "tg_id": str(tg_id(p)), "name": name,
                        "by": "contacts list" if p.phone in book else "personal_information"})
    return out


def _tg_service(e: Any) -> bool:
    """Whether the Telegram export writes a service message for this event (with its actor)."""
    return e.kind in ("created", "added", "joined", "joined_link", "removed", "left", "subject", "icon",
                      "migrated") or (e.kind == "other" and e.value == "pin_message")


def _telegram_resolvable(p: Any, g: Any, view: Any, shown: dict[str, set[int]]) -> bool:
    """A person a Telegram export shows with an id, or by a name the same export gives one id alone."""
    from ringtrace.synth.formats.telegram_export import tg_id

    name = {q.phone: n for q, n in view.contacts}.get(p.phone, p.name)
    return shown.get(name) == {tg_id(p)}


def _telegram_conduct_seen(o: dict[str, Any], g: Any, view: Any, shown: dict[str, set[int]]) -> None:
    """The admins a Telegram export shows by conduct alone (removing someone else, owning the link a join came
    through), from when; and the links they posted in the group from then on (tied to it by that conduct)."""
    since: dict[str, Any] = o.setdefault("tg_admin_since", {})
    if any(e.kind == "created" for e in g.events) and g.creator is not None:
        since[g.creator.phone] = min(since.get(g.creator.phone, g.created_at), g.created_at)
    for e in g.events:
        who = None
        if e.kind == "removed" and e.actor and e.target and e.actor != e.target:
            who = e.actor
        elif e.kind == "joined_link" and e.inviter is not None and _telegram_resolvable(e.inviter, g, view, shown):
            who = e.inviter
        if who is not None:
            since[who.phone] = min(since.get(who.phone, e.at), e.at)
            o.setdefault("tg_conduct", set()).add(who.phone)
    o.setdefault("tg_posts", []).extend((m.sender.phone, m.at, m.text.rsplit("+", 1)[1]) for m in g.messages
                                        if m.text and "t.me/+" in m.text)


def _names_target(dev: Any, view: Any, e: Any) -> bool:
    """Whether this device shows who an event is about in a way evidence can resolve: a database gives numbers;
    an export prints a number only for people not in the owner's address book (Android), else a contact or
    push name that may be shared or matched too rarely to resolve, so such an event counts only if another
    device shows it too."""
    if dev.fmt != "whatsapp_export":
        return True
    who = e.target or e.actor
    if who is None or who == view.owner:
        return True
    return view.variant == "android" and who not in {p for p, _ in view.contacts}


def _write_media_folder(world: World, view: Any, ddir: Path, seed: int) -> None:
    """A seized laptop's picture folder: what the owner saved from the groups, plus originals from elsewhere."""
    pics = ddir / "Users" / "user" / "Pictures" / "saved"
    pics.mkdir(parents=True, exist_ok=True)
    n = 0
    for g in view.groups:
        for m in g.messages:
            if m.media is not None:
                n += 1
                (pics / f"pic_{n:05d}.jpg").write_bytes(m.media.data)
    for fam in sorted(world.known_families)[:5]:
        (pics / f"download_{fam:05d}.jpg").write_bytes(variant_bytes(fam, None, 0))
        world_extra = world.__dict__.setdefault("_folder_originals", set())
        world_extra.add(fam)


def _write_vics(world: World, path: Path, seed: int) -> list[dict[str, Any]]:
    """Project VIC VICS JSON 2.0 (Media form) listing the originals of the known families, plus unrelated
    entries as a real list would hold."""
    from ringtrace.media.hashing import hash_bytes

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed + 5)
    value = []
    entries = []
    for i, fam in enumerate(sorted(world.known_families)):
        data = variant_bytes(fam, None, 0)
        h = hash_bytes(data, f"family-{fam}.jpg")
        assert h.md5 and h.sha1 and h.sha256, "generated images are always readable"
        cat = 1 + (fam % 2)
        value.append({"MediaID": i + 1, "MD5": h.md5.upper(), "SHA1": h.sha1.upper(), "SHA256": h.sha256.upper(),
                      "Category": cat, "Series": f"SYN-{fam % 7:02d}", "VictimIdentified": fam % 5 == 0,
                      "OffenderIdentified": False, "MediaSize": len(data), "IsDistributed": True,
                      "PDQ": h.pdq})
        entries.append({"media_id": i + 1, "family": fam, "sha256": h.sha256, "pdq": h.pdq, "category": cat})
    for j in range(max(20, len(value))):  # entries for material that is not in this case
        blob = rng.randbytes(32)
        value.append({"MediaID": 100000 + j, "MD5": hashlib.md5(blob).hexdigest().upper(),  # noqa: S324
                      "SHA1": hashlib.sha1(blob).hexdigest().upper(),  # noqa: S324
                      "SHA256": hashlib.sha256(blob).hexdigest().upper(), "Category": 1,
                      "PDQ": rng.randbytes(32).hex()})
    doc = {"@odata.context": "http://github.com/ICMEC/ProjectVic/DataModels/2.0.xml/CUSTOM/$metadata#Media",
           "value": value}
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return entries


def _tg_tied(o: dict[str, Any]) -> set[str]:
    """Telegram links posted in the group by someone shown as its admin (by conduct or creation) at the time."""
    since = o.get("tg_admin_since", {})
    return {code for phone, at, code in o.get("tg_posts", []) if phone in since and since[phone] <= at}


def _ground_truth(world: World, observed: dict[str, dict[str, Any]], declared: dict[str, set[str]],
                  file_holders: dict[str, set[str]], known_entries: list[dict[str, Any]],
                  expected_links: list[dict[str, Any]]) -> dict[str, Any]:
    phone_of = {pid: p.v.phone for pid, p in world.persons.items()}
    admin_posts: dict[str, set[str]] = {}  # invite code -> groups where a device shows an admin posting it
    for key, o in observed.items():
        for c in o["codes"]:
            admin_posts.setdefault(c, set()).add(key)
    groups = []
    for g in sorted(world.groups.values(), key=lambda g: g.gid):
        o = observed.get(g.key) or {"devices": [], "phones": set(), "tg_ids": set(), "codes": set(),
                                    "created_seen": False}
        members = []
        seen_keys = o.get("event_keys", set())
        for pid, ivs in sorted(g.intervals.items()):
            p = world.persons[pid]
            joins = [e for e in g.events if e.key in seen_keys and e.kind in ("created", "added", "joined_link")
                     and (e.target or e.actor) == pid]
            leaves = [e for e in g.events if e.key in seen_keys and e.kind in ("left", "removed") and e.target == pid]
            members.append({
                # the join and leave events some device saw: the precision the sources allow
                "observed_joins": [{"at": _iso(e.at), "kind": e.kind} for e in joins],
                "observed_leaves": [_iso(e.at) for e in leaves],
                "person": pid, "phone": p.v.phone, "tg_id": p.v.tg_id,
                "intervals": [[_iso(f), _iso(t)] for f, t in ivs],
                "joined_via_invite_link": [c for c in g.via.get(pid, []) if c],
                "observed": (p.v.phone in o["phones"] if g.platform == "whatsapp" else p.v.tg_id in o["tg_ids"]),
            })
        groups.append({
            "gid": g.gid, "platform": g.platform, "key": g.key, "observed_by": o["devices"],
            "names": [{"at": _iso(t), "name": s} for t, s in g.subjects], "created_at": _iso(g.created_at),
            "creator": phone_of[g.creator], "admins": sorted(phone_of[a] for a in g.admins),
            # a creator can be known only from a device that saw the creation, or from an old-style group id
            "creator_observable": bool(o["created_seen"]) or (g.platform == "whatsapp" and "-" in g.key),
            "admins_observable": sorted(o.get("admins", set()) | ({phone_of[g.creator]} if o["created_seen"] or
                                                                  (g.platform == "whatsapp" and "-" in g.key)
                                                                  else set())),
            # an admin's post ties the group's own link, unless an admin of another group posted it there too
            # ("new place: ..."): equal evidence for two groups ties it to neither
            "codes_tied_by_evidence": sorted({c for c in o["codes"] & {c for _, c in g.codes}
                                              if admin_posts.get(c) == {g.key}} | _tg_tied(o)),
            # Telegram: who the exports show as admins by conduct alone (and the creator), not by any role list
            "admins_by_conduct": sorted(o.get("tg_conduct", set())) if g.platform == "telegram" else [],
            "notices": sorted(o.get("notices", []), key=lambda n: (n["at"], n["key"], n["exhibit"])),
            "invite_codes": [{"from": _iso(t), "code": c} for t, c in g.codes], "members": members,
            "message_count": len(g.messages),
        })
    fam_known = {e["family"] for e in known_entries}
    held = set(declared) | set(file_holders)
    known_media = []
    for m in world.media.values():
        sha = hashlib.sha256(m.data()).hexdigest()
        if m.family in fam_known and sha in held:
            # a file is needed for a perceptual match; an app's declared hash matches only an exact original
            if sha in file_holders or m.transform is None:
                known_media.append({"sha256": sha, "family": m.family, "transform": m.transform,
                                    "method": "sha256" if m.transform is None else "pdq"})
    for fam in sorted(world.__dict__.get("_folder_originals", set())):
        sha = hashlib.sha256(variant_bytes(fam, None, 0)).hexdigest()
        if not any(k["sha256"] == sha for k in known_media):
            known_media.append({"sha256": sha, "family": fam, "transform": None, "method": "sha256"})
    first: dict[str, dict[str, Any]] = {}
    for g in world.groups.values():
        for msg in g.messages:
            if msg.media:
                sha = hashlib.sha256(world.media[msg.media].data()).hexdigest()
                cur = first.get(sha)
                if cur is None or msg.at < datetime.fromisoformat(cur["at"].replace("Z", "+00:00")):
                    first[sha] = {"phone": phone_of[msg.sender], "group": g.key, "at": _iso(msg.at)}
    # the earliest share any device saw (a perfect analysis cannot know of earlier ones no device kept)
    seen_first: dict[str, tuple[Any, str, str, str]] = {}
    for gkey, o in observed.items():
        for sha, (at, phone, mkey) in o.get("first_share", {}).items():
            prev = seen_first.get(sha)
            if prev is None or (at, mkey) < (prev[0], prev[2]):
                seen_first[sha] = (at, phone, mkey, gkey)
    observed_first = {sha: {"phone": v[1], "group": v[3], "at": _iso(v[0])} for sha, v in seen_first.items()}
    persons = [{"person": pid, "phone": p.v.phone, "country": p.country, "name": p.v.name, "tg_id": p.v.tg_id,
                "lid": p.v.lid} for pid, p in sorted(world.persons.items())]
    tied = {c: g["key"] for g in groups for c in g["codes_tied_by_evidence"]}
    for link in expected_links:
        # a perfect analysis ties a captured code to its group only where the devices show the tie
        link["group_observable"] = link["group_key"] is not None and tied.get(link["code"]) == link["group_key"]
    return {
        "seed": world.seed, "persons": persons, "groups": groups,
        "known_media": sorted(known_media, key=lambda k: k["sha256"]),
        "media_first_shared": first, "media_first_shared_observed": observed_first, "invite_links": expected_links,
        "devices": [{"exhibit": d.exhibit, "owner": phone_of[d.owner], "format": d.fmt, "variant": d.variant,
                     "seizure_country": d.country, "owner_recorded": d.owner_recorded, "owner_trace": d.owner_trace}
                    for d in world.devices],
    }

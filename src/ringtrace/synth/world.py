"""The synthetic operation's world: who is in which group when, who said and shared what, which phones were
seized, and what each phone saw. Everything is decided here, from one seed; format writers only render.

Nothing in it is real: invented names, numbers valid per libphonenumber but random, benign generated images,
and bland chatter. The ground truth a perfect analysis must recover is derived from the same objects.
"""

from __future__ import annotations

import random
import string
import zlib
from datetime import datetime, timedelta

from ringtrace.synth import realev
from ringtrace.synth.people import COUNTRIES, invent_name, invent_phone
from ringtrace.synth.view import DeviceView, VCall, VChat, VEvent, VGroup, VMedia, VMessage, VPerson, VPost
from ringtrace.synth.world_model import SEIZURE, START, Device, Ev, Grp, MediaItem, Msg, Person, Scale, World

__all__ = ["SCALES", "SEIZURE", "START", "Device", "Ev", "Grp", "MediaItem", "Msg", "Person", "Scale", "World",
           "build_world", "device_view"]

CHATTER = [
    "hello all", "ok", "thanks", "see the new link", "who is online?", "good morning", "later today",
    "check the folder", "new ones tomorrow", "not here, use the other group", "did it arrive?", "sent",
    "be careful with names", "link changes next week", "welcome", "read the rules", "same as before",
    "more coming", "👍", "ok ok", "agreed",
]
SUBJECTS = ["Garden Club", "Book Swap", "Weekend Hikers", "Retro Games", "Stamp Collectors", "Night Owls",
            "Photo Walk", "Chess Corner", "Tea Lovers", "Model Trains", "Birdwatch", "Quiz Night", "Vinyl Room",
            "Film Buffs", "Cycling Crew", "Origami", "Astronomy", "Jigsaw Fans", "Pen Pals", "Sketchbook",
            "Puzzle Hunt", "Board Games", "Radio Hams", "Aquarium", "Knitting Circle", "Coin Club", "Kite Flyers"]


SCALES = {
    "tiny": Scale(groups=3, telegram_groups=1, persons=24, devices=5, base_images=12, messages=300, pages=10),
    "small": Scale(groups=6, telegram_groups=1, persons=60, devices=10, base_images=40, messages=2000, pages=30),
    "medium": Scale(groups=25, telegram_groups=3, persons=400, devices=40, base_images=6000, messages=200_000,
                    pages=300, media_rate=0.15),
    "large": Scale(groups=80, telegram_groups=8, persons=1600, devices=160, base_images=24000, messages=800_000,
                   pages=1200),
}


def _code(rng: random.Random, n: int = 22) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def _t(rng: random.Random, lo: datetime, hi: datetime) -> datetime:
    span = max(1, int((hi - lo).total_seconds()))
    return (lo + timedelta(seconds=rng.randrange(span))).replace(microsecond=0)


def build_world(seed: int, scale: str | Scale = "small") -> World:
    sc = SCALES[scale] if isinstance(scale, str) else scale
    rng = random.Random(seed)
    used: set[str] = set()
    countries = list(COUNTRIES)
    persons: dict[str, Person] = {}
    for i in range(sc.persons):
        c = countries[i % len(countries)] if i < len(countries) * 2 else rng.choice(countries)
        lang = COUNTRIES[c][0]
        phone = invent_phone(rng, c, used)
        lid = str(rng.randrange(10**14, 10**15)) if rng.random() < 0.3 else None
        pid = f"P{i + 1:04d}"
        persons[pid] = Person(pid, c, VPerson(phone=phone, name=invent_name(rng, lang), lid=lid,
                                              tg_id=rng.randrange(10**8, 10**10), username=None))
    pids = list(persons)

    groups: dict[str, Grp] = {}
    key_counter = 0
    for gi in range(sc.groups):
        platform = "telegram" if gi >= sc.groups - sc.telegram_groups else "whatsapp"
        created = _t(rng, START, START + timedelta(days=60))
        creator = rng.choice(pids)
        if platform == "whatsapp":
            if rng.random() < 0.4:  # old-style JID reveals creator and creation time
                key = f"{persons[creator].v.digits}-{int(created.timestamp())}@g.us"
            else:
                key_counter += 1
                key = f"1203634{rng.randrange(10**10, 10**11)}{key_counter:02d}@g.us"
        else:
            key = str(rng.randrange(10**9, 10**10))
        g = Grp(f"G{gi + 1:02d}", platform, key, created, creator)
        groups[g.gid] = g

    known_families = set(range(0, sc.base_images, 3))  # a third of the families are on the list
    media: dict[str, MediaItem] = {}
    world = World(seed, sc, persons, groups, media, [], known_families)
    _simulate_groups(world, rng)
    _simulate_messages(world, rng)
    _choose_devices(world, rng)
    # the real-evidence classes draw from a stream of their own, so the rest of the world stays as it was
    realev.add_classes(world, random.Random(zlib.crc32(f"{seed}:realev".encode())))
    return world


def _simulate_groups(world: World, rng: random.Random) -> None:
    pids = list(world.persons)
    ev_n = 0
    size_target = max(6, len(pids) * 3 // max(1, len(world.groups)))
    for g in world.groups.values():
        ev_n += 1
        subj = SUBJECTS[int(g.gid[1:]) % len(SUBJECTS)] + f" {g.gid[1:]}"
        g.subjects.append((g.created_at, subj))
        g.events.append(Ev(f"E{ev_n:07d}", g.gid, "created", g.created_at, g.creator, None, subj))
        g.intervals[g.creator] = [[g.created_at, None]]
        g.via[g.creator] = [None]
        g.admins.add(g.creator)
        g.codes.append((g.created_at, _code(rng)))
        pool = [p for p in pids if p != g.creator]
        rng.shuffle(pool)
        members = pool[: rng.randrange(size_target // 2, size_target + 1)]
        t = g.created_at
        end = SEIZURE - timedelta(days=3)
        for i, p in enumerate(members):
            t = t + timedelta(minutes=rng.randrange(1, 60 * 24 * 6))
            if t >= end:
                break
            current = g.members_at(t)
            if i < 3 or rng.random() < 0.45:  # added by an admin who is a member
                admins = [a for a in g.admins if g.is_member(a, t)] or [g.creator]
                actor = rng.choice(sorted(admins))
                ev_n += 1
                g.events.append(Ev(f"E{ev_n:07d}", g.gid, "added", t, actor, p))
                g.via.setdefault(p, []).append(None)
            else:
                ev_n += 1
                code = g.code_at(t)
                g.events.append(Ev(f"E{ev_n:07d}", g.gid, "joined_link", t, p, p, code))
                g.via.setdefault(p, []).append(code)
            g.intervals.setdefault(p, []).append([t, None])
            if i == 2 and current:  # the creator promotes an early member
                t2 = t + timedelta(hours=rng.randrange(1, 48))
                ev_n += 1
                g.events.append(Ev(f"E{ev_n:07d}", g.gid, "promoted", t2, g.creator, p))
                g.admins.add(p)
            if rng.random() < 0.08:
                t2 = t + timedelta(hours=rng.randrange(1, 72))
                ev_n += 1
                new = g.subjects[-1][1].split(" (")[0] + f" ({rng.choice(['new', 'v2', 'backup', 'main'])})"
                actor = g.creator if g.is_member(g.creator, t2) else p
                old = [s for ts, s in sorted(g.subjects) if ts <= t2][-1]
                g.events.append(Ev(f"E{ev_n:07d}", g.gid, "subject", t2, actor, None, new, old))
                g.subjects.append((t2, new))
            if rng.random() < 0.05 and g.platform == "whatsapp":
                t2 = t + timedelta(hours=rng.randrange(1, 72))
                g.codes.append((t2, _code(rng)))
                ev_n += 1
                g.events.append(Ev(f"E{ev_n:07d}", g.gid, "invite_link_reset", t2, g.creator, None))
        # departures: some members leave or are removed, a few of them come back
        for p in sorted(g.intervals):
            if p == g.creator or rng.random() > 0.18:
                continue
            f, _ = g.intervals[p][-1]
            assert f is not None
            t_out = _t(rng, f + timedelta(days=1), SEIZURE - timedelta(days=2))
            if t_out <= f:
                continue
            g.intervals[p][-1][1] = t_out
            ev_n += 1
            if rng.random() < 0.5:
                g.events.append(Ev(f"E{ev_n:07d}", g.gid, "left", t_out, p, p))
            else:
                g.events.append(Ev(f"E{ev_n:07d}", g.gid, "removed", t_out, g.creator, p))
            if rng.random() < 0.3:
                t_back = t_out + timedelta(days=rng.randrange(1, 20))
                if t_back < SEIZURE - timedelta(days=1):
                    ev_n += 1
                    g.events.append(Ev(f"E{ev_n:07d}", g.gid, "added", t_back, g.creator, p))
                    g.intervals[p].append([t_back, None])
                    g.via[p].append(None)
        g.events.sort(key=lambda e: (e.at, e.key))


def _simulate_messages(world: World, rng: random.Random) -> None:
    sc = world.scale
    gids = sorted(world.groups)
    weights = [len(world.groups[g].intervals) for g in gids]
    fam_next = 0
    fam_count: dict[int, int] = {}
    shared: list[str] = []  # media already shared somewhere: candidates for forwarding
    n = 0
    for _ in range(sc.messages):
        g = world.groups[rng.choices(gids, weights)[0]]
        t = _t(rng, g.created_at + timedelta(minutes=5), SEIZURE - timedelta(hours=1))
        members = g.members_at(t)
        if not members:
            continue
        n += 1
        sender = rng.choice(members)
        mid = None
        forwarded = False
        text: str | None = rng.choice(CHATTER)
        if rng.random() < sc.media_rate:
            text = None if rng.random() < 0.6 else text
            if shared and rng.random() < 0.35:  # forward an item already circulating
                mid = rng.choice(shared)
                forwarded = True
            else:
                fam = fam_next % sc.base_images
                fam_next += 1
                transform = None if not fam_count.get(fam) else rng.choice(
                    ["recompress", "resize", "crop", "rotate90", "flip"])
                fam_count[fam] = fam_count.get(fam, 0) + 1
                mid = f"M{len(world.media) + 1:06d}"
                world.media[mid] = MediaItem(mid, fam, transform, rng.randrange(10**9), fam in world.known_families)
                shared.append(mid)
        elif rng.random() < 0.01:
            other = world.groups[rng.choice(gids)]
            if other.platform == "whatsapp" and other.code_at(t):
                text = f"new place: https://chat.whatsapp.com/{other.code_at(t)}"
        key = _msg_key(rng, g.platform, n)
        g.messages.append(Msg(key, g.gid, sender, t, text, mid, forwarded))
    # admins post the group's own invite link in the group whenever it changes, so members can invite others
    for g in world.groups.values():
        if g.platform != "whatsapp":
            continue
        for t, code in g.codes:
            at = t + timedelta(minutes=rng.randrange(5, 600))
            admins = [a for a in sorted(g.admins) if g.is_member(a, at)]
            if admins and at < SEIZURE:
                n += 1
                g.messages.append(Msg(_msg_key(rng, g.platform, n), g.gid, rng.choice(admins), at,
                                      f"invite your friends: https://chat.whatsapp.com/{code}", None, False))
    for g in world.groups.values():
        g.messages.sort(key=lambda m: (m.at, m.key))
    # forwards must come after the first share of the item: drop the ones that would precede it
    first: dict[str, datetime] = {}
    for g in world.groups.values():
        for m in g.messages:
            if m.media and not m.forwarded:
                first[m.media] = min(first.get(m.media, m.at), m.at)
    for g in world.groups.values():
        g.messages = [m for m in g.messages if not (m.media and m.forwarded and m.at <= first.get(m.media, m.at))]
        if g.platform == "telegram":  # Telegram numbers service and ordinary messages in one sequence per chat
            items: list[Msg | Ev] = sorted([*g.events, *g.messages], key=lambda x: (x.at, x.key))
            for i, it in enumerate(items, start=1):
                it.key = str(i)


def _msg_key(rng: random.Random, platform: str, n: int) -> str:
    if platform == "telegram":
        return str(n)
    return "3EB0" + "".join(rng.choice("0123456789ABCDEF") for _ in range(16))


FORMATS = [
    ("whatsapp_android", "current"),
    ("whatsapp_export", "android"),
    ("whatsapp_ios", ""),
    ("whatsapp_android", "legacy"),
    ("whatsapp_export", "ios"),
    ("whatsapp_android", "mixed"),
]


def _choose_devices(world: World, rng: random.Random) -> None:
    sc = world.scale
    wa_members = sorted({p for g in world.groups.values() if g.platform == "whatsapp" for p in g.intervals})
    tg_members = sorted({p for g in world.groups.values() if g.platform == "telegram" for p in g.intervals})
    # seize the phones of group creators first (the investigation's priority), then active members
    creators = sorted({g.creator for g in world.groups.values() if g.platform == "whatsapp"})
    order = creators + [p for p in rng.sample(wa_members, len(wa_members)) if p not in creators]
    n_tg = max(1, sc.devices // 10) if tg_members else 0
    n_media = 1
    n_wa = sc.devices - n_tg - n_media
    devices: list[Device] = []
    for i, pid in enumerate(order[:n_wa]):
        fmt, variant = FORMATS[i % len(FORMATS)]
        devices.append(_device(world, rng, len(devices), pid, fmt, variant))
    for pid in rng.sample(tg_members, min(n_tg, len(tg_members))):
        devices.append(_device(world, rng, len(devices), pid, "telegram_export", "full"))
    for pid in rng.sample(wa_members, n_media):
        devices.append(_device(world, rng, len(devices), pid, "media_folder", ""))
    world.devices = devices


def _device(world: World, rng: random.Random, i: int, pid: str, fmt: str, variant: str) -> Device:
    p = world.persons[pid]
    lang, tz = COUNTRIES[p.country]
    # phones were set up at different times: each sees only part of the history
    window_from = START + timedelta(days=rng.choice([0, 0, 30, 60, 90]))
    return Device(f"D{i + 1:03d}", f"EX-{i + 1:03d}", pid, fmt, variant, window_from,
                  SEIZURE + timedelta(hours=i), p.country, lang if lang in "es pt it de fr en" else "en", tz,
                  lid_mapped=(i % 3 != 1))


# ---- device views -------------------------------------------------------------------------------------------


def device_view(world: World, dev: Device) -> DeviceView:
    owner = dev.owner
    platform = "telegram" if dev.fmt == "telegram_export" else "whatsapp"
    # a stable seed per device (hash() of a str changes per process; same seed must mean same bytes)
    contacts_rng = random.Random(zlib.crc32(f"{world.seed}:{dev.did}".encode()))
    view = DeviceView(owner=world.person(owner), platform=platform, timezone=dev.timezone, locale=dev.locale,
                      variant=dev.variant, lid_mapped=dev.lid_mapped, owner_recorded=dev.owner_recorded)
    seen_people: set[str] = set()
    names: dict[str, int] = {}
    for g in world.groups.values():
        if g.platform != platform or owner not in g.intervals:
            continue
        lo = dev.window_from
        hi = dev.seized_at

        def visible(at: datetime, g: Grp = g, lo: datetime = lo, hi: datetime = hi) -> bool:
            return lo <= at < hi and g.is_member(owner, at)

        events = []
        for e in g.events:
            # the owner sees events while a member, plus the event that brought them in or out
            if visible(e.at) or (e.target == owner and lo <= e.at < hi) or (e.kind == "created" and e.actor == owner):
                events.append(VEvent(e.key, e.kind, e.at, world.person(e.actor) if e.actor else None,
                                     world.person(e.target) if e.target else None, e.value, e.old,
                                     world.person(e.inviter) if e.inviter else None))
        notices = [VEvent(n.key, n.kind, n.at, world.person(n.actor) if n.actor else None, None, n.value)
                   for n in g.notices if visible(n.at)]
        msgs = []
        for m in g.messages:
            if not visible(m.at):
                continue
            media = None
            if m.media:
                item = world.media[m.media]
                present = contacts_rng.random() > 0.1  # some files were never downloaded or were deleted
                media = VMedia(_media_name(m, item, names), item.data(), present=present)
            msgs.append(VMessage(m.key, world.person(m.sender), m.at, m.text, media, m.forwarded,
                                 in_wal=(m.at > hi - timedelta(days=2))))
            seen_people.add(m.sender)
        if not events and not msgs:
            continue
        at = min(hi, SEIZURE)
        current = [(world.person(p), "superadmin" if p == g.creator else ("admin" if p in g.admins else "member"))
                   for p in g.members_at(at)]
        past = [(world.person(p), iv[-1][1]) for p, iv in g.intervals.items()
                if not g.is_member(p, at) and iv[-1][1] is not None and iv[-1][1] >= lo]
        subject = [s for t, s in g.subjects if t <= at][-1]
        vg = VGroup(platform=platform, key=g.key, subject=subject, created_at=g.created_at,
                    creator=world.person(g.creator), participants=current, past=past, events=events,
                    messages=msgs, invite_code=g.code_at(at) if owner in g.admins and g.is_member(owner, at) else None,
                    notices=notices)
        view.groups.append(vg)
        seen_people.update(g.members_at(at))
    for c in dev.calls:
        if dev.window_from <= c.at < dev.seized_at:
            view.calls.append(VCall(c.key, world.person(c.peer), c.from_me, c.at, c.video, c.duration, c.result,
                                    world.groups[c.group].key if c.group else None,
                                    tuple((world.person(p), r) for p, r in c.participants)))
    for oc in dev.other_chats:
        posts = [VPost(m.key, world.person(m.sender) if m.sender else None, m.at, m.text or "")
                 for m in oc.messages if dev.window_from <= m.at < dev.seized_at]
        if posts:
            view.others.append(VChat(oc.jid, oc.kind, posts))
    # the owner saved a few of the people they met as contacts (names differ from push names), and on Telegram
    # the members they know who never post
    saved = sorted(seen_people - {owner})[:: max(1, len(seen_people) // 4 or 1)]
    if platform == "telegram":
        saved = sorted(set(saved) | {p for g in world.groups.values() if owner in g.intervals for p in g.lurkers}
                       - {owner})
    for p in saved:
        vp = world.person(p)
        view.contacts.append((vp, vp.name.split()[0] + " " + contacts_rng.choice(["work", "gym", "N", "x"])))
    return view


def _media_name(m: Msg, item: MediaItem, counters: dict[str, int]) -> str:
    """The name the app gives a received image: WhatsApp numbers them per day on each phone."""
    if m.key.isdigit():  # Telegram Desktop export naming
        return f"photo_{m.key}@{m.at:%d-%m-%Y_%H-%M-%S}.jpg"
    day = f"{m.at:%Y%m%d}"
    counters[day] = counters.get(day, -1) + 1
    return f"IMG-{day}-WA{counters[day]:04d}.jpg"


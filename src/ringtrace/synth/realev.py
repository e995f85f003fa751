"""The classes of real evidence (issue 13) added to a synthetic world, each with a seeded, deterministic share:

* notices in WhatsApp chats (encryption, security-code change, deleted, waiting, missed call, disappearing
  messages): rows a database keeps among the messages that are never messages from a person;
* chats whose JID is not a person's number (``status@broadcast``, a broadcast list, a newsletter, WhatsApp's
  own ``0@s.whatsapp.net``) on the phones with a database;
* phones whose extraction names no owner (no preferences file, no ``--owner``): the owner is left to be
  inferred from the database, and only where the database holds the trace (the owner created a group);
* a call log on the Android (msgstore.db call_log) and iOS (CallHistory.sqlite) phones: 1:1 calls with people
  the owner shares a group with (voice and video, incoming and outgoing, connected, unanswered and missed) and a
  group call with its participants;
* Telegram admins known only by conduct: promoted admins remove members, pin messages and own invite links
  (the inviter of a link join is the link's owner), and post their own link in the group.

``world.build_world`` calls ``add_classes`` with a random stream of its own, so the rest of the world (and the
ground truth it had before) stays as it was.
"""

from __future__ import annotations

import random
import string
from datetime import datetime, timedelta

from ringtrace.synth.world_model import SEIZURE, START, Call, Ev, Grp, Msg, OtherChat, World

NOTICE_KINDS = ("security_code", "message_deleted", "message_waiting", "missed_call", "ephemeral_setting")
NOTICES_PER_MESSAGES = 40  # one notice per this many messages of a group (at least one)
OTHER_CHAT_KINDS = ("status", "broadcast_list", "newsletter", "whatsapp_account")
STATUS_TEXT = ["at the beach", "new week", "busy", "☀️", "weekend!"]
NEWSLETTER_TEXT = ["Weekly update", "New features", "Tips and tricks"]


def add_classes(world: World, rng: random.Random) -> None:
    for gid in sorted(world.groups):
        g = world.groups[gid]
        if g.platform == "telegram":
            _telegram_conduct(world, g, rng)
        else:
            _notices(g, rng)
    _other_chats(world, rng)
    _owner_less(world, rng)
    _calls(world, rng)


def admin_since(g: Grp) -> dict[str, datetime]:
    """When each admin became one: the creator at creation, the others at their promotion."""
    out = {g.creator: g.created_at}
    for e in g.events:
        if e.kind == "promoted" and e.target and e.target not in out:
            out[e.target] = e.at
    return out


def _wa_key(rng: random.Random) -> str:
    return "3EB0" + "".join(rng.choice("0123456789ABCDEF") for _ in range(16))


def _t(rng: random.Random, lo: datetime, hi: datetime) -> datetime:
    span = max(1, int((hi - lo).total_seconds()))
    return (lo + timedelta(seconds=rng.randrange(span))).replace(microsecond=0)


def _notices(g: Grp, rng: random.Random) -> None:
    # WhatsApp prints the encryption notice at the top of a new chat: about the chat, no one's act
    g.notices.append(Ev(_wa_key(rng), g.gid, "encryption_notice", g.created_at + timedelta(seconds=1), None, None))
    since = admin_since(g)
    for _ in range(max(1, len(g.messages) // NOTICES_PER_MESSAGES)):
        kind = rng.choice(NOTICE_KINDS)
        at = _t(rng, g.created_at + timedelta(hours=1), SEIZURE - timedelta(days=1))
        members = g.members_at(at)
        if kind == "ephemeral_setting":
            members = [p for p in members if p in since and since[p] <= at]
        if not members:
            continue
        value = {"missed_call": rng.choice(["video", "audio"]), "ephemeral_setting": "604800"}.get(kind)
        g.notices.append(Ev(_wa_key(rng), g.gid, kind, at, rng.choice(members), None, value))
    g.notices.sort(key=lambda e: (e.at, e.key))


def _code(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(16))


def _telegram_conduct(world: World, g: Grp, rng: random.Random) -> None:
    since = admin_since(g)
    admins = sorted(since)

    def acting(at: datetime, but: str | None = None) -> list[str]:
        return [a for a in admins if since[a] <= at and g.is_member(a, at) and a != but]

    # a promoted admin removes some of the members the creator used to remove
    for e in g.events:
        if e.kind == "removed" and e.target and rng.random() < 0.6:
            others = [a for a in acting(e.at, e.target) if a != g.creator]
            if others:
                e.actor = rng.choice(others)
    # every admin makes an invite link of their own; a join through a link names its maker as the inviter
    code_of = {g.creator: g.codes[0][1]}
    for a in admins:
        if a != g.creator:
            code_of[a] = _code(rng)
            g.codes.append((since[a], code_of[a]))
    g.codes.sort()
    g.link_owner = {c: a for a, c in code_of.items()}
    for e in g.events:
        if e.kind != "joined_link" or e.actor is None:
            continue
        owner = rng.choice(acting(e.at, e.actor) or [g.creator])
        e.value, e.inviter = code_of[owner], owner
        for i, (start, _end) in enumerate(g.intervals[e.actor]):
            if start == e.at:
                g.via[e.actor][i] = code_of[owner]
    # an admin adds people who never post: an export prints them only by name, in the "added" line. They are
    # added while a seized phone watches, so that the class is in the evidence.
    outsiders = sorted(set(world.persons) - set(g.intervals))
    for d in (d for d in world.devices if d.fmt == "telegram_export"):
        lo, hi = max(d.window_from, g.created_at + timedelta(days=1)), min(d.seized_at, SEIZURE) - timedelta(days=1)
        for _ in range(2):
            if lo >= hi:
                break
            at = _t(rng, lo, hi)
            who = acting(at) if g.is_member(d.owner, at) else []
            if not who or not outsiders:
                continue
            p = outsiders.pop(rng.randrange(len(outsiders)))
            g.events.append(Ev(f"L{g.gid}{p}", g.gid, "added", at, rng.choice(who), p))
            g.intervals[p], g.via[p] = [[at, None]], [None]
            g.lurkers.add(p)
    # pins by admins (conduct, but not decisive: a group may let members pin)
    n = 0
    for _ in range(1 + rng.randrange(3)):
        at = _t(rng, g.created_at + timedelta(days=1), SEIZURE - timedelta(days=2))
        who = acting(at)
        if who:
            n += 1
            g.events.append(Ev(f"P{g.gid}{n:04d}", g.gid, "other", at, rng.choice(who), None, "pin_message"))
    # each admin posts their own link once, so members can invite others, and again after removing someone
    posts = [(a, _t(rng, since[a] + timedelta(hours=1), SEIZURE - timedelta(days=1))) for a in admins]
    posts += [(e.actor, e.at + timedelta(minutes=rng.randrange(5, 600))) for e in g.events
              if e.kind == "removed" and e.actor in code_of and e.actor != e.target]
    for a, at in posts:
        if g.is_member(a, at) and at < SEIZURE:
            g.messages.append(Msg("0", g.gid, a, at, f"invite your friends: https://t.me/+{code_of[a]}", None,
                                  False))
    g.events.sort(key=lambda e: (e.at, e.key))
    g.messages.sort(key=lambda m: (m.at, m.key))
    # Telegram numbers service and ordinary messages in one sequence per chat
    items: list[Msg | Ev] = sorted([*g.events, *g.messages], key=lambda x: (x.at, x.key))
    for i, it in enumerate(items, start=1):
        it.key = str(i)


def _other_chats(world: World, rng: random.Random) -> None:
    """Each phone with a database gets two of the four kinds of chat that are not a person's number, in turn,
    so that every kind occurs on some phone."""
    turn = 0
    for dev in world.devices:
        if dev.fmt not in ("whatsapp_android", "whatsapp_ios"):
            continue
        kinds = [OTHER_CHAT_KINDS[turn % 4], OTHER_CHAT_KINDS[(turn + 1) % 4]]
        turn += 1
        contacts = sorted({p for g in world.groups.values() if g.platform == "whatsapp" and dev.owner in g.intervals
                           for p in g.intervals} - {dev.owner})
        lo = max(dev.window_from, START + timedelta(days=1))
        hi = SEIZURE - timedelta(hours=2)
        for kind in kinds:
            if kind == "status" and contacts:
                chat = OtherChat("status@broadcast", "broadcast")
                for _ in range(2 + rng.randrange(3)):
                    chat.messages.append(Msg(_wa_key(rng), "", rng.choice(contacts), _t(rng, lo, hi),
                                             rng.choice(STATUS_TEXT), None, False))
            elif kind == "broadcast_list":
                chat = OtherChat(f"{int(_t(rng, lo, hi).timestamp())}@broadcast", "broadcast")
                for _ in range(1 + rng.randrange(3)):
                    chat.messages.append(Msg(_wa_key(rng), "", dev.owner, _t(rng, lo, hi), "see you all soon",
                                             None, False))
            elif kind == "newsletter":
                chat = OtherChat(f"120363{rng.randrange(10**11, 10**12)}@newsletter", "channel")
                for _ in range(1 + rng.randrange(3)):
                    chat.messages.append(Msg(_wa_key(rng), "", "", _t(rng, lo, hi), rng.choice(NEWSLETTER_TEXT),
                                             None, False))
            else:  # WhatsApp's own account writes to every new user; its JID is no phone number
                chat = OtherChat("0@s.whatsapp.net", "direct")
                chat.messages.append(Msg(_wa_key(rng), "", "", _t(rng, lo, hi), "Welcome to WhatsApp", None,
                                         False))
            chat.messages.sort(key=lambda m: (m.at, m.key))
            dev.other_chats.append(chat)


def _owner_less(world: World, rng: random.Random) -> None:
    """One phone of each database format (Android, iOS) whose owner created a group loses its preferences
    file: the group the owner created is the trace the database keeps (the creator of a group whose creation
    row is the owner's own)."""
    for fmt in ("whatsapp_android", "whatsapp_ios"):
        cands = []
        for dev in world.devices:
            if dev.fmt != fmt:
                continue
            made = sorted(g.key for g in world.groups.values() if g.platform == "whatsapp" and g.creator == dev.owner)
            if made:
                cands.append((dev, made[0]))
        if cands:
            dev, key = rng.choice(cands)
            dev.owner_recorded, dev.owner_trace = False, f"created group {key}"


def _calls(world: World, rng: random.Random) -> None:
    for dev in world.devices:
        if dev.fmt not in ("whatsapp_android", "whatsapp_ios") or dev.variant == "legacy":
            continue  # the legacy tables this generator writes have no call log
        lo, hi = max(dev.window_from, START + timedelta(days=30)), min(dev.seized_at, SEIZURE) - timedelta(days=1)
        groups = [g for g in sorted(world.groups.values(), key=lambda g: g.gid)
                  if g.platform == "whatsapp" and dev.owner in g.intervals]
        for i in range(4):
            at = _t(rng, lo, hi)
            mine = [g for g in groups if g.is_member(dev.owner, at)]
            peers = sorted({p for g in mine for p in g.members_at(at)} - {dev.owner})
            if not peers:
                continue
            out, video = rng.random() < 0.5, rng.random() < 0.4
            result = rng.choice([5, 5, 2])
            if i < 2:  # every log holds a missed incoming call and a connected outgoing one
                out, result = i == 1, 5 if i == 1 else 2
            duration = rng.randrange(20, 900) if result == 5 else 0
            key = "".join(rng.choice("0123456789ABCDEF") for _ in range(32))
            if i == 3 and mine:  # a group call: the caller rings the members, each answers or not
                g = rng.choice(mine)
                others = [p for p in g.members_at(at) if p != dev.owner]
                rung = rng.sample(others, min(3, len(others)))
                if not rung:
                    continue
                parts = [(p, rng.choice([5, 2])) for p in rung]  # the owner rings the group
                dev.calls.append(Call(key, rung[0], True, at, video, duration, result, g.gid, parts))
            else:
                dev.calls.append(Call(key, rng.choice(peers), out, at, video, duration, result))
        dev.calls.sort(key=lambda c: (c.at, c.key))

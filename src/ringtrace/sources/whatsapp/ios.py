"""WhatsApp for iOS: ``ChatStorage.sqlite`` (Core Data) in the
AppDomainGroup-group.net.whatsapp.WhatsApp.shared folder, with media under ``Message/Media/...`` beside it.

Tables/columns as IPED's ExtractorIOS (sepinf-inc/IPED) and SwiftWABackupAPI read them: ZWAMESSAGE
(ZMESSAGETYPE, ZGROUPEVENTTYPE, ZISFROMME, ZFROMJID, ZSTANZAID, ZMESSAGEDATE, ZTEXT, ZGROUPMEMBER,
ZMEDIAITEM, ZCHATSESSION), ZWACHATSESSION (ZCONTACTJID, ZPARTNERNAME), ZWAGROUPINFO (ZCREATIONDATE,
ZCREATORJID), ZWAGROUPMEMBER (ZMEMBERJID, ZISADMIN, ZISACTIVE, ZCONTACTNAME), ZWAMEDIAITEM (ZMEDIALOCALPATH,
ZVCARDNAME = base64 SHA-256 of the file, ZFILESIZE), ZWAPROFILEPUSHNAME (ZJID, ZPUSHNAME).
Times are Core Data seconds since 2001-01-01 UTC. Group events are rows with ZMESSAGETYPE = 6 only:
ZGROUPEVENTTYPE is also set on ordinary messages and means nothing there.
"""

from __future__ import annotations

import json
import plistlib
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ringtrace.model import (
    AccountKey,
    ChatKind,
    ChatRef,
    EventKind,
    Group,
    GroupEvent,
    MediaRef,
    NameSeen,
    Participant,
    Problem,
    Prov,
    ReadOptions,
    Record,
    new_account,
    new_media_ref,
    new_message,
    new_prov,
)
from ringtrace.sources._helpers.sqlite_generated import generated_column_problems
from ringtrace.sources._helpers.sqlite_util import batches, col_or_null, open_readonly_copy, table_columns
from ringtrace.sources.base import Candidate, FormatError, SourceFormat, Unit, register
from ringtrace.sources.whatsapp import codes
from ringtrace.sources.whatsapp.android import (
    BATCH,
    TARGET_KINDS,
    MediaResolver,
    b64_to_hex,
    chat_ref_for,
    close_copy,
    jid_account,
    other_chat_ref,
)
from ringtrace.sources.whatsapp.device_reader import DeviceReader, OwnerRule, message_sender

APPLE_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)
OWNER_PLIST = "group.net.whatsapp.WhatsApp.shared.plist"
CALL_DB = "CallHistory.sqlite"  # WhatsApp's call log, beside ChatStorage.sqlite in the app group folder
PLIST_MAX_BYTES = 4 * 1024 * 1024
REQUIRED = {
    "ZWAMESSAGE": {"ZCHATSESSION", "ZMESSAGETYPE", "ZMESSAGEDATE", "ZISFROMME"},
    "ZWACHATSESSION": {"ZCONTACTJID"},
}
SELF_KINDS = {"left", "joined", "joined_link"}  # one person both acts and is affected
# group-event kinds whose ZGROUPMEMBER is the one who acted: on an own (ZISFROMME 1) row, that is the owner
# ZMESSAGETYPE values of system rows that are notices, not messages, and ZMESSAGETYPE 10's notices by
# ZGROUPEVENTTYPE (IPED ExtractorIOS.decodeMessageType: 10/1 missed voice call, 10/2 "messages are now
# encrypted", 10/3 security code changed, 10/4 missed video call, 10/22 missed group video call; 12 an
# undocumented system row; 14 deleted by its sender)
NOTICE_TYPES = frozenset({10, 12, 14})
NOTICE_10 = {
    1: EventKind.MISSED_CALL.value,
    2: EventKind.ENCRYPTION_NOTICE.value,
    3: EventKind.SECURITY_CODE.value,
    4: EventKind.MISSED_CALL.value,
    22: EventKind.MISSED_CALL.value,
}
OWNER_ACT_KINDS = SELF_KINDS | {"subject", "icon", "description", "created"}


#: Core Data seconds within this of 2001 (about 950 years) convert without a range check; ``apple_dt`` takes the rest.
APPLE_SAFE_S = 3e10
_UNSEEN: Any = object()  # a member JID not yet resolved in ``message_rows``


def path_name(p: str) -> str:
    """``Path(p).name`` without building a Path (pathlib drops empty and "." parts: the name is the last other
    part, or "" when there is none); the test compares them on odd paths."""
    name = p.rpartition("/")[2]
    if name and name != ".":
        return name
    parts = [x for x in p.split("/") if x and x != "."]
    return parts[-1] if parts else ""


def apple_dt(v: object) -> datetime | None:
    if not isinstance(v, (int, float, str)):
        return None
    try:
        return APPLE_EPOCH + timedelta(seconds=float(v))
    except (TypeError, ValueError, OverflowError):
        return None


def read_owner_plist(path: Path) -> str | None:
    try:
        if path.stat().st_size > PLIST_MAX_BYTES:
            return None
        data = plistlib.loads(path.read_bytes())
    except (OSError, plistlib.InvalidFileException, ValueError, TypeError):
        return None
    if isinstance(data, dict):
        jid = data.get("OwnJabberID")
        if isinstance(jid, str):
            return jid.split("@", 1)[0]
    return None


@register
class WhatsAppIOS(SourceFormat):
    name = "whatsapp-ios"
    description = "WhatsApp for iOS ChatStorage.sqlite"
    required_tables = REQUIRED

    def claim(self, candidate: Candidate) -> int:
        if not candidate.is_sqlite or not self.has_tables(candidate.sqlite_schema):
            return 0
        return 95 if candidate.name == "ChatStorage.sqlite" else 85

    def members(self, candidate: Candidate, all_relpaths: list[str]) -> list[str]:
        rel = candidate.relpath
        out = [p for p in (rel + "-wal", rel + "-shm") if p in all_relpaths]
        out += [p for p in all_relpaths if p.rsplit("/", 1)[-1] == OWNER_PLIST]
        folder = rel.rsplit("/", 1)[0] + "/" if "/" in rel else ""
        out += [p for p in (folder + CALL_DB + s for s in ("", "-wal", "-shm")) if p in all_relpaths]
        return out

    def read(self, unit: Unit, options: ReadOptions) -> Iterator[Record]:
        with tempfile.TemporaryDirectory(prefix="ringtrace-wai-") as td:
            con = open_readonly_copy(unit.path, Path(td))
            try:
                yield from _IOSReader(unit, options, con, Path(td)).run()
            finally:
                close_copy(con)


class _IOSReader(DeviceReader):
    def __init__(self, unit: Unit, options: ReadOptions, con: sqlite3.Connection, workdir: Path | None = None,
                 ) -> None:
        super().__init__(unit.primary, options)
        self.unit, self.con, self.workdir = unit, con, workdir
        self.schema = table_columns(con)
        self.chats: dict[int, ChatRef] = {}
        self.unknown_reported: set[int] = set()
        self.unknown_notices: set[str] = set()
        self.media = MediaResolver(unit.root, unit.primary, prefixes=("Message", ""), marker="Media")
        #: rows read and not turned into records: reason -> row citations ("table:row"), reported by name
        self.skipped: dict[str, list[str]] = {}
        self.unknown_reported_calls: set[tuple[str, int]] = set()

    def skip(self, reason: str, table: str, row: object) -> None:
        self.skipped.setdefault(reason, []).append(f"{table}:{row}")

    def skipped_problems(self) -> Iterator[Record]:
        for reason, rows in sorted(self.skipped.items()):
            shown = ", ".join(rows[:5]) + (" ..." if len(rows) > 5 else "")
            yield Problem(self.file, f"{len(rows)} row(s) skipped: {reason} ({shown})", None, "warning")

    def run(self) -> Iterator[Record]:
        for t, cols in REQUIRED.items():
            if t not in self.schema:
                raise FormatError(f"{self.file}: table {t!r} is missing: not a WhatsApp ChatStorage")
            if not cols <= self.schema[t]:
                raise FormatError(
                    f"{self.file}: table {t!r} lacks {', '.join(sorted(cols - self.schema[t]))}"
                )
        yield from generated_column_problems(self.con, self.file, ("ZWAMESSAGE", "ZWACHATSESSION"))
        try:
            yield from self.read_owner()
            yield from self.read_chats()
            yield from self.read_members()
            yield from self.read_push_names()
            yield from self.read_messages()
            yield from self.read_calls()
        except sqlite3.DatabaseError as exc:
            yield Problem(self.file, f"database error while reading: {exc}; records before this point kept")
        yield from self.skipped_problems()

    def read_owner(self) -> Iterator[Record]:
        yield from self.recorded_owner((read_owner_plist(self.unit.root / rel), Prov(rel, "OwnJabberID"),
                                        "preferences OwnJabberID")
                                       for rel in self.unit.members if rel.endswith(OWNER_PLIST))
        if self.owner is None:
            yield from self.infer_owner()

    def infer_owner(self) -> Iterator[Record]:
        """The owner from the database itself, used only when neither the preferences plist nor ``--owner``
        names one (an inference ranks below both). Rules, strongest first; the first that names exactly one
        phone number decides, and a rule whose rows disagree decides nothing:

        1. ``own-event member``: ZGROUPMEMBER of the owner's own group-event rows (ZMESSAGETYPE 6,
           ZISFROMME 1) of a kind the member does themself (subject, icon, description, created, left,
           joined): for these rows ZGROUPMEMBER is the actor (as IPED's ExtractorIOS reads them).
        2. ``recipient of received direct messages``: ZTOJID of ZISFROMME 0 rows in 1:1 chats, where the
           version writes it and it is not the peer.
        3. ``member of every group``: the one ZWAGROUPMEMBER JID present in every group chat (two or more),
           that never sent a received (ZISFROMME 0) group message.
        """
        rules: list[OwnerRule] = [
            ("own-event member", self._own_event_members),
            ("recipient of received direct messages", self._direct_recipients),
            ("member of every group", self._member_of_every_group),
        ]
        yield from self.inferred_owner(
            rules,
            "(no OwnJabberID plist, no --owner, no database rule names one): the owner's own messages have no "
            "sender",
        )

    def _own_event_members(self) -> Iterator[tuple[AccountKey, Prov]]:
        s = self.schema
        if not ({"ZGROUPMEMBER"} <= s["ZWAMESSAGE"] and "ZMEMBERJID" in s.get("ZWAGROUPMEMBER", set())):
            return
        gtype = col_or_null(s, "ZWAMESSAGE", "ZGROUPEVENTTYPE", "m")
        for pk, code, jid in self.con.execute(
            f"SELECT m.Z_PK, {gtype}, gm.ZMEMBERJID FROM ZWAMESSAGE m JOIN ZWAGROUPMEMBER gm "
            "ON gm.Z_PK = m.ZGROUPMEMBER WHERE m.ZMESSAGETYPE = 6 AND m.ZISFROMME = 1 ORDER BY m.Z_PK"
        ):
            info = codes.lookup("ios", "ZGROUPEVENTTYPE", code)
            if info.known and info.kind in OWNER_ACT_KINDS:
                key = jid_account(jid)
                if key is not None:
                    yield key, Prov(self.file, "ZWAMESSAGE", str(pk))

    def _direct_recipients(self) -> Iterator[tuple[AccountKey, Prov]]:
        if "ZTOJID" not in self.schema["ZWAMESSAGE"]:
            return
        for pk, to, peer in self.con.execute(
            "SELECT m.Z_PK, m.ZTOJID, c.ZCONTACTJID FROM ZWAMESSAGE m JOIN ZWACHATSESSION c "
            "ON c.Z_PK = m.ZCHATSESSION WHERE m.ZISFROMME = 0 AND m.ZTOJID IS NOT NULL ORDER BY m.Z_PK"
        ):
            if not isinstance(peer, str) or not isinstance(to, str) or to == peer:
                continue
            ref = chat_ref_for(peer)
            key = jid_account(to)
            if ref is not None and ref.kind == ChatKind.DIRECT.value and key is not None:
                yield key, Prov(self.file, "ZWAMESSAGE", str(pk))

    def _member_of_every_group(self) -> Iterator[tuple[AccountKey, Prov]]:
        groups = {pk for pk, jid in self.con.execute("SELECT Z_PK, ZCONTACTJID FROM ZWACHATSESSION")
                  if isinstance(jid, str) and jid.endswith("@g.us")}  # read_chats has not run yet
        cols = self.schema.get("ZWAGROUPMEMBER", set())
        if len(groups) < 2 or not {"ZMEMBERJID", "ZCHATSESSION"} <= cols:
            return
        seen: dict[str, set[int]] = {}
        first: dict[str, int] = {}
        for pk, chat, jid in self.con.execute(
            "SELECT Z_PK, ZCHATSESSION, ZMEMBERJID FROM ZWAGROUPMEMBER ORDER BY Z_PK"
        ):
            if chat in groups and isinstance(jid, str):
                seen.setdefault(jid, set()).add(chat)
                first.setdefault(jid, pk)
        senders: set[str] = set()
        if "ZGROUPMEMBER" in self.schema["ZWAMESSAGE"]:
            senders = {j for (j,) in self.con.execute(
                "SELECT DISTINCT gm.ZMEMBERJID FROM ZWAMESSAGE m JOIN ZWAGROUPMEMBER gm "
                "ON gm.Z_PK = m.ZGROUPMEMBER WHERE m.ZISFROMME = 0 AND m.ZMESSAGETYPE != 6")}
        for jid, chats in seen.items():
            key = jid_account(jid)
            if chats == groups and jid not in senders and key is not None:
                yield key, Prov(self.file, "ZWAGROUPMEMBER", str(first[jid]))

    def read_chats(self) -> Iterator[Record]:
        s = self.schema
        gi = s.get("ZWAGROUPINFO", set())
        created = "gi.ZCREATIONDATE" if "ZCREATIONDATE" in gi else "NULL"
        creator = "gi.ZCREATORJID" if "ZCREATORJID" in gi else "NULL"
        join = "LEFT JOIN ZWAGROUPINFO gi ON gi.ZCHATSESSION = c.Z_PK" if "ZCHATSESSION" in gi else ""
        if not join:
            created = creator = "NULL"
        name = col_or_null(s, "ZWACHATSESSION", "ZPARTNERNAME", "c")
        for pk, jid, partner, cdate, cjid in self.con.execute(
            f"SELECT c.Z_PK, c.ZCONTACTJID, {name}, {created}, {creator} FROM ZWACHATSESSION c {join}"
        ):
            # a JID that is no phone number (WhatsApp's own 0@s.whatsapp.net, business and test accounts) is kept
            # as a JID account, as the Android reader keeps it
            ref = (chat_ref_for(jid) or other_chat_ref(jid)) if isinstance(jid, str) else None
            if ref is None:
                self.skip("chat row without a readable JID", "ZWACHATSESSION", pk)
                continue
            self.chats[pk] = ref
            if ref.kind == ChatKind.GROUP.value:
                prov = Prov(self.file, "ZWACHATSESSION", str(pk))
                ck = jid_account(cjid)
                yield from self.account(ck, prov)
                yield Group(ref, partner, apple_dt(cdate) if cdate is not None else None, ck, prov)

    def read_members(self) -> Iterator[Record]:
        s = self.schema
        cols = s.get("ZWAGROUPMEMBER", set())
        if not {"ZMEMBERJID", "ZCHATSESSION"} <= cols:
            yield Problem(
                self.file, "table 'ZWAGROUPMEMBER' missing or incomplete: no participants", None, "warning"
            )
            return
        adm = col_or_null(s, "ZWAGROUPMEMBER", "ZISADMIN", "g")
        act = col_or_null(s, "ZWAGROUPMEMBER", "ZISACTIVE", "g")
        cname = col_or_null(s, "ZWAGROUPMEMBER", "ZCONTACTNAME", "g")
        for pk, chat, jid, isadmin, active, contact in self.con.execute(
            f"SELECT g.Z_PK, g.ZCHATSESSION, g.ZMEMBERJID, {adm}, {act}, {cname} FROM ZWAGROUPMEMBER g"
        ):
            ref, key = self.chats.get(chat), jid_account(jid)
            if ref is None or key is None:
                self.skip("member row of an unreadable chat or member JID", "ZWAGROUPMEMBER", pk)
                continue
            if ref.kind != ChatKind.GROUP.value:
                continue  # a status or broadcast chat's members are its posters and recipients: no membership
            prov = Prov(self.file, "ZWAGROUPMEMBER", str(pk))
            yield from self.account(key, prov)
            current = active is None or bool(active)
            yield Participant(ref, key, "admin" if isadmin else "member", current, prov)
            if contact:
                yield NameSeen(key, str(contact), "contact_name", prov)

    def read_push_names(self) -> Iterator[Record]:
        if not {"ZJID", "ZPUSHNAME"} <= self.schema.get("ZWAPROFILEPUSHNAME", set()):
            return
        for pk, jid, name in self.con.execute("SELECT Z_PK, ZJID, ZPUSHNAME FROM ZWAPROFILEPUSHNAME"):
            key = jid_account(jid)
            if key and name:
                prov = Prov(self.file, "ZWAPROFILEPUSHNAME", str(pk))
                yield from self.account(key, prov)
                yield NameSeen(key, str(name), "push_name", prov)

    def read_messages(self) -> Iterator[Record]:
        s = self.schema

        def c(col: str) -> str:
            return col_or_null(s, "ZWAMESSAGE", col, "m")

        joins = ""
        member = "NULL"
        if "ZGROUPMEMBER" in s["ZWAMESSAGE"] and "ZMEMBERJID" in s.get("ZWAGROUPMEMBER", set()):
            joins += " LEFT JOIN ZWAGROUPMEMBER gm ON gm.Z_PK = m.ZGROUPMEMBER"
            member = "gm.ZMEMBERJID"
        mi = s.get("ZWAMEDIAITEM", set())
        if "ZMEDIAITEM" in s["ZWAMESSAGE"] and mi:
            joins += " LEFT JOIN ZWAMEDIAITEM mi ON mi.Z_PK = m.ZMEDIAITEM"
            media = ", ".join(
                col_or_null(s, "ZWAMEDIAITEM", x, "mi")
                for x in ("Z_PK", "ZMEDIALOCALPATH", "ZVCARDNAME", "ZFILESIZE", "ZVCARDSTRING", "ZTITLE")
            )
        else:
            media = "NULL, NULL, NULL, NULL, NULL, NULL"
        sql = (
            f"SELECT m.Z_PK, m.ZCHATSESSION, {c('ZSTANZAID')}, m.ZISFROMME, {c('ZFROMJID')}, {member}, "
            f"m.ZMESSAGEDATE, {c('ZTEXT')}, m.ZMESSAGETYPE, {c('ZGROUPEVENTTYPE')}, {media} "
            f"FROM ZWAMESSAGE m{joins} ORDER BY m.Z_PK"
        )
        yield from self.message_rows(sql)

    def message_rows(self, sql: str) -> Iterator[Record]:
        """The rows of the message query (``read_messages``) as records. A hot loop (a phone holds millions of
        rows): a sender is resolved and announced once per member JID (the owner once, a direct chat's peer once
        per chat) instead of a generator per row, a float date (what Core Data writes) is converted inline, a
        message type's text is made once per type, and the records are built by ``model.new_*``. Anything off
        the common path (group events, notices, a date that is not a float) takes the general helpers; the
        records are those the per-row helpers give (``tests/sources/test_whatsapp_ios.py`` compares them)."""
        file, owner, seen, chats_get, resolve = self.file, self.owner, self.seen, self.chats.get, self.media.resolve
        group, direct = ChatKind.GROUP.value, ChatKind.DIRECT.value
        owner_pending = True
        peers_done: set[object] = set()  # chat row ids whose peer is announced
        senders: dict[object, AccountKey | None] = {}  # member JID -> its account, already announced
        senders_get = senders.get
        types: dict[int, str] = {}  # an integer message type -> its text
        no_media: tuple[MediaRef, ...] = ()
        for rows in batches(self.con, sql, BATCH):
            for pk, chat, key, fm, _fromjid, mjid, date, text, mtype, gtype, mpk, lpath, vname, fsize, vstr, title \
                    in rows:
                ref = chats_get(chat)
                if ref is None:
                    self.skip("message of a chat the chat table lacks", "ZWAMESSAGE", pk)
                    continue
                if type(date) is float and -APPLE_SAFE_S < date < APPLE_SAFE_S:
                    at: datetime | None = APPLE_EPOCH + timedelta(seconds=date)
                else:
                    at = apple_dt(date)
                if mtype == 6:
                    if ref.kind == group:
                        yield from self.event(ref, pk, key, fm, mjid, at, text, gtype)
                    else:
                        self.skip("group event row in a chat that is not a group", "ZWAMESSAGE", pk)
                    continue
                prov = new_prov(file, "ZWAMESSAGE", str(pk))
                if mtype in NOTICE_TYPES:
                    yield from self.notice(ref, pk, key, fm, mjid, at, mtype, gtype, prov)
                    continue
                if at is None:
                    yield Problem(file, f"ZWAMESSAGE row {pk}: unreadable date {date!r}; skipped", prov, "warning")
                    continue
                if fm:
                    sender = owner
                    if owner_pending:
                        owner_pending = False
                        if owner is not None and owner not in seen:
                            seen.add(owner)
                            yield new_account(owner, prov)
                elif ref.kind == direct:
                    sender = ref.peer
                    if chat not in peers_done:
                        peers_done.add(chat)
                        if sender is not None and sender not in seen:
                            seen.add(sender)
                            yield new_account(sender, prov)
                else:
                    sender = senders_get(mjid, _UNSEEN)
                    if sender is _UNSEEN:
                        sender = senders[mjid] = jid_account(mjid)
                        if sender is not None and sender not in seen:
                            seen.add(sender)
                            yield new_account(sender, prov)
                mrefs = no_media
                if mpk is not None and (lpath or vname):
                    path = resolve(lpath if isinstance(lpath, str) else None)
                    mime = vstr if isinstance(vstr, str) and "/" in vstr and len(vstr) < 100 else None
                    mrefs = (new_media_ref(path, b64_to_hex(vname), path_name(lpath) if isinstance(lpath, str)
                                           else None, fsize if isinstance(fsize, int) else None, mime, path is None),)
                    if text is None and isinstance(title, str):
                        text = title  # a media caption lives in ZWAMEDIAITEM.ZTITLE
                if type(mtype) is int:
                    raw_type = types.get(mtype)
                    if raw_type is None:
                        raw_type = types[mtype] = str(mtype)
                else:
                    raw_type = str(mtype)
                # (True if x else False) is bool(x) without the call
                yield new_message(ref, key, sender, at, text, prov, mrefs, False, True if fm else False, raw_type)

    def call_db(self) -> list[str]:
        """Where the call log is: the member named CallHistory.sqlite beside ChatStorage."""
        return [m for m in self.unit.members if m.rsplit("/", 1)[-1] == CALL_DB]

    def read_calls(self) -> Iterator[Record]:
        """WhatsApp's call log (``CallHistory.sqlite`` beside ChatStorage, as iLEAPP's whatsappCallHistory reads
        it): ZWACDCALLEVENT (ZDATE, ZDURATION, ZOUTCOME, ZCALLIDSTRING, ZGROUPJIDSTRING, Z1CALLEVENTS), its
        participants in ZWACDCALLEVENTPARTICIPANT (ZJIDSTRING, Z1PARTICIPANTS = the call event) and the direction
        and medium in ZWAAGGREGATECALLEVENT (ZINCOMING, ZVIDEO). Each call is an event, never a message: the
        caller acts, each other participant is a target."""
        rels = self.call_db()
        if not rels or self.workdir is None:
            return
        rel = rels[0]
        try:
            con = open_readonly_copy(self.unit.root / rel, self.workdir / "calls")
        except FormatError as exc:
            yield Problem(rel, f"call history not read: {exc}")
            return
        try:
            s = table_columns(con)
            ev = s.get("ZWACDCALLEVENT", set())
            if not {"Z_PK", "ZDATE"} <= ev:
                yield Problem(rel, "table 'ZWACDCALLEVENT' missing or incomplete: no calls", None, "warning")
                return
            parts: dict[int, list[str]] = {}
            if {"Z1PARTICIPANTS", "ZJIDSTRING"} <= s.get("ZWACDCALLEVENTPARTICIPANT", set()):
                for owner_pk, jid in con.execute(
                        "SELECT Z1PARTICIPANTS, ZJIDSTRING FROM ZWACDCALLEVENTPARTICIPANT ORDER BY Z_PK"):
                    if isinstance(jid, str):
                        parts.setdefault(owner_pk, []).append(jid)
            agg = s.get("ZWAAGGREGATECALLEVENT", set())
            join = ("LEFT JOIN ZWAAGGREGATECALLEVENT a ON a.Z_PK = e.Z1CALLEVENTS"
                    if "Z1CALLEVENTS" in ev and {"Z_PK", "ZINCOMING"} <= agg else "")
            inc = "a.ZINCOMING" if join else "NULL"
            video = col_or_null(s, "ZWAAGGREGATECALLEVENT", "ZVIDEO", "a") if join else "NULL"

            def col(name: str) -> str:
                return col_or_null(s, "ZWACDCALLEVENT", name, "e")

            for pk, date, duration, outcome, call_id, group, creator, incoming, vid in con.execute(
                f"SELECT e.Z_PK, e.ZDATE, {col('ZDURATION')}, {col('ZOUTCOME')}, {col('ZCALLIDSTRING')}, "
                f"{col('ZGROUPJIDSTRING')}, {col('ZGROUPCALLCREATORUSERJIDSTRING')}, {inc}, {video} "
                f"FROM ZWACDCALLEVENT e {join} ORDER BY e.Z_PK"
            ):
                yield from self.call(rel, pk, apple_dt(date), duration, outcome, call_id, group, creator, incoming,
                                     vid, parts.get(pk, []))
        except sqlite3.DatabaseError as exc:
            yield Problem(rel, f"call history database error: {exc}; calls before this point kept")
        finally:
            close_copy(con)

    def call(self, rel: str, pk: object, at: datetime | None, duration: object, outcome: object, call_id: object,
             group: object, creator: object, incoming: object, video: object, jids: list[str]) -> Iterator[Record]:
        prov = Prov(rel, "ZWACDCALLEVENT", str(pk))
        keys = [k for k in (jid_account(j) for j in jids) if k is not None]
        ref = chat_ref_for(group) if isinstance(group, str) and group else None
        if ref is None:
            ref = chat_ref_for(jids[0]) if jids else None
            if ref is None and jids:
                ref = other_chat_ref(jids[0])
        if ref is None:
            self.skip("call without a readable participant or group JID", "ZWACDCALLEVENT", pk)
            return
        if incoming is None:  # no aggregate row: iLEAPP's rule, the group call's creator calls in
            incoming = isinstance(creator, str) and creator in jids
        peer = ref.peer if ref.kind == ChatKind.DIRECT.value else (jid_account(creator) if isinstance(creator, str)
                                                                   else None) or (keys[0] if keys else None)
        caller = peer if incoming else self.owner
        targets: list[AccountKey | None]
        if ref.kind == ChatKind.DIRECT.value:
            targets = [self.owner if incoming else ref.peer]
        else:
            targets = [k for k in keys if k != caller] or [None]
        info = codes.lookup("ios-call", "ZOUTCOME", outcome if isinstance(outcome, int) else None)
        if not info.known and ("ios-call", info.code) not in self.unknown_reported_calls:
            self.unknown_reported_calls.add(("ios-call", info.code))
            yield Problem(self.file, f"unknown code {info.code} in table ZWACDCALLEVENT (ZOUTCOME); kept as a call "
                          f"(code table {codes.version()})", None, "warning")
        kind = info.kind if info.known else EventKind.CALL.value
        if kind == EventKind.MISSED_CALL.value and not incoming:
            kind = EventKind.CALL.value  # a call the owner made that no one answered
        result = info.description.split(" (", 1)[0] if info.known else f"outcome {outcome}"
        what = ["video" if video else "audio", result]
        if isinstance(duration, int | float) and duration > 0:
            what.append(f"{int(duration)} s")
        yield from self.account(caller, prov)
        for t in targets:
            yield from self.account(t, prov)
            yield GroupEvent(ref, kind, at, caller, t, f"ZOUTCOME={outcome}", prov, ", ".join(what),
                             call_id if isinstance(call_id, str) else None)

    def notice(
        self,
        ref: ChatRef,
        pk: int,
        key: str | None,
        fm: object,
        mjid: object,
        at: datetime | None,
        mtype: object,
        gtype: object,
        prov: Prov,
    ) -> Iterator[Record]:
        """A system row that is a notice, not a message (ZMESSAGETYPE 10, 12, 14): a typed event whose
        actor is who the notice is about (the sender of a deleted message, the caller, the peer)."""
        g = gtype if isinstance(gtype, int) else None
        if mtype == 14:
            kind = EventKind.MESSAGE_DELETED.value
        elif mtype == 10 and g in NOTICE_10:
            kind = NOTICE_10[g]
        else:
            kind = EventKind.OTHER.value
            code = f"{mtype}/{g}"
            if code not in self.unknown_notices:
                self.unknown_notices.add(code)
                yield Problem(
                    self.file,
                    f"system row of ZMESSAGETYPE {mtype} with ZGROUPEVENTTYPE {g} has no known meaning; "
                    "kept as an 'other' notice, not as a message",
                    prov,
                    "info",
                )
        actor: AccountKey | None
        if kind == EventKind.ENCRYPTION_NOTICE.value:
            actor = None  # about the chat, not a person
        else:
            actor = message_sender(fm, ref, self.owner, jid_account(mjid if isinstance(mjid, str) else None))
        yield from self.account(actor, prov)
        yield GroupEvent(ref, kind, at, actor, None, f"ZMESSAGETYPE={mtype};ZGROUPEVENTTYPE={g}", prov,
                         None, key)

    def event(
        self,
        ref: ChatRef,
        pk: int,
        key: str | None,
        fm: object,
        mjid: object,
        at: datetime | None,
        text: str | None,
        gtype: object,
    ) -> Iterator[Record]:
        prov = Prov(self.file, "ZWAMESSAGE", str(pk))
        info = codes.lookup("ios", "ZGROUPEVENTTYPE", gtype)  # type: ignore[arg-type]
        if not info.known and info.code not in self.unknown_reported:
            self.unknown_reported.add(info.code)
            yield Problem(
                self.file,
                f"unknown code {info.code} in table ZWAMESSAGE (ZGROUPEVENTTYPE); kept as "
                f"unknown (code table {codes.version()})",
                None,
                "warning",
            )
        member = jid_account(mjid if isinstance(mjid, str) else None)
        actor: AccountKey | None
        target: AccountKey | None = None
        value: str | None = None
        if info.kind in TARGET_KINDS:
            target = member
            if info.kind in SELF_KINDS:
                actor = member
            elif fm:
                actor = self.owner
            else:
                actor = jid_account(text) if isinstance(text, str) else None
        else:
            actor = self.owner if fm else member
            if info.kind in ("subject", "description"):
                value = text
                if info.code == 56 and isinstance(text, str):
                    try:
                        value = str(json.loads(text).get("new_subject"))
                    except (ValueError, AttributeError):
                        value = text
        yield from self.account(actor, prov)
        yield from self.account(target, prov)
        yield GroupEvent(ref, info.kind, at, actor, target, str(gtype), prov, value, key)

"""Render a DeviceView as a WhatsApp-for-iOS backup folder.

    AppDomainGroup-group.net.whatsapp.WhatsApp.shared/ChatStorage.sqlite
    AppDomainGroup-group.net.whatsapp.WhatsApp.shared/Message/Media/<chat jid>/<x>/<y>/<file>
    AppDomainGroup-group.net.whatsapp.WhatsApp.shared/Library/Preferences/group.net.whatsapp.WhatsApp.shared.plist

Core Data tables as read by the public parsers cited in ``ringtrace.sources.whatsapp.ios``. The owner is a
row of ZWAGROUPMEMBER like everybody else; past members have ZISACTIVE = 0. Event rows (ZMESSAGETYPE 6) keep
the affected member in ZGROUPMEMBER and, for add/remove/promote/demote by someone else, the actor's JID in
ZTEXT (IPED: "the member was removed by the ZTEXT user"). Deterministic for a seed.
"""

from __future__ import annotations

import base64
import plistlib
import random
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from ringtrace.sources.whatsapp import codes
from ringtrace.synth.view import DeviceView, VChat, VEvent, VGroup, VMessage, VPerson

ROOT = "AppDomainGroup-group.net.whatsapp.WhatsApp.shared"
APPLE_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)
SELF_KINDS = {"left", "joined", "joined_link"}
TARGET_KINDS = {"added", "removed", "promoted", "demoted", "left", "joined", "joined_link", "number_changed"}

SCHEMA = """
CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER);
CREATE TABLE Z_METADATA (Z_VERSION INTEGER PRIMARY KEY, Z_UUID VARCHAR(255), Z_PLIST BLOB);
CREATE TABLE ZWACHATSESSION (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZARCHIVED INTEGER,
  ZCONTACTABID INTEGER, ZFLAGS INTEGER, ZHIDDEN INTEGER, ZMESSAGECOUNTER INTEGER, ZREMOVED INTEGER,
  ZSESSIONTYPE INTEGER, ZUNREADCOUNT INTEGER, ZGROUPINFO INTEGER, ZLASTMESSAGE INTEGER,
  ZLASTMESSAGEDATE TIMESTAMP, ZCONTACTJID VARCHAR, ZLASTMESSAGETEXT VARCHAR, ZPARTNERNAME VARCHAR);
CREATE TABLE ZWAGROUPINFO (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZSTATE INTEGER,
  ZCHATSESSION INTEGER, ZCREATIONDATE TIMESTAMP, ZSUBJECTTIMESTAMP TIMESTAMP, ZCREATORJID VARCHAR,
  ZOWNERJID VARCHAR, ZSUBJECTOWNERJID VARCHAR, ZPICTUREID VARCHAR, ZPICTUREPATH VARCHAR);
CREATE TABLE ZWAGROUPMEMBER (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCONTACTABID INTEGER,
  ZISACTIVE INTEGER, ZISADMIN INTEGER, ZSENDERKEYSENT INTEGER, ZCHATSESSION INTEGER, ZRECENTGROUPCHAT INTEGER,
  ZCONTACTIDENTIFIER VARCHAR, ZCONTACTNAME VARCHAR, ZFIRSTNAME VARCHAR, ZMEMBERJID VARCHAR);
CREATE TABLE ZWAGROUPMEMBERSCHANGE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
  ZCHATSESSION INTEGER, ZDATE TIMESTAMP, ZCHANGETYPE INTEGER, ZMEMBERJID VARCHAR);
CREATE TABLE ZWAMEDIAITEM (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCLOUDSTATUS INTEGER,
  ZFILESIZE INTEGER, ZMEDIAORIGIN INTEGER, ZMOVIEDURATION INTEGER, ZMESSAGE INTEGER, ZLATITUDE FLOAT,
  ZLONGITUDE FLOAT, ZMEDIAURLDATE TIMESTAMP, ZAUTHORNAME VARCHAR, ZCOLLECTIONNAME VARCHAR,
  ZMEDIALOCALPATH VARCHAR, ZMEDIAURL VARCHAR, ZTHUMBNAILLOCALPATH VARCHAR, ZTITLE VARCHAR,
  ZVCARDNAME VARCHAR, ZVCARDSTRING VARCHAR,
  ZXMPPTHUMBPATH VARCHAR, ZMEDIAKEY BLOB, ZMETADATA BLOB);
CREATE TABLE ZWAMESSAGE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCHILDMESSAGESDELIVEREDCOUNT
  INTEGER, ZDOCID INTEGER, ZENCRETRYCOUNT INTEGER, ZFILTEREDRECIPIENTCOUNT INTEGER, ZFLAGS INTEGER,
  ZGROUPEVENTTYPE INTEGER, ZISFROMME INTEGER, ZMESSAGEERRORSTATUS INTEGER, ZMESSAGESTATUS INTEGER,
  ZMESSAGETYPE INTEGER, ZSORT INTEGER, ZSPOTLIGHTSTATUS INTEGER, ZSTARRED INTEGER, ZCHATSESSION INTEGER,
  ZGROUPMEMBER INTEGER, ZLASTSESSION INTEGER, ZMEDIAITEM INTEGER, ZMESSAGEINFO INTEGER,
  ZPARENTMESSAGE INTEGER,
  ZMESSAGEDATE TIMESTAMP, ZSENTDATE TIMESTAMP, ZFROMJID VARCHAR, ZMEDIASECTIONID VARCHAR, ZPHASH VARCHAR,
  ZPUSHNAME VARCHAR, ZSTANZAID VARCHAR, ZTEXT VARCHAR, ZTOJID VARCHAR);
CREATE TABLE ZWAPROFILEPUSHNAME (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZJID VARCHAR,
  ZPUSHNAME VARCHAR);
"""

IOS_TYPE = {None: 0, "image": 1, "video": 2}
CALL_SCHEMA = """
CREATE TABLE ZWAAGGREGATECALLEVENT (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZFIRSTDATE TIMESTAMP,
  ZINCOMING INTEGER, ZMISSED INTEGER, ZVIDEO INTEGER);
CREATE TABLE ZWACDCALLEVENT (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, Z1CALLEVENTS INTEGER,
  ZDATE TIMESTAMP, ZDURATION FLOAT, ZOUTCOME INTEGER, ZCALLIDSTRING VARCHAR, ZGROUPJIDSTRING VARCHAR,
  ZGROUPCALLCREATORUSERJIDSTRING VARCHAR);
CREATE TABLE ZWACDCALLEVENTPARTICIPANT (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
  Z1PARTICIPANTS INTEGER, ZJIDSTRING VARCHAR);
"""
# notices as (ZMESSAGETYPE, ZGROUPEVENTTYPE), as IPED ExtractorIOS.decodeMessageType reads them (the reader's
# NOTICE_10); no public source names an iOS row for "Waiting for this message" or disappearing-message
# settings, so those are not written
NOTICE_ROWS: dict[str, tuple[int, int | None]] = {
    "encryption_notice": (10, 2), "security_code": (10, 3), "message_deleted": (14, None),
    "missed_call audio": (10, 1), "missed_call video": (10, 4),
}
#: notice kinds this writer renders (the ground truth asks the writer)
NOTICE_KINDS = frozenset({"encryption_notice", "security_code", "message_deleted", "missed_call"})


def _ts(dt: datetime) -> float:
    return (dt - APPLE_EPOCH).total_seconds()


class _Writer:
    def __init__(self, view: DeviceView, seed: int) -> None:
        self.view, self.rng, self.owner = view, random.Random(seed), view.owner
        self.members: dict[tuple[int, str], int] = {}
        self.pk = {"msg": 0, "media": 0, "member": 0}

    def member(self, con: sqlite3.Connection, chat: int, p: VPerson, active: int = 1, admin: int = 0) -> int:
        k = (chat, p.jid)
        if k not in self.members:
            self.pk["member"] += 1
            pk = self.pk["member"]
            con.execute(
                "INSERT INTO ZWAGROUPMEMBER (Z_PK, Z_ENT, Z_OPT, ZISACTIVE, ZISADMIN, ZCHATSESSION, "
                "ZCONTACTNAME, ZFIRSTNAME, ZMEMBERJID) VALUES (?,8,1,?,?,?,?,?,?)",
                (pk, active, admin, chat, self.book.get(p.phone), p.name.split()[0], p.jid),
            )
            self.members[k] = pk
        return self.members[k]

    def write(self, out: Path) -> list[Path]:
        base = out / ROOT
        base.mkdir(parents=True, exist_ok=True)
        db = base / "ChatStorage.sqlite"
        db.unlink(missing_ok=True)
        written = [db]
        self.book = {p.phone: n for p, n in self.view.contacts}
        con = sqlite3.connect(db)
        con.executescript(SCHEMA)
        chat_pk = 0
        for g in self.view.groups:
            chat_pk += 1
            self.group(con, chat_pk, g, base, written)
        for d in self.view.directs:
            chat_pk += 1
            con.execute(
                "INSERT INTO ZWACHATSESSION (Z_PK, Z_ENT, Z_OPT, ZSESSIONTYPE, ZCONTACTJID, ZPARTNERNAME) "
                "VALUES (?,4,1,0,?,?)",
                (chat_pk, d.peer.jid, self.book.get(d.peer.phone, d.peer.name)),
            )
            for m in d.messages:
                self.message(con, chat_pk, d.peer.jid, m, None, base, written)
        for chat in self.view.others:
            chat_pk += 1
            self.other(con, chat_pk, chat)
        people = {p.phone: p for g in self.view.groups for p, _ in g.participants + g.past}
        for i, phone in enumerate(sorted(people), 1):
            con.execute(
                "INSERT INTO ZWAPROFILEPUSHNAME (Z_PK, Z_ENT, Z_OPT, ZJID, ZPUSHNAME) VALUES (?,12,1,?,?)",
                (i, people[phone].jid, people[phone].name),
            )
        con.commit()
        con.close()
        if self.view.calls:
            written.append(self.write_calls(base / "CallHistory.sqlite"))
        if not self.view.owner_recorded:
            return written
        prefs = base / "Library/Preferences/group.net.whatsapp.WhatsApp.shared.plist"
        prefs.parent.mkdir(parents=True, exist_ok=True)
        prefs.write_bytes(
            plistlib.dumps(
                {"OwnJabberID": self.owner.jid, "FullUserName": self.owner.name}, fmt=plistlib.FMT_BINARY
            )
        )
        written.append(prefs)
        return written

    def write_calls(self, path: Path) -> Path:
        """CallHistory.sqlite as iLEAPP reads it: a call event per call (ZOUTCOME 0 ended, 1 missed / not
        answered), its participants, and the aggregate row that says incoming and video."""
        path.unlink(missing_ok=True)
        con = sqlite3.connect(path)
        con.executescript(CALL_SCHEMA)
        n = 0
        for i, c in enumerate(self.view.calls, 1):
            con.execute("INSERT INTO ZWAAGGREGATECALLEVENT (Z_PK, Z_ENT, Z_OPT, ZFIRSTDATE, ZINCOMING, ZMISSED, "
                        "ZVIDEO) VALUES (?,1,1,?,?,?,?)",
                        (i, _ts(c.at), int(not c.from_me), int(c.result != 5), int(c.video)))
            creator = c.peer.jid if not c.from_me else self.owner.jid
            con.execute(
                "INSERT INTO ZWACDCALLEVENT (Z_PK, Z_ENT, Z_OPT, Z1CALLEVENTS, ZDATE, ZDURATION, ZOUTCOME, "
                "ZCALLIDSTRING, ZGROUPJIDSTRING, ZGROUPCALLCREATORUSERJIDSTRING) VALUES (?,2,1,?,?,?,?,?,?,?)",
                (i, i, _ts(c.at), float(c.duration), 0 if c.result == 5 else 1, c.key, c.group_key, creator),
            )
            for p in [p for p, _ in c.participants] or [c.peer]:
                n += 1
                con.execute("INSERT INTO ZWACDCALLEVENTPARTICIPANT (Z_PK, Z_ENT, Z_OPT, Z1PARTICIPANTS, ZJIDSTRING) "
                            "VALUES (?,3,1,?,?)", (n, i, p.jid))
        con.commit()
        con.close()
        return path

    def other(self, con: sqlite3.Connection, pk: int, chat: VChat) -> None:
        """A chat whose JID is no person's number; a status post names its poster through ZGROUPMEMBER."""
        con.execute(
            "INSERT INTO ZWACHATSESSION (Z_PK, Z_ENT, Z_OPT, ZSESSIONTYPE, ZCONTACTJID) VALUES (?,4,1,?,?)",
            (pk, {"broadcast": 2, "channel": 5}.get(chat.kind, 0), chat.jid),
        )
        for p in chat.posts:
            from_me = 1 if p.sender == self.owner else 0
            member = self.member(con, pk, p.sender) if p.sender is not None and not from_me and chat.kind != "direct" \
                else None
            self.pk["msg"] += 1
            con.execute(
                "INSERT INTO ZWAMESSAGE (Z_PK, Z_ENT, Z_OPT, ZISFROMME, ZMESSAGETYPE, ZCHATSESSION, ZGROUPMEMBER, "
                "ZMESSAGEDATE, ZFROMJID, ZSTANZAID, ZTEXT) VALUES (?,9,1,?,0,?,?,?,?,?,?)",
                (self.pk["msg"], from_me, pk, member, _ts(p.at), None if from_me else chat.jid, p.key, p.text),
            )

    def notice(self, con: sqlite3.Connection, chat: int, g: VGroup, n: VEvent) -> None:
        key = f"{n.kind} {n.value}" if n.kind == "missed_call" else n.kind
        if key not in NOTICE_ROWS:
            return
        mtype, gtype = NOTICE_ROWS[key]
        from_me = 1 if n.actor == self.owner and n.kind != "encryption_notice" else 0
        member = self.member(con, chat, n.actor, 1) if n.actor is not None and not from_me else None
        self.pk["msg"] += 1
        con.execute(
            "INSERT INTO ZWAMESSAGE (Z_PK, Z_ENT, Z_OPT, ZISFROMME, ZMESSAGETYPE, ZGROUPEVENTTYPE, ZCHATSESSION, "
            "ZGROUPMEMBER, ZMESSAGEDATE, ZFROMJID, ZSTANZAID) VALUES (?,9,1,?,?,?,?,?,?,?,?)",
            (self.pk["msg"], from_me, mtype, gtype, chat, member, _ts(n.at), g.key, n.key),
        )

    def group(self, con: sqlite3.Connection, pk: int, g: VGroup, base: Path, written: list[Path]) -> None:
        con.execute(
            "INSERT INTO ZWACHATSESSION (Z_PK, Z_ENT, Z_OPT, ZSESSIONTYPE, ZGROUPINFO, ZCONTACTJID, "
            "ZPARTNERNAME) VALUES (?,4,1,1,?,?,?)",
            (pk, pk, g.key, g.subject),
        )
        con.execute(
            "INSERT INTO ZWAGROUPINFO (Z_PK, Z_ENT, Z_OPT, ZCHATSESSION, ZCREATIONDATE, ZCREATORJID, "
            "ZOWNERJID) VALUES (?,6,1,?,?,?,?)",
            (pk, pk, _ts(g.created_at), g.creator.jid, g.creator.jid),
        )
        for p, role in g.participants:
            self.member(con, pk, p, 1, 1 if role in ("admin", "superadmin") else 0)
        for p, _ in g.past:
            self.member(con, pk, p, 0, 0)
        items: list[tuple[datetime, int, VEvent | VMessage]] = [(e.at, 0, e) for e in g.events]
        items += [(m.at, 1, m) for m in g.messages]
        items += [(n.at, 2, n) for n in g.notices]
        for _, order, it in sorted(items, key=lambda t: (t[0], t[1])):
            if isinstance(it, VEvent) and order == 2:
                self.notice(con, pk, g, it)
            elif isinstance(it, VEvent):
                self.event(con, pk, g, it)
            else:
                self.message(con, pk, g.key, it, g, base, written)

    def event(self, con: sqlite3.Connection, chat: int, g: VGroup, e: VEvent) -> None:
        code = codes.code_for("ios", "ZGROUPEVENTTYPE", e.kind)
        if code is None:
            # no public source documents an iOS code for this event (e.g. invite link reset): a real
            # ChatStorage would show it under a code we cannot name, so the synthetic one leaves it out
            return
        from_me = 1 if e.actor == self.owner else 0
        if e.kind in TARGET_KINDS:
            who = e.target or e.actor
            text = None if (from_me or e.kind in SELF_KINDS or e.actor is None) else e.actor.jid
        else:
            who = e.actor
            text = e.value
        member = self.member(con, chat, who, 0) if who is not None else None
        self.pk["msg"] += 1
        con.execute(
            "INSERT INTO ZWAMESSAGE (Z_PK, Z_ENT, Z_OPT, ZISFROMME, ZMESSAGETYPE, ZGROUPEVENTTYPE, "
            "ZCHATSESSION, ZGROUPMEMBER, ZMESSAGEDATE, ZFROMJID, ZSTANZAID, ZTEXT) VALUES "
            "(?,9,1,?,6,?,?,?,?,?,?,?)",
            (self.pk["msg"], from_me, code, chat, member, _ts(e.at), g.key, e.key, text),
        )

    def message(
        self,
        con: sqlite3.Connection,
        chat: int,
        chat_jid: str,
        m: VMessage,
        g: VGroup | None,
        base: Path,
        written: list[Path],
    ) -> None:
        from_me = 1 if m.sender == self.owner else 0
        member = self.member(con, chat, m.sender) if g is not None and not from_me else None
        self.pk["msg"] += 1
        mpk = self.pk["msg"]
        media_pk = None
        if m.media is not None:
            md = m.media
            self.pk["media"] += 1
            media_pk = self.pk["media"]
            rel = f"Media/{chat_jid}/{self.rng.randrange(16):x}/{self.rng.randrange(16):x}/{md.filename}"
            con.execute(
                "INSERT INTO ZWAMEDIAITEM (Z_PK, Z_ENT, Z_OPT, ZFILESIZE, ZMESSAGE, ZMEDIALOCALPATH, "
                "ZVCARDNAME, ZVCARDSTRING, ZTITLE, ZMEDIAKEY) VALUES (?,7,1,?,?,?,?,?,?,?)",
                (
                    media_pk,
                    md.size,
                    mpk,
                    rel,
                    base64.b64encode(bytes.fromhex(md.sha256)).decode(),
                    md.mime,
                    m.text,
                    self.rng.randbytes(32),
                ),
            )
            if md.present:
                dst = base / "Message" / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_bytes(md.data)
                written.append(dst)
        mtype = IOS_TYPE.get(m.media.kind if m.media else None, 1)
        con.execute(
            "INSERT INTO ZWAMESSAGE (Z_PK, Z_ENT, Z_OPT, ZISFROMME, ZMESSAGETYPE, ZGROUPEVENTTYPE, "
            "ZMESSAGESTATUS, ZCHATSESSION, ZGROUPMEMBER, ZMEDIAITEM, ZMESSAGEDATE, ZSENTDATE, ZFROMJID, "
            "ZTOJID, ZSTANZAID, ZTEXT, ZPUSHNAME) VALUES (?,9,1,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                mpk,
                from_me,
                mtype,
                self.rng.choice((0, 2)),
                8 if from_me else 0,
                chat,
                member,
                media_pk,
                _ts(m.at),
                _ts(m.at),
                None if from_me else chat_jid,
                chat_jid if from_me else None,
                m.key,
                None if m.media else m.text,
                None if from_me else m.sender.name,
            ),
        )


def write(view: DeviceView, out: Path, seed: int) -> list[Path]:
    """Write ``view`` as an iOS WhatsApp backup folder under ``out``; returns the files written."""
    return _Writer(view, seed).write(out)

"""Render a DeviceView as a WhatsApp-for-Android extraction tree.

Layout (as physical/file-system extractions lay it out)::

    data/data/com.whatsapp/databases/msgstore.db (+ -wal holding the rows flagged in_wal)
    data/data/com.whatsapp/databases/wa.db
    data/data/com.whatsapp/shared_prefs/com.whatsapp_preferences_light.xml   (owner's number)
    sdcard/WhatsApp/Media/WhatsApp Images/IMG-...jpg                          (present media only)

``view.variant``: ``legacy`` (messages/chat_list/group_participants), ``current`` (message/jid/chat ...),
``mixed`` (a 2021-22 migration database: both, overlapping). Tables and columns follow the public sources
cited in ``ringtrace.sources.whatsapp.android``; codes come from ``whatsapp_codes.tsv``. The owner is never
written to the participant tables. Deterministic for a seed.
"""

from __future__ import annotations

import base64
import random
import shutil
import sqlite3
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

import phonenumbers

from ringtrace.sources.whatsapp import codes
from ringtrace.synth.formats.sqlite_wal import fix_salts
from ringtrace.synth.view import DeviceView, VCall, VChat, VEvent, VGroup, VMedia, VMessage, VPerson

#: notice kinds written as a row of the message table (the code table's message_type / media_wa_type)
MESSAGE_ROW_NOTICES = codes.MESSAGE_ROW_NOTICES

DB_DIR = "data/data/com.whatsapp/databases"
PREFS = "data/data/com.whatsapp/shared_prefs/com.whatsapp_preferences_light.xml"
MEDIA_ROOT = "sdcard/WhatsApp"

CURRENT_SCHEMA = """
CREATE TABLE props (_id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE, value TEXT);
CREATE TABLE jid (_id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, server TEXT NOT NULL,
  agent INTEGER, device INTEGER, type INTEGER, raw_string TEXT);
CREATE UNIQUE INDEX jid_key_new_index ON jid (user, server, agent, device);
CREATE TABLE chat (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid_row_id INTEGER UNIQUE, hidden INTEGER,
  subject TEXT, created_timestamp INTEGER, display_message_row_id INTEGER, last_message_row_id INTEGER,
  last_read_message_row_id INTEGER, archived INTEGER, sort_timestamp INTEGER, group_type INTEGER);
CREATE TABLE message (_id INTEGER PRIMARY KEY AUTOINCREMENT, chat_row_id INTEGER NOT NULL,
  from_me INTEGER NOT NULL, key_id TEXT NOT NULL, sender_jid_row_id INTEGER, status INTEGER,
  broadcast INTEGER, recipient_count INTEGER, participant_hash TEXT, origination_flags INTEGER,
  origin INTEGER, timestamp INTEGER, received_timestamp INTEGER, receipt_server_timestamp INTEGER,
  message_type INTEGER, text_data TEXT, starred INTEGER, lookup_tables INTEGER,
  message_add_on_flags INTEGER, sort_id INTEGER NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX message_key_index ON message (chat_row_id, from_me, key_id, sender_jid_row_id);
CREATE TABLE message_media (message_row_id INTEGER PRIMARY KEY, chat_row_id INTEGER, transferred INTEGER,
  file_path TEXT, file_size INTEGER, media_key BLOB, width INTEGER, height INTEGER, direct_path TEXT,
  message_url TEXT, mime_type TEXT, file_length INTEGER, media_name TEXT, file_hash TEXT,
  media_duration INTEGER, enc_file_hash TEXT, media_caption TEXT);
CREATE TABLE message_system (message_row_id INTEGER PRIMARY KEY, action_type INTEGER NOT NULL);
CREATE TABLE message_system_chat_participant (message_row_id INTEGER, user_jid_row_id INTEGER);
CREATE TABLE message_system_value_change (message_row_id INTEGER PRIMARY KEY, old_data TEXT);
CREATE TABLE message_system_group (message_row_id INTEGER PRIMARY KEY, is_me_joined INTEGER);
CREATE TABLE group_participant_user (_id INTEGER PRIMARY KEY AUTOINCREMENT, group_jid_row_id INTEGER NOT NULL,
  user_jid_row_id INTEGER NOT NULL, rank INTEGER, pending INTEGER, add_timestamp INTEGER, label TEXT);
CREATE TABLE group_past_participant_user (_id INTEGER PRIMARY KEY AUTOINCREMENT,
  group_jid_row_id INTEGER NOT NULL, user_jid_row_id INTEGER NOT NULL, is_leave INTEGER, timestamp INTEGER);
CREATE TABLE jid_map (lid_row_id INTEGER PRIMARY KEY, jid_row_id INTEGER, sort_id INTEGER);
CREATE TABLE call_log (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid_row_id INTEGER, from_me INTEGER,
  call_id TEXT, transaction_id INTEGER, timestamp INTEGER, video_call INTEGER, duration INTEGER,
  call_result INTEGER, bytes_transferred INTEGER, group_jid_row_id INTEGER NOT NULL DEFAULT 0,
  is_joinable_group_call INTEGER, call_creator_device_jid_row_id INTEGER NOT NULL DEFAULT 0);
CREATE TABLE call_log_participant_v2 (_id INTEGER PRIMARY KEY AUTOINCREMENT, call_log_row_id INTEGER,
  jid_row_id INTEGER, call_result INTEGER);
CREATE UNIQUE INDEX call_log_participant_key_index ON call_log_participant_v2 (call_log_row_id, jid_row_id);
CREATE TABLE receipt_user (_id INTEGER PRIMARY KEY AUTOINCREMENT, message_row_id INTEGER,
  receipt_user_jid_row_id INTEGER, receipt_timestamp INTEGER, read_timestamp INTEGER,
  played_timestamp INTEGER);
"""
FORWARDED_TABLE = (
    "CREATE TABLE message_forwarded (message_row_id INTEGER PRIMARY KEY, forward_score INTEGER);"
)

LEGACY_SCHEMA = """
CREATE TABLE IF NOT EXISTS props (_id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE, value TEXT);
CREATE TABLE messages (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT NOT NULL,
  key_from_me INTEGER, key_id TEXT NOT NULL, status INTEGER, needs_push INTEGER, data TEXT, timestamp INTEGER,
  media_url TEXT, media_mime_type TEXT, media_wa_type TEXT, media_size INTEGER, media_name TEXT,
  media_caption TEXT, media_hash TEXT, media_duration INTEGER, origin INTEGER, latitude REAL, longitude REAL,
  thumb_image TEXT, remote_resource TEXT, received_timestamp INTEGER, send_timestamp INTEGER,
  receipt_server_timestamp INTEGER, receipt_device_timestamp INTEGER, raw_data BLOB, recipient_count INTEGER,
  participant_hash TEXT, starred INTEGER, quoted_row_id INTEGER, mentioned_jids TEXT, multicast_id TEXT,
  edit_version INTEGER, media_enc_hash TEXT, payment_transaction_id TEXT, forwarded INTEGER,
  preview_type INTEGER, send_count INTEGER);
CREATE UNIQUE INDEX messages_key_index ON messages (key_remote_jid, key_from_me, key_id);
CREATE TABLE chat_list (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT UNIQUE,
  message_table_id INTEGER, subject TEXT, creation INTEGER, last_read_message_table_id INTEGER,
  last_read_receipt_sent_message_table_id INTEGER, archived INTEGER, sort_timestamp INTEGER);
CREATE TABLE group_participants (_id INTEGER PRIMARY KEY AUTOINCREMENT, gjid TEXT NOT NULL, jid TEXT NOT NULL,
  admin INTEGER, pending INTEGER, sent_sender_key INTEGER);
"""

WA_DB_SCHEMA = """
CREATE TABLE wa_contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid TEXT NOT NULL, is_whatsapp_user BOOLEAN,
  status TEXT, status_timestamp INTEGER, number TEXT, raw_contact_id INTEGER, display_name TEXT,
  phone_type INTEGER, phone_label TEXT, unseen_msg_count INTEGER, photo_ts INTEGER, thumb_ts INTEGER,
  photo_id_timestamp INTEGER, given_name TEXT, family_name TEXT, wa_name TEXT, sort_name TEXT,
  nickname TEXT, company TEXT, title TEXT);
CREATE TABLE wa_group_admin_settings (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid TEXT UNIQUE,
  restrict_mode BOOLEAN, announcement_group BOOLEAN, creator_jid TEXT);
"""

ROLE_RANK = {"member": 0, "admin": 1, "superadmin": 2}
# notices the legacy table can hold: its code table has no disappearing-message rows (they came later)
LEGACY_NOTICE_KINDS = frozenset({"encryption_notice", "security_code", "message_deleted", "message_waiting",
                                 "missed_call"})
#: notice kinds each variant writes (the ground truth asks the writer)
NOTICE_KINDS = {"legacy": LEGACY_NOTICE_KINDS, "current": None, "mixed": None}  # None: every kind


def _ms(dt: object) -> int:
    return int(dt.timestamp() * 1000)  # type: ignore[attr-defined]


def _b64(media: VMedia) -> str:
    return base64.b64encode(bytes.fromhex(media.sha256)).decode()


def _media_rel(media: VMedia) -> str:
    folder = "WhatsApp Video" if media.kind == "video" else "WhatsApp Images"
    return f"Media/{folder}/{media.filename}"


def _wa_type(media: VMedia | None) -> int:
    if media is None:
        return 0
    return 3 if media.kind == "video" else 1


def _blob(*texts: str) -> bytes:
    """A stand-in for the Java-serialised object legacy rows keep in thumb_image: strings inside a binary."""
    out = b"\xac\xed\x00\x05sr\x00\x1acom.whatsapp.MediaData"
    for t in texts:
        raw = t.encode()
        out += b"t" + len(raw).to_bytes(2, "big") + raw
    return out + b"x"


class _Writer:
    def __init__(self, view: DeviceView, seed: int) -> None:
        self.view = view
        self.rng = random.Random(seed)
        self.variant = view.variant or "current"
        if self.variant not in ("legacy", "current", "mixed"):
            raise ValueError(f"unknown Android WhatsApp variant {self.variant!r}")
        self.jid_rows: dict[str, int] = {}
        self.owner = view.owner

    # identifiers ----------------------------------------------------------------------------------------
    def user_jid(self, p: VPerson) -> str:
        """The JID the current schema uses for a person: their LID when they have one (not for the owner)."""
        if p.lid and p != self.owner and self.variant != "legacy":
            return f"{p.lid}@lid"
        return p.jid

    def jid_row(self, con: sqlite3.Connection, raw: str) -> int:
        if raw not in self.jid_rows:
            user, server = raw.split("@", 1)
            jtype = {"s.whatsapp.net": 0, "g.us": 1, "lid": 17, "broadcast": 5}.get(server, 0)
            cur = con.execute(
                "INSERT INTO jid (user, server, agent, device, type, raw_string) VALUES (?,?,0,0,?,?)",
                (user, server, jtype, raw),
            )
            self.jid_rows[raw] = int(cur.lastrowid or 0)
        return self.jid_rows[raw]

    # current schema -------------------------------------------------------------------------------------
    def write_current(
        self, con: sqlite3.Connection, wal_msgs: list[tuple[int, str, VMessage]], legacy_only: set[str]
    ) -> None:
        con.executescript(CURRENT_SCHEMA)
        if self.variant == "mixed":
            con.executescript(FORWARDED_TABLE)
        self.jid_row(con, self.owner.jid)
        people: set[VPerson] = set()
        for g in self.view.groups:
            people.update(p for p, _ in g.participants)
            people.update(p for p, _ in g.past)
            people.update(m.sender for m in g.messages)
            for e in g.events:
                people.update(x for x in (e.actor, e.target) if x)
        people.update(d.peer for d in self.view.directs)
        for p in sorted(people, key=lambda x: x.phone):
            self.jid_row(con, p.jid)
            if p.lid and p != self.owner:
                self.jid_row(con, f"{p.lid}@lid")
                if self.view.lid_mapped:
                    con.execute(
                        "INSERT OR IGNORE INTO jid_map (lid_row_id, jid_row_id, sort_id) VALUES (?,?,0)",
                        (self.jid_rows[f"{p.lid}@lid"], self.jid_rows[p.jid]),
                    )
        for ci, g in enumerate(self.view.groups):
            self.group_current(con, g, wal_msgs, legacy_only, ci)
        for d in self.view.directs:
            grow = self.jid_row(con, d.peer.jid)
            cid = con.execute(
                "INSERT INTO chat (jid_row_id, hidden, created_timestamp, group_type) VALUES (?,0,?,0)",
                (grow, _ms(d.messages[0].at) if d.messages else 0),
            ).lastrowid
            for m in d.messages:
                self.message_current(con, int(cid or 0), m, None, wal_msgs, legacy_only)
        for chat in self.view.others:
            self.other_current(con, chat)
        for call in self.view.calls:
            self.call_current(con, call)

    def call_current(self, con: sqlite3.Connection, c: VCall) -> None:
        """A call_log row (columns as WhatsApp-Chat-Exporter reads them), participants of a group call in
        call_log_participant_v2."""
        group = self.jid_row(con, c.group_key) if c.group_key else 0
        rid = con.execute(
            "INSERT INTO call_log (jid_row_id, from_me, call_id, transaction_id, timestamp, video_call, duration, "
            "call_result, bytes_transferred, group_jid_row_id, is_joinable_group_call) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (self.jid_row(con, c.peer.jid), int(c.from_me), c.key, self.rng.randrange(10**6), _ms(c.at),
             int(c.video), c.duration, c.result, c.duration * 4000, group, 1 if c.group_key else 0),
        ).lastrowid
        for p, result in c.participants:
            con.execute("INSERT INTO call_log_participant_v2 (call_log_row_id, jid_row_id, call_result) VALUES (?,?,?)",
                        (rid, self.jid_row(con, self.user_jid(p)), result))

    def group_current(
        self,
        con: sqlite3.Connection,
        g: VGroup,
        wal_msgs: list[tuple[int, str, VMessage]],
        legacy_only: set[str],
        ci: int,
    ) -> None:
        grow = self.jid_row(con, g.key)
        cid = int(
            con.execute(
                "INSERT INTO chat (jid_row_id, hidden, subject, created_timestamp, sort_timestamp, "
                "group_type) "
                "VALUES (?,0,?,?,?,0)",
                (grow, g.subject, _ms(g.created_at), _ms(g.created_at)),
            ).lastrowid
            or 0
        )
        for p, role in g.participants:
            if p == self.owner:
                continue  # Android never lists the owner
            con.execute(
                "INSERT INTO group_participant_user (group_jid_row_id, user_jid_row_id, rank, pending) "
                "VALUES (?,?,?,0)",
                (grow, self.jid_row(con, self.user_jid(p)), ROLE_RANK.get(role, 0)),
            )
        for p, when in g.past:
            if p == self.owner:
                continue
            con.execute(
                "INSERT INTO group_past_participant_user (group_jid_row_id, user_jid_row_id, is_leave, "
                "timestamp) VALUES (?,?,1,?)",
                (grow, self.jid_row(con, self.user_jid(p)), _ms(when)),
            )
        items: list[tuple[object, int, VEvent | VMessage]] = [(e.at, 0, e) for e in g.events]
        items += [(m.at, 1, m) for m in g.messages]
        items += [(n.at, 2, n) for n in g.notices]
        items.sort(key=lambda t: (t[0], t[1]))
        for _, order, it in items:
            if isinstance(it, VEvent) and order == 2:
                self.notice_current(con, cid, it, True)
            elif isinstance(it, VEvent):
                self.event_current(con, cid, g, it)
            elif it.key not in legacy_only:
                self.message_current(con, cid, it, g, wal_msgs, legacy_only)

    def event_current(self, con: sqlite3.Connection, cid: int, g: VGroup, e: VEvent) -> None:
        code = codes.code_for("android-current", "action_type", e.kind)
        if code is None:
            raise ValueError(f"no android-current code for event kind {e.kind!r}")
        from_me = 1 if e.actor == self.owner else 0
        sender = None if from_me or e.actor is None else self.jid_row(con, self.user_jid(e.actor))
        text = e.value if e.kind in ("subject", "description") else None
        mid = int(
            con.execute(
                "INSERT INTO message (chat_row_id, from_me, key_id, sender_jid_row_id, status, "
                "origination_flags, timestamp, message_type, text_data, sort_id) "
                "VALUES (?,?,?,?,6,0,?,7,?,0)",
                (cid, from_me, e.key, sender, _ms(e.at), text),
            ).lastrowid
            or 0
        )
        con.execute("UPDATE message SET sort_id=? WHERE _id=?", (mid, mid))
        con.execute("INSERT INTO message_system (message_row_id, action_type) VALUES (?,?)", (mid, code))
        if e.target is not None:
            con.execute(
                "INSERT INTO message_system_chat_participant (message_row_id, user_jid_row_id) VALUES (?,?)",
                (mid, self.jid_row(con, self.user_jid(e.target))),
            )
        if e.kind == "subject":
            con.execute(
                "INSERT INTO message_system_value_change (message_row_id, old_data) VALUES (?,?)",
                (mid, e.old),
            )

    def notice_current(self, con: sqlite3.Connection, cid: int, n: VEvent, is_group: bool) -> None:
        """A notice: a message row of a notice type (missed call, waiting, deleted) or a system row."""
        from_me = 1 if n.actor == self.owner else 0
        sender = None if from_me or n.actor is None or not is_group else self.jid_row(con, self.user_jid(n.actor))
        if n.kind in MESSAGE_ROW_NOTICES:
            mtype = codes.code_for("android-current", "message_type", n.kind)
            action = None
        else:
            mtype, action = 7, codes.code_for("android-current", "action_type", n.kind)
            from_me = 0 if n.kind == "encryption_notice" else from_me
        if mtype is None or (mtype == 7 and action is None):
            raise ValueError(f"no android-current code for notice kind {n.kind!r}")
        mid = int(
            con.execute(
                "INSERT INTO message (chat_row_id, from_me, key_id, sender_jid_row_id, status, origination_flags, "
                "timestamp, message_type, text_data, sort_id) VALUES (?,?,?,?,6,0,?,?,?,0)",
                (cid, from_me, n.key, sender, _ms(n.at), mtype, n.value if n.kind == "missed_call" else None),
            ).lastrowid
            or 0
        )
        con.execute("UPDATE message SET sort_id=? WHERE _id=?", (mid, mid))
        if action is not None:
            con.execute("INSERT INTO message_system (message_row_id, action_type) VALUES (?,?)", (mid, action))

    def other_current(self, con: sqlite3.Connection, chat: VChat) -> None:
        """A chat whose JID is no person's number: status posts name their poster, a newsletter no one."""
        cid = int(
            con.execute(
                "INSERT INTO chat (jid_row_id, hidden, created_timestamp, group_type) VALUES (?,0,?,0)",
                (self.jid_row(con, chat.jid), _ms(chat.posts[0].at)),
            ).lastrowid
            or 0
        )
        for p in chat.posts:
            from_me = 1 if p.sender == self.owner else 0
            sender = None if from_me or p.sender is None or chat.kind == "direct" else self.jid_row(con, p.sender.jid)
            mid = int(
                con.execute(
                    "INSERT INTO message (chat_row_id, from_me, key_id, sender_jid_row_id, status, "
                    "origination_flags, timestamp, received_timestamp, message_type, text_data, sort_id) "
                    "VALUES (?,?,?,?,?,0,?,?,0,?,0)",
                    (cid, from_me, p.key, sender, 13 if from_me else 0, _ms(p.at), _ms(p.at) + 900, p.text),
                ).lastrowid
                or 0
            )
            con.execute("UPDATE message SET sort_id=? WHERE _id=?", (mid, mid))

    def message_current(
        self,
        con: sqlite3.Connection,
        cid: int,
        m: VMessage,
        g: VGroup | None,
        wal_msgs: list[tuple[int, str, VMessage]],
        legacy_only: set[str],
    ) -> None:
        if m.in_wal:
            wal_msgs.append((cid, "group" if g else "direct", m))
            return
        self.insert_message_current(con, cid, m, g is not None)

    def insert_message_current(self, con: sqlite3.Connection, cid: int, m: VMessage, is_group: bool) -> None:
        from_me = 1 if m.sender == self.owner else 0
        sender = None if from_me or not is_group else self.jid_rows.get(self.user_jid(m.sender))
        flags = 1 if (m.forwarded and self.variant == "current") else 0
        mid = int(
            con.execute(
                "INSERT INTO message (chat_row_id, from_me, key_id, sender_jid_row_id, status, "
                "origination_flags, timestamp, received_timestamp, message_type, text_data, sort_id) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,0)",
                (
                    cid,
                    from_me,
                    m.key,
                    sender,
                    13 if from_me else 0,
                    flags,
                    _ms(m.at),
                    _ms(m.at) + 900,
                    _wa_type(m.media),
                    m.text,
                ),
            ).lastrowid
            or 0
        )
        con.execute("UPDATE message SET sort_id=? WHERE _id=?", (mid, mid))
        if m.forwarded and self.variant == "mixed":
            con.execute("INSERT INTO message_forwarded (message_row_id, forward_score) VALUES (?,1)", (mid,))
        if m.media is not None:
            md = m.media
            con.execute(
                "INSERT INTO message_media (message_row_id, chat_row_id, transferred, file_path, file_size, "
                "media_key, width, height, direct_path, mime_type, file_length, media_name, file_hash, "
                "enc_file_hash, media_caption) VALUES (?,?,?,?,?,?,64,64,?,?,?,?,?,?,?)",
                (
                    mid,
                    cid,
                    1 if md.present else 0,
                    _media_rel(md),
                    md.size if md.present else 0,
                    self.rng.randbytes(32),
                    f"/v/t62.7118-24/{self.rng.randrange(10**9)}",
                    md.mime,
                    md.size,
                    md.filename,
                    _b64(md),
                    base64.b64encode(self.rng.randbytes(32)).decode(),
                    m.text,
                ),
            )

    # legacy schema --------------------------------------------------------------------------------------
    def write_legacy(
        self,
        con: sqlite3.Connection,
        keep: set[str] | None,
        wal_msgs: list[tuple[str, VMessage]],
        events_too: bool,
    ) -> None:
        con.executescript(LEGACY_SCHEMA)
        for g in self.view.groups:
            con.execute(
                "INSERT INTO chat_list (key_remote_jid, subject, creation, sort_timestamp) VALUES (?,?,?,?)",
                (g.key, g.subject, _ms(g.created_at), _ms(g.created_at)),
            )
            for p, role in g.participants:
                if p != self.owner:
                    con.execute(
                        "INSERT INTO group_participants (gjid, jid, admin, pending, sent_sender_key) "
                        "VALUES (?,?,?,0,1)",
                        (g.key, p.jid, ROLE_RANK.get(role, 0)),
                    )
            items: list[tuple[object, int, VEvent | VMessage]] = []
            if events_too:
                items += [(e.at, 0, e) for e in g.events]
            items += [(m.at, 1, m) for m in g.messages if keep is None or m.key in keep]
            if keep is None:  # a migration database keeps its notices in the current tables
                items += [(n.at, 2, n) for n in g.notices if n.kind in LEGACY_NOTICE_KINDS]
            items.sort(key=lambda t: (t[0], t[1]))
            for _, order, it in items:
                if isinstance(it, VEvent) and order == 2:
                    self.notice_legacy(con, g.key, it)
                elif isinstance(it, VEvent):
                    self.event_legacy(con, g, it)
                elif it.in_wal and self.variant == "legacy":
                    wal_msgs.append((g.key, it))
                else:
                    self.insert_message_legacy(con, g.key, it, True)
        for d in self.view.directs:
            con.execute(
                "INSERT INTO chat_list (key_remote_jid, creation) VALUES (?,?)",
                (d.peer.jid, _ms(d.messages[0].at) if d.messages else 0),
            )
            for m in d.messages:
                if keep is not None and m.key not in keep:
                    continue
                if m.in_wal and self.variant == "legacy":
                    wal_msgs.append((d.peer.jid, m))
                else:
                    self.insert_message_legacy(con, d.peer.jid, m, False)
        if keep is None:  # a migration database keeps these chats in the current tables
            for chat in self.view.others:
                self.other_legacy(con, chat)

    def notice_legacy(self, con: sqlite3.Connection, chat_jid: str, n: VEvent) -> None:
        """A notice in the legacy table: a row whose media_wa_type is a notice type, or a status=6 row."""
        from_me = 1 if n.actor == self.owner else 0
        res = None if from_me or n.actor is None else n.actor.jid
        wa_type: int | None = 0
        size: int | None = 0
        status = 0
        if n.kind in MESSAGE_ROW_NOTICES:
            wa_type = codes.code_for("android-legacy", "media_wa_type", n.kind)
        else:
            status, size = 6, codes.code_for("android-legacy", "media_size", n.kind)
            from_me, res = (0, None) if n.kind == "encryption_notice" else (from_me, res)
        if wa_type is None or size is None:
            raise ValueError(f"no android-legacy code for notice kind {n.kind!r}")
        con.execute(
            "INSERT INTO messages (key_remote_jid, key_from_me, key_id, status, needs_push, data, timestamp, "
            "media_wa_type, media_size, remote_resource) VALUES (?,?,?,?,0,?,?,?,?,?)",
            (chat_jid, from_me, n.key, status, n.value if n.kind == "missed_call" else None, _ms(n.at),
             str(wa_type), size, res),
        )

    def other_legacy(self, con: sqlite3.Connection, chat: VChat) -> None:
        con.execute("INSERT INTO chat_list (key_remote_jid, creation) VALUES (?,?)", (chat.jid, _ms(chat.posts[0].at)))
        for p in chat.posts:
            from_me = 1 if p.sender == self.owner else 0
            res = None if from_me or p.sender is None or chat.kind == "direct" else p.sender.jid
            con.execute(
                "INSERT INTO messages (key_remote_jid, key_from_me, key_id, status, needs_push, data, timestamp, "
                "media_wa_type, media_size, remote_resource, received_timestamp) VALUES (?,?,?,?,0,?,?,'0',0,?,?)",
                (chat.jid, from_me, p.key, 13 if from_me else 0, p.text, _ms(p.at), res, _ms(p.at) + 900),
            )

    def event_legacy(self, con: sqlite3.Connection, g: VGroup, e: VEvent) -> None:
        code = codes.code_for("android-legacy", "media_size", e.kind)
        if code is None:
            raise ValueError(f"no android-legacy code for event kind {e.kind!r}")
        from_me = 1 if e.actor == self.owner else 0
        actor = None if from_me or e.actor is None else e.actor.jid
        thumb = _blob(e.target.jid) if e.target is not None else None
        con.execute(
            "INSERT INTO messages (key_remote_jid, key_from_me, key_id, status, needs_push, data, timestamp, "
            "media_wa_type, media_size, thumb_image, remote_resource) VALUES (?,?,?,6,0,?,?,'0',?,?,?)",
            (
                g.key,
                from_me,
                e.key,
                e.value if e.kind in ("subject", "description") else None,
                _ms(e.at),
                code,
                thumb,
                actor,
            ),
        )

    def insert_message_legacy(
        self, con: sqlite3.Connection, chat_jid: str, m: VMessage, is_group: bool
    ) -> None:
        from_me = 1 if m.sender == self.owner else 0
        md = m.media
        res = m.sender.jid if is_group and not from_me else None
        con.execute(
            "INSERT INTO messages (key_remote_jid, key_from_me, key_id, status, needs_push, data, timestamp, "
            "media_mime_type, media_wa_type, media_size, media_name, media_caption, media_hash, thumb_image, "
            "remote_resource, received_timestamp, forwarded) VALUES (?,?,?,?,0,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                chat_jid,
                from_me,
                m.key,
                13 if from_me else 0,
                None if md else m.text,
                _ms(m.at),
                md.mime if md else None,
                str(_wa_type(md)),
                md.size if md else 0,
                md.filename if md else None,
                m.text if md else None,
                _b64(md) if md else None,
                _blob(f"/storage/emulated/0/WhatsApp/{_media_rel(md)}") if md else None,
                res,
                _ms(m.at) + 900,
                1 if m.forwarded else 0,
            ),
        )

    # files ----------------------------------------------------------------------------------------------
    def write(self, out: Path) -> list[Path]:
        written: list[Path] = []
        db_dir = out / DB_DIR
        db_dir.mkdir(parents=True, exist_ok=True)
        all_msgs = [m for g in self.view.groups for m in g.messages] + [
            m for d in self.view.directs for m in d.messages
        ]
        with tempfile.TemporaryDirectory(prefix="ringtrace-synth-wa-") as td:
            stage = Path(td) / "msgstore.db"
            con = sqlite3.connect(stage)
            wal_cur: list[tuple[int, str, VMessage]] = []
            wal_leg: list[tuple[str, VMessage]] = []
            if self.variant == "current":
                self.write_current(con, wal_cur, set())
            elif self.variant == "legacy":
                self.write_legacy(con, None, wal_leg, True)
            else:
                # 2021-22 migration: oldest third legacy only, middle third both, newest third current only
                ordered = sorted(all_msgs, key=lambda m: m.at)
                n = len(ordered)
                legacy_only = {m.key for m in ordered[: n // 3] if not m.in_wal}
                keep = {m.key for m in ordered[: (2 * n) // 3] if not m.in_wal}
                self.write_current(con, wal_cur, legacy_only)
                self.write_legacy(con, keep, wal_leg, True)
            con.commit()
            con.close()
            con = sqlite3.connect(stage)
            try:
                if wal_cur or wal_leg:
                    con.execute("PRAGMA journal_mode=WAL")
                    con.execute("PRAGMA wal_autocheckpoint=0")
                    if wal_cur:
                        self.jid_rows = {r: i for i, r in con.execute("SELECT _id, raw_string FROM jid")}
                    for cid, kind, m in wal_cur:
                        self.insert_message_current(con, cid, m, kind == "group")
                    for chat_jid, m in wal_leg:
                        self.insert_message_legacy(con, chat_jid, m, chat_jid.endswith("@g.us"))
                    con.commit()
                # copy while the connection is open: the WAL rows stay only in the -wal file. The -shm index is
                # left out (SQLite rebuilds it from the WAL) and the WAL's random salts are fixed, so the same
                # seed gives the same bytes.
                for suffix in ("", "-wal"):
                    src = stage.with_name(stage.name + suffix)
                    if src.exists():
                        dst = db_dir / src.name
                        shutil.copyfile(src, dst)
                        if suffix == "-wal":
                            fix_salts(dst)
                        written.append(dst)
            finally:
                con.close()
        written.append(self.write_wa_db(db_dir / "wa.db"))
        if self.view.owner_recorded:
            written.append(self.write_prefs(out / PREFS))
        for m in all_msgs:
            if m.media is not None and m.media.present:
                dst = out / MEDIA_ROOT / _media_rel(m.media)
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_bytes(m.media.data)
                written.append(dst)
        return written

    def write_wa_db(self, path: Path) -> Path:
        path.unlink(missing_ok=True)
        con = sqlite3.connect(path)
        con.executescript(WA_DB_SCHEMA)
        book = {p.phone: name for p, name in self.view.contacts}
        people: dict[str, VPerson] = {}
        for g in self.view.groups:
            for p in [p for p, _ in g.participants] + [p for p, _ in g.past] + [m.sender for m in g.messages]:
                people[p.phone] = p
            for e in g.events:
                for x in (e.actor, e.target):
                    if x:
                        people[x.phone] = x
            con.execute(
                "INSERT INTO wa_group_admin_settings (jid, restrict_mode, announcement_group, creator_jid) "
                "VALUES (?,0,0,?)",
                (g.key, g.creator.jid),
            )
        for d in self.view.directs:
            people[d.peer.phone] = d.peer
        for p, _ in self.view.contacts:
            people[p.phone] = p
        people.pop(self.owner.phone, None)
        for phone in sorted(people):
            p = people[phone]
            con.execute(
                "INSERT INTO wa_contacts (jid, is_whatsapp_user, number, display_name, wa_name, status) "
                "VALUES (?,1,?,?,?,?)",
                (p.jid, phone, book.get(phone), p.name, "Hey there!"),
            )
        con.commit()
        con.close()
        return path

    def write_prefs(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        num = phonenumbers.parse(self.owner.phone)
        cc, nat = str(num.country_code), str(num.national_number)
        path.write_text(
            "<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n"
            f'    <string name="registration_jid">{escape(self.owner.digits)}</string>\n'
            f'    <string name="cc">{cc}</string>\n    <string name="ph">{nat}</string>\n'
            f'    <string name="push_name">{escape(self.owner.name)}</string>\n'
            '    <boolean name="registration_success" value="true" />\n</map>\n',
            encoding="utf-8",
        )
        return path


def write(view: DeviceView, out: Path, seed: int) -> list[Path]:
    """Write ``view`` as an Android WhatsApp extraction under ``out``; returns the files written."""
    return _Writer(view, seed).write(out)

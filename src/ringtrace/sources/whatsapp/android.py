"""WhatsApp for Android: ``msgstore.db`` (+ ``-wal``), ``wa.db``, shared_prefs and the media folder.

Three schemas are met in seized phones, told apart by which tables/columns exist (never by app version):

* legacy (to ~2021): one ``messages`` table (key_remote_jid, key_from_me, key_id, remote_resource, status,
  media_wa_type, media_size, timestamp ...), ``chat_list``, ``group_participants``. Group actions are rows
  with status=6 and the action code in ``media_size`` (IPED ExtractorAndroid).
* current (2022-): ``message`` + ``jid`` + ``chat``, ``message_media``, ``message_system`` (action_type),
  ``message_system_chat_participant`` (targets), ``message_system_value_change`` (old subject),
  ``group_participant_user`` (rank), ``group_past_participant_user`` (is_leave, timestamp), ``jid_map``
  (LID -> phone). Queries follow IPED ExtractorAndroidNew (sepinf-inc/IPED) and the app's own SQL strings.
* the 2021-22 migration databases that hold both: the current tables win when they have rows, and legacy
  rows are added only for key_ids the current tables lack.

The owner is never a row of the participant tables on Android (legacy used an empty jid), so the owner's
membership is inferred from from_me messages and events where the owner acted or was the target. With no
shared_prefs and no --owner, the owner's number itself is inferred from the database (``infer_owner_from_db``:
each rule named in the DeviceOwner basis, ranked below --owner).

Notices are events, never messages: message types 10/11/15/64 (missed call, waiting, deleted) and system rows
(encryption, security code, ephemeral settings) in any chat. Every row read and not turned into a record is
counted in a named warning at the end of the read.

Calls (``call_log``, group-call participants in ``call_log_participant_v2``; the older missed-call message rows
with their ``missed_call_logs`` video flag) are typed events (``call``, ``missed_call``) in the chat they belong
to, never messages; their result codes are in the code table (schema android-call).
"""

from __future__ import annotations

import binascii
import os
import re
import sqlite3
import stat
import tempfile
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from ringtrace.model import (
    Account,
    AccountKey,
    AccountLink,
    ChatKind,
    ChatRef,
    EventKind,
    Group,
    GroupEvent,
    MediaRef,
    Message,
    NameSeen,
    Participant,
    Platform,
    Problem,
    Prov,
    ReadOptions,
    Record,
    new_account,
    new_message,
    new_prov,
)
from ringtrace.sources._helpers.sqlite_util import (
    batches,
    col_or_null,
    has_rows,
    open_readonly_copy,
    table_columns,
)
from ringtrace.sources.base import Candidate, FormatError, SourceFormat, Unit, quote_ident, register
from ringtrace.sources.whatsapp import codes
from ringtrace.sources.whatsapp.device_reader import DeviceReader, OwnerRule, message_sender

BATCH = 5000
PREFS_MAX_BYTES = 1024 * 1024
WA = Platform.WHATSAPP.value

LEGACY_TABLES = {"messages": {"key_remote_jid", "key_from_me", "key_id", "timestamp"}}
CURRENT_TABLES = {
    "message": {"chat_row_id", "key_id", "from_me", "timestamp"},
    "jid": {"raw_string"},
    "chat": {"jid_row_id"},
}

#: Every message query selects these, in this order (``_AndroidReader.messages`` unpacks them).
MESSAGE_COLUMNS = (
    "row id", "chat (row id or jid)", "key_id", "from_me", "sender (jid row id or jid)", "timestamp", "text",
    "message type", "forwarded", "media path (or legacy blob)", "media hash", "media size", "mime", "media name",
)


def _current_media_columns(s: dict[str, set[str]]) -> str:
    """The media columns of ``MESSAGE_COLUMNS`` (path, hash, size, mime, name) from ``message_media mm``."""
    mm = s["message_media"]
    size = "mm.file_length" if "file_length" in mm else col_or_null(s, "message_media", "file_size", "mm")
    return ", ".join(
        [
            col_or_null(s, "message_media", "file_path", "mm"),
            col_or_null(s, "message_media", "file_hash", "mm"),
            size,
            col_or_null(s, "message_media", "mime_type", "mm"),
            col_or_null(s, "message_media", "media_name", "mm"),
        ]
    )


def _current_messages_sql(s: dict[str, set[str]], join_media: bool = True) -> str:
    """The current schema's message query. With ``join_media=False`` the five media columns are left out (the
    reader then pairs each message with its ``message_media`` row by merging ``_current_media_sql``, sorted the
    same way, instead of one B-tree lookup per message: a third of the query's cost)."""
    mm = s.get("message_media", set()) if join_media else set()
    m_text = col_or_null(s, "message", "text_data", "m")
    m_sender = col_or_null(s, "message", "sender_jid_row_id", "m")
    m_type = col_or_null(s, "message", "message_type", "m")
    joins = []
    if "message_forwarded" in s:
        fwd = "(mf.message_row_id IS NOT NULL)"
        joins.append("LEFT JOIN message_forwarded mf ON mf.message_row_id = m._id")
    elif "origination_flags" in s["message"]:
        fwd = "(m.origination_flags & 1)"
    else:
        fwd = "0"
    if mm:
        media_cols = ", " + _current_media_columns(s)
        joins.append("LEFT JOIN message_media mm ON mm.message_row_id = m._id")
    else:
        media_cols = ", NULL, NULL, NULL, NULL, NULL" if join_media else ""
    where = "WHERE m._id NOT IN (SELECT message_row_id FROM message_system)" if "message_system" in s else ""
    return (
        f"SELECT m._id, m.chat_row_id, m.key_id, m.from_me, {m_sender}, m.timestamp, {m_text}, {m_type}, "
        f"{fwd}{media_cols} FROM message m {' '.join(joins)} {where} ORDER BY m._id"
    )


def _current_media_sql(s: dict[str, set[str]]) -> str:
    """Every ``message_media`` row: message row id, then the media columns, in message row id order."""
    return f"SELECT mm.message_row_id, {_current_media_columns(s)} FROM message_media mm ORDER BY mm.message_row_id"


def unique_number_key(con: sqlite3.Connection, table: str, col: str) -> bool:
    """Whether ``col`` holds a distinct number on every row of ``table`` (its sole primary key or a whole-table
    unique index, no NULL, no text or blob), so that walking two tables in ``col`` order pairs exactly the rows
    ``JOIN ... ON a.col = b.col`` pairs, one to one. Cheap: PRAGMAs, a MAX and an IS NULL test on the key's
    index (a text or blob anywhere in the column sorts above every number, so MAX finds it)."""
    q = quote_ident
    try:
        info = con.execute(f"PRAGMA table_info({q(table)})").fetchall()
        unique = [r[1] for r in info if r[5]] == [col]
        if not unique:
            for idx in con.execute(f"PRAGMA index_list({q(table)})").fetchall():
                if idx[2] and not idx[4]:  # unique, not partial
                    cols = [r[2] for r in con.execute(f"PRAGMA index_info({q(idx[1])})")]
                    if cols == [col]:
                        unique = True
                        break
        if not unique:
            return False
        kind, has_null = con.execute(
            f"SELECT typeof(max({q(col)})), EXISTS (SELECT 1 FROM {q(table)} WHERE {q(col)} IS NULL) FROM {q(table)}"
        ).fetchone()
    except sqlite3.DatabaseError:
        return False
    return kind in ("integer", "real", "null") and not has_null


def _legacy_messages_sql(s: dict[str, set[str]]) -> str:
    c = s["messages"]

    def col(name: str) -> str:
        return col_or_null(s, "messages", name, "m")

    fwd = "(m.forwarded & 1)" if "forwarded" in c else "0"
    where = "WHERE m.status != 6" if "status" in c else ""
    return (
        f"SELECT m._id, m.key_remote_jid, m.key_id, m.key_from_me, "
        f"{col('remote_resource')}, m.timestamp, "
        f"{col('data')}, {col('media_wa_type')}, {fwd}, {col('thumb_image')}, {col('media_hash')}, "
        f"{col('media_size')}, {col('media_mime_type')}, {col('media_name')} FROM messages m {where} "
        "ORDER BY m._id"
    )


#: Every chat query selects: row id, jid (row id or text), subject, created (ms).
CHAT_COLUMNS = ("row id", "jid (row id or jid)", "subject", "created")


def _current_chats_sql(s: dict[str, set[str]]) -> str | None:
    subj = col_or_null(s, "chat", "subject", "c")
    created = col_or_null(s, "chat", "created_timestamp", "c")
    return f"SELECT c._id, c.jid_row_id, {subj}, {created} FROM chat c"


def _legacy_chats_sql(s: dict[str, set[str]]) -> str | None:
    if "key_remote_jid" not in s.get("chat_list", set()):
        return None
    subj = col_or_null(s, "chat_list", "subject", "c")
    creation = col_or_null(s, "chat_list", "creation", "c")
    return f"SELECT c._id, c.key_remote_jid, {subj}, {creation} FROM chat_list c"


#: Every event query selects these, in this order (``_AndroidReader.event_from_row`` unpacks them).
EVENT_COLUMNS = (
    "row id", "chat (row id or jid)", "key_id", "from_me", "actor (jid row id or jid)", "timestamp", "text",
    "action code", "old subject", "targets blob (legacy)",
)


def _current_events_sql(s: dict[str, set[str]]) -> str | None:
    if "message_system" not in s:
        return None
    text = col_or_null(s, "message", "text_data", "m")
    sender = col_or_null(s, "message", "sender_jid_row_id", "m")
    has_old = "old_data" in s.get("message_system_value_change", set())
    old = "vc.old_data" if has_old else "NULL"
    join_vc = "LEFT JOIN message_system_value_change vc ON vc.message_row_id = m._id" if has_old else ""
    return (
        f"SELECT m._id, m.chat_row_id, m.key_id, m.from_me, {sender}, m.timestamp, {text}, ms.action_type, "
        f"{old}, NULL FROM message_system ms JOIN message m ON m._id = ms.message_row_id {join_vc} "
        "ORDER BY m._id"
    )


def _legacy_events_sql(s: dict[str, set[str]]) -> str | None:
    if not {"status", "media_size"} <= s["messages"]:
        return None
    rr = col_or_null(s, "messages", "remote_resource", "m")
    data = col_or_null(s, "messages", "data", "m")
    thumb = col_or_null(s, "messages", "thumb_image", "m")
    return (
        f"SELECT m._id, m.key_remote_jid, m.key_id, m.key_from_me, {rr}, m.timestamp, {data}, m.media_size, "
        f"NULL, {thumb} FROM messages m WHERE m.status = 6 ORDER BY m._id"
    )


def _current_targets_sql(s: dict[str, set[str]]) -> str | None:
    """Event targets kept in a table of their own: message row id, target (jid row id)."""
    if not {"message_row_id", "user_jid_row_id"} <= s.get("message_system_chat_participant", set()):
        return None
    return "SELECT message_row_id, user_jid_row_id FROM message_system_chat_participant ORDER BY rowid"


#: Every participant query selects: row id, group (jid row id or jid), member (jid row id or jid), rank code
#: (1 admin, 2 superadmin), current (1/0), timestamp (ms). Queries come as (table, sql).
PARTICIPANT_COLUMNS = ("row id", "group", "member", "rank", "current", "timestamp")


def _current_participants_sql(s: dict[str, set[str]]) -> list[tuple[str, str]]:
    out = []
    if "group_participant_user" in s:
        rank = col_or_null(s, "group_participant_user", "rank", "g")
        out.append((
            "group_participant_user",
            f"SELECT g._id, g.group_jid_row_id, g.user_jid_row_id, {rank}, 1, NULL FROM group_participant_user g",
        ))
    if "group_past_participant_user" in s:
        ts = col_or_null(s, "group_past_participant_user", "timestamp", "g")
        out.append((
            "group_past_participant_user",
            f"SELECT g._id, g.group_jid_row_id, g.user_jid_row_id, 0, 0, {ts} FROM group_past_participant_user g",
        ))
    return out


def _legacy_participants_sql(s: dict[str, set[str]]) -> list[tuple[str, str]]:
    if not {"gjid", "jid"} <= s.get("group_participants", set()):
        return []
    admin = col_or_null(s, "group_participants", "admin", "g")
    return [("group_participants", f"SELECT g._id, g.gjid, g.jid, {admin}, 1, NULL FROM group_participants g")]


def _current_own_groups_sql(s: dict[str, set[str]]) -> str:
    """The first from_me message of each chat: chat (row id), message row id."""
    not_system = " AND _id NOT IN (SELECT message_row_id FROM message_system)" if "message_system" in s else ""
    return f"SELECT chat_row_id, MIN(_id) FROM message WHERE from_me = 1{not_system} GROUP BY chat_row_id"


def _legacy_own_groups_sql(s: dict[str, set[str]]) -> str | None:
    if "status" not in s["messages"]:
        return None
    return (
        "SELECT key_remote_jid, MIN(_id) FROM messages WHERE key_from_me = 1 AND status != 6 "
        "AND key_remote_jid LIKE '%@g.us' GROUP BY key_remote_jid"
    )


#: Every call query selects: row id, peer (jid row id), from_me, call id, timestamp (ms), video (1/0), duration
#: (s), result code, group (jid row id, 0 or NULL for a 1:1 call). Its participants query: call row id, member
#: (jid row id), the member's result code. Tables as WhatsApp itself writes and reads them (its own SQL strings
#: "SELECT _id, jid_row_id, call_result FROM call_log_participant_v2 WHERE call_log_row_id = ?") and as
#: WhatsApp-Chat-Exporter's android_handler reads call_log.
CALL_COLUMNS = ("row id", "peer", "from_me", "call id", "timestamp", "video", "duration", "result", "group")


def _current_calls_sql(s: dict[str, set[str]]) -> str | None:
    if not {"_id", "jid_row_id", "from_me", "timestamp"} <= s.get("call_log", set()):
        return None

    def col(name: str) -> str:
        return col_or_null(s, "call_log", name, "c")

    return (
        f"SELECT c._id, c.jid_row_id, c.from_me, {col('call_id')}, c.timestamp, {col('video_call')}, "
        f"{col('duration')}, {col('call_result')}, {col('group_jid_row_id')} FROM call_log c ORDER BY c._id"
    )


def _current_call_participants_sql(s: dict[str, set[str]]) -> str | None:
    if not {"call_log_row_id", "jid_row_id"} <= s.get("call_log_participant_v2", set()):
        return None
    result = col_or_null(s, "call_log_participant_v2", "call_result", "p")
    return (f"SELECT p.call_log_row_id, p.jid_row_id, {result} FROM call_log_participant_v2 p "
            "ORDER BY p.call_log_row_id, p.rowid")


@dataclass(frozen=True)
class SchemaVariant:
    """One msgstore schema, plaso style: the tables and columns that identify it, beside every query the
    reader runs on it. A query builder takes the database's tables and columns and returns the SQL (None
    where the schema lacks what it reads); rows come in the column order of ``*_COLUMNS``, and one method of
    the reader builds each record kind from such a row for every variant. ``by_row_id``: chats and accounts
    are referred to by ``jid``/``chat`` row ids (current) or by JID text (legacy)."""

    name: str  # "current" | "legacy"
    required: dict[str, set[str]]
    message_table: str
    messages_sql: Callable[[dict[str, set[str]]], str]
    chats_sql: Callable[[dict[str, set[str]]], str | None]
    chat_table: str
    events_sql: Callable[[dict[str, set[str]]], str | None]
    event_table: str
    code_schema: str  # the code table's schema name
    code_field: str  # the column that holds the action code
    targets_sql: Callable[[dict[str, set[str]]], str | None]
    participants_sql: Callable[[dict[str, set[str]]], list[tuple[str, str]]]
    own_groups_sql: Callable[[dict[str, set[str]]], str | None]
    by_row_id: bool
    calls_sql: Callable[[dict[str, set[str]]], str | None] = lambda s: None
    call_participants_sql: Callable[[dict[str, set[str]]], str | None] = lambda s: None


SCHEMA_VARIANTS: dict[str, SchemaVariant] = {
    "current": SchemaVariant(
        "current", CURRENT_TABLES, "message", _current_messages_sql, _current_chats_sql, "chat",
        _current_events_sql, "message_system", "android-current", "action_type", _current_targets_sql,
        _current_participants_sql, _current_own_groups_sql, True, _current_calls_sql,
        _current_call_participants_sql,
    ),
    "legacy": SchemaVariant(
        "legacy", LEGACY_TABLES, "messages", _legacy_messages_sql, _legacy_chats_sql, "chat_list",
        _legacy_events_sql, "messages", "android-legacy", "media_size", lambda s: None,
        _legacy_participants_sql, _legacy_own_groups_sql, False,
    ),
}

# Where extractions put the WhatsApp folder that holds "Media/...", relative to some ancestor of the db.
MEDIA_PREFIXES = (
    "",
    "WhatsApp",
    "sdcard/WhatsApp",
    "media/0/WhatsApp",
    "data/media/0/WhatsApp",
    "Android/media/com.whatsapp/WhatsApp",
    "sdcard/Android/media/com.whatsapp/WhatsApp",
    "media/0/Android/media/com.whatsapp/WhatsApp",
    "data/media/0/Android/media/com.whatsapp/WhatsApp",
)
MEDIA_SEARCH_LEVELS = 6
FOLDER_CACHE = 4096  # real paths of media folders kept per unit
FOLDER_DEPTH = 32  # deeper folders take os.path.realpath whole
# Legacy rows keep the file path inside a Java-serialised blob (thumb_image); fish it out as text.
_LEGACY_PATH = re.compile(rb"(?:[\x20-\x7e]*?/)?(Media/[\x20-\x7e]{1,300}?\.[A-Za-z0-9]{2,5})(?![A-Za-z0-9])")
_JID_IN_BLOB = re.compile(rb"(\d{5,20})@(s\.whatsapp\.net|lid)")
# Old group JIDs are "<creator digits>-<unix seconds>@g.us"
_OLD_GROUP_JID = re.compile(r"^(\d{5,20})-(\d{9,11})@g\.us$")

TARGET_KINDS = {"added", "removed", "promoted", "demoted", "left", "joined", "joined_link", "number_changed"}

# Rows of the message tables whose type is a notice, not a message (message.message_type in the current schema,
# messages.media_wa_type in the legacy one; the same numbers in both), from the code table (codes.tsv: missed
# call, "Waiting for this message", deleted by its sender or an admin).
MESSAGE_NOTICES: dict[int, str] = codes.notice_codes("android-current", "message_type")
LEGACY_MESSAGE_NOTICES: dict[int, str] = codes.notice_codes("android-legacy", "media_wa_type")
# Event kinds that make sense in any chat (direct, broadcast, channel), not only in a group.
ANY_CHAT_KINDS = codes.MESSAGE_ROW_NOTICES | {
    EventKind.CALL.value,
    EventKind.ENCRYPTION_NOTICE.value,
    EventKind.EPHEMERAL_SETTING.value,
    EventKind.SECURITY_CODE.value,
    EventKind.NUMBER_CHANGED.value,
    EventKind.OTHER.value,
    EventKind.UNKNOWN.value,
}
# Owner kinds where the one who acts is also the target row (message_system_chat_participant / the legacy blob).
SELF_KINDS = frozenset({"left", "joined", "joined_link"})
JID_MAX = 256
PHONE_DIGITS = (5, 15)  # a user part of a phone JID is a number only with this many digits


def int_code(v: object) -> int | None:
    """A type code stored as INTEGER or (legacy media_wa_type) TEXT."""
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.strip().isdigit():
        return int(v.strip())
    return None


# ---- shared helpers (also used by whatsapp_ios) -----------------------------------------------------------


def jid_account(jid: object) -> AccountKey | None:
    """A user JID -> its AccountKey: phone JIDs to ('whatsapp','phone','+E164'), LIDs to ('whatsapp','lid',
    '<digits>@lid'). Device and agent suffixes ("123:4@s.whatsapp.net", "123.0:1@...") are dropped."""
    if not isinstance(jid, str) or "@" not in jid:  # hostile databases put anything in a text column
        return None
    user, _, server = jid.partition("@")
    user = user.split(":", 1)[0].split(".", 1)[0]
    if not user.isdigit():
        return None
    if server in ("s.whatsapp.net", "c.us"):
        # WhatsApp's own account (0@s.whatsapp.net) and other short ids are no phone number (E.164: 5-15)
        return AccountKey(WA, "phone", "+" + user) if PHONE_DIGITS[0] <= len(user) <= PHONE_DIGITS[1] else None
    if server == "lid":
        return AccountKey(WA, "lid", f"{user}@lid")
    return None


def chat_ref_for(jid: str) -> ChatRef | None:
    if jid.endswith("@g.us"):
        return ChatRef(WA, ChatKind.GROUP.value, jid)
    if jid.endswith("@broadcast"):
        return ChatRef(WA, ChatKind.BROADCAST.value, jid)
    if jid.endswith("@newsletter"):
        return ChatRef(WA, ChatKind.CHANNEL.value, jid)
    acc = jid_account(jid)
    if acc is None:
        return None
    return ChatRef(WA, ChatKind.DIRECT.value, acc.value, peer=acc)


def other_chat_ref(jid: str) -> ChatRef | None:
    """A chat whose JID is not a phone number, group, broadcast list or newsletter (business and test
    accounts with letters, bots, servers this reader does not know): kept as a direct chat with a JID
    account that carries no phone number (identifiers.Jid yields none for a user part that is not digits)."""
    if not jid or len(jid) > JID_MAX or "@" not in jid or jid.startswith("@"):
        return None
    peer = AccountKey(WA, "jid", jid)
    return ChatRef(WA, ChatKind.DIRECT.value, jid, peer=peer)


#: Below this (2106) a millisecond time's datetime is the same by epoch + whole minutes + milliseconds into the
#: minute as by fromtimestamp(ms / 1000) (the float has sub-microsecond precision there; the test compares
#: them); it is built from a cached minute and a table of timedeltas, twice as fast.
EXACT_MS = 2**32 * 1000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS_INTO_MINUTE = [timedelta(milliseconds=i) for i in range(60_000)]
_NOT_DIRECT: Any = object()  # marks a group (or other) chat in ``current_messages``: senders come from the row
_END = float("inf")  # past every row id

#: Millisecond times below this (year 9999) convert without a range check; ``ms_to_dt`` takes the rest.
MAX_MS = 253_402_300_000_000
fromtimestamp = datetime.fromtimestamp


def ms_to_dt(ms: object) -> datetime | None:
    try:
        v = int(ms)  # type: ignore[call-overload]
        if v <= 0:
            return None
        return datetime.fromtimestamp(v / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def ms_at(ts: object, minutes: dict[int, datetime]) -> datetime | None:
    """``ms_to_dt`` of a message's time, from a cached minute (``minutes``, one per read; bounded) and a table of
    milliseconds where that is exact (``EXACT_MS``): the message loops' time, twice as fast."""
    if type(ts) is int and 0 < ts < EXACT_MS:
        base = minutes.get(ts // 60_000)
        if base is None:
            if len(minutes) >= 100_000:
                minutes.clear()
            base = minutes[ts // 60_000] = EPOCH + timedelta(minutes=ts // 60_000)
        return base + MS_INTO_MINUTE[ts % 60_000]
    if type(ts) is int and 0 < ts < MAX_MS:
        return fromtimestamp(ts / 1000, UTC)
    return ms_to_dt(ts)


def b64_to_hex(value: object) -> str | None:
    if value is None:
        return None
    try:  # what base64.b64decode(validate=True) does, without its wrapper (one call per media row)
        raw = binascii.a2b_base64(value if isinstance(value, (bytes, str)) else str(value), strict_mode=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None


def group_from_jid(jid: str) -> tuple[AccountKey | None, datetime | None]:
    """Creator and creation time encoded in an old-style group JID."""
    m = _OLD_GROUP_JID.match(jid)
    if not m:
        return None, None
    return AccountKey(WA, "phone", "+" + m.group(1)), datetime.fromtimestamp(int(m.group(2)), UTC)


def legacy_blob_path(blob: bytes) -> str | None:
    """The media path inside a legacy thumb_image blob (a Java-serialised MediaData). Strings there are
    TC_STRING: b"t" + 2-byte length + bytes, so use the length prefix when it fits; else a text pattern."""
    blob = blob[:65536]
    idx = blob.find(b"Media/")
    if idx < 0:
        return None
    # each b"t" at most 399 bytes before the path, nearest first (rfind, not a byte-by-byte walk)
    lo, hi = max(0, idx - 399), idx - 2
    while hi > lo and (p := blob.rfind(b"t", lo, hi)) >= 0:
        n = int.from_bytes(blob[p + 1 : p + 3], "big")
        end = p + 3 + n
        if end > idx + 6 and end <= len(blob):
            return blob[idx:end].decode("utf-8", "replace")
        hi = p
    m = _LEGACY_PATH.search(blob)
    return m.group(1).decode("ascii", "replace") if m else None


def _blob_jids(blob: object) -> list[AccountKey]:
    """The user JIDs a legacy thumb_image blob names (the targets of a group action row), in order."""
    tgts: list[AccountKey] = []
    if isinstance(blob, str):
        blob = blob.encode("utf-8", "replace")
    if isinstance(blob, bytes):
        for m in _JID_IN_BLOB.finditer(blob[:65536]):
            k = jid_account(m.group(0).decode())
            if k and k not in tgts:
                tgts.append(k)
    return tgts


class MediaResolver:
    """Finds an app-declared media path inside the exhibit (never outside it)."""

    def __init__(
        self, root: Path, db_rel: str, prefixes: tuple[str, ...] = MEDIA_PREFIXES, marker: str = "Media"
    ) -> None:
        self.root = root.resolve()
        self.db_dir = (self.root / db_rel).parent
        self.prefixes = prefixes
        self.marker = marker
        self._bases: list[Path] | None = None
        self._folders: dict[tuple[str, str], str] = {}
        r = str(self.root)
        self._root_dir = r if r.endswith("/") else r + "/"  # what a path inside the exhibit starts with

    def bases(self) -> list[Path]:
        if self._bases is None:
            found: list[Path] = []
            anc = self.db_dir
            for _ in range(MEDIA_SEARCH_LEVELS):
                for pre in self.prefixes:
                    base = anc / pre if pre else anc
                    if (base / self.marker).is_dir() and base not in found:
                        found.append(base)
                if anc == self.root or self.root not in anc.parents:
                    break
                anc = anc.parent
            self._bases = found
        return self._bases

    def resolve(self, declared: str | None) -> str | None:
        if not declared:
            return None
        p = declared.replace("\\", "/")
        idx = p.find(self.marker + "/")
        if idx < 0:
            return None
        bases = self.bases()
        rel = p[idx:]
        if not bases or ".." in rel.split("/"):
            return None
        # pathlib's normal form of ``rel`` (empty and "." parts dropped), split into its folder and its name
        parts = [x for x in rel.split("/") if x and x != "."]
        if not parts:
            return self._resolve_paths(bases, rel)
        folder, name = "/".join(parts[:-1]), parts[-1]
        for base in bases:
            b = str(base)
            cand = f"{b}/{folder}/{name}" if folder else f"{b}/{name}"
            try:
                mode = os.lstat(cand).st_mode  # one call for a plain file: what stat gives when it is no link
                if stat.S_ISREG(mode):  # its real path is its folder's real path (looked up once per folder) and name
                    real = os.path.join(self._real_folder(b, folder), name)
                elif stat.S_ISLNK(mode) and stat.S_ISREG(os.stat(cand).st_mode):
                    real = os.path.realpath(cand)
                else:
                    continue
            except (OSError, ValueError):  # as Path.is_file: unreadable or impossible (NUL) paths are not files
                continue
            if real.startswith(self._root_dir):
                return real[len(self._root_dir):]
        return None

    def _real_folder(self, base: str, folder: str) -> str:
        """``os.path.realpath`` of a folder under a base, cached (a hostile database names at most so many).
        A folder below a known one is its parent's real path and its name unless it is a link itself: one lstat
        for a new folder (realpath walks every part from the file system's root; iOS keeps each file in a
        folder of its own)."""
        key = (base, folder)
        real = self._folders.get(key)
        if real is None:
            if not folder:
                real = os.path.realpath(base)
            elif folder.count("/") >= FOLDER_DEPTH:  # bounds the recursion
                real = os.path.realpath(f"{base}/{folder}")
            else:
                parent, _, last = folder.rpartition("/")
                p = os.path.join(self._real_folder(base, parent), last)
                try:
                    linked = stat.S_ISLNK(os.lstat(p).st_mode)
                except OSError:
                    linked = True  # let realpath say what it is
                real = os.path.realpath(p) if linked else p
            if len(self._folders) < FOLDER_CACHE:
                self._folders[key] = real
        return real

    def _resolve_paths(self, bases: list[Path], rel: str) -> str | None:
        """The same look-up through pathlib, for a declared path with nothing after its marker."""
        for base in bases:
            cand = base / rel
            try:
                if cand.is_file():
                    real = cand.resolve()
                    if real.is_relative_to(self.root):
                        return real.relative_to(self.root).as_posix()
            except OSError:
                continue
        return None


def read_prefs_owner(path: Path) -> str | None:
    """The owner's number from WhatsApp's shared_prefs XML (registration_jid, or cc + ph)."""
    from defusedxml import ElementTree  # defused: evidence XML is hostile

    try:
        if path.stat().st_size > PREFS_MAX_BYTES:
            return None
        root = ElementTree.fromstring(path.read_bytes())
    except (OSError, ElementTree.ParseError, ValueError):
        return None
    vals: dict[str, str] = {}
    for el in root:
        name = el.get("name")
        if name and el.text:
            vals[name] = el.text.strip()
    for key in ("registration_jid", "ph_jid", "self_jid"):
        if key in vals:
            return vals[key].split("@", 1)[0]
    if vals.get("cc") and vals.get("ph"):
        return vals["cc"] + vals["ph"]
    return None


# ---- the format -------------------------------------------------------------------------------------------


@register
class WhatsAppAndroid(SourceFormat):
    name = "whatsapp-android"
    description = "WhatsApp for Android msgstore.db (legacy, current and mixed schemas) with wa.db"

    def claim(self, candidate: Candidate) -> int:
        if not candidate.is_sqlite:
            return 0
        schema = candidate.sqlite_schema
        if any(self.has_tables(schema, v.required) for v in SCHEMA_VARIANTS.values()):
            return 95 if candidate.name.startswith("msgstore") else 85
        return 0

    def members(self, candidate: Candidate, all_relpaths: list[str]) -> list[str]:
        rel = candidate.relpath
        folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
        out = [p for p in (rel + "-wal", rel + "-shm", rel + "-journal") if p in all_relpaths]
        wa = f"{folder}/wa.db" if folder else "wa.db"
        for p in (wa, wa + "-wal", wa + "-shm"):
            if p in all_relpaths:
                out.append(p)
        out.extend(p for p in all_relpaths if _is_prefs(p))
        return out

    def read(self, unit: Unit, options: ReadOptions) -> Iterator[Record]:
        with tempfile.TemporaryDirectory(prefix="ringtrace-wa-") as td:
            con = open_readonly_copy(unit.path, Path(td) / "msgstore")
            try:
                yield from read_message_store(unit, options, con, Path(td))
            finally:
                close_copy(con)


def close_copy(con: sqlite3.Connection) -> None:
    """Close a connection to a private copy (``open_readonly_copy``) without waiting on the disk: closing the last
    connection to a WAL database checkpoints the WAL into the copy and syncs it (a quarter of a second of waiting
    over medium's Android units), for a copy that is deleted next."""
    try:
        con.execute("PRAGMA synchronous=OFF")
    except sqlite3.Error:
        pass  # a damaged copy: close it as it is
    con.close()


def is_message_store(schema: dict[str, set[str]]) -> bool:
    """Whether a database holds WhatsApp Android's message tables (legacy, current or both)."""
    return any(SourceFormat.has_tables(schema, v.required) for v in SCHEMA_VARIANTS.values())


def read_message_store(unit: Unit, options: ReadOptions, con: sqlite3.Connection, workdir: Path) -> Iterator[Record]:
    """Read an already opened message store (a copy, or a decrypted backup) exactly as this format does; records
    cite ``unit.primary``."""
    return _AndroidReader(unit, options, con, workdir).run()


def _is_prefs(relpath: str) -> bool:
    name = relpath.rsplit("/", 1)[-1]
    return "/shared_prefs/" in "/" + relpath and name in (
        "com.whatsapp_preferences_light.xml",
        "com.whatsapp_preferences.xml",
        "com.whatsapp.w4b_preferences_light.xml",
    )


@dataclass
class _Chat:
    ref: ChatRef
    jid: str
    row: str
    table: str
    subject: str | None = None
    created: datetime | None = None


@dataclass
class _Ev:
    chat: _Chat
    kind: str
    raw: str
    at: datetime | None
    actor: AccountKey | None
    targets: list[AccountKey]
    value: str | None
    key: str | None
    prov: Prov
    owner_actor: bool
    owner_targets: bool
    old: str | None = None  # subject before a rename (message_system_value_change.old_data)


@dataclass
class _OwnerEvidence:
    prov: Prov | None = None
    role: str = "member"
    current: bool = True
    at: datetime | None = None
    explicit: set[str] = field(default_factory=set)


class _AndroidReader(DeviceReader):
    def __init__(self, unit: Unit, options: ReadOptions, con: sqlite3.Connection, workdir: Path) -> None:
        super().__init__(unit.primary, options)
        self.unit = unit
        self.con = con
        self.workdir = workdir
        self.schema = table_columns(con)
        self.unknown_reported: set[tuple[str, int]] = set()
        self.jids: dict[int, str] = {}
        self.keys: dict[int, AccountKey | None] = {}
        self.chats_by_id: dict[int, _Chat] = {}
        self.chats_by_jid: dict[str, _Chat] = {}
        self.creators: dict[str, AccountKey] = {}
        self.media = MediaResolver(unit.root, unit.primary)
        self.owner_ev: dict[str, _OwnerEvidence] = {}
        #: rows read and not turned into records: reason -> row citations ("table:row"), reported by name
        self.skipped: dict[str, list[str]] = {}
        self.owner_known = False

    def skip(self, reason: str, table: str | None, row: object) -> None:
        self.skipped.setdefault(reason, []).append(f"{table}:{row}")

    def skipped_problems(self) -> Iterator[Record]:
        for reason, rows in sorted(self.skipped.items()):
            shown = ", ".join(rows[:5]) + (" ..." if len(rows) > 5 else "")
            yield Problem(self.file, f"{len(rows)} row(s) skipped: {reason} ({shown})", None, "warning")

    def prov(self, table: str, row: object) -> Prov:
        return Prov(self.file, table, str(row))

    def key_for(self, jid_row: object) -> AccountKey | None:
        if not isinstance(jid_row, int):
            return None
        if jid_row in self.keys:
            return self.keys[jid_row]
        k = jid_account(self.jids.get(jid_row))
        self.keys[jid_row] = k
        return k

    def unknown(self, schema: str, fld: str, code: int, table: str) -> Iterator[Record]:
        if (table, code) not in self.unknown_reported:
            self.unknown_reported.add((table, code))
            yield Problem(
                self.file,
                f"unknown code {code} in table {table} ({fld}); kept as unknown "
                f"(code table {codes.version()})",
                None,
                "warning",
            )

    # ---- driver ----------------------------------------------------------------------------------------

    def run(self) -> Iterator[Record]:
        s = self.schema
        cur = SourceFormat.has_tables(s, SCHEMA_VARIANTS["current"].required)
        leg = SourceFormat.has_tables(s, SCHEMA_VARIANTS["legacy"].required)
        if not cur and not leg:
            missing = "message/jid/chat" if "messages" not in s else "messages columns"
            raise FormatError(f"{self.file}: not a WhatsApp message store (missing {missing} tables)")
        try:
            cur_rows = cur and has_rows(self.con, "message")
            leg_rows = leg and has_rows(self.con, "messages")
            yield from self.read_owner()
            # current first: its tables win, legacy fills gaps (legacy rows are read only when there are
            # some, or when the current tables are empty)
            present = [SCHEMA_VARIANTS["current"]] if cur else []
            present += [SCHEMA_VARIANTS["legacy"]] if leg else []
            read = [v for v in present if v.name == "current" or leg_rows or not cur_rows]
            if cur:
                self.load_jids()
                yield from self.read_lid_map()
            for v in present:
                self.load_chats(v)
            yield from self.read_wa_db()  # before inference: wa.db names group creators
            if not self.owner_known:
                yield from self.infer_owner_from_db(read)
            events: list[_Ev] = []
            for v in read:
                events += yield from self.events(v, {e.key for e in events if e.key})
            yield from self.emit_groups(events)
            for v in present:
                yield from self.participants(v)
            yield from self.emit_events(events)
            yield from self.infer_owner(events, read)
            seen_keys: set[str] | None = set() if (cur_rows and leg_rows) else None
            for v in read:
                yield from self.messages(v, seen_keys)
            for v in present:
                yield from self.calls(v)
        except sqlite3.DatabaseError as exc:
            # A damaged page met mid-read: keep what was read, say where it stopped.
            yield Problem(self.file, f"database error while reading: {exc}; records before this point kept")
        yield from self.skipped_problems()

    # ---- owner, contacts --------------------------------------------------------------------------------

    def read_owner(self) -> Iterator[Record]:
        paths = [m for m in self.unit.members if _is_prefs(m)]
        if not paths:
            # a unit built by hand: look beside databases/
            db_dir = PurePosixPath(self.unit.primary).parent
            for name in ("com.whatsapp_preferences_light.xml", "com.whatsapp_preferences.xml"):
                rel = (db_dir.parent / "shared_prefs" / name).as_posix()
                if (self.unit.root / rel).is_file():
                    paths.append(rel)
        yield from self.recorded_owner((read_prefs_owner(self.unit.root / rel), Prov(rel, "registration_jid"),
                                        "shared_prefs registration_jid") for rel in paths)
        self.owner_known = self.owner is not None

    def infer_owner_from_db(self, variants: list[SchemaVariant]) -> Iterator[Record]:
        """The owner from the database itself, used only when neither shared_prefs nor ``--owner`` names one
        (an inference ranks below both, and its basis says so). Rules, strongest first; the first that names
        exactly one number decides, and a rule whose rows disagree decides nothing:

        1. ``own self-event target``: the target of the owner's own (from_me 1) group rows of a kind where
           the one who acts is the one affected (left, joined, joined by link): the current schema names
           them in message_system_chat_participant, the legacy one inside thumb_image (IPED ExtractorAndroid
           and ExtractorAndroidNew read the targets from these places).
        2. ``creator digits of own created group``: a group the owner created (from_me 1 'created' row) whose
           JID is the old ``<creator digits>-<unix seconds>@g.us`` form names the creator's number.
        3. ``wa.db creator of own created group``: for such a group with any JID, the creator wa.db records in
           ``wa_group_admin_settings.creator_jid`` (the contacts database beside msgstore.db).
        """
        rules: list[OwnerRule] = [
            ("own self-event target", lambda: self._own_self_targets(variants)),
            ("creator digits of own created group", lambda: self._own_group_creator(variants)),
            ("wa.db creator of own created group", lambda: self._own_group_wa_db_creator(variants)),
        ]
        yield from self.inferred_owner(
            rules,
            "(no shared_prefs registration_jid, no --owner, no database rule names one): owner's own messages "
            "and membership have no account",
            phones_only=True,
        )

    def _own_system_rows(self, variants: list[SchemaVariant]) -> Iterator[tuple[str, _Chat, Prov, list[AccountKey]]]:
        """The owner's own (from_me 1) system rows, read by each variant's event query: kind, chat, where,
        targets."""
        for v in variants:
            sql = v.events_sql(self.schema)
            if sql is None:
                continue
            targets = self.event_targets(v) if v.targets_sql(self.schema) else {}
            for row in self.con.execute(sql):
                mid, chat, _key, fm, _actor, _ts, _txt, code, _old, blob = row
                if not fm:
                    continue
                ch = self.chat_for(v, chat, mid)
                info = codes.lookup(v.code_schema, v.code_field, int_code(code))
                if ch is not None and info.known:
                    tgts = targets.get(mid, []) if v.by_row_id else _blob_jids(blob)
                    yield info.kind, ch, self.prov(v.event_table, mid), tgts

    def _own_self_targets(self, variants: list[SchemaVariant]) -> Iterator[tuple[AccountKey, Prov]]:
        for kind, _ch, prov, tgts in self._own_system_rows(variants):
            if kind in SELF_KINDS and len(tgts) == 1:
                yield tgts[0], prov

    def _own_group_creator(self, variants: list[SchemaVariant]) -> Iterator[tuple[AccountKey, Prov]]:
        for kind, ch, prov, _tgts in self._own_system_rows(variants):
            creator, _ = group_from_jid(ch.jid)
            if kind == EventKind.CREATED.value and creator is not None:
                yield creator, prov

    def _own_group_wa_db_creator(self, variants: list[SchemaVariant]) -> Iterator[tuple[AccountKey, Prov]]:
        for kind, ch, prov, _tgts in self._own_system_rows(variants):
            creator = self.creators.get(ch.jid)
            if kind == EventKind.CREATED.value and creator is not None:
                yield creator, prov

    def load_jids(self) -> None:
        s = self.schema
        user = col_or_null(s, "jid", "user", "j")
        server = col_or_null(s, "jid", "server", "j")
        for rid, raw, u, srv in self.con.execute(f"SELECT j._id, j.raw_string, {user}, {server} FROM jid j"):
            if raw is None and u is not None and srv is not None:
                raw = f"{u}@{srv}"
            if isinstance(raw, str):
                self.jids[rid] = raw

    def read_lid_map(self) -> Iterator[Record]:
        for table in ("jid_map", "lid_jid_map"):
            cols = self.schema.get(table, set())
            if not cols:
                continue
            if not {"lid_row_id", "jid_row_id"} <= cols:
                yield Problem(
                    self.file, f"table {table} has unexpected columns; LIDs left unmapped", None, "warning"
                )
                continue
            for lid_row, jid_row in self.con.execute(f"SELECT lid_row_id, jid_row_id FROM {table}"):
                lid, phone = self.key_for(lid_row), self.key_for(jid_row)
                if lid is None or phone is None or lid.kind != "lid" or phone.kind != "phone":
                    continue
                prov = self.prov(table, lid_row)
                yield from self.account(lid, prov)
                yield from self.account(phone, prov)
                yield AccountLink(lid, phone, "jid_map", prov)

    def add_chat(
        self, jid: str, row: object, table: str, subject: str | None, created: datetime | None
    ) -> _Chat | None:
        ref = chat_ref_for(jid) or other_chat_ref(jid)
        if ref is None:
            self.skip("chat JID unreadable (empty or over 256 characters)", table, row)
            return None
        ch = self.chats_by_jid.get(jid)
        if ch is None:
            ch = _Chat(ref, jid, str(row), table, subject, created)
            self.chats_by_jid[jid] = ch
        else:  # the current tables were read first and win; legacy fills gaps only
            ch.subject = ch.subject or subject
            ch.created = ch.created or created
        return ch

    def load_chats(self, v: SchemaVariant) -> None:
        """The chats a variant's chat table lists (the current tables are read first and win)."""
        sql = v.chats_sql(self.schema)
        if sql is None:
            return
        for cid, jref, subject, cts in self.con.execute(sql):
            jid = self.jids.get(jref) if v.by_row_id else jref
            if not isinstance(jid, str) or not jid:
                self.skip("chat row without a readable JID", v.chat_table, cid)
                continue
            ch = self.add_chat(jid, cid, v.chat_table, subject, ms_to_dt(cts))
            if ch and v.by_row_id:
                self.chats_by_id[cid] = ch

    def chat_for(self, v: SchemaVariant, ref: object, row: object) -> _Chat | None:
        """The chat a row refers to: by chat row id (current) or by JID, met first in the row (legacy)."""
        if v.by_row_id:
            return self.chats_by_id.get(ref) if isinstance(ref, int) else None
        return self.legacy_chat(ref, row)

    def account_for(self, v: SchemaVariant, ref: object) -> AccountKey | None:
        """The account a row refers to: by jid row id (current) or by JID text (legacy)."""
        if v.by_row_id:
            return self.key_for(ref)
        return jid_account(ref) if isinstance(ref, str) else None

    def legacy_chat(self, jid: object, row: object) -> _Chat | None:
        if not isinstance(jid, str):
            return None
        return self.chats_by_jid.get(jid) or self.add_chat(jid, row, "messages", None, None)

    def read_wa_db(self) -> Iterator[Record]:
        folder = PurePosixPath(self.unit.primary).parent
        rel = (folder / "wa.db").as_posix()
        path = self.unit.root / rel
        if not path.is_file():
            return
        try:
            con = open_readonly_copy(path, self.workdir / "wadb")
        except FormatError as exc:
            yield Problem(rel, f"contacts database not read: {exc}")
            return
        try:
            s = table_columns(con)
            if "wa_contacts" in s and "jid" in s["wa_contacts"]:
                dn = col_or_null(s, "wa_contacts", "display_name", "c")
                wn = col_or_null(s, "wa_contacts", "wa_name", "c")
                for rid, jid, display, wa_name in con.execute(
                    f"SELECT c._id, c.jid, {dn}, {wn} FROM wa_contacts c"
                ):
                    key = jid_account(jid)
                    if key is None:
                        continue
                    prov = Prov(rel, "wa_contacts", str(rid))
                    yield from self.account(key, prov)
                    if display:
                        yield NameSeen(key, str(display), "contact_name", prov)
                    if wa_name:
                        yield NameSeen(key, str(wa_name), "push_name", prov)
            else:
                yield Problem(rel, "table 'wa_contacts' is missing: no contact names", None, "warning")
            cols = s.get("wa_group_admin_settings", set())
            if {"jid", "creator_jid"} <= cols:
                for gjid, creator in con.execute("SELECT jid, creator_jid FROM wa_group_admin_settings"):
                    ck = jid_account(creator)
                    if isinstance(gjid, str) and ck:
                        self.creators[gjid] = ck
        except sqlite3.DatabaseError as exc:
            yield Problem(rel, f"contacts database error: {exc}")
        finally:
            close_copy(con)

    # ---- groups and participants -----------------------------------------------------------------------

    def emit_groups(self, events: list[_Ev]) -> Iterator[Record]:
        created_by: dict[str, tuple[AccountKey | None, datetime | None]] = {}
        for e in events:
            if e.kind == EventKind.CREATED.value and e.chat.jid not in created_by:
                created_by[e.chat.jid] = (e.actor, e.at)
        for ch in self.chats_by_jid.values():
            if ch.ref.kind != ChatKind.GROUP.value:
                continue
            jid_creator, jid_created = group_from_jid(ch.jid)
            ev_creator, ev_at = created_by.get(ch.jid, (None, None))
            creator = self.creators.get(ch.jid) or ev_creator or jid_creator
            prov = self.prov(ch.table, ch.row)
            yield from self.account(creator, prov)
            yield Group(ch.ref, ch.subject, ch.created or jid_created or ev_at, creator, prov)

    def _participant(
        self,
        ch: _Chat | None,
        key: AccountKey | None,
        role: str,
        current: bool,
        prov: Prov,
        at: datetime | None,
        done: set[tuple[str, AccountKey, bool]],
    ) -> Iterator[Record]:
        if ch is None or ch.ref.kind != ChatKind.GROUP.value:
            self.skip("participant row of a group the chat tables lack", prov.table, prov.row)
            return
        if key is None:
            self.skip("participant row without a readable member JID", prov.table, prov.row)
            return
        if key == self.owner:
            self.owner_ev.setdefault(ch.jid, _OwnerEvidence()).explicit.add("listed")
        if (ch.jid, key, current) in done:
            return
        done.add((ch.jid, key, current))
        yield from self.account(key, prov)
        yield Participant(ch.ref, key, role, current, prov, at)

    def participants(self, v: SchemaVariant) -> Iterator[Record]:
        """Members listed by a variant's participant tables; ``participant_from_row`` builds each."""
        self.done_parts: set[tuple[str, AccountKey, bool]] = getattr(self, "done_parts", set())
        for table, sql in v.participants_sql(self.schema):
            for row in self.con.execute(sql):
                yield from self.participant_from_row(v, table, row)

    def participant_from_row(self, v: SchemaVariant, table: str, row: tuple[Any, ...]) -> Iterator[Record]:
        """The one place a membership is built from a row (``PARTICIPANT_COLUMNS``), for every variant."""
        rid, gref, uref, rk, current, ts = row
        gjid = self.jids.get(gref) if v.by_row_id else gref
        ch = self.chats_by_jid.get(gjid) if isinstance(gjid, str) else None
        prov = self.prov(table, rid)
        role = {1: "admin", 2: "superadmin"}.get(rk if isinstance(rk, int) else 0, "member")
        if not v.by_row_id and uref == "" and ch is not None:  # legacy marks the owner with an empty jid
            ev = self.owner_ev.setdefault(ch.jid, _OwnerEvidence())
            ev.prov, ev.role = prov, role
            return
        yield from self._participant(
            ch, self.account_for(v, uref), role, bool(current), prov, ms_to_dt(ts), self.done_parts
        )

    # ---- events --------------------------------------------------------------------------------------

    def _event(
        self,
        ch: _Chat,
        schema: str,
        fld: str,
        table: str,
        code: object,
        at: datetime | None,
        from_me: object,
        actor: AccountKey | None,
        targets: list[AccountKey],
        text: str | None,
        key: str | None,
        prov: Prov,
    ) -> Generator[Record, None, _Ev]:
        info = codes.lookup(schema, fld, int_code(code))
        if not info.known:
            yield from self.unknown(schema, fld, info.code, table)
        kind = info.kind
        owner_actor = bool(from_me) and kind != EventKind.ENCRYPTION_NOTICE.value
        if kind == EventKind.ENCRYPTION_NOTICE.value:
            actor = None  # about the chat, not a person
        elif owner_actor:
            actor = self.owner
        elif actor is None and ch.ref.kind == ChatKind.DIRECT.value:
            actor = ch.ref.peer  # a direct chat's system rows name no sender: they are about the peer
        value = text if kind in ("subject", "description") else None
        return _Ev(
            ch,
            kind,
            str(code),
            at,
            actor,
            targets,
            value,
            key,
            prov,
            owner_actor,
            self.owner is not None and self.owner in targets,
        )

    def event_targets(self, v: SchemaVariant) -> dict[int, list[AccountKey]]:
        """Targets a variant keeps in a table of its own, by event row id."""
        targets: dict[int, list[AccountKey]] = {}
        sql = v.targets_sql(self.schema)
        if sql is not None:
            for mrow, uref in self.con.execute(sql):
                k = self.account_for(v, uref)
                if k:
                    targets.setdefault(mrow, []).append(k)
        return targets

    def events(self, v: SchemaVariant, skip_keys: set[str]) -> Generator[Record, None, list[_Ev]]:
        """A variant's system rows (its declared event query); ``event_from_row`` builds each. Rows whose
        key_id an earlier variant already gave (``skip_keys``) are not repeated."""
        out: list[_Ev] = []
        sql = v.events_sql(self.schema)
        if sql is None:
            return out
        targets = self.event_targets(v)
        for row in self.con.execute(sql):
            ev = yield from self.event_from_row(v, row, targets, skip_keys)
            if ev is not None:
                out.append(ev)
        return out

    def event_from_row(
        self, v: SchemaVariant, row: tuple[Any, ...], targets: dict[int, list[AccountKey]], skip_keys: set[str]
    ) -> Generator[Record, None, _Ev | None]:
        """The one place an event is built from a row (``EVENT_COLUMNS``), for every variant."""
        mid, chat, key, fm, actor_ref, ts, txt, code, old_subject, blob = row
        if not v.by_row_id and key in skip_keys:
            return None
        ch = self.chat_for(v, chat, mid)
        if ch is None:
            self.skip("system row without a readable chat", v.event_table, mid)
            return None
        tgts = targets.get(mid, []) if v.by_row_id else _blob_jids(blob)
        ev = yield from self._event(
            ch,
            v.code_schema,
            v.code_field,
            v.event_table,
            code,
            ms_to_dt(ts),
            fm,
            self.account_for(v, actor_ref),
            tgts,
            txt,
            key,
            self.prov(v.event_table, mid),
        )
        if ev.kind == "subject" and isinstance(old_subject, str) and old_subject:
            ev.old = old_subject
        return ev if self.keep_event(ev, v.event_table, mid) else None

    def keep_event(self, ev: _Ev, table: str, row: object) -> bool:
        """Group actions belong to groups; notices (encryption, security code, ephemeral settings) to any chat."""
        if ev.chat.ref.kind == ChatKind.GROUP.value or ev.kind in ANY_CHAT_KINDS:
            return True
        self.skip(f"group action ({ev.kind}) in a chat that is not a group", table, row)
        return False

    def emit_events(self, events: list[_Ev]) -> Iterator[Record]:
        for e in events:
            yield from self.account(e.actor, e.prov)
            tlist: list[AccountKey | None] = list(e.targets) or [None]
            for t in tlist:
                yield from self.account(t, e.prov)
                yield GroupEvent(e.chat.ref, e.kind, e.at, e.actor, t, e.raw, e.prov, e.value, e.key, e.old)

    def infer_owner(self, events: list[_Ev], variants: list[SchemaVariant]) -> Iterator[Record]:
        if self.owner is None:
            return
        for e in events:  # in row order, which is time order on a device
            if not (e.owner_actor or e.owner_targets) or e.chat.ref.kind != ChatKind.GROUP.value:
                continue
            ev = self.owner_ev.setdefault(e.chat.jid, _OwnerEvidence())
            ev.prov = ev.prov or e.prov
            target_is_owner = e.owner_targets
            if e.kind == "created" and e.owner_actor:
                ev.role, ev.current = "superadmin", True
            elif e.kind == "promoted" and target_is_owner:
                ev.role = "admin"
            elif e.kind == "demoted" and target_is_owner:
                ev.role = "member"
            elif e.kind in ("left", "removed") and target_is_owner:
                ev.current, ev.at = False, e.at
            elif e.kind in ("added", "joined", "joined_link") and (target_is_owner or e.owner_actor):
                ev.current = True
        # from_me messages: one aggregate query per variant, not a per-row scan
        for v in variants:
            sql = v.own_groups_sql(self.schema)
            if sql is None:
                continue
            for cref, mid in self.con.execute(sql):
                ch = self.chats_by_id.get(cref) if v.by_row_id else self.chats_by_jid.get(cref)
                if ch and ch.ref.kind == ChatKind.GROUP.value:
                    ev = self.owner_ev.setdefault(ch.jid, _OwnerEvidence())
                    ev.prov = ev.prov or self.prov(v.message_table, mid)
        for jid, ev in self.owner_ev.items():
            ch = self.chats_by_jid.get(jid)
            if ch is None or ev.prov is None or "listed" in ev.explicit:
                continue
            prov = Prov(self.file, "inferred", f"{ev.prov.table}:{ev.prov.row}")
            yield Participant(ch.ref, self.owner, ev.role, ev.current, prov, ev.at)

    # ---- messages ------------------------------------------------------------------------------------

    def messages(self, variant: SchemaVariant, seen_keys: set[str] | None) -> Iterator[Record]:
        """The messages of one schema variant. With both variants present, ``seen_keys`` collects the current
        keys so legacy rows repeat none. The current schema's are read by ``current_messages`` where its keys
        allow the media merge (every real msgstore.db), else by ``joined_messages``. (A plain function, not a
        generator: one generator layer less between a million records and the ingest.)"""
        if variant.name == "current" and self.media_mergeable():
            return self.current_messages(seen_keys)
        if variant.name == "legacy":
            return self.legacy_messages(seen_keys)
        return self.joined_messages(variant, seen_keys)

    def joined_messages(self, variant: SchemaVariant, seen_keys: set[str] | None) -> Iterator[Record]:
        """The messages of one schema variant: its declared query, each row (``MESSAGE_COLUMNS``) built here for
        every variant; the variant says how its chat, sender and media are found.

        This is a hot loop (a phone holds millions of rows): what does not change from row to row is bound to
        locals first, and the common case (integer ids and times) is tested by type before the general helpers,
        which give the same results for every other value."""
        legacy = variant.name == "legacy"
        table = variant.message_table
        no_chat = "message without a readable chat JID" if legacy else "message of a chat the chat table lacks"
        file, owner, seen, skip = self.file, self.owner, self.seen, self.skip
        chats_by_id, keys, key_for, chat_for = self.chats_by_id, self.keys, self.key_for, self.chat_for
        media_ref = self.media_ref
        direct = ChatKind.DIRECT.value
        checked: set[int] = set()  # id() of account keys already looked up in ``seen`` (all live in self.keys,
        # the chats or self.owner for the whole read, so an id stays theirs); saves hashing the key per row
        keep_keys = seen_keys is not None and not legacy
        raw_types: dict[tuple[type, object], str] = {}  # (type, value) of a message type -> its text
        notices = LEGACY_MESSAGE_NOTICES if legacy else MESSAGE_NOTICES
        for rows in batches(self.con, variant.messages_sql(self.schema), BATCH):
            for mid, chat, key, fm, sender_ref, ts, txt, mtype, fw, media_loc, fhash, fsize, mime, mname in rows:
                if legacy:
                    if seen_keys is not None and key in seen_keys:
                        continue  # the current tables already gave this message
                    ch = chat_for(variant, chat, mid)
                else:
                    ch = chats_by_id.get(chat) if type(chat) is int else None
                if ch is None:
                    skip(no_chat, table, mid)
                    continue
                if type(ts) is int and 0 < ts < MAX_MS:
                    at: datetime | None = fromtimestamp(ts / 1000, UTC)
                else:
                    at = ms_to_dt(ts)
                prov = Prov(file, table, str(mid))
                notice = notices.get(mtype if type(mtype) is int else (int_code(mtype) or -1))
                if notice is not None:
                    if keep_keys and key:
                        seen_keys.add(key)  # type: ignore[union-attr]
                    yield from self.notice_from_row(variant, ch, notice, mtype, fm, sender_ref, at, txt, key, prov)
                    continue
                if at is None:
                    yield Problem(file, f"{table} row {mid}: unreadable timestamp {ts!r}; skipped", prov, "warning")
                    continue
                if keep_keys and key:
                    seen_keys.add(key)  # type: ignore[union-attr]
                ref = ch.ref
                if fm:
                    sender = owner
                elif ref.kind == direct:
                    sender = ref.peer
                elif legacy:
                    sender = jid_account(sender_ref) if isinstance(sender_ref, str) else None
                else:
                    sender = keys[sender_ref] if sender_ref in keys else key_for(sender_ref)
                if sender is not None and (legacy or id(sender) not in checked):
                    if not legacy:  # legacy keys are built per row: no lasting id to remember
                        checked.add(id(sender))
                    if sender not in seen:
                        seen.add(sender)
                        yield Account(sender, prov)
                media: tuple[MediaRef, ...] = ()
                if legacy:
                    if fhash is not None or (mtype not in (None, 0, "0") and (media_loc or mname)):
                        fpath = legacy_blob_path(media_loc) if isinstance(media_loc, bytes) else None
                        media = (media_ref(fpath, fhash, fsize, mime, mname),)
                elif media_loc is not None or fhash is not None:
                    media = (media_ref(media_loc, fhash, fsize, mime, mname),)
                raw_type = raw_types.get((type(mtype), mtype))  # by type too: 1 and 1.0 are equal keys
                if raw_type is None and mtype is not None:
                    raw_type = raw_types[(type(mtype), mtype)] = str(mtype)
                # (True if x else False) is bool(x) without the call
                yield Message(ref, key, sender, at, txt, prov, media, True if fw else False, True if fm else False,
                              raw_type)

    def legacy_messages(self, seen_keys: set[str] | None) -> Iterator[Record]:
        """The legacy schema's messages, the same records in the same order as the general loop of
        ``joined_messages`` gives (``tests/sources/test_whatsapp_android.py`` compares them), built for speed as
        ``current_messages`` is: a sender is resolved and announced once per JID text (the owner once, a direct
        chat's peer once per chat), a message type's text and notice kind come from one lookup per type, a time
        from a cached minute, and the records are built by ``model.new_*``. Rows off the common path (a chat
        JID the chat list lacks, a time out of range, a notice) take the general helpers."""
        variant = SCHEMA_VARIANTS["legacy"]
        table, no_chat = "messages", "message without a readable chat JID"
        file, owner, seen, skip, media_ref = self.file, self.owner, self.seen, self.skip, self.media_ref
        chats_get, legacy_chat = self.chats_by_jid.get, self.legacy_chat
        direct = ChatKind.DIRECT.value
        owner_pending = True
        peers_done: set[str] = set()  # chat JIDs whose peer is announced
        senders: dict[str, AccountKey | None] = {}  # sender JID -> its account, already announced
        senders_get = senders.get
        # (type, value) of a message type -> (its text or None, notice kind or None); keyed by type too, since
        # 1, 1.0 and "1" read differently (a notice by int_code, a text by str)
        types: dict[tuple[type, object], tuple[str | None, str | None]] = {}
        types_get = types.get
        minutes: dict[int, datetime] = {}  # minute since the epoch -> its UTC start, as in current_messages
        no_media: tuple[MediaRef, ...] = ()
        for rows in batches(self.con, variant.messages_sql(self.schema), BATCH):
            for mid, chat, key, fm, sender_ref, ts, txt, mtype, fw, media_loc, fhash, fsize, mime, mname in rows:
                if seen_keys is not None and key in seen_keys:
                    continue  # the current tables already gave this message
                ch = chats_get(chat) if type(chat) is str else None
                if ch is None:
                    ch = legacy_chat(chat, mid)
                    if ch is None:
                        skip(no_chat, table, mid)
                        continue
                at = ms_at(ts, minutes)
                prov = new_prov(file, table, str(mid))
                tk = (type(mtype), mtype)
                ti = types_get(tk)
                if ti is None:
                    code = mtype if type(mtype) is int else (int_code(mtype) or -1)
                    ti = (None if mtype is None else str(mtype), LEGACY_MESSAGE_NOTICES.get(code))
                    if len(types) < 10_000:  # a hostile column holds any number of distinct values
                        types[tk] = ti
                raw_type, notice = ti
                if notice is not None:
                    yield from self.notice_from_row(variant, ch, notice, mtype, fm, sender_ref, at, txt, key, prov)
                    continue
                if at is None:
                    yield Problem(file, f"{table} row {mid}: unreadable timestamp {ts!r}; skipped", prov, "warning")
                    continue
                ref = ch.ref
                if fm:
                    sender = owner
                    if owner_pending:
                        owner_pending = False
                        if owner is not None and owner not in seen:
                            seen.add(owner)
                            yield new_account(owner, prov)
                elif ref.kind == direct:
                    sender = ref.peer
                    if ch.jid not in peers_done:
                        peers_done.add(ch.jid)
                        if sender is not None and sender not in seen:
                            seen.add(sender)
                            yield new_account(sender, prov)
                elif type(sender_ref) is str:
                    sender = senders_get(sender_ref, _NOT_DIRECT)
                    if sender is _NOT_DIRECT:
                        sender = jid_account(sender_ref)
                        if len(senders) < 100_000:
                            senders[sender_ref] = sender
                        if sender is not None and sender not in seen:
                            seen.add(sender)
                            yield new_account(sender, prov)
                else:
                    sender = jid_account(sender_ref) if isinstance(sender_ref, str) else None
                    if sender is not None and sender not in seen:
                        seen.add(sender)
                        yield new_account(sender, prov)
                media = no_media
                if fhash is not None or (mtype not in (None, 0, "0") and (media_loc or mname)):
                    fpath = legacy_blob_path(media_loc) if isinstance(media_loc, bytes) else None
                    media = (media_ref(fpath, fhash, fsize, mime, mname),)
                # (True if x else False) is bool(x) without the call
                yield new_message(ref, key, sender, at, txt, prov, media, True if fw else False,
                                  True if fm else False, raw_type)

    def media_mergeable(self) -> bool:
        """Whether the current schema's messages can be paired with their ``message_media`` rows by a merge
        (both keys distinct numbers, see ``unique_number_key``): the pairs the join gives, without its lookups."""
        return unique_number_key(self.con, "message", "_id") and (
            "message_media" not in self.schema or unique_number_key(self.con, "message_media", "message_row_id")
        )

    def current_messages(self, seen_keys: set[str] | None) -> Iterator[Record]:
        """The current schema's messages, the same records in the same order as the general loop of
        ``messages`` gives from the joined query (``tests/sources/test_whatsapp_android.py`` compares them),
        built for speed: the query leaves out the media join (the ``message_media`` rows are merged in by row
        id, both sorted), a chat's reference, kind and peer are looked up as one tuple, a sender is resolved
        and announced once per jid row id (the owner once, a direct chat's peer once per chat), a message
        type's text and notice kind come from one lookup, and the records are built by ``model.new_*``.
        Anything off the common path (a chat row id that is not an integer, a time out of range, a notice)
        takes the general helpers."""
        table, file, owner, seen, skip = "message", self.file, self.owner, self.seen, self.skip
        key_for, media_ref = self.key_for, self.media_ref
        direct = ChatKind.DIRECT.value
        chats: dict[int, tuple[_Chat, ChatRef, AccountKey | None]] = {
            cid: (ch, ch.ref, ch.ref.peer if ch.ref.kind == direct else _NOT_DIRECT)
            for cid, ch in self.chats_by_id.items()
        }
        chat_get = chats.get
        senders: dict[object, AccountKey | None] = {}  # jid row id -> sender, already announced
        senders_get = senders.get
        peers_done: set[int] = set()  # chats whose peer is announced
        owner_pending = True
        types: dict[int, tuple[str | None, str | None]] = {}  # message type -> (its text, notice kind or None)
        types_get = types.get
        keep_keys = seen_keys is not None
        minutes: dict[int, datetime] = {}  # minute since the epoch -> its UTC start: messages come minutes apart
        if "message_media" in self.schema:
            media_rows: Iterator[tuple[Any, ...]] = (
                r for rows in batches(self.con, _current_media_sql(self.schema), BATCH) for r in rows
            )
        else:
            media_rows = iter(())
        mrow = next(media_rows, None)
        nxt: float = _END if mrow is None else mrow[0]
        no_media: tuple[MediaRef, ...] = ()
        for rows in batches(self.con, _current_messages_sql(self.schema, join_media=False), BATCH):
            for mid, chat, key, fm, sender_ref, ts, txt, mtype, fw in rows:
                ci = chat_get(chat) if type(chat) is int else None
                if ci is None:
                    skip("message of a chat the chat table lacks", table, mid)
                    continue
                at = ms_at(ts, minutes)
                prov = new_prov(file, table, str(mid))
                ti = types_get(mtype) if type(mtype) is int else None
                if ti is None:
                    if type(mtype) is int:
                        ti = types[mtype] = (str(mtype), MESSAGE_NOTICES.get(mtype))
                    else:
                        ti = (None if mtype is None else str(mtype), MESSAGE_NOTICES.get(int_code(mtype) or -1))
                raw_type, notice = ti
                if notice is not None:
                    if keep_keys and key:
                        seen_keys.add(key)  # type: ignore[union-attr]
                    yield from self.notice_from_row(SCHEMA_VARIANTS["current"], ci[0], notice, mtype, fm, sender_ref,
                                                    at, txt, key, prov)
                    continue
                if at is None:
                    yield Problem(file, f"{table} row {mid}: unreadable timestamp {ts!r}; skipped", prov, "warning")
                    continue
                if keep_keys and key:
                    seen_keys.add(key)  # type: ignore[union-attr]
                _ch, ref, peer = ci
                if fm:
                    sender = owner
                    if owner_pending:
                        owner_pending = False
                        if owner is not None and owner not in seen:
                            seen.add(owner)
                            yield new_account(owner, prov)
                elif peer is not _NOT_DIRECT:
                    sender = peer
                    if chat not in peers_done:
                        peers_done.add(chat)
                        if peer is not None and peer not in seen:
                            seen.add(peer)
                            yield new_account(peer, prov)
                else:
                    sender = senders_get(sender_ref, _NOT_DIRECT)
                    if sender is _NOT_DIRECT:
                        sender = key_for(sender_ref)
                        if type(sender_ref) is int:
                            senders[sender_ref] = sender
                        if sender is not None and sender not in seen:
                            seen.add(sender)
                            yield new_account(sender, prov)
                media = no_media
                if mid >= nxt:  # the next message_media row is this message's or an earlier one's
                    while mrow is not None and mrow[0] < mid:
                        mrow = next(media_rows, None)
                    if mrow is not None and mrow[0] == mid:
                        _, media_loc, fhash, fsize, mime, mname = mrow
                        if media_loc is not None or fhash is not None:
                            media = (media_ref(media_loc, fhash, fsize, mime, mname),)
                        mrow = next(media_rows, None)
                    nxt = _END if mrow is None else mrow[0]
                # (True if x else False) is bool(x) without the call
                yield new_message(ref, key, sender, at, txt, prov, media, True if fw else False,
                                  True if fm else False, raw_type)

    def notice_from_row(
        self,
        v: SchemaVariant,
        ch: _Chat,
        kind: str,
        mtype: object,
        fm: object,
        sender_ref: object,
        at: datetime | None,
        txt: object,
        key: str | None,
        prov: Prov,
    ) -> Iterator[Record]:
        """A message-table row that is a notice (missed call, deleted, waiting): a typed event whose actor is
        who the notice is about (the caller, the sender of the deleted or awaited message), never a message."""
        actor = message_sender(fm, ch.ref, self.owner, self.account_for(v, sender_ref))
        yield from self.account(actor, prov)
        value = txt if kind == EventKind.MISSED_CALL.value and txt in ("video", "audio") else None
        if kind == EventKind.MISSED_CALL.value and value is None:
            video = self.missed_call_video().get(int(prov.row or -1))
            value = None if video is None else ("video" if video else "audio")
        fld = "message_type" if v.by_row_id else "media_wa_type"
        yield GroupEvent(ch.ref, kind, at, actor, None, f"{fld}={mtype}", prov, value, key)

    # ---- calls ---------------------------------------------------------------------------------------

    def missed_call_video(self) -> dict[int, int]:
        """Older databases flag a missed-call message row as video or voice in ``missed_call_logs``
        (message_row_id, video_call), as WhatsApp-Chat-Exporter joins it: message row id -> video_call."""
        if not hasattr(self, "_missed_video"):
            self._missed_video: dict[int, int] = {}
            if {"message_row_id", "video_call"} <= self.schema.get("missed_call_logs", set()):
                for mrow, video in self.con.execute("SELECT message_row_id, video_call FROM missed_call_logs"):
                    if isinstance(mrow, int) and isinstance(video, int):
                        self._missed_video[mrow] = video
        return self._missed_video

    def calls(self, v: SchemaVariant) -> Iterator[Record]:
        """The call log: each call a typed event (``call`` or ``missed_call``) in the chat it belongs to, never a
        message. A 1:1 call's actor is the caller and its target the callee; a group call gives one event per
        participant the log names (target: that participant, with their own result), or one with no target."""
        sql = v.calls_sql(self.schema)
        if sql is None:
            return
        parts: dict[int, list[tuple[object, object]]] = {}
        psql = v.call_participants_sql(self.schema)
        if psql is not None:
            for crow, jrow, res in self.con.execute(psql):
                parts.setdefault(crow, []).append((jrow, res))
        for row in self.con.execute(sql):
            yield from self.call_from_row(row, parts)

    def call_from_row(self, row: tuple[Any, ...], parts: dict[int, list[tuple[object, object]]]) -> Iterator[Record]:
        """The one place a call event is built from a row (``CALL_COLUMNS``)."""
        rid, peer_ref, fm, call_id, ts, video, duration, result, group_ref = row
        prov = self.prov("call_log", rid)
        peer_jid = self.jids.get(peer_ref) if isinstance(peer_ref, int) else None
        group_jid = self.jids.get(group_ref) if isinstance(group_ref, int) and group_ref else None
        chat = self.chats_by_jid.get(group_jid) if group_jid else None
        if chat is None and group_jid:
            chat = self.add_chat(group_jid, rid, "call_log", None, None)
        peer = self.key_for(peer_ref)
        if chat is None and peer_jid:
            chat = self.chats_by_jid.get(peer_jid) or self.add_chat(peer_jid, rid, "call_log", None, None)
        if chat is None:
            self.skip("call without a readable peer or group JID", "call_log", rid)
            return
        if chat.ref.kind == ChatKind.DIRECT.value and chat.ref.peer is not None:
            peer = chat.ref.peer
        caller = self.owner if fm else peer
        callee = None if chat.ref.kind == ChatKind.GROUP.value else (peer if fm else self.owner)
        medium = "video" if video else "audio"
        yield from self.account(caller, prov)
        members = parts.get(rid, []) if chat.ref.kind == ChatKind.GROUP.value else []
        targets: list[tuple[AccountKey | None, object]] = [(self.key_for(j), r) for j, r in members]
        for target, res in targets or [(callee, result)]:
            fld = "call_result_out" if fm else "call_result_in"
            info = codes.lookup("android-call", fld, int_code(res))
            if not info.known:
                yield from self.unknown("android-call", fld, info.code, "call_log")
            what = [medium, info.description.split(" (", 1)[0] if info.known else f"result {res}"]
            if isinstance(duration, int) and duration > 0:
                what.append(f"{duration} s")
            yield from self.account(target, prov)
            yield GroupEvent(chat.ref, info.kind if info.known else EventKind.CALL.value, ms_to_dt(ts), caller,
                             target, f"call_result={res}", prov, ", ".join(what),
                             call_id if isinstance(call_id, str) else None)

    def media_ref(self, fpath: object, fhash: object, fsize: object, mime: object, mname: object) -> MediaRef:
        path = self.media.resolve(fpath if isinstance(fpath, str) else None)
        name = (
            mname
            if isinstance(mname, str) and mname
            else (PurePosixPath(fpath).name if isinstance(fpath, str) and fpath else None)
        )
        return MediaRef(
            path,
            b64_to_hex(fhash),
            name,
            fsize if isinstance(fsize, int) else None,
            mime if isinstance(mime, str) else None,
            declared_only=path is None,
        )

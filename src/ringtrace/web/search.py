"""One search box over a case: phone numbers in any written form, names, usernames and other identifiers, hashes
(MD5, SHA-1, SHA-256, PDQ with a distance), invite codes and links, onion addresses, and words in messages.

Message words go through SQLite FTS5 in a side database of the web layer, ``web-search.sqlite`` in the case folder
(not the case database, and no migration): created with ``CREATE VIRTUAL TABLE IF NOT EXISTS`` on the first search
and rebuilt when the case's fingerprint changes. Queries are hostile input: cut to ``MAX_QUERY`` characters, FTS
terms quoted (no FTS syntax reaches the engine), result lists bounded.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from ringtrace.analysis.common import utc
from ringtrace.dissemination.export_types import ExportDoc
from ringtrace.phones import to_e164
from ringtrace.store import schema as S
from ringtrace.web.chats import Cursor

MAX_QUERY = 200
MAX_TERMS = 8
MAX_HITS = 100
INDEX_NAME = "web-search.sqlite"
HEX = re.compile(r"^[0-9a-f]+$")
PDQ_Q = re.compile(r"^(?:pdq:)?([0-9a-f]{64})(?:\s*(?:d|distance)?\s*[=<:]?\s*(\d{1,3}))?$")
ONION = re.compile(r"[a-z2-7]{16,56}\.onion")
WORD = re.compile(r"\w+", re.UNICODE)
_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass
class Results:
    query: str
    groups: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, kind: str, hit: dict[str, Any]) -> None:
        lst = self.groups.setdefault(kind, [])
        if len(lst) < MAX_HITS:
            lst.append(hit)

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.groups.values())


def clean_query(raw: str | None) -> str:
    q = "".join(ch for ch in (raw or "")[: MAX_QUERY * 4] if ch.isprintable())
    return " ".join(q.split())[:MAX_QUERY]


def fts_query(q: str) -> str | None:
    """Every word as a quoted FTS5 string (quotes doubled), all required: no operator or column filter gets in."""
    words = WORD.findall(q)[:MAX_TERMS]
    if not words:
        return None
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def _digits(s: str) -> str:
    return "".join(ch for ch in s if ch.isdigit())


def phone_of(q: str) -> str | None:
    """A phone number written any way (``+34 612 15 98 19``, ``0034612159819``, ``(34) 612-159-819``) as E.164."""
    t = q.strip()
    if not re.fullmatch(r"[+0-9 ().\-/]{6,40}", t):
        return None
    d = _digits(t)
    if len(d) < 6:
        return None
    if t.startswith("00"):
        d = d[2:]
    return to_e164("+" + d.lstrip("0") if not t.startswith("+") else "+" + d)


def search(con: Connection, case_path: Path, version: tuple[Any, ...], doc: ExportDoc, raw: str) -> Results:
    q = clean_query(raw)
    res = Results(q)
    if len(q) < 2:
        return res
    low = q.casefold()
    phone = phone_of(q)
    if phone:
        res.notes.append(f"read as the phone number {phone}")
    user = low.lstrip("@")

    # persons: phones, names, identifiers (usernames, ids, JIDs ...)
    for p in doc["persons"]:
        why = []
        if phone and (phone in p["phones"] or any(_digits(phone) == _digits(a["value"].split("@")[0])
                                                  for a in p["accounts"])):
            why.append(f"number {phone}")
        why += [f"name {n}" for n in p["names"] if low in n.casefold()][:3]
        why += [f"{a['kind']} {a['value']}" for a in p["accounts"] if user and user in a["value"].casefold()][:3]
        if why:
            res.add("persons", {"label": p["id"], "why": why, "country": p["country"]})
    # groups: names over time, identifiers, invite codes
    for g in doc["groups"]:
        why = [f"name {n['name']}" for n in g["names"] if low in n["name"].casefold()][:3]
        why += [f"identifier {i}" for i in g["identifiers"] if low in i.casefold()][:3]
        why += [f"invite code {c}" for c in g.get("invite_codes", []) if low in c.casefold()][:3]
        if why:
            res.add("groups", {"label": g["id"], "why": why, "name": g["names"][-1]["name"] if g["names"] else ""})
    # invite links and indicators (onion addresses, URLs)
    for link in doc["invite_links"]:
        code, url = str(link["code"] or ""), str(link["url"] or "")
        if low in code.casefold() or low in url.casefold() or (code and code.casefold() in low):
            res.add("invite links", {"platform": link["platform"], "code": code, "url": url,
                                     "group": link["group"], "seen": len(link["seen"])})
    onion = ONION.search(low)
    for ind in doc["indicators"]:
        v = str(ind["value"]).casefold()
        if low in v or (onion and onion.group(0) in v):
            res.add("indicators", {"kind": ind["kind"], "value": ind["value"], "seen": len(ind["seen"])})
    # hashes
    compact = low.replace(" ", "")
    pdq = PDQ_Q.match(low)
    if HEX.match(compact) and len(compact) in (32, 40, 64):
        col = {32: "md5", 40: "sha1", 64: "sha256"}[len(compact)]
        for m in doc["media"]:
            if {"md5": m["md5"], "sha1": m["sha1"], "sha256": m["sha256"]}[col] == compact:
                res.add("media", {"sha256": m["sha256"], "why": col, "kind": m["kind"], "known": bool(m["matches"]),
                                  "categories": sorted({str(x.get("category")) for x in m["matches"]})})
    if pdq:
        from ringtrace.media.pdq import hamming

        limit = min(int(pdq.group(2) or 31), 256)
        near = sorted(((hamming(pdq.group(1), h), m) for m in doc["media"] if (h := m.get("pdq"))),
                      key=lambda t: (t[0], t[1]["sha256"]))
        for d, m in near:
            if d <= limit:
                res.add("media", {"sha256": m["sha256"], "why": f"pdq d={d}", "kind": m["kind"],
                                  "known": bool(m["matches"]),
                                  "categories": sorted({str(x.get("category")) for x in m["matches"]})})
        res.notes.append(f"PDQ within distance {limit}")
    # words in messages
    fq = fts_query(q)
    if fq:
        for hit in message_hits(con, case_path, version, fq):
            res.add("messages", hit)
    return res


def _lock(path: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(path, threading.Lock())


def index_path(case_path: Path) -> Path:
    return case_path / INDEX_NAME


def ensure_index(con: Connection, case_path: Path, version: tuple[Any, ...]) -> Path:
    """The side FTS5 index of message text, (re)built when the case's fingerprint is not the one it was built at."""
    path = index_path(case_path)
    stamp = repr(version)
    with _lock(path):
        db = sqlite3.connect(path)
        try:
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS msg_fts USING fts5(text, message_id UNINDEXED, "
                       "tokenize='unicode61 remove_diacritics 2')")
            row = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
            if row is None or row[0] != stamp:
                with db:
                    db.execute("DELETE FROM msg_fts")
                    m = S.messages
                    q = select(m.c.id, m.c.text).where(m.c.text.is_not(None)).order_by(m.c.id)
                    batch: list[tuple[str, int]] = []
                    for r in con.execute(q.execution_options(stream_results=True, yield_per=2000)):
                        batch.append((r.text, r.id))
                        if len(batch) >= 2000:
                            db.executemany("INSERT INTO msg_fts (text, message_id) VALUES (?, ?)", batch)
                            batch.clear()
                    if batch:
                        db.executemany("INSERT INTO msg_fts (text, message_id) VALUES (?, ?)", batch)
                    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('version', ?)", (stamp,))
        finally:
            db.close()
    return path


def message_hits(con: Connection, case_path: Path, version: tuple[Any, ...], fq: str) -> list[dict[str, Any]]:
    path = ensure_index(con, case_path, version)
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        ids = [int(r[0]) for r in db.execute("SELECT message_id FROM msg_fts WHERE msg_fts MATCH ? ORDER BY rank "
                                             "LIMIT ?", (fq, MAX_HITS))]
    except sqlite3.OperationalError:
        ids = []  # cannot happen with quoted terms; a bad query is an empty answer, never an error page
    finally:
        db.close()
    if not ids:
        return []
    m, gc, g = S.messages, S.group_chats, S.groups
    rows = con.execute(select(m.c.id, m.c.chat_id, m.c.at, m.c.text, m.c.source_id, g.c.label)
                       .outerjoin(gc, gc.c.chat_id == m.c.chat_id).outerjoin(g, g.c.id == gc.c.group_id)
                       .where(m.c.id.in_(ids)).order_by(m.c.at, m.c.id)).all()
    exhibit = {int(r.id): str(r.exhibit) for r in con.execute(select(S.sources.c.id, S.sources.c.exhibit))}
    out = []
    for r in rows:
        at = utc(r.at)
        ref = r.label or f"c{r.chat_id}"
        cursor = Cursor(at - timedelta(seconds=1), 2**62).token() if at else None
        out.append({"id": r.id, "chat": ref, "at": at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if at else "",
                    "text": (r.text or "")[:300], "exhibit": exhibit.get(r.source_id, "?"), "cursor": cursor})
    return out

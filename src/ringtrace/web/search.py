"""One search box over a case: phone numbers in any written form, names, usernames and other identifiers, hashes
(MD5, SHA-1, SHA-256, PDQ with a distance), invite codes and links, onion addresses, and words in messages.

Message words go through ``dissemination.textsearch``: on SQLite an FTS5 side file, ``web-search.sqlite`` in the
case folder, built by ``ringtrace run`` (rebuilt here if missing or stale); on PostgreSQL the case store's own
full-text search (a GIN index on ``to_tsvector('simple', text)``). Queries are hostile input: cut to
``MAX_QUERY`` characters, at most ``MAX_TERMS`` words taken as plain words (no query syntax reaches either engine),
result lists bounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from ringtrace.analysis.common import utc
from ringtrace.dissemination.export_types import ExportDoc, Media
from ringtrace.dissemination.textsearch import INDEX_NAME, MAX_TERMS, index_path, message_ids
from ringtrace.phones import to_e164
from ringtrace.store import schema as S
from ringtrace.web.chats import Cursor

MAX_QUERY = 200
MAX_HITS = 100
HEX = re.compile(r"^[0-9a-f]+$")
PDQ_Q = re.compile(r"^(?:pdq:)?([0-9a-f]{64})(?:\s*(?:d|distance)?\s*[=<:]?\s*(\d{1,3}))?$")
ONION = re.compile(r"[a-z2-7]{16,56}\.onion")

__all__ = ["INDEX_NAME", "MAX_TERMS", "Results", "clean_query", "index_path", "phone_of", "search"]


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


@dataclass
class MediaHashes:
    """The case's media by hash, made once per case version (``media_hashes``): a hash query is a lookup and a
    PDQ query an XOR per item, not a parse of every media item's hashes on every search."""

    by_hash: dict[tuple[str, str], list[Media]]  # ("md5" | "sha1" | "sha256", lower-case hex) -> media
    pdq: list[tuple[int, Media]]  # the PDQ hash as an integer, with its media


def media_hashes(doc: ExportDoc) -> MediaHashes:
    by_hash: dict[tuple[str, str], list[Media]] = {}
    pdq: list[tuple[int, Media]] = []
    for m in doc["media"]:
        for col in ("md5", "sha1", "sha256"):
            v = m.get(col)
            if isinstance(v, str) and v:
                by_hash.setdefault((col, v.lower()), []).append(m)
        h = m.get("pdq")
        if isinstance(h, str) and h:
            try:
                pdq.append((int(h, 16), m))
            except ValueError:
                continue  # not hex: no PDQ to compare with
    return MediaHashes(by_hash, pdq)


def search(con: Connection, case_path: Path, version: str, doc: ExportDoc, raw: str,
           hashes: MediaHashes | None = None) -> Results:
    """``hashes``: ``media_hashes(doc)``, kept per case version by the caller (made here when not given)."""
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
    # hashes: lookups in the per-version tables (media_hashes)
    hashes = hashes or media_hashes(doc)
    compact = low.replace(" ", "")
    pdq = PDQ_Q.match(low)
    if HEX.match(compact) and len(compact) in (32, 40, 64):
        col = {32: "md5", 40: "sha1", 64: "sha256"}[len(compact)]
        for m in hashes.by_hash.get((col, compact), []):
            res.add("media", {"sha256": m["sha256"], "why": col, "kind": m["kind"], "known": bool(m["matches"]),
                              "categories": sorted({str(x.get("category")) for x in m["matches"]})})
    if pdq:
        limit = min(int(pdq.group(2) or 31), 256)
        want = int(pdq.group(1), 16)
        near = sorted(((d, m) for h, m in hashes.pdq if (d := (want ^ h).bit_count()) <= limit),
                      key=lambda t: (t[0], t[1]["sha256"]))
        for d, m in near:
            res.add("media", {"sha256": m["sha256"], "why": f"pdq d={d}", "kind": m["kind"],
                              "known": bool(m["matches"]),
                              "categories": sorted({str(x.get("category")) for x in m["matches"]})})
        res.notes.append(f"PDQ within distance {limit}")
    # words in messages
    for hit in message_hits(con, case_path, version, q):
        res.add("messages", hit)
    return res


def message_hits(con: Connection, case_path: Path, version: str, q: str) -> list[dict[str, Any]]:
    """Messages holding every word of ``q`` (``textsearch``: FTS5 side file on SQLite, the GIN index on PostgreSQL),
    shown in time order with their chat, exhibit and a cursor into the chat viewer."""
    ids = message_ids(con, case_path, version, q, MAX_HITS)
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

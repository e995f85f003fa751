"""Synthetic browser databases: Firefox / Tor Browser ``places.sqlite`` and ``formhistory.sqlite``, Chrome / Edge
``History``, with the tables and columns real browsers write (the columns readers use; others left out or empty).

Everything is invented: benign ``example`` hosts, ``.onion`` v3 hosts with valid checksums (made from seeded
random keys), invite links given by the caller (the synthetic world's groups' codes).
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ringtrace.indicators.extract import onion_v3_address
from ringtrace.sources.browsers._visits import to_prtime, to_webkit

if TYPE_CHECKING:
    from ringtrace.synth.world import World

FIREFOX_SCHEMA = """
CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR, rev_host LONGVARCHAR,
  visit_count INTEGER DEFAULT 0, hidden INTEGER DEFAULT 0 NOT NULL, typed INTEGER DEFAULT 0 NOT NULL,
  frecency INTEGER DEFAULT -1 NOT NULL, last_visit_date INTEGER, guid TEXT, foreign_count INTEGER DEFAULT 0 NOT NULL,
  url_hash INTEGER DEFAULT 0 NOT NULL, description TEXT, preview_image_url TEXT, origin_id INTEGER);
CREATE TABLE moz_historyvisits (id INTEGER PRIMARY KEY, from_visit INTEGER, place_id INTEGER, visit_date INTEGER,
  visit_type INTEGER, session INTEGER, source INTEGER DEFAULT 0 NOT NULL, triggeringPlaceId INTEGER);
CREATE TABLE moz_anno_attributes (id INTEGER PRIMARY KEY, name VARCHAR(32) UNIQUE NOT NULL);
CREATE TABLE moz_annos (id INTEGER PRIMARY KEY, place_id INTEGER NOT NULL, anno_attribute_id INTEGER,
  content LONGVARCHAR, flags INTEGER DEFAULT 0, expiration INTEGER DEFAULT 0, type INTEGER DEFAULT 0,
  dateAdded INTEGER DEFAULT 0, lastModified INTEGER DEFAULT 0);
CREATE TABLE moz_origins (id INTEGER PRIMARY KEY, prefix TEXT NOT NULL, host TEXT NOT NULL,
  frecency INTEGER NOT NULL);
"""

FORMHISTORY_SCHEMA = """
CREATE TABLE moz_formhistory (id INTEGER PRIMARY KEY, fieldname TEXT NOT NULL, value TEXT NOT NULL,
  timesUsed INTEGER, firstUsed INTEGER, lastUsed INTEGER, guid TEXT);
"""

CHROME_SCHEMA = """
CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR);
CREATE TABLE urls(id INTEGER PRIMARY KEY AUTOINCREMENT, url LONGVARCHAR, title LONGVARCHAR,
  visit_count INTEGER DEFAULT 0 NOT NULL, typed_count INTEGER DEFAULT 0 NOT NULL,
  last_visit_time INTEGER NOT NULL, hidden INTEGER DEFAULT 0 NOT NULL);
CREATE TABLE visits(id INTEGER PRIMARY KEY AUTOINCREMENT, url INTEGER NOT NULL, visit_time INTEGER NOT NULL,
  from_visit INTEGER, transition INTEGER DEFAULT 0 NOT NULL, segment_id INTEGER, visit_duration INTEGER DEFAULT 0
  NOT NULL);
CREATE TABLE downloads (id INTEGER PRIMARY KEY, guid VARCHAR NOT NULL, current_path LONGVARCHAR NOT NULL,
  target_path LONGVARCHAR NOT NULL, start_time INTEGER NOT NULL, received_bytes INTEGER NOT NULL,
  total_bytes INTEGER NOT NULL, state INTEGER NOT NULL, danger_type INTEGER NOT NULL,
  interrupt_reason INTEGER NOT NULL, end_time INTEGER NOT NULL, opened INTEGER NOT NULL, referrer VARCHAR NOT NULL,
  tab_url VARCHAR NOT NULL, tab_referrer_url VARCHAR NOT NULL, mime_type VARCHAR(255) NOT NULL);
CREATE TABLE downloads_url_chains (id INTEGER NOT NULL, chain_index INTEGER NOT NULL, url LONGVARCHAR NOT NULL,
  PRIMARY KEY (id, chain_index));
"""

BENIGN = ["https://news.example/today", "https://weather.example/city/lakeside", "https://recipes.example/soup",
          "https://maps.example/?q=harbour", "https://shop.example/basket"]


@dataclass(frozen=True)
class Visit:
    url: str
    at: datetime
    title: str | None = None


@dataclass(frozen=True)
class Download:
    url: str  # where the file came from
    at: datetime
    target: str  # where it was saved
    tab_url: str | None = None  # the page the download started from


@dataclass(frozen=True)
class FormEntry:
    field: str
    value: str
    first: datetime
    last: datetime


def onion_url(rng: random.Random, path: str = "/") -> str:
    return f"http://{onion_v3_address(rng.randbytes(32))}{path}"


def invite_url(platform: str, code: str) -> str:
    return f"https://t.me/+{code}" if platform == "telegram" else f"https://chat.whatsapp.com/{code}"


def world_invite_visits(world: World, rng: random.Random, n: int = 3) -> list[Visit]:
    """Visits to up to ``n`` of the synthetic world's groups' invite links, each while its code was current."""
    codes = [(g.platform, at, code) for g in world.groups.values() for at, code in g.codes]
    rng.shuffle(codes)
    return sorted((Visit(invite_url(p, c), at + timedelta(hours=1 + rng.randrange(48)), "Group invite")
                   for p, at, c in codes[:n]), key=lambda v: v.at)


def sample_visits(rng: random.Random, start: datetime, invite_urls: list[str], onion_urls: list[str],
                  n_benign: int = 8) -> list[Visit]:
    """Benign browsing with the given onion pages and invite links visited in between, in time order."""
    urls = [(rng.choice(BENIGN), "A page") for _ in range(n_benign)]
    urls += [(u, "Board") for u in onion_urls] + [(u, "WhatsApp Group Invite") for u in invite_urls]
    rng.shuffle(urls)
    return [Visit(u, start + timedelta(minutes=17 * i + rng.randrange(0, 10)), t) for i, (u, t) in enumerate(urls)]


def write_firefox_places(path: Path, visits: list[Visit], downloads: Sequence[Download] = (),
                         *, unvisited: Sequence[Visit] = ()) -> Path:
    """places.sqlite: one moz_places row per URL, one moz_historyvisits row per visit; ``unvisited``: places
    whose visit rows were removed (only last_visit_date left); downloads as moz_annos."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    try:
        con.executescript(FIREFOX_SCHEMA)
        place: dict[str, int] = {}

        def place_id(url: str, title: str | None, last: datetime | None) -> int:
            if url not in place:
                cur = con.execute("INSERT INTO moz_places (url, title, rev_host, last_visit_date, guid) "
                                  "VALUES (?, ?, ?, ?, ?)",
                                  (url, title, "", to_prtime(last) if last else None, f"g{len(place):011d}"))
                place[url] = int(cur.lastrowid or 0)
            elif last is not None:
                con.execute("UPDATE moz_places SET last_visit_date = ?, visit_count = visit_count + 1 WHERE id = ?",
                            (to_prtime(last), place[url]))
            return place[url]

        for v in visits:
            pid = place_id(v.url, v.title, v.at)
            con.execute("INSERT INTO moz_historyvisits (from_visit, place_id, visit_date, visit_type, session) "
                        "VALUES (0, ?, ?, 1, 0)", (pid, to_prtime(v.at)))
        for v in unvisited:
            place_id(v.url, v.title, v.at)
        if downloads:
            con.execute("INSERT INTO moz_anno_attributes (id, name) VALUES (1, 'downloads/destinationFileURI'), "
                        "(2, 'downloads/metaData')")
            for d in downloads:
                pid = place_id(d.url, None, None)
                con.execute("INSERT INTO moz_annos (place_id, anno_attribute_id, content, dateAdded, lastModified) "
                            "VALUES (?, 1, ?, ?, ?)", (pid, "file://" + d.target, to_prtime(d.at), to_prtime(d.at)))
                con.execute("INSERT INTO moz_annos (place_id, anno_attribute_id, content, dateAdded, lastModified) "
                            "VALUES (?, 2, ?, ?, ?)", (pid, '{"state":1}', to_prtime(d.at), to_prtime(d.at)))
        con.commit()
    finally:
        con.close()
    return path


def write_formhistory(path: Path, entries: list[FormEntry]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    try:
        con.executescript(FORMHISTORY_SCHEMA)
        for i, e in enumerate(entries):
            con.execute("INSERT INTO moz_formhistory (fieldname, value, timesUsed, firstUsed, lastUsed, guid) "
                        "VALUES (?, ?, 1, ?, ?, ?)", (e.field, e.value, to_prtime(e.first), to_prtime(e.last),
                                                      f"f{i:011d}"))
        con.commit()
    finally:
        con.close()
    return path


def write_chrome_history(path: Path, visits: list[Visit], downloads: Sequence[Download] = ()) -> Path:
    """History (Chrome and Edge write the same tables)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    try:
        con.executescript(CHROME_SCHEMA)
        con.execute("INSERT INTO meta VALUES ('version', '67')")
        url_id: dict[str, int] = {}
        for v in visits:
            if v.url not in url_id:
                cur = con.execute("INSERT INTO urls (url, title, visit_count, last_visit_time) VALUES (?, ?, 0, ?)",
                                  (v.url, v.title or "", to_webkit(v.at)))
                url_id[v.url] = int(cur.lastrowid or 0)
            con.execute("UPDATE urls SET visit_count = visit_count + 1, last_visit_time = ? WHERE id = ?",
                        (to_webkit(v.at), url_id[v.url]))
            con.execute("INSERT INTO visits (url, visit_time, from_visit, transition) VALUES (?, ?, 0, 805306368)",
                        (url_id[v.url], to_webkit(v.at)))
        for i, d in enumerate(downloads, start=1):
            t = to_webkit(d.at)
            con.execute("INSERT INTO downloads VALUES (?, ?, ?, ?, ?, 100, 100, 1, 0, 0, ?, 0, '', ?, '', "
                        "'application/octet-stream')", (i, f"guid-{i}", d.target, d.target, t, t, d.tab_url or ""))
            con.execute("INSERT INTO downloads_url_chains VALUES (?, 0, ?)", (i, d.url))
        con.commit()
    finally:
        con.close()
    return path


def at(y: int, mo: int, d: int, h: int = 12, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)

"""Chrome, Edge and other Chromium browsers: the ``History`` database.

Recognised by its tables, never by name: ``urls`` (id, url, title, last_visit_time) and ``visits`` (id, url ->
urls.id, visit_time, transition); downloads in ``downloads`` (id, target_path, start_time, tab_url) with the
redirect chain in ``downloads_url_chains`` (id, chain_index, url), as plaso's chrome_history plugin and
Hindsight read them. Times are WebKit: microseconds since 1601-01-01 UTC.
"""

from __future__ import annotations

from collections.abc import Iterator

from ringtrace.model import ReadOptions, Record
from ringtrace.sources._helpers.sqlite_util import col_or_null
from ringtrace.sources.base import Candidate, SourceFormat, Unit, register
from ringtrace.sources.browsers._visits import MAX_TEXT, BrowserReader, read_with, visits, webkit_time

REQUIRED = {"urls": {"id", "url"}, "visits": {"id", "url", "visit_time"}}


@register
class ChromeHistory(SourceFormat):
    name = "chrome-history"
    description = "Chrome and Edge history (History: visits, downloads)"
    required_tables = REQUIRED

    def claim(self, candidate: Candidate) -> int:
        if not candidate.is_sqlite or not self.has_tables(candidate.sqlite_schema):
            return 0
        return 90

    def members(self, candidate: Candidate, all_relpaths: list[str]) -> list[str]:
        rel = candidate.relpath
        return [p for p in (rel + "-journal", rel + "-wal", rel + "-shm") if p in all_relpaths]

    def read(self, unit: Unit, options: ReadOptions) -> Iterator[Record]:
        yield from read_with(unit, "ringtrace-chh-",
                             lambda con: BrowserReader(unit, options, con, REQUIRED, "Chrome History"), _run)


def _run(r: BrowserReader) -> Iterator[Record]:
    yield from r.guarded("visits", lambda: _visits(r))
    if "downloads" in r.schema and "id" in r.schema["downloads"]:
        yield from r.guarded("downloads", lambda: _downloads(r))


def _visits(r: BrowserReader) -> Iterator[Record]:
    sql = ("SELECT v.id, v.visit_time, u.url, " + col_or_null(r.schema, "urls", "title", "u")
           + " FROM visits v JOIN urls u ON u.id = v.url ORDER BY v.id")
    yield from visits(r, sql, "visits", webkit_time)


def _downloads(r: BrowserReader) -> Iterator[Record]:
    start = col_or_null(r.schema, "downloads", "start_time", "d")
    target = col_or_null(r.schema, "downloads", "target_path", "d")
    tab = col_or_null(r.schema, "downloads", "tab_url", "d")
    chain = "downloads_url_chains" in r.schema and {"id", "chain_index", "url"} <= r.schema["downloads_url_chains"]
    src = ("(SELECT c.url FROM downloads_url_chains c WHERE c.id = d.id ORDER BY c.chain_index LIMIT 1)"
           if chain else "NULL")
    sql = f"SELECT d.id, {start}, {target}, {src}, {tab} FROM downloads d ORDER BY d.id"
    for did, st, tgt, url, tab_url in r.rows(sql, "downloads"):
        at = r.when(st, webkit_time, "downloads", did)
        dest = r.text(tgt, "downloads", did, MAX_TEXT)
        what = f"downloaded to {dest}" if dest else "downloaded"
        seen: set[str] = set()
        for raw, label in ((url, what), (tab_url, f"{what}, from the page")):
            u = r.text(raw, "downloads", did)
            if u and u not in seen:
                seen.add(u)
                yield from r.indicators(u, "downloads", did, at, u, label)

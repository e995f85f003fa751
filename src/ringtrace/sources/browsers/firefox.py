"""Firefox and Tor Browser (a Firefox ESR): ``places.sqlite`` and ``formhistory.sqlite``.

Recognised by their tables, never by name. places.sqlite: ``moz_places`` (id, url, title, last_visit_date),
``moz_historyvisits`` (id, place_id, visit_date, visit_type); downloads are page annotations in ``moz_annos``
(place_id, anno_attribute_id, content, dateAdded) named by ``moz_anno_attributes`` (``downloads/destinationFileURI``,
``downloads/metaData``), as plaso's firefox_history plugin and Hindsight-style tools read them. formhistory.sqlite:
``moz_formhistory`` (id, fieldname, value, timesUsed, firstUsed, lastUsed). All times are PRTime: microseconds
since 1970-01-01 UTC. A place with no visit rows left (history partly cleared) counts once at its
``last_visit_date``.
"""

from __future__ import annotations

from collections.abc import Iterator

from ringtrace.model import ReadOptions, Record
from ringtrace.sources._helpers.sqlite_util import col_or_null
from ringtrace.sources.base import Candidate, SourceFormat, Unit, register
from ringtrace.sources.browsers._visits import MAX_TEXT, BrowserReader, prtime, read_with, visits

PLACES_REQUIRED = {"moz_places": {"id", "url"}, "moz_historyvisits": {"id", "place_id", "visit_date"}}
FORM_REQUIRED = {"moz_formhistory": {"id", "fieldname", "value"}}
DOWNLOAD_ANNOS = ("downloads/destinationFileURI",)


@register
class FirefoxPlaces(SourceFormat):
    name = "firefox-places"
    description = "Firefox and Tor Browser history (places.sqlite: visits, downloads)"
    required_tables = PLACES_REQUIRED

    def claim(self, candidate: Candidate) -> int:
        if not candidate.is_sqlite or not self.has_tables(candidate.sqlite_schema):
            return 0
        return 90

    def members(self, candidate: Candidate, all_relpaths: list[str]) -> list[str]:
        rel = candidate.relpath
        return [p for p in (rel + "-wal", rel + "-shm") if p in all_relpaths]

    def read(self, unit: Unit, options: ReadOptions) -> Iterator[Record]:
        yield from read_with(unit, "ringtrace-ffp-",
                             lambda con: BrowserReader(unit, options, con, PLACES_REQUIRED, "Firefox places"),
                             _places)


def _places(r: BrowserReader) -> Iterator[Record]:
    yield from r.guarded("moz_historyvisits", lambda: _visits(r))
    yield from r.guarded("moz_places", lambda: _unvisited(r))
    if {"moz_annos", "moz_anno_attributes"} <= set(r.schema):
        yield from r.guarded("moz_annos", lambda: _downloads(r))


def _visits(r: BrowserReader) -> Iterator[Record]:
    sql = ("SELECT v.id, v.visit_date, p.url, " + col_or_null(r.schema, "moz_places", "title", "p")
           + " FROM moz_historyvisits v JOIN moz_places p ON p.id = v.place_id ORDER BY v.id")
    yield from visits(r, sql, "moz_historyvisits", prtime)


def _unvisited(r: BrowserReader) -> Iterator[Record]:
    # a bookmark or a download source never visited has no last_visit_date: its annotation says what it is
    last = col_or_null(r.schema, "moz_places", "last_visit_date", "p")
    sql = (f"SELECT p.id, {last}, p.url, NULL FROM moz_places p WHERE {last} IS NOT NULL"
           " AND NOT EXISTS (SELECT 1 FROM moz_historyvisits v WHERE v.place_id = p.id) ORDER BY p.id")
    yield from visits(r, sql, "moz_places", prtime, "visited (last visit; visit rows gone)")


def _downloads(r: BrowserReader) -> Iterator[Record]:
    if not {"place_id", "anno_attribute_id", "content"} <= r.schema["moz_annos"]:
        return
    names = ",".join("'" + n.replace("'", "''") + "'" for n in DOWNLOAD_ANNOS)
    sql = ("SELECT a.id, " + col_or_null(r.schema, "moz_annos", "dateAdded", "a") + ", a.content, p.url"
           " FROM moz_annos a JOIN moz_anno_attributes n ON n.id = a.anno_attribute_id"
           " JOIN moz_places p ON p.id = a.place_id"
           f" WHERE n.name IN ({names}) ORDER BY a.id")
    for aid, added, dest, url in r.rows(sql, "moz_annos"):
        u = r.text(url, "moz_annos", aid)
        at = r.when(added, prtime, "moz_annos", aid)
        d = r.text(dest, "moz_annos", aid, MAX_TEXT)
        yield from r.indicators(u, "moz_annos", aid, at, u, f"downloaded to {d}" if d else "downloaded")


@register
class FirefoxFormHistory(SourceFormat):
    name = "firefox-formhistory"
    description = "Firefox and Tor Browser form history (formhistory.sqlite)"
    required_tables = FORM_REQUIRED

    def claim(self, candidate: Candidate) -> int:
        if not candidate.is_sqlite or not self.has_tables(candidate.sqlite_schema):
            return 0
        return 85

    def members(self, candidate: Candidate, all_relpaths: list[str]) -> list[str]:
        rel = candidate.relpath
        return [p for p in (rel + "-wal", rel + "-shm") if p in all_relpaths]

    def read(self, unit: Unit, options: ReadOptions) -> Iterator[Record]:
        yield from read_with(unit, "ringtrace-ffh-",
                             lambda con: BrowserReader(unit, options, con, FORM_REQUIRED, "Firefox form history"),
                             lambda r: r.guarded("moz_formhistory", lambda: _forms(r)))


def _forms(r: BrowserReader) -> Iterator[Record]:
    first = col_or_null(r.schema, "moz_formhistory", "firstUsed", "f")
    last = col_or_null(r.schema, "moz_formhistory", "lastUsed", "f")
    sql = f"SELECT f.id, f.fieldname, f.value, {first}, {last} FROM moz_formhistory f ORDER BY f.id"
    for fid, field, value, first_used, last_used in r.rows(sql, "moz_formhistory"):
        v = r.text(value, "moz_formhistory", fid, MAX_TEXT)
        name = r.text(field, "moz_formhistory", fid, 200) or "?"
        at = r.when(first_used, prtime, "moz_formhistory", fid)
        r.when(last_used, prtime, "moz_formhistory", fid)
        yield from r.indicators(v, "moz_formhistory", fid, at, None, f"typed into form field {name!r}")

"""Shared by the browser formats: bounded row reading, time conversion, the visit loop and indicators from
visited URLs."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ringtrace.indicators.capture import indicator_from
from ringtrace.indicators.extract import extract_indicators
from ringtrace.model import Account, AccountKey, AccountKind, DeviceOwner, Platform, Problem, Prov, ReadOptions, Record
from ringtrace.phones import to_e164
from ringtrace.sources._helpers.sqlite_util import open_readonly_copy, require_tables, table_columns
from ringtrace.sources.base import FormatError, Unit

MAX_ROWS = 2_000_000  # rows read per table; more is reported and left
MAX_URL = 8192  # characters of a URL searched; longer ones are cut (with a Problem)
MAX_TEXT = 4096  # form-history values and titles
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WEBKIT_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
#: times outside these years are damaged or zero, not visits
MIN_YEAR, MAX_YEAR = 1995, 2100


def _from_micros(epoch: datetime, v: object) -> datetime | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
        return None
    try:
        dt = epoch + timedelta(microseconds=int(v))
    except (OverflowError, ValueError):
        return None
    return dt if MIN_YEAR <= dt.year <= MAX_YEAR else None


def prtime(v: object) -> datetime | None:
    """Firefox PRTime: microseconds since 1970-01-01 UTC."""
    return _from_micros(UNIX_EPOCH, v)


def webkit_time(v: object) -> datetime | None:
    """Chrome/WebKit time: microseconds since 1601-01-01 UTC."""
    return _from_micros(WEBKIT_EPOCH, v)


def to_prtime(dt: datetime) -> int:
    return (dt - UNIX_EPOCH) // timedelta(microseconds=1)


def to_webkit(dt: datetime) -> int:
    return (dt - WEBKIT_EPOCH) // timedelta(microseconds=1)


class BrowserReader:
    """One browser database, opened through a private copy (WAL replayed), read with bounds."""

    def __init__(self, unit: Unit, options: ReadOptions, con: sqlite3.Connection, needed: dict[str, set[str]],
                 what: str) -> None:
        self.unit, self.options, self.con = unit, options, con
        self.file = unit.primary
        self.schema = table_columns(con)
        require_tables(self.schema, needed, f"{self.file} ({what})")
        self.cut_reported = False
        self.bad_text_reported = False
        self.pending: list[Problem] = []
        self.bad_time_reported: set[str] = set()

    def rows(self, sql: str, table: str) -> Iterator[sqlite3.Row | tuple[object, ...]]:
        """Rows of ``sql`` (at most MAX_ROWS); a damaged page mid-table is a Problem, the rows before it kept."""
        try:
            cur = self.con.execute(sql + f" LIMIT {MAX_ROWS + 1}")
            n = 0
            for row in cur:
                n += 1
                if n > MAX_ROWS:
                    raise _Overflow
                yield row
        except _Overflow:
            raise
        except sqlite3.DatabaseError as e:
            raise _Damaged(f"{table}: {e}") from e

    def guarded(self, table: str, gen: Callable[[], Iterator[Record]]) -> Iterator[Record]:
        try:
            yield from gen()
        except _Overflow:
            yield Problem(self.file, f"table {table}: more than {MAX_ROWS} rows; the rest were not read",
                          Prov(self.file, table), "warning")
        except _Damaged as e:
            yield Problem(self.file, f"database damaged while reading {e}; rows read before it are kept",
                          Prov(self.file, table), "error")

    def owner(self) -> Iterator[Record]:
        """The owner given at intake (``--owner``): the device's owner, so visits are tied to a person."""
        yield from owner_records(self.file, self.options)

    def text(self, v: object, table: str, row: object, limit: int = MAX_URL) -> str | None:
        if v is None:
            return None
        if isinstance(v, bytes):
            s = v.decode("utf-8", errors="replace")
        elif isinstance(v, str):
            s = v
        else:
            s = str(v)
        if "\ufffd" in s[:limit] and not self.bad_text_reported:
            self.bad_text_reported = True
            self.pending.append(Problem(self.file, f"{table} row {row}: text that is not valid UTF-8; bad bytes "
                                                   "replaced (first such row)", Prov(self.file, table, str(row)),
                                        "warning"))
        if len(s) > limit:
            if not self.cut_reported:
                self.cut_reported = True
                self.pending.append(Problem(self.file, f"{table} row {row}: text of {len(s)} characters cut to "
                                                       f"{limit} (first such row; others cut silently)",
                                            Prov(self.file, table, str(row)), "warning"))
            s = s[:limit]
        return s.replace("\x00", " ")

    def when(self, v: object, conv: Callable[[object], datetime | None], table: str, row: object) -> datetime | None:
        dt = conv(v)
        if dt is None and v not in (None, 0) and table not in self.bad_time_reported:
            self.bad_time_reported.add(table)
            self.pending.append(Problem(self.file, f"{table} row {row}: time {str(v)[:30]!r} is out of range; "
                                                   "kept without a time (first such row)",
                                        Prov(self.file, table, str(row)), "warning"))
        return dt

    def indicators(self, text: str | None, table: str, row: object, at: datetime | None,
                   url: str | None, what: str) -> Iterator[Record]:
        yield from self.flush()
        if not text:
            return
        for f in extract_indicators(text, region=self.options.region):
            ind = indicator_from(f, Prov(self.file, table, str(row)), url, at)
            yield replace(ind, context=f"{what}: {f.context}"[:1000])

    def flush(self) -> Iterator[Record]:
        while self.pending:
            yield self.pending.pop(0)


def owner_records(file: str, options: ReadOptions) -> Iterator[Record]:
    """The owner given at intake (``--owner``) as the device's owner, so a browser trace is tied to a person."""
    if not options.owner:
        return
    e164 = to_e164(options.owner, options.region)
    if e164 is None:
        yield Problem(file, f"owner {options.owner[:40]!r} is not a phone number; visits are tied to the exhibit "
                            "only", Prov(file), "warning")
        return
    key = AccountKey(Platform.WHATSAPP, AccountKind.PHONE, e164)
    prov = Prov(file)
    yield Account(key, prov)
    yield DeviceOwner(key, "--owner (browser profile on the owner's device)", prov)


class _Overflow(Exception):
    pass


class _Damaged(Exception):
    pass


def visits(r: BrowserReader, sql: str, table: str, conv: Callable[[object], datetime | None],
           label: str = "visited") -> Iterator[Record]:
    """The visit loop every browser shares: ``sql`` gives (row id, visit time, url, title) rows of ``table``; each
    URL's indicators carry the visit time and say ``label (title)``."""
    for row_id, raw_time, raw_url, raw_title in r.rows(sql, table):
        url = r.text(raw_url, table, row_id)
        at = r.when(raw_time, conv, table, row_id)
        title = r.text(raw_title, table, row_id, MAX_TEXT)
        yield from r.indicators(url, table, row_id, at, url, f"{label} ({title})" if title else label)


def read_with(unit: Unit, prefix: str, make: Callable[[sqlite3.Connection], BrowserReader],
              run: Callable[[BrowserReader], Iterator[Record]]) -> Iterator[Record]:
    with tempfile.TemporaryDirectory(prefix=prefix) as td:
        con = open_readonly_copy(unit.path, Path(td))
        try:
            try:
                reader = make(con)
            except sqlite3.DatabaseError as e:
                raise FormatError(f"{unit.primary}: {e}") from e
            yield from reader.owner()
            yield from run(reader)
            yield from reader.flush()
        finally:
            con.close()

"""The parse stage: recognise the units of a source by content, then read each into the case's tables.

Parse runs in one transaction per source: a crash leaves the source 'staged' and the next run parses it again
from scratch.
"""

from __future__ import annotations

import os
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, select, update

from ringtrace.case import Case, iter_source_files, source_root
from ringtrace.compute import Executor, SerialExecutor, make_executor
from ringtrace.model import ReadOptions, Record
from ringtrace.sources.base import Candidate, FormatError, SourceFormat, Unit, canonical_format, registry
from ringtrace.stages import Progress, noop_progress
from ringtrace.store import schema as S
from ringtrace.store.rows import Op, Ref, RowEncoder
from ringtrace.store.writer import RecordWriter, driver_rows
from ringtrace.vault import Vault


@dataclass
class ParseResult:
    source_id: int
    units: list[tuple[str, str]] = field(default_factory=list)  # (format, primary)
    counts: dict[str, int] = field(default_factory=dict)
    problems: int = 0


# ---- recognition --------------------------------------------------------------------------------------------


def recognise(root: Path, files: list[tuple[str, int]], forced: str | None = None,
              heads: dict[str, bytes] | None = None) -> list[Unit]:
    """Offer every file to every format; the most confident claim wins; a unit's members are taken out of the
    pool so that, say, the attachments of an export are not read again as something else. ``heads``: the first
    ``HEAD_BYTES`` of files under ``root`` (by relpath) as intake read them while keeping them, so that the
    claims do not read them again; any file not in it is read as ever."""
    heads = heads or {}
    formats: dict[str, SourceFormat] = {n: cls() for n, cls in registry().items()}
    forced = canonical_format(forced) if forced is not None else None
    if forced is not None:
        if forced not in formats:
            raise FormatError(f"unknown format {forced!r}; known: {', '.join(sorted(formats))}")
        formats = {forced: formats[forced]}
    claims: list[tuple[int, str, Candidate, str]] = []
    claimers = [(name, fmt.claim) for name, fmt in formats.items()]  # bound once: asked of every file
    for relpath, size in files:
        cand = Candidate(root, relpath, size)
        if (head := heads.get(relpath)) is not None:
            cand.__dict__["head"] = head  # Candidate.head is a cached_property: this is what reading it gives
        best, best_name = 0, ""
        for name, claim in claimers:
            try:
                score = claim(cand)
            except Exception:  # noqa: BLE001 - a format's sniffing must never stop intake
                score = 0
            if score > best:
                best, best_name = score, name
        if best > 0:
            claims.append((best, relpath, cand, best_name))
    if forced is not None and not claims and len(files) == 1:
        # the examiner insists: let the format try and say plainly why it cannot read the file
        claims.append((1, files[0][0], Candidate(root, files[0][0], files[0][1]), forced))
    claims.sort(key=lambda c: (-c[0], c[1]))
    taken: set[str] = set()
    all_paths = [f for f, _ in files]
    units: list[Unit] = []
    for _score, relpath, cand, name in claims:
        if relpath in taken:
            continue
        members = [m for m in formats[name].members(cand, all_paths) if m != relpath]
        taken.add(relpath)
        taken.update(members)
        units.append(Unit(root=root, primary=relpath, format=name, members=members))
    return units


# ---- parse --------------------------------------------------------------------------------------------------


def _read_options(row: Any) -> ReadOptions:
    return ReadOptions(timezone=row.timezone or "UTC", owner=row.owner, region=row.region)


@dataclass
class _Prepared:
    """What the main process knows of one source before its units are read."""

    source_id: int
    exhibit: str
    original_path: str
    files: list[tuple[str, int]]
    opts: ReadOptions
    units: list[Unit]
    format_error: str | None


def _prepare(case: Case, source_id: int, secrets: dict[str, str] | None) -> _Prepared:
    with case.engine.connect() as con:
        src = con.execute(select(S.sources).where(S.sources.c.id == source_id)).one()
    root = source_root(case, source_id)
    files = list(iter_source_files(case, source_id))
    opts = _read_options(src)
    opts.extra.update(secrets or {})
    error: str | None = None
    try:
        units = recognise(root, files, src.format_hint)
    except FormatError as e:
        error, units = str(e), []
    return _Prepared(source_id, src.exhibit, src.original_path, files, opts, units, error)


def prepare_staged(root: Path, files: list[tuple[str, int]], opts: ReadOptions, format_hint: str | None,
                   original_path: str, heads: dict[str, bytes] | None = None) -> _Prepared:
    """What ``_prepare`` knows of a source, from its intake before it is in the database: its units can be read
    while it waits to be stored. ``source_id`` and ``exhibit`` are set once it is. ``heads``: as ``recognise``."""
    error: str | None = None
    try:
        units = recognise(root, files, format_hint, heads)
    except FormatError as e:
        error, units = str(e), []
    return _Prepared(0, "", original_path, files, opts, units, error)


class UnitStream:
    """The units of one source after another read through ``ex``, their results taken in the order they were added.

    At most two windows of ``size`` units are in flight (as ``_windowed``), so the workers stay busy while the
    writer writes and no more than two windows of records wait in memory; units added later (a source recorded
    while others are parsed) join the queue. A serial executor reads each unit only when its results are taken."""

    def __init__(self, ex: Executor, size: int, case: Case) -> None:
        self.ex = ex
        self.size = max(1, size)
        self.case = case
        self.jobs: deque[_Job] = deque()
        self.windows: deque[Iterator[_Encoded]] = deque()
        self.feed: Callable[[], None] = lambda: None  # called when the queue runs low: more units may be added
        self._feeding = False

    def add(self, prep: _Prepared) -> None:
        self.jobs.extend(_jobs(self.case, prep))
        if not self._feeding:
            self._fill()

    def _fill(self) -> None:
        while not self.full:
            if len(self.jobs) < self.size and not self._feeding:
                self._feeding = True
                try:
                    self.feed()
                finally:
                    self._feeding = False
            if not self.jobs:
                return
            window = [self.jobs.popleft() for _ in range(min(self.size, len(self.jobs)))]
            self.windows.append(iter(self.ex.map(_read_unit_job, window, chunksize=1)))

    @property
    def full(self) -> bool:
        """Both windows are in the pool: units added now wait until the writer has taken a window's results."""
        return len(self.windows) >= 2

    @property
    def none_to_hand_out(self) -> bool:
        """No unit could be handed to the pool now: none waits, or both windows are in it (the writer is behind)."""
        return not self.jobs or self.full

    def take(self) -> _Encoded:
        while True:
            if not self.windows:
                self._fill()
                if not self.windows:
                    raise RuntimeError("a unit's results were asked for before it was added")
            try:
                return next(self.windows[0])
            except StopIteration:
                self.windows.popleft()
                self._fill()

    def write(self, case: Case, prep: _Prepared, progress: Progress = noop_progress) -> ParseResult:
        """Write ``prep``'s source, whose units were the next added, as they arrive."""
        return _write_source(case, prep, (self.take() for _ in prep.units), progress)


def parse_source(case: Case, source_id: int, progress: Progress = noop_progress,
                 secrets: dict[str, str] | None = None) -> ParseResult:
    """Parse one source in one transaction, its units read here one after another (streamed: a unit's records
    are never all held in memory). ``secrets`` (a backup key) reach the readers in memory only: they are never
    stored, so a re-parse needs them again."""
    prep = _prepare(case, source_id, secrets)
    return _write_source(case, prep, (_stream_unit(u, prep.opts) for u in prep.units), progress)


def parse_sources(case: Case, source_ids: list[int], executor: Executor | None = None,
                  progress: Progress = noop_progress) -> list[ParseResult]:
    """Parse several sources: every unit of every source is read through ``executor`` (worker processes or a
    Dask cluster) while this process alone writes, one transaction per source, in source then unit order, so
    the records, their ids and every seal are those of a serial parse whatever the executor.

    Without an executor one is made from RINGTRACE_EXECUTOR, else a local pool when there are several units;
    with a single unit (or the serial executor) units are streamed here, holding no unit in memory."""
    preps = [_prepare(case, sid, None) for sid in source_ids]
    jobs = [j for p in preps for j in _jobs(case, p)]
    spec = os.environ.get("RINGTRACE_EXECUTOR") or ("local" if len(jobs) > 1 else "serial")
    own = executor is None
    ex = executor or make_executor(spec)
    try:
        if isinstance(ex, SerialExecutor) or len(jobs) <= 1:
            return [_write_source(case, p, (_stream_unit(u, p.opts) for u in p.units), progress) for p in preps]
        results = _windowed(ex, jobs, 2 * int(getattr(ex, "workers", 2)))  # in order: source, then unit
        out: list[ParseResult] = []
        for p in preps:
            # exactly len(p.units) results belong to this source; take them as they arrive
            out.append(_write_source(case, p, (next(results) for _ in p.units), progress))
        return out
    finally:
        if own:
            ex.close()


def _windowed(ex: Executor, jobs: list[_Job], size: int) -> Iterator[_Encoded]:
    """``ex.map`` over windows of ``size`` units, the next window handed out before the current one is written:
    the workers stay busy while at most two windows of records wait in memory (not every unit of the case)."""
    size = max(1, size)
    windows = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    current = ex.map(_read_unit_job, windows[0], chunksize=1) if windows else iter(())
    for k in range(len(windows)):
        following = ex.map(_read_unit_job, windows[k + 1], chunksize=1) if k + 1 < len(windows) else None
        yield from current
        if following is not None:
            current = following


# A unit's reading, as (record, None) pairs and at most one final (None, problem reason).
_Item = tuple[Record | None, str | None]


def _stream_unit(unit: Unit, opts: ReadOptions) -> Iterator[_Item]:
    from ringtrace.indicators.messages import message_indicators
    from ringtrace.model import Message

    fmt = registry()[unit.format]()
    try:
        for rec in fmt.read(unit, opts):
            yield rec, None
            if isinstance(rec, Message):
                for ind in message_indicators(rec, opts.region):
                    yield ind, None
    except FormatError as e:
        yield None, f"{unit.format}: {e}"
    except Exception as e:  # noqa: BLE001 - a parser bug on hostile input must not lose the other units
        tb = traceback.format_exception_only(type(e), e)[-1].strip()
        yield None, f"{unit.format} failed while reading (records before this point kept): {tb}"


@dataclass
class _Encoded:
    """A unit read in a worker, as the writer takes it: its rows (``RowEncoder``) and the counts of its records."""

    refs: list[Ref]
    ops: list[Op]
    counts: dict[str, int]
    lines: dict[str, list[str]] | None  # the seal lines of its rows (None: read them back)


# A unit to read in a worker: the unit, the examiner's options, whether the rows' values are bound for the SQLite
# driver, and the vault that keeps media found inside containers.
_Job = tuple[Unit, ReadOptions, bool, str]


def _jobs(case: Case, prep: _Prepared) -> list[_Job]:
    bind = driver_rows(case.engine.dialect)
    return [(u, prep.opts, bind, str(case.vault.root)) for u in prep.units]


def _encode(items: Iterable[_Item], enc: RowEncoder) -> None:
    for rec, reason in items:
        if rec is not None:
            enc.add(rec)
        elif reason is not None:
            enc.problem(enc.unit_primary, reason)


def _read_unit_job(job: _Job) -> _Encoded:
    """Runs in a worker: reads one unit whole into rows for the writer (small tuples pickle far cheaper than
    records); media found inside containers go into the vault here."""
    unit, opts, bind, vault = job
    enc = RowEncoder("parse", unit.primary, bind, Vault(Path(vault)).put_bytes)
    _encode(_stream_unit(unit, opts), enc)
    enc.flush()
    return _Encoded(*enc.take(), dict(enc.counts), enc.lines)


def _write_unit(writer: RecordWriter, unit: Unit, reading: Iterator[_Item] | _Encoded) -> None:
    """One unit's rows into the store: read in a worker, or read here and written record by record as they come."""
    if isinstance(reading, _Encoded):
        writer.start_unit()
        writer.apply(reading.refs, reading.ops, unit.primary)
        writer.end_unit(reading.counts, reading.lines)
        return
    for rec, reason in reading:
        if rec is not None:
            writer.add(rec, unit.primary)
        elif reason is not None:
            writer.unit_problem(unit.primary, reason)
    writer.flush()


def _write_source(case: Case, prep: _Prepared, unit_items: Iterable[Iterator[_Item] | _Encoded],
                  progress: Progress) -> ParseResult:
    """The one writer: the records of each unit (in unit order) into the case in one transaction, then the seal."""
    source_id = prep.source_id
    result = ParseResult(source_id)
    started = datetime.now(UTC)
    with case.begin() as con:
        _clear_parse(con, source_id)  # a crash mid-parse left nothing committed, but be explicit
        writer = RecordWriter(con, source_id, "parse", store_embedded=case.vault.put_bytes)
        if prep.format_error is not None:
            writer.problem(prep.original_path, prep.format_error)
        if not prep.units and prep.files:
            # a folder of pictures needs no parser: every file is inventoried and every image hashed anyway
            writer.problem(prep.original_path, f"no messaging or capture format in this source "
                           f"({len(prep.files)} files): read as a plain folder; its files are inventoried and its "
                           "media hashed", "info")
        for i, (unit, reading) in enumerate(zip(prep.units, unit_items, strict=True)):
            progress("parse", i, len(prep.units))
            result.units.append((unit.format, unit.primary))
            _write_unit(writer, unit, reading)
            con.execute(update(S.source_files)
                        .where(S.source_files.c.source_id == source_id)
                        .where(S.source_files.c.relpath.in_([unit.primary, *unit.members]))
                        .values(unit_primary=unit.primary))
            con.execute(update(S.source_files)
                        .where(S.source_files.c.source_id == source_id)
                        .where(S.source_files.c.relpath == unit.primary).values(format=unit.format))
        con.execute(update(S.sources).where(S.sources.c.id == source_id).values(status="parsed"))
        result.counts = dict(writer.counts)
        result.problems = sum(v for k, v in writer.counts.items() if k.startswith("Problem"))
        # the seal: what this parse derived, so verify can tell later edits of the records from the evidence
        case.log("stage.parse", {"source_id": source_id, "exhibit": prep.exhibit,
                                 "units": [f"{f}:{p}" for f, p in result.units],
                                 "records": result.counts, "started": started.isoformat(),
                                 "seal": writer.seal().as_detail()}, con)
    progress("parse", len(result.units), len(result.units))
    return result


def _clear_parse(con: Connection, source_id: int) -> None:
    mm = select(S.messages.c.id).where(S.messages.c.source_id == source_id)
    con.execute(delete(S.message_media).where(S.message_media.c.message_id.in_(mm)))
    for t in (S.messages, S.group_events, S.participants, S.group_sightings, S.names_seen, S.account_links,
              S.account_sightings, S.device_owners, S.pages, S.indicators):
        con.execute(delete(t).where(t.c.source_id == source_id))
    con.execute(delete(S.problems).where(S.problems.c.source_id == source_id).where(S.problems.c.stage == "parse"))
    con.execute(delete(S.source_files).where(S.source_files.c.source_id == source_id)
                .where(S.source_files.c.embedded.is_(True)))

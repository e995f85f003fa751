"""The stages of a case and the ledger that makes them resumable.

parse (per source) -> hash (per distinct content) -> match (all media x all hash sets) -> analyze (whole case).
Each stage is idempotent: parse runs in one transaction per source (a crash leaves the source 'staged' and the
next run parses it again from scratch); hash skips content already hashed and commits in batches; match and
analyze recompute their tables as a whole. ``run`` does whatever is pending.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, select, update

from ringtrace.case import Case
from ringtrace.model import ReadOptions
from ringtrace.sources.base import Candidate, FormatError, SourceFormat, Unit, canonical_format, registry
from ringtrace.store import schema as S
from ringtrace.store.writer import RecordWriter

Progress = Callable[[str, int, int], None]  # (stage, done, total)
HASH_BATCH = 500  # media rows committed together: a crash loses at most one batch of hashing work


def _noop(stage: str, done: int, total: int) -> None:
    pass


@dataclass
class ParseResult:
    source_id: int
    units: list[tuple[str, str]] = field(default_factory=list)  # (format, primary)
    counts: dict[str, int] = field(default_factory=dict)
    problems: int = 0


# ---- recognition --------------------------------------------------------------------------------------------


def recognise(root: Path, files: list[tuple[str, int]], forced: str | None = None) -> list[Unit]:
    """Offer every file to every format; the most confident claim wins; a unit's members are taken out of the
    pool so that, say, the attachments of an export are not read again as something else."""
    formats: dict[str, SourceFormat] = {n: cls() for n, cls in registry().items()}
    forced = canonical_format(forced) if forced is not None else None
    if forced is not None:
        if forced not in formats:
            raise FormatError(f"unknown format {forced!r}; known: {', '.join(sorted(formats))}")
        formats = {forced: formats[forced]}
    claims: list[tuple[int, str, Candidate, str]] = []
    for relpath, size in files:
        cand = Candidate(root, relpath, size)
        best, best_name = 0, ""
        for name, fmt in formats.items():
            try:
                score = fmt.claim(cand)
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


def parse_source(case: Case, source_id: int, progress: Progress = _noop,
                 secrets: dict[str, str] | None = None) -> ParseResult:
    """Parse one source in one transaction. ``secrets`` (a backup key) reach the readers in memory only: they
    are never stored, so a re-parse needs them again."""
    from ringtrace.intake import iter_source_files, source_root

    with case.engine.connect() as con:
        src = con.execute(select(S.sources).where(S.sources.c.id == source_id)).one()
    root = source_root(case, source_id)
    files = list(iter_source_files(case, source_id))
    result = ParseResult(source_id)
    opts = _read_options(src)
    opts.extra.update(secrets or {})
    started = datetime.now(UTC)
    with case.begin() as con:
        _clear_parse(con, source_id)  # a crash mid-parse left nothing committed, but be explicit
        writer = RecordWriter(con, source_id, "parse", store_embedded=case.vault.put_bytes)
        try:
            units = recognise(root, files, src.format_hint)
        except FormatError as e:
            writer.problem(src.original_path, str(e))
            units = []
        if not units and files:
            # a folder of pictures needs no parser: every file is inventoried and every image hashed anyway
            writer.problem(src.original_path, f"no messaging or capture format in this source ({len(files)} "
                           "files): read as a plain folder; its files are inventoried and its media hashed", "info")
        for i, unit in enumerate(units):
            progress("parse", i, len(units))
            result.units.append((unit.format, unit.primary))
            _read_unit(writer, unit, opts)
            writer.flush()
            con.execute(update(S.source_files)
                        .where(S.source_files.c.source_id == source_id)
                        .where(S.source_files.c.relpath.in_([unit.primary, *unit.members]))
                        .values(unit_primary=unit.primary))
            con.execute(update(S.source_files)
                        .where(S.source_files.c.source_id == source_id)
                        .where(S.source_files.c.relpath == unit.primary).values(format=unit.format))
        writer.flush()
        con.execute(update(S.sources).where(S.sources.c.id == source_id).values(status="parsed"))
        result.counts = dict(writer.counts)
        result.problems = sum(v for k, v in writer.counts.items() if k.startswith("Problem"))
        case.log("stage.parse", {"source_id": source_id, "exhibit": src.exhibit,
                                 "units": [f"{f}:{p}" for f, p in result.units],
                                 "records": result.counts, "started": started.isoformat()}, con)
    progress("parse", len(result.units), len(result.units))
    return result


def _read_unit(writer: RecordWriter, unit: Unit, opts: ReadOptions) -> None:
    from ringtrace.indicators.messages import message_indicators
    from ringtrace.model import Message

    fmt = registry()[unit.format]()
    try:
        for rec in fmt.read(unit, opts):
            writer.add(rec, unit.primary)
            if isinstance(rec, Message):
                for ind in message_indicators(rec, opts.region):
                    writer.add(ind, unit.primary)
    except FormatError as e:
        writer.problem(unit.primary, f"{unit.format}: {e}")
    except Exception as e:  # noqa: BLE001 - a parser bug on hostile input must not lose the other units
        tb = traceback.format_exception_only(type(e), e)[-1].strip()
        writer.problem(unit.primary, f"{unit.format} failed while reading (records before this point kept): {tb}")


def _clear_parse(con: Connection, source_id: int) -> None:
    mm = select(S.messages.c.id).where(S.messages.c.source_id == source_id)
    con.execute(delete(S.message_media).where(S.message_media.c.message_id.in_(mm)))
    for t in (S.messages, S.group_events, S.participants, S.group_sightings, S.names_seen, S.account_links,
              S.account_sightings, S.device_owners, S.pages, S.indicators):
        con.execute(delete(t).where(t.c.source_id == source_id))
    con.execute(delete(S.problems).where(S.problems.c.source_id == source_id).where(S.problems.c.stage == "parse"))
    con.execute(delete(S.source_files).where(S.source_files.c.source_id == source_id)
                .where(S.source_files.c.embedded.is_(True)))


# ---- hash ---------------------------------------------------------------------------------------------------


def _hash_job(item: tuple[str, str]) -> tuple[str, Any]:
    from ringtrace.media.hashing import hash_file

    sha, path = item
    return sha, hash_file(Path(path))


def pending_media(case: Case) -> Iterator[tuple[str, str]]:
    """Distinct contents not yet hashed that look like images or videos (by their first bytes)."""
    from ringtrace.intake import content_path
    from ringtrace.media.images import sniff

    with case.engine.connect() as con:
        done = {r[0] for r in con.execute(select(S.media.c.sha256))}
        seen: set[str] = set()
        for r in con.execute(select(S.source_files.c.sha256).distinct()):
            sha = r[0]
            if sha in done or sha in seen:
                continue
            seen.add(sha)
            path = content_path(case, sha, con)
            if path is None:
                continue
            try:
                with path.open("rb") as fh:
                    head = fh.read(4096)
            except OSError:
                continue
            if sniff(head)[0] in ("image", "video"):
                yield sha, str(path)


def hash_stage(case: Case, executor: Any = None, progress: Progress = _noop) -> int:
    from ringtrace.compute import make_executor

    work = list(pending_media(case))
    if not work:
        return 0
    own = executor is None
    # a pool pays off only with enough work; RINGTRACE_EXECUTOR (serial, local[:N], dask[:ADDRESS]) overrides
    ex = executor or make_executor(os.environ.get("RINGTRACE_EXECUTOR") or ("local" if len(work) > 64 else "serial"))
    done = 0
    batch: list[dict[str, Any]] = []
    try:
        for sha, h in ex.map(_hash_job, work, chunksize=8):
            if h.sha256 != sha:  # the vault object no longer has the content it was filed under
                with case.begin() as con:
                    con.execute(S.problems.insert().values(
                        stage="hash", file=f"vault object {sha}", reason=f"content hashes to {h.sha256}: altered",
                        severity="error", at=datetime.now(UTC)))
                continue
            batch.append(_media_row(h))
            done += 1
            if len(batch) >= HASH_BATCH:
                _insert_media(case, batch)
                batch = []
            progress("hash", done, len(work))
        _insert_media(case, batch)
    finally:
        if own:
            ex.close()
    case.log("stage.hash", {"hashed": done})
    return done


def _media_row(h: Any) -> dict[str, Any]:
    return {
        "sha256": h.sha256, "md5": h.md5, "sha1": h.sha1, "size": h.size, "kind": h.kind, "mime": h.mime,
        "width": h.width, "height": h.height, "pdq": h.pdq, "pdq_quality": h.pdq_quality,
        "pdq_dihedral": ",".join(h.pdq_dihedral) if h.pdq_dihedral else None,
        "video_frames": [list(f) for f in h.video_frames] if h.video_frames else None, "error": h.error,
    }


def _insert_media(case: Case, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    with case.begin() as con:
        existing = {r[0] for r in con.execute(select(S.media.c.sha256)
                                              .where(S.media.c.sha256.in_([r["sha256"] for r in rows])))}
        rows = [r for r in rows if r["sha256"] not in existing]
        if rows:
            con.execute(S.media.insert(), rows)


# ---- run ----------------------------------------------------------------------------------------------------


@dataclass
class RunResult:
    parsed: list[int] = field(default_factory=list)
    hashed: int = 0
    matches: int = 0
    analyzed: bool = False


def run(case: Case, executor: Any = None, progress: Progress = _noop) -> RunResult:
    res = RunResult()
    with case.engine.connect() as con:
        pending = [r[0] for r in con.execute(select(S.sources.c.id).where(S.sources.c.status != "parsed")
                                             .order_by(S.sources.c.id))]
    for sid in pending:
        parse_source(case, sid, progress)
        res.parsed.append(sid)
    res.hashed = hash_stage(case, executor, progress)
    from ringtrace.matching.stage import match_stage

    res.matches = match_stage(case, progress)
    from ringtrace.analysis.stage import analyze_stage

    analyze_stage(case, progress)
    res.analyzed = True
    return res

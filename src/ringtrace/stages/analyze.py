"""The analyze stage: persons, groups, memberships recomputed as a whole from the evidence tables.

Reads everything first, then deletes and re-inserts the analysis tables in the same transaction, so a run is
idempotent and a crash leaves the previous analysis in place. Messages are streamed group by group; only
per-person aggregates are kept in memory. A big case shares the reading with one spawned worker (see
``WORKER_MIN_MESSAGES``), which reads the committed evidence from the case database; the writing stays here.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import Connection, delete, func, select

from ringtrace.analysis.countries import attribute_countries
from ringtrace.analysis.exportnames import NameEvidence, resolve_export_names
from ringtrace.analysis.groups import GroupBuild, describe_groups, merge_chats, sender_map
from ringtrace.analysis.labels import record_merges, stable_labels
from ringtrace.analysis.membership import Activity, Interval, build_memberships
from ringtrace.analysis.persons import Resolution, resolve_persons
from ringtrace.analysis.timeline import SenderMap, from_us, group_timeline, keyed_timeline
from ringtrace.case import Case
from ringtrace.stages import Progress, noop_progress
from ringtrace.store import db, insert_in_batches
from ringtrace.store import schema as S

# A case with at least this many messages reads its groups' timelines in two processes: this one and one spawned
# worker (started when the stage starts, so its interpreter and imports are ready by the time the groups are).
# Below it, the worker's start (~0.6 s) costs more than the half of the reading it takes.
WORKER_MIN_MESSAGES = 150_000
# how the worker is started: spawn, so it holds nothing of this process (threads, open database handles)
START_METHOD = "spawn"


@dataclass
class AnalysisSummary:
    persons: int = 0
    groups: int = 0
    memberships: int = 0
    messages: int = 0  # de-duplicated messages in groups
    duplicates: int = 0  # copies folded into them
    exports_merged: int = 0
    names_resolved: int = 0  # export sender names tied to accounts through matched messages
    conflicts: int = 0
    seconds: float = 0.0
    notes: list[dict[str, Any]] = field(default_factory=list)


def known_media(con: Connection) -> set[str]:
    return {r[0] for r in con.execute(select(S.matches.c.media_sha256).distinct())}


def analyze_stage(case: Case, progress: Progress | None = None) -> AnalysisSummary:
    prog = progress or noop_progress
    t0 = time.perf_counter()
    summary = AnalysisSummary()
    worker = _Worker.start(case)
    try:
        return _analyze(case, prog, t0, summary, worker)
    finally:
        if worker is not None:
            worker.close()


def _analyze(case: Case, prog: Progress, t0: float, summary: AnalysisSummary, worker: _Worker | None,
             ) -> AnalysisSummary:
    with case.begin() as con:
        res = resolve_persons(con)
        senders = sender_map(con, res)
        names = NameEvidence()
        far_half = None if worker is None else partial(worker.submit, "export span")
        chats, uf, basis, notes = merge_chats(con, senders, names, far_half)
        if worker is not None:
            notes.extend(worker.take_failures())
        names.settle()
        names.add_events(con, uf, senders)  # the same join/add/leave recorded by a database: issue 13 item 6
        if names.tallies:  # export names whose messages show who they are: persons again, with those links
            exhibits = {sid: ex for sid, ex in con.execute(select(S.sources.c.id, S.sources.c.exhibit))}
            links, name_notes = resolve_export_names(names, uf, res, exhibits)
            notes.extend(name_notes)
            if links:
                res = resolve_persons(con, links)
                senders = sender_map(con, res)
                summary.names_resolved = len(links)
        del names
        plabels, relabelled = stable_labels(con, "person", [p.account_ids for p in res.persons], "P")
        for p, lab in zip(res.persons, plabels, strict=True):
            p.label = lab
        record_merges(con, relabelled)  # decisions taken on a merged label follow the person
        countries = attribute_countries(con, res)
        from ringtrace.analysis.groups import snapshot_times

        built = describe_groups(con, res, chats, uf, basis, snapshot_times(con))
        glabels, grelabelled = stable_labels(con, "group", [g.chats for g in built], "G")
        for g, lab in zip(built, glabels, strict=True):
            g.label = lab
        relabelled += grelabelled
        known = frozenset(known_media(con))
        keyless = chats_with_keyless_messages(con)
        jobs = [(g.chats, not keyless.isdisjoint(g.chats)) for g in built]
        reads = _read_groups(con, jobs, senders, known, worker, prog)
        if worker is not None:
            notes.extend(worker.take_failures())
        all_members: list[dict[int, list[Interval]]] = []
        for g, got in zip(built, reads, strict=True):
            summary.messages += got.n
            summary.duplicates += got.dups
            g.detail["messages"] = {"count": got.n, "duplicates_folded": got.dups, "first": _iso_us(got.first),
                                    "last": _iso_us(got.last)}
            g.detail["activity"] = {
                res.persons[p].label: {"messages": len(a.times), "media": a.media, "known": a.known,
                                       "forwards": a.forwards, "first": _iso_us(a.times[0]),
                                       "last": _iso_us(a.times[-1])}
                for p, a in sorted(got.activity.items())}
            all_members.append(build_memberships(con, res, g, got.activity))
        prog("analyze", len(built), len(built))
        summary.notes = notes
        summary.exports_merged = sum(1 for b in basis.values() if b.startswith("export matched"))
        _write(con, res, countries, built, all_members, summary)
        summary.seconds = round(time.perf_counter() - t0, 3)
        case.log("stage.analyze", {"persons": summary.persons, "groups": summary.groups,
                                   "memberships": summary.memberships, "messages": summary.messages,
                                   "duplicates_folded": summary.duplicates, "exports_merged": summary.exports_merged,
                                   "names_resolved": summary.names_resolved, "conflicts": summary.conflicts,
                                   "notes": notes[:50], "seconds": summary.seconds,
                                   "labels_merged": relabelled[:100]}, con)
    return summary


@dataclass
class GroupRead:
    """One group's de-duplicated messages, summed up: per person their activity, the count, the copies folded,
    the first and last time (POSIX microseconds)."""

    activity: dict[int, Activity]
    n: int = 0
    dups: int = 0
    first: int | None = None
    last: int | None = None


def read_group(con: Connection, chats: list[int], senders: SenderMap, keyless: bool, known: frozenset[str],
               ) -> GroupRead:
    """``chats`` (one group) read as one timeline: ``keyless`` when one of them holds a message without a key."""
    activity: dict[int, Activity] = {}
    n = dups = 0
    first = last = None
    for ts, mid, person, shas, forwarded, folded, _p in _timeline(con, chats, senders, keyless):
        n += 1
        dups += folded
        if first is None:
            first = ts
        last = ts
        if person is None:
            continue
        a = activity.get(person)
        if a is None:
            a = activity[person] = Activity()
        a.times.append(ts)
        a.ids.append(mid)
        if shas:
            a.media += 1
            a.known += sum(1 for s in set(shas) if s in known)
        a.forwards += forwarded
    return GroupRead(activity, n, dups, first, last)


_Job = tuple[list[int], bool]  # a group's chats, and whether one of them holds a message without a key


def _warm() -> None:
    """In the worker, while this process resolves persons and merges chats: what reading a group imports."""
    from ringtrace.analysis import timeline  # noqa: F401
    from ringtrace.store import db  # noqa: F401


class _Worker:
    """The stage's spawned worker, for a share of the reading (the later span of the export matching, half of
    the groups), and the failures it had: a share it failed is read by this process instead."""

    def __init__(self, url: str) -> None:
        self.url = url  # what it opens the case's database by
        self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(START_METHOD))
        self.pool.submit(_warm)
        self._failures: list[str] = []

    @classmethod
    def start(cls, case: Case) -> _Worker | None:
        """One, when the case is big enough to repay its start and another process can open its database."""
        url = db.url_for_another_process(case.engine)
        if url is None:
            return None
        with case.engine.connect() as con:
            count = con.execute(select(func.count()).select_from(S.messages)).scalar() or 0
        return cls(url) if count >= WORKER_MIN_MESSAGES else None

    def submit(self, share: str, fn: Callable[..., Any], *args: Any) -> Callable[[], Any]:
        """``fn(url, *args)`` in the worker; the call handed back waits for its result. A failure, to submit or
        of the job, is noted under ``share`` and raised to the caller, which then does that share itself."""
        try:
            job = self.pool.submit(fn, self.url, *args)
        except Exception as exc:  # e.g. BrokenProcessPool
            self._failed(exc, share)
            raise

        def result() -> Any:
            try:
                return job.result()
            except Exception as exc:
                self._failed(exc, share)
                raise

        return result

    def _failed(self, exc: BaseException, share: str) -> None:
        self._failures.append(f"the analysis worker failed ({type(exc).__name__}: {exc}); its {share} read here "
                              "instead")

    def take_failures(self) -> list[dict[str, Any]]:
        """The failures noted since the last call, as the stage's notes."""
        out = [{"kind": "analysis worker", "detail": f[:500]} for f in self._failures]
        self._failures.clear()
        return out

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _read_in_worker(url: str, jobs: list[_Job], senders: SenderMap, known: frozenset[str]) -> list[GroupRead]:
    """In the worker: ``jobs`` read from the database at ``url`` (the committed evidence: the stage's own
    transaction has written nothing any group's reading looks at)."""
    engine = db.make_engine(url)
    try:
        with engine.connect() as con:
            return [read_group(con, chats, senders, keyless, known) for chats, keyless in jobs]
    finally:
        engine.dispose()


def _split(con: Connection, jobs: list[_Job]) -> tuple[list[int], list[int]]:
    """The groups' indexes in two halves of about as many messages each (the biggest first, each to the lighter
    half): (this process's, the worker's)."""
    m = S.messages
    per_chat = {int(c): int(n) for c, n in con.execute(select(m.c.chat_id, func.count()).group_by(m.c.chat_id))}
    weight = [sum(per_chat.get(c, 0) for c in chats) for chats, _k in jobs]
    halves: tuple[list[int], list[int]] = ([], [])
    load = [0, 0]
    for i in sorted(range(len(jobs)), key=lambda i: (-weight[i], i)):
        side = 0 if load[0] <= load[1] else 1
        halves[side].append(i)
        load[side] += weight[i]
    return sorted(halves[0]), sorted(halves[1])


def _read_groups(con: Connection, jobs: list[_Job], senders: SenderMap, known: frozenset[str],
                 worker: _Worker | None, prog: Progress) -> list[GroupRead]:
    """Every group read, in ``jobs``' order: half of them by the worker, when there is one, while this process
    reads the other half. A worker that fails leaves its half to this process (the same reads, only later)."""
    out: list[GroupRead | None] = [None] * len(jobs)
    mine: list[int] = list(range(len(jobs)))
    theirs: list[int] = []
    result: Callable[[], Any] | None = None
    if worker is not None and len(jobs) > 1:
        mine, theirs = _split(con, jobs)
        try:
            result = worker.submit("groups", _read_in_worker, [jobs[i] for i in theirs], senders, known)
        except Exception:  # noqa: BLE001, S110 - noted by the worker; its half is read below
            pass
    for done, i in enumerate(mine):
        prog("analyze", done, len(jobs))
        chats, keyless = jobs[i]
        out[i] = read_group(con, chats, senders, keyless, known)
    if result is not None:
        try:
            for i, got in zip(theirs, result(), strict=True):
                out[i] = got
        except Exception:  # noqa: BLE001, S110 - noted by the worker; its half is read below
            pass
    left = [i for i, got in enumerate(out) if got is None]
    for done, i in enumerate(left):
        prog("analyze", len(jobs) - len(left) + done, len(jobs))
        chats, keyless = jobs[i]
        out[i] = read_group(con, chats, senders, keyless, known)
    return [got for got in out if got is not None]


def _timeline(con: Connection, chats: list[int], senders: SenderMap, keyless: bool) -> Iterable[Sequence[Any]]:
    """A group's canonical messages in order: (time in POSIX microseconds, id, person, media hashes, forwarded,
    copies folded into it, precision). Chats whose every message has a key take the short cut
    (``keyed_timeline``, whose records are handed over as they are: no tuple per message)."""
    if not keyless:
        recs = keyed_timeline(con, chats, senders)
        if recs is not None:
            return recs
    return ((m.ts, m.id, m.person, m.shas, m.forwarded, len(m.duplicates), m.precision_s)
            for m in group_timeline(con, chats, senders))  # = deduplicated(raw_messages(..., whole=True))


def _iso_us(ts: int | None) -> str | None:
    return None if ts is None else from_us(ts).isoformat()


def chats_with_keyless_messages(con: Connection) -> set[int]:
    """Chats holding a message without a key (exports): only their groups need content matching to fold."""
    m = S.messages
    return {int(r[0]) for r in con.execute(select(m.c.chat_id).where(m.c.msg_key.is_(None)).group_by(m.c.chat_id))}


def _write(con: Connection, res: Resolution, countries: list[Any], built: list[GroupBuild],
           members: list[dict[int, list[Interval]]], summary: AnalysisSummary) -> None:
    for t in (S.memberships, S.group_chats, S.groups, S.person_accounts, S.persons):
        con.execute(delete(t))
    prow: list[dict[str, Any]] = []
    parow: list[dict[str, Any]] = []
    for i, p in enumerate(res.persons):
        c = countries[i]
        prow.append({"id": i + 1, "label": p.label, "country": c.country, "country_basis": c.basis,
                     "country_confidence": c.confidence, "explanation": p.explanation})
        parow.extend({"person_id": i + 1, "account_id": a, "basis": p.account_basis[a]} for a in p.account_ids)
    insert_in_batches(con, S.persons, prow)
    insert_in_batches(con, S.person_accounts, parow)
    grow: list[dict[str, Any]] = []
    gcrow: list[dict[str, Any]] = []
    mrow: list[dict[str, Any]] = []
    for gi, g in enumerate(built):
        g.detail["creator"]["person"] = res.persons[g.creator].label if g.creator is not None else None
        g.detail["admins"] = [{"person": res.persons[p].label, "support": sup} for p, sup in sorted(g.admins.items())]
        summary.conflicts += len(g.detail["conflicts"])
        grow.append({"id": gi + 1, "label": g.label, "platform": g.platform, "created_at": g.created_at,
                     "creator_person_id": None if g.creator is None else g.creator + 1, "detail": g.detail})
        gcrow.extend({"group_id": gi + 1, "chat_id": c, "basis": g.basis[c]} for c in g.chats)
        for pi, ivs in sorted(members[gi].items()):
            for iv in ivs:
                mrow.append({"group_id": gi + 1, "person_id": pi + 1, "from_at": iv.from_at, "to_at": iv.to_at,
                             "joined_via": iv.joined_via, "invite_code": iv.invite_code, "role": iv.role,
                             "evidence": iv.evidence})
    insert_in_batches(con, S.groups, grow)
    insert_in_batches(con, S.group_chats, gcrow)
    insert_in_batches(con, S.memberships, mrow)
    summary.persons, summary.groups, summary.memberships = len(prow), len(grow), len(mrow)


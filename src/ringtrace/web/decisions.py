"""Investigators' decisions made in the web app, and the re-analysis jobs that follow some of them.

Notes, tags and bookmarks on persons, groups, messages and media, and media categorisations (Project VIC's scheme by
default, ``CategoryScheme`` otherwise), each stored in its own table and audited in the case's chain with who and
why. Alias and country decisions go through the analysis library (``add_alias``, ``set_country``); they take effect
at the next analysis, which ``Jobs`` runs in a background thread, one at a time per case.
"""

from __future__ import annotations

import re
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from ringtrace.case import Case
from ringtrace.matching.hashsets import CategoryScheme
from ringtrace.store import schema as S

KINDS = ("person", "group", "message", "media")
DECIDERS = ("investigator", "supervisor", "admin")  # the roles that may record decisions: investigator and above
MAX_TEXT = 2000
MAX_TAG = 60
TAG = re.compile(r"^[\w .:+#-]{1,60}$")
SUBJECT = {"person": re.compile(r"^P\d{1,8}$"), "group": re.compile(r"^G\d{1,8}$"),
           "message": re.compile(r"^\d{1,12}$"), "media": re.compile(r"^[0-9a-f]{64}$")}
# Project VIC's categories, in the order the form offers them (raw value -> what it means)
VICS_CHOICES = {"0": "0 · not pertinent", "1": "1 · CSAM (child abuse material)",
                "2": "2 · child exploitive / age difficult", "3": "3 · other pertinent (may identify victims)",
                "4": "4 · adult", "5": "5 · uncategorised"}


class DecisionError(ValueError):
    """A decision the form described cannot be recorded; the message says why."""


def _clean(text: str, limit: int) -> str:
    return " ".join((text or "").split())[:limit]


def check_subject(kind: str, subject: str) -> tuple[str, str]:
    if kind not in KINDS:
        raise DecisionError(f"{kind[:20]!r} is not one of {', '.join(KINDS)}")
    subject = (subject or "").strip()
    if kind == "media":
        subject = subject.lower()
    if not SUBJECT[kind].match(subject):
        raise DecisionError(f"{subject[:40]!r} is not a {kind} identifier")
    return kind, subject


def _exists(con: Connection, kind: str, subject: str) -> bool:
    if kind == "person":
        q = select(S.persons.c.id).where(S.persons.c.label == subject)
    elif kind == "group":
        q = select(S.groups.c.id).where(S.groups.c.label == subject)
    elif kind == "message":
        q = select(S.messages.c.id).where(S.messages.c.id == int(subject))
    else:
        q = select(S.media.c.sha256).where(S.media.c.sha256 == subject)
    return con.execute(q.limit(1)).first() is not None


def _subject(con: Connection, kind: str, subject: str) -> tuple[str, str]:
    kind, subject = check_subject(kind, subject)
    if not _exists(con, kind, subject):
        raise DecisionError(f"there is no {kind} {subject} in this case")
    return kind, subject


def _pk(res: Any) -> int:
    key = res.inserted_primary_key
    assert key is not None
    return int(key[0])


def add_note(case: Case, kind: str, subject: str, text: str, by: str) -> int:
    text = (text or "").strip()[:MAX_TEXT]
    if not text:
        raise DecisionError("a note needs some text")
    with case.begin() as con:
        kind, subject = _subject(con, kind, subject)
        nid = _pk(con.execute(S.notes.insert().values(subject_kind=kind, subject=subject, text=text, by=by,
                                                      at=datetime.now(UTC))))
        case.log("decision.note", {"id": nid, "kind": kind, "subject": subject, "text": text, "by": by}, con)
    return nid


def add_tag(case: Case, kind: str, subject: str, tag: str, by: str) -> bool:
    """True when the tag was added, False when the subject already had it."""
    tag = _clean(tag, MAX_TAG).lower()
    if not TAG.match(tag):
        raise DecisionError("a tag is 1-60 letters, digits, spaces or . : + # - _")
    with case.begin() as con:
        kind, subject = _subject(con, kind, subject)
        t = S.tags
        if con.execute(select(t.c.id).where(t.c.subject_kind == kind, t.c.subject == subject, t.c.tag == tag)
                       ).first():
            return False
        con.execute(t.insert().values(subject_kind=kind, subject=subject, tag=tag, by=by, at=datetime.now(UTC)))
        case.log("decision.tag", {"kind": kind, "subject": subject, "tag": tag, "by": by}, con)
    return True


def remove_tag(case: Case, kind: str, subject: str, tag: str, by: str) -> None:
    kind, subject = check_subject(kind, subject)
    tag = _clean(tag, MAX_TAG).lower()
    with case.begin() as con:
        t = S.tags
        n = con.execute(delete(t).where(t.c.subject_kind == kind, t.c.subject == subject, t.c.tag == tag)).rowcount
        if not n:
            raise DecisionError(f"{kind} {subject} has no tag {tag!r}")
        case.log("decision.untag", {"kind": kind, "subject": subject, "tag": tag, "by": by}, con)


def add_bookmark(case: Case, kind: str, subject: str, title: str, by: str) -> int:
    title = _clean(title, 200) or f"{kind} {subject}"[:200]
    with case.begin() as con:
        kind, subject = _subject(con, kind, subject)
        bid = _pk(con.execute(S.bookmarks.insert().values(subject_kind=kind, subject=subject, title=title, by=by,
                                                          at=datetime.now(UTC))))
        case.log("decision.bookmark", {"id": bid, "kind": kind, "subject": subject, "title": title, "by": by}, con)
    return bid


def categorise(case: Case, sha256: str, category: str, by: str, reason: str,
               scheme: CategoryScheme | None = None) -> str:
    """Record an investigator's category for a media item (raw value of ``scheme``); returns its label."""
    scheme = scheme or CategoryScheme()
    raw = (category or "").strip().lower()[:60]
    if not raw or raw not in scheme.mapping:
        raise DecisionError(f"{raw[:20]!r} is not a category of the scheme {scheme.name}: use one of "
                            f"{', '.join(k for k in scheme.mapping if k)}")
    reason = _clean(reason, 500)
    label = scheme.mapping[raw]
    with case.begin() as con:
        _, sha = _subject(con, "media", sha256)
        con.execute(S.media_categories.insert().values(sha256=sha, scheme=scheme.name, category=raw, label=label,
                                                       reason=reason, by=by, at=datetime.now(UTC)))
        case.log("decision.categorise", {"sha256": sha, "scheme": scheme.name, "category": raw, "label": label,
                                         "reason": reason, "by": by}, con)
    return label


def analyst_categories(con: Connection) -> dict[str, dict[str, Any]]:
    """The latest investigator categorisation of each media item (sha256 -> row)."""
    out: dict[str, dict[str, Any]] = {}
    mc = S.media_categories
    for r in con.execute(select(mc).order_by(mc.c.id)):
        out[str(r.sha256)] = dict(r._mapping)
    return out


def category_choices(scheme: CategoryScheme) -> dict[str, str]:
    """The categories a form offers for ``scheme`` (raw value -> what it means): Project VIC's with their
    meaning, another scheme's as its raw value and label."""
    if scheme.mapping == CategoryScheme().mapping:
        return dict(VICS_CHOICES)
    return {k: f"{k} · {v}" for k, v in scheme.mapping.items() if k}


def account_strings(con: Connection, label: str) -> list[str]:
    """A person's accounts as ``platform:kind:value`` (what an alias or a country override names)."""
    pa, p, a = S.person_accounts, S.persons, S.accounts
    rows = con.execute(select(a.c.platform, a.c.kind, a.c.value).join(pa, pa.c.account_id == a.c.id)
                       .join(p, p.c.id == pa.c.person_id).where(p.c.label == label)
                       .order_by(a.c.platform, a.c.kind, a.c.value).limit(500))
    return [f"{r.platform}:{r.kind}:{r.value}" for r in rows]


def account_of(case: Case, ref: str) -> str:
    """What an alias form names as the other side: an account string as is, or a person label (``P0012``) as the
    first of that person's accounts (an alias to any of them merges the two persons)."""
    ref = (ref or "").strip()[:200]
    if SUBJECT["person"].match(ref):
        with case.engine.connect() as con:
            accounts = account_strings(con, ref)
        if not accounts:
            raise DecisionError(f"there is no person {ref} in this case")
        return accounts[0]
    return ref


def _overrides_about(con: Connection, label: str) -> list[dict[str, Any]]:
    """Overrides that name the person: by label (country, status) or by one of their accounts (alias, country)."""
    ov = S.overrides
    names = [label, *account_strings(con, label)]
    q = (select(ov).where(ov.c.kind != "package", (ov.c.subject.in_(names)) | (ov.c.value.in_(names)))
         .order_by(ov.c.id.desc()).limit(500))
    return [dict(r._mapping) for r in con.execute(q)]


def decisions_about(case: Case, kind: str | None = None, subject: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Notes, tags, bookmarks, categorisations and overrides (newest first), all or about one subject."""
    out: dict[str, list[dict[str, Any]]] = {}
    with case.engine.connect() as con:
        for name, t in (("notes", S.notes), ("tags", S.tags), ("bookmarks", S.bookmarks)):
            q = select(t).order_by(t.c.id.desc()).limit(500)
            if kind and subject:
                q = q.where(t.c.subject_kind == kind, t.c.subject == subject)
            out[name] = [dict(r._mapping) for r in con.execute(q)]
        mc = S.media_categories
        if kind and subject and kind != "media":
            out["categories"] = []
        else:
            q = select(mc).order_by(mc.c.id.desc()).limit(500)
            if subject:
                q = q.where(mc.c.sha256 == subject)
            out["categories"] = [dict(r._mapping) for r in con.execute(q)]
        ov = S.overrides
        if kind == "person" and subject:
            out["overrides"] = _overrides_about(con, subject)
        elif kind and subject:
            out["overrides"] = []
        else:
            out["overrides"] = [dict(r._mapping) for r in con.execute(select(ov).order_by(ov.c.id.desc())
                                                                         .limit(500))]
    return out


def decisions_for(case: Case, kind: str, subjects: list[str]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Notes, tags and bookmarks of many subjects of one kind at once (the messages of a chat page)."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    if not subjects:
        return out
    with case.engine.connect() as con:
        for name, t in (("notes", S.notes), ("tags", S.tags), ("bookmarks", S.bookmarks)):
            for i in range(0, len(subjects), 500):
                q = (select(t).where(t.c.subject_kind == kind, t.c.subject.in_(subjects[i:i + 500]))
                     .order_by(t.c.id.desc()))
                for r in con.execute(q):
                    d = out.setdefault(str(r.subject), {"notes": [], "tags": [], "bookmarks": []})
                    d[name].append(dict(r._mapping))
    return out


# ---- background re-analysis ---------------------------------------------------------------------------------

@dataclass
class Job:
    id: int
    case_path: str
    started_by: str
    why: str
    state: str = "queued"  # queued | running | done | failed
    stage: str = ""
    done: int = 0
    total: int = 0
    started: float = field(default_factory=time.time)
    finished: float | None = None
    error: str = ""

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "stage": self.stage, "done": self.done, "total": self.total,
                "started_by": self.started_by, "why": self.why, "error": self.error,
                "seconds": round((self.finished or time.time()) - self.started, 1)}


class Jobs:
    """Re-analysis runs in threads of the web process: at most one per case at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[int, Job] = {}
        self._running: dict[str, int] = {}
        self._next = 1

    def get(self, jid: int) -> Job | None:
        with self._lock:
            return self._jobs.get(jid)

    def for_case(self, path: str) -> list[Job]:
        with self._lock:
            return sorted((j for j in self._jobs.values() if j.case_path == path), key=lambda j: -j.id)

    def start(self, case: Case, by: str, why: str) -> Job:
        """A new job, or the one already running for this case (its run will pick up this decision only if it had
        not yet reached the analysis; the page says so)."""
        key = str(case.path)
        with self._lock:
            running = self._running.get(key)
            if running is not None:
                return self._jobs[running]
            job = Job(self._next, key, by, why)
            self._next += 1
            self._jobs[job.id] = job
            self._running[key] = job.id
        threading.Thread(target=self._run, args=(job, case), name=f"ringtrace-reanalysis-{job.id}",
                         daemon=True).start()
        return job

    def _run(self, job: Job, case: Case) -> None:
        import ringtrace

        def progress(stage: str, done: int, total: int) -> None:
            job.stage, job.done, job.total = stage, done, total

        job.state = "running"
        try:
            # every writer takes SQLite's write lock at BEGIN (Case.begin: BEGIN IMMEDIATE), so page views that
            # append to the audit chain meanwhile wait their turn instead of racing the run for the next seq
            case.log("web.reanalysis.start", {"job": job.id, "by": job.started_by, "why": job.why})
            ringtrace.run(case, progress=progress)
            job.state = "done"
            case.log("web.reanalysis.done", {"job": job.id, "by": job.started_by})
        except Exception as e:  # noqa: BLE001 - the job reports any failure on its page instead of dying unseen
            job.state, job.error = "failed", f"{type(e).__name__}: {e}"[:500]
            traceback.print_exc()
        finally:
            job.finished = time.time()
            with self._lock:
                self._running.pop(job.case_path, None)

    def wait(self, jid: int, timeout: float = 60.0) -> Job | None:
        """Tests and scripts: block until the job ends (or ``timeout``)."""
        end = time.time() + timeout
        while time.time() < end:
            j = self.get(jid)
            if j is None or j.state in ("done", "failed"):
                return j
            time.sleep(0.05)
        return self.get(jid)

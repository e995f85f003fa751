"""The notes stage: what the text of documents and pictures of paper says, tied to the case.

Reads every line of ``text_lines`` (for a page an examiner transcribed, the transcription stands in for the OCR:
the examiner read it better), extracts names, ages, places, dates, numbers, e-mails and usernames, ties numbers and
names to persons (suggestions with a basis and a score, never merges) and records the people named who tie to
nobody as possible victims. Recomputed as a whole in one transaction after the analysis (it needs the persons), so
it is idempotent and a crash leaves the previous result in place.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, select

from ringtrace.analysis.note_links import CaseAccount, Link, Victim, link_names, link_phones, possible_victims
from ringtrace.case import Case
from ringtrace.identifiers import ExportName, IdentifierError, identifier
from ringtrace.indicators.note_entities import NoteEntity, NoteLine, extract_note_entities
from ringtrace.stages import Progress, noop_progress
from ringtrace.store import insert_in_batches
from ringtrace.store import schema as S


@dataclass
class NotesSummary:
    documents: int = 0
    lines: int = 0
    entities: int = 0
    links: int = 0
    possible_victims: int = 0
    seconds: float = 0.0


def _lines_by_content(con: Connection) -> dict[str, list[tuple[str, NoteLine]]]:
    """sha256 -> (origin, line) in page and line order; transcribed pages replace their OCR lines."""
    t = S.text_lines
    rows = con.execute(select(t).order_by(t.c.sha256, t.c.page, t.c.line_no, t.c.id)).all()
    transcribed = {(r.sha256, r.page) for r in rows if r.origin == "transcription"}
    out: dict[str, list[tuple[str, NoteLine]]] = defaultdict(list)
    for r in rows:
        if r.origin == "ocr" and (r.sha256, r.page) in transcribed:
            continue
        box = None
        if r.box_left is not None and r.box_width is not None:
            box = (r.box_left, r.box_top or 0, r.box_width, r.box_height or 0)
        out[r.sha256].append((r.origin, NoteLine(r.sha256, r.page, r.line_no, r.text, box, r.id,
                                                 ocr=r.origin == "ocr")))
    return out


def _holders(con: Connection, shas: set[str]) -> dict[str, tuple[str | None, str | None, str]]:
    """sha256 -> (region, seizure country, exhibit) of the first exhibit holding it."""
    out: dict[str, tuple[str | None, str | None, str]] = {}
    if not shas:
        return out
    q = (select(S.source_files.c.sha256, S.sources.c.region, S.sources.c.seizure_country, S.sources.c.exhibit)
         .join(S.sources, S.sources.c.id == S.source_files.c.source_id)
         .where(S.source_files.c.sha256.in_(sorted(shas))).order_by(S.sources.c.id))
    for r in con.execute(q):
        if r.sha256 not in out:
            out[r.sha256] = (r.region, r.seizure_country, r.exhibit)
    return out


def case_accounts(con: Connection) -> tuple[dict[str, list[CaseAccount]], list[CaseAccount]]:
    """The case's phone numbers (E.164 -> accounts) and names (every name seen for an account) with persons."""
    person_of = {r.account_id: r.label for r in con.execute(
        select(S.person_accounts.c.account_id, S.persons.c.label)
        .join(S.persons, S.persons.c.id == S.person_accounts.c.person_id))}
    phones: dict[str, list[CaseAccount]] = defaultdict(list)
    names: list[CaseAccount] = []
    for a in con.execute(select(S.accounts)):
        label = person_of.get(a.id)
        if label is None:
            continue
        try:
            ident = identifier(a.platform, a.kind, a.value)
        except IdentifierError:
            continue
        if ident.carries_phone:
            e164 = ident.phone()
            if e164:
                phones[e164].append(CaseAccount(label, a.id, e164, f"phone of {a.platform} account {a.value}"))
        elif isinstance(ident, ExportName):
            names.append(CaseAccount(label, a.id, a.value, f"name in a {a.platform} chat export"))
    exhibits: dict[int, str] = {r.id: r.exhibit for r in con.execute(select(S.sources.c.id, S.sources.c.exhibit))}
    seen: set[tuple[int, str]] = set()
    for r in con.execute(select(S.names_seen.c.account_id, S.names_seen.c.name, S.names_seen.c.kind,
                                S.names_seen.c.source_id).order_by(S.names_seen.c.id)):
        label = person_of.get(r.account_id)
        if label is None or (r.account_id, r.name) in seen or not r.name or len(r.name) > 200:
            continue
        seen.add((r.account_id, r.name))
        names.append(CaseAccount(label, r.account_id, r.name,
                                 f"name seen ({r.kind}) on {exhibits.get(r.source_id, r.source_id)}"))
    return phones, names


def notes_stage(case: Case, progress: Progress | None = None) -> NotesSummary:
    prog = progress or noop_progress
    t0 = time.perf_counter()
    s = NotesSummary()
    with case.begin() as con:
        by_sha = _lines_by_content(con)
        holders = _holders(con, set(by_sha))
        phones, names = case_accounts(con)
        known = list(dict.fromkeys(n.value for n in names))  # (the same set of names, each once)
        entities: list[tuple[str, NoteEntity]] = []
        country_of: dict[str, tuple[str | None, str]] = {}
        docs = sorted(by_sha.items())
        # One extraction per (region, seizure country), not per document: each call folds every known name
        # again (thousands on a medium case), and a line's entities depend only on the line and these arguments.
        batches: dict[tuple[str | None, str | None], list[NoteLine]] = defaultdict(list)
        for sha, lines in docs:
            region, seized, exhibit = holders.get(sha, (None, None, "?"))
            country_of[sha] = (seized or region, exhibit)
            batches[(region, seized)].extend(line for _, line in lines)
        found_on: dict[int, list[NoteEntity]] = defaultdict(list)  # id(line) -> its entities, in order
        for (region, seized), batch in batches.items():
            for e in extract_note_entities(batch, region=region or seized, known_names=known,
                                           prefer_countries=[c for c in (region, seized) if c]):
                found_on[id(e.line)].append(e)
        for i, (_sha, lines) in enumerate(docs):
            prog("notes", i, len(by_sha))
            entities.extend((origin, e) for origin, line in lines for e in found_on.get(id(line), ()))
            s.lines += len(lines)
        prog("notes", len(by_sha), len(by_sha))
        only = [e for _, e in entities]
        links: list[Link] = link_phones(only, phones) + link_names(only, names)
        victims = possible_victims(only, links)
        _write(con, entities, links, victims, country_of)
        s.documents, s.entities, s.links, s.possible_victims = len(by_sha), len(entities), len(links), len(victims)
        s.seconds = round(time.perf_counter() - t0, 3)
        # counts only: what the notes say stays in the tables (the audit is read more widely than victims' data)
        case.log("stage.notes", {"documents": s.documents, "lines": s.lines, "entities": s.entities,
                                 "links": s.links, "possible_victims": s.possible_victims, "seconds": s.seconds}, con)
    return s


def _write(con: Connection, entities: list[tuple[str, NoteEntity]], links: list[Link], victims: list[Victim],
           country_of: dict[str, tuple[str | None, str]]) -> None:
    for t in (S.note_links, S.possible_victims, S.note_entities):
        con.execute(delete(t))
    ids: dict[int, int] = {}
    rows: list[dict[str, Any]] = []
    for n, (origin, e) in enumerate(entities, start=1):
        ids[id(e)] = n
        box = e.box
        rows.append({"id": n, "sha256": e.line.sha256, "text_line_id": e.line.line_id, "origin": origin,
                     "page": e.line.page, "line_no": e.line.line_no, "kind": e.kind, "value": e.value,
                     "raw": e.raw, "span_start": e.start, "span_end": e.end, "country": e.country,
                     "date_precision": e.precision, "basis": e.basis,
                     "box_left": box[0] if box else None, "box_top": box[1] if box else None,
                     "box_width": box[2] if box else None, "box_height": box[3] if box else None})
    insert_in_batches(con, S.note_entities, rows)
    insert_in_batches(con, S.note_links, [
        {"entity_id": ids[id(lk.entity)], "person_label": lk.person_label, "account_id": lk.account_id,
         "matched": lk.matched, "basis": lk.basis, "score": lk.score} for lk in links])
    vrows: list[dict[str, Any]] = []
    for n, v in enumerate(victims, start=1):
        first = v.entities[0]
        seized, exhibit = country_of.get(first.line.sha256, (None, "?"))
        if v.place_country:
            country, cbasis = v.place_country, f"the place written beside the name ({v.place}) is in {v.place_country}"
        elif seized:
            country, cbasis = seized, f"the note was seized in {seized} ({exhibit})"
        else:
            country, cbasis = None, "no place on the line and no seizure country on the exhibit"
        vrows.append({"id": n, "label": f"V{n:04d}", "name": v.name, "age": v.age, "place": v.place,
                      "place_country": v.place_country, "country": country, "country_basis": cbasis,
                      "dates": v.dates or None, "sha256": first.line.sha256, "page": first.line.page,
                      "line_no": first.line.line_no, "entity_ids": [ids[id(e)] for e in v.entities],
                      "basis": v.basis})
    insert_in_batches(con, S.possible_victims, vrows)


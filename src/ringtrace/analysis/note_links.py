"""Who a note names: its phone numbers and names tied to the persons of the case, and the people it names who are
not in the case (possible victims).

A phone number ties to the accounts that carry the same E.164 exactly. A name ties by fuzzy match (rapidfuzz's
token-sort ratio over accent-folded names, so "Lopez Maria" meets "María López") against every name the case has
seen for an account (names_seen, export names). Each tie is a suggestion with its basis and score: nothing is
merged; an investigator accepts one as an alias decision.

A person named on a note who ties to nobody of the case (no number on the same line ties either) is a possible
victim: a separate, most sensitive record with the age, place and dates written beside the name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from ringtrace.indicators.note_entities import NoteEntity, fold

NAME_LINK_SCORE = 85.0  # token-sort ratio at or above which a written name is offered as this person
VICTIM_CLEAR_SCORE = 90.0  # a name tied this well is a person of the case, not a possible victim
MAX_LINKS_PER_NAME = 5


@dataclass(frozen=True, slots=True)
class CaseAccount:
    person_label: str
    account_id: int
    value: str  # the E.164 or the name as the case has it
    where: str  # how the case knows it: "phone of whatsapp account", "name seen (push name) on EX-003"


@dataclass(frozen=True, slots=True)
class Link:
    entity: NoteEntity
    person_label: str
    account_id: int | None
    matched: str
    basis: str
    score: float


@dataclass
class Victim:
    name: str
    entities: list[NoteEntity]
    age: int | None = None
    place: str | None = None
    place_country: str | None = None
    dates: list[str] = field(default_factory=list)
    basis: str = ""


def link_phones(entities: Iterable[NoteEntity], phones: dict[str, list[CaseAccount]]) -> list[Link]:
    out: list[Link] = []
    for e in entities:
        if e.kind != "phone":
            continue
        for acc in phones.get(e.value, ()):
            out.append(Link(e, acc.person_label, acc.account_id, acc.value,
                            f"number {e.raw!r} on the note is {acc.value}, the {acc.where}", 100.0))
    return out


def link_names(entities: Iterable[NoteEntity], names: Sequence[CaseAccount],
               threshold: float = NAME_LINK_SCORE) -> list[Link]:
    """Each written name against every name the case has seen; the best few per person above ``threshold``."""
    by_fold: dict[str, list[CaseAccount]] = defaultdict(list)
    for n in names:
        by_fold[fold(n.value)].append(n)
    choices = list(by_fold)
    out: list[Link] = []
    for e in entities:
        if e.kind != "name" or not choices:
            continue
        hits = process.extract(fold(e.value), choices, scorer=fuzz.token_sort_ratio, score_cutoff=threshold,
                               limit=MAX_LINKS_PER_NAME * 4)
        best: dict[str, tuple[float, CaseAccount]] = {}
        for choice, score, _ in hits:
            for acc in by_fold[choice]:
                cur = best.get(acc.person_label)
                if cur is None or score > cur[0]:
                    best[acc.person_label] = (float(score), acc)
        for label, (score, acc) in sorted(best.items(), key=lambda kv: -kv[1][0])[:MAX_LINKS_PER_NAME]:
            out.append(Link(e, label, acc.account_id, acc.value,
                            f"name {e.value!r} on the note is like {acc.value!r}, {acc.where} "
                            f"(token-sort ratio {score:.0f})", round(score, 1)))
    return out


def possible_victims(entities: Sequence[NoteEntity], links: Sequence[Link]) -> list[Victim]:
    """Names that tie to nobody of the case, with what their line says beside them."""
    tied_lines = {(lk.entity.line.sha256, lk.entity.line.page, lk.entity.line.line_no)
                  for lk in links if lk.entity.kind == "phone"}
    tied_names = {id(lk.entity) for lk in links if lk.entity.kind == "name" and lk.score >= VICTIM_CLEAR_SCORE}
    by_line: dict[tuple[str, int, int], list[NoteEntity]] = defaultdict(list)
    for e in entities:
        by_line[(e.line.sha256, e.line.page, e.line.line_no)].append(e)
    out: list[Victim] = []
    for key, ents in by_line.items():
        names = [e for e in ents if e.kind == "name"]
        if not names or key in tied_lines:
            continue
        for i, n in enumerate(names):
            if id(n) in tied_names:
                continue
            # what stands between this name and the next one on the line belongs to it ("A, 12, Lugo; B, 9, Vigo")
            stop = names[i + 1].start if i + 1 < len(names) else 1 << 30
            mine = [e for e in ents if n.start <= e.start < stop and e is not n]
            v = Victim(n.value, [n, *mine])
            reasons = ["named on a note", "ties to no person of the case"]
            for e in mine:
                if e.kind == "age" and v.age is None:
                    v.age = int(e.value)
                elif e.kind == "place" and v.place is None:
                    v.place, v.place_country = e.value, e.country
                elif e.kind == "date":
                    v.dates.append(e.value)
            if v.age is not None:
                reasons.append(f"age {v.age} written beside the name")
            v.basis = "; ".join(reasons)
            out.append(v)
    return out

"""People: accounts resolved into persons on strong identifiers only.

Merges come from (1) account links the parsers found (LID<->phone jid_map, Telegram id<->phone), (2) the same
phone number in E.164 under any app (a national-format number is read with the device's region), (3) an
analyst's alias, (4) evidence links the analysis found itself (an export's sender name whose messages or
group events match one account's on other devices: ``exportnames``), and (5) in a Telegram export, a bare name
(member lists, inviters) that the same export gives to exactly one person with an id (contacts list,
``personal_information``, a message's ``from``/``from_id``). Display and contact names are never used to
merge across sources or on their own. Every merge is kept as an explanation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from ringtrace.analysis.common import UnionFind
from ringtrace.identifiers import (
    KIND_ORDER,
    PHONE_KINDS,
    ExportName,
    IdentifierError,
    account_str,
    phone_digits_of,
    split_key,
)
from ringtrace.lock import writes_case
from ringtrace.phones import normalize_phone, region_of_phone
from ringtrace.store import schema as S


class AliasError(ValueError):
    pass


@dataclass(frozen=True)
class EvidenceLink:
    """Two accounts the analysis tied through evidence beyond identifiers (matched messages)."""

    a_id: int
    b_id: int
    basis: str
    evidence: dict[str, Any]


@dataclass
class Person:
    label: str
    account_ids: list[int]
    phones: list[str]  # E.164 numbers of this person, sorted
    explanation: list[dict[str, Any]]
    account_basis: dict[int, str] = field(default_factory=dict)


@dataclass
class Resolution:
    persons: list[Person]  # in label order
    person_of: dict[int, int]  # account id -> index in persons
    account_text: dict[int, str]  # account id -> "platform:kind:value"
    account_kind: dict[int, str]
    phone_of_account: dict[int, str]  # account id -> E.164 (phone-like accounts only)
    phone_person: dict[str, int]  # E.164 -> index in persons


def source_regions(con: Connection) -> dict[int, str | None]:
    """The default phone region of each source: the examiner's --region, else the region of the owner's number."""
    owner_phone: dict[int, str] = {}
    q = (select(S.device_owners.c.source_id, S.accounts.c.kind, S.accounts.c.value)
         .join(S.accounts, S.accounts.c.id == S.device_owners.c.account_id))
    for sid, kind, value in con.execute(q):
        raw = phone_digits_of(kind, value)
        if raw and raw.startswith("+"):
            owner_phone.setdefault(sid, raw)
    out: dict[int, str | None] = {}
    for sid, region, owner in con.execute(select(S.sources.c.id, S.sources.c.region, S.sources.c.owner)):
        r = region.upper() if region else None
        if r is None:
            r = region_of_phone(normalize_phone(owner_phone.get(sid) or (owner or ""), None))
        out[sid] = r
    return out


def _sighting_source(con: Connection, account_id: int) -> int | None:
    """One source that saw this account, to borrow its region for a national-format number."""
    for table, col in ((S.account_sightings, S.account_sightings.c.account_id),
                       (S.device_owners, S.device_owners.c.account_id),
                       (S.participants, S.participants.c.account_id),
                       (S.messages, S.messages.c.sender_id),
                       (S.names_seen, S.names_seen.c.account_id)):
        sid = con.execute(select(table.c.source_id).where(col == account_id).limit(1)).scalar()
        if sid is not None:
            return int(sid)
    row = con.execute(select(S.account_links.c.source_id).where(
        (S.account_links.c.a_id == account_id) | (S.account_links.c.b_id == account_id)).limit(1)).scalar()
    return None if row is None else int(row)


def parse_account_str(s: str) -> tuple[str, str, str]:
    """``platform:kind:value`` -> its parts (``identifiers.split_key``), refused as an :class:`AliasError`."""
    try:
        return split_key(s)
    except IdentifierError as exc:
        raise AliasError(str(exc)) from exc


def resolve_persons(con: Connection, evidence: list[EvidenceLink] | tuple[EvidenceLink, ...] = ()) -> Resolution:
    accts: dict[int, tuple[str, str, str]] = {
        r.id: (r.platform, r.kind, r.value) for r in con.execute(select(S.accounts).order_by(S.accounts.c.id))
    }
    text = {aid: account_str(*t) for aid, t in accts.items()}
    by_text = {v: k for k, v in text.items()}
    uf: UnionFind[int] = UnionFind(accts)
    why: list[dict[str, Any]] = []  # every merge, with the accounts it joined and its evidence
    edge_basis: dict[int, str] = {}

    def merge(a: int, b: int, entry: dict[str, Any], basis: str) -> None:
        uf.union(a, b)
        why.append(entry)
        edge_basis.setdefault(b, basis)
        edge_basis.setdefault(a, basis)

    # (1) links the parsers found
    for link in con.execute(select(S.account_links).order_by(S.account_links.c.id)):
        if link.a_id == link.b_id:
            continue
        basis = f"account link ({link.basis})"
        merge(link.a_id, link.b_id, {"accounts": [text[link.a_id], text[link.b_id]], "basis": basis,
                                     "evidence": {"account_links": [link.id], "source_id": link.source_id}}, basis)

    # (2) phone identity across apps
    regions: dict[int, str | None] | None = None
    phone_of: dict[int, str] = {}
    for aid, (_p, kind, value) in accts.items():
        if kind not in PHONE_KINDS:
            continue
        raw = phone_digits_of(kind, value)
        if raw is None:
            continue
        region = None
        if not raw.startswith("+"):
            if regions is None:
                regions = source_regions(con)
            sid = _sighting_source(con, aid)
            region = regions.get(sid) if sid is not None else None
        e164 = normalize_phone(raw, region)
        if e164:
            phone_of[aid] = e164
    by_phone: dict[str, list[int]] = {}
    for aid, e in phone_of.items():
        by_phone.setdefault(e, []).append(aid)
    for e, ids in sorted(by_phone.items()):
        if len(ids) < 2:
            continue
        basis = f"same phone number {e}"
        for other in ids[1:]:
            uf.union(ids[0], other)
            edge_basis.setdefault(other, basis)
            edge_basis.setdefault(ids[0], basis)
        why.append({"accounts": [text[i] for i in ids], "basis": basis, "evidence": {"accounts": ids}})

    # (3) analyst aliases
    for o in con.execute(select(S.overrides).where(S.overrides.c.kind == "alias").order_by(S.overrides.c.id)):
        a, b = by_text.get(o.subject), by_text.get(o.value)
        if a is None or b is None:
            continue  # an alias naming an account this case does not hold (yet): nothing to join
        basis = f"analyst alias by {o.by}: {o.reason or 'no reason given'}"
        merge(a, b, {"accounts": [o.subject, o.value], "basis": basis, "evidence": {"overrides": [o.id]}}, basis)

    # (4) links the analysis found through matched evidence
    for link_ in evidence:
        a, b = link_.a_id, link_.b_id
        if a in accts and b in accts and a != b:
            merge(a, b, {"accounts": [text[a], text[b]], "basis": link_.basis, "evidence": link_.evidence},
                  link_.basis)

    # (5) a Telegram export's names for its own accounts: a member list prints "Ana Sol", while the same export's
    # contacts list, personal_information or a message's ``from``/``from_id`` pair give that name with an id
    for entry, a, b in same_export_names(con, accts, text, uf):
        merge(a, b, entry, entry["basis"])

    comps = list(uf.groups().values())

    def sort_key(aid: int) -> tuple[int, str]:
        _p, kind, value = accts[aid]
        return (KIND_ORDER.get(kind, 6), phone_of.get(aid, value) + "|" + text[aid])

    for c in comps:
        c.sort(key=sort_key)
    comps.sort(key=lambda c: sort_key(c[0]))
    persons: list[Person] = []
    person_of: dict[int, int] = {}
    comp_index = {aid: i for i, c in enumerate(comps) for aid in c}
    expl_of: dict[int, list[dict[str, Any]]] = {}  # person index -> the merges explaining it, in merge order
    for w in why:  # (an entry belongs to the person holding its first account)
        first = by_text.get(w["accounts"][0])
        if first is not None and first in comp_index:
            expl_of.setdefault(comp_index[first], []).append(w)
    for i, c in enumerate(comps):
        expl = expl_of.get(i, [])
        abasis = {aid: ("first identifier" if aid == c[0] else edge_basis.get(aid, "identifier")) for aid in c}
        if len(c) == 1:
            abasis[c[0]] = "sole identifier"
        persons.append(Person(f"P{i + 1:04d}", c, sorted({phone_of[a] for a in c if a in phone_of}), expl, abasis))
        for aid in c:
            person_of[aid] = i
    phone_person = {e: comp_index[ids[0]] for e, ids in by_phone.items()}
    return Resolution(persons, person_of, text, {a: t[1] for a, t in accts.items()}, phone_of, phone_person)


NAME_KINDS = {"contact_name": "contacts list", "profile": "personal_information",
              "telegram_name": "name printed with the account's from_id/actor_id"}
NAME_PLATFORMS = ("telegram",)


def same_export_names(con: Connection, accts: dict[int, tuple[str, str, str]], text: dict[int, str],
                      uf: UnionFind[int]) -> list[tuple[dict[str, Any], int, int]]:
    """(explanation, export-name account, account) for each Telegram export name that the same export gives to
    exactly one person's accounts (names the export printed with an id: contacts, personal_information, from_id).

    Only the export that printed the bare name counts (names are scoped per export, ``S<source>:``): a name seen
    in another source says nothing. Two people the export gives the same name (namesakes) stay apart, and the
    name account stays alone."""
    wanted: dict[tuple[int, str], int] = {}
    for aid, (plat, kind, value) in accts.items():
        if plat in NAME_PLATFORMS and kind == ExportName.kind:
            scope, sep, name = value.partition(":")
            if sep and scope.startswith("S") and scope[1:].isdigit() and name:
                wanted[(int(scope[1:]), name)] = aid
    if not wanted:
        return []
    ns = S.names_seen
    seen: dict[tuple[int, str], dict[int, list[tuple[int, str]]]] = {}
    for r in con.execute(select(ns.c.id, ns.c.account_id, ns.c.name, ns.c.kind, ns.c.source_id)
                         .where(ns.c.kind.in_(sorted(NAME_KINDS))).order_by(ns.c.id)):
        key = (r.source_id, r.name)
        acct = accts.get(r.account_id)
        if key not in wanted or acct is None or acct[0] not in NAME_PLATFORMS or acct[1] == ExportName.kind:
            continue
        seen.setdefault(key, {}).setdefault(r.account_id, []).append((r.id, r.kind))
    out: list[tuple[dict[str, Any], int, int]] = []
    for key, holders in sorted(seen.items()):
        name_aid = wanted[key]
        roots = {uf.find(a) for a in holders}
        if len(roots) != 1:
            continue  # namesakes: the name alone cannot say which
        target = min(holders)
        rows = sorted(i for v in holders.values() for i, _k in v)
        kinds = sorted({NAME_KINDS[k] for v in holders.values() for _i, k in v})
        basis = (f"same Telegram export names {text[target]} {key[1]!r} ({'; '.join(kinds)}), and no one else "
                 "by that name")
        out.append(({"accounts": [text[name_aid], text[target]], "basis": basis,
                     "evidence": {"names_seen": rows[:50], "source_id": key[0]}}, name_aid, target))
    return out


@writes_case
def add_alias(case: Any, a: str, b: str, by: str, reason: str) -> int:
    """Record an analyst's decision that accounts ``a`` and ``b`` (platform:kind:value) are one person.
    Takes effect at the next analyze; audited. Returns the override id."""
    parse_account_str(a)
    parse_account_str(b)
    if a == b:
        raise AliasError("an alias needs two different accounts")
    if not by.strip():
        raise AliasError("an alias must name who decided it")
    with case.begin() as con:
        for s in (a, b):
            p, k, v = parse_account_str(s)
            if con.execute(select(S.accounts.c.id).where(S.accounts.c.platform == p, S.accounts.c.kind == k,
                                                         S.accounts.c.value == v)).scalar() is None:
                raise AliasError(f"no account {s!r} in this case")
        oid = con.execute(S.overrides.insert().values(kind="alias", subject=a, value=b, reason=reason, by=by,
                                                      at=datetime.now(UTC))).inserted_primary_key[0]
        case.log("override.alias", {"override_id": oid, "a": a, "b": b, "by": by, "reason": reason}, con)
    return int(oid)

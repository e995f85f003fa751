"""Per-country referral packages (docs/dissemination.md).

A package for country XX holds everything the case knows about the persons attributed to XX, and nothing that
identifies anyone else: other persons appear as stable pseudonyms (``X03``, attributed to IT). The package is a
folder (optionally zipped) with report.html/.pdf, CSV tables, package.json, case.jsonld and manifest.json
(+ manifest.sig when signed). Each package made is a new version, recorded in the case (``overrides`` kind
'package') and in the audit log.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import shutil
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from ringtrace import TOOL
from ringtrace.analysis.roles import FirstShare, first_sharers, person_conduct
from ringtrace.analysis.suspects import suspects_for
from ringtrace.case import Case
from ringtrace.dissemination import needtoknow as ntk
from ringtrace.dissemination.export import build_export, iso, scoped_export, write_json
from ringtrace.dissemination.export_types import Group, Media, Message, Person
from ringtrace.dissemination.folding import dedup_messages, message_key
from ringtrace.dissemination.status import StatusRow, current_statuses
from ringtrace.store import schema as S
from ringtrace.textsafe import visible

PACKAGE_FORMAT = 1
CONTEXT_MESSAGES = 3
TEMPLATES = Path(__file__).with_name("templates")


class PackageError(Exception):
    pass


@dataclass
class PackageResult:
    country: str
    version: int
    path: Path
    files: list[Path]
    zip: Path | None
    manifest_sha256: str
    signed: bool
    targets: list[str]
    warnings: list[str] = field(default_factory=list)


# ---- building the scoped document -------------------------------------------------------------------------


class _Refs:
    """Person references inside one package: targets by label, everyone else by a stable pseudonym."""

    def __init__(self, targets: set[str], country_of: dict[str, str | None]) -> None:
        self.targets = targets
        self.country_of = country_of
        self.pseudo: dict[str, str] = {}
        self.groups_of: dict[str, set[str]] = defaultdict(set)

    def ref(self, label: str | None, group: str | None = None) -> str | None:
        if label is None:
            return None
        if label in self.targets:
            return label
        if label not in self.pseudo:
            self.pseudo[label] = f"X{len(self.pseudo) + 1:02d}"
        if group:
            self.groups_of[label].add(group)
        return self.pseudo[label]

    def describe(self, label: str) -> str:
        c = self.country_of.get(label)
        return f"{self.pseudo[label]} (attributed to {c})" if c else f"{self.pseudo[label]} (no country attributed)"

    def table(self) -> list[dict[str, Any]]:
        return [{"ref": ref, "attributed_to": self.country_of.get(lab),
                 "groups": sorted(self.groups_of.get(lab, set())),
                 "note": "another person in the case, not attributed to this country: identity withheld "
                         "(need to know)"}
                for lab, ref in sorted(self.pseudo.items(), key=lambda kv: kv[1])]


def _plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _plain(dataclasses.asdict(obj))
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set):
        return [_plain(v) for v in obj]
    if isinstance(obj, datetime):
        return iso(obj)
    if isinstance(obj, str | int | float | bool) or obj is None:
        return obj
    if hasattr(obj, "__dict__"):
        return _plain({k: v for k, v in vars(obj).items() if not k.startswith("_")})
    return str(obj)


_SUMMARY = ("messages", "media", "forwards", "known_sent", "known_received", "first_shared_known", "creator_of",
            "admin_of")


def conduct_summary(c: dict[str, Any]) -> dict[str, Any]:
    """The few figures a reader needs, from the analysis stage's conduct (or the fallback's own keys)."""
    if "basis" in c:
        return c
    out = {k: c[k] for k in _SUMMARY if k in c}
    joins = [f"{j.get('group')} via {j.get('code')}" for j in c.get("invite_joins", [])]
    if joins:
        out["joined through invite links"] = joins
    return out


def _conduct(con: Any, person_id: int, first: dict[str, FirstShare] | None = None) -> dict[str, Any] | None:
    return _plain(person_conduct(con, person_id, first))  # type: ignore[no-any-return]


def _pick(obj: Mapping[str, object], keys: tuple[str, ...]) -> dict[str, object]:
    """The given keys of ``obj`` that it has, in the order given."""
    return {k: obj[k] for k in keys if k in obj}


@dataclass
class _Scope:
    """What every section of one country's package reads: the parts of the export it needs, the targets, their
    references, and the exhibits the package cites (each section adds the ones it relies on)."""

    exp: Mapping[str, Any]  # the export's sources, persons, groups, media with matches and invite links
    messages: Callable[[], Iterable[Message]]  # the export's messages, read again at each call
    country: str
    persons: dict[str, Person]
    targets: set[str]
    refs: _Refs
    pid_of: dict[str, int]
    cited: set[str] = field(default_factory=set)


def _groups_section(sc: _Scope) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Group]]:
    """The groups the targets were in or created (members by reference), one membership row an interval, and those
    groups as exported."""
    refs, targets, persons = sc.refs, sc.targets, sc.persons
    target_groups = [g for g in sc.exp["groups"] if any(m["person"] in targets for m in g["members"])
                     or g["creator"] in targets]
    groups_out: list[dict[str, Any]] = []
    memberships: list[dict[str, Any]] = []
    for g in target_groups:
        sc.cited |= set(g["sources"])
        members = []
        for mem in g["members"]:
            ref = refs.ref(mem["person"], g["id"])
            is_t = mem["person"] in targets
            attributed = persons[mem["person"]]["country"] if mem["person"] in persons else None
            row: dict[str, Any] = {"person": ref, "target": is_t, "attributed_to": attributed,
                                   "intervals": mem["intervals"], "joined_via": mem.get("joined_via", []),
                                   "joined_via_invite_link": mem["joined_via_invite_link"],
                                   "admin": mem["person"] in g["admins"], "creator": mem["person"] == g["creator"]}
            members.append(row)
            for iv in mem["intervals"]:
                memberships.append({"group": g["id"], "person": ref, "target": is_t,
                                    "attributed_to": row["attributed_to"], "from": iv["from"], "to": iv["to"],
                                    "joined_via": ";".join(row["joined_via"]),
                                    "invite_codes": ";".join(mem["joined_via_invite_link"])
                                    if isinstance(mem["joined_via_invite_link"], list) else "",
                                    "admin": row["admin"], "creator": row["creator"]})
        groups_out.append({**_pick(g, ("id", "platform", "identifiers", "names", "created_at", "invite_codes",
                                       "message_count", "media_count", "sources", "conflicts")),
                           "creator": refs.ref(g["creator"], g["id"]),
                           "admins": [refs.ref(a, g["id"]) for a in g["admins"]],
                           "members": members})
    return groups_out, memberships, target_groups


def _chat_of(m: Mapping[str, Any]) -> str:
    return m["chat"].get("group") or f"chat:{m['chat'].get('key')}"


def _fold_key(m: Mapping[str, Any]) -> bytes:
    """A digest of ``message_key``: copies of one message have the same, so that the streamed fold can tell them
    apart without holding every message's text."""
    return hashlib.blake2b(repr(message_key(m)).encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _hit(m: Mapping[str, Any], targets: set[str]) -> bool:
    return m.get("sender") in targets or (m.get("event") or {}).get("target") in targets


def _kept_positions(n: int, hits: list[int], context: int) -> dict[int, list[int]]:
    """Positions in a chat to keep: each hit and ``context`` messages either side (the hits each one is near)."""
    keep_idx: dict[int, list[int]] = {}
    for i in hits:
        for j in range(max(0, i - context), min(n, i + context + 1)):
            keep_idx.setdefault(j, [])
            if j != i:
                keep_idx[j].append(i)
    return keep_idx


def _messages_in_memory(sc: _Scope, context: int) -> list[tuple[str, bool, dict[str, Any]]]:
    """(chat, involves a target, folded message) for each message the package holds, in its order: the whole
    folded list in memory (the reference the streamed ``_messages_streamed`` is tested against)."""
    msgs = dedup_messages(sc.messages())
    by_chat: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in msgs:
        by_chat[_chat_of(m)].append(m)
    out: list[tuple[str, bool, dict[str, Any]]] = []
    for chat, ms in sorted(by_chat.items()):
        ms.sort(key=lambda m: (m["at"] or "", m["kind"]))
        hits = [i for i, m in enumerate(ms) if _hit(m, sc.targets)]
        hit_set = set(hits)
        out += [(chat, j in hit_set, ms[j]) for j in sorted(_kept_positions(len(ms), hits, context))]
    return out


def _messages_streamed(sc: _Scope, context: int) -> list[tuple[str, bool, dict[str, Any]]]:
    """What ``_messages_in_memory`` gives, reading the messages twice as a stream: first each folded message's
    chat, time, kind and whether it involves a target (no text), which fixes the ones to keep; then only those
    are held, with every copy's citation. Folding is by ``message_key`` (as ``dedup_messages``), through a digest."""
    targets = sc.targets
    seq_of: dict[bytes, int] = {}
    by_chat: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    hit_seqs: set[int] = set()
    for m in sc.messages():
        k = _fold_key(m)
        if k in seq_of:
            continue
        seq = seq_of[k] = len(seq_of)
        by_chat[_chat_of(m)].append((m["at"] or "", m["kind"], seq))  # seq last: the sort stays stable
        if _hit(m, targets):
            hit_seqs.add(seq)
    plan: list[tuple[str, bool, int]] = []
    for chat, ms in sorted(by_chat.items()):
        if not any(seq in hit_seqs for _, _, seq in ms):
            continue
        ms.sort()
        hits = [i for i, (_, _, seq) in enumerate(ms) if seq in hit_seqs]
        hit_set = set(hits)
        plan += [(chat, j in hit_set, ms[j][2]) for j in sorted(_kept_positions(len(ms), hits, context))]
    del by_chat
    wanted = {seq for _, _, seq in plan}
    kept: dict[int, dict[str, Any]] = {}
    for m in sc.messages():
        seq = seq_of[_fold_key(m)]
        if seq not in wanted:
            continue
        cite = {"source": m["source"], "location": m["location"]}
        have = kept.get(seq)
        if have is None:
            kept[seq] = dict(m, sources=[cite])
        elif cite not in have["sources"]:
            have["sources"].append(cite)
    return [(chat, involves, kept[seq]) for chat, involves, seq in plan]


def _messages_section(sc: _Scope, tg_ids: set[str], context: int, in_memory: bool = False) -> list[dict[str, Any]]:
    """Everything a target sent or was the object of, plus ``context`` messages around each in the same chat."""
    refs = sc.refs
    messages_out = []
    for chat, involves, m in (_messages_in_memory if in_memory else _messages_streamed)(sc, context):
        group = chat if chat in tg_ids else None
        for c in m["sources"]:
            if c["source"]:
                sc.cited.add(c["source"])
        ev = m.get("event")
        messages_out.append({
            "group": group or m["chat"].get("group"), "chat_kind": m["chat"].get("kind"),
            "chat": m["chat"].get("key") if not m["chat"].get("group") else None,
            "at": m["at"], "kind": m["kind"], "sender": refs.ref(m.get("sender"), group),
            "involves_target": involves, "context": not involves,
            "text": m.get("text"), "media": m.get("media", []), "forwarded": m.get("forwarded", False),
            "event": None if ev is None else {"kind": ev.get("kind"), "target": refs.ref(ev.get("target"), group),
                                              "value": ev.get("value")},
            "sources": m["sources"]})
    return messages_out


def _target_exhibits(sc: _Scope, owner_acc: dict[int, list[tuple[int, str]]]) -> dict[str, list[dict[str, Any]]]:
    """Each target's own exhibits: devices whose owner account is theirs, or whose owner number given at intake is."""
    src_by_id = {s["id"]: s for s in sc.exp["sources"]}
    target_exhibits: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for lab in sc.targets:
        pid = sc.pid_of.get(lab)
        for sid, basis in owner_acc.get(pid, []) if pid is not None else []:
            s = src_by_id.get(sid)
            if s:
                target_exhibits[lab].append({"exhibit": s["exhibit"], "basis": basis})
        for s in sc.exp["sources"]:
            if s.get("owner") and s["owner"] in sc.persons[lab]["phones"] \
                    and all(d["exhibit"] != s["exhibit"] for d in target_exhibits[lab]):
                target_exhibits[lab].append({"exhibit": s["exhibit"], "basis": "owner number given at intake"})
    return target_exhibits


def _matches_section(sc: _Scope, own_ex: set[str]) -> list[dict[str, Any]]:
    """Known material a target shared or that lies on a target's own exhibit: one row a match."""
    refs, targets = sc.refs, sc.targets
    matches_out = []
    for md in sc.exp["media"]:
        if not md["matches"]:
            continue
        by_t = set(md["shared_by"]) & targets
        on_dev = {f["source"] for f in md["files"]} & own_ex
        if not by_t and not on_dev:
            continue
        for f in md["files"]:
            if f["source"] in on_dev:
                sc.cited.add(f["source"])
        fs: Mapping[str, Any] = md["first_shared"] or {}
        for x in md["matches"]:
            matches_out.append({
                "sha256": md["sha256"], "md5": md["md5"], "sha1": md["sha1"], "kind": md["kind"],
                "size": md.get("size"), "hashset": x["hashset"], "entry": x["entry"], "category": x["category"],
                "series": x.get("series"), "method": x["method"], "distance": x["distance"],
                "shared_by": sorted(r for r in (refs.ref(p) for p in md["shared_by"]) if r),
                "shared_in": md["shared_in"], "on_devices": sorted(on_dev),
                "first_shared_by": refs.ref(fs.get("person")), "first_shared_in": fs.get("group"),
                "first_shared_at": fs.get("at"),
                "files": [f for f in md["files"] if f["source"] in on_dev]})
    return matches_out


def _links_section(sc: _Scope, target_groups: list[Group], tg_ids: set[str]) -> list[dict[str, Any]]:
    """Invite links that lead into the targets' groups, where they were posted, and which targets joined by them."""
    refs, targets = sc.refs, sc.targets
    target_codes = {c for g in target_groups for c in g["invite_codes"]}
    links_out: list[dict[str, Any]] = []
    for ln in sc.exp["invite_links"]:
        if ln["group"] in tg_ids or (ln["code"] and ln["code"] in target_codes):
            joined = sorted({refs.ref(m["person"]) or "" for g in target_groups if g["id"] == ln["group"]
                             for m in g["members"] if isinstance(m["joined_via_invite_link"], list)
                             and ln["code"] in m["joined_via_invite_link"] and m["person"] in targets})
            for seen in ln["seen"]:
                if seen["source"]:
                    sc.cited.add(seen["source"])
            links_out.append({**ln, "targets_joined": joined})
    return links_out


def _persons_section(sc: _Scope, target_exhibits: dict[str, list[dict[str, Any]]],
                     groups_out: list[dict[str, Any]], messages_out: list[dict[str, Any]],
                     matches_out: list[dict[str, Any]], conduct: dict[str, dict[str, Any] | None],
                     statuses: dict[str, StatusRow]) -> list[dict[str, Any]]:
    """The targets themselves: their record, devices, groups, conduct and action-day status."""
    persons_out = []
    for lab in sorted(sc.targets):
        p = sc.persons[lab]
        st = statuses.get(lab)
        persons_out.append({
            **p, "devices": sorted(target_exhibits.get(lab, []), key=lambda d: d["exhibit"]),
            "groups": [{"group": g["id"], "intervals": m["intervals"], "joined_via": m["joined_via"],
                        "admin": m["admin"], "creator": m["creator"]}
                       for g in groups_out for m in g["members"] if m["person"] == lab],
            "conduct": conduct.get(lab) or _fallback_conduct(lab, messages_out, matches_out, groups_out),
            "conduct_summary": conduct_summary(conduct.get(lab)
                                               or _fallback_conduct(lab, messages_out, matches_out, groups_out)),
            "status": {"status": st.status, "by": st.by, "at": iso(st.at), "note": st.note}
            if st else {"status": "identified", "by": None, "at": None, "note": None},
        })
    return persons_out


def _sources_section(sc: _Scope, src_tool: dict[int, str | None]) -> list[dict[str, Any]]:
    """The exhibits the package cites, with the device owner by reference."""
    sources_by_ex = {s["exhibit"]: s for s in sc.exp["sources"]}
    sources_out = []
    for ex in sorted(sc.cited):
        s = sources_by_ex.get(ex)
        if not s:
            continue
        owner_ref = None
        if s.get("owner"):
            owner_lab = next((lab for lab, p in sc.persons.items() if s["owner"] in p["phones"]), None)
            owner_ref = sc.refs.ref(owner_lab) if owner_lab else "unattributed number"
        sources_out.append({"exhibit": ex, "kind": s["kind"], "sha256": s["sha256"], "md5": s.get("md5"),
                            "size": s["size"], "files": s.get("files"), "mode": s.get("mode"),
                            "formats": s.get("formats", []), "ingested_at": s.get("ingested_at"),
                            "examiner": s.get("examiner"), "tool": src_tool.get(s["id"]),
                            "timezone": s.get("timezone"), "seizure_country": s.get("seizure_country"),
                            "owner": owner_ref, "path": s["path"]})
    return sources_out


WITHHELD_VICTIM = "a person named in notes (withheld)"


def _victims(con: Any, country: str, include: bool) -> tuple[list[dict[str, Any]], set[str], set[str]]:
    """Possible victims for this country's package (only when asked for), and the names to keep and to withhold.

    Possible victims are the most sensitive data of a case: another country's never go in, and this country's only
    on request; every name not included is scrubbed wherever it might appear."""
    out: list[dict[str, Any]] = []
    keep: set[str] = set()
    withheld: set[str] = set()
    for r in con.execute(select(S.possible_victims).order_by(S.possible_victims.c.id)):
        if include and r.country == country:
            out.append({"id": r.label, "name": r.name, "age": r.age, "place": r.place,
                        "place_country": r.place_country, "country": r.country, "country_basis": r.country_basis,
                        "dates": r.dates or [], "note": {"sha256": r.sha256, "page": r.page, "line": r.line_no},
                        "basis": r.basis})
            keep.add(r.name)
        else:
            withheld.add(r.name)
    return out, keep, withheld - keep


def build_package_doc(case: Case, country: str, context: int = CONTEXT_MESSAGES,
                      version: int = 0, recipient: str | None = None, include_victims: bool = False,
                      in_memory: bool = False) -> tuple[dict[str, Any], ntk.Scrubber, set[str], set[str]]:
    """The package document (before scrubbing is applied), its scrubber, and the forbidden and kept tokens.

    The sections are built in a fixed order (groups, messages, matches, invite links, persons, sources): a
    pseudonym is given the first time a section refers to someone, so the order keeps pseudonyms stable.
    Only the parts of the export the package reads are held, the messages streamed (``_messages_streamed``);
    ``in_memory`` builds the whole export with its messages first, as this did before: the reference the
    tests compare against."""
    country = country.upper()
    with case.engine.connect() as con:
        return _build_package_doc(con, case, country, context, version, recipient, include_victims, in_memory)


def _known(md: Media) -> bool:
    return bool(md["matches"])  # the only media a package reads (``_matches_section``)


def _build_package_doc(con: Connection, case: Case, country: str, context: int, version: int, recipient: str | None,
                       include_victims: bool, in_memory: bool
                       ) -> tuple[dict[str, Any], ntk.Scrubber, set[str], set[str]]:
    messages: Callable[[], Iterable[Message]]
    if in_memory:
        whole = build_export(case, with_messages=True)
        exp: Mapping[str, Any] = whole
        messages = lambda: whole.get("messages", [])  # noqa: E731
    else:
        exp, messages = scoped_export(con, case, _known)
    persons = {p["id"]: p for p in exp["persons"]}
    targets = {lab for lab, p in persons.items() if p["country"] == country}
    if not targets:
        raise PackageError(f"no person in this case is attributed to {country}; nothing to refer")
    refs = _Refs(targets, {lab: p["country"] for lab, p in persons.items()})
    pid_of = {r.label: r.id for r in con.execute(select(S.persons.c.id, S.persons.c.label))}
    per_tokens, orphan = ntk.person_tokens(con)
    owner_acc: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for r in con.execute(select(S.device_owners.c.source_id, S.device_owners.c.basis,
                                S.person_accounts.c.person_id)
                         .join(S.person_accounts, S.person_accounts.c.account_id == S.device_owners.c.account_id)):
        owner_acc[r.person_id].append((r.source_id, r.basis))
    src_tool = {r.id: r.tool for r in con.execute(select(S.sources.c.id, S.sources.c.tool))}
    first = first_sharers(con) if any(lab in pid_of for lab in targets) else None  # once, not once a target
    conduct = {lab: _conduct(con, pid_of[lab], first) for lab in targets if lab in pid_of}
    statuses = current_statuses(con)
    victims_out, victims_keep, victims_withheld = _victims(con, country, include_victims)
    keep = set().union(*(per_tokens[t].tokens for t in targets if t in per_tokens)) | victims_keep
    forbidden_map: dict[str, str] = {}
    forbidden: set[str] = set(orphan)
    for lab, pt in per_tokens.items():
        if lab in targets:
            continue
        forbidden |= pt.tokens
    for t in orphan:
        forbidden_map[t] = "unattributed account"
    for t in victims_withheld:
        forbidden_map[t] = WITHHELD_VICTIM
    forbidden |= victims_withheld

    sc = _Scope(exp, messages, country, persons, targets, refs, pid_of)
    groups_out, memberships, target_groups = _groups_section(sc)
    tg_ids = {g["id"] for g in target_groups}
    messages_out = _messages_section(sc, tg_ids, context, in_memory)
    target_exhibits = _target_exhibits(sc, owner_acc)
    own_ex = {d["exhibit"] for ds in target_exhibits.values() for d in ds}
    sc.cited |= own_ex
    matches_out = _matches_section(sc, own_ex)
    links_out = _links_section(sc, target_groups, tg_ids)
    persons_out = _persons_section(sc, target_exhibits, groups_out, messages_out, matches_out, conduct, statuses)
    sources_out = _sources_section(sc, src_tool)
    suspects = [s for s in suspects_for(case, country) if s["person"] in targets]

    for lab in refs.pseudo:
        for t in per_tokens.get(lab, ntk.PersonTokens(lab, None)).tokens:
            forbidden_map[t] = refs.describe(lab)
    # non-target persons never referenced still must not leak: name them by a generic reference
    for t in forbidden - set(forbidden_map):
        forbidden_map[t] = "another person"
    doc = {
        "package_format": PACKAGE_FORMAT, "case": case.name, "country": country, "version": version,
        "recipient": recipient, "generated_at": iso(datetime.now(UTC)), "tool": TOOL,
        "need_to_know": ("This package names only persons attributed to " + country + ". Everyone else appears as "
                         "a pseudonym (X01, X02 ...) stable within this package, with the country they are "
                         "attributed to; their numbers, accounts and names are withheld."),
        "context_messages": context,
        "persons": persons_out, "groups": groups_out, "memberships": memberships,
        "messages": messages_out, "matches": matches_out, "invite_links": links_out, "sources": sources_out,
        "pseudonyms": refs.table(), "suspects": suspects, "suspects_note": None,
    }
    if include_victims:
        doc["possible_victims"] = victims_out
    scrub = ntk.Scrubber(forbidden_map, keep)
    return doc, scrub, forbidden, keep


def _fallback_conduct(lab: str, msgs: list[dict[str, Any]], matches: list[dict[str, Any]],
                      groups: list[dict[str, Any]]) -> dict[str, Any]:
    """A factual summary when the analysis stage offers no person_conduct."""
    sent = [m for m in msgs if m["sender"] == lab and m["kind"] == "message"]
    return {"basis": "counted from the messages in this package (analysis roles not available)",
            "messages_sent": len(sent), "media_sent": sum(len(m["media"]) for m in sent),
            "known_material_shared": len({x["sha256"] for x in matches if lab in x["shared_by"]}),
            "first_sharer_of_known_material": len({x["sha256"] for x in matches if x["first_shared_by"] == lab}),
            "groups_created": sorted(g["id"] for g in groups if g["creator"] == lab),
            "groups_admin": sorted(g["id"] for g in groups if lab in g["admins"])}


# ---- writing ----------------------------------------------------------------------------------------------

_FORMULA = ("=", "@", "\t", "\r")


def _cell(v: Any) -> str:
    """CSV cell; evidence text that a spreadsheet would run as a formula is prefixed with a quote."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list | dict):
        v = json.dumps(v, ensure_ascii=False, sort_keys=True)
    s = str(visible(str(v)))  # an ESC byte from evidence must not reach a terminal that prints the file
    if s.startswith(_FORMULA) or (s[:1] in "+-" and not s[1:].replace(" ", "").isdigit()):
        return "'" + s
    return s


def _csv(path: Path, header: list[str], rows: list[dict[str, Any]]) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for r in rows:
        w.writerow([_cell(r.get(h)) for h in header])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


CSV_HEADERS = {
    "persons.csv": ["id", "country", "country_basis", "phones", "accounts", "names", "devices", "groups", "status"],
    "memberships.csv": ["group", "person", "target", "attributed_to", "from", "to", "joined_via", "invite_codes",
                        "admin", "creator"],
    "messages.csv": ["group", "chat", "at", "kind", "sender", "involves_target", "text", "media", "forwarded",
                     "event", "sources"],
    "matches.csv": ["sha256", "md5", "sha1", "kind", "size", "hashset", "entry", "category", "series", "method",
                    "distance", "shared_by", "shared_in", "on_devices", "first_shared_by", "first_shared_in",
                    "first_shared_at"],
    "sources.csv": ["exhibit", "kind", "sha256", "md5", "size", "files", "mode", "formats", "ingested_at",
                    "examiner", "tool", "timezone", "seizure_country", "owner", "path"],
}


VICTIM_HEADERS = ["id", "name", "age", "place", "place_country", "country", "country_basis", "dates", "note", "basis"]


def write_csvs(doc: dict[str, Any], out: Path) -> list[Path]:
    persons = [{**p, "groups": [g["group"] for g in p["groups"]], "status": p["status"]["status"],
                "devices": [d["exhibit"] for d in p["devices"]]} for p in doc["persons"]]
    rows = {"persons.csv": persons, "memberships.csv": doc["memberships"], "messages.csv": doc["messages"],
            "matches.csv": doc["matches"], "sources.csv": doc["sources"]}
    return [_csv(out / name, CSV_HEADERS[name], rows[name]) for name in CSV_HEADERS]


def _own_vocabulary() -> set[str]:
    texts = [p.read_text(encoding="utf-8") for p in TEMPLATES.glob("*") if p.is_file()]
    texts += [" ".join(h) for h in CSV_HEADERS.values()]
    from ringtrace.dissemination import caseuco

    texts.append(caseuco.VOCABULARY_TEXT)
    return ntk.vocabulary(texts)


def check_need_to_know(files: list[Path], forbidden: set[str], keep: set[str]) -> list[str]:
    """Findings 'file: token' for any non-target identifier left in a written text file (PDF and media skipped:
    they are rendered from, or unrelated to, the checked text)."""
    check = ntk.LeakCheck(forbidden, keep, _own_vocabulary())
    findings = []
    for f in files:
        if f.suffix.lower() not in (".html", ".csv", ".json", ".jsonld", ".txt"):
            continue
        findings += [f"{f.name}: {t}" for t in check.find_in_file(f)]
    return findings


def next_version(case: Case, country: str) -> int:
    with case.engine.connect() as con:
        n = 0
        for r in con.execute(select(S.overrides.c.value).where(S.overrides.c.kind == "package",
                                                                S.overrides.c.subject == country)):
            try:
                n = max(n, int(json.loads(r.value).get("version", 0)))
            except (ValueError, TypeError, AttributeError):
                continue
    return n + 1


def _zip(folder: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, f"{folder.name}/{p.relative_to(folder).as_posix()}")
    return dest


def make_package(case: Case, country: str, out: Path, *, zip: bool = False, key: Path | None = None,
                 pdf: bool = True, context: int = CONTEXT_MESSAGES, recipient: str | None = None,
                 include_media: bool = False, media_password: str | None = None,
                 recipient_key: Path | None = None, classification: str | None = None,
                 include_victims: bool = False) -> PackageResult:
    """Write the next version of the referral package for ``country`` under ``out/<COUNTRY>-v<N>/``
    (``classification``: the marking on every page of its report; RINGTRACE_CLASSIFICATION or the default)."""
    country = (country or "").strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise PackageError(f"{country!r} is not an ISO 3166 alpha-2 country code")
    if include_media and not (media_password or recipient_key):
        raise PackageError("--include-media needs --media-password or --recipient-key: media are only ever "
                           "sent encrypted")
    version = next_version(case, country)
    raw, scrubber, forbidden, keep = build_package_doc(case, country, context, version, recipient,
                                                       include_victims=include_victims)
    doc = scrubber.scrub_obj(raw)
    folder = out / f"{country}-v{version}"
    if folder.exists():
        raise PackageError(f"{folder} exists: refusing to overwrite a package")
    folder.mkdir(parents=True)
    warnings: list[str] = []
    try:
        files: list[Path] = []
        pj = folder / "package.json"
        files.append(write_json(doc, pj, sort_keys=True))
        files += write_csvs(doc, folder)
        if include_victims:
            files.append(_csv(folder / "possible_victims.csv", VICTIM_HEADERS,
                              [{**v, "note": f"{v['note']['sha256']} p{v['note']['page']} l{v['note']['line']}"}
                               for v in doc["possible_victims"]]))
        from ringtrace.dissemination.caseuco import package_graph, write_jsonld

        files.append(write_jsonld(package_graph(doc), folder / "case.jsonld"))
        from ringtrace.audit import current_head
        from ringtrace.dissemination.report import ReportError, render_package_report

        with case.engine.connect() as con:  # the chain's head now: verify --anchor checks the case against it
            head = current_head(con)
        try:
            files += render_package_report(doc, folder, pdf=pdf, audit_head=str(head) if head else "",
                                           classification=classification)
        except ReportError as e:
            warnings.append(str(e))
            files += [p for p in (folder / "report.html",) if p.exists()]
        if include_media:
            from ringtrace.dissemination.media_crypto import write_encrypted_media

            shas = sorted({m["sha256"] for m in doc["matches"]})
            files += write_encrypted_media(case, shas, folder / "media", password=media_password,
                                           recipient_key=recipient_key)
        leaks = check_need_to_know(files, forbidden, keep)
        if leaks:
            raise PackageError("need-to-know check failed, package withheld: " + "; ".join(leaks[:20]))
        meta = {"case": case.name, "country": country, "version": version, "recipient": recipient,
                "persons": [p["id"] for p in doc["persons"]], "audit_head": str(head) if head else None}
        from ringtrace.dissemination.signing import sign_manifest, write_manifest

        if key is not None:
            mpath, spath = sign_manifest(folder, key, meta)
            files += [mpath, spath]
        else:
            files.append(write_manifest(folder, meta))
            warnings.append("no --key given: manifest.json is unsigned (it detects damage, not tampering)")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # never leave half a package that could be sent by mistake
        raise
    msha = hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
    zpath = _zip(folder, out / f"{country}-v{version}.zip") if zip else None
    value = {"version": version, "manifest_sha256": msha, "out": str(zpath or folder), "recipient": recipient,
             "signed": key is not None, "persons": [p["id"] for p in doc["persons"]],
             "media_included": include_media, "possible_victims": len(doc.get("possible_victims", []))}
    with case.begin() as con:
        res = con.execute(S.overrides.insert().values(kind="package", subject=country,
                                                      value=json.dumps(value, sort_keys=True),
                                                      reason=f"referral package v{version}", by=case.actor,
                                                      at=datetime.now(UTC)))
        oid = res.inserted_primary_key[0] if res.inserted_primary_key else None
        case.log("package.write", {"override_id": oid, "country": country, **value}, con)
    return PackageResult(country, version, folder, sorted(folder.rglob("*")), zpath, msha, key is not None,
                         [p["id"] for p in doc["persons"]], warnings)

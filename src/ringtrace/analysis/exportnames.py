"""Export senders known only by a name, resolved to accounts through the messages they sent.

A WhatsApp export prints a sender by the owner's contact name ("Ana gym"), so the parser can only store an
export-name account scoped to that export. When the export's chat is merged into a JID group (``groups``), its
messages are the same messages other phones hold with real sender accounts. A name is resolved to a person when
at least ``MIN_MATCHES`` of its messages match that person's messages in the same group on another device (same
text or media hash, time within the export's precision) and nothing contradicts it: every matched message points
to that one person, and no other name of the same export points to the same person. Names alone never decide.
A message that matches several people's copies at once is ambiguous and counts for no one. Names used only in
system lines of the same export are the same account (names are scoped per export), so they follow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ringtrace.analysis.common import UnionFind
from ringtrace.analysis.persons import EvidenceLink, Resolution

MIN_MATCHES = 2
LIST_CAP = 50  # message ids kept in an explanation (the count is always exact)
_SCOPE = re.compile(r"^S\d+:")


@dataclass(frozen=True, slots=True)
class NamePair:
    """One export message sent under an export name that matched one message of a known sender elsewhere."""

    account_id: int  # the export-name account
    export_msg: int
    export_source: int
    export_chat: int
    other_msg: int
    person: int  # person index of the other message's sender
    other_source: int
    other_chat: int


@dataclass
class _Votes:
    by_person: dict[int, list[tuple[int, list[int], set[int]]]] = field(default_factory=dict)
    ambiguous: int = 0


def display_name(value: str) -> str:
    """'S5:Ana gym' -> 'Ana gym' (export names are stored scoped to their source)."""
    return _SCOPE.sub("", value, count=1)


def resolve_export_names(pairs: list[NamePair], uf: UnionFind[int], res: Resolution, exhibits: dict[int, str],
                         ) -> tuple[list[EvidenceLink], list[dict[str, Any]]]:
    """Links from export-name accounts to the accounts their messages show, and notes on every name that
    matched something but stayed unresolved (too few matches, several people, or a shared target)."""
    per_msg: dict[tuple[int, int], dict[int, list[tuple[int, int]]]] = {}
    src_of: dict[int, int] = {}
    for p in pairs:
        if uf.find(p.export_chat) != uf.find(p.other_chat):
            continue  # matched a chat the export was not merged into
        src_of[p.account_id] = p.export_source
        per_msg.setdefault((p.account_id, p.export_msg), {}).setdefault(p.person, []).append(
            (p.other_msg, p.other_source))
    votes: dict[int, _Votes] = {}
    for (aid, emsg), people in sorted(per_msg.items()):
        v = votes.setdefault(aid, _Votes())
        if len(people) > 1:
            v.ambiguous += 1
            continue
        (person, found), = people.items()
        v.by_person.setdefault(person, []).append((emsg, sorted({h[0] for h in found}), {h[1] for h in found}))
    notes: list[dict[str, Any]] = []
    cands: dict[tuple[int, int], list[int]] = {}  # (export source, person) -> names pointing there
    for aid, v in sorted(votes.items()):
        name, ex = display_name(res.account_text[aid].split(":", 2)[2]), exhibits.get(src_of[aid], "?")
        if len(v.by_person) > 1:
            who = ", ".join(f"{_ref(res, p)} ({len(h)})" for p, h in sorted(v.by_person.items()))
            notes.append({"kind": "export name not resolved", "account": res.account_text[aid],
                          "detail": f"export sender {name!r} in {ex} matched messages of several people: {who}"})
            continue
        if not v.by_person:
            continue
        (person, hits), = v.by_person.items()
        if len(hits) < MIN_MATCHES:
            notes.append({"kind": "export name not resolved", "account": res.account_text[aid],
                          "detail": f"export sender {name!r} in {ex} matched only {len(hits)} message(s) of "
                                    f"{_ref(res, person)}; {MIN_MATCHES} needed"})
            continue
        cands.setdefault((src_of[aid], person), []).append(aid)
    links: list[EvidenceLink] = []
    for (sid, person), names in sorted(cands.items()):
        ex = exhibits.get(sid, "?")
        already = [a for a in res.persons[person].account_ids
                   if res.account_kind[a] == "export_name" and res.account_text[a].split(":", 2)[2].startswith(
                       f"S{sid}:")]
        if len(names) > 1 or already:
            shown = ", ".join(repr(display_name(res.account_text[a].split(":", 2)[2])) for a in names + already)
            for aid in names:
                notes.append({"kind": "export name not resolved", "account": res.account_text[aid],
                              "detail": f"export senders {shown} in {ex} all match {_ref(res, person)}; "
                                        "a person has one name in one export, so none is taken"})
            continue
        aid = names[0]
        links.append(_link(res, aid, person, votes[aid].by_person[person], ex, exhibits))
    return links, notes


def _ref(res: Resolution, person: int) -> str:
    return res.account_text[res.persons[person].account_ids[0]]


def _link(res: Resolution, aid: int, person: int, hits: list[tuple[int, list[int], set[int]]],
          ex: str, exhibits: dict[int, str]) -> EvidenceLink:
    target = res.persons[person].account_ids[0]
    other = sorted({m for _e, ms, _s in hits for m in ms})
    sources = sorted({s for _e, _m, ss in hits for s in ss})
    name = display_name(res.account_text[aid].split(":", 2)[2])
    shown = ", ".join(str(m) for m in other[:LIST_CAP]) + (" ..." if len(other) > LIST_CAP else "")
    basis = (f"export sender {name!r} in {ex} matched {len(hits)} messages of {res.account_text[target]} "
             f"on {'/'.join(exhibits.get(s, f'source {s}') for s in sources)} (message ids {shown})")
    return EvidenceLink(aid, target, basis, {"export_messages": [e for e, _m, _s in hits][:LIST_CAP],
                                             "messages": other[:LIST_CAP], "sources": sources})


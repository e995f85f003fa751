"""Stable labels for persons and groups.

Analysts and other agencies refer to people and groups by label (a country override on P0012, an arrest recorded
against P0012, a package naming G03). Re-analysis with new evidence must not move a label onto someone else, so a
label is tied to the evidence rows it was given for (account ids for persons, chat ids for groups: rows that are
never renumbered) and kept across runs:
- a person or group keeps the label any of its accounts or chats had before (the lowest, when two merge);
- a new one gets the next number never issued before: a retired label is never reused, so in a case a label
  always meant one person.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, select

from ringtrace.store import schema as S


def _number(label: str) -> int:
    digits = "".join(ch for ch in label if ch.isdigit())
    return int(digits) if digits else 0


def stable_labels(con: Connection, kind: str, anchors: Sequence[Sequence[int]], prefix: str,
                  width: int = 4) -> tuple[list[str], list[dict[str, object]]]:
    """Labels for items given by their anchor ids (in the order the caller wants new labels issued), and the
    changes worth auditing (items that merged two earlier labels)."""
    t = S.labels
    known = {int(r.anchor): r.label for r in con.execute(select(t.c.anchor, t.c.label).where(t.c.kind == kind))}
    issued = max((_number(v) for v in known.values()), default=0)
    taken: set[str] = set()
    out: list[str | None] = []
    changes: list[dict[str, object]] = []
    for ids in anchors:
        before = sorted({known[a] for a in ids if a in known}, key=_number)
        free = [lab for lab in before if lab not in taken]
        label = free[0] if free else None
        if label is not None:
            taken.add(label)
            if len(before) > 1:
                changes.append({"kind": kind, "kept": label, "merged": before[1:]})
        out.append(label)
    for i, label in enumerate(out):
        if label is None:
            issued += 1
            out[i] = f"{prefix}{issued:0{width}d}"
    labels = [str(x) for x in out]
    con.execute(delete(t).where(t.c.kind == kind))
    rows = [{"kind": kind, "anchor": str(a), "label": lab} for ids, lab in zip(anchors, labels, strict=True)
            for a in ids]
    # an anchor no longer in any item keeps its old label on record, so that label is never issued again
    present = {str(a) for ids in anchors for a in ids}
    rows += [{"kind": kind, "anchor": str(a), "label": lab} for a, lab in known.items() if str(a) not in present]
    if rows:
        con.execute(S.labels.insert(), rows)
    return labels, changes


MERGE_KIND = "label_merge"  # an overrides row: subject = the retired label, value = the label that absorbed it


def record_merges(con: Connection, changes: Sequence[dict[str, object]]) -> list[dict[str, str]]:
    """Keep on record which label absorbed which, so a decision taken on a label (a country, a status) follows
    the person when a later analysis merges them into another. Returns the merges newly recorded."""
    have = {(r.subject, r.value) for r in con.execute(select(S.overrides.c.subject, S.overrides.c.value)
                                                       .where(S.overrides.c.kind == MERGE_KIND))}
    new: list[dict[str, str]] = []
    for ch in changes:
        kept = str(ch["kept"])
        merged = ch["merged"]
        for old in merged if isinstance(merged, list) else []:
            if (str(old), kept) not in have:
                new.append({"subject": str(old), "value": kept})
    if new:
        now = datetime.now(UTC)
        con.execute(S.overrides.insert(), [{**m, "kind": MERGE_KIND, "by": "analysis", "at": now,
                                             "reason": f"{m['subject']} merged into {m['value']}"} for m in new])
    return new


def successors(con: Connection) -> dict[str, str]:
    """Retired label -> the label that holds it now (chains followed: P0012 -> P0009 -> P0007)."""
    step = {r.subject: r.value for r in con.execute(select(S.overrides.c.subject, S.overrides.c.value)
                                                     .where(S.overrides.c.kind == MERGE_KIND)
                                                     .order_by(S.overrides.c.id))}
    out: dict[str, str] = {}
    for old in step:
        cur, seen = old, {old}
        while cur in step and step[cur] not in seen:
            cur = step[cur]
            seen.add(cur)
        out[old] = cur
    return out

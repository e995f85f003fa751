"""The audit log: append-only, each entry chained to the one before by SHA-256.

An entry's hash covers its sequence number, time, actor, action, canonical JSON detail and the previous hash,
so editing, deleting or reordering any row breaks the chain from that row on; ``verify_chain`` names the first
row that does not fit. SQLite triggers (migration 0002) refuse UPDATE and DELETE as a second line.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from ringtrace.store.schema import audit_log

GENESIS = "0" * 64


def canonical(detail: Any) -> str:
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(seq: int, at: str, actor: str, action: str, detail: str, prev: str) -> str:
    payload = "\x1f".join([str(seq), at, actor, action, detail, prev]).encode("utf-8")
    return hashlib.sha256(payload).hexdigest()


def default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "unknown"


def append(con: Connection, action: str, detail: dict[str, Any], actor: str | None = None) -> int:
    last = con.execute(select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)).first()
    seq = (last.seq + 1) if last else 1
    prev = last.hash if last else GENESIS
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    actor = actor or default_actor()
    det = canonical(detail)
    h = entry_hash(seq, at, actor, action, det, prev)
    con.execute(
        audit_log.insert().values(seq=seq, at=at, actor=actor, action=action, detail=det, prev_hash=prev, hash=h)
    )
    return seq


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def verify_chain(con: Connection) -> list[ChainBreak]:
    breaks: list[ChainBreak] = []
    prev = GENESIS
    expected_seq = 1
    for row in con.execute(select(audit_log).order_by(audit_log.c.seq)):
        if row.seq != expected_seq:
            breaks.append(ChainBreak(row.seq, f"entries {expected_seq}..{row.seq - 1} are missing"))
        if row.prev_hash != prev:
            breaks.append(ChainBreak(row.seq, "does not follow the entry before it (prev_hash differs)"))
        h = entry_hash(row.seq, row.at, row.actor, row.action, row.detail, row.prev_hash)
        if h != row.hash:
            breaks.append(ChainBreak(row.seq, f"was altered after it was written (action {row.action!r})"))
        prev = row.hash
        expected_seq = row.seq + 1
    return breaks

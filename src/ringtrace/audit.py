"""The audit log: append-only, each entry chained to the one before by SHA-256.

An entry's hash covers its sequence number, time, actor, action, canonical JSON detail and the previous hash,
so editing, deleting or reordering any row breaks the chain from that row on; ``verify_chain`` names the first
row that does not fit. SQLite triggers (migration 0002) refuse UPDATE and DELETE as a second line.

A chain checked only against itself cannot show that its last entries were cut off, or that the whole table was
rewritten with a fresh, self-consistent chain. So the head (last sequence number and hash) is also written outside
the table, to ``audit.head`` in the case folder, after every commit that appended to the log, and printed in every
report and package manifest; ``check_head`` compares the table with such a head (the file's, or one taken earlier
and given as an anchor).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from ringtrace.store.schema import audit_log

GENESIS = "0" * 64
HEAD_FILE = "audit.head"
PENDING_HEAD = "ringtrace_audit_head"  # key in a connection's info: the head this transaction will commit


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
    if con.dialect.name == "postgresql":  # one appender at a time: the next seq and prev hash are read, then written
        con.exec_driver_sql("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE")
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
    con.info[PENDING_HEAD] = AuditHead(seq, h)  # written out by the case once the transaction commits
    return seq


@dataclass(frozen=True)
class AuditHead:
    """The last entry of the chain: enough to detect truncation and a rewritten chain."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @staticmethod
    def parse(text: str) -> AuditHead:
        """``SEQ:HASH`` as printed in reports and manifests."""
        m = re.fullmatch(r"\s*(\d{1,12}):([0-9a-fA-F]{64})\s*", text)
        if not m:
            raise ValueError(f"not an audit head (SEQ:SHA256 expected): {text[:80]!r}")
        return AuditHead(int(m.group(1)), m.group(2).lower())


def write_head(case_dir: Path, head: AuditHead) -> None:
    """Replace the head file atomically; it only ever moves forward."""
    path = case_dir / HEAD_FILE
    old = read_head(case_dir)
    if old is not None and old.seq > head.seq:
        return
    tmp = path.with_name(f".{HEAD_FILE}.{os.getpid()}")
    tmp.write_text(json.dumps({"seq": head.seq, "hash": head.hash}) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_head(case_dir: Path) -> AuditHead | None:
    try:
        d = json.loads((case_dir / HEAD_FILE).read_text(encoding="utf-8"))
        return AuditHead(int(d["seq"]), str(d["hash"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def current_head(con: Connection) -> AuditHead | None:
    last = con.execute(select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)).first()
    return AuditHead(last.seq, last.hash) if last else None


def check_head(con: Connection, head: AuditHead, what: str) -> list[str]:
    """What is wrong with the table, judged against a head kept elsewhere (``what`` says where it came from)."""
    row = con.execute(select(audit_log.c.hash).where(audit_log.c.seq == head.seq)).first()
    last = current_head(con)
    if row is None:
        have = f"the log ends at entry {last.seq}" if last else "the log is empty"
        return [f"audit log truncated: {what} records entry {head.seq} ({head.hash[:16]}...), but {have}"]
    if row.hash != head.hash:
        return [f"audit log rewritten: entry {head.seq} hashes {row.hash[:16]}... but {what} records "
                f"{head.hash[:16]}..."]
    return []


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

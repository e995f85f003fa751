"""Deconfliction between cases: which identifiers and media two investigations share.

Plain mode opens both cases. Keyed mode lets two units compare without handing over their data: each writes
HMAC-SHA256 digests (under a key agreed out of band) of every normalised identifier and media hash, and only
digests present on both sides are revealed; each side can map the shared digests back to its own values.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from ringtrace.identifiers import match_key
from ringtrace.store import schema as S

MAX_LINE = 4096  # a digest line is tiny; anything longer is not ours


class DeconflictError(ValueError):
    pass


@dataclass
class Overlap:
    kind: str  # phone | lid | tg_id | email | username | sha256 | md5
    value: str
    mine: list[str]  # person labels (identifiers) or group labels where the media was posted
    theirs: dict[str, list[str]]  # other case name -> its person / group labels


@dataclass
class Overlaps:
    identifiers: list[Overlap] = field(default_factory=list)
    media: list[Overlap] = field(default_factory=list)

    def persons_in_common(self) -> list[tuple[str, dict[str, list[str]]]]:
        seen: dict[str, dict[str, list[str]]] = {}
        for o in self.identifiers:
            for m in o.mine:
                d = seen.setdefault(m, {})
                for c, labels in o.theirs.items():
                    d.setdefault(c, [])
                    d[c] = sorted(set(d[c]) | set(labels))
        return sorted(seen.items())


def normalised_identifiers(con: Connection) -> dict[tuple[str, str], set[str]]:
    """(kind, normalised value) -> person labels holding it."""
    q = (select(S.accounts.c.kind, S.accounts.c.value, S.persons.c.label)
         .join(S.person_accounts, S.person_accounts.c.account_id == S.accounts.c.id)
         .join(S.persons, S.persons.c.id == S.person_accounts.c.person_id))
    out: dict[tuple[str, str], set[str]] = {}
    for kind, value, label in con.execute(q):
        key = match_key(kind, value)  # None: export names are scoped to one source
        if key is not None:
            out.setdefault(key, set()).add(label)
    return out


def media_hashes(con: Connection) -> dict[tuple[str, str], set[str]]:
    """(sha256|md5, hex) -> labels of the groups where it was posted ('-' when only in the media table)."""
    out: dict[tuple[str, str], set[str]] = {}
    md5_of = {s: m for s, m in con.execute(select(S.media.c.sha256, S.media.c.md5))}
    for s, m in md5_of.items():
        out.setdefault(("sha256", s), set())
        out.setdefault(("md5", m), set())
    q = (select(S.message_media.c.sha256, S.groups.c.label)
         .join(S.messages, S.messages.c.id == S.message_media.c.message_id)
         .outerjoin(S.group_chats, S.group_chats.c.chat_id == S.messages.c.chat_id)
         .outerjoin(S.groups, S.groups.c.id == S.group_chats.c.group_id)
         .where(S.message_media.c.sha256.is_not(None)).distinct())
    for s, label in con.execute(q):
        out.setdefault(("sha256", s), set()).add(label or "-")
        if s in md5_of:
            out.setdefault(("md5", md5_of[s]), set()).add(label or "-")
    return out


def deconflict(case: Any, others: list[Any]) -> Overlaps:
    with case.engine.connect() as con:
        my_ids, my_media = normalised_identifiers(con), media_hashes(con)
    result = Overlaps()
    theirs_ids: dict[tuple[str, str], dict[str, list[str]]] = {}
    theirs_media: dict[tuple[str, str], dict[str, list[str]]] = {}
    for other in others:
        with other.engine.connect() as con:
            oi, om = normalised_identifiers(con), media_hashes(con)
        for k in my_ids.keys() & oi.keys():
            theirs_ids.setdefault(k, {})[other.name] = sorted(oi[k])
        for k in my_media.keys() & om.keys():
            theirs_media.setdefault(k, {})[other.name] = sorted(om[k])
    result.identifiers = [Overlap(k[0], k[1], sorted(my_ids[k]), v) for k, v in sorted(theirs_ids.items())]
    result.media = [Overlap(k[0], k[1], sorted(my_media[k]), v) for k, v in sorted(theirs_media.items())]
    case.log("deconflict.plain", {"others": [o.name for o in others], "identifiers": len(result.identifiers),
                                  "media": len(result.media)})
    return result


def _digest(key: bytes, kind: str, value: str) -> str:
    return hmac.new(key, f"{kind}\x1f{value}".encode(), hashlib.sha256).hexdigest()


def _items(con: Connection) -> Iterator[tuple[str, str]]:
    yield from normalised_identifiers(con)
    yield from media_hashes(con)


def export_keyed_digests(case: Any, key: bytes, out: str | Path) -> int:
    """Write one JSON line per identifier / media hash: {"t": kind, "d": HMAC-SHA256 hex}. No raw values."""
    if len(key) < 16:
        raise DeconflictError("the agreed key must be at least 16 bytes")
    p = Path(out)
    n = 0
    with case.engine.connect() as con:
        digests = sorted({(k, _digest(key, k, v)) for k, v in _items(con)})
    with p.open("w", encoding="utf-8") as fh:
        for kind, d in digests:
            fh.write(json.dumps({"t": kind, "d": d}) + "\n")
            n += 1
    case.log("deconflict.export_keyed", {"path": str(p), "digests": n})
    return n


def _read_digests(path: Path) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    with path.open("r", encoding="utf-8") as fh:
        for i, line in enumerate(fh, 1):
            if len(line) > MAX_LINE:
                raise DeconflictError(f"{path}: line {i} is too long for a digest line")
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                kind, d = str(obj["t"]), str(obj["d"])
            except (ValueError, KeyError, TypeError) as e:
                raise DeconflictError(f"{path}: line {i} is not a digest line ({e})") from e
            if len(d) != 64 or any(c not in "0123456789abcdef" for c in d):
                raise DeconflictError(f"{path}: line {i}: digest is not 64 lowercase hex characters")
            out.add((kind, d))
    return out


@dataclass
class KeyedOverlap:
    kind: str
    digest: str
    mine: str | None = None  # my raw value, only when resolved locally with my case and the key
    labels: list[str] = field(default_factory=list)


def compare_keyed(mine: str | Path, theirs: str | Path, case: Any = None, key: bytes | None = None,
                  ) -> list[KeyedOverlap]:
    """Digests present in both files. With my ``case`` and the ``key``, each shared digest is mapped back
    to my own identifier or hash and the person / group labels holding it (never theirs: they are not here)."""
    shared = sorted(_read_digests(Path(mine)) & _read_digests(Path(theirs)))
    out = [KeyedOverlap(k, d) for k, d in shared]
    if case is not None and key is not None and out:
        with case.engine.connect() as con:
            rev: dict[str, tuple[str, list[str]]] = {}
            for table in (normalised_identifiers(con), media_hashes(con)):
                for (k, v), labels in table.items():
                    rev[_digest(key, k, v)] = (v, sorted(labels))
        for o in out:
            if o.digest in rev:
                o.mine, o.labels = rev[o.digest]
        case.log("deconflict.compare_keyed", {"theirs": str(theirs), "shared": len(out)})
    return out


def as_dict(o: Overlaps) -> dict[str, Any]:
    return {"identifiers": [o_.__dict__ for o_ in o.identifiers], "media": [o_.__dict__ for o_ in o.media]}

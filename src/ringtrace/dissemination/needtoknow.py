"""Need to know: what a country's package may name, and the scrubber that enforces it on every string.

A package names its target persons (those attributed to the receiving country) in full. Everyone else (other
countries, and persons with no country) appears only as a pseudonym such as ``X03`` with the country they are
attributed to. Structured fields are pseudonymised where they are built; as a second line, every string that
goes into any file of the package passes through :meth:`Scrubber.scrub`, which replaces any phone number
(E.164 and bare digits), account identifier (JID, LID, Telegram id, username, e-mail) or name seen of a
non-target person with that person's pseudonym. A target's own identifiers are protected from replacement even
when a non-target identifier is a substring of them (a shared first name, say). Finally :func:`leaks` re-reads
the written files and the package is refused if anything slipped through.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from ringtrace.identifiers import MIN_TOKEN_ALNUM, search_tokens
from ringtrace.store import schema as S

_MIN_ALNUM = MIN_TOKEN_ALNUM  # a token with fewer letters/digits than this ("~", ".") cannot be scrubbed


def _alnum(s: str) -> int:
    return sum(ch.isalnum() for ch in s)


def tokens_of_account(kind: str, value: str) -> set[str]:
    """The strings under which an account can show up in evidence text and file names."""
    return search_tokens(kind, value)


@dataclass
class PersonTokens:
    label: str
    country: str | None
    tokens: set[str] = field(default_factory=set)


def person_tokens(con: Connection) -> tuple[dict[str, PersonTokens], set[str]]:
    """Every identifier and name of every person, and the tokens of accounts that belong to no person."""
    label_of = {r.id: (r.label, r.country) for r in con.execute(select(S.persons.c.id, S.persons.c.label,
                                                                        S.persons.c.country))}
    owner: dict[int, int] = {r.account_id: r.person_id for r in con.execute(select(S.person_accounts))}
    per: dict[str, PersonTokens] = {lab: PersonTokens(lab, c) for lab, c in label_of.values()}
    orphan: set[str] = set()
    acc_tokens: dict[int, set[str]] = defaultdict(set)
    for a in con.execute(select(S.accounts)):
        acc_tokens[a.id] |= tokens_of_account(a.kind, a.value)
    for r in con.execute(select(S.names_seen.c.account_id, S.names_seen.c.name)):
        name = (r.name or "").strip()
        if _alnum(name) >= _MIN_ALNUM:
            acc_tokens[r.account_id].add(name)
    for aid, toks in acc_tokens.items():
        pid = owner.get(aid)
        if pid is None or pid not in label_of:
            orphan |= toks
        else:
            per[label_of[pid][0]].tokens |= toks
    return per, orphan


_CACHE_LEN = 256  # strings up to this long are remembered once scrubbed ...
_CACHE_ITEMS = 100_000  # ... this many at most (~30 MB)


class Scrubber:
    """Replace forbidden tokens (case-insensitive, on word/digit boundaries) by their pseudonym reference."""

    def __init__(self, forbidden: dict[str, str], keep: Iterable[str]) -> None:
        keep_set = {k for k in keep if _alnum(k) >= _MIN_ALNUM}
        self.forbidden = {k: v for k, v in forbidden.items() if k not in keep_set}
        self._lower = {k.lower(): v for k, v in self.forbidden.items()}
        self._keep_lower = {k.lower() for k in keep_set}
        alts = sorted(set(self.forbidden) | keep_set, key=lambda t: (-len(t), t))
        self._re = re.compile("|".join(self._pattern(t) for t in alts), re.IGNORECASE) if self.forbidden else None
        self._cache: dict[str, str] = {}

    @staticmethod
    def _pattern(t: str) -> str:
        body = re.escape(t)
        if t.isdigit():  # a phone or numeric id: any non-digit ends it ("user4563062856" still matches)
            return rf"(?<!\d){body}(?!\d)"
        pre = r"(?<!\w)" if t[0].isalnum() else ""
        post = r"(?!\w)" if t[-1].isalnum() else ""
        return pre + body + post

    def _sub(self, m: re.Match[str]) -> str:
        s = m.group(0).lower()
        if s in self._keep_lower:
            return m.group(0)
        return f"[{self._lower.get(s, 'redacted')}]"

    def scrub(self, s: str) -> str:
        if self._re is None or not s:
            return s
        # the same short strings (labels, exhibit numbers, kinds) come back thousands of times in a package and
        # the pattern holds every forbidden token: each distinct one is scrubbed once (bounded: short ones only)
        if len(s) <= _CACHE_LEN:
            done = self._cache.get(s)
            if done is None:
                done = self._re.sub(self._sub, s)
                if len(self._cache) < _CACHE_ITEMS:
                    self._cache[s] = done
            return done
        return self._re.sub(self._sub, s)

    def scrub_obj(self, obj: Any) -> Any:
        """Scrub every string value in a JSON-like value (keys are ours, never evidence)."""
        if isinstance(obj, str):
            return self.scrub(obj)
        if isinstance(obj, dict):
            return {k: self.scrub_obj(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [self.scrub_obj(v) for v in obj]
        return obj


def vocabulary(texts: Iterable[str]) -> set[str]:
    """Lower-cased words of our own fixed text (templates, headers, keys). A one-word name equal to one of them
    ("Admin", "Group") is still scrubbed from the data but cannot be told apart from our own wording in a file."""
    return {w.lower() for t in texts for w in re.findall(r"\w+", t)}


def leaks(text: str, forbidden: Iterable[str], keep: Iterable[str], vocab: set[str] | None = None) -> list[str]:
    """Forbidden tokens still present in text once every kept (target) token has been cut out of it."""
    low = text.lower()
    for k in sorted({k.lower() for k in keep if _alnum(k) >= _MIN_ALNUM}, key=len, reverse=True):
        low = low.replace(k, "\x00")
    toks = {t.lower(): t for t in forbidden
            if _alnum(t) >= _MIN_ALNUM and not (vocab and t.lower() in vocab)}
    if not toks:
        return []
    # a cheap substring test first; the boundary-aware pattern only for the few tokens that pass it
    return sorted(toks[t] for t in toks if t in low and re.search(Scrubber._pattern(t), low))

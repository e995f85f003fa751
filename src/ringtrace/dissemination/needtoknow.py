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

import _sre  # the engine's own case rules, so that the trie groups characters as re.IGNORECASE does
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from re._casefix import _EXTRA_CASES
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
_LINES_READ = 1 << 24  # the leak check reads a file's lines this many characters at a time


def _pre(t: str) -> str:
    """What may not come just before a token: a digit before a number, a word character before a word."""
    return "d" if t.isdigit() else "w" if t[0].isalnum() else ""


def _post(t: str) -> str:
    if t.isdigit():  # a phone or numeric id: any non-digit ends it ("user4563062856" still matches)
        return r"(?!\d)"
    return r"(?!\w)" if t[-1].isalnum() else ""


def _flat_pattern(tokens: list[str], bounded: bool = True) -> str:
    """One alternative per token, longest first: at the leftmost place where any token matches, the longest one
    wins. The reference for :func:`_trie_pattern`, and its fallback. ``bounded=False``: tokens as plain
    substrings, no boundary tests."""
    look = {"d": r"(?<!\d)", "w": r"(?<!\w)", "": ""}
    return "|".join((look[_pre(t)] + re.escape(t) + _post(t)) if bounded else re.escape(t)
                    for t in sorted(tokens, key=lambda t: (-len(t), t)))


def _char_key(ch: str) -> tuple[bool, int]:
    """Characters with one key match the same text characters under ``re.IGNORECASE`` (as the engine compares:
    its simple lower case, and its extra equivalences such as s/\u017f, i/\u0131, \u03c3/\u03c2); characters with
    different keys match none in common."""
    c = ord(ch)
    if not _sre.unicode_iscased(c):
        return (False, c)
    lo = _sre.unicode_tolower(c)
    return (True, min((lo, *_EXTRA_CASES.get(lo, ()))))


class _Node:
    __slots__ = ("char", "kids", "ends")

    def __init__(self, char: str) -> None:
        self.char = char
        self.kids: dict[tuple[bool, int], _Node] = {}
        self.ends: set[tuple[str, int, str]] = set()  # (_pre, length, _post) of each token ending here


def _no_bound(t: str) -> str:
    return ""


def _exact_key(ch: str) -> tuple[bool, int]:
    return (False, ord(ch))


def _trie(tokens: list[str], char_key: Callable[[str], tuple[bool, int]], bounded: bool
          ) -> tuple[dict[tuple[bool, int], _Node], dict[tuple[bool, int], set[str]]]:
    """The tokens' trie (children by ``char_key``) and, per first character, the lookbehinds its tokens need."""
    pre_of, post_of = (_pre, _post) if bounded else (_no_bound, _no_bound)
    roots: dict[tuple[bool, int], _Node] = {}
    pres: dict[tuple[bool, int], set[str]] = defaultdict(set)
    for t in tokens:
        level, node = roots, None
        for ch in t:
            k = char_key(ch)
            node = level.get(k)
            if node is None:
                node = level[k] = _Node(ch)
            level = node.kids
        assert node is not None
        node.ends.add((pre_of(t), len(t), post_of(t)))
        pres[char_key(t[0])].add(pre_of(t))
    return roots, pres


def _node_pattern(node: _Node, hoisted: str, after_first: str = "") -> str:
    """A node's pattern: its children first, then the tokens ending at it (each with what it must still test:
    a lookbehind not ``hoisted`` to the first level, on the character before the token's first, n back)."""
    out = re.escape(node.char) + after_first
    while len(node.kids) == 1 and not node.ends:  # a chain: one literal run, no group
        node = next(iter(node.kids.values()))
        out += re.escape(node.char)
    alts = [_node_pattern(kid, hoisted) for kid in node.kids.values()]
    ends = [("" if pre in ("", hoisted) else rf"(?<!\{pre}[\s\S]{{{n}}})") + post
            for pre, n, post in sorted(node.ends)]
    if "" in ends:
        ends = [""]  # one token ends here with nothing to test: the others' tests cannot matter
    alts += ends
    if len(alts) == 1:
        return out + alts[0]
    return out + "(?:" + "|".join(alts) + ")"


def _trie_pattern(tokens: list[str], ignorecase: bool = True, bounded: bool = True) -> str:
    """The same matches as :func:`_flat_pattern`, as a trie: at each place the engine follows the one path the
    text allows (children by :func:`_char_key`, so no two siblings match one character) and tries each node's
    children before the tokens ending there, so the longest token that matches wins, as in the flat alternation,
    at the cost of the text's depth into the trie rather than one attempt per token. The lookbehind is tested
    once per first character where its tokens agree on it, so inside a word most places fail at once.
    ``ignorecase=False`` for a pattern compiled without ``re.IGNORECASE``; ``bounded=False`` as in the flat one."""
    roots, pres = _trie(tokens, _char_key if ignorecase else _exact_key, bounded)
    groups: dict[str, list[str]] = defaultdict(list)
    for k, node in roots.items():
        p = pres[k]
        hoisted = "w" if p == {"w"} else "d" if p <= {"d", "w"} else ""
        groups[hoisted].append(_node_pattern(node, hoisted))
    look = {"w": r"(?<!\w)", "d": r"(?<!\d)", "": ""}
    return "|".join(look[h] + "(?:" + "|".join(alts) + ")" for h, alts in sorted(groups.items()))


def _compiled(tokens: list[str], ignorecase: bool = True, bounded: bool = True) -> re.Pattern[str]:
    """The trie pattern compiled; the flat alternation where the trie nests too deep for the parser."""
    flags = re.IGNORECASE if ignorecase else 0
    try:
        return re.compile(_trie_pattern(tokens, ignorecase, bounded), flags)
    except (re.error, RecursionError, OverflowError):  # pathological prefix chains (a, aa, aaa, ...)
        return re.compile(_flat_pattern(tokens, bounded), flags)


class Scrubber:
    """Replace forbidden tokens (case-insensitive, on word/digit boundaries) by their pseudonym reference."""

    def __init__(self, forbidden: dict[str, str], keep: Iterable[str]) -> None:
        keep_set = {k for k in keep if _alnum(k) >= _MIN_ALNUM}
        self.forbidden = {k: v for k, v in forbidden.items() if k not in keep_set}
        self._lower = {k.lower(): v for k, v in self.forbidden.items()}
        self._keep_lower = {k.lower() for k in keep_set}
        # every token the pattern finds: the kept ones too, so a forbidden token inside a kept one is not cut
        self.tokens = sorted(t for t in set(self.forbidden) | keep_set if t)
        self._re = _compiled(self.tokens) if self.forbidden else None
        self._cache: dict[str, str] = {}

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


def _leak_scans(tokens: list[str]) -> list[tuple[re.Pattern[str], re.Pattern[str] | None]]:
    """Patterns that together find every bounded token in lower-cased text (each on its own, where a match of
    one could hide one of another: a leak check asks whether any is there, not for each occurrence). Each
    begins with a character or a set of them, so the engine skips in C to the places that can start one:
    a word's tokens after a non-word character (the one consumed; the text's start by a second pattern), a
    number after a digit whose previous character is no digit, the others at their first character."""
    by_pre: dict[str, list[str]] = defaultdict(list)
    for t in tokens:
        by_pre[_pre(t)].append(t)
    scans: list[tuple[re.Pattern[str], re.Pattern[str] | None]] = []
    for pre, group in sorted(by_pre.items()):
        roots, _ = _trie(group, _exact_key, bounded=True)
        after = r"(?<!\d[\s\S])" if pre == "d" else ""  # tested once the first character matched
        alts = "(" + "|".join(_node_pattern(node, pre, after) for node in roots.values()) + ")"
        if pre == "w":
            scans.append((re.compile(r"[^\w]" + alts), re.compile(alts)))
        else:
            scans.append((re.compile(alts), None))
    return scans


class LeakCheck:
    """Forbidden tokens still present in a text once every kept (target) token has been cut out of it: built once
    for a package, then run on each of its files, which run to hundreds of MB: one pass cuts the kept tokens out
    (as plain substrings), then the forbidden ones are looked for with patterns the engine skips through
    (:func:`_leak_scans`), not one search per token."""

    def __init__(self, forbidden: Iterable[str], keep: Iterable[str], vocab: set[str] | None = None) -> None:
        keep_low = sorted({k.lower() for k in keep if _alnum(k) >= _MIN_ALNUM})
        self._tokens = {t.lower(): t for t in forbidden
                        if _alnum(t) >= _MIN_ALNUM and not (vocab and t.lower() in vocab)}
        self._keep = _compiled(keep_low, ignorecase=False, bounded=False) if keep_low and self._tokens else None
        toks = sorted(self._tokens)
        self._multiline = any("\n" in t or "\r" in t for t in [*toks, *keep_low])
        try:
            self._scans = _leak_scans(toks) if toks else []
        except (re.error, RecursionError, OverflowError):  # pathological prefix chains: one plain pattern
            self._scans = [(_compiled(toks, ignorecase=False), None)]

    def _found(self, text: str) -> set[str]:
        low = text.lower()
        if self._keep is not None:
            # "\x00" is no word character: a forbidden token glued to a kept one is found ("AnaLopez")
            low = self._keep.sub("\x00", low)
        found: set[str] = set()
        for scan, at_start in self._scans:
            found.update(m.group(m.lastindex or 0) for m in scan.finditer(low))
            if at_start is not None and (m0 := at_start.match(low)):
                found.add(m0.group(1))
        return found

    def _found_in_lines(self, chunks: Iterable[list[str]]) -> set[str]:
        """The tokens in the text of these lines, each distinct line read once: a package's JSON repeats the
        same lines (keys, types, indentation) millions of times. Lines are joined again by line breaks, which
        are no word characters, and no token holds one (else :meth:`find` reads the text whole)."""
        seen: set[str] = set()
        found: set[str] = set()
        for lines in chunks:
            new = set(lines) - seen
            seen |= new
            if new:
                found |= self._found("\n".join(new))
        return found

    def find(self, text: str) -> list[str]:
        """The forbidden tokens found (where one overlaps another, perhaps only one of them is named: the text
        leaks if and only if the list is not empty)."""
        if not self._scans:
            return []
        found = self._found(text) if self._multiline else self._found_in_lines([text.split("\n")])
        return sorted(self._tokens[f] for f in found)

    def find_in_file(self, path: Path) -> list[str]:
        """:meth:`find` for a file's text (UTF-8, bad bytes replaced, line ends as ``read_text`` gives them),
        read a part at a time."""
        if not self._scans:
            return []
        if self._multiline:
            return self.find(path.read_text(encoding="utf-8", errors="replace"))
        with path.open(encoding="utf-8", errors="replace") as fh:
            # lines as read, their line breaks kept: joined by one more, a blank line between them changes nothing
            chunks = iter(lambda: fh.readlines(_LINES_READ), [])
            return sorted(self._tokens[f] for f in self._found_in_lines(chunks))


def leaks(text: str, forbidden: Iterable[str], keep: Iterable[str], vocab: set[str] | None = None) -> list[str]:
    """:meth:`LeakCheck.find` for one text."""
    return LeakCheck(forbidden, keep, vocab).find(text)

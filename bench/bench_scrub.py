"""The need-to-know scrubber against the peer a performance-minded user would write: Aho-Corasick.

    python bench/bench_scrub.py [--persons 1500] [--texts 100000]

Invented persons (``synth.people``: names and numbers libphonenumber accepts) give the tokens of a package: each
one's name, E.164 number and bare digits; a fifth of them are the receiving country's targets (kept), the rest
forbidden. The texts are message-like lines of common words with those names and numbers in them (cased
differently, glued to words and digits, one a line on average). Three scrubbers, the same output checked
string by string:

- ringtrace: ``needtoknow.Scrubber`` (the tokens as one trie pattern), its cache of short strings off, so the
  matching is timed, not the cache;
- peer: pyahocorasick's automaton over the lower-cased tokens, every occurrence checked on its boundaries in
  Python and the leftmost longest kept (what ``re``'s alternation does), the same replacements;
- before: the same scrubber on the one flat alternation of every token it used until stop 23 (on a tenth of the
  texts: it is slow).

Each is warmed up on the first 1,000 texts; CPU seconds of this process.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from collections.abc import Callable

WORDS = ("ok see you tomorrow at the usual place send it here new ones from the group who has the link "
         "delete this after call me later price sent address meet 10 20 2024 photo video admin please").split()


def tokens(persons: int, seed: int) -> tuple[dict[str, str], list[str], list[str]]:
    from ringtrace.synth.people import COUNTRIES, invent_name, invent_phone

    rng = random.Random(seed)
    used: set[str] = set()
    forbidden: dict[str, str] = {}
    keep: list[str] = []
    shown: list[str] = []  # what the texts mention
    regions = sorted(COUNTRIES)
    for i in range(persons):
        region = rng.choice(regions)
        name = invent_name(rng, COUNTRIES[region][0])
        phone = invent_phone(rng, region, used)
        toks = [name, phone, phone.lstrip("+")]
        if i % 5 == 0:
            keep += toks
        else:
            forbidden.update({t: f"X{i:04d} ({region})" for t in toks})
        shown += toks
    return forbidden, keep, shown


def texts(n: int, shown: list[str], seed: int) -> list[str]:
    rng = random.Random(seed + 1)
    out = []
    for _ in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 14))]
        for _ in range(rng.choice((0, 0, 1, 1, 1, 2))):
            t = rng.choice(shown)
            t = rng.choice((t, t.upper(), t.lower(), "user" + t, t + "x", "(" + t + ")"))
            words.insert(rng.randrange(len(words) + 1), t)
        out.append(" ".join(words))
    return out


def _is_word(c: str) -> bool:
    return c.isalnum() or c == "_"


def aho_corasick_scrubber(forbidden: dict[str, str], keep: list[str]) -> Callable[[str], str]:
    """The peer: one automaton, then per occurrence the boundary rules the scrubber states (a number not glued
    to digits, a word not glued to word characters), the longest at the leftmost place, as ``re`` does."""
    import ahocorasick

    keep_low = {k.lower() for k in keep}
    label = {k.lower(): v for k, v in forbidden.items() if k not in set(keep)}
    auto = ahocorasick.Automaton()
    for t in {*label, *keep_low}:
        auto.add_word(t, t)
    auto.make_automaton()

    def scrub(s: str) -> str:
        low = s.lower()
        if len(low) != len(s):
            raise ValueError("the peer needs a lower case of the same length")
        best: dict[int, int] = {}
        n = len(s)
        for end, tok in auto.iter(low):
            start, stop = end - len(tok) + 1, end + 1
            if tok.isdigit():
                if (start and s[start - 1].isdecimal()) or (stop < n and s[stop].isdecimal()):
                    continue
            else:
                if tok[0].isalnum() and start and _is_word(s[start - 1]):
                    continue
                if tok[-1].isalnum() and stop < n and _is_word(s[stop]):
                    continue
            if best.get(start, -1) < stop:
                best[start] = stop
        if not best:
            return s
        out, pos = [], 0
        for start in sorted(best):
            if start < pos:
                continue
            stop = best[start]
            hit = low[start:stop]
            out += [s[pos:start], s[start:stop] if hit in keep_low else f"[{label.get(hit, 'redacted')}]"]
            pos = stop
        out.append(s[pos:])
        return "".join(out)

    return scrub


def timed(fn: Callable[[str], str], items: list[str]) -> tuple[float, list[str]]:
    for s in items[:1000]:  # warm-up
        fn(s)
    t = time.process_time()
    out = [fn(s) for s in items]
    return time.process_time() - t, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=1500)
    ap.add_argument("--texts", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    from ringtrace.dissemination import needtoknow as ntk

    ntk._CACHE_LEN = -1  # the matcher, not the cache
    forbidden, keep, shown = tokens(a.persons, a.seed)
    items = texts(a.texts, shown, a.seed)
    ours = ntk.Scrubber(forbidden, keep)
    peer = aho_corasick_scrubber(forbidden, keep)
    flat = ntk.Scrubber(forbidden, keep)
    toks = sorted(t for t in set(flat.forbidden) | {k for k in keep if ntk._alnum(k) >= ntk._MIN_ALNUM} if t)
    flat._re = re.compile(ntk._flat_pattern(toks), re.IGNORECASE)
    t_ours, out_ours = timed(ours.scrub, items)
    t_peer, out_peer = timed(peer, items)
    tenth = items[: max(1000, len(items) // 10)]
    t_flat, out_flat = timed(flat.scrub, tenth)
    assert out_ours == out_peer, "the peer scrubs differently"
    assert out_flat == out_ours[: len(tenth)], "the flat alternation scrubs differently"
    changed = sum(a != b for a, b in zip(items, out_ours, strict=True))
    print(f"{len(forbidden)} forbidden and {len(keep)} kept tokens; {len(items)} texts "
          f"({sum(map(len, items)) / 1e6:.1f} M characters), {changed} changed; the same output from all three")
    print("| scrubber | texts per CPU s | ratio to ringtrace |")
    print("|---|---|---|")
    rate = len(items) / t_ours
    print(f"| ringtrace (trie pattern) | {rate:,.0f} | 1.00 |")
    print(f"| pyahocorasick + boundary checks | {len(items) / t_peer:,.0f} | {t_ours / t_peer:.2f} |")
    per_ours, per_flat = t_ours / len(items), t_flat / len(tenth)
    print(f"| flat alternation (before) | {len(tenth) / t_flat:,.0f} | {per_ours / per_flat:.3f} |")


if __name__ == "__main__":
    main()

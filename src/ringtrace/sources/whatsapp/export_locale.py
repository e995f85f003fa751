"""Locale data for WhatsApp chat exports: system-message phrases, media placeholders, file-name prefixes.

The phrases live in ``whatsapp_export_locales.json`` beside this module (with a note of their source per
locale); this module only compiles them. The same templates drive the parser (``match_system``) and the
synthetic writer (``render_system``), so a phrase added to the data is understood and written alike.

This module registers no format; the sources package imports it harmlessly during discovery.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_FILE = Path(__file__).with_name("whatsapp_export_locales.json")

_PLACEHOLDER = re.compile(r"\{(actor|target|value|old|any)\}")
# A straight quote in a template also matches the curly/guillemet quotes other app versions print.
_QUOTE_CLASS = '["“”«»„‘’]'
_GROUP_RX = {
    "actor": r"(?P<actor>.+?)",
    "target": r"(?P<target>.+?)",
    "value": r"\s*(?P<value>.*?)\s*",
    "old": r"\s*(?P<old>.*?)\s*",
    "any": r".*?",
}


@dataclass(frozen=True)
class SystemPhrase:
    locale: str
    kind: str  # EventKind value
    tpl: str
    actor_owner: bool  # second-person form: the actor is the export owner
    target_owner: bool
    rx: re.Pattern[str]
    literal_len: int  # specificity: longer literal text is tried first
    anchors: tuple[str, ...]  # literal chunks, for the cheap "could this be a system line" test
    # Two captured fields with only a space or a comma between them ("{actor} {target} را حذف کرد", Persian):
    # the regex cannot know where the first name ends; the reader settles it with the names the file shows
    # (``Adjacent``). None for every other phrase.
    adjacent: Adjacent | None = None


@dataclass(frozen=True)
class Adjacent:
    first: str  # field name ("actor")
    second: str  # field name ("target", "value")
    sep: re.Pattern[str]  # what may stand between them


@dataclass(frozen=True)
class Locale:
    code: str
    source: str
    title_prefixes: tuple[str, ...]
    you: tuple[str, ...]
    you_obj: tuple[str, ...]
    and_word: str
    default_order: str  # DMY | MDY
    media_omitted: tuple[str, ...]
    file_attached: tuple[str, ...]
    ios_attached: tuple[str, ...]
    ios_omitted: tuple[str, ...]
    ios_attached_after: tuple[str, ...]  # "<NAME WORD>" forms (Turkish "<%@ eklendi>")
    cldr_short: dict[str, str]  # CLDR short date/time patterns and day periods (the synthetic writer's layout)
    phrases: tuple[SystemPhrase, ...]


_NAME_THEN_TAIL = r"(?:[.。۔!]\s.*|[.。۔!])?"
_SEPARATOR_ONLY = re.compile(r"[\s,،٬]+")


def _compile(tpl: str) -> tuple[re.Pattern[str], int, tuple[str, ...], Adjacent | None]:
    parts: list[str] = []
    literals: list[str] = []
    adjacent: Adjacent | None = None
    prev: str | None = None  # the field just before this literal
    pos = 0
    for m in _PLACEHOLDER.finditer(tpl):
        lit = tpl[pos : m.start()]
        literals.append(lit)
        parts.append(_literal_rx(lit))
        field = m.group(1)
        if field == "any" and not lit and prev not in (None, "any") and m.end() == len(tpl):
            # "... con {actor}{any}" (the name ends the sentence, ". Tap to learn more" may follow): the tail
            # starts at a full stop, else a shortest-first name would keep one letter and the tail the rest
            parts.append(_NAME_THEN_TAIL)
        else:
            parts.append(_GROUP_RX[field])
        if prev not in (None, "any") and field != "any" and _SEPARATOR_ONLY.fullmatch(lit) and adjacent is None:
            adjacent = Adjacent(prev, field, re.compile(_literal_rx(lit)))
        prev = field
        pos = m.end()
    lit = tpl[pos:]
    literals.append(lit)
    parts.append(_literal_rx(lit))
    rx = re.compile("^" + "".join(parts) + "$", re.DOTALL)
    # a literal ending in ":" ("{actor} eltávolította: {target}") is cut at ": " like a sender: anchor without it
    anchors = tuple(a for a in (x.strip(' :"') for x in literals) if len(a) >= 3)
    return rx, sum(len(x) for x in literals), anchors, adjacent


def _literal_rx(lit: str) -> str:
    out = []
    for ch in lit:
        if ch == '"':
            out.append(_QUOTE_CLASS)
        elif ch == " ":
            out.append(r"\s")  # NBSP / narrow NBSP in some versions
        elif ch in "'’":
            out.append("['’]")
        else:
            out.append(re.escape(ch))
    return "".join(out)


@lru_cache(maxsize=1)
def load_locales() -> dict[str, Locale]:
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    out: dict[str, Locale] = {}
    for code, d in data["locales"].items():
        phrases = []
        for e in d["system"]:
            rx, n, anchors, adjacent = _compile(e["tpl"])
            phrases.append(
                SystemPhrase(
                    locale=code,
                    kind=e["kind"],
                    tpl=e["tpl"],
                    actor_owner=e.get("actor") == "owner",
                    target_owner=e.get("target") == "owner",
                    rx=rx,
                    literal_len=n,
                    anchors=anchors,
                    adjacent=adjacent,
                )
            )
        out[code] = Locale(
            code=code,
            source=d["source"],
            title_prefixes=tuple(d["title_prefixes"]),
            you=tuple(d["you"]),
            you_obj=tuple(d["you_obj"]) or tuple(d["you"]),
            and_word=d["and"],
            default_order=d["default_order"],
            media_omitted=tuple(d["media_omitted"]),
            file_attached=tuple(d["file_attached"]),
            ios_attached=tuple(d["ios_attached"]),
            ios_omitted=tuple(d["ios_omitted"]),
            ios_attached_after=tuple(d.get("ios_attached_after", ())),
            cldr_short=dict(d.get("cldr_short", {})),
            phrases=tuple(phrases),
        )
    return out


@lru_cache(maxsize=1)
def ampm_words() -> tuple[tuple[str, ...], tuple[str, ...]]:
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))["ampm"]
    return tuple(data["am"]), tuple(data["pm"])


@lru_cache(maxsize=1)
def all_phrases() -> tuple[SystemPhrase, ...]:
    """Every locale's phrases, most specific first (so "changed the subject from ..." wins over "added")."""
    items = [p for loc in load_locales().values() for p in loc.phrases]
    return tuple(sorted(items, key=lambda p: -p.literal_len))


@lru_cache(maxsize=1)
def anchor_rx() -> re.Pattern[str]:
    """Matches any literal chunk of any phrase: a line without one cannot be a known system line."""
    chunks = sorted({a for p in all_phrases() for a in p.anchors}, key=len, reverse=True)
    return re.compile("|".join(_literal_rx(c) for c in chunks))


@dataclass(frozen=True)
class Notice:
    """A whole message text that is a notice, not a message (deleted, waiting, missed call)."""

    locale: str
    kind: str  # EventKind value
    text: str
    actor_owner: bool  # the second-person form ("You deleted this message")


def notice_key(text: str) -> str:
    return text.strip().rstrip(".").strip().casefold()


@lru_cache(maxsize=1)
def notices() -> dict[str, Notice]:
    """Every locale's notices, keyed by ``notice_key`` of their text."""
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))["locales"]
    out: dict[str, Notice] = {}
    for code, d in data.items():
        for e in d.get("notices", ()):
            out.setdefault(notice_key(e["text"]), Notice(code, e["kind"], e["text"], e.get("actor") == "owner"))
    return out


@lru_cache(maxsize=1)
def notice_lengths() -> tuple[int, int]:
    """(shortest, longest) notice text: a cheap bound before the dictionary look-up."""
    ks = [len(k) for k in notices()]
    return (min(ks), max(ks) + 2) if ks else (1, 0)


@lru_cache(maxsize=1)
def senderless_leads() -> tuple[str, ...]:
    """The literal start of every phrase that does not begin with a person ("Messages and calls are ...",
    "Your security code with ..."): old exports print these after the CHAT's name as if it were a sender."""
    leads = set()
    for p in all_phrases():
        m = _PLACEHOLDER.search(p.tpl)
        lead = p.tpl[: m.start()] if m else p.tpl
        if len(lead.strip()) >= 6:
            leads.add(lead.strip())
    return tuple(sorted(leads, key=len, reverse=True))


@lru_cache(maxsize=1)
def senderless_lead_rx() -> re.Pattern[str]:
    return re.compile("|".join(_literal_rx(x) for x in senderless_leads()))


@lru_cache(maxsize=1)
def you_words() -> frozenset[str]:
    """Every locale's "You", casefolded, also in NFKC form: the Urdu data holds Arabic presentation forms
    ('ﺁﭗ') where exports print the plain letters ('آپ')."""
    words = [w.casefold() for loc in load_locales().values() for w in (*loc.you, *loc.you_obj)]
    return frozenset(words + [unicodedata.normalize("NFKC", w) for w in words])


@lru_cache(maxsize=1)
def media_omitted_words() -> frozenset[str]:
    return frozenset(w for loc in load_locales().values() for w in loc.media_omitted)


# the characters a template's literal text matches more than one way (``_literal_rx``): a quote, an apostrophe, a space
_VARIANT_CHARS = re.compile("[\"' ’]+")


def _required_text(tpl: str) -> str:
    """The longest run of a template's literal text that its pattern matches only as itself (case and all): no
    line without it can match the phrase. "" when there is none."""
    return max(_VARIANT_CHARS.split(_PLACEHOLDER.sub(" ", tpl)), key=len)


@lru_cache(maxsize=1)
def _phrases_with_required_text() -> tuple[tuple[str, SystemPhrase], ...]:
    return tuple((_required_text(p.tpl), p) for p in all_phrases())


def match_system(text: str) -> tuple[SystemPhrase, dict[str, str]] | None:
    """The phrase a system line matches, with its captured fields; None for an unknown line. The first of
    ``all_phrases`` whose pattern matches; a pattern is tried only when the line holds the phrase's required text
    (a substring test: most of the 1,741 patterns begin with a lazy name and would scan the whole line)."""
    if not anchor_rx().search(text):
        return None
    for required, p in _phrases_with_required_text():
        if required in text:
            m = p.rx.match(text)
            if m:
                return p, {k: v for k, v in m.groupdict().items() if v is not None}
    return None


def split_title(name: str) -> tuple[str, str] | None:
    """(locale, chat title) from an export's file or folder name, or None when no prefix fits."""
    for code, loc in load_locales().items():
        for pre in loc.title_prefixes:
            if name.startswith(pre) and len(name) > len(pre):
                return code, name[len(pre) :]
    return None


def render_system(
    locale: str,
    kind: str,
    actor: str | None,
    target: str | None,
    value: str | None = None,
    old: str | None = None,
    actor_owner: bool = False,
    target_owner: bool = False,
) -> str | None:
    """The system line for an event in ``locale`` (for the synthetic writer); None if it has no form."""
    loc = load_locales()[locale]
    # a trailing {any} ("... Tap to learn more") renders as nothing; a form without it is preferred
    cands = [p for p in loc.phrases if p.kind == kind and "{any}" not in p.tpl.removesuffix("{any}")]
    cands.sort(key=lambda p: p.tpl.endswith("{any}"))
    if kind == "subject":
        cands = [p for p in cands if ("{old}" in p.tpl) == (old is not None)] or cands
    if kind == "created":
        cands = [p for p in cands if ("{value}" in p.tpl) == (value is not None)] or cands

    def score(p: SystemPhrase) -> int:
        s = 0
        if p.actor_owner:
            s += 2 if actor_owner else -10
        if p.target_owner:
            s += 2 if target_owner else -10
        return s

    cands = [p for p in cands if score(p) >= 0]
    if not cands:
        return None
    best = max(cands, key=score)  # max keeps the first of equals: the data's preferred form
    a = loc.you[0] if actor_owner else (actor or "")
    t = loc.you_obj[0] if target_owner else (target or "")
    return best.tpl.format(actor=a, target=t, value=value or "", old=old or "", any="")

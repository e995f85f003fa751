"""Text normalisation for indicator extraction.

Offenders hide links from keyword filters: HTML entities, percent-encoding (often several layers deep when a
redirector wraps the link), zero-width and bidi characters, full-width look-alikes, "de-fanged" spellings
(``hxxps``, ``[.]``, ``(dot)``), spaces around dots and slashes, and links split over lines or tags.
``normalize`` undoes all of that in a fixed sequence of single-pass regex rewrites. Every rewrite records
anchors so a span in the normalised text maps back to the input span it came from (``Normalized.to_raw``);
that is how an indicator keeps its ``raw`` text and context.

All patterns are linear: bounded quantifiers, no nested repetition (evidence is hostile input).
``html_text`` turns an HTML document into the text we search: visible text (inline tags joined without a gap,
block tags separated by a newline), then link targets and other attributes, then inline scripts.
"""

from __future__ import annotations

import html
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser

# zero-width, joiners, bidi embeddings/overrides/isolates, BOM, soft hyphen, Mongolian vowel separator
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]+")
_INVISIBLE_CHAR = re.compile(_INVISIBLE.pattern[:-1])  # one character, no repeat: the engine scans for it fast
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?")
_PERCENT = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_MAX_DECODE_ROUNDS = 5

# de-fanging: each alternative is a fixed small pattern, replaced by what it stands for
# de-fanging, split by the character each form needs so the (common) text without it skips the pass
# every alternative is a fixed string (so at most one matches at a position); each branch starts with its
# bracket, which lets the regex engine skip quickly to the next bracket
_DEFANG_BRACKETS = re.compile(
    r"\[(?::\]|\.\]|dot\]|DOT\]|/\])|\((?::\)|\.\)|dot\)|DOT\))|\{(?::\}|\.\}|dot\})"
)
_BRACKET_REPL = {
    "[:]": ":", "(:)": ":", "{:}": ":", "[.]": ".", "(.)": ".", "{.}": ".", "[dot]": ".", "(dot)": ".",
    "{dot}": ".", "[DOT]": ".", "(DOT)": ".", "[/]": "/",
}
_DEFANG_SCHEME = re.compile(r"(?P<scheme>[hH](?<![\w][hH])[xX*][xX*][pP](?=[sS]?(?:\[:\]|\(:\)|:)))")
_DEFANG_SPACED = re.compile(
    r"(?P<dot> (?<=\w )(?:dot|DOT) (?=\w)"
    r"|[ \t](?<=\w[ \t])[ \t]{0,2}\.[ \t]{1,3}(?=[A-Za-z0-9])"
    r"|[ \t](?<=\w[ \t])[ \t]{0,2}\.(?=(?:com|me|gg|group|onion|org|net|dog)\b)"
    r"|\.(?:(?<=\bchat\.)|(?<=\bwww\.)|(?<=\bapi\.)|(?<=\bweb\.))[ \t]{1,3}(?=whatsapp\b)"
    r"|\.(?<=\bwhatsapp\.)[ \t]{1,3}(?=com\b))"
    r"|(?P<slash2>:[ \t]{0,3}/[ \t]{1,3}/|:[ \t]{1,3}/[ \t]{0,3}/)"
)
_SPACED_HINTS = (" .", "\t.", ". ", " dot ", " DOT ", ": /", ":/ ", ":\t", ":  ")
# "chat.whatsapp.com / AbC", "t.me/ +AbC", "chat.whatsapp.com/\nAbC": glue the path back to its host.
# Only after something that looks like a host (".tld") so ordinary prose with slashes is left alone.
_HOST_SLASH_GAP = re.compile(
    r"(?<=\.[A-Za-z]{2})(?:[A-Za-z]{0,22})(?P<gap1>[ \t]{0,3})/(?P<gap2>[ \t]{0,3}(?:\r?\n[ \t]{0,3}){0,2})"
    r"(?=[A-Za-z0-9+#])"
)
_SLASH_GAP_HINTS = (" /", "\t/", "/ ", "/\t", "/\n", "/\r", "/+")
# "https://chat.whatsapp.com/joinchat/\nAbC" style breaks after a known path prefix
_PREFIX_GAP = re.compile(r"(?:(?<=/joinchat/)|(?<=/invite/))[ \t]{0,3}\r?\n[ \t]{0,3}(?=[A-Za-z0-9])")
_SCHEME_GAP = re.compile(
    r"(?<=[hH][tT][tT][pP])(?P<s>[sS]?)[ \t]{1,3}:[ \t]{0,3}//|(?<=[hH][tT][tT][pP][sS])[ \t]{1,3}:"
)


# Gates: a match of the pass's pattern is impossible without a match of its gate (so skipping is exact).
_BRACKET_GATE = re.compile(r"[\[({][:./dD]")
_SPACED_WA_GATE = re.compile(r"\.[ \t]{1,3}whatsapp|whatsapp\.[ \t]")
_SCHEME_GAP_GATE = re.compile(r"[hH][tT][tT][pP][sS]?[ \t]{1,3}:")
_SLASH_BREAK_GATE = re.compile(r"/[ \t]{0,3}\r?\n|/[ \t]{1,3}\+")
_PREFIX_GAP_GATE = re.compile(r"(?:joinchat|invite)/[ \t]{0,3}\r?\n")


def _spaced_may_match(text: str) -> bool:
    """Necessary for a _DEFANG_SPACED match: a blank before a dot, " dot ", a blank after a colon or ":/",
    or a blank between "chat."/"www."/... and "whatsapp" or between "whatsapp." and "com"."""
    if " ." in text or "\t." in text or " dot " in text or " DOT " in text:
        return True
    if ": " in text or ":\t" in text or ":/ " in text or ":/\t" in text:
        return True
    return "whatsapp" in text and _SPACED_WA_GATE.search(text) is not None


_SLASH_CHANGE = re.compile(r" /|\t/|/[ \t]{0,3}\r?\n|/[ \t]{1,3}\+")  # branches start with a literal: fast scan
_HOST_GAP_START = re.compile(r"\.[A-Za-z]{2,24}[ \t]{0,3}\Z")  # searched with endpos at the slash


def _host_gap_matches(text: str) -> Iterator[re.Match[str]]:
    """The matches of ``_HOST_SLASH_GAP.finditer(text)`` that ``_host_gap`` may rewrite, in order.

    Each match holds exactly one slash, and for a slash there is at most one place a match can start: three
    characters after the last dot before it, with only letters (2 to 24, the look-behind's two included) and
    up to 3 blanks between that dot and the slash. A match ends before the next dot, so it never covers where
    the next slash's match would start: the matches are independent, and the ones skipped here (slashes with
    no blank before and no line break or blanks-then-"+" after) are left unchanged by ``_host_gap`` anyway."""
    last_end = 0
    for c in _SLASH_CHANGE.finditer(text):
        slash = c.end() - 1 if c.group(0)[0] in " \t" else c.start()
        if slash < last_end:
            continue
        g = _HOST_GAP_START.search(text, max(0, slash - 28), slash)
        if g is None:
            continue
        start = g.start() + 3
        if start < last_end:
            continue
        m = _HOST_SLASH_GAP.match(text, start)
        if m is not None and m.end() > slash:
            last_end = m.end()
            yield m


def _host_gap_may_change(text: str) -> bool:
    """Necessary for _host_gap to rewrite a match: a blank right before a slash, or after the slash a line
    break or blanks followed by "+"."""
    if " /" in text or "\t/" in text:
        return True
    return _SLASH_BREAK_GATE.search(text) is not None


@dataclass
class _Pass:
    """Anchors of one rewrite: (new_start, new_end, old_start, old_end) per replacement, sorted."""

    new_starts: list[int] = field(default_factory=list)
    spans: list[tuple[int, int, int, int]] = field(default_factory=list)

    def back(self, pos: int, end: bool) -> int:
        i = bisect_right(self.new_starts, pos) - 1
        if i < 0:
            return pos
        ns, ne, os_, oe = self.spans[i]
        if pos < ne or (pos == ne and end and ne > ns):
            # inside a replacement: widen to the whole original piece
            return oe if end else os_
        return oe + (pos - ne)


@dataclass
class Normalized:
    raw: str
    text: str
    passes: list[_Pass]

    def to_raw(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of ``text`` back to the span of ``raw`` it came from."""
        s, e = start, end
        for p in reversed(self.passes):
            s = p.back(s, end=False)
            e = p.back(e, end=True)
        return s, max(s, e)


def _rewrite(text: str, pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str]) -> tuple[str, _Pass]:
    return _rewrite_matches(text, pattern.finditer(text), repl)


def _rewrite_matches(
    text: str, matches: Iterable[re.Match[str]], repl: Callable[[re.Match[str]], str]
) -> tuple[str, _Pass]:
    """Replace each match (in order, not overlapping) by ``repl(match)``; anchors for the ones that changed."""
    out: list[str] = []
    p = _Pass()
    last = 0
    delta = 0
    for m in matches:
        new = repl(m)
        old = m.group(0)
        if new == old:
            continue
        out.append(text[last : m.start()])
        ns = m.start() + delta
        p.new_starts.append(ns)
        p.spans.append((ns, ns + len(new), m.start(), m.end()))
        out.append(new)
        delta += len(new) - len(old)
        last = m.end()
    if not p.spans:
        return text, p
    out.append(text[last:])
    return "".join(out), p


def _unescape_entity(m: re.Match[str]) -> str:
    return html.unescape(m.group(0))


def _unquote(m: re.Match[str]) -> str:
    # the match is only %XX escapes: what unquote(..., errors="replace") gives, without its Python splitting
    return bytes.fromhex(m.group(0).replace("%", "")).decode("utf-8", errors="replace")


def _nfkc(m: re.Match[str]) -> str:
    return unicodedata.normalize("NFKC", m.group(0))


def _debracket(m: re.Match[str]) -> str:
    return _BRACKET_REPL[m.group(0)]


def _defang(m: re.Match[str]) -> str:
    if m.groupdict().get("scheme"):
        return "http"
    if m.groupdict().get("colon"):
        return ":"
    if m.groupdict().get("dot"):
        return "."
    if m.groupdict().get("slash1"):
        return "/"
    return "://"


def _host_gap(m: re.Match[str]) -> str:
    whole = m.group(0)
    gap1, gap2 = m.group("gap1"), m.group("gap2")
    nxt = m.string[m.end() : m.end() + 1]
    # "host / path" (spaced), "host/<newline>path" and "t.me/ +code" are disguises; "host/ and" is prose
    if not (gap1 or "\n" in gap2 or nxt == "+"):
        return whole
    return whole[: m.start("gap1") - m.start()] + "/"


def _scheme_gap(m: re.Match[str]) -> str:
    if m.group("s") is not None:
        return m.group("s") + "://"
    return ":"


def normalize(raw: str) -> Normalized:
    """Undo the disguises listed in the module docstring. Linear in ``len(raw)``."""
    return normalize_flags(raw)[0]


def normalize_flags(raw: str) -> tuple[Normalized, bool, bool]:
    """``normalize``, and what the spaced-dot pass saw: whether its hint gate was open, and whether it was shut
    while its pattern would have rewritten something (a tab in a spaced form the hints do not list: the pass
    then runs or not depending on the rest of the text). Extraction line by line needs both to stay exact."""
    passes: list[_Pass] = []
    text = raw

    def step(pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str]) -> bool:
        nonlocal text
        text, p = _rewrite(text, pattern, repl)
        if p.spans:
            passes.append(p)
            return True
        return False

    def _unicode_passes() -> None:
        if _INVISIBLE_CHAR.search(text):
            step(_INVISIBLE, lambda m: "")
        # NFKC of each non-ASCII run changes nothing when the whole text is in NFKC: the runs are cut at ASCII
        # characters, which are starters that compose with nothing after them
        if not unicodedata.is_normalized("NFKC", text):
            step(_NON_ASCII, _nfkc)

    # Each pass is skipped when a substring test (in C) shows it has nothing to do: most text is ASCII with
    # no entities or escapes, and a pass over it would only scan.
    if not text.isascii():
        _unicode_passes()
    # redirectors nest encodings (%253A -> %3A -> :); decode until nothing changes (bounded)
    for _ in range(_MAX_DECODE_ROUNDS):
        changed = "&" in text and step(_ENTITY, _unescape_entity)
        changed = ("%" in text and step(_PERCENT, _unquote)) or changed
        if not changed:
            break
    # decoding may have produced invisible or full-width characters
    if not text.isascii():
        _unicode_passes()
    # the passes below run only where a pass would rewrite something: each gate is a necessary condition for a
    # match of its pattern (literals tested in C, or a small pattern the regex engine can scan for quickly)
    if ("[" in text or "(" in text or "{" in text) and _BRACKET_GATE.search(text):
        step(_DEFANG_BRACKETS, _debracket)
    if "xp" in text or "XP" in text or "xP" in text or "Xp" in text or "*p" in text or "*P" in text:
        step(_DEFANG_SCHEME, _defang)
    spaced_gate = any(map(text.__contains__, _SPACED_HINTS))  # in C
    if spaced_gate and _spaced_may_match(text):
        step(_DEFANG_SPACED, _defang)
    # every form the pattern takes without a hint holds a tab (".<tab>whatsapp", ":/<tab>/", ": <tab>/")
    spaced_shut_out = not spaced_gate and "\t" in text and _DEFANG_SPACED.search(text) is not None
    if (" :" in text or "\t:" in text) and _SCHEME_GAP_GATE.search(text):
        step(_SCHEME_GAP, _scheme_gap)
    # _host_gap changes a match only with a gap before the slash, a line break after it or a "+" (t.me/ +AbC)
    if any(map(text.__contains__, _SLASH_GAP_HINTS)) and _host_gap_may_change(text):
        text, p = _rewrite_matches(text, _host_gap_matches(text), _host_gap)
        if p.spans:
            passes.append(p)
    if ("joinchat/" in text or "invite/" in text) and _PREFIX_GAP_GATE.search(text):
        step(_PREFIX_GAP, lambda m: "")
    return Normalized(raw=raw, text=text, passes=passes), spaced_gate, spaced_shut_out


# ---- HTML ---------------------------------------------------------------------------------------------

_BLOCK = frozenset(
    "address article aside blockquote body br dd details dialog div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody td tfoot th thead tr ul "
    "option select textarea title".split()
)
_HIDDEN_TEXT = frozenset({"script", "style", "noscript", "template", "head"})
_LINK_ATTRS = frozenset({"href", "src", "action", "formaction", "cite", "poster", "background", "data"})
_TEXT_ATTRS = frozenset({"title", "alt", "value", "placeholder", "aria-label", "content", "onclick"})
_REFRESH_URL = re.compile(r"url\s{0,5}=\s{0,5}['\"]?([^'\"\s>]{1,4096})", re.IGNORECASE)


@dataclass
class HtmlText:
    text: str  # visible text, then one line per attribute value, then script bodies
    visible_end: int  # text[:visible_end] is the visible text
    title: str | None
    language: str | None


_HAS_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]{0,15}:")


def _resolve(value: str, base_uri: str | None) -> str:
    if base_uri and value and not _HAS_SCHEME.match(value):
        try:
            return urljoin(base_uri, value)
        except ValueError:
            return value
    return value


def html_text(doc: str, base_uri: str | None = None) -> HtmlText:
    """Visible text + link targets + attributes + inline scripts of an HTML document, for extraction."""
    tree = LexborHTMLParser(doc)
    visible: list[str] = []
    extra: list[str] = []
    scripts: list[str] = []
    title: str | None = None
    language: str | None = None
    last_parent: object = None
    root = tree.root
    if root is None:
        return HtmlText(text="", visible_end=0, title=None, language=None)
    lang = root.attributes.get("lang") if root.tag == "html" else None
    if lang:
        language = lang.strip()[:35] or None
    last_id = 0
    last_ptag: str | None = None
    block, hidden = _BLOCK, _HIDDEN_TEXT
    for node in root.traverse(include_text=True):
        tag = node.tag
        if tag == "-text":
            parent = node.parent
            ptag = parent.tag if parent is not None else None
            content = node.text_content or ""
            if ptag in ("script",):
                if content.strip():
                    scripts.append(content)
                continue
            if ptag == "title" and title is None:
                title = content.strip()[:1000] or None
                continue
            if ptag in hidden:
                continue
            pid = parent.mem_id if parent is not None else 0
            # a text in a block after a text of another parent starts a line. Parents compare as selectolax
            # compares nodes: the same node, or two nodes with the same serialised HTML (which needs the same tag:
            # serialise only then)
            if (
                ptag in block
                and last_parent is not None
                and pid != last_id
                and (ptag != last_ptag or parent != last_parent)
            ):
                visible.append("\n")
            visible.append(content)
            last_parent, last_id, last_ptag = parent, pid, ptag
            continue
        if tag in block:
            visible.append("\n")
        attrs = node.attributes
        if not attrs:
            continue
        if tag == "meta":
            http_equiv = (attrs.get("http-equiv") or "").lower()
            content_attr = attrs.get("content") or ""
            if http_equiv == "refresh":
                m = _REFRESH_URL.search(content_attr)
                if m:
                    extra.append(_resolve(m.group(1), base_uri))
                continue
            if http_equiv == "content-language" and content_attr and language is None:
                language = content_attr.split(",")[0].strip()[:35] or None
        for name, value in attrs.items():
            if not value:
                continue
            lname = name.lower()
            if lname in _LINK_ATTRS:
                extra.append(_resolve(value, base_uri))
            elif lname in _TEXT_ATTRS or lname.startswith("data-") or lname.startswith("on"):
                extra.append(value)
    vis = "".join(visible)
    parts = [vis, *extra, *scripts]
    return HtmlText(text="\n".join(parts), visible_end=len(vis), title=title, language=language)

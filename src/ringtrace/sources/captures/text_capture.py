"""Plain-text captures and paste dumps: the low-confidence fallback for text files that hold links.

Only claimed when the top of a text file shows a URL or a messaging indicator, and with low confidence, so any
real format wins. Read in bounded blocks cut at line ends (a single 100 MB line is cut in windows), so memory
stays flat; every indicator carries its 1-based line number.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator

from ringtrace.indicators.capture import LineIndex, indicator_from, looks_binary
from ringtrace.indicators.extract import extract_indicators
from ringtrace.model import Page, Problem, Prov, ReadOptions, Record
from ringtrace.sources.base import Candidate, FormatError, SourceFormat, Unit, register

BLOCK_BYTES = 4 * 1024 * 1024
_CARRY = 4096  # bytes of a cut long line carried into the next block so a link on the cut is seen whole
_HINT = re.compile(
    rb"https?://|hxxps?|\bwww\.|chat\.whatsapp|\bwa\.me/|\bt\.me/|telegram\.me|signal\.group|discord\.gg|"
    rb"\.onion\b|tg://|@[A-Za-z0-9-]{1,63}\.[A-Za-z]{2,}",
    re.I,
)


@register
class TextCaptureFormat(SourceFormat):
    name = "text-capture"
    description = "Plain-text captures and paste dumps (fallback for text files with links)"

    def claim(self, candidate: Candidate) -> int:
        head = candidate.head
        if not head or looks_binary(head):
            return 0
        # mostly UTF-8 (a paste dump may hold a few stray bytes in another charset)
        if head.decode("utf-8", errors="replace").count("\ufffd") > len(head) // 20:
            return 0
        return 10 if _HINT.search(head) else 0

    def read(self, unit: Unit, options: ReadOptions) -> Iterator[Record]:
        file = unit.primary
        try:
            fh = unit.path.open("rb")
        except OSError as e:
            raise FormatError(f"{file}: cannot open text capture: {e}") from e
        yield Page(None, None, None, unit.primary.rsplit("/", 1)[-1], Prov(file), "text/plain", None)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        replaced_warned = False
        line = 1
        carry = ""
        with fh:
            while True:
                data = fh.read(BLOCK_BYTES)
                final = len(data) < BLOCK_BYTES
                text = decoder.decode(data, final=final)
                if "\ufffd" in text and not replaced_warned:
                    replaced_warned = True
                    yield Problem(file, "text is not valid UTF-8; bad bytes replaced", Prov(file), "warning")
                if "\x00" in text:
                    yield Problem(
                        file, "binary data inside the text; searched as text anyway", Prov(file), "warning"
                    )
                    text = text.replace("\x00", " ")
                block = carry + text
                nl = block.rfind("\n")
                if final:
                    work, carry, tail = block, "", 0
                elif nl >= 0:
                    work, carry, tail = block[: nl + 1], block[nl + 1 :], 0
                else:
                    # one very long line: search what we have, carry its end into the next block and leave
                    # hits that start in that end to the next block
                    work, carry = block, block[-_CARRY:]
                    tail = len(carry)
                index = LineIndex(work, line)
                for f in extract_indicators(work, region=options.region):
                    if tail and f.start >= len(work) - tail:
                        continue
                    yield indicator_from(f, Prov(file, None, None, index.line(f.start)), None, None)
                if not tail:
                    line += work.count("\n")
                if final:
                    break

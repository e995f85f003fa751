"""Plain hash lists: one digest a line, '#' comments, blank lines ignored.

The type comes from the length (32 MD5, 40 SHA-1, 64 SHA-256) unless the caller names it (``kind="pdq"``):
a bare 64-hex line is ambiguous between SHA-256 and PDQ and is read as SHA-256 by default. Lines may instead
name their type first, as python-threatexchange's local signal files do (``pdq <hex>``, ``md5 <hex>``),
optionally followed by tab-separated metadata/tags, which are kept as text in ``HashEntry.extra``.

A plain list has no id column, so each entry is named by its line in the file (``raw_id = "line 12"``): a match
then points the examiner at the list's own line, never at the store's internal row id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from .model import HEX_LENGTHS, CategoryScheme, HashEntry, HashListError, HashListProblem, check_hex, clip

MAX_LINE = 1 << 14
_BY_LEN = {32: "md5", 40: "sha1", 64: "sha256"}
_PREFIX = re.compile(r"^(md5|sha1|sha-1|sha256|sha-256|pdq)[\s:,]+(\S+)(.*)$", re.IGNORECASE)
_BARE = re.compile(r"^([0-9A-Fa-f]+)(.*)$")


def looks_like_plain(head: str) -> bool:
    for raw in head.splitlines()[:50]:
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        return bool(_PREFIX.match(line) or re.fullmatch(r"[0-9A-Fa-f]{32,64}(\s.*)?", line))
    return False


def read_plain(path: Path, scheme: CategoryScheme, kind: str | None = None) -> Iterator[HashEntry | HashListProblem]:
    if kind is not None and kind not in HEX_LENGTHS:
        raise HashListError(path, f"unknown plain-list hash type {kind!r}")
    try:
        fh = path.open("r", encoding="utf-8-sig", errors="replace")
    except OSError as e:
        raise HashListError(path, f"cannot open: {e}") from e
    cat = scheme.normalise(None)
    with fh:
        lineno = 0
        while True:
            line = fh.readline(MAX_LINE)
            if not line:
                break
            lineno += 1
            if not line.endswith("\n") and len(line) >= MAX_LINE:
                while (rest := fh.readline(MAX_LINE)) and not rest.endswith("\n"):
                    pass
                yield HashListProblem(str(path), f"line longer than {MAX_LINE} characters", line=lineno)
                continue
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            m = _PREFIX.match(text)
            if m:
                t = m.group(1).lower().replace("-", "")
                value, meta = m.group(2), m.group(3)
            else:
                b = _BARE.match(text)
                value, meta = (b.group(1), b.group(2)) if b else (text.split()[0], "")
                t = kind or _BY_LEN.get(len(value), "")
                if not t:
                    yield HashListProblem(
                        str(path), f"not an MD5/SHA-1/SHA-256/PDQ hash: {clip(text, 80)!r}", line=lineno
                    )
                    continue
            try:
                digest = check_hex(t, value)
            except ValueError as e:
                yield HashListProblem(str(path), str(e), line=lineno)
                continue
            meta = meta.strip()
            extra = (("meta", clip(meta, 1000)),) if meta else ()
            digests: dict[str, str | None] = {k: None for k in HEX_LENGTHS}
            digests[t] = digest
            yield HashEntry(
                md5=digests["md5"],
                sha1=digests["sha1"],
                sha256=digests["sha256"],
                pdq=digests["pdq"],
                category=cat,
                source=str(path),
                raw_id=f"line {lineno}",
                line=lineno,
                extra=extra,
            )

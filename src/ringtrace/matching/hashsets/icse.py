"""Interpol ICSE CSV exports: semicolon-separated with a header row.

The header seen in public tooling (IPED ``HashDBTool.java``) is ``MD5;SHA1;PhotoDNA;Image ID;Is distributed;
Victim identified;Offender identified;Series name;Number of submissions;File Available;Media Type;Baseline``.
Column names are matched loosely (case, spaces, underscores), so ``SHA-256``, ``Category`` or ``Series`` work
too; a comma or tab delimiter is accepted when the header has no semicolon. Read row by row (csv module), so
list size does not bound memory; a UTF-8 BOM is dropped.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from ._fields import FIELD_ALIASES, build_entry, norm_name
from .model import CategoryScheme, HashEntry, HashListError, HashListProblem

MAX_FIELD = 1 << 16  # a PhotoDNA is 192 base64 / 288 hex chars; anything far longer is not a list field


def looks_like_icse(head: str) -> bool:
    first = head.lstrip("\ufeff").split("\n", 1)[0]
    if ";" not in first and "," not in first and "\t" not in first:
        return False
    names = {norm_name(c.strip().strip('"')) for c in first.replace(",", ";").replace("\t", ";").split(";")}
    return bool(names & {"md5", "sha1", "sha256", "pdq"})


def read_icse(path: Path, scheme: CategoryScheme) -> Iterator[HashEntry | HashListProblem]:
    try:
        fh = path.open("r", encoding="utf-8-sig", errors="replace", newline="")
    except OSError as e:
        raise HashListError(path, f"cannot open: {e}") from e
    with fh:
        head = fh.readline(MAX_FIELD)
        if not head:
            raise HashListError(path, "empty file")
        delim = ";" if ";" in head else ("\t" if "\t" in head else ",")
        header = next(csv.reader([head], delimiter=delim))
        names = [c.strip() for c in header]
        if not any(FIELD_ALIASES.get(norm_name(n)) in ("md5", "sha1", "sha256", "pdq") for n in names):
            raise HashListError(path, f"no MD5/SHA1/SHA256/PDQ column in header: {head[:200]!r}")
        reader = csv.reader(_bounded_lines(fh), delimiter=delim)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                yield HashListProblem(str(path), f"bad CSV row: {e}", line=reader.line_num + 1)
                continue
            line = reader.line_num + 1  # +1 for the header read above
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) > len(names):
                yield HashListProblem(str(path), f"{len(row)} fields for {len(names)} columns", line=line)
            yield from build_entry(dict(zip(names, row, strict=False)), scheme, path, line=line)


def _bounded_lines(fh: object) -> Iterator[str]:
    """Lines of at most MAX_FIELD chars; a longer line is cut (the row then fails as a bad value)."""
    readline = fh.readline  # type: ignore[attr-defined]
    while True:
        line = readline(MAX_FIELD)
        if not line:
            return
        if not line.endswith("\n") and len(line) >= MAX_FIELD:
            while (rest := readline(MAX_FIELD)) and not rest.endswith("\n"):
                pass
            line += "\n"
        yield line

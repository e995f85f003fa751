"""Known-item hash lists: Project VIC VICS JSON, Interpol ICSE CSV, NCMEC-style XML, plain digest lists.

``read_hashset(path)`` picks the reader by content (not by file name) and streams ``HashEntry`` records, with
a ``HashListProblem`` for each unusable row; a file that cannot be read at all raises ``HashListError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

from .icse import looks_like_icse, read_icse
from .model import (
    DEFAULT_CATEGORIES,
    CategoryScheme,
    HashEntry,
    HashListError,
    HashListProblem,
)
from .ncmec_xml import looks_like_xml, read_ncmec_xml
from .plain import looks_like_plain, read_plain
from .vics import looks_like_vics, read_vics

__all__ = [
    "DEFAULT_CATEGORIES",
    "FORMATS",
    "CategoryScheme",
    "HashEntry",
    "HashListError",
    "HashListProblem",
    "read_hashset",
    "sniff_format",
]

SNIFF_BYTES = 1 << 16


def _read_plain_kind(path: Path, scheme: CategoryScheme, kind: str) -> Iterator[HashEntry | HashListProblem]:
    return read_plain(path, scheme, kind=kind)


Reader = Callable[[Path, CategoryScheme], Iterator[HashEntry | HashListProblem]]

# name -> reader; "md5"/"sha1"/"sha256"/"pdq" are plain lists whose every line is that type.
FORMATS: dict[str, Reader] = {
    "vics": read_vics,
    "icse": read_icse,
    "ncmec-xml": read_ncmec_xml,
    "plain": read_plain,
    **{k: partial(_read_plain_kind, kind=k) for k in ("md5", "sha1", "sha256", "pdq")},
}

# Checked in order; plain last because it is the loosest.
_SNIFFERS: list[tuple[str, Callable[[str], bool]]] = [
    ("vics", looks_like_vics),
    ("ncmec-xml", looks_like_xml),
    ("icse", looks_like_icse),
    ("plain", looks_like_plain),
]


def sniff_format(path: Path) -> str:
    """Name of the format of ``path`` judged from its first 64 KiB; raises HashListError if none fits."""
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES).decode("utf-8", errors="replace")
    except OSError as e:
        raise HashListError(path, f"cannot open: {e}") from e
    if not head.strip():
        raise HashListError(path, "empty file")
    for name, test in _SNIFFERS:
        if test(head):
            return name
    raise HashListError(path, "not a known hash-list format (VICS JSON, ICSE CSV, XML, plain digests)")


def read_hashset(
    path: Path, format: str | None = None, category_scheme: CategoryScheme | None = None
) -> Iterator[HashEntry | HashListProblem]:
    """Stream the entries of a hash list. ``format``: one of FORMATS, or None to sniff the content."""
    path = Path(path)
    name = format or sniff_format(path)
    reader = FORMATS.get(name)
    if reader is None:
        raise HashListError(path, f"unknown hash-list format {name!r} (known: {', '.join(FORMATS)})")
    return reader(path, category_scheme or CategoryScheme())

"""Known-item hash lists: Project VIC VICS JSON, Interpol ICSE CSV, NCMEC-style XML, plain digest lists.

``read_hashset(path)`` picks the reader by content (not by file name) and streams ``HashEntry`` records, with
a ``HashListProblem`` for each unusable row; a file that cannot be read at all raises ``HashListError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from ringtrace.plugins import HashListReader, hookimpl, plugin_hashlist_readers

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
    "CategoryScheme",
    "HashEntry",
    "HashListError",
    "HashListProblem",
    "read_hashset",
    "readers",
    "sniff_format",
]

SNIFF_BYTES = 1 << 16


def _plain_kind(kind: str) -> Reader:
    def read(path: Path, scheme: CategoryScheme) -> Iterator[HashEntry | HashListProblem]:
        return read_plain(path, scheme, kind=kind)

    return read


Reader = Callable[[Path, CategoryScheme], Iterator[HashEntry | HashListProblem]]


@hookimpl
def ringtrace_hashlist_readers() -> list[HashListReader]:
    """The built-in hash-list readers, registered through the same hook as an outside plugin's.
    Sniffed in ``sniff_order``; plain last because it is the loosest. "md5"/"sha1"/"sha256"/"pdq" are plain
    lists whose every line is that type, used only when named."""
    return [
        HashListReader("vics", read_vics, looks_like_vics, 10, "Project VIC VICS JSON"),
        HashListReader("ncmec-xml", read_ncmec_xml, looks_like_xml, 20, "NCMEC-style XML"),
        HashListReader("icse", read_icse, looks_like_icse, 30, "Interpol ICSE CSV"),
        HashListReader("plain", read_plain, looks_like_plain, 90, "one digest per line, type per line"),
        *(HashListReader(k, _plain_kind(k), description=f"plain list of {k} digests")
          for k in ("md5", "sha1", "sha256", "pdq")),
    ]


def readers() -> dict[str, HashListReader]:
    """Every hash-list reader from the ``ringtrace_hashlist_readers`` hook, by name; two different readers
    under one name are refused."""
    out: dict[str, HashListReader] = {}
    for r in plugin_hashlist_readers():
        if r.name in out and out[r.name] != r:
            raise ValueError(f"hash-list reader {r.name!r} registered twice")
        out[r.name] = r
    return out


def sniff_format(path: Path) -> str:
    """Name of the format of ``path`` judged from its first 64 KiB; raises HashListError if none fits."""
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES).decode("utf-8", errors="replace")
    except OSError as e:
        raise HashListError(path, f"cannot open: {e}") from e
    if not head.strip():
        raise HashListError(path, "empty file")
    sniffers = sorted((r for r in readers().values() if r.sniff is not None), key=lambda r: r.sniff_order)
    for r in sniffers:
        if r.sniff is not None and r.sniff(head):
            return r.name
    raise HashListError(path, "not a known hash-list format (VICS JSON, ICSE CSV, XML, plain digests)")


def read_hashset(
    path: Path, format: str | None = None, category_scheme: CategoryScheme | None = None
) -> Iterator[HashEntry | HashListProblem]:
    """Stream the entries of a hash list. ``format``: a reader name (see ``readers()``), or None to sniff."""
    path = Path(path)
    name = format or sniff_format(path)
    known = readers()
    reader = known.get(name)
    if reader is None:
        raise HashListError(path, f"unknown hash-list format {name!r} (known: {', '.join(known)})")
    return reader.read(path, category_scheme or CategoryScheme())

"""The source-format plugin interface and its registry.

A format is picked by what a file contains, never by its name alone (plaso's way): every file of an exhibit is
offered to every registered format as a ``Candidate``; each format answers how sure it is (0 = not mine). The
most confident format wins that file and reads it as a *unit* (the file plus whatever siblings it needs, such as
``wa.db`` beside ``msgstore.db`` or the attachments beside ``_chat.txt``).

Adding a format is one module in a family folder of ``ringtrace/sources/`` that subclasses ``SourceFormat`` and
decorates it with ``@register``; the built-in plugin (``ringtrace.sources._builtin``) hands those classes to the
``ringtrace_formats`` pluggy hook, the same hook outside packages implement (see ``ringtrace.plugins`` and
docs/extending.md). Format ids are lower-case words joined by ``-`` (``whatsapp-export``); older ids stay
readable through ``FORMAT_ALIASES`` / ``canonical_format``.
"""

from __future__ import annotations

import os
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import ClassVar, TypeVar

from ringtrace.model import ReadOptions, Record

HEAD_BYTES = 64 * 1024
SQLITE_MAGIC = b"SQLite format 3\x00"


class FormatError(Exception):
    """A unit could not be read. The message names the file and the reason; the run goes on."""


@dataclass
class Candidate:
    """One file of an exhibit, as offered to formats for recognition. Reads are lazy and bounded."""

    root: Path  # exhibit root (read-only)
    relpath: str  # posix path relative to root
    size: int

    @property
    def path(self) -> Path:
        return self.root / self.relpath

    @property
    def name(self) -> str:
        return self.relpath.rsplit("/", 1)[-1]

    @cached_property
    def head(self) -> bytes:
        # unbuffered, by the path's string: read once per file of the exhibit, so no Path or buffer made for it
        try:
            with open(os.path.join(self.root, self.relpath), "rb", buffering=0) as fh:
                data = fh.read(HEAD_BYTES)
                while data is not None and 0 < len(data) < HEAD_BYTES:  # a short read before the end: read on
                    more = fh.read(HEAD_BYTES - len(data))
                    if not more:
                        break
                    data += more
                return data or b""
        except OSError:
            return b""

    @cached_property
    def is_sqlite(self) -> bool:
        # asked by several formats of every file of an exhibit: answered once (the head is fixed once read)
        return self.head.startswith(SQLITE_MAGIC)

    @cached_property
    def sqlite_schema(self) -> dict[str, set[str]]:
        """Tables and their columns, read without modifying the file (immutable=1: no WAL, no locks).
        Empty when the file is not SQLite or cannot be read."""
        if not self.is_sqlite:
            return {}
        return read_sqlite_schema(self.path)


def read_sqlite_schema(path: Path) -> dict[str, set[str]]:
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    schema: dict[str, set[str]] = {}
    try:
        con = sqlite3.connect(uri, uri=True)
        try:
            tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for t in tables:
                cols = {r[1] for r in con.execute(f"PRAGMA table_info({quote_ident(t)})")}
                schema[t] = cols
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return {}
    return schema


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Unit:
    """What a format reads in one go: a primary file in an exhibit, plus the files it claimed beside it."""

    root: Path
    primary: str  # relpath of the file that was recognised
    format: str
    members: list[str] = field(default_factory=list)  # sibling relpaths this unit also covers

    @property
    def path(self) -> Path:
        return self.root / self.primary


class SourceFormat(ABC):
    """A reader for one evidence format."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    #: For SQLite formats: the tables (and columns) the format needs, plaso style. ``claim`` may use it.
    required_tables: ClassVar[dict[str, set[str]]] = {}

    @abstractmethod
    def claim(self, candidate: Candidate) -> int:
        """How sure this format is that ``candidate`` is its primary file: 0 (no) .. 100 (certain)."""

    def members(self, candidate: Candidate, all_relpaths: list[str]) -> list[str]:
        """Other files of the exhibit that belong to this unit (read together, not offered to other formats)."""
        return []

    @abstractmethod
    def read(self, unit: Unit, options: ReadOptions) -> Iterator[Record]:
        """Yield case records. Raise FormatError for a unit that cannot be read at all; yield ``Problem``
        records for parts that cannot be read while the rest can."""

    # helper for SQLite formats
    @classmethod
    def has_tables(cls, schema: dict[str, set[str]], needed: dict[str, set[str]] | None = None) -> bool:
        needed = cls.required_tables if needed is None else needed
        return bool(needed) and all(t in schema and cols <= schema[t] for t, cols in needed.items())


_REGISTRY: dict[str, type[SourceFormat]] = {}
_DECLARED: list[type[SourceFormat]] = []
F = TypeVar("F", bound=type[SourceFormat])

#: Format ids used before ids were made one style; still accepted by ``--format`` and read from existing cases
#: (``source_files.format``). No migration: old rows are mapped on read.
FORMAT_ALIASES: dict[str, str] = {
    "whatsapp_export": "whatsapp-export",
    "telegram_desktop_json": "telegram-desktop",
    "html_page": "html-page",
    "text_capture": "text-capture",
}


def canonical_format(name: str) -> str:
    """The current id of a format id, old or current (unknown ids come back unchanged)."""
    return FORMAT_ALIASES.get(name, name)


def register(cls: F) -> F:
    """Declare a built-in format class (the ``_builtin`` plugin hands declared classes to the hook)."""
    if cls not in _DECLARED:
        _DECLARED.append(cls)
    return cls


def declared() -> list[type[SourceFormat]]:
    return list(_DECLARED)


def add_to_registry(cls: type[SourceFormat]) -> None:
    """Put a format class from the ``ringtrace_formats`` hook into the registry, refusing clashing ids."""
    if cls.name in FORMAT_ALIASES:
        raise ValueError(f"source format id {cls.name!r} is an old alias of {FORMAT_ALIASES[cls.name]!r}")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"source format {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls


def registry() -> dict[str, type[SourceFormat]]:
    from ringtrace.sources import load_all

    load_all()
    return dict(_REGISTRY)

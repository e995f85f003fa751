"""Extension points through pluggy hooks (datasette's way).

Two hooks: ``ringtrace_formats`` (source-format classes) and ``ringtrace_hashlist_readers`` (hash-list readers).
Built-in formats and readers register through the SAME hooks as outside plugins: the modules named in
``DEFAULT_PLUGINS`` are ``pm.register``-ed as plugins, then outside packages are loaded from entry points in the
``ringtrace`` group. See docs/extending.md.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from ringtrace.matching.hashsets.model import CategoryScheme, HashEntry, HashListProblem
    from ringtrace.sources.base import SourceFormat

hookspec = pluggy.HookspecMarker("ringtrace")
hookimpl = pluggy.HookimplMarker("ringtrace")

#: Modules that carry the built-in hook implementations (registered first, like datasette's DEFAULT_PLUGINS).
DEFAULT_PLUGINS: tuple[str, ...] = ("ringtrace.sources._builtin", "ringtrace.matching.hashsets")


@dataclass(frozen=True)
class HashListReader:
    """One hash-list format: its name, a reader, and an optional sniff of the first 64 KiB of text.

    ``sniff_order``: sniffers run in ascending order (loosest last); a reader without ``sniff`` is only used when
    named explicitly (``--format``)."""

    name: str
    read: Callable[[Path, CategoryScheme], Iterator[HashEntry | HashListProblem]]
    sniff: Callable[[str], bool] | None = None
    sniff_order: int = 50
    description: str = ""


class Specs:
    @hookspec
    def ringtrace_formats(self) -> list[type[SourceFormat]]:  # type: ignore[empty-body]
        """Return SourceFormat subclasses to register."""

    @hookspec
    def ringtrace_hashlist_readers(self) -> list[HashListReader]:  # type: ignore[empty-body]
        """Return HashListReader descriptions of hash-list formats to register."""


#: Every hook in ``Specs``; docs/extending.md must document each (tests/sources/test_extending_doc.py).
HOOKS: tuple[str, ...] = ("ringtrace_formats", "ringtrace_hashlist_readers")

_pm: pluggy.PluginManager | None = None


def manager() -> pluggy.PluginManager:
    global _pm
    if _pm is None:
        pm = pluggy.PluginManager("ringtrace")
        pm.add_hookspecs(Specs)
        for name in DEFAULT_PLUGINS:
            pm.register(importlib.import_module(name), name=name)
        pm.load_setuptools_entrypoints("ringtrace")
        _pm = pm
    return _pm


def plugin_formats() -> list[type[SourceFormat]]:
    """Every format class from every plugin, built-in ones included, in registration order."""
    out: list[type[SourceFormat]] = []
    for batch in reversed(manager().hook.ringtrace_formats()):  # pluggy calls the last registered first
        out.extend(batch or [])
    return out


def plugin_hashlist_readers() -> list[HashListReader]:
    """Every hash-list reader from every plugin, built-in ones included, in registration order."""
    out: list[HashListReader] = []
    for batch in reversed(manager().hook.ringtrace_hashlist_readers()):
        out.extend(batch or [])
    return out

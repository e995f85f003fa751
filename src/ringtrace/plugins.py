"""Extension points through pluggy hooks (datasette's way). Outside packages add source formats or hash-list
formats by declaring an entry point in the ``ringtrace`` group that implements these hooks."""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("ringtrace")
hookimpl = pluggy.HookimplMarker("ringtrace")


class Specs:
    @hookspec
    def ringtrace_formats(self) -> list[Any]:  # type: ignore[empty-body]
        """Return SourceFormat subclasses to register."""


_pm: pluggy.PluginManager | None = None


def manager() -> pluggy.PluginManager:
    global _pm
    if _pm is None:
        _pm = pluggy.PluginManager("ringtrace")
        _pm.add_hookspecs(Specs)
        _pm.load_setuptools_entrypoints("ringtrace")
    return _pm


def plugin_formats() -> list[Any]:
    out: list[Any] = []
    for batch in manager().hook.ringtrace_formats():
        out.extend(batch or [])
    return out

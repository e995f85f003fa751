"""Evidence formats. Each module here registers one format (see ``base``); they are discovered, not listed."""

from __future__ import annotations

import importlib
import pkgutil

_loaded = False


def load_all() -> None:
    """Import every format module in this package, then formats from installed plugins."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name in {"base", "sqlite_util"}:
            continue
        importlib.import_module(f"{__name__}.{info.name}")
    from ringtrace.plugins import plugin_formats

    from .base import register

    for fmt in plugin_formats():
        register(fmt)

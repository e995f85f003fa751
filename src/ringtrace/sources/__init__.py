"""Evidence formats, in family subpackages (``whatsapp/``, ``telegram/``, ``captures/``); ``base`` is the
interface and ``_helpers/`` holds shared code that is not a format. Format modules are discovered, not listed."""

from __future__ import annotations

import importlib
import pkgutil

_loaded = False

#: Modules directly in this package that are not formats.
_NOT_FORMATS = {"base"}


def load_all() -> None:
    """Import every format module in this package and its family subpackages, then formats from installed plugins."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for info in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
        leaf = info.name.rsplit(".", 1)[-1]
        if any(part.startswith("_") for part in info.name.split(".")[2:]) or leaf in _NOT_FORMATS:
            continue
        importlib.import_module(info.name)
    from ringtrace.plugins import plugin_formats

    from .base import register

    for fmt in plugin_formats():
        register(fmt)

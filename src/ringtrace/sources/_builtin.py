"""The built-in formats as a pluggy plugin: ``ringtrace.plugins`` registers this module exactly as it registers
an outside plugin, so built-ins and outside formats reach the registry by the same hook."""

from __future__ import annotations

import importlib
import pkgutil

import ringtrace.sources as _pkg
from ringtrace.plugins import hookimpl
from ringtrace.sources.base import SourceFormat, declared

#: Modules directly in ``ringtrace.sources`` that are not formats.
_NOT_FORMATS = {"base"}


def _import_family_modules() -> None:
    """Import every format module of the package and its family subpackages (``_``-prefixed ones are helpers)."""
    for info in pkgutil.walk_packages(_pkg.__path__, prefix=f"{_pkg.__name__}."):
        parts = info.name.split(".")[2:]
        if any(p.startswith("_") for p in parts) or parts[-1] in _NOT_FORMATS:
            continue
        importlib.import_module(info.name)


@hookimpl
def ringtrace_formats() -> list[type[SourceFormat]]:
    _import_family_modules()
    return [cls for cls in declared() if cls.__module__.startswith(f"{_pkg.__name__}.")]

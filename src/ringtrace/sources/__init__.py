"""Evidence formats, in family subpackages (``whatsapp/``, ``telegram/``, ``captures/``); ``base`` is the
interface and ``_helpers/`` holds shared code that is not a format. Every format, built-in or outside, reaches
the registry through the ``ringtrace_formats`` pluggy hook (built-ins via ``_builtin``)."""

from __future__ import annotations

_loaded = False


def load_all() -> None:
    """Fill the format registry from every plugin's ``ringtrace_formats`` hook (built-in formats included)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    from ringtrace.plugins import plugin_formats

    from .base import add_to_registry

    for fmt in plugin_formats():
        add_to_registry(fmt)

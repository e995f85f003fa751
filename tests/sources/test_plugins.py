"""Built-in and outside formats / hash-list readers arrive through the same pluggy hooks; old format ids stay
accepted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ringtrace import plugins
from ringtrace.matching import hashsets
from ringtrace.matching.hashsets import CategoryScheme, HashEntry, HashListProblem, read_hashset, sniff_format
from ringtrace.model import ReadOptions, Record
from ringtrace.sources import base
from ringtrace.sources.base import FORMAT_ALIASES, Candidate, FormatError, SourceFormat, Unit, canonical_format
from ringtrace.stages.parse import recognise


def test_builtins_are_registered_plugin_modules() -> None:
    pm = plugins.manager()
    for name in plugins.DEFAULT_PLUGINS:
        assert pm.get_plugin(name) is not None, name
    names = {c.name for c in plugins.plugin_formats()}
    assert {"whatsapp-android", "whatsapp-export", "telegram-desktop", "warc", "html-page"} <= names
    assert set(base.registry()) == names


def test_format_ids_are_one_style() -> None:
    for name in base.registry():
        assert name == name.lower() and "_" not in name and " " not in name, name
    for old, new in FORMAT_ALIASES.items():
        assert new in base.registry(), (old, new)
        assert canonical_format(old) == new
    assert canonical_format("whatsapp-android") == "whatsapp-android"


def test_old_id_accepted_by_forced_format(tmp_path: Path) -> None:
    (tmp_path / "note.txt").write_text("see http://example.org/x for more\n", encoding="utf-8")
    files = [("note.txt", (tmp_path / "note.txt").stat().st_size)]
    new = recognise(tmp_path, files, "text-capture")
    old = recognise(tmp_path, files, "text_capture")
    assert [u.format for u in old] == [u.format for u in new] == ["text-capture"]
    with pytest.raises(FormatError, match="unknown format 'nope'"):
        recognise(tmp_path, files, "nope")


class _Outside(SourceFormat):
    name = "outside-test"
    description = "test format"

    def claim(self, candidate: Candidate) -> int:
        return 0

    def read(self, unit: Unit, options: ReadOptions) -> Iterator[Record]:
        return iter(())


def _read_pipes(path: Path, scheme: CategoryScheme) -> Iterator[HashEntry | HashListProblem]:
    yield HashListProblem(str(path), "pipes are not digests", line=1)


class _OutsidePlugin:
    @plugins.hookimpl
    def ringtrace_formats(self) -> list[type[SourceFormat]]:
        return [_Outside]

    @plugins.hookimpl
    def ringtrace_hashlist_readers(self) -> list[plugins.HashListReader]:
        return [plugins.HashListReader("pipes", _read_pipes, lambda head: head.startswith("|||"), 5)]


def test_outside_plugin_uses_the_same_hooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pm = plugins.manager()
    plugin = _OutsidePlugin()
    pm.register(plugin, name="outside-test")
    try:
        assert _Outside in plugins.plugin_formats()
        assert "pipes" in hashsets.readers()
        f = tmp_path / "list.txt"
        f.write_text("|||\n", encoding="utf-8")
        assert sniff_format(f) == "pipes"
        assert [type(x) for x in read_hashset(f)] == [HashListProblem]
    finally:
        pm.unregister(name="outside-test")
    assert "pipes" not in hashsets.readers()


def test_builtin_hashlist_sniff_order() -> None:
    order = [r.name for r in sorted((r for r in hashsets.readers().values() if r.sniff), key=lambda r: r.sniff_order)]
    assert order == ["vics", "ncmec-xml", "icse", "plain"]


def test_clashing_or_alias_ids_refused() -> None:
    class Clash(_Outside):
        name = "whatsapp-android"

    class OldId(_Outside):
        name = "whatsapp_export"

    with pytest.raises(ValueError, match="registered twice"):
        base.add_to_registry(Clash)
    with pytest.raises(ValueError, match="old alias"):
        base.add_to_registry(OldId)

"""The package read scoped (the parts of the export it needs, messages streamed twice) gives what the whole export
in memory gave: same document for every country, same files, and the same messages for hand-made hard cases."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ringtrace import audit
from ringtrace.case import Case
from ringtrace.dissemination import package as pk
from ringtrace.dissemination.export import build_export


def _countries(case: Case) -> list[str]:
    return sorted({p["country"] for p in build_export(case)["persons"] if p["country"]})


def _without_time(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "generated_at"}


@pytest.mark.parametrize("context", [0, 3])
def test_scoped_document_equals_the_whole_export_path_for_every_country(case: Case, context: int) -> None:
    countries = _countries(case)
    assert len(countries) >= 2
    for c in countries:
        for victims in (False, True):
            new, s_new, f_new, k_new = pk.build_package_doc(case, c, context, include_victims=victims)
            old, s_old, f_old, k_old = pk.build_package_doc(case, c, context, include_victims=victims,
                                                            in_memory=True)
            assert new["messages"], c  # the comparison covers messages
            assert _without_time(new) == _without_time(old), c
            assert (f_new, k_new) == (f_old, k_old)
            assert s_new.scrub_obj(_without_time(new)) == s_old.scrub_obj(_without_time(old))


def test_package_files_are_byte_identical_to_the_whole_export_path(case_dir: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Whole packages, one made each way with the same version, clock and audit head: every file the same bytes,
    the manifest too but for the time it was written."""
    stamp = "2026-01-01T00:00:00Z"
    monkeypatch.setattr(pk, "iso", lambda dt: stamp if dt is not None else None)
    monkeypatch.setattr(pk, "next_version", lambda case, country: 7)
    monkeypatch.setattr(audit, "current_head", lambda con: "28:" + "ab" * 32)  # each package moves the log on
    real = pk.build_package_doc
    shutil.copytree(case_dir, tmp_path / "case")  # packages are recorded in the case: not in the shared one
    case = Case.open(tmp_path / "case", actor="pytest")
    for c in _countries(case)[:3]:
        a = pk.make_package(case, c, tmp_path / "new", pdf=False, include_victims=True)
        monkeypatch.setattr(pk, "build_package_doc", lambda *a, **k: real(*a, **k, in_memory=True))
        b = pk.make_package(case, c, tmp_path / "old", pdf=False, include_victims=True)
        monkeypatch.setattr(pk, "build_package_doc", real)
        names = sorted(p.name for p in a.path.iterdir())
        assert names == sorted(p.name for p in b.path.iterdir())
        assert {"messages.csv", "case.jsonld", "report.html", "package.json", "manifest.json"} <= set(names)
        for n in names:
            x, y = (a.path / n).read_bytes(), (b.path / n).read_bytes()
            if n == "manifest.json":
                x, y = (json.dumps({k: v for k, v in json.loads(z).items() if k != "created_at"}) for z in (x, y))
            assert x == y, (c, n)
    case.close()


def _m(chat: str, at: str | None, sender: str | None, text: str | None, source: str, kind: str = "message",
       target: str | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {"chat": {"kind": "group", "group": chat, "key": chat.lower()}, "sender": sender, "at": at,
                         "kind": kind, "text": text, "media": [], "forwarded": False, "source": source,
                         "location": f"{source}:row {text}"}
    if kind == "event":
        m["event"] = {"kind": "added", "raw_code": None, "target": target, "value": None}
    return m


def test_streamed_fold_and_context_match_the_in_memory_ones() -> None:
    """Copies from two devices (one repeated, one not adjacent), ties in time, events before messages, no time,
    hits near each other and at a chat's edges: the streamed plan keeps the same messages in the same order."""
    ms = [
        _m("G1", None, "P2", "undated", "E1"),
        _m("G1", "2024-01-01T00:00:00Z", "P2", "a", "E1"),
        _m("G1", "2024-01-01T00:00:00Z", "P1", "b", "E1"),
        _m("G2", "2024-01-01T00:00:00Z", "P3", "x", "E2"),
        _m("G1", "2024-01-01T00:00:00Z", "P2", "a", "E2"),  # copy of "a" from another exhibit
        _m("G1", "2024-01-01T00:00:00Z", "P2", "a", "E2"),  # the same copy again: cited once
        *[_m("G1", f"2024-01-02T00:00:{i:02d}Z", "P2", f"n{i}", "E1") for i in range(8)],
        _m("G2", "2024-01-03T00:00:00Z", "P3", "y", "E2"),
        _m("G1", "2024-01-02T00:00:07Z", "P1", "last", "E1"),
        _m("G1", "2024-01-02T00:00:03Z", "P2", "n3", "E3"),  # a late copy of "n3"
        _m("G1", "2024-01-01T00:00:00Z", "P2", None, "E1", kind="event", target="P1"),
        _m("G3", "2024-01-01T00:00:00Z", "P1", "only", "E1"),
    ]
    for context in (0, 1, 3, 20):
        sc = pk._Scope({}, lambda: iter([dict(m) for m in ms]), "ES", {}, {"P1"}, pk._Refs({"P1"}, {}), {})
        old = pk._messages_in_memory(sc, context)
        new = pk._messages_streamed(sc, context)
        assert new == old, context
        assert all(chat != "G2" for chat, _, _ in new)
        cited = {m["text"]: [c["source"] for c in m["sources"]] for _, _, m in new}
        # the event (no text) sorts before the messages of its time: "event" < "message"
        assert [m["text"] for _, hit, m in new if hit] == [None, "b", "last", "only"]
        if context >= 1:
            assert cited["a"] == ["E1", "E2"]
        if context >= 20:
            assert cited["n3"] == ["E1", "E3"]

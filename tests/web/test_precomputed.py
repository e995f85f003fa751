"""Views precomputed by ``ringtrace run`` (``dissemination.precomputed``): equal to what the web computes on the fly,
read by the pages instead of computing, kept across page views, and replaced after the case changes and is run
again."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import ringtrace
from ringtrace.dissemination import precomputed as P
from tests.web.helpers import PASSWORD, fast_hasher, login


@pytest.fixture
def stored_case(web_case: Path, tmp_path: Path) -> Path:
    """A copy of the web case with its views stored for its current version (other tests move the shared case's
    version on purpose)."""
    from ringtrace.case import Case
    from ringtrace.stages.views import views_stage

    copy = tmp_path / "case"
    shutil.copytree(web_case, copy)
    with Case.open(copy, actor="tester") as case:
        assert views_stage(case)["stamped"]
    return copy


def _live(case: Any, name: str, doc: Any) -> Any:
    from ringtrace.stages.views import _Collecting

    return P.VIEWS[name](_Collecting(case), doc)


def test_stored_views_equal_live_computation(stored_case: Path) -> None:
    from ringtrace.case import Case
    from ringtrace.dissemination.export import build_export

    with Case.open(stored_case) as case:
        fp = P.fingerprint(case)
        stored = P.Stored.open(case.path, fp)
        assert stored is not None, "run (and the fixture's views_stage) stored the views for this version"
        assert stored.names == {"export", *P.VIEWS}
        ok, doc = stored.get("export")
        live_doc = build_export(case)
        assert ok and {**doc, "generated_at": ""} == {**live_doc, "generated_at": ""}
        for name in P.VIEWS:
            ok, value = stored.get(name)
            assert ok, name
            assert value == _live(case, name, live_doc), name
        ok, ranking = stored.get("suspects")
        assert ranking and [s.label for s in ranking] == [s.label for s in _live(case, "suspects", live_doc)]
        assert isinstance(ranking[0].components[0], tuple)  # the types come back, not just their JSON


def test_codec_round_trips_and_refuses_unknown_types() -> None:
    from ringtrace.analysis.priorities import Suspect

    value = {"a": [Suspect("P1", 2.5, [("creator", 10.0, "created G1")], "ES")],
             "when": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), 7: (1, "x"), "$dt": "not a date",
             "nested": {"$t": [1]}}
    assert P.unpack(P.pack(value)) == value
    with pytest.raises(ValueError, match="unknown stored type"):
        P.decode({"$dc": "os.system", "f": {}})
    with pytest.raises(TypeError):
        P.encode(object())


def test_page_views_keep_the_stored_views(stored_case: Path, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from ringtrace.case import Case

    with Case.open(stored_case) as case:
        before = P.fingerprint(case)
    app = _app(tmp_path, stored_case)
    with TestClient(app) as c:
        assert login(c, "sam").status_code == 303
        for url in ("/cases/1/suspects", "/cases/1/timeline", "/cases/1/leads", "/cases/1/series",
                    "/cases/1/graph.json", "/cases/1/search?q=hello"):
            assert c.get(url).status_code == 200, url
    app.state.web.cases.close()
    app.state.web.store.close()
    with Case.open(stored_case) as case:
        assert P.fingerprint(case) == before  # web.* entries are not a change to the case
        assert P.Stored.open(case.path, before) is not None


def _app(tmp_path: Path, case_dir: Path) -> Any:
    from ringtrace.web.app import create_app
    from ringtrace.web.settings import WebSettings

    a = create_app(WebSettings(home=tmp_path / "home", secure_cookies=False), hasher=fast_hasher())
    a.state.web.store.add_user("sam", PASSWORD, "supervisor")
    a.state.web.store.grant("sam", case_dir, "test")
    return a


def test_pages_read_the_stored_views_and_compute_when_they_are_missing(
        stored_case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from ringtrace.web import data as web_data

    copy = stored_case
    pages = ("/cases/1/suspects", "/cases/1/series", "/cases/1/leads", "/cases/1/timeline.json", "/cases/1/graph.json")

    def get_all() -> dict[str, str]:
        app = _app(tmp_path / f"h{len(list(tmp_path.iterdir()))}", copy)
        with TestClient(app) as c:
            assert login(c, "sam").status_code == 303
            out = {u: _stable(c.get(u).text) for u in pages}
        app.state.web.cases.close()
        app.state.web.store.close()
        return out

    def refuse(*a: Any, **k: Any) -> Any:
        raise AssertionError("computed although stored")

    def refuse_export(*a: Any, **k: Any) -> Any:
        raise AssertionError("export built although stored")

    with monkeypatch.context() as m:  # stored: the pages never call the library's computations
        for name in P.VIEWS:
            m.setitem(P.VIEWS, name, refuse)
        m.setattr(web_data, "build_export", refuse_export)
        stored = get_all()
    P.path_of(copy).unlink()  # gone: the pages compute the same thing themselves
    live = get_all()
    assert stored == live
    assert json.loads(live["/cases/1/timeline.json"])["total"] > 0


def _stable(html: str) -> str:
    """A page without what differs between two renderings (CSRF tokens, the time the export was made)."""
    html = re.sub(r'name="csrf" value="[^"]+"', "", html)
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[.\d]*Z?", "T", html)


def test_a_page_shows_new_data_after_a_rerun(tiny_operation: Path, tmp_path: Path) -> None:
    """Two exhibits first, the rest later: after the second run the pages show the new exhibits, read from views
    stored for the new version (the old file is replaced, not consulted)."""
    from fastapi.testclient import TestClient

    from ringtrace.case import Case
    from ringtrace.stages.intake import ingest

    manifest = json.loads((tiny_operation / "operation.json").read_text(encoding="utf-8"))
    exhibits = manifest["exhibits"]
    assert len(exhibits) >= 3
    case = Case.init(tmp_path / "case", name="Operation Later")

    def take(exs: list[dict[str, Any]]) -> None:
        for ex in exs:
            ingest(case, tiny_operation / ex["path"], exhibit=ex["exhibit"], timezone=ex.get("timezone", "UTC"),
                   owner=ex.get("owner"), examiner="test")
        assert ringtrace.run(case).views

    take(exhibits[:2])
    first = P.fingerprint(case)
    app = _app(tmp_path, case.path)
    with TestClient(app) as c:
        assert login(c, "sam").status_code == 303
        before = c.get("/cases/1").text
        tl_before = c.get("/cases/1/timeline.json").json()["total"]
        assert exhibits[0]["exhibit"] in before and exhibits[-1]["exhibit"] not in before
        take(exhibits[2:])
        assert P.fingerprint(case) != first and P.Stored.open(case.path, first) is None
        assert P.Stored.open(case.path, P.fingerprint(case)) is not None
        after = c.get("/cases/1").text
        assert exhibits[-1]["exhibit"] in after
        assert c.get("/cases/1/timeline.json").json()["total"] > tl_before
    app.state.web.cases.close()
    app.state.web.store.close()
    case.close()


def test_views_changed_meanwhile_are_not_stamped(stored_case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A change written while the views are computed (another writer's decision): the stage does not claim its
    views for the new version; readers compute them."""
    from ringtrace.case import Case
    from ringtrace.stages import views as stage

    with Case.open(stored_case) as case:
        real = P.VIEWS["who"]

        def who_then_change(c: Any, doc: Any) -> Any:
            case.log("override.country", {"subject": "P0001", "country": "ES", "by": "test"})
            return real(c, doc)

        monkeypatch.setitem(P.VIEWS, "who", who_then_change)
        detail = stage.views_stage(case)
        assert detail["stamped"] is False
        assert P.Stored.open(case.path, P.fingerprint(case)) is None


def test_search_index_is_built_by_run_for_this_version(stored_case: Path) -> None:
    import sqlite3

    from ringtrace.case import Case
    from ringtrace.dissemination import textsearch

    with Case.open(stored_case) as case:
        fp = P.fingerprint(case)
        db = sqlite3.connect(textsearch.index_path(case.path))
        try:
            assert db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone() == (fp,)
            n = db.execute("SELECT count(*) FROM msg_fts").fetchone()[0]
        finally:
            db.close()
        with case.engine.connect() as con:
            from sqlalchemy import func, select

            from ringtrace.store import schema as S

            assert n == con.execute(select(func.count()).select_from(S.messages)
                                    .where(S.messages.c.text.is_not(None))).scalar()
            word = next(w for t in con.execute(select(S.messages.c.text).where(S.messages.c.text.is_not(None))
                                                .order_by(S.messages.c.id)).scalars()
                        for w in t.split() if len(w) > 5 and w.isalpha())
            stored_ids = textsearch.message_ids(con, case.path, fp, word)
            textsearch.index_path(case.path).rename(case.path / "kept.sqlite")
            try:
                assert textsearch.message_ids(con, case.path, fp, word) == stored_ids  # rebuilt: same answer
            finally:
                (case.path / "kept.sqlite").replace(textsearch.index_path(case.path))
        assert stored_ids


def test_outputs_do_not_move_the_version_but_changes_do(stored_case: Path) -> None:
    from ringtrace.case import Case

    with Case.open(stored_case, actor="tester") as case:
        fp = P.fingerprint(case)
        for action in ("web.view", "report.write", "package.write", "export.json", "analysis.series"):
            case.log(action, {"test": True})
            assert P.fingerprint(case) == fp, action
        assert P.Stored.open(case.path, fp) is not None
        case.log("override.country", {"subject": "P0001", "country": "PT", "by": "tester"})
        assert P.fingerprint(case) != fp
        assert P.Stored.open(case.path, P.fingerprint(case)) is None  # stale: the web computes until the next run
        changed = P.fingerprint(case)
        case.log("webhook.x", {})  # an action that only starts like the web's is a change
        assert P.fingerprint(case) != changed


@pytest.mark.parametrize("failing", ["view", "index"])
def test_an_error_in_a_view_or_the_index_leaves_both_unstamped(stored_case: Path, failing: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The index is built in a thread beside the views: either one failing fails the stage, after the other is
    joined, with nothing stamped for the new version and no half-built index left in the case folder."""
    from ringtrace.case import Case
    from ringtrace.dissemination import textsearch
    from ringtrace.stages import views as stage

    def broken(*_a: Any) -> Any:
        raise RuntimeError(f"broken {failing}")

    if failing == "view":
        monkeypatch.setitem(P.VIEWS, "who", broken)
    else:
        monkeypatch.setattr(textsearch, "build_index", broken)
    with Case.open(stored_case, actor="tester") as case:
        case.log("override.country", {"subject": "P0001", "country": "ES", "by": "tester"})
        fp = P.fingerprint(case)
        before = sorted(p.name for p in case.path.iterdir())
        with pytest.raises(RuntimeError, match=f"broken {failing}"):
            stage.views_stage(case)
        assert P.Stored.open(case.path, fp) is None
        assert textsearch._stamp(textsearch.index_path(case.path)) != fp
        assert sorted(p.name for p in case.path.iterdir()) == before


class _FixedTime(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return datetime(2031, 5, 6, 7, 8, 9, tzinfo=tz)


def _exports(case: Any, out: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, bytes, int]:
    """The default export with the stored views in place and without them (same time of writing), and how many
    times the persons were read from the database for the first of the two."""
    from ringtrace.dissemination import export as E

    real, calls = E._persons, [0]

    def counted(con: Any) -> Any:
        calls[0] += 1
        return real(con)

    with monkeypatch.context() as m:
        m.setattr(E, "datetime", _FixedTime)
        m.setattr(E, "_persons", counted)
        with_views = E.write_export(case, out / "with.json").read_bytes()
        n = calls[0]
        kept = out / "kept.sqlite"
        P.path_of(case.path).rename(kept)
        try:
            live = E.write_export(case, out / "live.json").read_bytes()
        finally:
            kept.replace(P.path_of(case.path))
    return with_views, live, n


def test_the_default_export_reuses_the_stored_export_view(stored_case: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from ringtrace.case import Case
    from ringtrace.dissemination.export import build_export, write_export

    with Case.open(stored_case, actor="tester") as case:
        with_views, live, reads = _exports(case, tmp_path, monkeypatch)
        assert reads == 0  # the lists came from the stored view
        assert with_views == live
        doc = json.loads(with_views)
        assert doc["generated_at"] == "2031-05-06T07:08:09Z" and doc["persons"]
        # with messages or secrets the stored view (neither) is not what is asked for
        full = json.loads(write_export(case, tmp_path / "m.json", with_messages=True).read_bytes())
        assert full["messages"] and full["persons"] == doc["persons"]
        secret = json.loads(write_export(case, tmp_path / "s.json", include_secrets=True).read_bytes())
        assert {**secret, "generated_at": ""} == {**build_export(case, include_secrets=True), "generated_at": ""}


def test_an_export_after_a_change_does_not_use_views_of_the_version_before(
        stored_case: Path, tmp_path: Path, tiny_operation: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ringtrace
    from ringtrace.analysis.countries import set_country
    from ringtrace.case import Case
    from ringtrace.synth.operation import write_operation

    with Case.open(stored_case, actor="tester") as case:
        stored, _, _ = _exports(case, tmp_path / "a", monkeypatch)
        # a decision recorded: an analyst's country for a person, which the export shows
        person = json.loads(stored)["persons"][0]
        set_country(case, person["id"], "IS" if person["country"] != "IS" else "NO", "tester", "test")
        after_decision, live, reads = _exports(case, tmp_path / "b", monkeypatch)
        assert reads == 1 and after_decision == live and after_decision != stored
        # a new source, recorded and not yet parsed
        other = tmp_path / "op"
        write_operation(other, seed=4, scale="tiny")
        first = json.loads((other / "operation.json").read_text(encoding="utf-8"))["exhibits"][0]
        ringtrace.ingest(case, other / first["path"], exhibit="NEW-1", parse=False)
        after_source, live, reads = _exports(case, tmp_path / "c", monkeypatch)
        assert reads == 1 and after_source == live
        assert "NEW-1" in after_source.decode() and "NEW-1" not in stored.decode()

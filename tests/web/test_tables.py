"""Tables: server-side sorting, filters and paging (hostile query parameters bounded), best name and number
beside labels, the audit trail told in words, and cases told apart when two share a name."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from tests.web.helpers import HOSTILE, PASSWORD, LoggedIn

HOSTILE_QS = ["?sort=%3Cscript%3E", "?sort=" + "-" * 4000, "?page=-3", "?page=abc", "?page=1e99",
              "?page=" + "9" * 400, "?q=" + "%F0%9F%92%A9" * 300, "?country=%00%00%00", "?q=%25%27%22%3B--",
              "?since=2020-13-45", "?until=notadate", "?action=%25", "?actor=" + "a" * 5000]


def _labels(html: str) -> list[str]:
    return re.findall(r'<td><a href="/cases/1/persons/([^"]+)">', html)


def _export(web_case: Path) -> dict:  # type: ignore[type-arg]
    from ringtrace.case import Case
    from ringtrace.dissemination.export import build_export

    with Case.open(web_case) as case:
        return build_export(case)


@pytest.fixture
def small_pages(app):  # type: ignore[no-untyped-def]
    st = app.state.web
    st.settings = dataclasses.replace(st.settings, page_size=10)
    return app


def test_persons_sort_filter_page(small_pages, logged_in: LoggedIn, web_case: Path) -> None:  # type: ignore[no-untyped-def]
    doc = _export(web_case)
    labels = sorted(p["id"] for p in doc["persons"])
    c = logged_in("ivy")
    html = c.get("/cases/1/persons").text
    assert _labels(html) == labels[:10]
    assert f"page 1 of {(len(labels) + 9) // 10}" in html
    assert _labels(c.get("/cases/1/persons?page=2").text) == labels[10:20]
    assert _labels(c.get("/cases/1/persons?sort=-label").text) == labels[::-1][:10]
    html = c.get("/cases/1/persons?sort=-label").text
    assert 'aria-sort="descending"' in html and 'href="?sort=label&amp;page=1"' in html  # the toggle back
    with_phone = next(p for p in doc["persons"] if p["phones"])
    found = _labels(c.get(f"/cases/1/persons?q={with_phone['phones'][0].replace('+', '%2B')}").text)
    assert with_phone["id"] in found and len(found) < len(labels)
    cc = next(p["country"] for p in doc["persons"] if p["country"])
    want = sorted(p["id"] for p in doc["persons"] if p["country"] == cc)
    assert _labels(c.get(f"/cases/1/persons?country={cc.lower()}").text) == want[:10]
    for q in HOSTILE_QS:
        r = c.get("/cases/1/persons" + q)
        assert r.status_code == 200, q
        assert "<script>" not in r.text


def test_best_name_and_number_beside_labels(logged_in: LoggedIn, web_case: Path) -> None:
    doc = _export(web_case)
    c = logged_in("ivy")
    html = c.get("/cases/1/persons").text
    p = next(x for x in doc["persons"] if x["phones"] and x["names"])
    row = re.search(rf'<td><a href="/cases/1/persons/{p["id"]}">.*?</tr>', html, re.S)
    assert row and p["phones"][0] in row.group(0)
    assert any(n in row.group(0) or n.replace("'", "&#39;") in row.group(0) for n in p["names"])
    html = c.get("/cases/1/suspects").text
    assert "Best name" in html and p["phones"][0] in html
    assert HOSTILE not in html  # a planted name is escaped wherever it is the best name


def test_suspects_rank_sort_and_filter(small_pages, logged_in: LoggedIn, web_case: Path) -> None:  # type: ignore[no-untyped-def]
    from ringtrace.analysis.priorities import rank_suspects
    from ringtrace.case import Case

    with Case.open(web_case) as case:
        ranking = rank_suspects(case)
    c = logged_in("ivy")
    html = c.get("/cases/1/suspects").text
    assert _labels(html) == [s.label for s in ranking[:10]]
    assert _labels(c.get("/cases/1/suspects?page=2").text) == [s.label for s in ranking[10:20]]
    asc = sorted(ranking, key=lambda s: s.score)  # stable: ties keep their rank order
    assert _labels(c.get("/cases/1/suspects?sort=score").text) == [s.label for s in asc[:10]]
    cc = next(s.country for s in ranking if s.country)
    assert _labels(c.get(f"/cases/1/suspects?country={cc}").text) == [s.label for s in ranking
                                                                      if s.country == cc][:10]
    for q in HOSTILE_QS:
        assert c.get("/cases/1/suspects" + q).status_code == 200, q


def test_audit_in_words_filtered_and_paged(logged_in: LoggedIn) -> None:
    c = logged_in("sam")
    html = c.get("/cases/1/audit").text
    assert "took in exhibit EX-001" in html
    assert "created the case" in html
    assert "analysed the case:" in html
    assert "viewed the" not in html  # page views only on request
    html = c.get("/cases/1/audit?web=1").text
    assert "sam viewed the audit page" in html
    html = c.get("/cases/1/audit?action=stage").text
    rows = re.findall(r'<div class="muted small">([a-z._]+)</div></td>', html)
    assert rows and all(a.startswith("stage.") for a in rows)
    html = c.get("/cases/1/audit?action=source.ingest").text
    assert set(re.findall(r'<div class="muted small">([a-z._]+)</div></td>', html)) == {"source.ingest"}
    assert "<td>" not in c.get("/cases/1/audit?since=2999-01-01").text.split("<tbody>")[1].split("</tbody>")[0]
    assert "took in exhibit" in c.get("/cases/1/audit?until=2999-01-01").text
    assert "took in exhibit" not in c.get("/cases/1/audit?actor=nobody-at-all").text
    for q in HOSTILE_QS:
        r = c.get("/cases/1/audit" + q)
        assert r.status_code == 200, q
        assert "<script>" not in r.text


def test_audit_pages_through_many_entries(logged_in: LoggedIn, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import ringtrace.web.routes.audit as audit

    monkeypatch.setattr(audit, "PAGE", 5)
    c = logged_in("sam")
    html = c.get("/cases/1/audit?web=1").text
    total = int(re.search(r'Case audit log <span class="badge">(\d+)</span>', html).group(1))  # type: ignore[union-attr]
    assert total > 5 and "older →" in html and f"page 1 of {(total + 4) // 5}" in html
    seqs1 = [int(x) for x in re.findall(r'<tr><td class="num">(\d+)</td>', html)]
    seqs2 = [int(x) for x in re.findall(r'<tr><td class="num">(\d+)</td>', c.get("/cases/1/audit?web=1&page=2").text)]
    assert len(seqs1) == 5 and seqs1 == sorted(seqs1, reverse=True) and seqs2[0] <= seqs1[-1]  # viewing adds one
    assert 'href="?web=1&amp;page=2"' in html


def test_describe_every_kind_and_odd_details() -> None:
    from ringtrace.web.routes.audit import describe

    assert describe("override.alias", {"a": "P0001", "b": "P0002", "by": "ivy", "reason": "same SIM"}) == \
        "ivy declared P0001 and P0002 the same person — because: same SIM"
    assert "to “arrested”" in describe("status.set", {"person": "P0003", "status": "arrested", "by": "sam"})
    assert describe("something.new", {"x": 1}) == "something new: x 1"
    assert describe("stage.parse", {"records": "not a dict"})  # an odd detail never raises
    assert len(describe("web.view", {"user": "u" * 5000})) <= 500


def test_cases_told_apart_when_names_match(tmp_path: Path, web_case: Path, app, logged_in: LoggedIn) -> None:  # type: ignore[no-untyped-def]
    twin = tmp_path / "twin"
    shutil.copytree(web_case, twin)
    st = app.state.web
    st.store.grant("ivy", twin, "test")
    html = logged_in("ivy").get("/cases").text
    assert html.count("same name as another case") == 2
    assert str(twin) in html and str(web_case.resolve()) in html
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", html)  # created date
    assert PASSWORD not in html

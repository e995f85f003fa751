"""The series and leads pages rank as the CLI's library calls rank, tell the page -> link -> group -> joiners
story, offer previews only through the reasoned POST, and do not disturb the case's fingerprint."""

from __future__ import annotations

import re
from pathlib import Path

from tests.web.helpers import LoggedIn, case_audit


def _ranked(web_case: Path):  # type: ignore[no-untyped-def]
    from ringtrace.analysis.leads import lead_story, rank_leads
    from ringtrace.case import Case
    from ringtrace.matching.sets import unknown_series

    with Case.open(web_case) as case:
        rep = rank_leads(case)
        return unknown_series(case), rep, lead_story(case, rep)


def test_series_page_ranks_as_the_library(logged_in: LoggedIn, web_case: Path) -> None:
    series, _, _ = _ranked(web_case)
    html = logged_in("ivy").get("/cases/1/series").text
    assert "Unknown series" in html
    assert f'<span class="badge">{len(series)}</span>' in html
    if series:
        shown = re.findall(r'<span class="hash" title="([0-9a-f]{64})">', html)
        assert shown[:min(4, len(series[0].media))] == series[0].media[:4]  # rank 1 first, its items in order
        assert 'action="/cases/1/media/' in html and "/preview" in html  # preview only through the POST form
    assert "<img" not in html  # never any content on the page itself


def test_series_sort_filter_and_hostile_params(logged_in: LoggedIn) -> None:
    c = logged_in("ivy")
    for q in ["?sort=-size", "?sort=devices", "?sort=%3Cscript%3E", "?page=-5", "?page=99999999999999999999",
              "?page=abc", "?person=" + "x" * 5000, "?device=%00%ff", "?sort=" + "-" * 3000]:
        r = c.get("/cases/1/series" + q)
        assert r.status_code == 200, q
        assert "<script>" not in r.text


def test_series_view_keeps_the_export_cache(logged_in: LoggedIn, app) -> None:  # type: ignore[no-untyped-def]
    c = logged_in("ivy")
    c.get("/cases/1/series")
    st = app.state.web
    case = next(iter(st.cases._cases.values()))
    before = st.cases.data(case)
    c.get("/cases/1/series")
    c.get("/cases/1/leads")
    assert st.cases.data(case) is before  # the library's "analysis.series" entry is written as web.*


def test_leads_rank_and_story(logged_in: LoggedIn, web_case: Path) -> None:
    _, rep, stories = _ranked(web_case)
    html = logged_in("ivy").get("/cases/1/leads").text
    assert "How the links led into groups" in html
    assert f'<span class="badge">{len(stories)}</span>' in html
    if rep.links:
        first = rep.links[0]
        assert first.url in html
        assert f"<b>{first.score:g}</b>" in html
        for name, _pts, _why in first.components:
            assert name in html  # every point with its reason
    for s in stories[:3]:
        assert f'/cases/1/groups/{s.group}' in html
        for j in s.joined[:3]:
            assert f'/cases/1/persons/{j["person"]}' in html
    assert 'href="http' not in html  # evidence links stay text


def test_leads_tables_sort_and_filter(logged_in: LoggedIn, web_case: Path) -> None:
    _, rep, _ = _ranked(web_case)
    c = logged_in("ivy")
    html = c.get("/cases/1/leads?sort=-score").text
    assert 'aria-sort="descending"' in html
    if rep.links:
        plat = rep.links[0].platform
        other = {x.platform for x in rep.links} - {plat}
        html = c.get(f"/cases/1/leads?platform={plat}").text
        urls = [x.url for x in rep.links if x.platform != plat]
        assert not any(f'<span class="path">{u}</span><div class="muted small">' in html for u in urls) or not other
        html = c.get("/cases/1/leads?tied=1").text
        for x in rep.links:
            if x.group is None:
                assert f'<span class="path">{x.url}</span><div' not in html
    for q in ["?psort=bogus", "?ppage=-1", "?ipage=1e9", "?kind=%3Cb%3E", "?isort=" + "z" * 999]:
        assert c.get("/cases/1/leads" + q).status_code == 200, q


def test_series_and_leads_views_are_audited(logged_in: LoggedIn, web_case: Path,
                                            monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ringtrace.dissemination import precomputed

    # computed by `run`: the library's own record is inside the views stage's entry
    views = case_audit(web_case, "stage.views")
    assert any(e["action"] == "analysis.series" for e in views[-1]["detail"]["computed"])
    monkeypatch.setattr(precomputed.Stored, "open", classmethod(lambda cls, path, fp: None))  # not stored
    c = logged_in("ivy")
    c.get("/cases/1/series")
    pages = [e["detail"]["page"] for e in case_audit(web_case, "web.view")]
    assert "series" in pages
    assert case_audit(web_case, "web.analysis.series")  # computed by the web: the record kept as a web entry


def test_series_rows_sorted_filtered_with_preview_form(logged_in: LoggedIn, case_facts: dict[str, str],
                                                       monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The tiny case has no unknown series, so the library's answer is given here (three invented series)."""
    import ringtrace.matching.sets as sets
    from ringtrace.matching.sets import SeriesRow

    img, person = case_facts["image"], case_facts["person"]
    rows = [SeriesRow(1, 3, ["EX-A", "EX-B"], [person], ["G001"], [img, "a" * 64, "b" * 64]),
            SeriesRow(2, 9, ["EX-A"], [], [], ["c" * 64, "d" * 64]),
            SeriesRow(3, 2, ["EX-C"], [person, "P9999"], [], ["e" * 64, "f" * 64])]
    from ringtrace.dissemination import precomputed

    monkeypatch.setattr(sets, "unknown_series", lambda case, threshold=31: rows)
    monkeypatch.setattr(precomputed.Stored, "open", classmethod(lambda cls, path, fp: None))  # computed live
    c = logged_in("ivy")
    html = c.get("/cases/1/series").text
    firsts = re.findall(r'<span class="hash" title="([0-9a-f]{64})">', html)
    assert firsts == [img, "a" * 64, "b" * 64, "c" * 64, "d" * 64, "e" * 64, "f" * 64]  # rank order
    assert html.count(f'action="/cases/1/media/{img}/preview"') == 1  # only the real image gets a form
    assert f'href="/cases/1/persons/{person}"' in html
    html = c.get("/cases/1/series?sort=-size").text
    assert re.findall(r'title="([0-9a-f]{64})"', html)[0] == "c" * 64  # the 9-item series first
    html = c.get(f"/cases/1/series?person={person}").text
    assert "c" * 64 not in html and img in html and "e" * 64 in html
    html = c.get("/cases/1/series?device=EX-C").text
    assert "e" * 64 in html and img not in html

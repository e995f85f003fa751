"""The timeline list: every dated event in order, filters by kind, group, person and dates, bounded input."""

from __future__ import annotations

import re
from pathlib import Path

from tests.web.helpers import LoggedIn


def _rows(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr><td>([^<]+)</td><td><span class="chip">([^<]+)</span>', html)


def test_timeline_in_order_with_kinds(logged_in: LoggedIn, case_facts: dict[str, str]) -> None:
    c = logged_in("ivy")
    html = c.get("/cases/1/timeline").text
    rows = _rows(html)
    assert rows
    kinds = {k for _, k in rows}
    assert "messages" in kinds or len(kinds) > 1
    dated = [w for w, _ in rows if w != "time unknown"]
    assert dated == sorted(dated)
    assert 'href="/cases/1/timeline"' in c.get("/cases/1").text  # in the case navigation


def test_timeline_filters(logged_in: LoggedIn, case_facts: dict[str, str]) -> None:
    c = logged_in("ivy")
    everything = _rows(c.get("/cases/1/timeline?page=1").text)
    kind = everything[0][1]
    only = _rows(c.get(f"/cases/1/timeline?kind={kind}").text)
    assert only and all(k == kind for _, k in only)
    g = case_facts["group"]
    html = c.get(f"/cases/1/timeline?group={g}").text
    chats = re.findall(r'<td><a href="/cases/1/(?:chats|groups)/([^"?]+)', html)
    assert chats and set(chats) == {g}
    first_day = everything[0][0][:10]
    later = _rows(c.get(f"/cases/1/timeline?since={first_day}&until={first_day}").text)
    assert later and all(w[:10] == first_day for w, _ in later)
    for q in ["?since=garbage", "?until=2030-99-99", "?person=" + "x" * 10_000, "?page=-5", "?kind=<script>"]:
        r = c.get("/cases/1/timeline" + q)
        assert r.status_code == 200 and "<script>" not in r.text, q


def test_timeline_person_filter(logged_in: LoggedIn, web_case: Path) -> None:
    from ringtrace.case import Case
    from ringtrace.dissemination.export import build_export

    with Case.open(web_case) as case:
        doc = build_export(case)
    creator = next(g["creator"] for g in doc["groups"] if g["creator"])
    html = logged_in("ivy").get(f"/cases/1/timeline?person={creator}").text
    rows = _rows(html)
    assert rows
    assert html.count(f'href="/cases/1/persons/{creator}"') >= len(rows)


def test_timeline_chart_series(logged_in: LoggedIn, case_facts: dict[str, str]) -> None:
    c = logged_in("ivy")
    html = c.get("/cases/1/timeline").text
    assert 'id="tl-chart"' in html and '<script src="/static/timeline.js"></script>' in html
    data = c.get("/cases/1/timeline.json").json()
    rows = _rows(c.get("/cases/1/timeline").text)
    days = data["days"]
    assert days and [d["day"] for d in days] == sorted(d["day"] for d in days)
    assert sum(d["entries"] for d in days) + data["undated"] == data["total"]
    assert all(0 <= d["events"] <= d["entries"] and d["messages"] >= 0 for d in days)
    assert any(d["messages"] > 0 for d in days)
    first = rows[0][0][:10]
    assert days[0]["day"] == first
    one = c.get(f"/cases/1/timeline.json?since={first}&until={first}").json()
    assert [d["day"] for d in one["days"]] == [first] and one["filters"]["since"] == first
    g = c.get(f"/cases/1/timeline.json?group={case_facts['group']}").json()
    assert g["total"] <= data["total"] and g["filters"]["group"] == case_facts["group"]
    assert c.get("/cases/1/timeline.json?since=<script>").json()["filters"]["since"] == ""
    assert logged_in("noel").get("/cases/1/timeline.json").status_code == 404

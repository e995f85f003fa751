"""The network graph: the page, its JSON (roles, priority sizes, countries, communities, filters), GraphML export,
the vendored library, and what the page says when the library was not built."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.web.helpers import HOSTILE, LoggedIn, case_audit


def _doc(web_case: Path) -> dict[str, Any]:
    from ringtrace.case import Case
    from ringtrace.dissemination.export import build_export

    with Case.open(web_case) as case:
        return build_export(case)


def test_graph_json_has_persons_groups_and_roles(logged_in: LoggedIn, web_case: Path) -> None:
    c = logged_in("ivy")
    g = c.get("/cases/1/graph.json").json()
    doc = _doc(web_case)
    kinds = {n["id"]: n["kind"] for n in g["nodes"]}
    assert {x["id"] for x in doc["groups"]} <= {k for k, v in kinds.items() if v == "group"}
    assert {k for k, v in kinds.items() if v == "person"} <= {p["id"] for p in doc["persons"]}
    roles = {(e["source"], e["target"]): e["role"] for e in g["edges"] if e["role"] != "first_sharer"}
    for grp in doc["groups"]:
        if grp["creator"]:
            assert roles[(grp["creator"], grp["id"])] == "creator"
        for a in grp["admins"]:
            if a != grp["creator"]:
                assert roles[(a, grp["id"])] == "admin"
        for m in grp["members"]:
            assert (m["person"], grp["id"]) in roles
    persons = [n for n in g["nodes"] if n["kind"] == "person"]
    assert all(0.5 <= n["size"] <= 1.5 for n in persons)
    top = max(persons, key=lambda n: n["score"])
    assert top["size"] == 1.5
    assert g["communities"] >= 1 and any(n["community"] is not None for n in persons)
    ids = {n["id"] for n in g["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in g["edges"])
    assert case_audit(web_case, "web.view")  # audited like every page


def test_graph_filters(logged_in: LoggedIn, web_case: Path, case_facts: dict[str, str]) -> None:
    c = logged_in("ivy")
    whole = c.get("/cases/1/graph.json").json()
    grp = case_facts["group"]
    one = c.get(f"/cases/1/graph.json?group={grp}").json()
    assert [n["id"] for n in one["nodes"] if n["kind"] == "group"] == [grp]
    assert len(one["nodes"]) < len(whole["nodes"]) or len(whole["groups"]) == 1
    assert all(e["target"] == grp for e in one["edges"])
    country = next(n["country"] for n in whole["nodes"] if n["kind"] == "person" and n["country"])
    cc = c.get(f"/cases/1/graph.json?country={country.lower()}").json()
    assert cc["nodes"] and all(n["country"] == country for n in cc["nodes"] if n["kind"] == "person")
    none = c.get("/cases/1/graph.json?country=ZZ").json()
    assert none["nodes"] == [] and none["edges"] == []
    r = c.get("/cases/1/graph?country=" + "<script>" * 100 + "&group=" + "x" * 10_000)
    assert r.status_code == 200 and "<script><script>" not in r.text


def test_graph_page_links_and_escapes(logged_in: LoggedIn, case_facts: dict[str, str]) -> None:
    c = logged_in("ivy")
    html = c.get("/cases/1/graph").text
    assert 'href="/cases/1/graph"' in html  # in the navigation
    assert f'href="/cases/1/groups/{case_facts["group"]}"' in html
    assert f'href="/cases/1/persons/{case_facts["person"]}"' in html
    assert '<script src="/static/graph.js"></script>' in html
    assert HOSTILE not in html  # the planted group name is escaped
    assert "<script>" not in html.replace('<script src="/static/', "")  # no inline scripts
    assert "script-src 'self'" in c.get("/cases/1/graph").headers["content-security-policy"]


def test_graph_needs_a_grant(logged_in: LoggedIn) -> None:
    c = logged_in("noel")
    for path in ("/cases/1/graph", "/cases/1/graph.json", "/cases/1/graph.graphml"):
        assert c.get(path).status_code == 404


def test_graphml_export(logged_in: LoggedIn, web_case: Path) -> None:
    c = logged_in("ivy")
    r = c.get("/cases/1/graph.graphml")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    root = ET.fromstring(r.content)
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    nodes = root.findall(".//g:node", ns)
    assert len(nodes) >= len(_doc(web_case)["groups"])
    keys = {k.get("attr.name") for k in root.findall("g:key", ns)}
    assert {"community", "country", "role"} <= keys
    assert case_audit(web_case, "export.graphml")


def test_vendored_cytoscape_is_served(logged_in: LoggedIn) -> None:
    from ringtrace.web.routes.graph import VENDOR_JS

    if not VENDOR_JS.is_file():
        pytest.skip("cytoscape not vendored: run `make vendor`")
    c = logged_in("ivy")
    r = c.get("/static/vendor/cytoscape.min.js")
    assert r.status_code == 200 and "cytoscape" in r.text[:2000].lower()
    assert "make vendor" not in c.get("/cases/1/graph").text


def test_missing_library_says_how_to_build(logged_in: LoggedIn, monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    from ringtrace.web.routes import graph

    monkeypatch.setattr(graph, "VENDOR_JS", tmp_path / "absent.js")
    html = logged_in("ivy").get("/cases/1/graph").text
    assert "make vendor" in html and "npm ci --ignore-scripts" in html
    assert "/static/vendor/cytoscape.min.js" not in html

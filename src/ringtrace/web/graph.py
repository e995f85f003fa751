"""The case's network as a graph document for the graph page: persons and groups as nodes, one edge per
person-group relation with its strongest role (creator > admin > member) and a separate "first_sharer" edge where a
person was the first to share known material in a group. Persons carry their priority score, country and Louvain
community (``analysis.graph.analyse_network``); every node keeps the page it links to.

Filters (country, group) cut the document before it reaches the browser: a group filter keeps that group and its
members; a country filter keeps the persons attributed to it and the groups they are in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ringtrace.case import Case
from ringtrace.web.data import CaseData

MAX_NODES = 5000  # a bound on what one page draws; the rest is said, not dropped silently
ROLE_RANK = {"creator": 3, "admin": 2, "member": 1}


def graph_doc(case: Case, data: CaseData, country: str = "", group: str = "") -> dict[str, Any]:
    """``{"nodes": [...], "edges": [...], "countries": [...], "communities": n, "truncated": bool}``.

    The network's communities and the suspect scores are the case version's stored views (``ringtrace run``);
    the unfiltered document is built once per version, a filtered one on each request (cheap: no graph
    algorithm runs here)."""
    country = country.strip().upper()[:8]
    group = group.strip()[:20]
    if not country and not group:
        full: dict[str, Any] = data.memo("graph", lambda: _graph_doc(case, data, "", ""))
        return full
    return _graph_doc(case, data, country, group)


def _graph_doc(case: Case, data: CaseData, country: str, group: str) -> dict[str, Any]:
    doc = data.export
    net = data.view("network", case)
    community = data.memo("graph_community", lambda: {label: i for i, comm in enumerate(net.communities)
                                                      for label in comm})
    score = data.memo("graph_score", lambda: {s.label: float(s.score) for s in data.view("suspects", case)})
    persons = {p["id"]: p for p in doc["persons"]}
    edges: dict[tuple[str, str], str] = {}
    for g in doc["groups"]:
        for m in g["members"]:
            edges[(m["person"], g["id"])] = "member"
        for a in g["admins"]:
            edges[(a, g["id"])] = "admin"
        if creator := g.get("creator"):
            edges[(creator, g["id"])] = "creator"
    sharers: set[tuple[str, str]] = set()
    for md in doc["media"]:
        fs: Mapping[str, Any] = md.get("first_shared") or {}
        if md["matches"] and fs.get("person") and fs.get("group"):
            sharers.add((str(fs["person"]), str(fs["group"])))
    keep_groups = {g["id"] for g in doc["groups"]}
    keep_persons = set(persons)
    if group:
        keep_groups &= {group}
        keep_persons &= {p for (p, g) in edges if g == group}
    if country:
        keep_persons = {p for p in keep_persons if (persons[p].get("country") or "").upper() == country}
        keep_groups &= {g for (p, g) in edges if p in keep_persons}
    nodes: list[dict[str, Any]] = []
    for g in doc["groups"]:
        if g["id"] in keep_groups:
            name = g["names"][-1]["name"] if g["names"] else ""
            nodes.append({"id": g["id"], "kind": "group", "label": g["id"], "name": str(name)[:80],
                          "platform": g["platform"], "url": f"groups/{g['id']}", "size": 1.0,
                          "country": "", "community": None})
    for label in sorted(keep_persons):
        p = persons[label]
        nodes.append({"id": label, "kind": "person", "label": label, "name": str((p.get("names") or [""])[0])[:80],
                      "country": p.get("country") or "", "score": score.get(label, 0.0),
                      "community": community.get(label), "url": f"persons/{label}", "size": 1.0})
    top = max((n["score"] for n in nodes if n["kind"] == "person"), default=0.0) or 1.0
    for n in nodes:
        if n["kind"] == "person":
            n["size"] = round(0.5 + n["score"] / top, 3)  # 0.5 .. 1.5, by priority
    truncated = len(nodes) > MAX_NODES
    nodes = nodes[:MAX_NODES]
    ids = {n["id"] for n in nodes}
    out_edges = [{"id": f"{p}-{g}", "source": p, "target": g, "role": role}
                 for (p, g), role in sorted(edges.items()) if p in ids and g in ids]
    out_edges += [{"id": f"{p}-{g}-first", "source": p, "target": g, "role": "first_sharer"}
                  for (p, g) in sorted(sharers) if p in ids and g in ids]
    countries = sorted({(p.get("country") or "") for p in persons.values()} - {""})
    return {"nodes": nodes, "edges": out_edges, "countries": countries,
            "groups": sorted(g["id"] for g in doc["groups"]),
            "communities": len(net.communities), "truncated": truncated,
            "filters": {"country": country, "group": group}}

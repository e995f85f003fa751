"""The network: person-group bipartite graph, its person projection, bridges, centrality and communities."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
from networkx.algorithms import bipartite
from sqlalchemy import Connection, select

from ringtrace.store import schema as S

SEED = 20250101  # fixed so communities are the same on every run


@dataclass
class NetworkSummary:
    bridges: list[tuple[str, list[str]]] = field(default_factory=list)  # person label, groups
    degree: dict[str, int] = field(default_factory=dict)  # person label -> people shared a group with
    betweenness: dict[str, float] = field(default_factory=dict)  # on the bipartite graph
    communities: list[list[str]] = field(default_factory=list)


def build_bipartite(con: Connection) -> nx.Graph:
    g = nx.Graph()
    people = {r.id: r for r in con.execute(select(S.persons.c.id, S.persons.c.label, S.persons.c.country))}
    groups = {r.id: r for r in con.execute(select(S.groups.c.id, S.groups.c.label, S.groups.c.platform,
                                                  S.groups.c.detail))}
    for r in groups.values():
        g.add_node(r.label, bipartite=1, kind="group", platform=r.platform, name=(r.detail or {}).get("name") or "")
    for mem in con.execute(select(S.memberships.c.person_id, S.memberships.c.group_id, S.memberships.c.role)):
        p, gr = people[mem.person_id], groups[mem.group_id]
        if p.label not in g:
            g.add_node(p.label, bipartite=0, kind="person", country=p.country or "")
        act = ((gr.detail or {}).get("activity") or {}).get(p.label, {})
        if g.has_edge(p.label, gr.label):
            if mem.role in ("creator", "admin"):
                g[p.label][gr.label]["role"] = mem.role
            continue
        g.add_edge(p.label, gr.label, role=mem.role, messages=int(act.get("messages", 0)),
                   weight=1 + int(act.get("messages", 0)))
    return g


def person_projection(b: nx.Graph) -> nx.Graph:
    """Persons joined by the groups they share, built in sorted order: networkx's projection walks sets of
    labels, whose order follows the process's string hashing, and Louvain's result (seeded or not) follows the
    order of nodes and edges; so the same case gave other communities in another process."""
    persons = sorted(n for n, d in b.nodes(data=True) if d.get("kind") == "person")
    raw = bipartite.weighted_projected_graph(b, persons)
    proj = nx.Graph()
    proj.add_nodes_from((n, raw.nodes[n]) for n in persons)
    proj.add_edges_from(sorted((min(u, v), max(u, v), d) for u, v, d in raw.edges(data=True)))
    return proj


def analyse_network(con: Connection, max_exact: int = 3000) -> NetworkSummary:
    b = build_bipartite(con)
    out = NetworkSummary()
    persons = sorted(n for n, d in b.nodes(data=True) if d.get("kind") == "person")
    if not persons:
        return out
    proj = person_projection(b)
    out.bridges = [(p, sorted(b.neighbors(p))) for p in persons if b.degree(p) > 1]
    out.degree = {p: proj.degree(p) for p in persons}
    # betweenness on the bipartite graph: far fewer edges than the projection's cliques, same bridges
    k = None if b.number_of_nodes() <= max_exact else max_exact
    bc = nx.betweenness_centrality(b, k=k, seed=SEED)
    out.betweenness = {p: round(bc[p], 6) for p in persons}
    comms = nx.community.louvain_communities(proj, weight="weight", seed=SEED) if proj.number_of_edges() else [
        {p} for p in persons]
    out.communities = sorted((sorted(c) for c in comms), key=lambda c: (-len(c), c[0]))
    return out


def export_graphml(case: Any, path: str | Path) -> Path:
    """Write the person-group graph (labels, countries, roles, message counts, communities) as GraphML."""
    p = Path(path)
    with case.engine.connect() as con:
        b = build_bipartite(con)
        net = analyse_network(con)
    for i, comm in enumerate(net.communities):
        for label in comm:
            b.nodes[label]["community"] = i
    for label, v in net.betweenness.items():
        b.nodes[label]["betweenness"] = v
    p.parent.mkdir(parents=True, exist_ok=True)
    nx.write_graphml(b, p)
    case.log("export.graphml", {"path": str(p), "nodes": b.number_of_nodes(), "edges": b.number_of_edges()})
    return p

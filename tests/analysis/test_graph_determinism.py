"""The network's communities must not depend on the process: Python salts string hashes per process, and a
projection built by walking sets gave another Louvain grouping (and other stored view bytes) in another one."""

from __future__ import annotations

import json
import os
import subprocess
import sys

_SCRIPT = r"""
import json, random
import networkx as nx
from ringtrace.analysis.graph import SEED, person_projection
rng = random.Random(7)
b = nx.Graph()
groups = [f"G{i:02d}" for i in range(12)]
for g in groups:
    b.add_node(g, bipartite=1, kind="group")
for i in range(160):
    p = f"person-{rng.randrange(10**6):06d}-{i}"
    b.add_node(p, bipartite=0, kind="person")
    for g in rng.sample(groups, rng.choice([1, 1, 2, 3])):
        b.add_edge(p, g, weight=1 + rng.randrange(40))
proj = person_projection(b)
comms = nx.community.louvain_communities(proj, weight="weight", seed=SEED)
print(json.dumps([list(proj.nodes), [sorted(e[:2]) for e in proj.edges], sorted(sorted(c) for c in comms)]))
"""


def _run(seed: str) -> object:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_projection_and_communities_same_under_every_hash_seed() -> None:
    first = _run("1")
    for seed in ("2", "3", "12345"):
        assert _run(seed) == first

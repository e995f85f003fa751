from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from _matching_synth import families, flip

from ringtrace.matching.exact_index import ExactIndex
from ringtrace.matching.hashsets import HashEntry, read_hashset
from ringtrace.matching.series import Holders, cluster_pdq, connected_components, rank_series
from ringtrace.matching.vics_export import write_vics_json


def test_cluster_recovers_constructed_families() -> None:
    rng = np.random.default_rng(5)
    h, fam = families(rng, 40, 6, maxflip=6)  # members within 12 bits of each other
    noise = rng.integers(0, 256, size=(30, 32), dtype=np.uint8)
    labels = cluster_pdq(np.concatenate([h, noise]), 31)
    fam_labels = labels[: len(h)]
    for f in range(40):
        assert len(set(fam_labels[fam == f].tolist())) == 1
    assert len(set(fam_labels.tolist())) == 40  # random roots are ~128 bits apart: never merged
    assert len(set(labels[len(h) :].tolist()) - set(fam_labels.tolist())) == 30


def test_single_linkage_chains() -> None:
    rng = np.random.default_rng(9)
    chain = [rng.integers(0, 256, size=32, dtype=np.uint8)]
    for _ in range(10):  # each step 20 bits: ends are far apart but linked through the chain
        chain.append(flip(rng, chain[-1], 20))
    labels = cluster_pdq(np.stack(chain[::-1]), 31)
    assert set(labels.tolist()) == {0}
    assert cluster_pdq(np.zeros((0, 32), dtype=np.uint8)).tolist() == []


def test_connected_components_long_path() -> None:
    n = 2000
    perm = np.random.default_rng(1).permutation(n)
    labels = connected_components(n + 3, perm[:-1], perm[1:])
    assert set(labels[:n].tolist()) == {int(labels[perm[0]])}
    assert len(set(labels.tolist())) == 4


def test_rank_series() -> None:
    labels = [0, 0, 1, 1, 1, 2, 3, 3]
    holders = {
        0: Holders(frozenset({"dev1"}), frozenset({"p1"})),
        1: Holders(frozenset({"dev2"}), frozenset({"p2"}), frozenset({"g1"})),
        2: Holders(frozenset({"dev1"})),
        6: Holders(frozenset({"dev3"}), frozenset({"p1", "p3"})),
        7: Holders(frozenset({"dev4"})),
    }
    ranked = rank_series(labels, holders)
    # series 0: 2 devices, 2 persons, 1 group beats series 3: 2 devices, 2 persons, 0 groups
    assert [s.label for s in ranked] == [0, 3, 1]
    assert [s.rank_key() for s in ranked] == [(2, 2, 1, 2), (2, 2, 0, 2), (1, 0, 0, 3)]
    assert ranked[2].members == (2, 3, 4)
    assert 2 not in [s.label for s in ranked]  # singleton dropped


def test_exact_index() -> None:
    md5s = [f"{i:032x}" for i in range(1000)]
    ix = ExactIndex(
        [("md5", h, i) for i, h in enumerate(md5s)]
        + [("md5", md5s[5].upper(), 99), ("sha1", "zz", 1), ("md5", "00" * 15, 2)]
    )
    assert ix.skipped == 2
    assert ix.lookup_md5([md5s[5], md5s[999], "f" * 32, "bad"]) == [[5, 99], [999], [], []]
    assert ix.lookup_md5(["0" * 32]) == [[0]]  # an all-zero digest is a real key, not the empty key
    assert ix.lookup_sha1([]) == [] and ix.lookup_sha256(["00" * 32]) == [[]]
    e = ExactIndex.from_entries([HashEntry(sha1="a" * 40), HashEntry(md5="b" * 32, sha256="c" * 64)])
    assert (e.lookup_sha1(["a" * 40]), e.lookup_sha256(["c" * 64])) == ([[0]], [[1]])


def test_vics_export_round_trip(tmp_path: Path) -> None:
    items = [
        {
            "md5": "ab" * 16,
            "sha1": "cd" * 20,
            "sha256": "ef" * 32,
            "category": "1",
            "media_size": 12,
            "is_distributed": True,
            "victim_identified": None,
            "ignored_key": "x",
        },
        {"MD5": "01" * 16, "Category": 5, "MediaID": 77, "MediaFiles": [{"FileName": "a"}]},
    ]
    for form in ("media", "cases"):
        out = tmp_path / f"{form}.json"
        assert write_vics_json(items, out, "Case Ω-1", form=form) == 2
        doc = json.loads(out.read_text(encoding="utf-8"))
        assert doc["@odata.context"].endswith("#Media" if form == "media" else "#Cases")
        media = doc["value"] if form == "media" else doc["value"][0]["Media"]
        assert media[0] == {
            "MediaID": 1,
            "MD5": "AB" * 16,
            "SHA1": "CD" * 20,
            "SHA256": "EF" * 32,
            "Category": 1,
            "MediaSize": 12,
            "IsDistributed": True,
        }
        assert media[1]["MediaID"] == 77
        back = [e for e in read_hashset(out) if isinstance(e, HashEntry)]
        assert [(e.md5, e.sha1, e.sha256, e.raw_category) for e in back] == [
            ("ab" * 16, "cd" * 20, "ef" * 32, "1"),
            ("01" * 16, None, None, "5"),
        ]
    assert json.loads((tmp_path / "cases.json").read_text())["value"][0]["CaseNumber"] == "Case Ω-1"
    assert not list(tmp_path.glob("*.part"))

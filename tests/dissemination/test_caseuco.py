"""CASE/UCO JSON-LD: a package's graph and the whole-case export validate with case_validate, no warnings."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ringtrace.case import Case
from ringtrace.dissemination.caseuco import FAST_VALIDATION_TTL, graph_problems, write_case_export
from ringtrace.dissemination.package import make_package


def _case_validate() -> str | None:
    exe = Path(sys.executable).with_name("case_validate")
    return str(exe) if exe.exists() else shutil.which("case_validate")


def test_graphs_are_well_formed_and_typed(case: Case, tmp_path: Path) -> None:
    out = write_case_export(case, tmp_path / "whole.jsonld", with_messages=False)
    g = json.loads(out.read_text())
    types = {n["@type"] for n in g["@graph"]}
    assert {"case-investigation:Investigation", "case-investigation:ProvenanceRecord",
            "case-investigation:InvestigativeAction", "uco-identity:Person", "uco-observable:PhoneAccount",
            "uco-observable:MessageThread", "uco-observable:File", "uco-observable:URL",
            "uco-core:Relationship"} <= types
    ids = [n["@id"] for n in g["@graph"]]
    assert len(ids) == len(set(ids))
    def walk(x: object) -> list[dict]:
        if isinstance(x, dict):
            return [x] + [y for v in x.values() for y in walk(v)]
        if isinstance(x, list):
            return [y for v in x for y in walk(v)]
        return []

    hashes = [n for n in walk(g["@graph"]) if n.get("@type") == "uco-types:Hash"]
    assert {h["uco-types:hashMethod"] for h in hashes} >= {"SHA256", "MD5"}


def _walk(x: object) -> list[dict]:
    if isinstance(x, dict):
        return [x] + [y for v in x.values() for y in _walk(v)]
    if isinstance(x, list):
        return [y for v in x for y in _walk(v)]
    return []


def test_messages_are_modelled_as_case_does(case: Case, tmp_path: Path) -> None:
    """Each message a Message whose MessageFacet says from (the sender's account) and to; each chat a MessageThread
    whose facet names its participants and a types:Thread holding its messages."""
    g = json.loads(write_case_export(case, tmp_path / "whole.jsonld").read_text())
    nodes = {n["@id"]: n for n in g["@graph"]}
    msgs = [n for n in g["@graph"] if n["@type"] == "uco-observable:Message"]
    threads = [n for n in g["@graph"] if n["@type"] == "uco-observable:MessageThread"]
    assert msgs and threads
    accounts = {i for i, n in nodes.items() if n["@type"] in ("uco-observable:PhoneAccount",
                                                              "uco-observable:ApplicationAccount")}
    owners = {r["uco-core:target"]["@id"]: r["uco-core:source"]["@id"] for r in g["@graph"]
              if r["@type"] == "uco-core:Relationship" and r["uco-core:kindOfRelationship"] == "Has_Account"}
    in_thread: dict[str, str] = {}
    for t in threads:
        facet = t["uco-core:hasFacet"][0]
        assert facet["@type"] == "uco-observable:MessageThreadFacet"
        parts = {p["@id"] for p in facet["uco-observable:participant"]}
        assert parts and parts <= accounts
        thread = nodes[facet["uco-observable:messageThread"]["@id"]]
        assert thread["@type"] == "uco-types:Thread"
        assert thread["co:size"]["@value"] == len(thread["co:element"])
        for e in thread["co:element"]:
            assert e["@id"] not in in_thread
            in_thread[e["@id"]] = t["@id"]
    assert set(in_thread) == {m["@id"] for m in msgs}
    senders = 0
    for m in msgs:
        f = m["uco-core:hasFacet"][0]
        assert f["@type"] == "uco-observable:MessageFacet" and f["uco-observable:sentTime"]["@type"] == "xsd:dateTime"
        assert m["uco-core:description"].startswith("read from EX-")
        if "uco-observable:from" in f:
            senders += 1
            frm = f["uco-observable:from"]["@id"]
            assert frm in accounts and frm in owners  # the sender's account, tied to its person
            facet = nodes[in_thread[m["@id"]]]["uco-core:hasFacet"][0]
            parts = {p["@id"] for p in facet["uco-observable:participant"]}
            to = {x["@id"] for x in f.get("uco-observable:to", [])}
            assert frm in parts and frm not in to and to == parts - {frm}
    assert senders >= len(msgs) * 0.9
    # the same message read from two exhibits is one node
    keys = [(in_thread[m["@id"]], m["uco-core:hasFacet"][0].get("uco-observable:sentTime", {}).get("@value"),
             m["uco-core:hasFacet"][0].get("uco-observable:from", {}).get("@id"),
             m["uco-core:hasFacet"][0].get("uco-observable:messageText")) for m in msgs]
    assert len(keys) == len(set(keys))


def test_graph_problems_stand_in_for_the_deactivated_shapes(case: Case, tmp_path: Path) -> None:
    g = json.loads(write_case_export(case, tmp_path / "whole.jsonld").read_text())
    assert graph_problems(g) == []
    msg = next(n for n in g["@graph"] if n["@type"] == "uco-observable:Message")
    other = next(n for n in g["@graph"] if n["@type"] == "uco-observable:Message" and n is not msg)
    other["uco-core:hasFacet"] = msg["uco-core:hasFacet"]
    g["@graph"].append({"@id": "kb:no-uuid", "@type": "uco-identity:Person"})
    found = graph_problems(g)
    assert any("Facet of both" in p for p in found) and "kb:no-uuid: IRI does not end in a UUID" in found


@pytest.mark.skipif(_case_validate() is None, reason="case-utils not installed: pip install 'ringtrace[case]'")
def test_case_validate_passes_without_warnings(case: Case, tmp_path: Path) -> None:
    whole = write_case_export(case, tmp_path / "whole.jsonld", with_messages=True)
    r = make_package(case, "DE", tmp_path / "pk", pdf=False)
    pkg = r.path / "case.jsonld"
    assert '"case-investigation:exhibitNumber"' in pkg.read_text()
    assert '"uco-observable:MessageFacet"' in whole.read_text()
    for p in (pkg, whole):
        assert graph_problems(json.loads(p.read_text())) == []
    shapes = tmp_path / "fast.ttl"
    shapes.write_text(FAST_VALIDATION_TTL, encoding="utf-8")
    # one run over both graphs (their IRIs never collide) to pay the ontology load once; no --allow-warnings; the
    # two per-node SPARQL shapes are replaced by graph_problems above (see FAST_VALIDATION_TTL)
    res = subprocess.run([_case_validate(), "--ontology-graph", str(shapes), str(pkg), str(whole)],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0 and "Conforms: True" in res.stdout, res.stdout[-3000:] + res.stderr[-2000:]

"""CASE/UCO JSON-LD: a package's graph and the whole-case export validate with case_validate, no warnings."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ringtrace.case import Case
from ringtrace.dissemination.caseuco import write_case_export
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


@pytest.mark.skipif(_case_validate() is None, reason="case-utils not installed: pip install 'ringtrace[case]'")
def test_case_validate_passes_without_warnings(case: Case, tmp_path: Path) -> None:
    whole = write_case_export(case, tmp_path / "whole.jsonld", with_messages=False)
    r = make_package(case, "DE", tmp_path / "pk", pdf=False)
    pkg = r.path / "case.jsonld"
    assert '"case-investigation:exhibitNumber"' in pkg.read_text()
    # one run over both graphs (their IRIs never collide) to pay the ontology load once; no --allow-warnings
    res = subprocess.run([_case_validate(), str(pkg), str(whole)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and "Conforms: True" in res.stdout, res.stdout[-3000:] + res.stderr[-2000:]

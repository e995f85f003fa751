"""Per-country packages: content, need to know (grep every file, zip included), versions, signatures, media."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from ringtrace.case import Case
from ringtrace.dissemination.export import build_export
from ringtrace.dissemination.package import PackageError, make_package
from ringtrace.dissemination.signing import new_keypair, verify_package
from ringtrace.store import schema as S

HOSTILE_GROUP = "<script>alert(1)</script>"  # planted by conftest
HOSTILE_NAME = "<img src=x onerror=alert(2)>"

TEMPLATES = Path(__file__).parents[2] / "src/ringtrace/dissemination/templates"


def _identifiers(p: dict[str, Any]) -> set[str]:
    """Every identifier and name of a person, as the export states them (independent of the scrubber)."""
    out = set(p["phones"]) | {x.lstrip("+") for x in p["phones"]} | set(p["names"])
    for a in p["accounts"]:
        out.add(a["value"])
        if "@" in a["value"]:
            out.add(a["value"].split("@")[0])
        if a["kind"] == "export_name":
            out.add(a["value"].split(":", 1)[1])
    return {t for t in out if sum(ch.isalnum() for ch in t) >= 2}


def _texts(folder: Path, zpath: Path | None) -> dict[str, str]:
    texts = {}
    for f in folder.rglob("*"):
        if f.is_file() and f.suffix != ".pdf":
            texts[f.name] = f.read_text(encoding="utf-8", errors="replace")
    pdf = folder / "report.pdf"
    if pdf.exists() and shutil.which("pdftotext"):
        texts["report.pdf"] = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    if zpath is not None:
        with zipfile.ZipFile(zpath) as z:
            for n in z.namelist():
                if not n.endswith(".pdf"):
                    texts["zip:" + n] = z.read(n).decode("utf-8", errors="replace")
    return texts


@pytest.fixture(scope="module")
def packages(case_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("packages")
    priv, pub = new_keypair(out / "keys", "unit")
    case = Case.open(case_dir, actor="pytest")
    exp = build_export(case)
    countries = sorted({p["country"] for p in exp["persons"] if p["country"]})
    res = {}
    for i, c in enumerate(countries):
        # one PDF is enough to show the PDF path works; the rest skip it to keep the suite fast
        res[c] = make_package(case, c, out / "pk", zip=True, key=priv, pdf=(i == 0), recipient=f"{c} liaison")
    case.close()
    return {"exp": exp, "res": res, "pub": pub, "priv": priv, "out": out}


def test_a_package_per_country_with_all_files(packages: dict[str, Any]) -> None:
    assert len(packages["res"]) >= 3
    for c, r in packages["res"].items():
        names = {p.name for p in r.path.iterdir()}
        assert {"report.html", "persons.csv", "memberships.csv", "messages.csv", "matches.csv", "sources.csv",
                "package.json", "case.jsonld", "manifest.json", "manifest.sig"} <= names, c
        assert r.zip is not None and r.zip.exists() and r.signed and r.version >= 1


def test_every_file_names_all_targets_and_no_one_else(packages: dict[str, Any]) -> None:
    exp = packages["exp"]
    vocab = {w.lower() for f in TEMPLATES.iterdir() for w in re.findall(r"\w+", f.read_text())}
    for c, r in packages["res"].items():
        targets = [p for p in exp["persons"] if p["country"] == c]
        assert sorted(p["id"] for p in targets) == r.targets
        keep = set().union(*(_identifiers(p) for p in targets))
        forbidden = set().union(*(_identifiers(p) for p in exp["persons"] if p["country"] != c)) - keep
        forbidden = {t for t in forbidden if not (" " not in t and t.lower() in vocab)}
        texts = _texts(r.path, r.zip)
        for fname in ("persons.csv", "report.html", "package.json", "case.jsonld"):
            for p in targets:
                assert p["id"] in texts[fname], (c, fname, p["id"])
                for ph in p["phones"]:
                    assert ph in texts[fname], (c, fname, ph)
        pats = {}
        for t in forbidden:
            t = t.lower()
            pats[t] = re.compile(rf"(?<!\d){re.escape(t)}(?!\d)" if t.isdigit() else
                                 (r"(?<!\w)" if t[0].isalnum() else "") + re.escape(t)
                                 + (r"(?!\w)" if t[-1].isalnum() else ""))
        for fname, text in texts.items():
            low = text.lower()
            for k in sorted(keep, key=len, reverse=True):
                low = low.replace(k.lower(), "\x00")
            found = [t for t, rx in pats.items() if t in low and rx.search(low)]
            assert not found, f"{c} package {fname} leaks {found}"


def test_other_persons_appear_as_stable_pseudonyms(packages: dict[str, Any]) -> None:
    r = next(iter(packages["res"].values()))
    doc = json.loads((r.path / "package.json").read_text())
    refs = {x["ref"]: x for x in doc["pseudonyms"]}
    assert refs and all(re.fullmatch(r"X\d\d+", k) for k in refs)
    for g in doc["groups"]:
        for m in g["members"]:
            assert m["person"] in refs or m["person"] in r.targets
            if m["person"] in refs:
                assert refs[m["person"]]["attributed_to"] == m["attributed_to"]
    mem = (r.path / "memberships.csv").read_text()
    assert any(k in mem for k in refs)


def test_reports_escape_hostile_strings_and_pdf_renders(packages: dict[str, Any], case: Case, tmp_path: Path) -> None:
    from ringtrace.dissemination.report import write_report

    paths = write_report(case, tmp_path / "rep", pdf=True)
    html = (tmp_path / "rep" / "report.html").read_text()
    assert HOSTILE_GROUP not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bad.db</b>" not in html and "&lt;b&gt;bad.db&lt;/b&gt;" in html
    assert "<script" not in html.lower()
    for r in packages["res"].values():
        ph = (r.path / "report.html").read_text()
        assert HOSTILE_GROUP not in ph and HOSTILE_NAME not in ph and "<script" not in ph.lower()
    pdf = tmp_path / "rep" / "report.pdf"
    assert pdf in paths and pdf.read_bytes()[:5] == b"%PDF-"
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm absent (apt-get install poppler-utils): PDF page not rasterised")
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    png = sorted(tmp_path.glob("p*.png"))
    assert png and png[0].stat().st_size > 5000


def test_signature_catches_changed_missing_and_extra_files(packages: dict[str, Any], tmp_path: Path) -> None:
    r = next(iter(packages["res"].values()))
    pub = packages["pub"]
    work = tmp_path / "copy"
    shutil.copytree(r.path, work)
    assert verify_package(work, pub) == []
    f = work / "messages.csv"
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 1
    f.write_bytes(bytes(data))
    (work / "extra.txt").write_text("x")
    (work / "sources.csv").unlink()
    findings = verify_package(work, pub)
    assert any("changed file: messages.csv" in x for x in findings)
    assert any("extra file" in x and "extra.txt" in x for x in findings)
    assert any("missing file: sources.csv" in x for x in findings)
    _, other_pub = new_keypair(tmp_path / "k2", "other")
    assert any("bad signature" in x for x in verify_package(r.path, other_pub))
    m = work / "manifest.json"
    m.write_bytes(m.read_bytes().replace(b'"version"', b'"versioN"'))
    assert any("bad signature" in x for x in verify_package(work, pub))
    assert verify_package(tmp_path, pub) == [f"{tmp_path / 'manifest.json'}: no manifest"]


def test_cli_package_verify_and_status(packages: dict[str, Any], case_dir: Path, tmp_path: Path) -> None:
    from ringtrace import cli

    run = CliRunner().invoke
    r = next(iter(packages["res"].values()))
    res = run(cli.app, ["package", "verify", str(r.path), "--key", str(packages["pub"])])
    assert res.exit_code == 0, res.output
    bad = tmp_path / "bad"
    shutil.copytree(r.path, bad)
    (bad / "persons.csv").write_text("altered")
    assert run(cli.app, ["package", "verify", str(bad), "--key", str(packages["pub"])]).exit_code == 1
    res = run(cli.app, ["package", str(case_dir), "--country", r.country, "--out", str(tmp_path / "o"), "--no-pdf"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / f"{r.country}-v2" / "manifest.json").exists()
    assert not (tmp_path / "o" / f"{r.country}-v2" / "manifest.sig").exists()
    label = r.targets[0]
    assert run(cli.app, ["status", "set", str(case_dir), label, "arrested", "--by", "tester"]).exit_code == 0
    assert run(cli.app, ["status", "set", str(case_dir), label, "dancing", "--by", "tester"]).exit_code == 2
    res = run(cli.app, ["status", str(case_dir), "--country", r.country])
    assert res.exit_code == 0 and "arrested" in res.output and "v2" in res.output
    res = run(cli.app, ["keys", "new", "--out", str(tmp_path / "k"), "--name", "x"])
    assert res.exit_code == 0 and oct((tmp_path / "k" / "x.key").stat().st_mode & 0o777) == "0o600"


def test_versions_and_audit_are_recorded(case: Case, tmp_path: Path) -> None:
    from ringtrace.dissemination.package import next_version

    exp = build_export(case)
    c = sorted({p["country"] for p in exp["persons"] if p["country"]})[0]
    v = next_version(case, c)
    r = make_package(case, c, tmp_path, pdf=False, recipient="desk")
    assert r.version == v and r.path.name == f"{c}-v{v}"
    with case.engine.connect() as con:
        rows = [json.loads(x.value) for x in con.execute(select(S.overrides).where(
            S.overrides.c.kind == "package", S.overrides.c.subject == c))]
        audit = [x.action for x in con.execute(select(S.audit_log.c.action))]
    assert rows[-1]["version"] == v and rows[-1]["recipient"] == "desk" and len(rows[-1]["manifest_sha256"]) == 64
    assert "package.write" in audit


def test_bad_requests_are_refused(case: Case, tmp_path: Path) -> None:
    with pytest.raises(PackageError, match="alpha-2"):
        make_package(case, "Spain", tmp_path)
    with pytest.raises(PackageError, match="no person"):
        make_package(case, "AQ", tmp_path)
    with pytest.raises(PackageError, match="encrypted"):
        make_package(case, "DE", tmp_path, include_media=True)
    assert not any(tmp_path.iterdir())

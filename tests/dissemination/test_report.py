"""The case and package reports: classification marking on every page, contents with page numbers, dates in
words with their zone, the audit head (in the report and the package manifest), suspects named by best name and
number in their own country's package while others stay pseudonyms."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ringtrace.case import Case
from ringtrace.dissemination.report import classification_marking, date_words, write_report


def test_dates_in_words_with_zone() -> None:
    assert date_words("2026-12-01T22:49:15+00:00") == "1 December 2026, 22:49 UTC"
    assert date_words("2026-03-05T08:00:00+02:00") == "5 March 2026, 08:00 UTC+02:00"
    assert date_words("2026-03-05T08:00:00Z", time=False) == "5 March 2026"
    assert date_words(None) == "unknown"
    assert date_words("not a date <b>") == "not a date <b>"  # escaped by the template, never parsed


def test_classification_is_bounded_and_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert classification_marking("SECRET") == "SECRET"
    assert classification_marking('X"; } body { display:none') == "X; body display:none"
    assert len(classification_marking("A" * 500)) == 80
    monkeypatch.setenv("RINGTRACE_CLASSIFICATION", "RESTRICTED: EUROPOL")
    assert classification_marking() == "RESTRICTED: EUROPOL"


def test_case_report_has_marking_contents_head_and_names(case: Case, tmp_path: Path) -> None:
    from ringtrace.audit import current_head

    with case.engine.connect() as con:
        head = str(current_head(con))
    paths = write_report(case, tmp_path / "r", pdf=shutil.which("pdftotext") is not None,
                         classification="RESTRICTED TEST MARK")
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert '<p class="marking">RESTRICTED TEST MARK</p>' in html
    assert "@top-center { content: \"RESTRICTED TEST MARK\"; }" in html
    assert '<nav class="toc">' in html and 'href="#suspects"' in html and 'id="suspects"' in html
    assert head in html and "ringtrace verify --anchor" in html
    assert " UTC" in html and "T00:00:00" not in html.split("<h2 id=\"custody\"")[1].split("</table>")[0]
    pdf = tmp_path / "r" / "report.pdf"
    if pdf in paths:
        pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
        per_page = pages.split("\f")
        per_page = [p for p in per_page if p.strip()]
        assert len(per_page) >= 3
        assert all("RESTRICTED TEST MARK" in p for p in per_page)  # on every page
        assert all(f"of {len(per_page)}" in p for p in per_page)  # page numbers
        assert "Contents" in per_page[0] or "Contents" in per_page[1]


def test_package_names_own_country_and_carries_head(case: Case, tmp_path: Path) -> None:
    from ringtrace.dissemination.export import build_export
    from ringtrace.dissemination.package import make_package

    exp = build_export(case)
    cc = next(p["country"] for p in exp["persons"] if p["country"] and p["names"] and p["phones"])
    own = [p for p in exp["persons"] if p["country"] == cc]
    others = [p for p in exp["persons"] if p["country"] != cc and p["phones"]]
    r = make_package(case, cc, tmp_path / "pk", pdf=False)
    html = (r.path / "report.html").read_text(encoding="utf-8")
    named = [p for p in own if p["phones"]]
    assert named and all(f"({p['phones'][0]})</h3>" in html for p in named)  # best number beside the label
    assert all(p["phones"][0] not in html for p in others)  # other countries' people stay pseudonyms
    manifest = json.loads((r.path / "manifest.json").read_text(encoding="utf-8"))
    meta = manifest["package"]
    head = meta.get("audit_head")
    assert head and ":" in head
    with case.engine.connect() as con:
        from ringtrace.audit import AuditHead, check_head

        assert check_head(con, AuditHead.parse(head), "the package manifest") == []
    assert head in html

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


def test_package_report_has_contents_marking_dates_in_words_and_no_walls(case: Case, tmp_path: Path) -> None:
    import re

    from ringtrace.dissemination.export import build_export
    from ringtrace.dissemination.package import make_package

    exp = build_export(case)
    cc = next(p["country"] for p in exp["persons"] if p["country"] and p["phones"])
    r = make_package(case, cc, tmp_path / "pk", pdf=shutil.which("pdftotext") is not None,
                     classification="RESTRICTED PACKAGE MARK")
    html = (r.path / "report.html").read_text(encoding="utf-8")
    # the marking at the top and in the page margins of every page
    assert '<p class="marking">RESTRICTED PACKAGE MARK</p>' in html
    assert '@top-center { content: "RESTRICTED PACKAGE MARK"; }' in html
    # a contents page whose every entry points at a section that exists
    toc = html.split('<nav class="toc">', 1)[1].split("</nav>", 1)[0]
    targets = re.findall(r'href="#([a-z]+)"', toc)
    assert len(targets) >= 8 and all(f'<h2 id="{t}">' in html for t in targets)
    # dates in words with their zone, never raw ISO timestamps or bare ISO days in the text
    body = re.sub(r'<(td|span) class="hash">.*?</\1>', "", html, flags=re.S)
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", body), re.findall(r".{40}\d{4}-\d\d-\d\dT.{20}", body)[:3]
    assert not re.search(r">\s*\d{4}-\d\d-\d\d\s*<", body)
    assert re.search(r"\d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d UTC", body)
    # no walls of paths: at most three sightings of an invite link are listed in a cell
    links = html.split('<h2 id="links">', 1)[1].split("</table>", 1)[0]
    assert all(cell.count("<br>") <= 3 for cell in re.findall(r'<td class="small wrap">(.*?)</td>', links, re.S))
    pdf = r.path / "report.pdf"
    if pdf.exists():
        pages = [p for p in subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                                           text=True).stdout.split("\f") if p.strip()]
        assert len(pages) >= 2
        assert all("RESTRICTED PACKAGE MARK" in p for p in pages)  # on every page
        assert all(f"of {len(pages)}" in p for p in pages)  # page numbers
        assert "Contents" in pages[0] and re.search(r"Persons referred\s*\.+\s*page \d+", pages[0])


def test_membership_legend_matches_its_bars() -> None:
    from ringtrace.dissemination.report import _env, membership_chart

    g = {"members": [{"person": "P1", "intervals": [{"from": "2025-01-01T00:00:00Z", "to": "2025-02-01T00:00:00Z"}]},
                     {"person": "P2", "intervals": [{"from": "2025-01-10T00:00:00Z", "to": None}]}]}
    chart = membership_chart(g)
    assert chart is not None
    html = _env().from_string('{% import "_macros.html" as m %}{{ m.membership(chart) }}').render(chart=chart)
    rows = {r["label"]: r["bars"][0] for r in chart["rows"]}
    assert rows["P1"]["open_end"] is False and rows["P2"]["open_end"] is True
    ended, still = "#3f6e9a", "#9db4cc"
    assert html.count(f'fill="{ended}"') == 1 and html.count(f'fill="{still}"') == 1  # one bar each
    legend = html.split('class="small legend"', 1)[1]
    # the legend names each colour for what its bar is: the ended membership dark, the open one light
    assert legend.index(ended) < legend.index("ended") < legend.index(still) < legend.index("still a member")
    assert "1 January 2025" in html and "1 February 2025" in html  # the axis in words

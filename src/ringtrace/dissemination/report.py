"""Case report and package report: HTML through Jinja2 with autoescape on (evidence is hostile: every string is
escaped), PDF through WeasyPrint (optional extra ``ringtrace[pdf]``). No JavaScript, no media content, no
thumbnails: known material is shown as counts, hashes and categories only. Charts are inline SVG built here.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from ringtrace.case import Case
from ringtrace.dissemination.export_types import Media, Person
from ringtrace.textsafe import visible

TEMPLATES = Path(__file__).with_name("templates")
# The marking printed at the top and bottom of every page; RINGTRACE_CLASSIFICATION (or ``classification=``)
# sets it for a deployment's own scheme.
DEFAULT_CLASSIFICATION = "OFFICIAL-SENSITIVE: LAW ENFORCEMENT ONLY"
DISK_KNOWN_ROWS = 200  # files of known material listed with their place in a disk image; the export has them all


class ReportError(Exception):
    pass


def _env() -> Environment:
    # autoescape for every template whatever its name: evidence strings can hold markup
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True,
                      default_for_string=True), trim_blocks=True, lstrip_blocks=True,
                      finalize=visible)  # every value printed: control characters made visible
    env.filters["words"] = date_words
    env.filters["day"] = lambda s: date_words(s, time=False)
    env.filters["basename"] = lambda s: str(s or "").replace("\\", "/").rstrip("/").rsplit("/", 1)[-1][:120]
    return env


def date_words(s: Any, time: bool = True) -> str:
    """An ISO date or time in words with its time zone: '1 December 2026, 22:49 UTC' (or as given, when odd)."""
    if not s:
        return "unknown"
    dt = _parse(str(s))
    if dt is None:
        return str(s)[:40]
    day = f"{dt.day} {dt:%B %Y}"
    if not time:
        return day
    off = dt.utcoffset()
    zone = "UTC" if not off else dt.strftime("UTC%z")[:6] + ":" + dt.strftime("%z")[3:]
    return f"{day}, {dt:%H:%M} {zone}"


def classification_marking(value: str | None = None) -> str:
    """The page marking: printable, one line, at most 80 characters (it goes into CSS and every page)."""
    raw = value if value is not None else os.environ.get("RINGTRACE_CLASSIFICATION", DEFAULT_CLASSIFICATION)
    text = " ".join(re.sub(r"[^\w .,:;/()+-]", "", str(raw), flags=re.UNICODE).split())[:80]
    return text or DEFAULT_CLASSIFICATION


def _parse(s: str | None) -> datetime | None:
    if not s:
        return None
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def membership_chart(group: Mapping[str, Any], label: Any = None, width: int = 640) -> dict[str, Any] | None:
    """Rows of bars (x, w in the SVG's units) for each member's intervals; open ends run to the last date seen."""
    ivs = [(m["person"], _parse(iv.get("from")), _parse(iv.get("to")))
           for m in group.get("members", []) for iv in m.get("intervals", [])]
    times = [t for _, a, b in ivs for t in (a, b) if t is not None]
    if not times:
        return None
    lo, hi = min(times), max(times)
    span = max((hi - lo).total_seconds(), 86400.0)
    left, plot = 110, width - 120
    rows: dict[str, list[dict[str, float]]] = defaultdict(list)
    for person, a, b in ivs:
        a2, b2 = a or lo, b or hi
        x = left + plot * (a2 - lo).total_seconds() / span
        w = max(2.0, plot * (b2 - a2).total_seconds() / span)
        rows[person].append({"x": round(x, 1), "w": round(w, 1), "open_start": a is None, "open_end": b is None})
    names = sorted(rows)
    return {"width": width, "height": 24 + 13 * len(names), "left": left, "lo": lo.date().isoformat(),
            "hi": hi.date().isoformat(), "rows": [{"label": label(n) if label else n, "y": 16 + 13 * i,
                                                   "bars": rows[n]} for i, n in enumerate(names)]}


def weekly_chart(times: list[str | None], width: int = 640, height: int = 120) -> dict[str, Any] | None:
    weeks: Counter[str] = Counter()
    for t in times:
        dt = _parse(t)
        if dt is not None:
            monday = (dt - timedelta(days=dt.weekday())).date()
            weeks[monday.isoformat()] += 1
    if not weeks:
        return None
    first = datetime.fromisoformat(min(weeks)).date()
    last = datetime.fromisoformat(max(weeks)).date()
    n = (last - first).days // 7 + 1
    if n > 520:  # ten years of weeks is the most a page can show legibly
        return None
    top = max(weeks.values())
    bw = (width - 40) / n
    bars = []
    for i in range(n):
        wk = (first + timedelta(days=7 * i)).isoformat()
        c = weeks.get(wk, 0)
        h = (height - 30) * c / top
        bars.append({"x": round(30 + i * bw, 1), "w": round(max(bw - 1, 1), 1), "y": round(height - 15 - h, 1),
                     "h": round(h, 1), "week": wk, "count": c})
    return {"width": width, "height": height, "bars": bars, "top": top, "first": first.isoformat(),
            "last": last.isoformat(), "total": sum(weeks.values())}


def _render(template: str, model: dict[str, Any], out_dir: Path, pdf: bool,
            classification: str | None = None) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    marking = classification_marking(classification)
    # report.css is included by the template itself (template text is never escaped; a {{ css }} value was, which
    # turned its quotes into &#34; so WeasyPrint dropped every rule holding a string, page numbers included); the
    # marking goes into CSS strings there, sanitised to letters, digits and plain punctuation.
    html = _env().get_template(template).render(classification=marking, **model)
    path = out_dir / "report.html"
    path.write_text(html, encoding="utf-8")
    paths = [path]
    if pdf:
        try:
            from weasyprint import HTML
        except (ImportError, OSError) as e:
            raise ReportError(f"report.pdf not written: WeasyPrint is not usable here ({e}); install the optional "
                              "extra: pip install 'ringtrace[pdf]'") from e
        # base_url set to the output folder and no url_fetcher beyond local files: the HTML references nothing
        HTML(string=html, base_url=str(out_dir)).write_pdf(out_dir / "report.pdf")
        paths.append(out_dir / "report.pdf")
    return paths


# ---- the case report --------------------------------------------------------------------------------------


def case_model(case: Case) -> dict[str, Any]:
    from sqlalchemy import select

    from ringtrace.analysis.suspects import suspects_for
    from ringtrace.dissemination.export import build_export, iso
    from ringtrace.store import schema as S

    exp = build_export(case, with_messages=True)
    by_country: dict[str, list[Person]] = defaultdict(list)
    for p in exp["persons"]:
        by_country[p["country"] or "none"].append(p)
    countries = [{"country": c, "persons": ps, "bases": Counter((p["country_basis"] or "no basis").split(":")[0]
                                                               for p in ps).most_common()}
                 for c, ps in sorted(by_country.items(), key=lambda kv: (kv[0] == "none", kv[0]))]
    cats: Counter[str] = Counter()
    matched = 0
    for m in exp["media"]:
        if m["matches"]:
            matched += 1
            for c in {x["category"] or "uncategorised" for x in m["matches"]}:
                cats[c] += 1
    disk_known, disk_known_total = known_on_disks(exp["media"])
    groups = []
    for g in exp["groups"]:
        groups.append({**g, "chart": membership_chart(g)})
    msgs = [m for m in exp.get("messages", []) if m["kind"] == "message"]
    # the lead story: page -> invite link -> group -> who joined through it
    joined: dict[tuple[str, str], list[str]] = defaultdict(list)
    joined_nocode: dict[str, list[str]] = defaultdict(list)  # joined by a link whose code the device did not keep
    for g in exp["groups"]:
        for mem in g["members"]:
            if isinstance(mem["joined_via_invite_link"], list):
                for code in mem["joined_via_invite_link"]:
                    joined[(g["id"], code)].append(mem["person"])
            elif mem["joined_via_invite_link"] is True:
                joined_nocode[g["id"]].append(mem["person"])
    leads = []
    for ln in exp["invite_links"]:
        leads.append({**ln, "joined": sorted(joined.get((ln["group"] or "", ln["code"] or ""), [])),
                      "joined_nocode": sorted(joined_nocode.get(ln["group"] or "", [])),
                      "pages": sorted({s["page"] or s["location"] for s in ln["seen"]})})
    suspects = suspects_for(case)
    why: str | None = None
    if len(suspects) > 50:
        why = f"top 50 of {len(suspects)} shown; the full ranking is in ringtrace suspects"
        suspects = suspects[:50]
    with case.engine.connect() as con:
        ex = {r.id: r.exhibit for r in con.execute(select(S.sources.c.id, S.sources.c.exhibit))}
        problems = [{"exhibit": ex.get(r.source_id, "-"), "stage": r.stage, "severity": r.severity, "file": r.file,
                     "reason": r.reason} for r in con.execute(select(S.problems).order_by(S.problems.c.id))]
        tools = {r.exhibit: r.tool for r in con.execute(select(S.sources.c.exhibit, S.sources.c.tool))}
        audit_n = con.execute(select(S.audit_log.c.seq).order_by(S.audit_log.c.seq.desc()).limit(1)).scalar() or 0
        from ringtrace.audit import current_head

        head = current_head(con)
    return {
        "title": f"Case report: {exp['case']}", "case": exp["case"], "generated_at": iso(datetime.now(UTC)),
        "tool": exp["tool"], "sources": [{**s, "tool": tools.get(s["exhibit"])} for s in exp["sources"]],
        "counts": {"sources": len(exp["sources"]), "persons": len(exp["persons"]), "groups": len(exp["groups"]),
                   "messages": len(msgs), "media": len(exp["media"]), "known": matched,
                   "invite_links": len(exp["invite_links"]), "problems": len(problems)},
        "countries": countries, "groups": groups, "activity": weekly_chart([m["at"] for m in msgs]),
        "categories": sorted(cats.items()), "disk_known": disk_known, "disk_known_total": disk_known_total,
        "leads": leads, "suspects": suspects, "suspects_note": why,
        "problems": problems, "audit_entries": audit_n, "audit_head": str(head) if head else "",
        "who": {p["id"]: {"name": _best_name(p["names"]), "phone": p["phones"][0] if p["phones"] else ""}
                for p in exp["persons"]},
    }


def known_on_disks(media: list[Media], limit: int = DISK_KNOWN_ROWS) -> tuple[list[dict[str, Any]], int]:
    """Each file of known material found in a disk image, with its place (partition, path, inode, deleted, MACB),
    deleted files first then by exhibit and path; at most ``limit`` rows, and how many there are in all."""
    rows: list[tuple[tuple[bool, str, str, str], dict[str, Any]]] = []
    for m in media:
        cats = sorted({x["category"] or "uncategorised" for x in m["matches"]})
        for f in m["files"] if cats else []:
            place = f.get("place")
            if place is not None:
                key = (not place["deleted"], f["source"], place["partition"], place["fs_path"])
                rows.append((key, {"sha256": m["sha256"], "categories": cats, "source": f["source"], "place": place}))
    rows.sort(key=lambda r: r[0])
    return [r for _, r in rows[:limit]], len(rows)


def _best_name(names: list[str]) -> str:
    """A readable name to put beside a label: the shortest non-empty one seen (ties alphabetical)."""
    clean = sorted({" ".join(str(n).split())[:60] for n in names if str(n).strip()}, key=lambda n: (len(n), n))
    return clean[0] if clean else ""


def write_report(case: Case, out_dir: Path, pdf: bool = False, classification: str | None = None) -> list[Path]:
    """report.html (and report.pdf) for the whole case. Raises ReportError when a PDF is asked and cannot be made
    (report.html is written first)."""
    paths = _render("report.html", case_model(case), out_dir, pdf, classification)
    case.log("report.write", {"out": str(out_dir), "pdf": pdf, "files": [p.name for p in paths]})
    return paths


# ---- the package report -----------------------------------------------------------------------------------


def render_package_report(doc: dict[str, Any], out_dir: Path, pdf: bool = True, audit_head: str = "",
                          classification: str | None = None) -> list[Path]:
    """Country-scoped report from a (scrubbed) package document; it never sees the case. The persons of the
    package's own country are named (best name and number); everyone else stays a pseudonym."""
    pseudo = {x["ref"]: x for x in doc["pseudonyms"]}

    def who(ref: str) -> str:
        x = pseudo.get(ref)
        return f"{ref} ({x['attributed_to'] or 'no country'})" if x else ref

    groups = [{**g, "chart": membership_chart(g, who)} for g in doc["groups"]]
    model = {**doc, "title": f"Referral package {doc['country']} v{doc['version']}: {doc['case']}",
             "groups": groups, "audit_head": audit_head,
             "who": {p["id"]: {"name": _best_name(p.get("names") or []),
                               "phone": (p.get("phones") or [""])[0]} for p in doc["persons"]},
             "activity": weekly_chart([m["at"] for m in doc["messages"]
                                                         if m["involves_target"] and m["kind"] == "message"]),
             "categories": sorted(Counter(x["category"] or "uncategorised"
                                          for x in {(x["sha256"], x["category"]): x
                                                    for x in doc["matches"]}.values()).items())}
    return _render("package.html", model, out_dir, pdf, classification)

"""Leads: which captured pages and which invite links to look at first, and the story each one tells.

Pure functions over an open case (no CLI, no network). Every score is a sum of components, each a
``(name, points, reason)`` so an analyst can see why a row is where it is:

pages: known material among the page's images (strong), invite links on the page, links tied to a group in the
case, keyword terms in the title or around the indicators;
links: tied to a group in the case (and on what device evidence), members who joined through it, how many
pages and capture files carry it, pages holding known material, keyword terms, first and last seen, and visits
by a device's owner.

Visits: browser history (``sources/browsers``) keeps what a device visited and when. A visit to the link itself,
to a captured page that carried it (same URL), or to the onion site that hosted such a page is evidence in the
lead, tied to the exhibit and to its owner (the person holding the exhibit's device-owner account):
"visited by P0012 on EX-004 at ...".

A page's images: embedded resources of the same source whose capture URL is among the page's ``resources``;
for MHTML and saved HTML (one page per file), every image part of the file / every file in its ``_files``
folder. An optional keyword list (one term per line, ``term<TAB>weight`` to weigh it) is given by the
analyst; none ships with ringtrace.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, select

from ringtrace.analysis.common import iso, utc
from ringtrace.analysis.invites import INVITE_KINDS, CodeTie, code_current_at, group_resets, tie_invite_codes
from ringtrace.sources.base import canonical_format
from ringtrace.sources.browsers import BROWSER_FORMATS
from ringtrace.store import schema as S

Component = tuple[str, float, str]  # (name, points, reason)

KNOWN_FIRST = 40.0  # a page holding known material
KNOWN_MORE = 10.0  # each further known image on it
KNOWN_CAP = 80.0
LINK_ON_PAGE = 5.0
LINK_ON_PAGE_CAP = 25.0
TIED_ON_PAGE = 10.0
TIED_ON_PAGE_CAP = 30.0
LINK_TIED = 30.0
JOINED_EACH = 5.0
JOINED_CAP = 50.0
PAGE_EACH = 3.0
PAGE_CAP = 30.0
FILE_EACH = 2.0
FILE_CAP = 20.0
KNOWN_PAGE_EACH = 20.0
KNOWN_PAGE_CAP = 40.0
DEFAULT_KEYWORD_WEIGHT = 5.0
VISIT_OWNER = 20.0  # each person whose device visited the link, a page carrying it or its onion site
VISIT_CAP = 40.0
MAX_KEYWORD_FILE = 1024 * 1024
MAX_KEYWORDS = 10_000
MAX_TERM = 200


class KeywordError(ValueError):
    pass


@dataclass
class KnownImage:
    sha256: str
    relpath: str
    hashset: str | None
    category: str | None
    method: str


@dataclass
class Visit:
    """A browser's record of a visit, from one exhibit, tied to that device's owner(s) when the case knows them."""

    url: str | None
    at: datetime | None
    source: str | None  # exhibit
    persons: list[str]  # owner person labels
    location: str  # file:table:row
    what: str  # "the link" | "the page" | "the onion site"

    @property
    def text(self) -> str:
        who = " and ".join(self.persons) if self.persons else "the owner (not identified)"
        when = f" at {iso(self.at)}" if self.at else " (time not recorded)"
        return f"{self.what} visited by {who} on {self.source or '?'}{when} ({self.location})"

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "at": iso(self.at), "source": self.source, "persons": list(self.persons),
                "location": self.location, "what": self.what, "text": self.text}


@dataclass
class PageLead:
    page_id: int
    uri: str | None
    title: str | None
    source: str | None  # exhibit
    location: str
    captured_at: datetime | None
    score: float = 0.0
    components: list[Component] = field(default_factory=list)
    known: list[KnownImage] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (platform, code)
    visits: list[Visit] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        """The page holds known material."""
        return bool(self.known)


@dataclass
class LinkLead:
    platform: str
    code: str
    url: str
    score: float = 0.0
    components: list[Component] = field(default_factory=list)
    group: str | None = None  # group label, when device evidence ties the code to one
    group_basis: str | None = None
    pages: list[int] = field(default_factory=list)  # page ids carrying it
    capture_files: int = 0
    sightings: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    joined: list[tuple[str, datetime | None]] = field(default_factory=list)  # (person label, join time)
    visits: list[Visit] = field(default_factory=list)


@dataclass
class LeadsReport:
    pages: list[PageLead]
    links: list[LinkLead]
    keywords: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class Story:
    """page -> link -> group -> who joined through it."""

    platform: str
    code: str
    url: str
    score: float
    pages: list[dict[str, Any]]  # uri, title, captured_at, source, flagged
    group: str | None
    group_names: list[str]
    group_basis: str | None
    joined: list[dict[str, Any]]  # person, at
    visits: list[dict[str, Any]] = field(default_factory=list)  # url, at, source, persons, location, what, text


# ---- keywords -----------------------------------------------------------------------------------------------


def load_keywords(path: Path) -> list[tuple[str, float]]:
    """One term per line, optionally ``term<TAB>weight``; ``#`` starts a comment line. Bad lines raise
    ``KeywordError`` naming the file and line."""
    try:
        size = path.stat().st_size
        if size > MAX_KEYWORD_FILE:
            raise KeywordError(f"{path}: keyword list of {size} bytes is over the {MAX_KEYWORD_FILE} byte limit")
        text = path.read_bytes().decode("utf-8")
    except OSError as e:
        raise KeywordError(f"{path}: cannot read keyword list: {e}") from e
    except UnicodeDecodeError as e:
        raise KeywordError(f"{path}: keyword list is not UTF-8 ({e.reason} at byte {e.start})") from e
    return parse_keywords(text.splitlines(), str(path))


def parse_keywords(lines: Iterable[str], name: str = "keywords") -> list[tuple[str, float]]:
    out: dict[str, float] = {}
    for n, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        term, _, weight = line.partition("\t")
        term = " ".join(term.split()).lower()
        if not term:
            raise KeywordError(f"{name}: line {n}: empty term")
        if len(term) > MAX_TERM:
            raise KeywordError(f"{name}: line {n}: term longer than {MAX_TERM} characters")
        w = DEFAULT_KEYWORD_WEIGHT
        if weight.strip():
            try:
                w = float(weight.strip())
            except ValueError:
                raise KeywordError(f"{name}: line {n}: weight {weight.strip()[:40]!r} is not a number") from None
            if not (-1000.0 <= w <= 1000.0):
                raise KeywordError(f"{name}: line {n}: weight {w} outside -1000..1000")
        out[term] = w
        if len(out) > MAX_KEYWORDS:
            raise KeywordError(f"{name}: more than {MAX_KEYWORDS} terms")
    return sorted(out.items())


def _keyword_hits(keywords: Sequence[tuple[str, float]], texts: Iterable[str | None]) -> list[tuple[str, float]]:
    hay = "\n".join(" ".join(t.split()).lower() for t in texts if t)
    return [(term, w) for term, w in keywords if term in hay]


def _keyword_component(hits: list[tuple[str, float]], where: str) -> list[Component]:
    if not hits:
        return []
    pts = sum(w for _, w in hits)
    return [("keywords", pts, f"{len(hits)} term(s) in {where}: " + ", ".join(f"{t} ({w:g})" for t, w in hits))]


# ---- page media -------------------------------------------------------------------------------------------------


def _files_folder(relpath: str) -> str:
    """``dir/page.html`` -> ``dir/page_files/`` (where browsers put a saved page's images)."""
    head, tail = posixpath.split(relpath)
    stem = tail.rsplit(".", 1)[0] if "." in tail else tail
    return posixpath.join(head, stem + "_files") + "/"


def page_media(con: Connection) -> dict[int, list[tuple[str, str]]]:
    """Page id -> [(sha256, relpath)] of the images and media the page holds."""
    sf = S.source_files
    fmt: dict[tuple[int, str], str] = {}
    by_origin: dict[tuple[int, str], list[tuple[str, str]]] = defaultdict(list)
    by_container: dict[tuple[int, str], list[tuple[str, str]]] = defaultdict(list)
    plain: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for r in con.execute(select(sf.c.source_id, sf.c.relpath, sf.c.sha256, sf.c.embedded, sf.c.format,
                                sf.c.origin_uri)):
        if r.format:
            fmt[(r.source_id, r.relpath)] = canonical_format(r.format)
        if r.embedded:
            if r.origin_uri:
                by_origin[(r.source_id, r.origin_uri)].append((r.sha256, r.relpath))
            if "#" in r.relpath:
                by_container[(r.source_id, r.relpath.rsplit("#", 1)[0])].append((r.sha256, r.relpath))
        elif "_files/" in r.relpath:
            plain[r.source_id].append((r.sha256, r.relpath))
    out: dict[int, list[tuple[str, str]]] = {}
    for p in con.execute(select(S.pages.c.id, S.pages.c.source_id, S.pages.c.prov_file, S.pages.c.resources)):
        found: dict[str, tuple[str, str]] = {}
        res = p.resources if isinstance(p.resources, list) else []
        for url in res[:1000]:
            if isinstance(url, str):
                for item in by_origin.get((p.source_id, url), ()):
                    found.setdefault(item[1], item)
        kind = fmt.get((p.source_id, p.prov_file))
        if kind == "mhtml":  # one page per file: every image part belongs to it
            for item in by_container.get((p.source_id, p.prov_file), ()):
                found.setdefault(item[1], item)
        elif kind == "html-page":
            folder = _files_folder(p.prov_file)
            for item in plain.get(p.source_id, ()):
                if item[1].startswith(folder):
                    found.setdefault(item[1], item)
        if found:
            out[p.id] = sorted(found.values(), key=lambda i: i[1])
    return out


def known_matches(con: Connection) -> dict[str, list[tuple[str | None, str | None, str]]]:
    """Media sha256 -> [(hash set, category, method)] for every match with known material."""
    names = {r.id: r.name for r in con.execute(select(S.hashsets.c.id, S.hashsets.c.name))}
    out: dict[str, list[tuple[str | None, str | None, str]]] = defaultdict(list)
    q = select(S.matches.c.media_sha256, S.matches.c.hashset_id, S.matches.c.method,
               S.hash_entries.c.category).join(S.hash_entries, S.hash_entries.c.id == S.matches.c.entry_id)
    for r in con.execute(q):
        out[r.media_sha256].append((names.get(r.hashset_id), r.category, r.method))
    return out


# ---- ranking ----------------------------------------------------------------------------------------------------


def _locator(r: Any) -> str:
    parts = [r.prov_file, r.prov_table or "", f"row {r.prov_row}" if r.prov_row is not None else ""]
    return ":".join(p for p in parts if p)


def _joined(con: Connection, ties: dict[tuple[str, str], CodeTie],
            resets: dict[int, list[datetime]]) -> dict[tuple[str, str], list[tuple[str, datetime | None]]]:
    """(platform, code) -> [(person label, join time)] of members who joined the tied group through it."""
    label = {r.id: r.label for r in con.execute(select(S.persons.c.id, S.persons.c.label))}
    platform = {r.id: r.platform for r in con.execute(select(S.groups.c.id, S.groups.c.platform))}
    out: dict[tuple[str, str], list[tuple[str, datetime | None]]] = defaultdict(list)
    m = S.memberships
    for r in con.execute(select(m.c.group_id, m.c.person_id, m.c.from_at, m.c.invite_code)
                         .where(m.c.joined_via == "invite_link").order_by(m.c.from_at, m.c.id)):
        code = r.invite_code or code_current_at(ties, r.group_id, r.from_at, resets.get(r.group_id, ()))
        if code is None:
            continue
        key = (platform.get(r.group_id, ""), code)
        tie = ties.get(key)
        if tie is not None and tie.group_id == r.group_id and r.person_id in label:
            out[key].append((label[r.person_id], utc(r.from_at)))
    return out


def _norm_url(url: str | None) -> str | None:
    """Scheme and host lower-cased, fragment and a trailing slash dropped: the same page however written."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}{query}"


def _onion_host(url: str | None) -> str | None:
    try:
        host = urlsplit(url).hostname if url else None
    except ValueError:
        return None
    return host if host and host.endswith(".onion") else None


def device_owner_persons(con: Connection) -> dict[int, list[str]]:
    """Source id -> labels of the persons holding that source's device-owner account(s)."""
    do, pa = S.device_owners, S.person_accounts
    q = (select(do.c.source_id, S.persons.c.label).join(pa, pa.c.account_id == do.c.account_id)
         .join(S.persons, S.persons.c.id == pa.c.person_id).distinct())
    out: dict[int, set[str]] = defaultdict(set)
    for r in con.execute(q):
        out[r.source_id].add(r.label)
    return {k: sorted(v) for k, v in out.items()}


def _browser_files(con: Connection) -> set[tuple[int, str]]:
    sf = S.source_files
    return {(r.source_id, r.relpath) for r in con.execute(select(sf.c.source_id, sf.c.relpath, sf.c.format))
            if r.format and canonical_format(r.format) in BROWSER_FORMATS}


def _visit_component(visits: list[Visit]) -> list[Component]:
    if not visits:
        return []
    persons = sorted({p for v in visits for p in v.persons})
    shown = "; ".join(v.text for v in visits[:5]) + (f"; and {len(visits) - 5} more" if len(visits) > 5 else "")
    return [("visited by a device owner" if persons else "visited on a seized device",
             min(VISIT_CAP, VISIT_OWNER * len(persons)), shown)]


def rank_leads(case: Any, keywords: Path | Sequence[tuple[str, float]] | None = None) -> LeadsReport:
    """Pages and invite links of the case, each ranked by an explainable score (highest first)."""
    kw = load_keywords(keywords) if isinstance(keywords, Path) else [
        (" ".join(t.split()).lower(), float(w)) for t, w in keywords or [] if t.strip()]
    with case.engine.connect() as con:
        return _rank(con, kw)


def _rank(con: Connection, kw: list[tuple[str, float]]) -> LeadsReport:
    exhibit = {r.id: r.exhibit for r in con.execute(select(S.sources.c.id, S.sources.c.exhibit))}
    glabel = {r.id: r.label for r in con.execute(select(S.groups.c.id, S.groups.c.label))}
    ties = tie_invite_codes(con)
    resets = group_resets(con)
    joined = _joined(con, ties, resets)
    media = page_media(con)
    known = known_matches(con)
    pages: dict[int, PageLead] = {}
    page_key: dict[tuple[int, str, str | None, str | None], int] = {}
    for p in con.execute(select(S.pages).order_by(S.pages.c.id)):
        pages[p.id] = PageLead(p.id, p.uri, p.title, exhibit.get(p.source_id), _locator(p), utc(p.captured_at))
        page_key.setdefault((p.source_id, p.prov_file, p.prov_table, p.prov_row), p.id)
        for sha, rel in media.get(p.id, ()):
            for hs, cat, method in known.get(sha, ()):
                pages[p.id].known.append(KnownImage(sha, rel, hs, cat, method))
    links: dict[tuple[str, str], LinkLead] = {}
    link_files: dict[tuple[str, str], set[tuple[int, str]]] = defaultdict(set)
    page_contexts: dict[int, list[str]] = defaultdict(list)
    link_contexts: dict[tuple[str, str], list[str]] = defaultdict(list)
    browser = _browser_files(con)
    owners = device_owner_persons(con) if browser else {}
    link_visits: dict[tuple[str, str], list[Visit]] = defaultdict(list)
    url_visits: dict[str, list[Visit]] = defaultdict(list)
    onion_visits: dict[str, list[Visit]] = defaultdict(list)
    ind = S.indicators
    for r in con.execute(select(ind).order_by(ind.c.id)):
        if (r.source_id, r.prov_file) in browser:
            def visit(what: str, r: Any = r) -> Visit:
                return Visit(r.page_uri, utc(r.at), exhibit.get(r.source_id), owners.get(r.source_id, []),
                             _locator(r), what)
            if r.kind in INVITE_KINDS:
                link_visits[(r.platform or "", r.code or r.value)].append(visit("the link"))
            elif r.kind == "url" and (u := _norm_url(r.page_uri)) is not None:
                url_visits[u].append(visit("the page"))
            elif r.kind == "onion":
                onion_visits[r.value.lower()].append(visit("the onion site"))
        pid = page_key.get((r.source_id, r.prov_file, r.prov_table, r.prov_row))
        if pid is not None:
            page_contexts[pid].append(r.context)
        if r.kind not in INVITE_KINDS:
            continue
        key = (r.platform or "", r.code or r.value)
        lead = links.get(key)
        if lead is None:
            lead = links[key] = LinkLead(key[0], key[1], r.value)
        lead.sightings += 1
        at = utc(r.at)
        if at is not None:
            lead.first_seen = at if lead.first_seen is None or at < lead.first_seen else lead.first_seen
            lead.last_seen = at if lead.last_seen is None or at > lead.last_seen else lead.last_seen
        link_contexts[key].append(r.context)
        if pid is not None:
            link_files[key].add((r.source_id, r.prov_file))
            if pid not in lead.pages:
                lead.pages.append(pid)
            if key not in pages[pid].links:
                pages[pid].links.append(key)
    for page in pages.values():
        exact = url_visits.get(_norm_url(page.uri) or "", [])
        host = _onion_host(page.uri)
        site = [v for v in onion_visits.get(host, []) if v.location not in {e.location for e in exact}] \
            if host else []
        page.visits = sorted([*exact, *site], key=lambda v: (_naive(v.at), v.location))
    # links
    for key, lead in links.items():
        comps: list[Component] = []
        tie = ties.get(key)
        if tie is not None and tie.group_id is not None and tie.group_id in glabel:
            lead.group = glabel[tie.group_id]
            lead.group_basis = tie.basis
            comps.append(("tied to a group", LINK_TIED, f"opens {lead.group}: {tie.reason}"))
        elif tie is not None and tie.conflicts:
            comps.append(("tie conflict", 0.0, "devices tie it to several groups with equal strength: "
                          + ", ".join(glabel.get(c["group_id"], "?") for c in tie.conflicts)))
        lead.joined = joined.get(key, []) if lead.group else []
        if lead.joined:
            comps.append(("members joined through it", min(JOINED_CAP, JOINED_EACH * len(lead.joined)),
                          f"{len(lead.joined)} member(s) joined {lead.group} through this link"))
        lead.capture_files = len(link_files[key])
        if lead.pages:
            comps.append(("recurs across pages", min(PAGE_CAP, PAGE_EACH * len(lead.pages)),
                          f"on {len(lead.pages)} captured page(s)"))
        if lead.capture_files:
            comps.append(("recurs across capture files", min(FILE_CAP, FILE_EACH * lead.capture_files),
                          f"in {lead.capture_files} capture file(s)"))
        flagged = [pid for pid in lead.pages if pages[pid].known]
        if flagged:
            comps.append(("on pages holding known material", min(KNOWN_PAGE_CAP, KNOWN_PAGE_EACH * len(flagged)),
                          f"{len(flagged)} page(s) carrying it hold known material"))
        if kw:
            texts = [*link_contexts[key], *(pages[pid].title for pid in lead.pages)]
            comps += _keyword_component(_keyword_hits(kw, texts), "page titles and link contexts")
        seen_loc: set[str] = set()
        for v in [*link_visits.get(key, []), *(v for pid in lead.pages for v in pages[pid].visits)]:
            if v.location not in seen_loc:
                seen_loc.add(v.location)
                lead.visits.append(v)
        lead.visits.sort(key=lambda v: (_naive(v.at), v.location))
        comps += _visit_component(lead.visits)
        if lead.first_seen is not None:
            days = ((lead.last_seen or lead.first_seen) - lead.first_seen).days
            comps.append(("seen", 0.0, f"first seen {iso(lead.first_seen)}, last seen {iso(lead.last_seen)} "
                                       f"({days} day(s)); {lead.sightings} sighting(s)"))
        lead.components = comps
        lead.score = round(sum(c[1] for c in comps), 2)
    # pages
    for page in pages.values():
        comps = []
        if page.known:
            n = len({k.sha256 for k in page.known})
            lists = sorted({f"{k.hashset or '?'}/{k.category or '-'}" for k in page.known})
            comps.append(("known material", min(KNOWN_CAP, KNOWN_FIRST + KNOWN_MORE * (n - 1)),
                          f"{n} image(s) on the page match known material ({', '.join(lists)})"))
        if page.links:
            comps.append(("invite links", min(LINK_ON_PAGE_CAP, LINK_ON_PAGE * len(page.links)),
                          f"{len(page.links)} invite link(s) on the page"))
        tied = sorted({g for k in page.links if (g := links[k].group) is not None})
        if tied:
            comps.append(("links to groups in the case", min(TIED_ON_PAGE_CAP, TIED_ON_PAGE * len(tied)),
                          "links open " + ", ".join(tied)))
        if kw:
            comps += _keyword_component(_keyword_hits(kw, [page.title, *page_contexts[page.page_id]]),
                                        "the title and indicator contexts")
        comps += _visit_component(page.visits)
        page.components = comps
        page.score = round(sum(c[1] for c in comps), 2)
    ranked_pages = sorted(pages.values(), key=lambda p: (-p.score, _naive(p.captured_at), p.page_id))
    ranked_links = sorted(links.values(), key=lambda x: (-x.score, _naive(x.first_seen), x.platform, x.code))
    return LeadsReport(ranked_pages, ranked_links, kw)


def _naive(dt: datetime | None) -> datetime:
    return datetime.max if dt is None else dt.replace(tzinfo=None)


def lead_story(case: Any, report: LeadsReport | None = None) -> list[Story]:
    """For every link tied to a group in the case, in rank order: the pages that advertised it, the group it
    opens and who joined through it (person labels, join times)."""
    rep = report or rank_leads(case)
    by_id = {p.page_id: p for p in rep.pages}
    with case.engine.connect() as con:
        names: dict[str, list[str]] = {}
        for r in con.execute(select(S.groups.c.label, S.groups.c.detail)):
            d = r.detail if isinstance(r.detail, dict) else {}
            names[r.label] = [n["name"] for n in d.get("names", []) if isinstance(n, dict) and n.get("name")]
    out: list[Story] = []
    for lead in rep.links:
        if lead.group is None:
            continue
        pages = [{"uri": by_id[p].uri, "title": by_id[p].title, "captured_at": iso(by_id[p].captured_at),
                  "source": by_id[p].source, "location": by_id[p].location, "flagged": by_id[p].flagged}
                 for p in lead.pages if p in by_id]
        out.append(Story(lead.platform, lead.code, lead.url, lead.score, pages, lead.group,
                         names.get(lead.group, []), lead.group_basis,
                         [{"person": who, "at": iso(at)} for who, at in lead.joined],
                         [v.to_dict() for v in lead.visits]))
    return out


def leads_to_dict(report: LeadsReport, limit: int | None = None) -> dict[str, Any]:
    """A JSON-ready form of the report (for ``ringtrace leads --json``)."""
    def comps(cs: list[Component]) -> list[dict[str, Any]]:
        return [{"name": n, "points": p, "reason": r} for n, p, r in cs]

    return {
        "pages": [{"page_id": p.page_id, "uri": p.uri, "title": p.title, "source": p.source,
                   "location": p.location, "captured_at": iso(p.captured_at), "score": p.score,
                   "flagged": p.flagged, "components": comps(p.components),
                   "known": [k.__dict__ for k in p.known], "links": [list(k) for k in p.links],
                   "visits": [v.to_dict() for v in p.visits]}
                  for p in report.pages[:limit]],
        "links": [{"platform": x.platform, "code": x.code, "url": x.url, "score": x.score, "group": x.group,
                   "group_basis": x.group_basis, "pages": x.pages, "capture_files": x.capture_files,
                   "sightings": x.sightings, "first_seen": iso(x.first_seen), "last_seen": iso(x.last_seen),
                   "joined": [{"person": w, "at": iso(a)} for w, a in x.joined],
                   "visits": [v.to_dict() for v in x.visits],
                   "components": comps(x.components)} for x in report.links[:limit]],
        "keywords": [{"term": t, "weight": w} for t, w in report.keywords],
    }


__all__ = ["KeywordError", "LeadsReport", "LinkLead", "PageLead", "Story", "Visit", "device_owner_persons",
           "lead_story", "leads_to_dict", "load_keywords", "page_media", "parse_keywords", "rank_leads"]

"""Leads: pages holding known material flagged, pages and links ranked with explainable components, keyword
weights, stories; and the whole chain on the synthetic operation against its ground truth."""

from __future__ import annotations

import hashlib
import io
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

import ringtrace
from ringtrace.analysis.leads import KeywordError, lead_story, leads_to_dict, load_keywords, parse_keywords, rank_leads
from ringtrace.case import Case
from ringtrace.indicators.capture import MAX_RESOURCES, page_resources
from ringtrace.matching.sets import import_hashset
from ringtrace.store import schema as S
from ringtrace.synth.formats.captures import LinkSpec, PageSpec, write_captures

CODE_A = "LeadsTestCodeAaaaaaaa1"
CODE_B = "LeadsTestCodeBbbbbbbb2"


def noise_png(seed: int) -> bytes:
    """A benign image of random noise: images of different seeds are far apart for every hash."""
    arr = np.random.default_rng(seed).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr, "RGB").save(buf, format="PNG")
    return buf.getvalue()


KNOWN = noise_png(1)
OTHER = noise_png(2)
T0 = datetime(2025, 5, 1, 10, 0, tzinfo=UTC)


def _page(i: int, links: list[str], images: list[bytes], title: str) -> PageSpec:
    return PageSpec(uri=f"http://board{i}.example/thread/{i}", captured_at=T0 + timedelta(hours=i), title=title,
                    links=[LinkSpec("whatsapp", c, "https") for c in links], images=images)


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> Case:
    root = tmp_path_factory.mktemp("leads")
    # write_captures deals pages round-robin: warc, mhtml, saved html, ache, text, then warc, mhtml ...
    pages = [
        _page(0, [CODE_A], [KNOWN], "Tulip exchange"),  # warc, img src -> a known image record
        _page(1, [CODE_A], [KNOWN], "mhtml with a known part"),
        _page(2, [CODE_A], [KNOWN], "saved page with its _files folder"),
        _page(3, [CODE_B], [], "crawler record"),
        _page(4, [CODE_B], [], "paste"),
        _page(5, [CODE_B], [OTHER], "warc with an unrelated image"),
        _page(6, [], [OTHER], "mhtml with an unrelated part"),
    ]
    write_captures(pages, root / "captures", seed=11)
    hl = root / "list.txt"
    hl.write_text(f"# test list\n{hashlib.sha256(KNOWN).hexdigest()}\n", encoding="utf-8")
    case = Case.init(root / "case", actor="tester")
    ringtrace.ingest(case, root / "captures", exhibit="EX-CAP")
    import_hashset(case, hl, name="test-list")
    ringtrace.run(case)
    return case


def test_pages_holding_known_material_are_flagged(captured: Case) -> None:
    rep = rank_leads(captured)
    by_uri = {p.uri: p for p in rep.pages}
    flagged = {p.uri for p in rep.pages if p.flagged}
    assert flagged == {f"http://board{i}.example/thread/{i}" for i in (0, 1, 2)}
    warc = by_uri["http://board0.example/thread/0"]
    assert warc.location.startswith("crawl-000.warc.gz")
    assert [k.sha256 for k in warc.known] == [hashlib.sha256(KNOWN).hexdigest()]
    assert "#" in warc.known[0].relpath and warc.known[0].hashset == "test-list"
    assert by_uri["http://board2.example/thread/2"].known[0].relpath.startswith("saved-page-000_files/")
    # an unrelated image on a page (WARC record, MHTML part) does not flag it
    assert not by_uri["http://board5.example/thread/5"].flagged
    assert not by_uri["http://board6.example/thread/6"].flagged
    with captured.engine.connect() as con:
        origins = {r.origin_uri for r in con.execute(select(S.source_files.c.origin_uri)
                                                    .where(S.source_files.c.embedded.is_(True)))}
        res = {r.uri: r.resources for r in con.execute(select(S.pages.c.uri, S.pages.c.resources))}
    assert "http://board0.example/thread/0/img0.png" in origins
    assert res["http://board0.example/thread/0"] == ["http://board0.example/thread/0/img0.png"]


def test_ranking_components(captured: Case) -> None:
    rep = rank_leads(captured)
    assert {p.uri for p in rep.pages[:3]} == {f"http://board{i}.example/thread/{i}" for i in (0, 1, 2)}
    top = rep.pages[0]
    comp = {n: (pts, why) for n, pts, why in top.components}
    assert comp["known material"][0] == 40.0 and "test-list" in comp["known material"][1]
    assert comp["invite links"] == (5.0, "1 invite link(s) on the page")
    assert top.score == sum(pts for _, pts, _ in top.components)
    links = {x.code: x for x in rep.links}
    a, b = links[CODE_A], links[CODE_B]
    assert rep.links[0].code == CODE_A  # on three pages, all holding known material
    ca = {n: pts for n, pts, _ in a.components}
    assert ca["recurs across pages"] == 9.0 and ca["recurs across capture files"] == 6.0
    assert ca["on pages holding known material"] == 40.0
    assert "tied to a group" not in ca  # no device in this case ties it
    assert a.first_seen == T0 and a.last_seen == T0 + timedelta(hours=1)  # a saved page carries no time
    assert len(b.pages) == 3 and "on pages holding known material" not in {n for n, _, _ in b.components}
    assert any(n == "seen" and "first seen" in why for n, _, why in a.components)
    doc = leads_to_dict(rep, limit=2)
    assert len(doc["pages"]) == 2 and json.dumps(doc)
    assert lead_story(captured, rep) == []  # nothing tied: no story to tell


def test_keyword_weights(captured: Case, tmp_path: Path) -> None:
    kw = tmp_path / "terms.txt"
    kw.write_text("# analyst's terms\ntulip\t7\nCrawler  Record\n\n", encoding="utf-8")
    assert load_keywords(kw) == [("crawler record", 5.0), ("tulip", 7.0)]
    rep = rank_leads(captured, kw)
    by_uri = {p.uri: p for p in rep.pages}
    tulip = {n: pts for n, pts, _ in by_uri["http://board0.example/thread/0"].components}
    assert tulip["keywords"] == 7.0
    assert {n: pts for n, pts, _ in by_uri["http://board3.example/thread/3"].components}["keywords"] == 5.0
    assert "keywords" not in {n for n, _, _ in by_uri["http://board1.example/thread/1"].components}
    plain = {p.uri: p.score for p in rank_leads(captured).pages}
    assert by_uri["http://board0.example/thread/0"].score == plain["http://board0.example/thread/0"] + 7.0
    links = {x.code: x for x in rep.links}
    assert {n: pts for n, pts, _ in links[CODE_A].components}["keywords"] == 7.0  # a page carrying it
    # a list given in code is normalised like a file
    rep2 = rank_leads(captured, [("TULIP", 2)])
    assert {n: pts for n, pts, _ in rep2.pages[0].components}.get("keywords") == 2.0


def test_bad_keyword_lists(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("ok\nterm\tlots\n", encoding="utf-8")
    with pytest.raises(KeywordError, match=r"bad\.txt: line 2: weight 'lots' is not a number"):
        load_keywords(bad)
    bad.write_bytes(b"caf\xe9\n")
    with pytest.raises(KeywordError, match="not UTF-8"):
        load_keywords(bad)
    with pytest.raises(KeywordError, match="cannot read"):
        load_keywords(tmp_path / "missing.txt")
    with pytest.raises(KeywordError, match="line 1: empty term"):
        parse_keywords(["\t3"])
    with pytest.raises(KeywordError, match="outside"):
        parse_keywords(["x\t1e9"])


def test_page_resources() -> None:
    doc = ('<html><head><base href="http://b.example/dir/"></head><body>'
           '<img src="a.png" srcset="a2.png 2x, /root.png 3x"><div style="background: url(\'bg.jpg\')"></div>'
           '<video poster="p.jpg"><source src="v.mp4"></video><img src="data:image/png;base64,AAAA">'
           '<img src="javascript:alert(1)"><img src="a.png"></body></html>')
    assert page_resources(doc, "http://page.example/x") == (
        "http://b.example/dir/a.png", "http://b.example/dir/a2.png", "http://b.example/root.png",
        "http://b.example/dir/bg.jpg", "http://b.example/dir/p.jpg", "http://b.example/dir/v.mp4")
    assert page_resources("<p>no images</p>", "http://x.example/") == ()
    many = "".join(f'<img src="i{i}.png">' for i in range(MAX_RESOURCES + 50))
    assert len(page_resources(many, "http://x.example/")) == MAX_RESOURCES
    assert page_resources('<img src="rel.png">', None) == ("rel.png",)


# ---- the synthetic operation ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def operation_case(tiny_operation: Path, tmp_path_factory: pytest.TempPathFactory) -> Case:
    from ringtrace.demo import ingest_operation

    case = Case.init(tmp_path_factory.mktemp("opcase") / "case", actor="tester")
    ingest_operation(case, tiny_operation)
    ringtrace.run(case)
    return case


def test_synthetic_operation_links_ties_and_flags(tiny_operation: Path, operation_case: Case) -> None:
    from ringtrace.dissemination.export import build_export
    from ringtrace.synth import captures_plan
    from ringtrace.synth.formats.captures import FORMATS
    from ringtrace.synth.world import build_world

    truth = json.loads((tiny_operation / "ground-truth.json").read_text(encoding="utf-8"))
    doc = build_export(operation_case)
    groups = {g["id"]: g for g in doc["groups"]}
    links = {(x["platform"], x["code"]): x for x in doc["invite_links"]}
    assert {(x["platform"], x["code"]) for x in truth["invite_links"]} <= set(links)
    truth_groups = {g["key"]: g for g in truth["groups"]}
    # the device evidence the store really holds: a message in the group, by one of its admins, with the link
    with operation_case.engine.connect() as con:
        posted: set[tuple[str, str]] = set()
        q = (select(S.messages.c.text, S.chats.c.key, S.accounts.c.value)
             .join(S.chats, S.chats.c.id == S.messages.c.chat_id)
             .join(S.accounts, S.accounts.c.id == S.messages.c.sender_id)
             .where(S.messages.c.text.like("%chat.whatsapp.com/%")))
        for text, key, sender in con.execute(q):
            posted.add((text.rsplit("/", 1)[1], key)) if sender in truth_groups.get(key, {}).get("admins", []) \
                else None
    checked = 0
    for t in truth["invite_links"]:
        got = links[(t["platform"], t["code"])]["group"]
        if got is not None:  # never a wrong group
            assert t["group_key"] is not None and t["group_key"] in groups[got]["identifiers"], t
        if t["group_observable"] and (t["code"], t["group_key"]) in posted:
            checked += 1
            assert got is not None and t["group_key"] in groups[got]["identifiers"], t
    assert checked >= 1, "the operation must hold admin-posted links"
    # pages that hold known images (rendered with their images: WARC, MHTML, saved HTML) are flagged
    world = build_world(truth["seed"], "tiny")
    pages, _ = captures_plan.plan_pages(world, random.Random(truth["seed"] + 17))
    with_images = {p.uri for i, p in enumerate(pages)
                   if p.images and FORMATS[i % len(FORMATS)] in ("warc", "mhtml", "html")}
    assert with_images, "the operation must hold pages with known images"
    rep = rank_leads(operation_case)
    assert {p.uri for p in rep.pages if p.flagged} == with_images
    stories = lead_story(operation_case, rep)
    assert stories and all(s.group for s in stories)
    assert any(s.joined for s in stories), "some member joined through an advertised link"
    for s in stories:
        assert all(j["person"].startswith("P") and j["at"] for j in s.joined)


def test_synthetic_operation_suspects_visit_in_the_lead_story(tiny_operation: Path, operation_case: Case) -> None:
    """The tiny operation's computer read a post whose code the devices tie to its group: the story of that link
    names the group and lists the suspect's own visits, with times, exhibit and file."""
    truth = json.loads((tiny_operation / "ground-truth.json").read_text(encoding="utf-8"))
    page, link = truth["browser_visits"]
    assert page["group_tied_by_evidence"], "seed 3 must hold a tied post"
    stories = lead_story(operation_case, rank_leads(operation_case))
    story = next(s for s in stories if s.code == page["code"])
    assert story.group is not None
    got = [(v["what"], v["url"], v["at"], v["source"]) for v in story.visits if v["source"] == "EX-PC1"]
    assert got == [(t["what"], t["url"], t["at"].replace("Z", "+00:00"), "EX-PC1") for t in (page, link)]
    assert all(v["location"].startswith(page["file"]) and len(v["persons"]) == 1 for v in story.visits
               if v["source"] == "EX-PC1")

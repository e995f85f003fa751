"""Browser traces: Firefox / Tor Browser places.sqlite and formhistory.sqlite, Chrome / Edge History. Recognised by
their tables, times converted from PRTime and WebKit, indicators with visit time and file/table/row; hostile
databases give named problems; through real intake a suspect's own visit to the onion page that advertised a
group shows in that group's lead story."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import ringtrace
from ringtrace.analysis.leads import lead_story, leads_to_dict, rank_leads
from ringtrace.case import Case
from ringtrace.indicators.extract import onion_v3_valid
from ringtrace.model import ChatRef, DeviceOwner, Group, Indicator, Participant, Problem, Prov, ReadOptions, Record
from ringtrace.sources import browsers
from ringtrace.sources.base import Candidate, FormatError, Unit, registry
from ringtrace.sources.browsers import _visits
from ringtrace.synth.formats.browsers import (
    Download,
    FormEntry,
    Visit,
    onion_url,
    write_chrome_history,
    write_firefox_places,
    write_formhistory,
)
from ringtrace.synth.formats.captures import LinkSpec, PageSpec, write_captures
from tests.analysis.helpers import add_source, wa, write

CODE = "BrowserLeadCodeAbcdef1"  # 22 characters, like a WhatsApp invite code
OTHER_CODE = "BrowserOtherCodeXyz987"
T = datetime(2025, 6, 3, 21, 15, 30, 123456, tzinfo=UTC)
OWNER = "+34612345678"  # an invented, valid Spanish mobile number


def _read(path: Path, fmt: str, options: ReadOptions | None = None) -> list[Record]:
    root = path.parent
    unit = Unit(root, path.name, fmt)
    return list(registry()[fmt]().read(unit, options or ReadOptions()))


def _claims(path: Path) -> dict[str, int]:
    cand = Candidate(path.parent, path.name, path.stat().st_size)
    return {name: cls().claim(cand) for name, cls in registry().items() if cls().claim(cand)}


def _inds(recs: list[Record]) -> list[Indicator]:
    return [r for r in recs if isinstance(r, Indicator)]


def _problems(recs: list[Record]) -> list[Problem]:
    return [r for r in recs if isinstance(r, Problem)]


def test_times() -> None:
    assert _visits.prtime(_visits.to_prtime(T)) == T
    assert _visits.webkit_time(_visits.to_webkit(T)) == T
    # WebKit's epoch is 1601: 11644473600 s before 1970
    assert _visits.to_webkit(T) - _visits.to_prtime(T) == 11_644_473_600 * 1_000_000
    assert _visits.prtime(0) is None and _visits.prtime(-5) is None and _visits.prtime("x") is None
    assert _visits.prtime(10**18) is None  # year > 2100: damaged, not a visit


def test_firefox_places_visits_and_downloads(tmp_path: Path) -> None:
    rng = random.Random(1)
    onion = onion_url(rng, "/board/thread/7")
    host = onion.split("/")[2]
    assert onion_v3_valid(host.removesuffix(".onion"))
    visits = [Visit("https://news.example/today", T, "News"), Visit(onion, T + timedelta(minutes=3), "Board"),
              Visit(f"https://chat.whatsapp.com/{CODE}", T + timedelta(minutes=4), "WhatsApp Group Invite"),
              Visit(onion, T + timedelta(days=1), "Board")]
    db = write_firefox_places(tmp_path / "profile.xyz" / "a-renamed-file", visits,
                              [Download("https://files.example/tulips.pdf", T + timedelta(minutes=9),
                                        "/home/user/Downloads/tulips.pdf")],
                              unvisited=[Visit(f"https://t.me/+{OTHER_CODE}", T - timedelta(days=2))])
    claims = _claims(db)
    assert max(claims, key=lambda k: claims[k]) == "firefox-places"  # by its tables, not by its name
    recs = _read(db, "firefox-places")
    inds = _inds(recs)
    onions = [i for i in inds if i.kind == "onion"]
    assert [i.value for i in onions] == [host, host]
    assert [i.at for i in onions] == [T + timedelta(minutes=3), T + timedelta(days=1)]
    assert all(i.prov.file == "a-renamed-file" and i.prov.table == "moz_historyvisits" for i in onions)
    assert [i.prov.row for i in onions] == ["2", "4"]
    assert onions[0].page_uri == onion and "visited (Board)" in onions[0].context
    wa_ = [i for i in inds if i.kind == "whatsapp_invite"]
    assert [(i.code, i.at, i.prov.row) for i in wa_] == [(CODE, T + timedelta(minutes=4), "3")]
    tg = [i for i in inds if i.kind == "telegram_invite"]
    assert [(i.code, i.prov.table, i.at) for i in tg] == [(OTHER_CODE, "moz_places", T - timedelta(days=2))]
    dl = [i for i in inds if i.prov.table == "moz_annos"]
    assert dl and dl[0].at == T + timedelta(minutes=9) and "downloaded to file:///home/user" in dl[0].context
    assert not _problems(recs)


def test_chrome_history(tmp_path: Path) -> None:
    rng = random.Random(2)
    onion = onion_url(rng, "/post")
    visits = [Visit("https://weather.example/city/lakeside", T), Visit(onion, T + timedelta(seconds=1)),
              Visit(f"https://chat.whatsapp.com/invite/{CODE}", T + timedelta(hours=2))]
    db = write_chrome_history(tmp_path / "History", visits,
                              [Download(onion + "/flyer.png", T + timedelta(hours=3), "C:\\Users\\u\\flyer.png",
                                        tab_url=onion)])
    claims = _claims(db)
    assert max(claims, key=lambda k: claims[k]) == "chrome-history" and "firefox-places" not in claims
    inds = _inds(_read(db, "chrome-history"))
    visit_onions = [i for i in inds if i.kind == "onion" and i.prov.table == "visits"]
    assert [(i.at, i.prov.row) for i in visit_onions] == [(T + timedelta(seconds=1), "2")]
    assert [(i.code, i.at) for i in inds if i.kind == "whatsapp_invite"] == [(CODE, T + timedelta(hours=2))]
    dl = [i for i in inds if i.prov.table == "downloads" and i.kind == "url"]
    assert {i.value for i in dl} == {onion + "/flyer.png", onion}
    assert all(i.at == T + timedelta(hours=3) for i in dl)


def test_formhistory(tmp_path: Path) -> None:
    db = write_formhistory(tmp_path / "formhistory.sqlite", [
        FormEntry("email", "tulip.grower@mail.example", T, T + timedelta(days=1)),
        FormEntry("q", "lakeside market", T, T),
        FormEntry("phone", "+34 612 345 678", T + timedelta(hours=1), T + timedelta(hours=1))])
    assert max((c := _claims(db)), key=lambda k: c[k]) == "firefox-formhistory"
    inds = _inds(_read(db, "firefox-formhistory"))
    got = {(i.kind, i.value, i.prov.row) for i in inds}
    assert ("email", "tulip.grower@mail.example", "1") in got
    assert ("phone", "+34612345678", "3") in got
    assert all("typed into form field" in i.context for i in inds)


def test_other_databases_not_claimed(tmp_path: Path) -> None:
    db = tmp_path / "places.sqlite"  # the right name, the wrong tables
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, title TEXT)")
    con.commit()
    con.close()
    assert not {"firefox-places", "chrome-history", "firefox-formhistory"} & set(_claims(db))


# ---- hostile input -------------------------------------------------------------------------------------------


def test_truncated_database_is_a_named_error(tmp_path: Path) -> None:
    db = write_firefox_places(tmp_path / "places.sqlite",
                              [Visit(f"https://news.example/{i}", T + timedelta(seconds=i)) for i in range(3000)])
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])
    with pytest.raises(FormatError, match=r"places\.sqlite.*(malformed|truncated)"):
        _read(db, "firefox-places")


def test_damaged_rows_long_urls_bad_text_and_times(tmp_path: Path) -> None:
    db = write_chrome_history(tmp_path / "History", [Visit("https://news.example/a", T)])
    long_url = "https://news.example/" + "a" * 20_000 + f" https://chat.whatsapp.com/{CODE}"
    con = sqlite3.connect(db)
    con.execute("INSERT INTO urls (id, url, title, last_visit_time) VALUES (50, ?, '', 0)", (long_url,))
    con.execute("INSERT INTO urls (id, url, title, last_visit_time) VALUES (51, ?, '', 0)",
                (b"https://bad.example/\xff\xfe" + f"?j=https://chat.whatsapp.com/{OTHER_CODE}".encode(),))
    con.execute("INSERT INTO visits (url, visit_time) VALUES (50, 1), (51, ?), (51, ?)",
                (_visits.to_webkit(T), 9 * 10**18))
    con.commit()
    con.close()
    recs = _read(db, "chrome-history")
    reasons = [p.reason for p in _problems(recs)]
    assert any("cut to 8192" in r for r in reasons)
    assert any("not valid UTF-8" in r for r in reasons)
    assert any("out of range" in r for r in reasons)
    inds = _inds(recs)
    # the invite past the cut is not read; the one after the bad bytes is, with its time
    assert CODE not in {i.code for i in inds}
    assert [(i.code, i.at) for i in inds if i.code == OTHER_CODE] == [(OTHER_CODE, T), (OTHER_CODE, None)]
    assert all(len(i.page_uri or "") <= _visits.MAX_URL for i in inds)


def test_row_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_visits, "MAX_ROWS", 5)
    db = write_firefox_places(tmp_path / "places.sqlite",
                              [Visit(f"https://news.example/{i}", T + timedelta(seconds=i)) for i in range(9)])
    recs = _read(db, "firefox-places")
    assert any("more than 5 rows" in p.reason for p in _problems(recs))
    assert len([i for i in _inds(recs) if i.prov.table == "moz_historyvisits" and i.kind == "url"]) == 5


def test_missing_visits_table_is_a_named_error(tmp_path: Path) -> None:
    db = write_chrome_history(tmp_path / "History", [Visit("https://news.example/a", T)])
    con = sqlite3.connect(db)
    con.execute("DROP TABLE visits")
    con.commit()
    con.close()
    with pytest.raises(FormatError, match=r"History.*'visits' is missing"):
        _read(db, "chrome-history")


# ---- through intake, into a lead ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def visited_case(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Case, str]]:
    root = tmp_path_factory.mktemp("browsers")
    rng = random.Random(7)
    board = onion_url(rng, "/forum/thread/41")
    # the dark-web post that advertised the group, captured by investigators
    write_captures([PageSpec(uri=board, captured_at=T - timedelta(days=3), title="Tulip traders",
                             links=[LinkSpec("whatsapp", CODE, "https")])], root / "captures", seed=5)
    # the suspect's computer: Tor Browser visited the post, then opened the link; Chrome saw benign pages only
    pc = root / "pc"
    write_firefox_places(pc / "tor" / "profile.default" / "places.sqlite",
                         [Visit("https://news.example/today", T - timedelta(hours=1)),
                          Visit(board, T, "Tulip traders"),
                          Visit(f"https://chat.whatsapp.com/{CODE}", T + timedelta(minutes=2))])
    write_chrome_history(pc / "chrome" / "Default" / "History", [Visit("https://recipes.example/soup", T)])
    case = Case.init(root / "case", actor="tester")
    ringtrace.ingest(case, root / "captures", exhibit="EX-CAP")
    ringtrace.ingest(case, pc, exhibit="EX-004", owner=OWNER)
    # the suspect's phone: the group, its own invite code, the owner a member
    phone = add_source(case, "EX-003")
    chat = ChatRef("whatsapp", "group", "120363000000000001@g.us")
    prov = Prov("msgstore.db", "wa_group", "1")
    write(case, phone, [DeviceOwner(wa(OWNER), "test", prov),
                        Group(chat, "Tulip traders", T - timedelta(days=30), wa(OWNER), prov, invite_code=CODE),
                        Participant(chat, wa(OWNER), "admin", True, prov)])
    ringtrace.run(case)
    yield case, board


def test_intake_reads_browser_profiles(visited_case: tuple[Case, str]) -> None:
    case, board = visited_case
    from sqlalchemy import select

    from ringtrace.store import schema as S

    with case.engine.connect() as con:
        fmts = {r.relpath: r.format for r in con.execute(select(S.source_files.c.relpath, S.source_files.c.format))}
        owners = con.execute(select(S.device_owners.c.basis)).scalars().all()
    assert fmts["tor/profile.default/places.sqlite"] == "firefox-places"
    assert fmts["chrome/Default/History"] == "chrome-history"
    assert any("--owner" in b for b in owners)
    assert set(browsers.BROWSER_FORMATS) >= {"firefox-places", "chrome-history"}


def test_lead_story_shows_the_owners_visit(visited_case: tuple[Case, str]) -> None:
    case, board = visited_case
    rep = rank_leads(case)
    link = next(x for x in rep.links if x.code == CODE)
    assert link.group is not None
    assert [v.what for v in link.visits] == ["the page", "the link"]
    assert [v.at for v in link.visits] == [T, T + timedelta(minutes=2)]
    assert all(v.source == "EX-004" and len(v.persons) == 1 and v.persons[0].startswith("P") for v in link.visits)
    person = link.visits[0].persons[0]
    assert link.visits[0].url == board
    assert link.visits[0].location == "tor/profile.default/places.sqlite:moz_historyvisits:row 2"
    comp = next(c for c in link.components if c[0] == "visited by a device owner")
    assert comp[1] == 20.0 and f"visited by {person} on EX-004 at 2025-06-03T21:15:30" in comp[2]
    page = next(p for p in rep.pages if p.uri == board)
    assert [v.what for v in page.visits] == ["the page"]
    stories = lead_story(case, rep)
    story = next(s for s in stories if s.code == CODE)
    assert story.pages and story.pages[0]["uri"] == board
    assert [v["text"].split(" (")[0] for v in story.visits] == [
        f"the page visited by {person} on EX-004 at {story.visits[0]['at']}",
        f"the link visited by {person} on EX-004 at {story.visits[1]['at']}"]
    doc = leads_to_dict(rep)
    assert any(x["visits"] for x in doc["links"]) and any(p["visits"] for p in doc["pages"])
    # benign Chrome visits tie to no lead
    assert not any("recipes.example" in (v.url or "") for x in rep.links for v in x.visits)


def test_cli_leads_story_prints_the_visits(visited_case: tuple[Case, str]) -> None:
    """``ringtrace leads`` shows under the story line who visited the post and the link, when and from where."""
    from typer.testing import CliRunner

    from ringtrace.cli import app

    case, board = visited_case
    link = next(x for x in rank_leads(case).links if x.code == CODE)
    person = link.visits[0].persons[0]
    res = CliRunner(env={"COLUMNS": "400"}).invoke(app, ["leads", str(case.path)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    story = next(i for i, line in enumerate(lines) if "joined through it" in line and CODE in line)
    assert lines[story + 1].startswith(f"  visit: {board}: the page visited by {person} on EX-004 at "
                                       "2025-06-03T21:15:30")
    assert "tor/profile.default/places.sqlite:moz_historyvisits:row 2" in lines[story + 1]
    assert lines[story + 2].startswith(f"  visit: https://chat.whatsapp.com/{CODE}: the link visited by {person}")


@pytest.mark.parametrize("fmt", ["firefox-places", "firefox-formhistory", "chrome-history"])
def test_damaged_copies_never_crash_the_reader(fmt: str, tmp_path: Path) -> None:
    """Truncated, bit-flipped, spliced and zeroed copies: records or named problems, never a crash."""
    rng = random.Random(f"browsers-{fmt}")
    visits = [Visit(onion_url(rng, f"/t/{i}") if i % 3 else f"https://chat.whatsapp.com/{CODE}",
                    T + timedelta(minutes=i), f"title {i}") for i in range(200)]
    src = tmp_path / "src.db"
    if fmt == "firefox-places":
        write_firefox_places(src, visits, [Download("https://files.example/a.pdf", T, "/tmp/a.pdf")])
    elif fmt == "chrome-history":
        write_chrome_history(src, visits, [Download("https://files.example/a.pdf", T, "/tmp/a.pdf")])
    else:
        write_formhistory(src, [FormEntry("f", v.url, v.at, v.at) for v in visits])
    original = src.read_bytes()
    crashes: list[str] = []
    for i in range(25):
        data = bytearray(original)
        kind = i % 4
        if kind == 0:
            data = data[: rng.randrange(100, len(data))]
        elif kind == 1:
            for _ in range(rng.randrange(1, 40)):
                data[rng.randrange(100, len(data))] ^= 1 << rng.randrange(8)
        elif kind == 2:
            at_ = rng.randrange(100, len(data))
            data = data[:at_] + bytearray(rng.randbytes(rng.randrange(1, 2000))) + data[at_:]
        else:
            at_ = rng.randrange(100, len(data))
            data[at_:at_ + 4096] = b"\x00" * len(data[at_:at_ + 4096])
        db = tmp_path / f"m{i}" / "db.sqlite"
        db.parent.mkdir()
        db.write_bytes(bytes(data))
        try:
            for rec in _read(db, fmt, ReadOptions(owner=OWNER)):
                if isinstance(rec, Problem):
                    assert rec.file == "db.sqlite" and rec.reason
        except FormatError as e:
            assert "db.sqlite" in str(e), str(e)
        except Exception as e:  # noqa: BLE001
            crashes.append(f"mutation {i}: {type(e).__name__}: {e}")
    assert not crashes, "\n".join(crashes)


def test_synthetic_world_invites_are_read_back(tmp_path: Path) -> None:
    from ringtrace.synth.formats.browsers import sample_visits, world_invite_visits
    from ringtrace.synth.world import build_world

    world = build_world(3, "tiny")
    rng = random.Random(3)
    invites = world_invite_visits(world, rng, n=3)
    assert invites
    codes = {c for g in world.groups.values() for _, c in g.codes}
    visits = sample_visits(rng, T, [v.url for v in invites], [onion_url(rng, "/x")])
    inds = _inds(_read(write_chrome_history(tmp_path / "History", visits), "chrome-history"))
    got = {i.code for i in inds if i.kind in ("whatsapp_invite", "telegram_invite")}
    assert got == {v.url.rsplit("/", 1)[1].lstrip("+") for v in invites} and got <= codes
    assert len([i for i in inds if i.kind == "onion"]) == 1

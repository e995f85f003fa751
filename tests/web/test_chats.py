"""The chat viewer: folded messages in order, escaped text, hash cards, provenance, cursor paging, date and find."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from tests.web.helpers import PASSWORD, LoggedIn, case_audit, fast_hasher, login


def _group_with_messages(web_case: Path) -> tuple[str, int]:
    from ringtrace.case import Case
    from ringtrace.store import schema as S

    with Case.open(web_case) as case, case.engine.connect() as con:
        gc, g, m = S.group_chats, S.groups, S.messages
        row = con.execute(select(g.c.label, func.count(m.c.id)).join(gc, gc.c.group_id == g.c.id)
                          .join(m, m.c.chat_id == gc.c.chat_id).group_by(g.c.label)
                          .order_by(func.count(m.c.id).desc())).first()
    assert row is not None
    return str(row[0]), int(row[1])


def test_chat_renders_in_order_with_provenance(logged_in: LoggedIn, web_case: Path) -> None:
    label, _ = _group_with_messages(web_case)
    c = logged_in("ivy")
    assert f'href="/cases/1/chats/{label}"' in c.get(f"/cases/1/groups/{label}").text
    r = c.get(f"/cases/1/chats/{label}")
    assert r.status_code == 200
    html = r.text
    assert 'class="msg"' in html and " UTC" in html
    assert "seen on EX-" in html  # devices after folding
    assert re.search(r"EX-\d+: [^<]+", html)  # provenance: exhibit and file
    times = re.findall(r'<li class="msg" id="m\d+">\s*<div class="head">.*?<span class="time">([^<]+) UTC', html,
                       re.S)
    assert times and times == sorted(times)
    assert "<script" not in html
    views = case_audit(web_case, "web.view")
    assert views[-1]["detail"]["page"] == "chat" and views[-1]["detail"]["subject"] == label


def test_chat_text_is_escaped(logged_in: LoggedIn, web_case: Path) -> None:
    from ringtrace.case import Case
    from ringtrace.store import schema as S

    label, _ = _group_with_messages(web_case)
    hostile = "<script>alert('chat')</script>"
    with Case.open(web_case) as case, case.begin() as con:
        gc, g = S.group_chats, S.groups
        chat_id = con.execute(select(gc.c.chat_id).join(g, g.c.id == gc.c.group_id)
                              .where(g.c.label == label)).scalar()
        first = con.execute(select(S.messages.c.id).where(S.messages.c.chat_id == chat_id)
                            .order_by(S.messages.c.at, S.messages.c.id)).scalar()
        old = con.execute(select(S.messages.c.text).where(S.messages.c.id == first)).scalar()
        con.execute(S.messages.update().where(S.messages.c.id == first).values(text=hostile))
    try:
        html = logged_in("ivy").get(f"/cases/1/chats/{label}?find=alert").text
        assert "&lt;script&gt;alert(&#39;chat&#39;)&lt;/script&gt;" in html
        assert "<script>alert" not in html
    finally:
        with Case.open(web_case) as case, case.begin() as con:
            con.execute(S.messages.update().where(S.messages.c.id == first).values(text=old))


def test_chat_cursor_paging_covers_every_message_once(tmp_path: Path, web_case: Path) -> None:
    from fastapi.testclient import TestClient

    from ringtrace.web.app import create_app
    from ringtrace.web.settings import WebSettings

    label, raw = _group_with_messages(web_case)
    a = create_app(WebSettings(home=tmp_path / "h", secure_cookies=False, page_size=4), hasher=fast_hasher())
    a.state.web.store.add_user("ivy", PASSWORD, "investigator")
    a.state.web.store.grant("ivy", web_case, "t")
    seen: list[str] = []
    with TestClient(a) as c:
        login(c, "ivy")
        url: str | None = f"/cases/1/chats/{label}"
        pages = 0
        forward: list[list[str]] = []
        while url and pages < 500:
            html = c.get(url).text
            ids = re.findall(r'<li class="msg" id="(m\d+)">', html)
            assert len(ids) <= 4
            seen += ids
            forward.append(ids)
            m = re.search(r'<a rel="next" href="([^"]+)"', html)
            url = m.group(1).replace("&amp;", "&") if m else None
            pages += 1
        assert pages > 1
        # and back again: "earlier" from the last page gives the same pages in reverse, down to the first
        backward: list[list[str]] = []
        while html and len(backward) < 500:
            m = re.search(r'<a rel="prev" href="([^"]+)"', html)
            if not m:
                break
            html = c.get(m.group(1).replace("&amp;", "&")).text
            backward.append(re.findall(r'<li class="msg" id="(m\d+)">', html))
        assert backward == forward[-2::-1]
        # the whole chat in one page (page_size large) gives the same messages in the same order
        a2 = create_app(WebSettings(home=tmp_path / "h2", secure_cookies=False, page_size=100_000),
                        hasher=fast_hasher())
        a2.state.web.store.add_user("ivy", PASSWORD, "investigator")
        a2.state.web.store.grant("ivy", web_case, "t")
        with TestClient(a2) as c2:
            login(c2, "ivy")
            whole = re.findall(r'<li class="msg" id="(m\d+)">', c2.get(f"/cases/1/chats/{label}").text)
        a2.state.web.cases.close()
        a2.state.web.store.close()
    a.state.web.cases.close()
    a.state.web.store.close()
    assert seen == whole
    assert len(seen) == len(set(seen))
    assert 0 < len(seen) <= raw  # folding never adds messages


def test_chat_jump_to_date_and_find(logged_in: LoggedIn, web_case: Path) -> None:
    from ringtrace.case import Case
    from ringtrace.store import schema as S

    label, _ = _group_with_messages(web_case)
    with Case.open(web_case) as case, case.engine.connect() as con:
        gc, g = S.group_chats, S.groups
        chat_ids = select(gc.c.chat_id).join(g, g.c.id == gc.c.group_id).where(g.c.label == label)
        rows = con.execute(select(S.messages.c.at, S.messages.c.text).where(S.messages.c.chat_id.in_(chat_ids))
                           .order_by(S.messages.c.at)).all()
    last_day = rows[-1].at.strftime("%Y-%m-%d")
    c = logged_in("ivy")
    html = c.get(f"/cases/1/chats/{label}?date={last_day}").text
    times = re.findall(r'<span class="time">(\d{4}-\d\d-\d\d) ', html)
    assert times and all(t >= last_day for t in times)
    word = next(w for r in rows if r.text for w in r.text.split() if len(w) > 4 and w.isalpha())
    found = c.get(f"/cases/1/chats/{label}?find={word}").text
    texts = re.findall(r'<div class="text">([^<]*)</div>', found)
    assert texts and all(word.casefold() in t.casefold() for t in texts)
    assert 'class="event"' not in found  # find shows matching messages only
    # hostile or odd input is answered, never an error
    for q in ["?after=garbage", "?after=2030-01-01T00:00:00Z~x", "?date=2030-13-45", "?find=" + "x" * 5000,
              "?find=%00%ff"]:
        assert c.get(f"/cases/1/chats/{label}{q}").status_code == 200, q


def test_chat_refs_and_grants(logged_in: LoggedIn, case_facts: dict[str, str]) -> None:
    c = logged_in("ivy")
    assert c.get("/cases/1/chats/G99999").status_code == 404
    assert c.get("/cases/1/chats/nope").status_code == 404
    assert c.get("/cases/1/chats/c999999").status_code == 404
    assert logged_in("noel").get(f"/cases/1/chats/{case_facts['group']}").status_code == 404


def test_person_page_links_to_their_chats(logged_in: LoggedIn, web_case: Path) -> None:
    from ringtrace.case import Case
    from ringtrace.store import schema as S

    with Case.open(web_case) as case, case.engine.connect() as con:
        pa, p, m = S.person_accounts, S.persons, S.messages
        label = con.execute(select(p.c.label).join(pa, pa.c.person_id == p.c.id)
                            .join(m, m.c.sender_id == pa.c.account_id).limit(1)).scalar()
    html = logged_in("ivy").get(f"/cases/1/persons/{label}").text
    assert "Messages by chat" in html
    link = re.search(r'href="(/cases/1/chats/[^"]+)"', html)
    assert link
    chat = logged_in("ivy").get(link.group(1)).text
    assert f'href="/cases/1/persons/{label}"' in chat


def test_media_rows_link_to_the_chats_they_were_shared_in(logged_in: LoggedIn) -> None:
    c = logged_in("ivy")
    html = c.get("/cases/1/media?matched=1").text
    link = re.search(r'href="(/cases/1/chats/G\d+(?:\?date=\d{4}-\d\d-\d\d)?)"', html)
    assert link, "no chat link on the media page"
    chat = c.get(link.group(1))
    assert chat.status_code == 200 and 'class="card known"' in chat.text

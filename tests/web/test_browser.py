"""The web app in a real browser: Playwright driving Debian's chromium against a live server on loopback.

Playwright cannot download its own browser here, so the tests launch the system chromium by path; `.ci/run`
installs it. Every test also checks that the page asked nothing of any host but the app itself, and that no
JavaScript dialog ever opened (evidence planted with `<script>` and `onerror` must stay text).
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.web.helpers import HOSTILE, PASSWORD, fast_hasher

CHROMIUM = os.environ.get("RINGTRACE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="no Debian chromium (apt-get install chromium); .ci/run installs it")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")

# The flags the machine needs: no sandbox as root, and no background calls to the outside world.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Live:
    base: str
    cid: int
    facts: dict[str, str]


@pytest.fixture(scope="module")
def live(web_case: Path, case_facts: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    import uvicorn

    from ringtrace.web.app import create_app
    from ringtrace.web.settings import WebSettings

    app = create_app(WebSettings(home=tmp_path_factory.mktemp("browserhome") / "home", secure_cookies=False),
                     hasher=fast_hasher())
    st = app.state.web
    st.store.add_user("ivy", PASSWORD, "investigator")
    st.store.add_user("sam", PASSWORD, "supervisor")
    cid = st.store.grant("ivy", web_case, "test").id
    st.store.grant("sam", web_case, "test")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the web app did not start")
        time.sleep(0.05)
    try:
        yield Live(f"http://127.0.0.1:{port}", cid, case_facts)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        st.cases.close()
        st.store.close()


@dataclass
class Watch:
    """What a page did that it must not: console errors, uncaught exceptions, dialogs, requests elsewhere."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def assert_clean(self, expected: tuple[str, ...] = ()) -> None:
        assert not self.dialogs, f"a dialog opened (evidence executed): {self.dialogs}"
        errors = [e for e in self.errors if not any(x in e for x in expected)]
        assert not errors, f"console errors: {errors}"
        assert not self.outside, f"requests to other hosts: {self.outside}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, live: Live) -> Iterator[tuple[Any, Watch]]:
    ctx = browser.new_context(base_url=live.base)
    pg = ctx.new_page()
    w = Watch()
    pg.on("console", lambda m: w.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: w.errors.append(str(e)))

    def on_dialog(d: Any) -> None:
        w.dialogs.append(d.message)
        d.dismiss()

    pg.on("dialog", on_dialog)

    def route(r: Any) -> None:
        if r.request.url.startswith(live.base):
            r.continue_()
        else:
            w.outside.append(r.request.url)
            r.abort()

    pg.route("**/*", route)
    try:
        yield pg, w
    finally:
        ctx.close()


def _login(pg: Any, name: str) -> None:
    pg.goto("/login")
    pg.fill("input[name=username]", name)
    pg.fill("input[name=password]", PASSWORD)
    with pg.expect_navigation():
        pg.click("button[type=submit]")
    assert "/login" not in pg.url, pg.content()[:500]


def test_login_and_logout(page: tuple[Any, Watch], live: Live) -> None:
    pg, w = page
    pg.goto("/cases")
    assert "/login" in pg.url  # not logged in: sent to the login page
    _login(pg, "ivy")
    assert pg.locator("header .who").inner_text().startswith("ivy")
    pg.click("button:has-text('log out')")
    pg.wait_for_load_state()
    pg.goto("/cases")
    assert "/login" in pg.url
    w.assert_clean()


def test_wrong_password_is_refused(page: tuple[Any, Watch]) -> None:
    pg, w = page
    pg.goto("/login")
    pg.fill("input[name=username]", "ivy")
    pg.fill("input[name=password]", "not the password")
    pg.click("button[type=submit]")
    pg.wait_for_load_state()
    assert "/login" in pg.url or pg.locator("input[name=password]").count() == 1
    pg.goto("/cases")
    assert "/login" in pg.url
    w.assert_clean(expected=("status of 401",))  # the refused login answers 401, which chromium logs


def test_every_navigation_page_renders_without_errors_and_evidence_stays_text(page: tuple[Any, Watch],
                                                                              live: Live) -> None:
    pg, w = page
    _login(pg, "sam")  # a supervisor sees every page, the audit trail too
    pg.goto(f"/cases/{live.cid}")
    links = pg.locator("nav.side a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert len(hrefs) >= 6, hrefs
    extra = [f"/cases/{live.cid}/groups/{live.facts['group']}", f"/cases/{live.cid}/persons/{live.facts['person']}",
             f"/cases/{live.cid}/chats/{live.facts['group']}", f"/cases/{live.cid}/media/{live.facts['image']}"]
    shots = os.environ.get("RINGTRACE_SCREENSHOTS")  # a folder: keep a picture of every page to look at
    for i, href in enumerate([*hrefs, *extra]):
        resp = pg.goto(href)
        assert resp is not None and resp.status == 200, (href, resp and resp.status)
        assert pg.locator("main").count() == 1
        if shots:
            pg.screenshot(path=str(Path(shots) / f"{i:02d}{href.replace('/', '_')}.png"), full_page=True)
    # the planted markup is shown as text on the group page, and nothing ran
    pg.goto(f"/cases/{live.cid}/groups/{live.facts['group']}")
    assert "<script>alert('x')</script>" in pg.locator("main").inner_text()
    assert pg.locator("main img[src=x]").count() == 0
    w.assert_clean()


def test_a_preview_needs_a_reason_and_is_greyscale_and_blurred(page: tuple[Any, Watch], live: Live) -> None:
    from PIL import Image, ImageFilter

    pg, w = page
    _login(pg, "ivy")
    pg.goto(f"/cases/{live.cid}/media")
    form = pg.locator(f"form[action$='/media/{live.facts['image']}/preview']")
    assert form.count() == 1
    assert pg.locator("main img").count() == 0  # nothing is shown until asked for
    form.locator("button").click()  # no reason: the browser's own check keeps the form from going
    assert "/preview" not in pg.url
    form.locator("input[name=reason]").fill("checking the series link to EX-004")
    form.locator("button").click()
    pg.wait_for_load_state()
    img = pg.locator("figure.preview img")
    assert img.count() == 1
    src = img.get_attribute("src") or ""
    assert src.startswith("data:image/png;base64,")
    import base64

    pic = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
    assert max(pic.size) <= 160
    rgb = np.asarray(pic.convert("RGB"), dtype=np.int16)
    assert (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all(), "preview is not greyscale"
    grey = pic.convert("L")
    # a blurred picture changes little when blurred again; a sharp one changes a lot
    again = grey.filter(ImageFilter.GaussianBlur(2))
    diff = float(np.abs(np.asarray(grey, dtype=np.int16) - np.asarray(again, dtype=np.int16)).mean())
    assert diff < 6, f"preview does not look blurred (mean change {diff:.1f})"
    w.assert_clean()


def test_the_main_pages_work_from_the_keyboard(page: tuple[Any, Watch], live: Live) -> None:
    pg, w = page
    pg.goto("/login")
    # the user-name field has focus on arrival; Tab moves to the password; Enter submits
    assert pg.evaluate("document.activeElement.name") == "username"
    pg.keyboard.type("ivy")
    pg.keyboard.press("Tab")
    pg.keyboard.type(PASSWORD)
    with pg.expect_navigation():
        pg.keyboard.press("Enter")
    assert "/login" not in pg.url
    pg.goto(f"/cases/{live.cid}")
    # Tab through the page until the Groups link has focus, then follow it with Enter
    for _ in range(40):
        pg.keyboard.press("Tab")
        focused = pg.evaluate("document.activeElement && document.activeElement.getAttribute('href')")
        if focused == f"/cases/{live.cid}/groups":
            break
    else:
        pytest.fail("the Groups link cannot be reached with Tab")
    pg.keyboard.press("Enter")
    pg.wait_for_url(f"**/cases/{live.cid}/groups")
    w.assert_clean()


def test_hostile_strings_are_planted(web_case: Path) -> None:
    # guards the XSS checks above: they mean something only if the evidence really carries the markup
    from sqlalchemy import select

    from ringtrace.case import Case
    from ringtrace.store import schema as S

    with Case.open(web_case) as case, case.engine.connect() as con:
        names = [r[0] for r in con.execute(select(S.names_seen.c.name))]
    assert HOSTILE in names


# ---- graph, timeline chart, decisions (issue 11 items 3, 4, 6) ------------------------------------------------


def test_the_graph_draws_its_nodes(page: tuple[Any, Watch], live: Live) -> None:
    from ringtrace.web.routes.graph import VENDOR_JS

    if not VENDOR_JS.is_file():
        pytest.skip("cytoscape not vendored: run `make vendor`")
    pg, w = page
    _login(pg, "ivy")
    pg.goto(f"/cases/{live.cid}/graph")
    pg.wait_for_selector("#graph:not([data-drawn-nodes='0'])", state="attached", timeout=20_000)
    expected = pg.evaluate(f"fetch('/cases/{live.cid}/graph.json').then(r => r.json())"
                           ".then(g => [g.nodes.length, g.edges.length])")
    drawn = int(pg.locator("#graph").get_attribute("data-drawn-nodes") or 0)
    assert drawn == expected[0] > 0
    assert pg.evaluate("window.cy.nodes().length") == expected[0]
    assert pg.evaluate("window.cy.edges().length") == expected[1]
    # the nodes are really on the canvas: some pixels of it are not the white background
    painted = pg.evaluate("""() => { const cs = [...document.querySelectorAll('#graph canvas')];
        return cs.some(c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          for (let i = 3; i < d.length; i += 4 * 97) { if (d[i] > 0) return true; } return false; }); }""")
    assert painted
    shots = os.environ.get("RINGTRACE_SCREENSHOTS")
    if shots:
        pg.screenshot(path=str(Path(shots) / "graph-drawn.png"), full_page=False)
    # click-through: tapping a group node opens its page
    gid = live.facts["group"]
    pos = pg.evaluate(f"(() => {{ const n = window.cy.getElementById('{gid}'); window.cy.center(n); "
                      "return n.renderedPosition(); })()")
    box = pg.locator("#graph").bounding_box()
    assert box is not None
    with pg.expect_navigation():
        pg.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])
    assert pg.url.endswith(f"/cases/{live.cid}/groups/{gid}")
    w.assert_clean()


def test_the_timeline_chart_zooms_into_a_range(page: tuple[Any, Watch], live: Live) -> None:
    pg, w = page
    _login(pg, "ivy")
    pg.goto(f"/cases/{live.cid}/timeline")
    pg.wait_for_selector("#tl-chart svg rect[data-day]", state="attached", timeout=10_000)
    box = pg.locator("#tl-chart svg").bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    pg.mouse.move(box["x"] + 40, y)
    pg.mouse.down()
    pg.mouse.move(box["x"] + box["width"] / 2, y)
    with pg.expect_navigation():
        pg.mouse.up()
    assert "since=" in pg.url and "until=" in pg.url
    since = pg.locator("input[name=since]").input_value()
    until = pg.locator("input[name=until]").input_value()
    assert since and until and since <= until
    days = [d for d in pg.locator("table.grid tbody tr td:first-child").all_inner_texts() if d[:1].isdigit()]
    assert days and all(since <= d[:10] <= until for d in days)
    w.assert_clean()


@contextmanager
def _serve(case_path: Path, home: Path, **settings: Any) -> Iterator[tuple[str, Any]]:
    import uvicorn

    from ringtrace.web.app import create_app
    from ringtrace.web.settings import WebSettings

    app = create_app(WebSettings(home=home, secure_cookies=False, **settings), hasher=fast_hasher())
    st = app.state.web
    st.store.add_user("ivy", PASSWORD, "investigator")
    st.store.add_user("sam", PASSWORD, "supervisor")
    st.store.grant("ivy", case_path, "test")
    st.store.grant("sam", case_path, "test")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the web app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        for j in list(st.jobs._jobs):
            st.jobs.wait(j, 120)
        st.cases.close()
        st.store.close()


def test_an_alias_made_in_the_ui_changes_the_suspects_page(browser: Any, web_case: Path,
                                                            tmp_path: Path) -> None:
    from sqlalchemy import select

    from ringtrace.case import Case
    from ringtrace.store import schema as S

    case_path = tmp_path / "case"
    shutil.copytree(web_case, case_path)  # this test changes its case: a copy of the shared one
    with Case.open(case_path) as case, case.engine.connect() as con:
        rows = con.execute(select(S.persons.c.label, S.accounts.c.platform, S.accounts.c.kind, S.accounts.c.value)
                           .join(S.person_accounts, S.person_accounts.c.person_id == S.persons.c.id)
                           .join(S.accounts, S.accounts.c.id == S.person_accounts.c.account_id)
                           .order_by(S.persons.c.label, S.accounts.c.id)).all()
    acct: dict[str, str] = {}
    for r in rows:
        acct.setdefault(r.label, f"{r.platform}:{r.kind}:{r.value}")
    a, b = sorted(acct)[-2:]
    with _serve(case_path, tmp_path / "home") as (base, _app):
        ctx = browser.new_context(base_url=base)
        pg = ctx.new_page()
        w = Watch()
        pg.on("console", lambda m: w.errors.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: w.errors.append(str(e)))
        pg.on("dialog", lambda d: (w.dialogs.append(d.message), d.dismiss()))

        def route(r: Any) -> None:
            if r.request.url.startswith(base):
                r.continue_()
            else:
                w.outside.append(r.request.url)
                r.abort()

        pg.route("**/*", route)
        try:
            _login(pg, "ivy")
            pg.goto("/cases/1/suspects")
            before = set(pg.locator("main a[href^='/cases/1/persons/']").all_inner_texts())
            assert {a, b} <= before
            pg.goto("/cases/1/decisions")
            pg.fill("form[action$='/decisions/alias'] input[name=a]", acct[a])
            pg.fill("form[action$='/decisions/alias'] input[name=b]", acct[b])
            pg.fill("form[action$='/decisions/alias'] input[name=reason]", "same phone on both devices")
            with pg.expect_navigation():
                pg.click("form[action$='/decisions/alias'] button[type=submit]")
            assert "/cases/1/jobs/" in pg.url
            # the page polls the job's JSON until the run ends
            pg.wait_for_selector("#job[data-state=done]", state="attached", timeout=120_000)
            assert pg.locator("#job-state").inner_text() == "done"
            pg.goto("/cases/1/suspects")
            after = set(pg.locator("main a[href^='/cases/1/persons/']").all_inner_texts())
            assert len(after) == len(before) - 1 and len({a, b} & after) == 1
            w.assert_clean()
        finally:
            ctx.close()


# ---- search, chat paging, decisions on the person page, hostile links, keyboard (issue 11 items 1, 2, 6) --------


def _shot(pg: Any, name: str) -> None:
    shots = os.environ.get("RINGTRACE_SCREENSHOTS")
    if shots:
        pg.screenshot(path=str(Path(shots) / f"{name}.png"), full_page=True)


@contextmanager
def _watched(browser: Any, base: str) -> Iterator[tuple[Any, Watch]]:
    """A page on a server of the test's own, watched like the ``page`` fixture's."""
    ctx = browser.new_context(base_url=base)
    pg = ctx.new_page()
    w = Watch()
    pg.on("console", lambda m: w.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: w.errors.append(str(e)))
    pg.on("dialog", lambda d: (w.dialogs.append(d.message), d.dismiss()))

    def route(r: Any) -> None:
        if r.request.url.startswith(base):
            r.continue_()
        else:
            w.outside.append(r.request.url)
            r.abort()

    pg.route("**/*", route)
    try:
        yield pg, w
    finally:
        ctx.close()


def _a_phone(case_path: Path) -> tuple[str, str]:
    from sqlalchemy import select

    from ringtrace.case import Case
    from ringtrace.store import schema as S

    with Case.open(case_path) as case, case.engine.connect() as con:
        a, pa, p = S.accounts, S.person_accounts, S.persons
        row = con.execute(select(a.c.value, p.c.label).join(pa, pa.c.account_id == a.c.id)
                          .join(p, p.c.id == pa.c.person_id).where(a.c.kind == "phone", a.c.value.like("+34%"))
                          .order_by(a.c.value)).first()
    assert row is not None, "the tiny operation has a Spanish number"
    return str(row[0]), str(row[1])


def test_search_finds_a_person_from_a_number_written_three_ways(page: tuple[Any, Watch], live: Live,
                                                                web_case: Path) -> None:
    pg, w = page
    e164, label = _a_phone(web_case)
    d = e164[1:]  # 34 and nine digits
    forms = [f"+{d[:2]} {d[2:5]} {d[5:8]} {d[8:]}", f"00{d}", f"({d[:2]}) {d[2:5]}-{d[5:8]}-{d[8:]}"]
    _login(pg, "ivy")
    for i, form in enumerate(forms):
        pg.goto(f"/cases/{live.cid}")
        box = pg.locator("nav.side input[name=q]")
        box.fill(form)
        with pg.expect_navigation():
            box.press("Enter")
        assert "/search?q=" in pg.url
        assert f"read as the phone number {e164}" in pg.locator("main").inner_text()
        hit = pg.locator(f"main a[href='/cases/{live.cid}/persons/{label}']")
        assert hit.count() >= 1, (form, pg.locator("main").inner_text()[:1000])
        if i == 0:
            _shot(pg, "search-phone")
    hit.first.click()
    pg.wait_for_url(f"**/persons/{label}")
    w.assert_clean()


def _chattiest_group(case_path: Path) -> tuple[str, list[str]]:
    from sqlalchemy import func, select

    from ringtrace.case import Case
    from ringtrace.store import schema as S

    with Case.open(case_path) as case, case.engine.connect() as con:
        gc, g, m = S.group_chats, S.groups, S.messages
        label = con.execute(select(g.c.label).join(gc, gc.c.group_id == g.c.id).join(m, m.c.chat_id == gc.c.chat_id)
                            .group_by(g.c.label).order_by(func.count(m.c.id).desc())).scalar()
        days = con.execute(select(func.date(m.c.at)).join(gc, gc.c.chat_id == m.c.chat_id)
                           .join(g, g.c.id == gc.c.group_id).where(g.c.label == label).distinct()
                           .order_by(func.date(m.c.at))).scalars().all()
    return str(label), [str(x) for x in days]


def test_the_chat_viewer_pages_through_a_group(browser: Any, web_case: Path, tmp_path: Path) -> None:
    label, days = _chattiest_group(web_case)
    assert len(days) > 1
    with _serve(web_case, tmp_path / "home", page_size=5) as (base, _app), _watched(browser, base) as (pg, w):
        _login(pg, "ivy")
        pg.goto(f"/cases/1/groups/{label}")
        with pg.expect_navigation():
            pg.click("main a:has-text('Read the chat')")
        ids = lambda: pg.locator("ol.chat li.msg").evaluate_all("els => els.map(e => e.id)")  # noqa: E731
        first = ids()
        assert 0 < len(first) <= 5
        assert pg.locator("a[rel=prev]").count() == 0  # the first page has nothing earlier
        with pg.expect_navigation():
            pg.click("a[rel=next]")
        second = ids()
        assert second and not set(second) & set(first)
        times = pg.locator("ol.chat li.msg .time").all_inner_texts()
        assert times == sorted(times)
        _shot(pg, "chat-page-2")
        with pg.expect_navigation():
            pg.click("a[rel=prev]")  # earlier messages: back to the first page exactly
        assert ids() == first
        # jump to a date: the page starts on that day
        pg.fill("input[name=date]", days[-1])
        with pg.expect_navigation():
            pg.click("form.filters button[type=submit]")
        assert f"date={days[-1]}" in pg.url
        assert pg.locator("ol.chat li.msg .time").first.inner_text().startswith(days[-1])
        # the planted message is text: its markup and its javascript: link do nothing
        pg.goto(f"/cases/1/chats/{label}?find=javascript")
        assert "javascript:alert(3)" in pg.locator("ol.chat").inner_text()
        assert pg.locator("ol.chat a[href^='javascript:'], ol.chat img, ol.chat script").count() == 0
        _shot(pg, "chat-hostile")
        w.assert_clean()


def test_decisions_made_on_the_person_page_show_up_on_it(browser: Any, web_case: Path, tmp_path: Path) -> None:
    case_path = tmp_path / "case"
    shutil.copytree(web_case, case_path)  # decisions change the case: a copy of the shared one
    _, label = _a_phone(case_path)
    with _serve(case_path, tmp_path / "home") as (base, _app), _watched(browser, base) as (pg, w):
        _login(pg, "ivy")
        here = f"/cases/1/persons/{label}"
        pg.goto(here)
        # a note, from the keyboard: focus the field, type, Tab to its button, Enter
        pg.focus("#p-note")
        pg.keyboard.type("seen at the port <script>alert('n')</script>")
        pg.keyboard.press("Tab")
        assert pg.evaluate("document.activeElement.textContent") == "Add note"
        with pg.expect_navigation():
            pg.keyboard.press("Enter")
        assert pg.url.endswith(here)
        pg.fill("#p-tag", "courier")
        with pg.expect_navigation():
            pg.click("#decisions form[action$='/decisions/tag'] button[type=submit]")
        pg.fill("#p-bm", "check the SIM again")
        with pg.expect_navigation():
            pg.click("#decisions form[action$='/decisions/bookmark'] button[type=submit]")
        pg.click("details.decide-more > summary")
        pg.select_option("#st-value", "warrant")
        pg.fill("#st-note", "judge signed")
        with pg.expect_navigation():
            pg.click("form[action$='/decisions/status'] button[type=submit]")
        main = pg.locator("main").inner_text()
        assert "seen at the port <script>alert('n')</script>" in main  # shown as text
        assert "courier" in main and "check the SIM again" in main and "warrant" in main and "judge signed" in main
        assert "ivy" in pg.locator("#decisions").inner_text()
        # a country: a background re-analysis whose progress page leads back here
        pg.click("details.decide-more > summary")
        pg.fill("#co-code", "PT")
        pg.fill("#co-reason", "seized in Lisbon with a Portuguese SIM")
        with pg.expect_navigation():
            pg.click("form[action$='/decisions/country'] button[type=submit]")
        assert "/cases/1/jobs/" in pg.url
        pg.wait_for_selector("#job[data-state=done]", state="attached", timeout=120_000)
        _shot(pg, "job-done")
        with pg.expect_navigation():
            pg.click("a:has-text('back to where you decided')")
        assert pg.url.endswith(here)
        made = pg.locator("table.decisions-made").inner_text()
        assert "PT" in made and "seized in Lisbon with a Portuguese SIM" in made and "ivy" in made
        assert pg.locator("h1 .chip").inner_text() == "PT"  # applied by the re-analysis
        _shot(pg, "person-decisions")
        w.assert_clean()


def test_hostile_evidence_executes_nothing_on_any_page(page: tuple[Any, Watch], live: Live) -> None:
    pg, w = page
    _login(pg, "sam")
    gid, pid = live.facts["group"], live.facts["person"]
    pages = [f"/cases/{live.cid}/groups/{gid}", f"/cases/{live.cid}/persons/{pid}", f"/cases/{live.cid}/chats/{gid}",
             f"/cases/{live.cid}/persons", f"/cases/{live.cid}/groups", f"/cases/{live.cid}/suspects",
             f"/cases/{live.cid}/search?q=javascript", f"/cases/{live.cid}/graph", f"/cases/{live.cid}/timeline"]
    for href in pages:
        pg.goto(href)
        pg.wait_for_load_state("networkidle")
        bad = pg.evaluate("""() => [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]
            .filter(a => a.name.startsWith('on') || (['href', 'src', 'action', 'formaction'].includes(a.name)
                    && a.value.trim().toLowerCase().startsWith('javascript:')))
            .map(a => e.tagName + ' ' + a.name + '=' + a.value))""")
        assert not bad, (href, bad)
        assert pg.locator("main img[src=x]").count() == 0, href
        scripts = pg.evaluate("() => [...document.scripts].map(s => [s.getAttribute('src'), s.textContent.trim()])")
        assert all(src and src.startswith("/static/") and not text for src, text in scripts), (href, scripts)
    # the planted link is shown as its text, and following every link on the person page runs nothing
    pg.goto(f"/cases/{live.cid}/persons/{pid}")
    assert 'href="javascript:alert(2)"' in pg.locator("main").inner_text()
    w.assert_clean()


def test_timeline_zooms_from_the_keyboard_and_focus_is_visible(page: tuple[Any, Watch], live: Live) -> None:
    pg, w = page
    _login(pg, "ivy")
    pg.goto(f"/cases/{live.cid}/timeline")
    pg.wait_for_selector("#tl-chart svg rect[data-day]", state="attached", timeout=10_000)
    # Tab from the filters reaches the chart
    pg.focus("input[name=until]")
    for _ in range(5):
        pg.keyboard.press("Tab")
        if pg.evaluate("document.activeElement.id") == "tl-chart":
            break
    else:
        pytest.fail("the chart cannot be reached with Tab")
    outline = pg.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), "no visible focus on the chart"
    pg.keyboard.press("Home")
    pg.keyboard.press("Shift+ArrowRight")
    pg.keyboard.press("Shift+ArrowRight")
    sel = pg.locator("#tl-chart").get_attribute("data-selected") or ""
    a, b = sel.split("/")
    assert a < b and "Selected" in pg.locator("#tl-status").inner_text()
    _shot(pg, "timeline-keyboard")
    with pg.expect_navigation():
        pg.keyboard.press("Enter")
    assert pg.locator("input[name=since]").input_value() == a
    assert pg.locator("input[name=until]").input_value() == b
    # and - zooms back out to a wider range
    pg.wait_for_selector("#tl-chart svg", state="attached", timeout=10_000)
    pg.focus("#tl-chart")
    with pg.expect_navigation():
        pg.keyboard.press("-")
    assert pg.locator("input[name=since]").input_value() < a
    # the skip link is the first Tab stop and takes focus to the page's content
    pg.goto(f"/cases/{live.cid}/persons")
    pg.keyboard.press("Tab")
    assert pg.evaluate("document.activeElement.className") == "skip"
    assert pg.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    pg.keyboard.press("Enter")
    assert pg.evaluate("document.activeElement.id") == "main"
    w.assert_clean()


def test_a_supervisor_makes_downloads_and_verifies_a_package(browser: Any, web_case: Path, tmp_path: Path) -> None:
    import zipfile

    from ringtrace.dissemination.signing import new_keypair, verify_package

    case_path = tmp_path / "case"
    shutil.copytree(web_case, case_path)  # a package is recorded in its case: a copy of the shared one
    key, pub = new_keypair(tmp_path / "keys", "unit")
    with _serve(case_path, tmp_path / "home", signing_key=key) as (base, _app), _watched(browser, base) as (pg, w):
        _login(pg, "sam")
        pg.goto("/cases/1")
        with pg.expect_navigation():
            pg.click("nav.side a:has-text('Packages')")
        country = pg.locator("#pk-country").input_value()
        pg.fill("#pk-recipient", "Unit 7")
        pg.uncheck("input[name=pdf]")  # the HTML report is enough here; the PDF needs the pdf extra
        with pg.expect_navigation(timeout=120_000):
            pg.click("button:has-text('Make and sign')")
        assert f"Package {country}-v1 made and signed" in pg.locator("main").inner_text()
        with pg.expect_download() as dl:
            pg.click(f"a[href$='/packages/{country}-v1.zip']")
        got = tmp_path / "got.zip"
        dl.value.save_as(got)
        with zipfile.ZipFile(got) as z:
            z.extractall(tmp_path / "unpacked")
        assert verify_package(tmp_path / "unpacked" / f"{country}-v1", pub) == []  # what a recipient checks
        with pg.expect_navigation():
            pg.click(f"button[aria-label='verify {country}-v1']")
        result = pg.locator("section.verify").inner_text()
        assert "intact — every file matches the signed manifest" in result and result.count("intact") >= 3
        _shot(pg, "package-verified")
        w.assert_clean()

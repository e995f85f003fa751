"""The fast extraction gives exactly what the extraction before the speed work gave (issue 14, goal 4).

``tests/indicators/reference`` holds frozen copies of the old ``normalize``/``html_text``/``extract_indicators``.
Every case runs both and compares everything an indicator carries: kind, value, raw, context, span (the offsets
behind provenance and line numbers), platform, code, secret; for HTML, the searched text itself.
Inputs: the synthetic pages in every obfuscation style (HTML and text), hostile cases (huge pages over the
extraction window, broken HTML, many links, odd Unicode) and seeded random mixes of indicator fragments.
"""

from __future__ import annotations

import dataclasses
import random
from types import SimpleNamespace
from typing import Any

import pytest

from ringtrace.indicators import extract as new_extract
from ringtrace.indicators import messages
from ringtrace.indicators import normalize as new_normalize
from ringtrace.indicators.messages import message_indicators
from ringtrace.model import Prov
from ringtrace.synth.formats.captures import STYLES, LinkSpec, PageSpec, make_pages, page_html, page_text
from tests.indicators.reference import old_extract, old_normalize


def _found(items: list[Any]) -> list[tuple[Any, ...]]:
    return [dataclasses.astuple(f) for f in items]


def same_extraction(text: str, region: str | None = None, base_uri: str | None = None) -> None:
    old = _found(old_extract.extract_indicators(text, region=region, base_uri=base_uri))
    new = _found(new_extract.extract_indicators(text, region=region, base_uri=base_uri))
    assert new == old, text[:2000]


def same_normalize(text: str) -> None:
    a, b = old_normalize.normalize(text), new_normalize.normalize(text)
    assert b.text == a.text, text[:2000]
    n = len(a.text)
    for s, e in ((0, n), (0, 0), (n, n), (n // 3, n // 2), (n // 2, n)):
        assert b.to_raw(s, e) == a.to_raw(s, e)


def same_html(doc: str, base_uri: str | None = None) -> str:
    a = old_normalize.html_text(doc, base_uri=base_uri)
    b = new_normalize.html_text(doc, base_uri=base_uri)
    assert (b.text, b.visible_end, b.title, b.language) == (a.text, a.visible_end, a.title, a.language), doc[:2000]
    return a.text


# ---- the synthetic pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_synthetic_pages_identical(seed: int) -> None:
    pages = make_pages(160, seed, images=False, n_links=40)
    rng = random.Random(seed)
    for i, p in enumerate(pages):
        doc = page_html(p, [f"img{i}.png"] if i % 7 == 0 else [], rng)
        text = same_html(doc, base_uri=p.uri)
        region = ("ES", None, "BR")[i % 3]
        same_extraction(text, region=region)
        plain = page_text(p, rng)
        same_normalize(plain)
        same_extraction(plain, region=region)


def test_every_style_of_every_kind_identical() -> None:
    codes = {"whatsapp": "AbCdEfGhIjKlMnOpQrStUv", "telegram": "Xy9_abCDefGH-12Z", "discord": "aB3dE5gH",
             "signal": "CjQKI" + "a1B2-c3_D4" * 7 + "Z", "whatsapp_phone": "+34612345678",
             "telegram_phone": "+4915123456789"}
    rng = random.Random(3)
    for kind, code in codes.items():
        for variant in range(3):
            links = [LinkSpec(kind, code, style) for style in STYLES]
            page = PageSpec("https://paste.example/raw/1", make_pages(1, 1)[0].captured_at, "es", "t", links, True)
            doc = page_html(page, [], rng)
            same_extraction(same_html(doc, base_uri=page.uri), region="MX")
            text = page_text(page, rng)
            same_extraction(text)
            same_extraction(text, region="ES")
            del variant


# ---- hostile and odd inputs --------------------------------------------------------------------------------

WA = "AbCdEfGhIjKlMnOpQrStUv"
HOSTILE_TEXTS = [
    "",
    " ",
    "\n\n\n",
    "chat.whatsapp.com/" + "A" * 5000,
    "https://" * 3000,
    "@" * 5000 + "a@b.cd",
    "+" * 3000 + "+34 612 345 678",
    "." * 4000 + "onion",
    "a." * 3000 + "onion",
    "05" * 4000,
    "x" * 60 + f"chat.whatsapp.com/{WA}" + "y" * 60,
    f"ſignal.group/#{'k' * 40} dİscord.gg/abcd ＷＡ.ｍｅ/34612345678 K.me/+{WA} t.me/ſeller",
    f"chat.whatsapp.com/{WA}\u0130 t.\u0131me/user_name ch\u0131t.whatsapp.com/{WA}",
    f"CHAT.WHATSAPP.COM/{WA} HTTPS://T.ME/+{WA} WWW.Discord.GG/xyz Hxxps[:]//T[.]ME/joinchat/{WA}",
    f"chat . whatsapp . com / {WA}\nt.me/ +{WA}\nchat.whatsapp.com/\n\n{WA}\nt.me/joinchat/\n {WA}",
    f"https:/\t/chat.whatsapp.com/{WA} http :// t.me/+{WA} https :t.me/+{WA}",
    f"chat.whatsapp.com&#47;{WA} chat%2Ewhatsapp%2Ecom%2F{WA} %252F%2525 &amp;amp;amp; &#x110000; &bogus;",
    f"tg://join?invite={WA} tg://resolve?domain=some_user whatsapp://send?text=hi&phone=34612345678",
    f"whatsapp://chat?code={WA} wa.me/+34612345678 wa.me/12 whatsapp.com/send?phone=5511987654321",
    "mail a.b-c@d-e.example.org, x@y.z, me@[1.2.3.4], _u@host.co, u@host.c0m",
    "session 05" + "ab" * 32 + " http://open.getsession.example/room1?public_key=" + "cd" * 32,
    "call +34 612 345 678 or (0)612-345-678 or 612345678 or +1 (555) 010-0199 or 0034612345678",
    "t.me/s/channelname t.me/share/url?url=x t.me/addlist/abcdEFGH1234 t.me/+12345678901 t.me/c/123",
    "discord.com/invite/abc discordapp.com/invite/xyz-1 discord.gg/a signal.group/#short",
    "www.example.com/a?b=c#d (https://example.org/x_(y)) 'http://q.example/'. ftp://f.example/z",
    "\u200bc\u200bh\u200ba\u200bt\u200b.\u200bwhatsapp.com/" + WA + " \u202echat.whatsapp.com/" + WA,
    "ｃｈａｔ．ｗｈａｔｓａｐｐ．ｃｏｍ／" + WA + " ｔ．ｍｅ／＋" + WA,
    "hxxp://chat[.]whatsapp[.]com/" + WA + " h**ps://t(dot)me/+" + WA + " t{.}me{/}+x [:]// (:)",
    "chat dot whatsapp dot com/" + WA + " t DOT me/+" + WA + " t .me/+" + WA + " t. me/" + WA,
    "\r\n".join(f"line {i} chat.whatsapp.com/{WA[: 20 + i % 5]}" for i in range(50)),
    "signal.group/#" + "Q" * 500 + " signal.group#abc signal.group/#" + "w" * 30,
    # tab-spaced forms the spaced-dot hints miss: rewritten only when another line has a hint
    f"chat.\twhatsapp.com/{WA}\nsee 1. this",
    f"chat.\twhatsapp.com/{WA}\nno hint here",
    f"https:/\t/t.me/+{WA}\nJoin. now\nwhatsapp.\tcom/channel/{WA}",
    f"https: \t/ /t.me/+{WA}\n\nplain",
    f"line one. ok\n\thttps:/\t/chat.whatsapp.com/{WA}\n",
]


@pytest.mark.parametrize("i", range(len(HOSTILE_TEXTS)))
def test_hostile_texts_identical(i: int) -> None:
    text = HOSTILE_TEXTS[i]
    same_normalize(text)
    for region in (None, "ES", "us"):
        same_extraction(text, region=region)
    same_extraction(text.strip(), base_uri="https://paste.example/raw/1")


def test_relative_attribute_and_base_uri_identical() -> None:
    for t in ("/join/x", "./a", "../b?c=1", "?q=chat.whatsapp.com/" + WA, "#frag", "/" + "x" * 5000):
        same_extraction(t, base_uri="https://chat.whatsapp.com/")
        same_extraction(t, base_uri="https://paste.example/raw/1")


def test_text_over_the_window_identical() -> None:
    # links on both sides of the window boundary (WINDOW characters) and in the overlap
    w = new_extract.WINDOW
    filler = "lorem ipsum dolor sit amet, +34 612 345 678 "
    body = (filler * (w // len(filler) + 2))[: w - 30]
    text = body + f" chat.whatsapp.com/{WA} and t.me/+{WA} " + filler * 40 + f"x@y.example {WA}"
    same_extraction(text)
    same_extraction(text, region="ES")


HOSTILE_HTML = [
    "",
    "<html>",
    "<p>unclosed <b>bold <i>both</p> chat.whatsapp.com/<span>" + WA + "</span>",
    "<table><tr><td>a</td><td>a</td><td>chat.whatsapp.com/" + WA + "</td></tr></table>",
    "<ul><li>same</li><li>same</li><li>same</li></ul><p>x</p><p>x</p><div><div>a</div>b</div>",
    "<title>first</title><title>second t.me/+" + WA + "</title><p>body</p>",
    "<html lang='  pt-BR '><head><meta http-equiv='Content-Language' content='es-MX, en'></head><p>+34612345678",
    "<meta http-equiv=refresh content='0;URL=\"/go?to=t.me/+" + WA + "\"'><a href=/rel>r</a>",
    "<script>var a='chat.whatsapp.com/" + WA + "'</script><script>  </script><style>p{}</style>"
    "<noscript>t.me/+" + WA + "</noscript><template><p>t.me/joinchat/" + WA + "</p></template>",
    "<a href='javascript:go()' onclick=\"location='https://t.me/+" + WA + "'\" data-x='wa.me/34612345678'"
    " title='chat.whatsapp.com/" + WA + "' aria-label=x>chat.whatsapp.com/" + WA + "</a>",
    "<svg><a xlink:href='https://t.me/+" + WA + "'><text>t.me/+" + WA + "</text></a></svg>",
    "<math><mi>x</mi></math><p>chat.whatsapp<wbr>.com/" + WA + "</p><br><br/><hr>",
    "<div>" * 300 + "deep chat.whatsapp.com/" + WA + "</div>" * 10 + "tail",
    "<p>" + "<a href='https://t.me/+" + WA + "'>t.me/+" + WA + "</a>" * 400 + "</p>",
    "<<<>>><p <p>>t.me/+" + WA + "</p></p></p><!-- comment t.me/+" + WA + " --><!doctype html>",
    "<body><p>one</p>\n<p>one</p>\n<p>two</p>\n\n<pre>  chat.whatsapp.com/\n" + WA + "</pre></body>",
    "<img src='a.png' alt='chat.whatsapp.com/" + WA + "'><input value='t.me/+" + WA + "' placeholder=p>",
    "<form action='https://chat.whatsapp.com/" + WA + "'><button formaction='/x'>b</button></form>",
    "&lt;a href=x&gt; &amp;#46; chat&#46;whatsapp&#46;com&#x2F;" + WA + " &nbsp;t.me/+" + WA,
    "<p>\u00a0chat.whatsapp.com/" + WA + "\u00a0</p><p>\ufeffBOM</p><p>\x00nul</p>",
    "<frameset><frame src='https://t.me/+" + WA + "'></frameset>",
    "<select><option>chat.whatsapp.com/" + WA + "</option><option>x</option></select><textarea>t.me/+"
    + WA + "</textarea>",
    "<p>x<b>y</b>z</p><p>x<b>y</b>z</p><dl><dt>a</dt><dd>a</dd></dl><h1>h</h1><h1>h</h1>",
    "<object data='https://t.me/+" + WA + "'></object><video poster='/p.png'></video><q cite='wa.me/1'>q</q>",
    "<p data-href='t.me/+" + WA + "' onmouseover='x' DATA-Y='Y' on='z'>" + "&#" * 50 + "</p>",
]


@pytest.mark.parametrize("i", range(len(HOSTILE_HTML)))
def test_hostile_html_identical(i: int) -> None:
    doc = HOSTILE_HTML[i]
    for base in (None, "https://paste.example/dir/page.html"):
        text = same_html(doc, base_uri=base)
        same_extraction(text)
        same_extraction(text, region="ES")


def test_huge_html_page_identical() -> None:
    rows = "".join(
        f"<tr><td>{i}</td><td>chat.whatsapp.com/{WA[: 20 + i % 5]}</td><td><a href='https://t.me/+{WA}{i % 7}'>"
        f"x</a></td></tr>\n"
        for i in range(300)  # the old code serialises the table for every row: kept small for its sake
    )
    doc = f"<html><body><table>{rows}</table><p>{'word ' * 40000}</p></body></html>"
    same_extraction(same_html(doc, base_uri="https://paste.example/big"))


# ---- random mixes of fragments -------------------------------------------------------------------------------

_FRAGMENTS = [
    "chat.whatsapp.com/", "CHAT.whatsapp.COM/", "whatsapp.com/channel/", "whatsapp.com/send?phone=", "wa.me/",
    "t.me/", "t.me/+", "t.me/joinchat/", "telegram.me/", "telegram.dog/", "t.me/s/", "t.me/addlist/",
    "signal.group/#", "discord.gg/", "discord.com/invite/", "discordapp.com/invite/", "https://", "http://",
    "hxxps", "hXXp", "h**p", "[:]", "(:)", "{:}", "[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}", "[DOT]",
    "(DOT)", "[/]", " dot ", " DOT ", " . ", " .", ". ", ".", "/", " / ", "/ ", "/\n", "\n", "\r\n", "\t", " ",
    ": /", ":/ ", ":\t", ":  ", ":/\t/", "://", " :", "www.", "api.", "web.", "invite/", "+", "%2F", "%252F",
    "%3A", "%2E", "%FF%FE", "%e2%80%8b", "%C3", "%c3%a9", "e\u0301", "\u0301", "\ufb01", "\u2460", "\u212b",
    "\u1100\u1161", "q\u0307\u0323", "\u00c5\u0323", "\u2024", "\uff0e", "\u3002",
    "&#46;", "&#x2F;", "&plus;", "&amp;", "&", "%", "\u200b", "\u200c", "\u202e", "\u00ad",
    "\ufeff", "ｃｈａｔ", "．", "／", "＋", "\u0130", "\u0131", "\u017f", "\u212a", "é", "ü", "Ω", "@",
    "user.name@mail.example.org", "x@y", "@host.co", "+34 612 345 678", "+1 (555) 010-0199", "612345678",
    "+4915123456789", "(0)", "-", "_", "#", "?", "=", "&phone=", "tg://join?invite=", "tg://resolve?domain=",
    "whatsapp://send?phone=", "whatsapp://chat?code=", ".onion", ".ONION", "05", "ab" * 32, "public_key=",
    WA, WA[:12], WA + WA, "Xy9_abCDefGH-12Z", "aB3dE5gH", "sellername", "share", "0123456789",
    "joinchat", "example.com/", "paste.example/raw/", "(", ")", "]", "[", "{", "}", "'", '"', "<", ">", "`",
    "\\", "|", "^", "*", ",", ";", "!",
]


def _onion(rng: random.Random) -> str:
    return new_extract.onion_v3_address(rng.randbytes(32))


def _mix(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randrange(1, 40)):
        r = rng.random()
        if r < 0.03:
            parts.append(_onion(rng))
        elif r < 0.05:
            parts.append("".join(rng.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(16)) + ".onion")
        else:
            parts.append(rng.choice(_FRAGMENTS))
    return "".join(parts)


@pytest.mark.parametrize("block", range(8))
def test_random_mixes_identical(block: int) -> None:
    rng = random.Random(1000 + block)
    for _ in range(400):
        text = _mix(rng)
        same_normalize(text)
        same_extraction(text, region=rng.choice((None, None, "ES", "BR", "US")))


@pytest.mark.parametrize("block", range(4))
def test_random_html_mixes_identical(block: int) -> None:
    rng = random.Random(2000 + block)
    tags = ["p", "b", "i", "span", "div", "a", "br", "li", "ul", "td", "tr", "table", "h1", "script", "title",
            "pre", "wbr", "option", "head", "body", "html", "noscript", "template", "svg", "math"]
    for _ in range(150):
        parts = []
        for _ in range(rng.randrange(1, 30)):
            r = rng.random()
            tag = rng.choice(tags)
            if r < 0.25:
                attrs = rng.choice(["", " href='" + _mix(rng) + "'", " title=\"" + _mix(rng) + "\"",
                                    " data-x=" + rng.choice(_FRAGMENTS).strip().replace(" ", "") or "y",
                                    " onclick='" + _mix(rng) + "'", " lang=es-AR"])
                parts.append(f"<{tag}{attrs}>")
            elif r < 0.45:
                parts.append(f"</{tag}>")
            else:
                parts.append(_mix(rng))
        doc = "".join(parts)
        text = same_html(doc, base_uri=rng.choice((None, "https://paste.example/a/b")))
        same_extraction(text, region=rng.choice((None, "ES")))


def test_chat_messages_identical() -> None:
    rng = random.Random(7)
    for _ in range(300):
        text = _mix(rng)
        msg = SimpleNamespace(text=text, prov=Prov("msgstore.db", "messages", "1"), at=None)
        got = [(i.kind, i.value, i.raw, i.context, i.platform, i.code, i.secret)
               for i in message_indicators(msg, region="ES")]  # type: ignore[arg-type]
        want = [
            (f.kind, f.value, f.raw, f.context, f.platform, f.code, f.secret)
            for f in old_extract.extract_indicators(text[: messages.MAX_MESSAGE_SCAN], region="ES")
        ] if messages._LINKISH.search(text) else []
        assert got == want, text


def test_resource_hint_is_the_case_insensitive_one() -> None:
    import re

    from ringtrace.indicators import capture

    old = re.compile(r"<(?:img|source|video)\b|url\s{0,3}\(", re.I)  # the hint before the speed work
    rng = random.Random(5)
    pieces = ["<", "img", "IMG", "\u0130mg", "\u0131MG", "\u017fource", "SOURCE", "video", "v\u0130deo", "url", "URL",
              "(", " ", "\t", "\n", "x", ">", "ur l", "uRl  (", "<source", "<Video2", "<img>", "\u212a"]
    for _ in range(20000):
        t = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 8)))
        assert capture._may_have_resources(t) == bool(old.search(t)), t


def test_onion_check_identical() -> None:
    rng = random.Random(9)
    labels = [new_extract.onion_v3_address(rng.randbytes(32))[:-6] for _ in range(300)]
    labels += [lb.upper() for lb in labels[:50]] + ["b" + lb[1:] for lb in labels[:50]]
    labels += ["a" * 56, "7" * 56, "=" * 56, "\u0131" + "a" * 55, "a" * 55 + "1", "A" * 55 + "8", "a" * 16, ""]
    for lb in labels:
        assert new_extract.onion_v3_valid(lb) == old_extract.onion_v3_valid(lb), lb


def test_line_prefilter_is_a_necessary_condition() -> None:
    # a line the prefilter passes over must give no hit in the old extraction (so skipping it changes nothing)
    rng = random.Random(11)
    for _ in range(3000):
        line = _mix(rng).replace("\n", " ").replace("\r", " ")
        for region, pattern in ((None, new_extract._MAY_HIT), ("ES", new_extract._MAY_HIT_REGION)):
            if "\t" in line or "&" in line or "%" in line or pattern.search(line):
                continue
            assert old_extract.extract_indicators(line, region=region) == [], line

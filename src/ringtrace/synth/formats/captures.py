"""Synthetic web captures: the pages where invite links are advertised, in the formats examiners bring.

``write_captures`` renders ``PageSpec``s as a realistic mix of gzip WARC files (several pages per file,
request + response records, revisits, images as their own response records), Hunchly-style MHTML, saved HTML
pages with a ``<name>_files/`` folder, ACHE crawler JSON-lines and plain-text paste dumps. Links appear in
every obfuscation style of ``STYLES`` and in attributes and scripts; decoy look-alikes are mixed in.
Deterministic: the same pages and seed give the same bytes (record ids and dates from the seed, gzip mtime 0).

All content is invented: codes are random, hosts are ``.onion`` v3 addresses generated with valid checksums
or paste-site-like hosts under ``example`` domains, images are generated gradients and shapes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from ringtrace.indicators.extract import onion_v3_address, signal_fingerprint

# every way a link is written on a synthetic page; HTML-only styles fall back to "plain" in text formats
STYLES: tuple[str, ...] = (
    "plain",
    "https",
    "defang",
    "dot_words",
    "spaced",
    "entities",
    "percent",
    "redirect",
    "zero_width",
    "fullwidth",
    "split_tags",
    "split_line",
    "attribute",
    "script",
    "onclick",
    "meta_refresh",
)
HTML_ONLY_STYLES = frozenset({"split_tags", "attribute", "script", "onclick", "meta_refresh"})
LANGUAGES = ("en", "es", "pt", "de", "fr", "it")
INVITE_KINDS = ("whatsapp", "telegram", "signal", "discord")
FORMATS = ("warc", "mhtml", "html", "ache", "text")

_BLURB = {
    "en": ("New group, join fast before it fills up", "Links rotate every week, ask in the channel"),
    "es": ("Grupo nuevo, entra rápido antes de que se llene", "Los enlaces cambian cada semana"),
    "pt": ("Grupo novo, entre rápido antes que encha", "Os links mudam toda semana"),
    "de": ("Neue Gruppe, schnell beitreten bevor sie voll ist", "Die Links wechseln jede Woche"),
    "fr": ("Nouveau groupe, rejoignez vite avant qu'il soit plein", "Les liens changent chaque semaine"),
    "it": ("Nuovo gruppo, entra subito prima che si riempia", "I link cambiano ogni settimana"),
}
_B62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_B64URL = _B62 + "-_"


@dataclass(frozen=True)
class LinkSpec:
    kind: str  # whatsapp | telegram | signal | discord (invites) | whatsapp_phone | telegram_phone
    code: str  # invite code / Signal group key / E.164 phone
    style: str = "plain"  # one of STYLES


@dataclass
class PageSpec:
    uri: str
    captured_at: datetime
    language: str = "en"
    title: str = ""
    links: list[LinkSpec] = field(default_factory=list)
    decoys: bool = False
    images: list[bytes] = field(default_factory=list)


# ---- link rendering -------------------------------------------------------------------------------------


def canonical_url(link: LinkSpec, variant: int = 0) -> str:
    """The link as a browser would follow it. ``variant`` picks among the platform's equivalent forms."""
    k, c = link.kind, link.code
    if k == "whatsapp":
        return f"https://chat.whatsapp.com/{c}" if variant % 3 else f"https://chat.whatsapp.com/invite/{c}"
    if k == "telegram":
        return [f"https://t.me/+{c}", f"https://t.me/joinchat/{c}", f"https://telegram.me/+{c}"][variant % 3]
    if k == "signal":
        return f"https://signal.group/#{c}"
    if k == "discord":
        return [f"https://discord.gg/{c}", f"https://discord.com/invite/{c}"][variant % 2]
    if k == "whatsapp_phone":
        return f"https://wa.me/{c.lstrip('+')}"
    if k == "telegram_phone":
        return f"https://t.me/{c}"
    raise ValueError(f"unknown link kind {k!r}")


def _host_path(url: str) -> tuple[str, str]:
    rest = url.split("://", 1)[1]
    host, _, path = rest.partition("/")
    return host, path


def render_link(link: LinkSpec, *, html: bool, variant: int = 0) -> str:
    """The link written in its obfuscation style; HTML markup only when ``html``."""
    style = link.style if html or link.style not in HTML_ONLY_STYLES else "plain"
    url = canonical_url(link, variant)
    host, path = _host_path(url)
    esc_url = url.replace("&", "&amp;").replace('"', "&quot;")
    if style == "plain":
        return f"{host}/{path}"
    if style == "https":
        return f'<a href="{esc_url}">{url}</a>' if html else url
    if style == "defang":
        return "hxxps[:]//" + host.replace(".", "[.]") + "/" + path
    if style == "dot_words":
        return host.replace(".", "(dot)") + "/" + path
    if style == "spaced":
        return host.replace(".", " . ") + " / " + path
    if style == "entities":
        return host.replace(".", "&#46;") + "&#x2F;" + path.replace("+", "&plus;")
    if style == "percent":
        return quote(url, safe="")
    if style == "redirect":
        target = "https://redir.example/out?u=" + quote(quote(url, safe=""), safe="")
        return f'<a href="{target}">join / unirse</a>' if html else target
    if style == "zero_width":
        return "\u200b".join(host) + "\u200c/" + path
    if style == "fullwidth":
        full = "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in host)
        return full + "/" + path
    if style == "split_tags":
        cut = len(path) // 2
        h1, _, h2 = host.rpartition(".")
        return f"{h1}<b></b>.{h2}/{path[:cut]}<span>{path[cut:]}</span>"
    if style == "split_line":
        return f"{host}/<br>\n{path}" if html else f"{host}/\n{path}"
    if style == "attribute":
        return f'<a href="{esc_url}" data-track="1">Join here</a>'
    if style == "script":
        return f'<script>var target = "{url}"; function go() {{ location.href = target; }}</script>'
    if style == "onclick":
        return f"<button onclick=\"location.href='{esc_url}'\">Entrar</button>"
    if style == "meta_refresh":
        return ""  # written into <head> by the page renderer
    raise ValueError(f"unknown style {style!r}")


def decoy_lines(rng: random.Random) -> list[str]:
    """Look-alikes that must not be taken for invite links."""
    code = "".join(rng.choice(_B62) for _ in range(22))
    bad_onion = onion_v3_address(rng.randbytes(32))
    bad_onion = ("b" if bad_onion[0] != "b" else "c") + bad_onion[1:]
    return [
        f"chat.whatsapp.com.evil.example/{code}",
        f"notchat.whatsapp.com/{code}",
        f"chat.whatsapp.com/{code[:8]}",
        f"chat.whatsapp.com/{code}{code}",
        "wa.me/contactus and abt.me/profile",
        "write to support@localhost or admin@intranet",
        "call 000 000 0000 or +1 555 0100",
        f"mirror {bad_onion}",
        "t.me/+12ab and discord.gg/ and signal.group/#short",
    ]


# ---- pages -----------------------------------------------------------------------------------------------


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def page_html(page: PageSpec, image_names: list[str], rng: random.Random) -> str:
    blurb = _BLURB.get(page.language, _BLURB["en"])
    head = [f'<meta charset="utf-8"><title>{_esc(page.title)}</title>']
    body: list[str] = [f"<h1>{_esc(page.title)}</h1>", f"<p>{_esc(blurb[0])}</p>"]
    for i, link in enumerate(page.links):
        if link.style == "meta_refresh":
            url = canonical_url(link, i).replace('"', "&quot;")
            head.append(f'<meta http-equiv="refresh" content="30; url={url}">')
            continue
        body.append(f"<p>{i + 1}. {render_link(link, html=True, variant=i)}</p>")
    body.append(f"<div>{_esc(blurb[1])}</div>")
    if page.decoys:
        body.extend(f"<p>{_esc(d)}</p>" for d in decoy_lines(rng))
    body.extend(f'<img src="{name}" alt="preview">' for name in image_names)
    return (
        f'<!DOCTYPE html>\n<html lang="{page.language}"><head>{"".join(head)}</head>\n<body>\n'
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def page_text(page: PageSpec, rng: random.Random) -> str:
    blurb = _BLURB.get(page.language, _BLURB["en"])
    lines = [f"{page.title}", blurb[0]]
    lines += [f"{i + 1}) {render_link(link, html=False, variant=i)}" for i, link in enumerate(page.links)]
    lines.append(blurb[1])
    if page.decoys:
        lines.extend(decoy_lines(rng))
    return "\n".join(lines) + "\n"


def expected_links(pages: list[PageSpec]) -> set[tuple[str, str]]:
    """Ground truth: (platform, code) of every invite link on the pages (Signal: the key's fingerprint)."""
    out: set[tuple[str, str]] = set()
    for p in pages:
        for link in p.links:
            if link.kind == "signal":
                out.add(("signal", signal_fingerprint(link.code)))
            elif link.kind in INVITE_KINDS:
                out.add((link.kind, link.code))
    return out


# ---- generators for tests and benchmarks -------------------------------------------------------------------


def _png(rng: random.Random, size: int = 48) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (size, size), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw = ImageDraw.Draw(img)
    for _ in range(3):
        x0, y0 = rng.randrange(size // 2), rng.randrange(size // 2)
        color = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x0, y0, x0 + size // 3, y0 + size // 3), fill=color)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def random_code(rng: random.Random, kind: str) -> str:
    if kind == "whatsapp":
        return "".join(rng.choice(_B62) for _ in range(22))
    if kind == "telegram":
        return rng.choice(_B62[:52]) + "".join(rng.choice(_B64URL) for _ in range(14)) + rng.choice(_B62)
    if kind == "signal":
        return "CjQKI" + "".join(rng.choice(_B64URL) for _ in range(70)) + rng.choice(_B62)
    if kind == "discord":
        return "".join(rng.choice(_B62) for _ in range(8))
    raise ValueError(kind)


def make_pages(n: int, seed: int, *, images: bool = True, n_links: int = 12) -> list[PageSpec]:
    """``n`` pages sharing a pool of ``n_links`` invite links (same link on many pages), every style used."""
    rng = random.Random(seed)
    pool = [LinkSpec(k, random_code(rng, k)) for k in (INVITE_KINDS * n_links)[:n_links]]
    phones = ["+34612345678", "+5511987654321", "+4915123456789"]
    base = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    pages: list[PageSpec] = []
    style_i = 0
    for i in range(n):
        if i % 3 == 0:
            host = onion_v3_address(rng.randbytes(32))
            uri = f"http://{host}/board/{i}"
        else:
            uri = f"https://paste{i % 4}.example/raw/{rng.randrange(10**6):06d}"
        links = []
        for _ in range(1 + rng.randrange(3)):
            lk = rng.choice(pool)
            links.append(LinkSpec(lk.kind, lk.code, STYLES[style_i % len(STYLES)]))
            style_i += 1
        if i % 5 == 0:
            links.append(LinkSpec("whatsapp_phone", phones[i % len(phones)], "plain"))
        lang = LANGUAGES[i % len(LANGUAGES)]
        pages.append(
            PageSpec(
                uri=uri,
                captured_at=base + timedelta(hours=7 * i, seconds=rng.randrange(3600)),
                language=lang,
                title=f"Board {i} ({lang})",
                links=links,
                decoys=i % 2 == 0,
                images=[_png(rng)] if images and i % 4 == 1 else [],
            )
        )
    return pages


# ---- writers ---------------------------------------------------------------------------------------------


def _rid(rng: random.Random) -> str:
    return f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}>"


def _wdate(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _write_warc(pages: list[PageSpec], path: Path, rng: random.Random) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=True)
    first = pages[0].captured_at if pages else datetime(2024, 1, 1, tzinfo=UTC)
    info = w.create_warcinfo_record(path.name, {"software": "ringtrace-synth", "format": "WARC File Format 1.1"})
    # warcio stamps a random id and the current time: replace them so the bytes depend on the seed only
    info.rec_headers.replace_header("WARC-Record-ID", _rid(rng))
    info.rec_headers.replace_header("WARC-Date", _wdate(first))
    w.write_record(info)
    for page in pages:
        names = [f"{page.uri.rstrip('/')}/img{j}.png" for j in range(len(page.images))]
        body = page_html(page, names, rng).encode("utf-8")
        date = _wdate(page.captured_at)
        req_headers = StatusAndHeaders(
            "GET /" + page.uri.split("/", 3)[-1] + " HTTP/1.1",
            [("Host", page.uri.split("/")[2]), ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64)")],
            is_http_request=True,
        )
        w.write_record(
            w.create_warc_record(
                page.uri,
                "request",
                http_headers=req_headers,
                warc_headers_dict={"WARC-Record-ID": _rid(rng), "WARC-Date": date},
            )
        )
        resp_headers = StatusAndHeaders(
            "200 OK",
            [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
            protocol="HTTP/1.1",
        )
        resp_id = _rid(rng)
        w.write_record(
            w.create_warc_record(
                page.uri,
                "response",
                payload=io.BytesIO(body),
                length=None,
                http_headers=resp_headers,
                warc_headers_dict={"WARC-Record-ID": resp_id, "WARC-Date": date},
            )
        )
        for name, data in zip(names, page.images, strict=True):
            ih = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
            w.write_record(
                w.create_warc_record(
                    name,
                    "response",
                    payload=io.BytesIO(data),
                    http_headers=ih,
                    warc_headers_dict={"WARC-Record-ID": _rid(rng), "WARC-Date": date},
                )
            )
        if rng.random() < 0.4:  # a later re-crawl that found the same payload
            digest = "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode()  # noqa: S324 (WARC digest)
            rev = w.create_revisit_record(
                page.uri,
                digest,
                page.uri,
                date,
                http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1"),
                warc_headers_dict={
                    "WARC-Record-ID": _rid(rng),
                    "WARC-Date": _wdate(page.captured_at + timedelta(days=1)),
                },
            )
            w.write_record(rev)
    path.write_bytes(buf.getvalue())


def _qp(data: bytes) -> bytes:
    import quopri

    return quopri.encodestring(data)


def _write_mhtml(page: PageSpec, path: Path, rng: random.Random) -> None:
    boundary = f"----MultipartBoundary--{rng.getrandbits(64):016x}----"
    names = [f"{page.uri.rstrip('/')}/img{j}.png" for j in range(len(page.images))]
    html = page_html(page, names, rng).encode("utf-8")
    date = page.captured_at.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    out = [
        "From: <Saved by Blink>",
        f"Snapshot-Content-Location: {page.uri}",
        f"Subject: {page.title}",
        f"Date: {date}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/related;\r\n\ttype="text/html";\r\n\tboundary="{boundary}"',
        "",
        "",
        f"--{boundary}",
        "Content-Type: text/html",
        f"Content-ID: <frame-{rng.getrandbits(32):08X}@mhtml.blink>",
        "Content-Transfer-Encoding: quoted-printable",
        f"Content-Location: {page.uri}",
        "",
        _qp(html).decode("ascii"),
    ]
    for name, data in zip(names, page.images, strict=True):
        b64 = base64.encodebytes(data).decode("ascii")
        out += [
            f"--{boundary}",
            "Content-Type: image/png",
            "Content-Transfer-Encoding: base64",
            f"Content-Location: {name}",
            "",
            b64,
        ]
    out.append(f"--{boundary}--")
    path.write_bytes("\r\n".join(out).encode("utf-8") + b"\r\n")


def _write_saved_html(page: PageSpec, path: Path, rng: random.Random) -> list[Path]:
    folder = path.with_name(path.stem + "_files")
    names = [f"{folder.name}/img{j}.png" for j in range(len(page.images))]
    html = page_html(page, names, rng)
    marker = f"<!-- saved from url=({len(page.uri):04d}){page.uri} -->\n"
    path.write_text(marker + html, encoding="utf-8")
    written = [path]
    if page.images:
        folder.mkdir(exist_ok=True)
        for name, data in zip(names, page.images, strict=True):
            p = path.parent / name
            p.write_bytes(data)
            written.append(p)
    return written


def _write_ache(pages: list[PageSpec], path: Path, rng: random.Random) -> None:
    lines = []
    for page in pages:
        body = page_html(page, [], rng).encode("utf-8")
        rec = {
            "url": page.uri,
            "redirected_url": page.uri,
            "content": base64.b64encode(body).decode("ascii"),
            "content_type": "text/html; charset=UTF-8",
            "response_headers": {"Content-Type": ["text/html; charset=UTF-8"]},
            "fetch_time": int(page.captured_at.timestamp() * 1000),
            "relevance": {"relevance": 0.9, "relevant": True},
            "crawler_id": "synth",
        }
        lines.append(json.dumps(rec, sort_keys=True))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_text(pages: list[PageSpec], path: Path, rng: random.Random) -> None:
    parts = []
    for page in pages:
        parts.append(f"==== {page.uri} ({page.captured_at.isoformat()}) ====\n" + page_text(page, rng))
    path.write_text("\n".join(parts), encoding="utf-8")


def write_captures(pages: list[PageSpec], out: Path, seed: int) -> list[Path]:
    """Write ``pages`` under ``out`` in a mix of capture formats; returns the files written."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    buckets: dict[str, list[PageSpec]] = {f: [] for f in FORMATS}
    for i, page in enumerate(pages):
        buckets[FORMATS[i % len(FORMATS)]].append(page)
    written: list[Path] = []
    group = 4
    for n, start in enumerate(range(0, len(buckets["warc"]), group)):
        p = out / f"crawl-{n:03d}.warc.gz"
        _write_warc(buckets["warc"][start : start + group], p, rng)
        written.append(p)
    for n, page in enumerate(buckets["mhtml"]):
        p = out / f"hunchly-capture-{n:03d}.mhtml"
        _write_mhtml(page, p, rng)
        written.append(p)
    for n, page in enumerate(buckets["html"]):
        written.extend(_write_saved_html(page, out / f"saved-page-{n:03d}.html", rng))
    for n, start in enumerate(range(0, len(buckets["ache"]), 5)):
        p = out / f"ache-{n:03d}.jsonl"
        _write_ache(buckets["ache"][start : start + 5], p, rng)
        written.append(p)
    for n, start in enumerate(range(0, len(buckets["text"]), 3)):
        p = out / f"pastes-{n:03d}.txt"
        _write_text(buckets["text"][start : start + 3], p, rng)
        written.append(p)
    return written

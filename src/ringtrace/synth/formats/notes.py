"""Synthetic notes: pages of paper a search might find (a club's contact list, a rota, a shopping list), rendered in
code, with a ground truth of every entity on every line.

Content is invented: names from ``synth.people`` (invented surnames), ages, real town names (a gazetteer knows
them; no person is tied to them), dates (some decades old), phone numbers that libphonenumber accepts for their
country (random subscriber digits), e-mails under the RFC 2606 ``example`` domains and invented usernames.

A page is rendered as a photo (JPEG: paper tint, a table edge, a small skew, noise, blur, sometimes turned 90
degrees) or a scan (grey PNG) in print (DejaVu Sans) or in a handwriting-like font from Debian's font packages
(fonts-dkg-handwriting, fonts-breip, fonts-femkeklaver, fonts-comic-neue, fonts-dancingscript), and as documents
(PDF with a text layer, DOCX, ODT, RTF, plain text) whose text extraction must give the same lines.

The ground truth's ``line`` is the 1-based index among the page's non-blank lines (the title is line 1), which
is how ``text_lines.line_no`` counts for every origin. Every entity's ``text`` occurs verbatim in its line.
"""

from __future__ import annotations

import io
import json
import random
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import phonenumbers
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from ringtrace.synth.people import COUNTRIES, FIRST, LAST, invent_phone

PRINT_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
# handwriting-like fonts from Debian packages, all five installed by CI (.ci/run)
HAND_FONTS: dict[str, str] = {
    "dkg-handwriting": "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf",
    "breip": "/usr/share/fonts/truetype/breip/Breip.ttf",
    "femkeklaver": "/usr/share/fonts/truetype/femkeklaver/femkeklaver.ttf",
    "comic-neue": "/usr/share/fonts/opentype/comic-neue/ComicNeue-Regular.otf",
    "dancingscript": "/usr/share/fonts/opentype/dancingscript/DancingScript-Regular.otf",
}

# real towns, as a gazetteer (geonames) lists them, by country
TOWNS: dict[str, list[str]] = {
    "ES": ["Zaragoza", "Cuenca", "Alcalá de Henares", "Burgos", "Málaga", "Lugo"],
    "IT": ["Pisa", "Lecce", "Bergamo", "Perugia", "Trento", "Cagliari"],
    "PT": ["Braga", "Coimbra", "Faro", "Évora", "Aveiro"],
    "DE": ["Freiburg", "Kassel", "Würzburg", "Rostock", "Bamberg"],
    "GB": ["Leeds", "Bristol", "Norwich", "York", "Exeter"],
}
LANG_OF = {"ES": "es", "IT": "it", "PT": "pt", "DE": "de", "GB": "en"}
TESSERACT_LANG = {"ES": "spa", "IT": "ita", "PT": "por", "DE": "deu", "GB": "eng"}
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
HANDLES = ["blue_heron", "moss_fox", "tinker", "quiet_oak", "paperkite", "redkettle", "owl_lamp", "fernwood"]
TITLES = ["Garden club - contacts", "Choir rota", "Book swap - who has what", "Walking group", "Chess evenings",
          "Allotment neighbours"]
GOODS = ["bread", "milk", "eggs", "apples", "rice", "soap", "tea", "onions", "stamps", "batteries"]

ENTITY_KINDS = ("person", "age", "place", "date", "phone", "email", "username")


@dataclass
class Entity:
    kind: str  # one of ENTITY_KINDS
    text: str  # exactly as written on the line
    value: Any  # normalised: E.164 phone, ISO date, int age, {"town", "country"} place, lower-case e-mail/username


@dataclass
class NoteLine:
    text: str
    entities: list[Entity] = field(default_factory=list)


@dataclass
class NotePage:
    title: str
    country: str
    lines: list[NoteLine]  # the title is lines[0]

    @property
    def texts(self) -> list[str]:
        return [ln.text for ln in self.lines]


class _Line:
    """Builds a line piece by piece, recording each entity as it is written."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.entities: list[Entity] = []

    def say(self, s: str) -> _Line:
        self.parts.append(s)
        return self

    def ent(self, kind: str, text: str, value: Any) -> _Line:
        self.parts.append(text)
        self.entities.append(Entity(kind, text, value))
        return self

    def done(self) -> NoteLine:
        return NoteLine("".join(self.parts), self.entities)


def _phone_text(rng: random.Random, e164: str) -> str:
    num = phonenumbers.parse(e164)
    fmt = phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(num, fmt)


def _date_text(rng: random.Random, d: date) -> str:
    style = rng.randrange(3)
    if style == 0:
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    if style == 1:
        return f"{d.day} {MONTHS[d.month - 1]} {d.year}"
    return d.isoformat()


def _person(rng: random.Random, lang: str) -> str:
    return f"{rng.choice(FIRST[lang])} {rng.choice(LAST)}"


def compose_page(rng: random.Random, country: str, used_phones: set[str], n_lines: int = 7) -> NotePage:
    """One page: a title and ``n_lines`` entries mixing every entity kind."""
    lang = LANG_OF[country]
    towns = TOWNS[country]
    title = rng.choice(TITLES)
    lines = [NoteLine(title)]
    for i in range(n_lines):
        name = _person(rng, lang)
        first, last = name.split(" ", 1)
        ln = _Line().ent("person", name, name)
        kind = (i + rng.randrange(5)) % 5
        if kind == 0:
            age = rng.randrange(9, 70)
            phone = invent_phone(rng, country, used_phones)
            ln.say(", ").ent("age", str(age), age).say(", ").ent("place", (t := rng.choice(towns)),
                                                               {"town": t, "country": country})
            ln.say(" ").ent("phone", _phone_text(rng, phone), phone)
        elif kind == 1:
            age = rng.randrange(9, 70)
            mail = f"{first.lower()}.{last.lower()}{rng.randrange(10, 99)}@example.{rng.choice(['org', 'net'])}"
            mail = unicodedata.normalize("NFKD", mail).encode("ascii", "ignore").decode()  # Lucía -> lucia
            ln.say(" (").ent("age", str(age), age).say(") ").ent("email", mail, mail)
        elif kind == 2:
            handle = f"{rng.choice(HANDLES)}{rng.randrange(10, 99)}"
            ln.say(" - ").ent("place", (t := rng.choice(towns)), {"town": t, "country": country})
            ln.say(" - ").ent("username", "@" + handle, handle)
        elif kind == 3:
            d = date(rng.randrange(1996, 2024), rng.randrange(1, 13), rng.randrange(1, 29))
            ln = _Line().say("met ").ent("person", name, name).say(" in ")
            ln.ent("place", (t := rng.choice(towns)), {"town": t, "country": country})
            ln.say(" on ").ent("date", _date_text(rng, d), d.isoformat())
        else:
            d = date(rng.randrange(1996, 2024), rng.randrange(1, 13), rng.randrange(1, 29))
            goods = ", ".join(rng.sample(GOODS, 2))
            ln = _Line().ent("date", _date_text(rng, d), d.isoformat()).say(f" {goods} for ").ent("person", name,
                                                                                                   name)
        lines.append(ln.done())
    return NotePage(title, country, lines)


def compose_pages(seed: int, n_pages: int = 4, n_lines: int = 7, countries: list[str] | None = None) -> list[NotePage]:
    rng = random.Random(seed)
    used: set[str] = set()
    cs = countries or list(TOWNS)
    return [compose_page(rng, cs[i % len(cs)], used, n_lines) for i in range(n_pages)]


def available_hand_fonts() -> dict[str, str]:
    """The handwriting-like fonts installed here (name -> path)."""
    return {k: p for k, p in HAND_FONTS.items() if Path(p).is_file()}


# ---- pictures of paper ----------------------------------------------------------------------------------


@dataclass
class RenderStyle:
    font: str = PRINT_FONT
    size: int = 38  # pixel size of the font
    medium: str = "photo"  # photo (JPEG, tinted paper on a table, noise) | scan (grey PNG, clean)
    skew: float = 0.0  # degrees, counter-clockwise: a page not laid straight
    turn: int = 0  # 0 | 90 | 180 | 270: the picture taken sideways (orientation detection must undo it)
    noise: float = 6.0  # sigma of the pixel noise
    page_px: tuple[int, int] = (1240, 1754)  # A4 at 150 dpi


def render_page_image(page: NotePage, style: RenderStyle, seed: int = 0) -> Image.Image:
    """The page as a picture: text drawn line by line, then skewed, turned, noised as ``style`` says."""
    import numpy as np

    w, h = style.page_px
    size = style.size
    font = ImageFont.truetype(style.font, size)
    margin = 90
    widest = max(font.getlength(t) for t in page.texts)
    if widest > w - 2 * margin:  # shrink the font so the longest line fits
        size = int(size * (w - 2 * margin) / widest)
        font = ImageFont.truetype(style.font, size)
    paper = (246, 243, 232) if style.medium == "photo" else (255, 255, 255)
    img = Image.new("RGB", (w, h), paper)
    draw = ImageDraw.Draw(img)
    ink = (28, 30, 60) if style.font != PRINT_FONT else (20, 20, 20)
    y = margin
    step = int(size * 1.9)
    for i, text in enumerate(page.texts):
        draw.text((margin + (0 if i else 10), y), text, font=font, fill=ink)
        y += step + (step // 2 if i == 0 else 0)
    if style.skew:
        img = img.rotate(style.skew, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=paper)
    if style.medium == "photo":  # the sheet lies on a table: a darker border around it
        table = Image.new("RGB", (w + 120, h + 120), (92, 74, 58))
        table.paste(img, (60, 60))
        img = table
    rng = np.random.default_rng(seed)
    arr = np.asarray(img, dtype=np.float64)
    if style.noise:
        arr = arr + rng.normal(0.0, style.noise, arr.shape)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    if style.medium == "photo":
        img = img.filter(ImageFilter.GaussianBlur(0.7))
    else:
        img = img.convert("L")
    if style.turn:
        img = img.rotate(style.turn, expand=True)
    return img


def encode(img: Image.Image, medium: str) -> bytes:
    buf = io.BytesIO()
    if medium == "photo":
        img.save(buf, "JPEG", quality=82)
    else:
        img.save(buf, "PNG", optimize=False)
    return buf.getvalue()


# ---- documents ------------------------------------------------------------------------------------------


def document_bytes(kind: str, pages: list[NotePage]) -> bytes:
    """The pages as a document of ``kind`` (pdf, docx, odt, rtf, txt), one note page per document page."""
    texts = [p.texts for p in pages]
    if kind == "pdf":
        return pdf_bytes(texts)
    if kind == "docx":
        return docx_bytes(texts)
    if kind == "odt":
        return odt_bytes(texts)
    if kind == "rtf":
        return rtf_bytes(texts).encode("ascii")
    if kind == "txt":
        return "\f".join("\n".join(t) + "\n" for t in texts).encode("utf-8")
    raise ValueError(f"unknown document kind {kind!r}")


def pdf_bytes(pages: list[list[str]], password: str | None = None) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creator("ringtrace synth")
    pdf.set_creation_date(datetime(2000, 1, 1, tzinfo=UTC))  # no clock in the bytes: same input, same PDF
    pdf.add_font("DejaVu", fname=PRINT_FONT)
    pdf.set_font("DejaVu", size=12)
    for lines in pages:
        pdf.add_page()
        for text in lines:
            pdf.cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")
    if password is not None:
        from fpdf.enums import EncryptionMethod

        pdf.set_encryption(owner_password=password + "-owner", user_password=password,
                           encryption_method=EncryptionMethod.AES_128)
    return bytes(pdf.output())


def scanned_pdf_bytes(pages: list[list[str] | Image.Image], dpi: int = 150) -> bytes:
    """A PDF as a scanner or a phone's scanning app makes it: each picture a page of its own (its size at ``dpi``),
    with no text layer; a list of lines is a typed page (with a text layer) between them."""
    from fpdf import FPDF

    pdf = FPDF(unit="pt")
    pdf.set_creator("ringtrace synth scanner")
    pdf.set_creation_date(datetime(2000, 1, 1, tzinfo=UTC))
    pdf.add_font("DejaVu", fname=PRINT_FONT)
    pdf.set_font("DejaVu", size=12)
    for page in pages:
        if isinstance(page, Image.Image):
            w, h = page.width * 72 / dpi, page.height * 72 / dpi
            pdf.add_page(format=(w, h))
            pdf.image(page.convert("RGB"), x=0, y=0, w=w, h=h)
        else:
            pdf.add_page(format="A4")
            for text in page:
                pdf.cell(0, 26, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def docx_bytes(pages: list[list[str]]) -> bytes:
    import docx
    from docx.enum.text import WD_BREAK

    doc = docx.Document()
    doc.core_properties.author = "synth"
    for i, lines in enumerate(pages):
        for j, text in enumerate(lines):
            para = doc.add_paragraph()
            if i and j == 0:
                para.add_run().add_break(WD_BREAK.PAGE)
            para.add_run(text)
    buf = io.BytesIO()
    doc.save(buf)
    return _fixed_zip_times(buf.getvalue())


def odt_bytes(pages: list[list[str]]) -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.style import ParagraphProperties, Style
    from odf.text import P

    doc = OpenDocumentText()
    brk = Style(name="PageBreak", family="paragraph")
    brk.addElement(ParagraphProperties(breakbefore="page"))
    doc.automaticstyles.addElement(brk)
    for i, lines in enumerate(pages):
        for j, text in enumerate(lines):
            doc.text.addElement(P(stylename=brk, text=text) if i and j == 0 else P(text=text))
    buf = io.BytesIO()
    doc.write(buf)
    return _fixed_zip_times(buf.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """The same zip with every member dated 1980-01-01 (the writers stamp the clock): same input, same bytes."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = info.compress_type
            dst.writestr(fixed, src.read(info))
    return out.getvalue()


def rtf_bytes(pages: list[list[str]]) -> str:
    def esc(s: str) -> str:
        out = []
        for ch in s:
            if ch in "\\{}":
                out.append("\\" + ch)
            elif ord(ch) > 127:
                out.append(f"\\u{ord(ch) if ord(ch) < 32768 else ord(ch) - 65536}?")
            else:
                out.append(ch)
        return "".join(out)

    body = "\\page\n".join("".join(esc(t) + "\\par\n" for t in lines) for lines in pages)
    return "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\fswiss Helvetica;}}\\f0\\fs24\n" + body + "}"


# ---- a notes exhibit ------------------------------------------------------------------------------------


def _page_truth(page: NotePage, number: int) -> dict[str, Any]:
    return {
        "page": number,
        "country": page.country,
        "lines": [{"line": i + 1, "text": ln.text} for i, ln in enumerate(page.lines)],
        "entities": [dict(asdict(e), page=number, line=i + 1) for i, ln in enumerate(page.lines)
                     for e in ln.entities],
    }


def write_notes(out: Path, seed: int, n_pages: int = 4, pictures: bool = True) -> dict[str, Any]:
    """A notes exhibit under ``out``: photos and scans of pages (print and handwriting-like fonts; left out when
    not ``pictures``) and the first two pages typed, as PDF and DOCX. Returns the ground truth: per file its
    path, sha256, medium, style, font, turn, skew, OCR languages and per page its lines and entities."""
    import hashlib

    rng = random.Random(seed)
    pages = compose_pages(seed, n_pages)
    hands = available_hand_fonts()
    files: list[dict[str, Any]] = []

    def add(rel: str, data: bytes, medium: str, style: str, font: str, turn: int, skew: float,
            doc_pages: list[NotePage]) -> None:
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        files.append({"path": rel, "sha256": hashlib.sha256(data).hexdigest(), "medium": medium, "style": style,
                      "font": font, "turn": turn, "skew": skew,
                      "languages": "+".join(sorted({TESSERACT_LANG[pg.country] for pg in doc_pages})),
                      "pages": [_page_truth(pg, k + 1) for k, pg in enumerate(doc_pages)]})

    for i, page in enumerate(pages if pictures else []):
        hand = i % 2 == 1 and bool(hands)
        fname = sorted(hands)[(i // 2) % len(hands)] if hand else "dejavu-sans"
        font = hands[fname] if hand else PRINT_FONT
        medium = "photo" if i % 3 != 2 else "scan"
        turn = 90 if i == 2 else 0
        skew = round(rng.uniform(-1.5, 1.5), 2)
        st = RenderStyle(font=font, size=44 if hand else 36, medium=medium, skew=skew, turn=turn)
        img = render_page_image(page, st, seed * 100 + i)
        ext = "jpg" if medium == "photo" else "png"
        folder = "photos" if medium == "photo" else "scans"
        add(f"{folder}/page_{i + 1:02d}.{ext}", encode(img, medium), medium, "hand" if hand else "print",
            fname, turn, skew, [page])
    typed = pages[: min(2, len(pages))]
    add("documents/contacts.pdf", document_bytes("pdf", typed), "pdf", "print", "dejavu-sans", 0, 0.0, typed)
    add("documents/contacts.docx", document_bytes("docx", typed), "docx", "print", "", 0, 0.0, typed)
    return {"seed": seed, "files": files}


def write_truth(path: Path, truth: dict[str, Any]) -> None:
    path.write_text(json.dumps(truth, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


__all__ = ["COUNTRIES", "ENTITY_KINDS", "Entity", "NoteLine", "NotePage", "RenderStyle", "available_hand_fonts",
           "compose_pages", "document_bytes", "render_page_image", "scanned_pdf_bytes", "write_notes"]

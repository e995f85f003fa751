"""A case's OCR settings, kept in ``case_info`` (no schema of their own): the languages to read with, for the
case and per exhibit, and the exhibits that are paper (every picture in them is OCR'd, page-like or not).

Keys: ``ocr.languages`` (case default, Tesseract style ``spa+eng``), ``ocr.languages:<exhibit>``,
``ocr.paper`` (JSON list of exhibits). Every change is audited by the caller's ``Case.log``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from ringtrace.case import Case
from ringtrace.lock import case_lock
from ringtrace.store import schema as S

DEFAULT_LANGUAGES = "eng"


@dataclass(frozen=True)
class OcrSettings:
    paper: list[str]  # exhibits marked as paper
    languages: str  # of the exhibit asked about, else of the case
LANG_KEY = "ocr.languages"
PAPER_KEY = "ocr.paper"


def _get(con: Connection, key: str) -> str | None:
    v: str | None = con.execute(select(S.case_info.c.value).where(S.case_info.c.key == key)).scalar()
    return v


def _put(con: Connection, key: str, value: str | None) -> None:
    con.execute(delete(S.case_info).where(S.case_info.c.key == key))
    if value is not None:
        con.execute(S.case_info.insert().values(key=key, value=value))


def languages(con: Connection, exhibit: str | None = None) -> str:
    """The languages for ``exhibit``: its own setting, else the case's, else English."""
    if exhibit is not None:
        own = _get(con, f"{LANG_KEY}:{exhibit}")
        if own:
            return own
    return _get(con, LANG_KEY) or DEFAULT_LANGUAGES


def set_languages(con: Connection, value: str | None, exhibit: str | None = None) -> None:
    _put(con, f"{LANG_KEY}:{exhibit}" if exhibit else LANG_KEY, value)


def paper_exhibits(con: Connection) -> list[str]:
    raw = _get(con, PAPER_KEY)
    if not raw:
        return []
    try:
        got = json.loads(raw)
    except ValueError:
        return []
    return [str(x) for x in got] if isinstance(got, list) else []


def set_paper(con: Connection, exhibit: str, paper: bool) -> list[str]:
    now = set(paper_exhibits(con))
    if paper:
        now.add(exhibit)
    else:
        now.discard(exhibit)
    _put(con, PAPER_KEY, json.dumps(sorted(now)) if now else None)
    return sorted(now)


def configure(case: Case, exhibit: str | None = None, paper: bool | None = None,
              langs: str | None = None) -> OcrSettings:
    """Change a case's OCR settings (audited): mark an exhibit as paper or not, set languages for the case or
    an exhibit (checked against Tesseract's installed language data when Tesseract is here)."""
    from ringtrace.media.ocr import check_languages, tesseract_path

    if langs is not None and tesseract_path() is not None:
        langs = check_languages(langs)
    with case_lock(case.path, wait=case.lock_wait), case.begin() as con:
        if paper is not None:
            if not exhibit:
                raise ValueError("marking paper needs an exhibit")
            known = con.execute(select(S.sources.c.id).where(S.sources.c.exhibit == exhibit).limit(1)).first()
            if known is None:
                raise ValueError(f"no exhibit {exhibit} in this case")
            set_paper(con, exhibit, paper)
        if langs is not None:
            set_languages(con, langs, exhibit)
        now = OcrSettings(paper_exhibits(con), languages(con, exhibit))
        case.log("notes.settings", {"exhibit": exhibit, "paper": paper, "languages": langs}, con)
    return now

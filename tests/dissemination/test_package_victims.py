"""Possible victims in referral packages: only the package's own country's, only when asked, names of the rest
withheld wherever they appear."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sqlalchemy import select, update

from ringtrace.case import Case
from ringtrace.dissemination.package import WITHHELD_VICTIM, make_package
from ringtrace.store import schema as S


def _victim(con, label: str, name: str, country: str) -> None:  # type: ignore[no-untyped-def]
    con.execute(S.possible_victims.insert().values(
        label=label, name=name, age=12, place="Somewhere", place_country=country, country=country,
        country_basis="test", dates=["2004"], sha256="e" * 64, page=1, line_no=3, entity_ids=[1], basis="test"))


def test_own_country_victims_only_when_asked(case_dir: Path, tmp_path: Path) -> None:
    d = tmp_path / "case"
    shutil.copytree(case_dir, d)
    case = Case.open(d, actor="pytest")
    with case.begin() as con:
        country = con.execute(select(S.persons.c.country).where(S.persons.c.country.is_not(None))
                              .group_by(S.persons.c.country).order_by(S.persons.c.country)).scalars().first()
        other = "ZZ" if country != "ZZ" else "YY"
        _victim(con, "V0001", "Quenby Ashfold", country)
        _victim(con, "V0002", "Orla Tindermere", other)
        # the other country's victim named in a message the package quotes: must be withheld there too
        con.execute(update(S.messages).values(text="ask Orla Tindermere and Quenby Ashfold"))
    with_v = make_package(case, country, tmp_path / "out", pdf=False, include_victims=True)
    doc = json.loads((with_v.path / "package.json").read_text())
    assert [v["name"] for v in doc["possible_victims"]] == ["Quenby Ashfold"]
    assert (with_v.path / "possible_victims.csv").exists()
    everything = "".join(p.read_text(errors="ignore") for p in with_v.path.rglob("*") if p.is_file())
    assert "Orla Tindermere" not in everything and WITHHELD_VICTIM in everything

    without = make_package(case, country, tmp_path / "out", pdf=False)
    doc = json.loads((without.path / "package.json").read_text())
    assert "possible_victims" not in doc and not (without.path / "possible_victims.csv").exists()
    everything = "".join(p.read_text(errors="ignore") for p in without.path.rglob("*") if p.is_file())
    assert "Orla Tindermere" not in everything and "Quenby Ashfold" not in everything
    case.close()

"""Country attribution per person, with the basis and a confidence, never a guess.

1. An analyst's override (kind='country', subject = person label or account string) wins.
2. The phone numbering plan (libphonenumber: +1 is split into US/CA/..., +7 RU/KZ, +44 JE/GG/IM by range).
   Invalid and non-geographic numbers are flagged, not attributed.
3. The country where the person's own device was seized, as a second basis (agreeing raises confidence; a
   disagreement is noted and the phone's country kept).
LID-only or Telegram-id-only people get no country and say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import phonenumbers
from sqlalchemy import Connection, select, update

from ringtrace.analysis.labels import successors
from ringtrace.analysis.persons import Resolution, parse_account_str
from ringtrace.lock import writes_case
from ringtrace.store import schema as S


class CountryError(ValueError):
    pass


@dataclass(frozen=True)
class Attribution:
    country: str | None
    basis: str
    confidence: float | None


def phone_country(e164: str) -> tuple[str | None, str]:
    """(country, reason) for one number; country None when the number cannot place anyone."""
    try:
        n = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None, f"{e164} is not a parseable phone number"
    if not phonenumbers.is_valid_number(n):
        return None, f"{e164} is not a valid number in any numbering plan"
    region = phonenumbers.region_code_for_number(n)
    if not region or region in ("001", "ZZ"):
        return None, f"{e164} is a non-geographic number (+{n.country_code})"
    return region, f"phone numbering plan: {e164} is a {region} number"


def _overrides(con: Connection) -> dict[str, list[tuple[Any, str | None]]]:
    """Subject (a current label or an account) -> its country decisions, oldest first, each with the label it was
    taken on when that label has since been merged into another (so the basis can say so)."""
    succ = successors(con)
    out: dict[str, list[tuple[Any, str | None]]] = {}
    for o in con.execute(select(S.overrides).where(S.overrides.c.kind == "country").order_by(S.overrides.c.id)):
        now = succ.get(o.subject)
        out.setdefault(now or o.subject, []).append((o, o.subject if now else None))
    return out


def attribute_countries(con: Connection, res: Resolution) -> list[Attribution]:
    overrides = _overrides(con)
    seized: dict[int, set[tuple[str, str]]] = {}  # person index -> {(country, exhibit)}
    q = (select(S.device_owners.c.account_id, S.sources.c.seizure_country, S.sources.c.exhibit)
         .join(S.sources, S.sources.c.id == S.device_owners.c.source_id))
    for aid, country, sid in con.execute(q):
        if country and aid in res.person_of:
            seized.setdefault(res.person_of[aid], set()).add((country.upper(), sid))
    out: list[Attribution] = []
    for i, p in enumerate(res.persons):
        decided = list(overrides.get(p.label, []))
        for aid in p.account_ids:
            decided += overrides.get(res.account_text[aid], [])
        if decided:
            o, via = max(decided, key=lambda d: d[0].id)  # the newest decision on any of the person's subjects wins
            carried = f" (decided on {via}, since merged into {p.label})" if via else ""
            out.append(Attribution(o.value.upper(), f"manual override by {o.by}: {o.reason or 'no reason given'}"
                                   f"{carried}", 1.0))
            continue
        found: dict[str, str] = {}
        flags: list[str] = []
        for e in p.phones:
            c, why = phone_country(e)
            if c:
                found.setdefault(c, why)
            else:
                flags.append(why)
        dev = sorted(seized.get(i, set()))
        dev_countries = sorted({c for c, _ in dev})
        if found:
            countries = sorted(found)
            country = countries[0]
            basis = [found[country]]
            conf = 0.9
            if len(countries) > 1:
                basis.append(f"conflict: the person's numbers point to {', '.join(countries)}")
                conf = 0.5
            if dev_countries:
                srcs = ", ".join(s for _, s in dev)
                if dev_countries == [country]:
                    basis.append(f"device seized in {country} ({srcs})")
                    conf = min(0.97, conf + 0.07)
                else:
                    basis.append(f"conflict: device seized in {', '.join(dev_countries)} ({srcs}); "
                                 "phone country kept")
                    conf = min(conf, 0.6)
            basis.extend(f"flag: {f}" for f in flags)
            out.append(Attribution(country, "; ".join(basis), conf))
            continue
        if dev_countries:
            srcs = ", ".join(s for _, s in dev)
            reason = f"device seized in {', '.join(dev_countries)} ({srcs})"
            extra = "; ".join(f"flag: {f}" for f in flags)
            conf = 0.6 if len(dev_countries) == 1 else 0.3
            out.append(Attribution(dev_countries[0], reason + ("; " + extra if extra else ""), conf))
            continue
        if flags:
            out.append(Attribution(None, "flagged: " + "; ".join(flags) + "; no country attributed", None))
            continue
        kinds = sorted({res.account_kind[a] for a in p.account_ids})
        out.append(Attribution(None, f"flagged: no phone number known (only {', '.join(kinds)}); "
                               "no country attributed", None))
    return out


@writes_case
def set_country(case: Any, subject: str, country: str, by: str, reason: str) -> int:
    """Record an analyst's country for a person (label 'P0012') or an account ('platform:kind:value').
    Audited; applied to the persons table now when the subject resolves, and at every later analyze."""
    c = (country or "").strip().upper()
    if len(c) != 2 or not c.isalpha() or c not in phonenumbers.SUPPORTED_REGIONS:
        raise CountryError(f"{country!r} is not an ISO 3166 alpha-2 country code")
    if not by.strip():
        raise CountryError("a country override must name who decided it")
    is_label = subject.startswith("P") and subject[1:].isdigit()
    if not is_label:
        parse_account_str(subject)
    with case.begin() as con:
        if is_label:
            succ = successors(con)
            known = con.execute(select(S.persons.c.id).where(S.persons.c.label == subject)).scalar()
            if known is None and subject not in succ:
                raise CountryError(f"no person {subject} in this case (see 'ringtrace suspects')")
            if known is None:
                subject_now = succ[subject]
                raise CountryError(f"{subject} was merged into {subject_now}; decide on {subject_now}")
        else:
            p, k, v = parse_account_str(subject)
            if con.execute(select(S.accounts.c.id).where(S.accounts.c.platform == p, S.accounts.c.kind == k,
                                                         S.accounts.c.value == v)).scalar() is None:
                raise CountryError(f"no account {subject!r} in this case")
        oid = con.execute(S.overrides.insert().values(kind="country", subject=subject, value=c, reason=reason,
                                                      by=by, at=datetime.now(UTC))).inserted_primary_key[0]
        basis = f"manual override by {by}: {reason or 'no reason given'}"
        pid = con.execute(select(S.persons.c.id).where(S.persons.c.label == subject)).scalar()
        if pid is None and ":" in subject:
            p, k, v = parse_account_str(subject)
            pid = con.execute(
                select(S.person_accounts.c.person_id)
                .join(S.accounts, S.accounts.c.id == S.person_accounts.c.account_id)
                .where(S.accounts.c.platform == p, S.accounts.c.kind == k, S.accounts.c.value == v)).scalar()
        if pid is not None:
            con.execute(update(S.persons).where(S.persons.c.id == pid)
                        .values(country=c, country_basis=basis, country_confidence=1.0))
        case.log("override.country", {"override_id": oid, "subject": subject, "country": c, "by": by,
                                      "reason": reason}, con)
    return int(oid)

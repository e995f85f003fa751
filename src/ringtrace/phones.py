"""Phone numbers to E.164 in one module: :func:`to_e164` for sources reading evidence (strict, one way for
every source, so that the same number gives the same account key whether it came from a database, an export, a
capture or the examiner) and :func:`normalize_phone` for the analysis comparing numbers already stored."""

from __future__ import annotations

import phonenumbers


def to_e164(raw: object, region: str | None = None, *, bare_digits_international: bool = True,
            strict: bool = True) -> str | None:
    """``raw`` as E.164 (``+34612345678``), or None when it is not a number.

    ``region``: ISO alpha-2 region for national-format numbers. ``bare_digits_international``: digits without a
    plus and with no region are read as international (how WhatsApp JIDs and Telegram store numbers).
    ``strict``: require a valid number for its region (libphonenumber's ranges); otherwise a possible one (right
    length) is enough, for sources that print numbers the examiner must still see."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if not text or len(text) > 64:
        return None
    if bare_digits_international and region is None and not text.startswith("+") and text.isdigit():
        text = "+" + text
    try:
        num = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    ok = phonenumbers.is_valid_number(num) if strict else phonenumbers.is_possible_number(num)
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164) if ok else None


def normalize_phone(raw: str, default_region: str | None) -> str | None:
    """E.164 for a phone written internationally (``+``/``00``) or, with the device's region, nationally; None if
    not a number at all. Lenient where :func:`to_e164` is strict: the analysis compares numbers already stored,
    so an invalid-but-parseable number keeps its digits and identical values still meet."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        if raw.startswith("+") or raw.startswith("00"):
            n = phonenumbers.parse("+" + raw.lstrip("+0") if raw.startswith("00") else raw, None)
        elif default_region:
            n = phonenumbers.parse(raw, default_region.upper())
        else:
            return None
    except phonenumbers.NumberParseException:
        digits = "".join(c for c in raw if c.isdigit())
        return "+" + digits if raw.startswith("+") and 5 <= len(digits) <= 15 else None
    return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)


def region_of_phone(e164: str | None) -> str | None:
    """ISO region of a valid geographic number, else None."""
    if not e164:
        return None
    try:
        n = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(n):
        return None
    r = phonenumbers.region_code_for_number(n)
    return r if r and r != "001" and r != "ZZ" else None

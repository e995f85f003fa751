"""Phone numbers to E.164, one way for every source, so that the same number gives the same account key
whether it came from a database, an export, a capture or the examiner."""

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

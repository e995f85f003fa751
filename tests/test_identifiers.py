"""identifiers.py: one class per account kind (normalise, tokens, phones, display, keys, unknown kinds)."""

from __future__ import annotations

import phonenumbers
import pytest

from ringtrace.identifiers import (
    KIND_ORDER,
    KINDS,
    PHONE_KINDS,
    Email,
    ExportName,
    Identifier,
    IdentifierError,
    Jid,
    Lid,
    Phone,
    TelegramChannel,
    TelegramChat,
    TelegramId,
    UnknownKindError,
    Username,
    format_key,
    identifier,
    identifier_class,
    looks_like_invite_code,
    match_key,
    old_group_jid,
    parse_key,
    phone_digits_of,
    search_tokens,
    split_key,
    telegram_chat_number,
)
from ringtrace.model import AccountKey, AccountKind
from ringtrace.phones import normalize_phone, region_of_phone


def _example(region: str) -> phonenumbers.PhoneNumber:
    n = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert n is not None
    return n


def _written_forms(region: str) -> tuple[str, list[str], list[str]]:
    """(E.164, international written forms, national written forms) of a synthetic valid mobile number."""
    n = _example(region)
    e164 = phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
    intl = phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    national = phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.NATIONAL)
    return e164, [e164, intl, " " + intl + " ", "00" + e164[1:]], [national, national.replace(" ", "")]


@pytest.mark.parametrize("region", ["ES", "IT", "GB", "DE", "BR"])
def test_phone_normalises_written_forms(region: str) -> None:
    e164, intl, national = _written_forms(region)
    for form in intl:
        assert Phone("whatsapp", form).phone() == e164, form
        assert normalize_phone(form, None) == e164
    for form in national:
        assert Phone("phone", form).phone(region) == e164, form
        assert Phone("phone", form).phone(None) is None  # a national number needs the device's region
    assert region_of_phone(e164) == region


def test_phone_deconflicts_only_international_numbers() -> None:
    e164, intl, national = _written_forms("ES")
    assert Phone("whatsapp", intl[1]).match_key() == ("phone", e164)
    assert Phone("whatsapp", national[0]).match_key() is None
    assert Phone("whatsapp", "").match_key() is None
    assert match_key("phone", e164) == ("phone", e164)


def test_jid_carries_its_phone() -> None:
    e164, _intl, _nat = _written_forms("IT")
    digits = e164[1:]
    for value in (f"{digits}@s.whatsapp.net", f"{digits}:12@s.whatsapp.net"):
        j = Jid("whatsapp", value)
        assert j.carries_phone
        assert j.phone_text() == e164
        assert j.phone() == e164
        assert j.match_key() == ("phone", e164)  # a JID and a phone of the same number meet between cases
    assert Jid("whatsapp", "status@broadcast").phone_text() is None
    assert Jid("whatsapp", "status@broadcast").match_key() is None
    assert phone_digits_of("jid", f"{digits}@s.whatsapp.net") == e164
    assert phone_digits_of("phone", e164) == e164
    assert phone_digits_of("lid", "123@lid") is None
    assert PHONE_KINDS == ("phone", "jid")
    assert not any(KINDS[k].carries_phone for k in KINDS if k not in PHONE_KINDS)


def test_normalised_values_of_app_kinds() -> None:
    assert Lid("whatsapp", "803467527801918@lid").match_key() == ("lid", "803467527801918")
    assert TelegramId("telegram", " 123456789 ").match_key() == ("tg_id", "123456789")
    assert Username("telegram", " @Nick_Name ").match_key() == ("username", "nick_name")
    assert Email("email", " Ana.Pym@Example.ORG ").match_key() == ("email", "ana.pym@example.org")
    # kinds meaningful only where they were seen are never compared between cases
    assert ExportName("whatsapp", "S2:Denise Ruddock").match_key() is None
    assert ExportName.scoped and not ExportName.deconflicts
    assert TelegramChannel("telegram", "123").match_key() is None
    assert TelegramChat("telegram", "123").match_key() is None
    assert match_key("some_future_kind", "x") is None


def test_tokens() -> None:
    e164, _intl, _nat = _written_forms("ES")
    digits = e164[1:]
    assert search_tokens("phone", e164) == {e164, digits}
    assert search_tokens("jid", f"{digits}:3@s.whatsapp.net") == {
        f"{digits}:3@s.whatsapp.net", f"{digits}:3", digits}
    assert search_tokens("lid", "803467527801918@lid") == {"803467527801918@lid", "803467527801918"}
    assert search_tokens("export_name", "S2:Denise Ruddock") == {"S2:Denise Ruddock", "Denise Ruddock"}
    assert search_tokens("username", "@nick") == {"@nick", "nick"}
    assert search_tokens("username", "nick") == {"@nick", "nick"}
    assert search_tokens("email", "ana@example.org") == {"ana@example.org", "ana"}
    assert search_tokens("tg_id", "123456789") == {"123456789"}
    # unknown kinds still yield the generic tokens; too-short tokens are dropped
    assert search_tokens("name", "~") == set()
    assert search_tokens("name", "+4915123456789") == {"+4915123456789", "4915123456789"}


def test_display() -> None:
    assert ExportName("whatsapp", "S2:Denise Ruddock").display() == "Denise Ruddock"
    assert ExportName("whatsapp", "Tío Pepe").display() == "Tío Pepe"
    assert Username("telegram", "nick").display() == "@nick"
    assert Username("telegram", "@nick").display() == "@nick"
    assert TelegramId("telegram", "42").display() == "user42"
    assert TelegramChannel("telegram", "42").display() == "channel42"
    assert TelegramChat("telegram", "42").display() == "chat42"
    assert Phone("whatsapp", "+393121706690").display() == "+393121706690"


@pytest.mark.parametrize("key", [
    "whatsapp:phone:+393121706690",
    "whatsapp:jid:393121706690:7@s.whatsapp.net",
    "whatsapp:lid:803467527801918@lid",
    "telegram:tg_id:123456789",
    "telegram:username:nick",
    "email:email:ana@example.org",
    "telegram:tg_channel:77",
    "telegram:tg_chat:78",
    "whatsapp:export_name:S2:Denise Ruddock",
])
def test_key_round_trip(key: str) -> None:
    ident = parse_key(key)
    assert str(ident) == key
    assert format_key(*split_key(key)) == key
    assert str(ident.key) == key
    assert isinstance(ident.key, AccountKey)
    assert type(ident) is KINDS[ident.kind]
    assert identifier(ident.platform, ident.kind, ident.value) == ident


def test_malformed_and_unknown_keys() -> None:
    for bad in ("whatsapp", "whatsapp:phone", "whatsapp::x", ":phone:x", "whatsapp:phone:"):
        with pytest.raises(IdentifierError, match="not an account reference"):
            parse_key(bad)
    with pytest.raises(UnknownKindError, match="unknown account kind 'fax'"):
        parse_key("whatsapp:fax:123")
    with pytest.raises(UnknownKindError):
        identifier_class("fax")
    with pytest.raises(KeyError):  # an UnknownKindError is a KeyError too, for registry-style callers
        identifier("whatsapp", "", "x")


def test_registry_covers_model_kinds_and_ranks() -> None:
    assert set(KINDS) == {k.value for k in AccountKind}
    assert all(issubclass(c, Identifier) and c.kind == k for k, c in KINDS.items())
    # phones name a person first, export names last
    assert KIND_ORDER["phone"] < KIND_ORDER["jid"] < KIND_ORDER["lid"] < KIND_ORDER["tg_id"]
    assert KIND_ORDER["tg_id"] < KIND_ORDER["username"] < KIND_ORDER["email"] < KIND_ORDER["export_name"]


def test_group_identifiers() -> None:
    assert old_group_jid("393121706690-1420070400@g.us") == ("+393121706690", 1420070400)
    assert old_group_jid("120363041234567890@g.us") is None
    assert telegram_chat_number("-1001234567890") == "1234567890"
    assert telegram_chat_number("-4242") == "4242"
    assert telegram_chat_number("1001") == "1001"  # too short to carry the -100 prefix
    assert looks_like_invite_code("whatsapp", "AbCdEfGhIjKlMnOpQrStUv")
    assert not looks_like_invite_code("whatsapp", "Some Inviter")
    assert looks_like_invite_code("telegram", "AbCdEf_123-xyz")
    assert not looks_like_invite_code("telegram", "Joana Pym")
    assert looks_like_invite_code("signal", "abc")
    assert not looks_like_invite_code("signal", "a b")
    assert not looks_like_invite_code("whatsapp", None)

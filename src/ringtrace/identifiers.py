"""Identifiers in one place: one class per account kind, and the few group identifiers the analysis reads.

An account is ``platform:kind:value`` (:class:`ringtrace.model.AccountKey`). Each kind's class knows

* how a value is normalised for comparison (:meth:`Identifier.normalised`; phones through :mod:`ringtrace.phones`),
* which key it yields for deconfliction between cases (:meth:`Identifier.match_key`; None for kinds that mean
  nothing outside their source, such as an export's printed name),
* which tokens it can show up under in evidence text and file names (:meth:`Identifier.tokens`, for search and
  the need-to-know scrubber),
* whether it carries a phone number (:attr:`Identifier.carries_phone`, :meth:`Identifier.phone_text`),
* how it is shown (:meth:`Identifier.display`) and ranked when naming a person (:attr:`Identifier.rank`),
* how its account key is parsed and formatted (:func:`parse_key`, :func:`format_key`).

``KINDS`` maps kind -> class; a new app adds its class here (and to ``KINDS``) when it brings a new kind.
Need-to-know packages never mask an identifier on its own: every token of a non-target person is replaced by
that person's pseudonym (:mod:`ringtrace.dissemination.needtoknow`), so no per-kind masked form exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from ringtrace.model import AccountKey, AccountKind
from ringtrace.phones import normalize_phone

__all__ = [
    "KINDS", "KIND_ORDER", "MIN_TOKEN_ALNUM", "PHONE_KINDS", "Email", "ExportName", "Identifier", "IdentifierError",
    "Jid", "Lid", "Phone", "TelegramChannel", "TelegramChat", "TelegramId", "UnknownKindError", "Username",
    "account_str", "format_key", "identifier", "identifier_class", "looks_like_invite_code", "match_key",
    "old_group_jid", "parse_key", "phone_digits_of", "search_tokens", "split_key", "telegram_chat_number",
]


class IdentifierError(ValueError):
    """A written account key that is not ``platform:kind:value``."""


class UnknownKindError(IdentifierError, KeyError):
    """An account kind no identifier class is registered for."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True, slots=True)
class Identifier:
    """One account identifier: a platform and a value of this class's kind. The base class is also the
    behaviour of a kind no class is registered for (generic tokens, no deconfliction, no phone)."""

    platform: str
    value: str

    kind: ClassVar[str] = ""
    carries_phone: ClassVar[bool] = False
    #: kinds that mean nothing outside the source that printed them: never compared between cases
    scoped: ClassVar[bool] = False
    #: compared between cases (deconfliction) under ``(kind, normalised value)``
    deconflicts: ClassVar[bool] = False
    #: which identifier names a person first: phones before app ids, export names last
    rank: ClassVar[int] = 6

    # ---- keys -------------------------------------------------------------------------------------------------
    @property
    def key(self) -> AccountKey:
        return AccountKey(self.platform, self.kind, self.value)

    def __str__(self) -> str:
        return format_key(self.platform, self.kind, self.value)

    # ---- normalisation ----------------------------------------------------------------------------------------
    def normalised(self) -> str | None:
        """The form two values of this kind are compared in; None when the value is not usable."""
        return self.value.strip()

    def match_key(self) -> tuple[str, str] | None:
        """(kind, normalised value) under which two cases compare this identifier, or None."""
        if not self.deconflicts:
            return None
        n = self.normalised()
        return (self.kind, n) if n is not None else None

    # ---- phones -----------------------------------------------------------------------------------------------
    def phone_text(self) -> str | None:
        """The raw phone text this identifier carries (not yet normalised), or None."""
        return None

    def phone(self, region: str | None = None) -> str | None:
        """E.164 of the phone this identifier carries (a national number read with ``region``), or None."""
        raw = self.phone_text()
        return normalize_phone(raw, region) if raw else None

    # ---- showing ----------------------------------------------------------------------------------------------
    def tokens(self) -> set[str]:
        """Every string under which the identifier can show up in evidence text (unfiltered: see
        :func:`search_tokens`)."""
        out = {self.value}
        v = self.value
        if v.startswith("+") and v[1:].isdigit():
            out.add(v.lstrip("+"))
        if "@" in v:
            local = v.split("@", 1)[0]
            out.add(local)
            if ":" in local:  # multi-device JID 3912...:12@s.whatsapp.net
                out.add(local.split(":", 1)[0])
        return out

    def display(self) -> str:
        """How the identifier is shown to an analyst."""
        return self.value


@dataclass(frozen=True, slots=True)
class Phone(Identifier):
    """An E.164 phone number (``+34612345678``), under any platform."""

    kind: ClassVar[str] = AccountKind.PHONE.value
    carries_phone: ClassVar[bool] = True
    deconflicts: ClassVar[bool] = True
    rank: ClassVar[int] = 0

    def phone_text(self) -> str | None:
        return self.value

    def normalised(self) -> str | None:
        raw = self.phone_text()
        # between cases a number counts only when written internationally: no device region applies
        return normalize_phone(raw, None) if raw and raw.startswith("+") else None

    def match_key(self) -> tuple[str, str] | None:
        n = self.normalised()
        return ("phone", n) if n else None

    def tokens(self) -> set[str]:
        return Identifier.tokens(self) | {self.value.lstrip("+")}


@dataclass(frozen=True, slots=True)
class Jid(Phone):
    """A WhatsApp phone JID (``34612345678@s.whatsapp.net``, multi-device ``...:12@s.whatsapp.net``)."""

    kind: ClassVar[str] = AccountKind.JID.value
    rank: ClassVar[int] = 1

    def phone_text(self) -> str | None:
        user = self.value.split("@", 1)[0].split(":", 1)[0]
        return "+" + user if user.isdigit() else None

    def tokens(self) -> set[str]:
        return Identifier.tokens(self)


@dataclass(frozen=True, slots=True)
class Lid(Identifier):
    """A WhatsApp LID (``123456789012345@lid``): an opaque id, compared by the digits before the ``@``."""

    kind: ClassVar[str] = AccountKind.LID.value
    deconflicts: ClassVar[bool] = True
    rank: ClassVar[int] = 2

    def normalised(self) -> str | None:
        return self.value.split("@", 1)[0]


@dataclass(frozen=True, slots=True)
class TelegramId(Identifier):
    """A Telegram numeric user id (tdesktop's ``user123456789`` is stored as ``123456789``)."""

    kind: ClassVar[str] = AccountKind.TG_ID.value
    deconflicts: ClassVar[bool] = True
    rank: ClassVar[int] = 3

    def display(self) -> str:
        return "user" + self.value


@dataclass(frozen=True, slots=True)
class Username(Identifier):
    """A public ``@username``; compared without the ``@`` and case-insensitively."""

    kind: ClassVar[str] = AccountKind.USERNAME.value
    deconflicts: ClassVar[bool] = True
    rank: ClassVar[int] = 4

    def normalised(self) -> str | None:
        return self.value.strip().lstrip("@").lower()

    def tokens(self) -> set[str]:
        handle = self.value.lstrip("@")
        return Identifier.tokens(self) | {handle, "@" + handle}

    def display(self) -> str:
        return "@" + self.value.lstrip("@")


@dataclass(frozen=True, slots=True)
class Email(Identifier):
    """An e-mail address; compared case-insensitively."""

    kind: ClassVar[str] = AccountKind.EMAIL.value
    deconflicts: ClassVar[bool] = True
    rank: ClassVar[int] = 5

    def normalised(self) -> str | None:
        return self.value.strip().lower()


@dataclass(frozen=True, slots=True)
class TelegramChannel(Identifier):
    """A Telegram channel posting as itself (``channel123`` -> ``123``)."""

    kind: ClassVar[str] = AccountKind.TG_CHANNEL.value

    def display(self) -> str:
        return "channel" + self.value


@dataclass(frozen=True, slots=True)
class TelegramChat(Identifier):
    """A Telegram group posting as itself, an anonymous admin (``chat123`` -> ``123``)."""

    kind: ClassVar[str] = AccountKind.TG_CHAT.value

    def display(self) -> str:
        return "chat" + self.value


@dataclass(frozen=True, slots=True)
class ExportName(Identifier):
    """A sender known only by the name an export printed, scoped by its source at store time
    (``S2:Denise Ruddock``): meaningless outside that source, so never compared between cases."""

    kind: ClassVar[str] = AccountKind.EXPORT_NAME.value
    scoped: ClassVar[bool] = True
    rank: ClassVar[int] = 9

    def tokens(self) -> set[str]:
        out = Identifier.tokens(self)
        if ":" in self.value:
            out.add(self.value.split(":", 1)[1])
        return out

    def display(self) -> str:
        return self.value.split(":", 1)[1] if ":" in self.value else self.value


KINDS: dict[str, type[Identifier]] = {c.kind: c for c in (
    Phone, Jid, Lid, TelegramId, Username, Email, TelegramChannel, TelegramChat, ExportName)}
PHONE_KINDS: tuple[str, ...] = tuple(k for k, c in KINDS.items() if c.carries_phone)
KIND_ORDER: dict[str, int] = {k: c.rank for k, c in KINDS.items()}
MIN_TOKEN_ALNUM = 2  # a token with fewer letters/digits than this ("~", ".") cannot be searched meaningfully


def identifier_class(kind: str) -> type[Identifier]:
    try:
        return KINDS[kind]
    except KeyError:
        raise UnknownKindError(f"unknown account kind {kind!r}; known: {', '.join(KINDS)}") from None


def identifier(platform: str, kind: str, value: str) -> Identifier:
    """The identifier object of an account; :class:`UnknownKindError` for a kind no class knows."""
    return identifier_class(kind)(platform, value)


def _lenient(kind: str, value: str) -> Identifier:
    """For values read back from a case: a kind no class knows behaves as the generic base."""
    return KINDS.get(kind, Identifier)("", value)


# ---- account keys ---------------------------------------------------------------------------------------------
def format_key(platform: str, kind: str, value: str) -> str:
    return f"{platform}:{kind}:{value}"


account_str = format_key


def split_key(text: str) -> tuple[str, str, str]:
    """``platform:kind:value`` -> its three parts (the value may hold ``:``); :class:`IdentifierError` if not."""
    parts = text.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise IdentifierError(f"{text!r} is not an account reference; write platform:kind:value, "
                              "e.g. whatsapp:phone:+34612345678")
    return parts[0], parts[1], parts[2]


def parse_key(text: str) -> Identifier:
    """An account key as written (``whatsapp:jid:34612345678@s.whatsapp.net``) -> its identifier object."""
    return identifier(*split_key(text))


# ---- shortcuts by (kind, value) for loops over stored accounts -------------------------------------------------
def phone_digits_of(kind: str, value: str) -> str | None:
    """The raw phone text of a phone-like account (a JID carries the number before '@')."""
    return _lenient(kind, value).phone_text()


def match_key(kind: str, value: str) -> tuple[str, str] | None:
    """(kind, normalised value) under which two cases compare an account, None for kinds never compared."""
    return _lenient(kind, value).match_key()


def search_tokens(kind: str, value: str) -> set[str]:
    """The strings under which an account can show up in evidence text and file names (each with at least two
    letters or digits)."""
    return {t for t in _lenient(kind, value).tokens() if sum(ch.isalnum() for ch in t) >= MIN_TOKEN_ALNUM}


# ---- group identifiers -----------------------------------------------------------------------------------------
_OLD_GROUP_JID = re.compile(r"^(\d{5,15})-(\d{9,11})@g\.us$")


def old_group_jid(key: str) -> tuple[str, int] | None:
    """An old-style WhatsApp group id ``<creator digits>-<unix time>@g.us`` -> (creator ``+digits``, creation
    time in seconds), else None."""
    m = _OLD_GROUP_JID.match(key)
    return ("+" + m.group(1), int(m.group(2))) if m else None


def telegram_chat_number(key: str) -> str:
    """A Telegram chat id in any of its written forms (``-1001234567890`` bot-API supergroup/channel form,
    ``-123``, ``123``) -> the bare number, so that a migration's target finds the chat it names."""
    k = key.lstrip("-")
    return k[3:] if k.startswith("100") and len(k) > 12 else k


# what an invite code of each platform looks like (as extract_indicators finds them)
_INVITE_CODE_SHAPE = {"whatsapp": re.compile(r"[A-Za-z0-9]{20,24}"),
                      "telegram": re.compile(r"[A-Za-z0-9_-]{12,64}"),
                      "discord": re.compile(r"[A-Za-z0-9-]{2,32}")}


def looks_like_invite_code(platform: str, value: str | None) -> bool:
    """Whether ``value`` has the shape of an invite code of ``platform`` (other platforms: no space in it)."""
    if not value:
        return False
    shape = _INVITE_CODE_SHAPE.get(platform)
    return bool(shape.fullmatch(value)) if shape is not None else " " not in value

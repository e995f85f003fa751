"""What the WhatsApp device readers (Android msgstore.db, iOS ChatStorage.sqlite, an iOS backup's copy) share:
who owns the device, who sent a row, and each account announced once.

The owner is, in this order: the number the app records for itself (shared_prefs registration_jid, the
OwnJabberID plist), the examiner's ``--owner``, else an inference from the database by rules the reader names
(strongest first; the first rule whose rows name exactly one number decides, a rule whose rows disagree
decides nothing and is reported). An inferred owner ranks below ``--owner`` and its basis says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence

from ringtrace.model import (
    Account,
    AccountKey,
    ChatKind,
    ChatRef,
    DeviceOwner,
    Platform,
    Problem,
    Prov,
    ReadOptions,
    Record,
)

WA = Platform.WHATSAPP.value

#: An owner rule: its name, and the (number, where) pairs its rows give, read lazily.
OwnerRule = tuple[str, Callable[[], Iterable[tuple[AccountKey, Prov]]]]


def phone_account(number: str | None) -> AccountKey | None:
    if not number:
        return None
    digits = re.sub(r"\D", "", number)
    return AccountKey(WA, "phone", "+" + digits) if 5 <= len(digits) <= 15 else None


def choose_owner(recorded: Iterable[tuple[str | None, Prov, str]], options: ReadOptions, file: str,
                 ) -> tuple[AccountKey, Prov, str] | None:
    """The device owner: the first number the device records for itself (``recorded``: number, where, basis;
    read lazily), else the examiner's ``--owner``, else None."""
    for number, prov, basis in recorded:
        key = phone_account(number)
        if key:
            return key, prov, basis
    key = phone_account(options.owner)
    return (key, Prov(file, "--owner"), "--owner") if key else None


def message_sender(from_me: object, chat: ChatRef, owner: AccountKey | None, in_group: AccountKey | None,
                   ) -> AccountKey | None:
    """Who sent a message: the owner for their own, the peer in a direct chat, else the group sender."""
    if from_me:
        return owner
    return chat.peer if chat.kind == ChatKind.DIRECT.value else in_group


class DeviceReader:
    """Base of a WhatsApp device database reader: ``file`` (the database, as records cite it), the ``owner``
    once known, and the accounts already announced (``seen``)."""

    def __init__(self, file: str, options: ReadOptions) -> None:
        self.file = file
        self.options = options
        self.owner: AccountKey | None = None
        self.seen: set[AccountKey] = set()

    def account(self, key: AccountKey | None, prov: Prov) -> Iterator[Record]:
        """An Account record the first time ``key`` is met in this database."""
        if key is not None and key not in self.seen:
            self.seen.add(key)
            yield Account(key, prov)

    def recorded_owner(self, recorded: Iterable[tuple[str | None, Prov, str]]) -> Iterator[Record]:
        """The owner the device records (else ``--owner``): set, announced; nothing when neither names one."""
        found = choose_owner(recorded, self.options, self.file)
        if found is not None:
            self.owner, prov, basis = found
            yield from self.account(self.owner, prov)
            yield DeviceOwner(self.owner, basis, prov)

    def inferred_owner(self, rules: Sequence[OwnerRule], none_found: str, phones_only: bool = False,
                       ) -> Iterator[Record]:
        """The owner from the database by ``rules`` (strongest first), used only when the device records none
        and no ``--owner`` was given. ``none_found`` says, for the examiner, what was looked for (in brackets)
        and what is lost without it; ``phones_only``: keys other than phone numbers (LIDs) do not count."""
        found: tuple[AccountKey, Prov, str] | None = None
        for rule, rows in rules:
            keys: dict[AccountKey, Prov] = {}
            for key, prov in rows():
                if not phones_only or key.kind == "phone":
                    keys.setdefault(key, prov)
            if len(keys) == 1:
                ((key, prov),) = keys.items()
                found = key, prov, f"inferred from the database ({rule}); ranks below --owner"
                break
            if len(keys) > 1:
                yield Problem(
                    self.file,
                    f"device owner rule '{rule}' names {len(keys)} different numbers "
                    f"({', '.join(sorted(k.value for k in keys)[:5])}); rule not used",
                    None,
                    "warning",
                )
        if found is None:
            yield Problem(self.file, f"device owner's number not found {none_found}", None, "warning")
            return
        self.owner, prov, basis = found
        yield from self.account(self.owner, prov)
        yield DeviceOwner(self.owner, basis, prov)
        yield Problem(self.file, f"device owner {self.owner.value} {basis}", prov, "info")

"""Encrypted WhatsApp Android backups: ``msgstore.db.crypt12`` / ``.crypt14`` / ``.crypt15``.

Recognised so the examiner is told what the file is and what is needed; decryption is not implemented yet.
Header layouts per wa-crypt-tools (ElDavoo/wa-crypt-tools): crypt14/15 start with a one-byte protobuf length,
a feature-flag byte (0 or 1) and a ``BackupPrefix`` protobuf whose first field (key_type, a varint: tag 0x08)
follows; crypt12 has a fixed 67-byte header and is known here by its name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ringtrace.model import Problem, Prov, ReadOptions, Record
from ringtrace.sources.base import Candidate, SourceFormat, Unit, register

_NAME = re.compile(r"^(msgstore|wa|backup_settings|stickers|chatsettingsbackup)[\w.-]*\.db\.crypt(1[2-5])$")


def crypt_version(candidate: Candidate) -> str | None:
    """'crypt12'..'crypt15' by name and header, or None."""
    m = _NAME.match(candidate.name)
    head = candidate.head
    if candidate.is_sqlite or len(head) < 67:
        return None
    proto = len(head) > 3 and 2 <= head[0] < 0x80 and head[1] in (0, 1) and head[2] == 0x08
    if m:
        return f"crypt{m.group(2)}"
    return "crypt15" if proto and candidate.name.endswith(".crypt15") else None


@register
class WhatsAppCrypt(SourceFormat):
    name = "whatsapp-crypt"
    description = "encrypted WhatsApp backup (crypt12/14/15): recognised, needs a key"

    def claim(self, candidate: Candidate) -> int:
        version = crypt_version(candidate)
        if version is None:
            return 0
        head = candidate.head
        proto = 2 <= head[0] < 0x80 and head[1] in (0, 1) and head[2] == 0x08
        return 80 if (version in ("crypt14", "crypt15") and proto) or version == "crypt12" else 40

    def read(self, unit: Unit, options: ReadOptions) -> Iterator[Record]:
        name = unit.primary.rsplit("/", 1)[-1]
        version = name.rsplit(".", 1)[-1] if ".crypt" in name else "crypt"
        hint = " (a key was given, but decryption is not implemented yet)" if options.extra.get("key") else ""
        yield Problem(
            unit.primary,
            f"encrypted WhatsApp backup ({version}): a key is needed (key file or 64-hex key){hint}",
            Prov(unit.primary),
            "error",
        )

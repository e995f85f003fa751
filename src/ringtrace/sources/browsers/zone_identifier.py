"""Windows' Mark of the Web: the ``Zone.Identifier`` alternate data stream a browser (or a mail or chat program)
writes beside every file it downloads to NTFS, read off a disk image as the file ``<file>:Zone.Identifier``
(ringtrace.disk.walk yields each named stream as a file of its own).

Its content is an INI section, recognised by it, never by the name::

    [ZoneTransfer]
    ZoneId=3
    ReferrerUrl=http://...onion/board/thread-12
    HostUrl=http://...onion/files/album.zip

``ZoneId`` is the URL zone (0 this computer, 1 intranet, 2 trusted, 3 Internet, 4 restricted); ``HostUrl`` where
the file was downloaded from; ``ReferrerUrl`` the page that linked to it. Both become indicators (URL, onion
address, invite link ...) whose provenance is the stream, hence the file: ``ringtrace leads`` counts them as a
visit by the device's owner, as a browser's history is (the stream holds no time; the downloaded file's own times
are in its place). Nothing is fetched. Bounds: the stream is read up to ``MAX_BYTES``, values up to ``MAX_URL``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from ringtrace.indicators.capture import indicator_from
from ringtrace.indicators.extract import extract_indicators
from ringtrace.model import Problem, Prov, ReadOptions, Record
from ringtrace.sources.base import Candidate, FormatError, SourceFormat, Unit, register
from ringtrace.sources.browsers._visits import owner_records

MAX_BYTES = 64 * 1024
MAX_URL = 8192
SECTION = "[zonetransfer]"
ZONES = {0: "this computer", 1: "local intranet", 2: "trusted sites", 3: "Internet", 4: "restricted sites"}
URL_KEYS = (("hosturl", "HostUrl", "downloaded from"), ("referrerurl", "ReferrerUrl", "download linked from"))
# first bytes with which the decoded text cannot start, after white space, with "[": an ASCII character that is
# neither "[" nor white space is itself the text's first character; a byte that cannot begin a UTF-8 sequence is
# read as U+FFFD. (0xfe and 0xff may begin a UTF-16 byte-order mark, 0xef a UTF-8 one: not here.) Every other
# file of an exhibit (a photo: 0xff 0xd8) is answered by this one byte, not by decoding its first kilobyte.
_NEVER_FIRST = frozenset(
    [b for b in range(0x80) if b != 0x5B and not chr(b).isspace()] + list(range(0x80, 0xC2)) + list(range(0xF5, 0xFE))
)


def decode(data: bytes) -> str:
    """The stream's text: UTF-16 when it starts with its byte-order mark, else UTF-8 (ANSI bytes replaced)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    return data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace")


def parse(text: str) -> dict[str, tuple[str, int]]:
    """The keys of the ``[ZoneTransfer]`` section, lower-cased: (value, line number); the first of a repeated
    key wins, lines of other sections are left."""
    found: dict[str, tuple[str, int]] = {}
    inside = False
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s.startswith("[") and s.endswith("]"):
            inside = s.lower() == SECTION
            continue
        if inside and "=" in s:
            key, _, value = s.partition("=")
            found.setdefault(key.strip().lower(), (value.strip(), n))
    return found


def host_file(relpath: str) -> str:
    """The file a stream ``dir/file.zip:Zone.Identifier`` belongs to (the path itself when it names no stream)."""
    head, _, name = relpath.rpartition("/")
    if ":" not in name:
        return relpath
    base = name.split(":", 1)[0]
    return f"{head}/{base}" if head else base


@register
class ZoneIdentifier(SourceFormat):
    name = "zone-identifier"
    description = "Windows Mark of the Web (Zone.Identifier stream of a downloaded file: its zone, host and referrer)"

    def claim(self, candidate: Candidate) -> int:
        if candidate.size > MAX_BYTES:
            return 0
        head = candidate.head
        if not head:
            return 0
        first = head[0]
        if first in _NEVER_FIRST or (first >= 0xFE and head[1:2] != (b"\xfe" if first == 0xFF else b"\xff")):
            return 0  # decode() would give a text that cannot start with the section (see _NEVER_FIRST)
        if b"[" not in head[:1024]:
            return 0  # no "[" byte (UTF-8 or UTF-16): the text cannot start with the section; nothing decoded
        return 90 if decode(candidate.head[:1024]).lstrip().lower().startswith(SECTION) else 0

    def read(self, unit: Unit, options: ReadOptions) -> Iterator[Record]:
        try:
            with unit.path.open("rb") as fh:
                data = fh.read(MAX_BYTES + 1)
        except OSError as e:
            raise FormatError(f"{unit.primary}: cannot be read: {e}") from e
        if len(data) > MAX_BYTES:
            yield Problem(unit.primary, f"more than {MAX_BYTES} bytes: only the first {MAX_BYTES} read",
                          Prov(unit.primary), "warning")
            data = data[:MAX_BYTES]
        keys = parse(decode(data))
        yield from owner_records(unit.primary, options)
        of = host_file(unit.primary)
        zone_raw = keys.get("zoneid", ("", 0))[0]
        zone = f"ZoneId={zone_raw}" + (f": {ZONES[int(zone_raw)]}" if zone_raw.isdigit() and int(zone_raw) in ZONES
                                       else "")
        if not zone_raw:
            zone = "no ZoneId"
        for key, label, what in URL_KEYS:
            value, line = keys.get(key, ("", 0))
            if not value:
                continue
            if len(value) > MAX_URL:
                yield Problem(unit.primary, f"{label} of {len(value)} characters cut to {MAX_URL}",
                              Prov(unit.primary, "ZoneTransfer", label, line), "warning")
                value = value[:MAX_URL]
            for f in extract_indicators(value, region=options.region):
                ind = indicator_from(f, Prov(unit.primary, "ZoneTransfer", label, line), value, None)
                yield replace(ind, context=f"{of} {what} {value} ({zone})"[:1000])

"""Which files of a disk image have their bytes kept in the vault, and which are only inventoried.

Every file is read and hashed (SHA-256, SHA-1, MD5) and recorded with its place. Its bytes are kept, content-
addressed as a zip member's are, when a format or the hash stage may need them: pictures and videos always (the
triage of known material), SQLite databases, archives and other data of any size, and anything else up to
``unknown_cap`` bytes (formats recognise their files by content, so a file cannot be left out by its name). What
is not kept: programs and libraries (Windows PE, ELF, Mach-O: the bulk of a system disk, never a messaging or
capture format) and large files no sniff recognises (page and hibernation files, virtual disks, swap). Those are
still in ``disk_files`` with their digests and place, and can be read again from the image, which stays in place.
"""

from __future__ import annotations

from ringtrace.media.images import sniff

_PROGRAMS = (b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")
_DATA = (b"SQLite format 3\x00", b"PK\x03\x04", b"\x1f\x8b", b"bplist", b"%PDF", b"\xd0\xcf\x11\xe0", b"7z\xbc\xaf",
         b"Rar!")


def worth_storing(head: bytes, size: int, unknown_cap: int) -> bool:
    if sniff(head)[0] in ("image", "video") or head.startswith(_DATA):
        return True
    if head.startswith(_PROGRAMS) or _is_pe(head):
        return False
    return size <= unknown_cap


def _is_pe(head: bytes) -> bool:
    """A Windows program or library: 'MZ', and at the offset stored at 0x3C the 'PE' signature."""
    if not head.startswith(b"MZ") or len(head) < 64:
        return False
    off = int.from_bytes(head[0x3C:0x40], "little")
    return head[off:off + 4] == b"PE\x00\x00"

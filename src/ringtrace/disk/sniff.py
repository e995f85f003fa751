"""Is a file a disk image? Decided from its content (signatures at fixed offsets), never from its name alone.

Container formats carry their own signature (EWF, VMDK, VHD/VHDX, QCOW). A raw image has none: it is one when it
starts with a partition table (MBR with a plausible entry, or a GPT header) or with a file system's boot record
(NTFS, exFAT, FAT, ext2/3/4's superblock). dfVFS confirms it when the image is opened; a raw look-alike in which
dfVFS finds no volume and no file system is taken as a plain file.
"""

from __future__ import annotations

from pathlib import Path

HEAD = 4096

# (signature, offset, image type as dfVFS names it)
_CONTAINER_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"EVF\x09\x0d\x0a\xff\x00", 0, "EWF"),  # EWF-E01 (EnCase 1-6, FTK Imager, ewfacquire)
    (b"EVF2\x0d\x0a\x81\x00", 0, "EWF"),  # EWF2-Ex01
    (b"KDMV", 0, "VMDK"),  # VMware sparse extent
    (b"# Disk DescriptorFile", 0, "VMDK"),  # VMware descriptor
    (b"vhdxfile", 0, "VHDI"),  # VHDX
    (b"conectix", 0, "VHDI"),  # VHD dynamic/differencing: the footer copy opens the file
    (b"QFI\xfb", 0, "QCOW"),
)


def image_type(path: Path) -> str | None:
    """'EWF', 'VMDK', 'VHDI', 'QCOW' or 'RAW' when the file looks like a disk image, else None."""
    try:
        with path.open("rb") as fh:
            head = fh.read(HEAD)
            size = path.stat().st_size
            tail = b""
            if size >= 512:
                fh.seek(size - 512)
                tail = fh.read(512)
    except OSError:
        return None
    for sig, off, kind in _CONTAINER_SIGNATURES:
        if head[off:off + len(sig)] == sig:
            return kind
    if tail.startswith(b"conectix"):  # fixed VHD: only a footer, at the end
        return "VHDI"
    return "RAW" if _raw_volume(head, size) else None


def _raw_volume(head: bytes, size: int) -> bool:
    if len(head) < 1084:
        return False
    if head[3:11] in (b"NTFS    ", b"EXFAT   "):
        return True
    if head[1080:1082] == b"\x53\xef":  # ext2/3/4 superblock magic (0xEF53) at 1024 + 56
        return True
    if head[510:512] != b"\x55\xaa":
        return False
    if head[512:520] == b"EFI PART":  # GPT header in LBA 1 (protective MBR before it)
        return True
    if head[82:90] == b"FAT32   " or head[54:59] in (b"FAT12", b"FAT16"):
        return True
    return _plausible_mbr(head, size)


def _plausible_mbr(head: bytes, size: int) -> bool:
    """At least one partition entry with a type, a boot flag of 0 or 0x80, a start and a length; the first entry
    starts inside the file (a split image's first segment holds only the start of the disk; dfVFS confirms)."""
    found = False
    for i in range(4):
        e = head[446 + 16 * i:462 + 16 * i]
        boot, ptype = e[0], e[4]
        start = int.from_bytes(e[8:12], "little")
        count = int.from_bytes(e[12:16], "little")
        if ptype == 0:
            continue
        if boot not in (0x00, 0x80) or start == 0 or count == 0 or (not found and start * 512 >= size):
            return False
        found = True
    return found

"""Open a disk image with dfVFS: its type, its segment files, the digests of its media against what the image's own
container recorded (EWF), and its volumes down to each file system.

dfVFS's source scanner does the recognising (plaso's own way in): the storage-media layer (EWF, split raw, VMDK,
VHD/VHDX, QCOW), then the volume system (MBR through The Sleuth Kit, GPT through libvsgpt), then each file system.
Nothing here writes to the image; every path spec is read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringtrace.vault import Digests, digest_stream


class DiskImageError(Exception):
    """The image cannot be opened at all (the message names the file and the reason)."""


def _dfvfs() -> Any:
    try:
        from dfvfs.lib import definitions
    except ImportError as e:  # the optional extra is missing: say how to get it
        raise DiskImageError("reading disk images needs dfVFS and The Sleuth Kit bindings: install ringtrace with "
                             "the 'disk' extra (pip install 'ringtrace[disk]')") from e
    return definitions


@dataclass
class Volume:
    """One file system found in the image."""

    partition: str  # 'p1', 'p2' ... as dfVFS names partitions; 'fs' for a file system with no partition table
    offset: int  # byte offset of the volume in the media
    size: int | None
    fs_type: str  # dfVFS's type indicator of the file system (NTFS, EXT, FAT, HFS, APFS ...)
    path_spec: Any  # dfVFS path spec of the file system (its parent is the volume); None when salvaged
    tsk_fs: Any = None  # a damaged EWF image's file system, opened by The Sleuth Kit over its salvaged chunks


@dataclass
class DiskImage:
    path: Path
    image_type: str  # dfVFS's storage media type indicator: EWF, RAW, VMDK, VHDI, QCOW
    segments: list[Path]
    media_spec: Any
    media_size: int
    stored_md5: str | None = None
    stored_sha1: str | None = None
    volumes: list[Volume] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (where, reason): what could not be read
    salvage: Any = None  # ewf_salvage.SalvagedEwf: an E01 libewf cannot read, read chunk by chunk

    def open_media(self) -> Any:
        from dfvfs.resolver import resolver

        return resolver.Resolver.OpenFileObject(self.media_spec)

    def media_digests(self, progress: Callable[[int], None] | None = None) -> tuple[Digests, str | None]:
        """SHA-256, SHA-1 and MD5 of the media's bytes (what an acquisition hash covers), and the reason the
        media could not be read to its end (a truncated or damaged image), if so: the digests are then of what
        was read (of a salvaged E01, its readable part)."""
        reader = _MediaReader(self, progress)
        digests = digest_stream(reader)
        return digests, reader.error


class _MediaReader:
    """The image's media as a stream for ``vault.digest_stream``: reads up to the size the container declares,
    and where the media ends early or a back-end fails, ends the stream and keeps the reason (what was read
    before stays digested)."""

    def __init__(self, img: DiskImage, progress: Callable[[int], None] | None) -> None:
        self.img, self.progress = img, progress
        self.done = 0
        self.error: str | None = None
        self._fo: Any = None
        self._stopped = False  # the back-end failed or the media ended early: the stream ends here
        sv = img.salvage
        self._end = sv.readable if sv is not None else img.media_size
        if sv is not None and sv.readable < img.media_size:
            self.error = (f"libewf cannot read it; read chunk by chunk, only its first {sv.readable} bytes of the "
                          f"{img.media_size} its volume section declares can be read ({sv.report.stopped})")

    def read(self, n: int = -1, /) -> bytes:
        want = self._end - self.done if n < 0 else min(n, self._end - self.done)
        if want <= 0 or self._stopped:
            return b""
        try:
            if self.img.salvage is not None:
                buf = self.img.salvage.read(self.done, want)
            else:
                if self._fo is None:
                    self._fo = self.img.open_media()
                buf = self._fo.read(want)
                if not buf:
                    self._stop(f"the media ends at byte {self.done} of the {self.img.media_size} its container "
                               "declares")
                    return b""
        except Exception as e:  # noqa: BLE001 - dfVFS back-ends raise their own errors (BackEndError, OSError, IOError)
            self._stop(f"the media cannot be read past byte {self.done}: {e}")
            return b""
        self.done += len(buf)
        if self.progress is not None:
            self.progress(self.done)
        return bytes(buf)

    def _stop(self, why: str) -> None:
        self._stopped, self.error = True, why


def open_image(path: Path) -> DiskImage:
    """Scan ``path`` with dfVFS. Raises DiskImageError when no storage-media image can be opened; volumes or file
    systems that cannot be read become problems of the returned image (what could be read is kept)."""
    definitions = _dfvfs()
    from dfvfs.helpers import source_scanner
    from dfvfs.lib import errors as dferrors

    scanner = source_scanner.SourceScanner()
    ctx = source_scanner.SourceScannerContext()
    ctx.OpenSourcePath(str(path))
    try:
        scanner.Scan(ctx)
    except (dferrors.Error, OSError, RuntimeError, ValueError) as e:
        salvaged = _salvaged_ewf(path, e)
        if salvaged is not None:
            return salvaged
        raise DiskImageError(f"{path}: dfVFS cannot open it as a disk image: {e}") from e
    root = ctx.GetRootScanNode()
    media = root.sub_nodes[0] if root is not None and root.sub_nodes else None
    if media is None or media.type_indicator not in definitions.STORAGE_MEDIA_IMAGE_TYPE_INDICATORS:
        raise DiskImageError(f"{path}: dfVFS finds no disk image in it")
    from dfvfs.resolver import resolver

    try:
        fo = resolver.Resolver.OpenFileObject(media.path_spec)
        media_size = int(fo.get_size())
    except (dferrors.Error, OSError) as e:
        raise DiskImageError(f"{path}: the {media.type_indicator} image cannot be opened: {e}") from e
    img = DiskImage(path, media.type_indicator, _segments(path, media.type_indicator), media.path_spec, media_size)
    if media.type_indicator == definitions.TYPE_INDICATOR_EWF:
        img.stored_md5, img.stored_sha1 = _ewf_stored_hashes(img.segments)
    _find_volumes(img, media, definitions)
    if media.type_indicator == definitions.TYPE_INDICATOR_EWF and not _media_readable(img):
        _salvage(img)
    if not img.volumes:
        img.problems.append((path.name, "no file system that can be read was found in the image (a damaged or "
                                        "unknown partition table, an encrypted or unformatted volume)"))
    return img


def _salvaged_ewf(path: Path, error: Exception) -> DiskImage | None:
    """An EWF-E01 file dfVFS cannot scan at all (libewf reads none of its chunks), read by its chunks; None when
    it is no E01 or nothing of it can be read that way."""
    from ringtrace.disk.ewf_salvage import SIGNATURE

    try:
        with path.open("rb") as fh:
            if fh.read(len(SIGNATURE)) != SIGNATURE:
                return None
    except OSError:
        return None
    img = DiskImage(path, "EWF", _segments(path, "EWF"), None, 0)
    _salvage(img, f"dfVFS cannot open it ({' '.join(str(error).split())[:300]})")
    if img.salvage is None:
        return None
    img.media_size = img.salvage.media_size
    return img


def _media_readable(img: DiskImage) -> bool:
    """Whether the image's first and last sectors can be read through dfVFS (libewf)."""
    try:
        fo = img.open_media()
        fo.seek(0)
        if len(fo.read(512)) < min(512, img.media_size):
            return False
        fo.seek(max(0, img.media_size - 512))
        return len(fo.read(512)) == min(512, img.media_size)
    except Exception:  # noqa: BLE001 - dfVFS back-ends raise their own errors (BackEndError, OSError, IOError)
        return False


def _salvage(img: DiskImage, why: str = "libewf cannot read the image") -> None:
    """An E01 libewf opens but cannot read (its chunk tables lost: a copy cut short): its chunks are read one after
    another instead (disk.ewf_salvage), and its partitions and file systems opened by The Sleuth Kit over them.
    What the salvage cannot read is a problem; the volumes dfVFS found (none, or unreadable ones) are replaced."""
    import pytsk3

    from ringtrace.disk.ewf_salvage import SalvagedEwf, SalvageError, tsk_image

    try:
        sv = SalvagedEwf(img.segments)
    except (SalvageError, OSError, ValueError) as e:
        img.problems.append((img.path.name, f"{why}, and its chunks cannot be read one by one either: {e}"))
        return
    img.salvage = sv
    img.problems.append((img.path.name, f"{why} (its chunk tables are lost or damaged): read chunk by chunk "
                                        f"from its sectors sections instead, {sv.readable} of "
                                        f"{sv.media_size} bytes ({sv.report.chunks_found} of "
                                        f"{sv.report.chunks_declared} chunks; {sv.report.stopped}); files lying "
                                        f"past byte {sv.readable} cannot be read"))
    img.volumes = []
    tsk = tsk_image(sv)
    sv.lenient = True  # a partition table's and a file system's backup copies may lie past the cut
    try:
        parts: list[tuple[str, int, int | None]] = []
        try:
            vs = pytsk3.Volume_Info(tsk)
            bs = int(vs.info.block_size)
            alloc = int(pytsk3.TSK_VS_PART_FLAG_ALLOC)
            for part in vs:
                if int(part.flags) & alloc and int(part.len) > 0:
                    parts.append((f"p{len(parts) + 1}", int(part.start) * bs, int(part.len) * bs))
        except OSError:
            parts = [("fs", 0, img.media_size)]  # no partition table: a file system from byte 0, or nothing
        for name, offset, size in parts:
            if offset >= sv.readable:
                img.problems.append((f"{img.path.name}:{name}", f"the partition starts at byte {offset}, past the "
                                                                f"readable part of the damaged image: not read"))
                continue
            try:
                fs = pytsk3.FS_Info(tsk, offset=offset)
            except OSError as e:
                img.problems.append((f"{img.path.name}:{name}", f"no file system can be opened from the readable "
                                                                f"part of the damaged image: {e}"))
                continue
            img.volumes.append(Volume(name, offset, size, "TSK", None, fs))
    finally:
        sv.lenient = False


def _segments(path: Path, image_type: str) -> list[Path]:
    """The files the image is made of: EWF segments (.E01, .E02 ...), split raw (.001, .002 ...), else the file."""
    try:
        if image_type == "EWF":
            import pyewf

            return [Path(p) for p in pyewf.glob(str(path))]
        if image_type == "RAW":
            from dfvfs.lib import raw_helper
            from dfvfs.path import factory
            from dfvfs.resolver import resolver

            os_spec = factory.Factory.NewPathSpec("OS", location=str(path))
            raw_spec = factory.Factory.NewPathSpec("RAW", parent=os_spec)
            fs = resolver.Resolver.OpenFileSystem(os_spec)
            globbed = raw_helper.RawGlobPathSpec(fs, raw_spec) or []
            found = [Path(s.location) for s in globbed]
            return found or [path]
    except (OSError, RuntimeError, ValueError):
        pass
    return [path]


def _ewf_stored_hashes(segments: list[Path]) -> tuple[str | None, str | None]:
    """The MD5 and SHA-1 the acquiring tool stored in the EWF image (libewf's hash sections), if any."""
    import pyewf

    handle = pyewf.handle()
    try:
        handle.open([str(s) for s in segments])
        md5 = handle.get_hash_value("MD5")
        sha1 = handle.get_hash_value("SHA1")
    except (OSError, RuntimeError, ValueError):
        return None, None
    finally:
        try:
            handle.close()
        except (OSError, RuntimeError):
            pass
    return (md5.lower() if md5 else None), (sha1.lower() if sha1 else None)


def _find_volumes(img: DiskImage, media: Any, definitions: Any) -> None:
    """Every file-system node under the media node, with its partition's name and offset."""

    def visit(node: Any, partition: str, offset: int, size: int | None) -> None:
        ti = node.type_indicator
        if ti in definitions.FILE_SYSTEM_TYPE_INDICATORS:
            img.volumes.append(Volume(partition, offset, size, ti, node.path_spec))
            return
        if ti in definitions.VOLUME_SYSTEM_TYPE_INDICATORS:
            loc = getattr(node.path_spec, "location", None)
            if loc and loc != "/":
                partition = loc.strip("/")
                offset, size = _volume_extent(node, ti, partition, definitions, offset)
        if not node.sub_nodes and ti in definitions.VOLUME_SYSTEM_TYPE_INDICATORS:
            loc = getattr(node.path_spec, "location", None)
            if loc and loc != "/":  # a partition in which no file system was recognised
                img.problems.append((f"{img.path.name}:{partition}", "partition holds no file system that can be "
                                                                     "read (unformatted, encrypted or damaged)"))
        for sub in node.sub_nodes:
            visit(sub, partition, offset, size)

    visit(media, "fs", 0, img.media_size)
    for v in img.volumes:
        if v.size is not None and v.offset + v.size > img.media_size:
            img.problems.append((f"{img.path.name}:{v.partition}", f"the partition runs past the end of the image "
                                 f"({v.size} bytes at offset {v.offset}; the image ends at byte {img.media_size}): "
                                 "the image is cut short, and files lying past its end cannot be read"))


def _volume_extent(node: Any, ti: str, partition: str, definitions: Any, default: int) -> tuple[int, int | None]:
    start = getattr(node.path_spec, "start_offset", None)
    try:
        if ti == definitions.TYPE_INDICATOR_TSK_PARTITION:
            from dfvfs.volume import tsk_volume_system as vsmod

            vs: Any = vsmod.TSKVolumeSystem()
        elif ti == definitions.TYPE_INDICATOR_GPT:
            from dfvfs.volume import gpt_volume_system as gptmod

            vs = gptmod.GPTVolumeSystem()
        else:
            return (int(start) if start is not None else default), None
        from dfvfs.path import factory

        vs.Open(factory.Factory.NewPathSpec(ti, location="/", parent=node.path_spec.parent))
        vol = vs.GetVolumeByIdentifier(partition)
        if vol is not None and vol.extents:
            return int(vol.extents[0].offset), int(vol.extents[0].size)
    except Exception:  # noqa: BLE001, S110 - an offset we cannot learn is recorded as the scanner's, not fatal
        pass
    return (int(start) if start is not None else default), None

"""Synthetic disk images built in code with Debian's tools, never mounted: ext4 (``mke2fs -d``, deletions with
``debugfs``), FAT32 (``mkfs.fat`` + ``mcopy``, deletions with ``mdel``), NTFS (``mkntfs`` + ``ntfscp``: ntfscp
cannot make folders, so an NTFS volume holds its files at its root; ``ntfscp -N`` writes alternate data streams;
no tool deletes without mounting, so ``_ntfs_delete`` does it as Windows does: record, bitmaps and index entry)
and exFAT (``mkfs.exfat`` makes it empty and no tool fills it without mounting: ``synth.formats.exfat`` writes
the files, folders and deletions in itself). Partition tables (MBR or GPT) are written by ``sfdisk`` into a sparse
file and the volumes copied in at their offsets; the disk is then kept raw, split (.001 ...), as EWF
(``ewfacquire``, which stores the MD5 and SHA-1 of the media) or converted with ``qemu-img`` (VMDK, VHD, VHDX).

Everything written is synthetic: generated pictures, invented names, bland text. ``DiskTruth`` says what each
image holds, deleted files included (and, on ext4, each file's inode and MACB times), for the tests and the ground
truth.

Same bytes for the same input (``stamp=``): an ext4 volume and its partition table take their clock and their
identifiers from a ``Stamp`` instead of the host's time and random UUIDs. ``mke2fs`` and ``debugfs`` honour
``E2FSPROGS_FAKE_TIME`` (e2fsprogs' own testing hook) for the superblock, the root folder and deletion times;
``-U`` / ``-E hash_seed=`` fix the volume's UUID and directory-hash seed; every file's and folder's times, owner
and mode are then set with ``debugfs set_inode_field``, because ``mke2fs -d`` copies the staging files' ctime,
which nothing can set; ``sfdisk`` takes the disk's and partitions' identifiers from its script. EWF cannot be made
reproducible this way (``ewfacquire`` writes the acquisition date and a random GUID into the header): a
reproducible disk is kept raw. An exFAT volume is reproducible too: its writer takes the stamp's clock and sets
the volume serial number ``mkfs.exfat`` drew from the time.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import shutil
import struct
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ringtrace.synth.view import DeviceView

MiB = 1024**2
TOOLS = {"ext4": ["mke2fs", "debugfs"], "fat32": ["mkfs.fat", "mcopy", "mdel"], "ntfs": ["mkntfs", "ntfscp"],
         "exfat": ["mkfs.exfat"], "table": ["sfdisk"], "ewf": ["ewfacquire"], "vmdk": ["qemu-img"],
         "vhd": ["qemu-img"], "vhdx": ["qemu-img"]}


@dataclass(frozen=True)
class FileSpec:
    path: str  # '/'-separated, relative to the volume's root
    data: bytes
    deleted: bool = False  # written, then deleted with the file system's own tool
    mtime: int | None = None  # seconds since 1970 (UTC): last written (also accessed and changed then)
    crtime: int | None = None  # created (born); the mtime when not given
    streams: tuple[tuple[str, bytes], ...] = ()  # NTFS alternate data streams (name, data); other file systems
    # have none and leave them out
    fragmented: bool = False  # exFAT: written in every other free cluster, linked by a FAT chain (others ignore it)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Stamp:
    """What makes a disk reproducible: the clock its tools see (the file system's creation, its folders' times,
    deletions) and the seed of its identifiers (volume UUID, directory-hash seed, partition table ids)."""

    at: int  # seconds since 1970 (UTC)
    seed: int
    uid: int = 1000  # the owner every file and folder gets (not the host user who built it)

    def uuid(self, what: str) -> str:
        h = hashlib.sha256(f"{self.seed}:{what}".encode()).hexdigest()
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


@dataclass(frozen=True)
class VolumeSpec:
    fs: str  # ext4 | fat32 | ntfs | exfat
    files: Sequence[FileSpec] = ()
    size_mib: int = 0  # 0: chosen from the files
    label: str = ""  # the volume label (exFAT)


@dataclass
class DiskTruth:
    image: Path  # the file to ingest (first segment)
    segments: list[Path]
    container: str
    table: str | None
    media_sha256: str
    media_md5: str
    volumes: list[dict[str, Any]] = field(default_factory=list)  # partition, fs, files: [{path, sha256, deleted}]

    def as_dict(self) -> dict[str, Any]:
        return {"image": self.image.name, "segments": [s.name for s in self.segments], "container": self.container,
                "table": self.table, "media_sha256": self.media_sha256, "media_md5": self.media_md5,
                "volumes": self.volumes}


def missing_tools(volumes: Sequence[VolumeSpec], table: str | None, container: str) -> list[str]:
    need = [t for v in volumes for t in TOOLS[v.fs]]
    need += TOOLS["table"] if table else []
    need += TOOLS.get(container, [])
    return sorted({t for t in need if shutil.which(t) is None and not Path("/usr/sbin", t).exists()})


def _tool(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


def _run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([_tool(args[0]), *args[1:]], input=stdin, text=True, check=True, capture_output=True,
                          env={**os.environ, "MTOOLS_SKIP_CHECK": "1", **(env or {})})
    return done.stdout


def _min_size(fs: str) -> int:
    return {"fat32": 40, "ntfs": 8, "ext4": 4, "exfat": 4}[fs]


def build_volume(spec: VolumeSpec, out: Path, work: Path, stamp: Stamp | None = None) -> dict[str, int]:
    """One file system image at ``out`` holding ``spec.files`` (deleted ones written, then deleted). Returns each
    file's inode (ext4; empty for the others). ``stamp``: reproducible (ext4 and exFAT only)."""
    if stamp is not None and spec.fs not in ("ext4", "exfat"):
        raise ValueError(f"only ext4 and exFAT volumes are built reproducibly, not {spec.fs}")
    total = sum(len(f.data) for f in spec.files)
    size = spec.size_mib or max(_min_size(spec.fs), 2 * total // MiB + 4)
    stage = work / f"stage-{out.name}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    staged = spec.files if spec.fs != "exfat" else []  # the exFAT writer takes the files' bytes as they are
    for f in sorted(staged, key=lambda f: f.path):  # created in name order: mke2fs -d follows the listing
        p = stage / (f.path if spec.fs != "ntfs" else f.path.replace("/", "_"))
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(f.data)
    with out.open("wb") as fh:
        fh.truncate(size * MiB)
    deleted = [f for f in spec.files if f.deleted]
    inodes: dict[str, int] = {}
    if spec.fs == "ext4":
        inodes = _build_ext4(spec, stage, out, stamp)
    elif spec.fs == "fat32":
        _run("mkfs.fat", "-F", "32", str(out))
        tops = sorted(p for p in stage.iterdir())
        if tops:
            _run("mcopy", "-s", "-Q", "-i", str(out), *[str(p) for p in tops], "::/")
        for f in deleted:
            _run("mdel", "-i", str(out), f"::/{f.path}")
    elif spec.fs == "ntfs":
        _run("mkntfs", "-q", "-F", "-f", str(out))
        for f in spec.files:
            name = f.path.replace("/", "_")
            _run("ntfscp", "-q", str(out), str(stage / name), name)
            for k, (sname, sdata) in enumerate(f.streams):  # ntfscp -N writes a named $DATA attribute
                src = stage / f"stream-{name}-{k}"
                src.write_bytes(sdata)
                _run("ntfscp", "-q", "-N", sname, str(out), str(src), name)
        for f in deleted:
            _ntfs_delete(out, f.path.replace("/", "_"))
    elif spec.fs == "exfat":  # mkfs.exfat makes it empty; our own writer adds the files (synth.formats.exfat)
        from ringtrace.synth.formats import exfat

        _run("mkfs.exfat", *(["-L", spec.label] if spec.label else []), str(out))
        at = stamp.at if stamp else int(time.time())
        exfat.fill(out, spec.files, at, int(stamp.uuid("exfat")[:8], 16) if stamp else None)
    else:
        raise ValueError(f"unknown file system {spec.fs!r}")
    shutil.rmtree(stage, ignore_errors=True)
    return inodes


def _build_ext4(spec: VolumeSpec, stage: Path, out: Path, stamp: Stamp | None) -> dict[str, int]:
    """``mke2fs -d`` from the staging folder, then one ``debugfs`` script: times, owner and mode of every file
    and folder (reproducible builds only), the inodes listed, the deleted files removed (their inodes keep their
    block map, as The Sleuth Kit needs to read them)."""
    env = {"E2FSPROGS_FAKE_TIME": str(stamp.at)} if stamp else None
    ids = ["-U", stamp.uuid("ext4"), "-E", f"hash_seed={stamp.uuid('ext4-hash')},root_owner=0:0"] if stamp else []
    if stamp:
        stage.chmod(0o755)
    _run("mke2fs", "-q", "-F", "-t", "ext4", *ids, "-d", str(stage), str(out), env=env)
    folders = sorted({"/".join(f.path.split("/")[:i]) for f in spec.files for i in range(1, f.path.count("/") + 1)})
    cmds: list[str] = []
    if stamp:
        for d in folders:
            cmds += _set_inode(f"/{d}", 0o40755, stamp.uid, (stamp.at,) * 4)
        for f in spec.files:
            m = f.mtime if f.mtime is not None else stamp.at
            cmds += _set_inode(f"/{f.path}", 0o100644, stamp.uid, (m, m, m, f.crtime if f.crtime is not None else m))
    cmds += [f'ls -p "/{d}"' for d in ["", *folders]]  # the inodes, deleted files' too, before the deletions
    cmds += [f'rm "/{f.path}"' for f in spec.files if f.deleted]
    inodes = _listed_inodes(_run("debugfs", "-w", "-f", "-", str(out), stdin="\n".join(cmds) + "\n", env=env))
    return {f.path: inodes[f"/{f.path}"] for f in spec.files if f"/{f.path}" in inodes}


def _set_inode(path: str, mode: int, uid: int, times: tuple[int, int, int, int]) -> list[str]:
    m, a, c, b = times
    return [f'sif "{path}" {field} {value}' for field, value in (
        ("mode", f"0{mode:o}"), ("uid", uid), ("gid", uid), ("mtime", f"@{m}"), ("atime", f"@{a}"),
        ("ctime", f"@{c}"), ("crtime", f"@{b}"))]


def _listed_inodes(listing: str) -> dict[str, int]:
    """``debugfs ls -p`` output (after each ``debugfs: ls -p "/dir"`` echo, ``/inode/mode/uid/gid/name/size/``
    lines) as {path: inode}."""
    found: dict[str, int] = {}
    folder = ""
    for line in listing.splitlines():
        if line.startswith("debugfs: ls -p "):
            folder = line[len("debugfs: ls -p "):].strip().strip('"').rstrip("/")
        elif line.startswith("/") and line.count("/") >= 7:
            _, inode, _mode, _uid, _gid, rest = line.split("/", 5)
            name = rest.rsplit("/", 2)[0]
            if name not in (".", ".."):
                found[f"{folder}/{name}"] = int(inode)
    return found


class _Ntfs:
    """Just enough of an NTFS volume image to delete a file as Windows does, for the synthetic images: MFT records
    (contiguous from the boot sector's MFT cluster, as mkntfs lays them), their update-sequence fixups, resident
    and non-resident attributes and their data runs, and the leaf blocks of a folder's ``$I30`` index."""

    def __init__(self, data: bytearray) -> None:
        self.d = data
        bps = struct.unpack_from("<H", data, 0x0B)[0]
        self.cluster = bps * data[0x0D]
        self.mft = struct.unpack_from("<q", data, 0x30)[0] * self.cluster
        code = struct.unpack_from("<b", data, 0x40)[0]
        self.record = 2 ** -code if code < 0 else code * self.cluster
        code = struct.unpack_from("<b", data, 0x44)[0]
        self.index_block = 2 ** -code if code < 0 else code * self.cluster

    @staticmethod
    def unfix(block: bytearray) -> bytearray:
        """The block with the sector-end bytes its update sequence array holds put back."""
        out = bytearray(block)
        usa, count = struct.unpack_from("<HH", out, 4)
        for i in range(1, count):
            end = i * 512 - 2
            out[end:end + 2] = out[usa + 2 * i:usa + 2 * i + 2]
        return out

    @staticmethod
    def fix(block: bytearray) -> bytearray:
        """The block protected again: each sector's last two bytes saved in the array, the sequence number there."""
        out = bytearray(block)
        usa, count = struct.unpack_from("<HH", out, 4)
        usn = out[usa:usa + 2]
        for i in range(1, count):
            end = i * 512 - 2
            out[usa + 2 * i:usa + 2 * i + 2] = out[end:end + 2]
            out[end:end + 2] = usn
        return out

    def rec(self, n: int) -> bytearray:
        off = self.mft + n * self.record
        return self.unfix(self.d[off:off + self.record])

    def attrs(self, rec: bytearray) -> list[tuple[int, str, int]]:
        """(type, name, offset) of each attribute of a record."""
        out, a = [], struct.unpack_from("<H", rec, 0x14)[0]
        while a + 8 <= len(rec):
            kind, length = struct.unpack_from("<II", rec, a)
            if kind == 0xFFFFFFFF or length == 0:
                break
            nl, no = rec[a + 9], struct.unpack_from("<H", rec, a + 10)[0]
            out.append((kind, rec[a + no:a + no + 2 * nl].decode("utf-16-le"), a))
            a += length
        return out

    @staticmethod
    def runs(rec: bytearray, a: int) -> list[tuple[int, int]]:
        """(first cluster, clusters) of a non-resident attribute's data runs (sparse runs left out)."""
        pos, lcn, out = a + struct.unpack_from("<H", rec, a + 0x20)[0], 0, []
        while rec[pos]:
            ln_size, off_size = rec[pos] & 0x0F, rec[pos] >> 4
            length = int.from_bytes(rec[pos + 1:pos + 1 + ln_size], "little")
            if off_size:
                lcn += int.from_bytes(rec[pos + 1 + ln_size:pos + 1 + ln_size + off_size], "little", signed=True)
                out.append((lcn, length))
            pos += 1 + ln_size + off_size
        return out

    def clear_bits(self, n: int, kind: int, bits: list[int]) -> None:
        """Clear ``bits`` of record ``n``'s unnamed attribute ``kind`` (a bitmap), resident or not."""
        rec = self.rec(n)
        _, _, a = next(x for x in self.attrs(rec) if x[0] == kind and not x[1])
        if rec[a + 8]:
            clusters = [c for lcn, ln in self.runs(rec, a) for c in range(lcn, lcn + ln)]
            for b in bits:
                c, byte = divmod(b // 8, self.cluster)
                self.d[clusters[c] * self.cluster + byte] &= ~(1 << (b % 8)) & 0xFF
        else:  # resident: the value inside the record (bits within its first sector's part: no fixup crossed)
            value = self.mft + n * self.record + a + struct.unpack_from("<H", rec, a + 0x14)[0]
            for b in bits:
                self.d[value + b // 8] &= ~(1 << (b % 8)) & 0xFF

    def unindex(self, folder: int, n: int) -> bool:
        """Take the entry naming record ``n`` out of the leaf ``$I30`` index block of folder record ``folder``
        holding it, the entries after it moved up; False where it is not in a leaf block (left as it is)."""
        rec = self.rec(folder)
        alloc = [a for k, name, a in self.attrs(rec) if k == 0xA0 and name == "$I30"]
        if not alloc:
            return False
        for lcn, clusters in self.runs(rec, alloc[0]):
            start = lcn * self.cluster
            for boff in range(start, start + clusters * self.cluster - self.index_block + 1, self.index_block):
                block = self.unfix(self.d[boff:boff + self.index_block])
                if block[:4] != b"INDX":
                    continue
                head = 0x18
                first, used = struct.unpack_from("<II", block, head)
                if block[head + 12] & 1:  # a node with children: taking an entry out is a B-tree change
                    continue
                e = head + first
                while e < head + used:
                    ref, elen, _klen, flags = struct.unpack_from("<QHHH", block, e)
                    if flags & 2:
                        break
                    if ref & 0xFFFFFFFFFFFF == n:
                        end = head + used
                        block[e:end - elen] = block[e + elen:end]
                        block[end - elen:end] = bytes(elen)
                        struct.pack_into("<I", block, head + 4, used - elen)
                        self.d[boff:boff + self.index_block] = self.fix(block)
                        return True
                    e += elen
        return False


def _ntfs_delete(image: Path, name: str) -> bool:
    """Delete the root-folder file ``name`` as NTFS does, leaving its data where it is: its MFT record marked not
    in use, its bit cleared in $MFT's $BITMAP, its clusters (and its streams') freed in $Bitmap, and its entry
    taken out of the root folder's $I30 index where it lies in a leaf block. The Sleuth Kit then finds it as a
    real deletion leaves it: an unused MFT record no folder names, under ``$OrphanFiles``. Returns whether the
    index entry was taken out (else the folder still names it, as after a delete cut short)."""
    data = bytearray(image.read_bytes())
    vol = _Ntfs(data)
    want = name.encode("utf-16-le")
    for n in range(16, 4096):  # user files start at record 64 on a fresh volume
        off = vol.mft + n * vol.record
        raw = data[off:off + vol.record]
        if raw[:4] != b"FILE" or want not in vol.unfix(raw) or not struct.unpack_from("<H", raw, 0x16)[0] & 1:
            continue
        rec = vol.rec(n)
        clusters = [c for k, _nm, a in vol.attrs(rec) if k == 0x80 and rec[a + 8]
                    for lcn, ln in vol.runs(rec, a) for c in range(lcn, lcn + ln)]
        struct.pack_into("<H", data, off + 0x16, struct.unpack_from("<H", raw, 0x16)[0] & ~1)
        vol.clear_bits(0, 0xB0, [n])  # $MFT's $BITMAP: the record is free
        if clusters:
            vol.clear_bits(6, 0x80, clusters)  # $Bitmap: its clusters are free
        unindexed = vol.unindex(5, n)
        image.write_bytes(data)
        return unindexed
    raise ValueError(f"no MFT record in use names {name!r}")


def build_disk(out: Path, volumes: Sequence[VolumeSpec], table: str | None = "mbr", container: str = "raw",
               segment_mib: int | None = None, name: str = "disk", stamp: Stamp | None = None) -> DiskTruth:
    """A disk image under ``out``: ``volumes`` in an MBR or GPT table (``table=None``: one bare file system), kept
    as ``container`` (raw | split | ewf | vmdk | vhd | vhdx). ``segment_mib`` splits raw and EWF images.
    ``stamp``: the same bytes for the same input (ext4 volumes; the media only, when kept as EWF)."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rt-disk-") as tmp:
        work = Path(tmp)
        parts: list[Path] = []
        inodes: list[dict[str, int]] = []
        for i, v in enumerate(volumes):
            p = work / f"vol{i}.img"
            inodes.append(build_volume(v, p, work, stamp))
            parts.append(p)
        raw = work / f"{name}.raw"
        truth_vols: list[dict[str, Any]] = []
        if table is None:
            if len(parts) != 1:
                raise ValueError("a bare file system is one volume")
            shutil.copyfile(parts[0], raw)
            truth_vols.append(_truth_volume("fs", volumes[0], 0, parts[0], inodes[0], stamp))
        else:
            offsets, lba = [], 2048
            for p in parts:
                offsets.append(lba)
                lba += p.stat().st_size // 512 + 2048
            with raw.open("wb") as fh:
                fh.truncate((lba + 2048) * 512)
            lines = [f"label: {'dos' if table == 'mbr' else 'gpt'}"]
            if stamp:  # the disk's identifier and (GPT) each partition's, else sfdisk draws them at random
                lines.append(f"label-id: {stamp.uuid('disk') if table == 'gpt' else '0x' + stamp.uuid('disk')[:8]}")
            kinds = {"ext4": "83", "fat32": "c", "ntfs": "7", "exfat": "7"}
            for i, (off, p, v) in enumerate(zip(offsets, parts, volumes, strict=True)):
                t = f", type={kinds[v.fs]}" if table == "mbr" else ""
                t += f", uuid={stamp.uuid(f'part{i}')}" if stamp and table == "gpt" else ""
                lines.append(f"start={off}, size={p.stat().st_size // 512}{t}")
            _run("sfdisk", "-q", str(raw), stdin="\n".join(lines) + "\n")
            with raw.open("r+b") as fh:
                for off, p in zip(offsets, parts, strict=True):
                    fh.seek(off * 512)
                    with p.open("rb") as src:
                        shutil.copyfileobj(src, fh, MiB)
            truth_vols = [_truth_volume(f"p{i + 1}", v, off * 512, p, ino, stamp)
                          for i, (v, off, p, ino) in enumerate(zip(volumes, offsets, parts, inodes, strict=True))]
        h256, h5 = hashlib.sha256(), hashlib.md5()  # noqa: S324 - the media digests an acquisition stores
        with raw.open("rb") as fh:
            while chunk := fh.read(MiB):
                h256.update(chunk)
                h5.update(chunk)
        segments = _keep(raw, out, container, segment_mib, name)
    media = (h256.hexdigest(), h5.hexdigest())
    if container in ("vmdk", "vhd", "vhdx"):  # qemu-img may round the virtual size: its media is not the raw's
        media = ("", "")
    return DiskTruth(segments[0], segments, container, table, media[0], media[1], truth_vols)


def _truth_volume(partition: str, v: VolumeSpec, offset: int, part: Path, inodes: dict[str, int],
                  stamp: Stamp | None) -> dict[str, Any]:
    """What one volume holds; on ext4 each file's inode, and where the build set them, its MACB times and (for a
    deleted one) when it was deleted."""
    files = []
    for f in v.files:
        row: dict[str, Any] = {"path": f.path if v.fs != "ntfs" else f.path.replace("/", "_"), "sha256": f.sha256,
                               "size": len(f.data), "deleted": f.deleted, "inode": inodes.get(f.path)}
        if stamp and v.fs == "exfat":  # exFAT keeps no change time, and its access time in 2-second steps
            m = f.mtime if f.mtime is not None else stamp.at
            row.update(mtime=_iso(m), atime=_iso(m - m % 2), ctime=None,
                       crtime=_iso(f.crtime if f.crtime is not None else m), fragmented=f.fragmented)
        elif stamp:
            m = f.mtime if f.mtime is not None else stamp.at
            row.update(mtime=_iso(m), atime=_iso(m), ctime=_iso(m), crtime=_iso(f.crtime if f.crtime is not None
                                                                                 else m))
            if f.deleted:
                row["deleted_at"] = _iso(stamp.at)
        files.append(row)
        if v.fs == "ntfs":  # its alternate data streams: files of their own, ``path:stream``
            files += [{"path": f"{row['path']}:{n}", "sha256": hashlib.sha256(d).hexdigest(), "size": len(d),
                       "deleted": f.deleted, "inode": None, "stream_of": row["path"]} for n, d in f.streams]
    return {"partition": partition, "fs": v.fs, "offset": offset, "size": part.stat().st_size, "files": files}


def _iso(t: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def _keep(raw: Path, out: Path, container: str, segment_mib: int | None, name: str) -> list[Path]:
    if container == "raw":
        dest = out / f"{name}.raw"
        shutil.copyfile(raw, dest)
        return [dest]
    if container == "split":
        size, segs, n = (segment_mib or 8) * MiB, [], 1
        with raw.open("rb") as fh:
            while chunk := fh.read(size):
                seg = out / f"{name}.{n:03d}"
                seg.write_bytes(chunk)
                segs.append(seg)
                n += 1
        return segs
    if container == "ewf":
        args = ["ewfacquire", "-q", "-u", "-t", str(out / name), "-c", "none" if segment_mib else "deflate:fast",
                "-d", "sha1", "-C", "SYNTH-CASE", "-D", "synthetic disk", "-e", "Synthetic Examiner", "-E", "EX-SYN",
                "-N", "built by ringtrace.synth"]
        if segment_mib:
            args += ["-S", f"{segment_mib}MiB"]
        _run(*args, str(raw))
        return sorted(out.glob(f"{name}.E[0-9][0-9]"))
    fmt = {"vmdk": "vmdk", "vhd": "vpc", "vhdx": "vhdx"}[container]
    dest = out / f"{name}.{container}"
    _run("qemu-img", "convert", "-q", "-f", "raw", "-O", fmt, str(raw), str(dest))
    return [dest]


# ---- what a synthetic computer holds -----------------------------------------------------------------------------


def picture(seed: int, size: tuple[int, int] = (160, 120)) -> bytes:
    from ringtrace.synth.images import base_image, encode_jpeg

    return encode_jpeg(base_image(seed, size))


def png_picture(seed: int) -> bytes:
    from ringtrace.synth.images import base_image

    buf = io.BytesIO()
    base_image(seed, (96, 64)).save(buf, format="PNG")
    return buf.getvalue()


def zip_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in sorted(members.items()):
            zf.writestr(zipfile.ZipInfo(n, (2024, 5, 1, 10, 0, 0)), data)
    return buf.getvalue()


def firefox_places(invite: str) -> bytes:
    from ringtrace.synth.formats.browsers import Visit, at, write_firefox_places

    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "places.sqlite"
        write_firefox_places(p, [Visit(invite, at(2025, 3, 4, 21, 5), "Garden club"),
                                 Visit("https://example.org/recipes", at(2025, 3, 4, 21, 9), "Recipes")])
        return p.read_bytes()


def zone_identifier(host_url: str, referrer: str | None = None, zone: int = 3) -> bytes:
    """The Mark of the Web a browser writes beside a download (the ``Zone.Identifier`` stream), as Windows does."""
    lines = ["[ZoneTransfer]", f"ZoneId={zone}"]
    lines += [f"ReferrerUrl={referrer}"] if referrer else []
    lines += [f"HostUrl={host_url}"]
    return ("\r\n".join(lines) + "\r\n").encode()


def board_host(seed: int) -> str:
    """A synthetic onion host (a valid v3 address of a random key, no service behind it)."""
    from ringtrace.indicators.extract import onion_v3_address

    return onion_v3_address(random.Random(seed * 7919).randbytes(32))


def sample_files(seed: int, invite: str = "https://chat.whatsapp.com/DiskSynthInviteCode12") -> list[FileSpec]:
    """A user's folder on a computer: pictures, one inside a zip downloaded from an onion board (its Mark of the
    Web says so, on NTFS), a browser history with an invite link, a note with a picture hidden in an alternate
    data stream (NTFS), and two deleted pictures."""
    rng = random.Random(seed)
    board = board_host(seed)
    motw = zone_identifier(f"http://{board}/files/album.zip", f"http://{board}/board/thread-{seed}")
    return [
        FileSpec("Users/marta/Pictures/beach.jpg", picture(seed * 10 + 1)),
        FileSpec("Users/marta/Pictures/garden.png", png_picture(seed * 10 + 2)),
        FileSpec("Users/marta/Downloads/album.zip", zip_of({"album/one.jpg": picture(seed * 10 + 3)}),
                 streams=(("Zone.Identifier", motw),)),
        FileSpec("Users/marta/Documents/list.txt", f"shopping list {rng.randrange(1000)}\nbread\nmilk\n".encode(),
                 streams=(("hidden", picture(seed * 10 + 5)),)),
        FileSpec("Users/marta/Firefox/places.sqlite", firefox_places(invite)),
        FileSpec("Users/marta/Pictures/old.jpg", picture(seed * 10 + 4), deleted=True),
        FileSpec("Users/marta/Documents/draft.txt", b"a deleted draft, invented text\n" * 40, deleted=True),
    ]


def write(view: DeviceView, out: Path, seed: int) -> list[Path]:
    """A computer of the synthetic operation: its owner's WhatsApp Android extraction (msgstore.db, wa.db, media)
    copied to a folder of an ext4 partition, beside a user's pictures and a deleted one, in an EWF image; the
    writer interface of ringtrace.synth.formats (returns the files written)."""
    from ringtrace.synth.formats import whatsapp_android

    with tempfile.TemporaryDirectory(prefix="rt-disk-wa-") as tmp:
        written = whatsapp_android.write(view, Path(tmp), seed)
        files = [FileSpec("home/backup/" + p.relative_to(tmp).as_posix(), p.read_bytes()) for p in written
                 if p.is_file()]
    files += [f for f in sample_files(seed) if not f.path.endswith("places.sqlite")]
    truth = build_disk(out, [VolumeSpec("ext4", files)], table="gpt", container="ewf", name="computer")
    return truth.segments

"""The vault against the case's records: staged trees verified like the objects, and orphans found and removed.

Parsers read a source through its staged tree (``vault/trees/<source sha256>/...``), hard links to the objects.
A file there replaced by other content would be parsed as evidence, so every tree file is checked: it must still be
the object it was linked to (same inode), or hash to the recorded digest. Orphans are what nothing records: objects
no source file, container or embedded record names (left by an ingest killed part-way), trees of no recorded
source, and temporary files; ``remove_orphans`` deletes them and records what it deleted in the audit chain.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from ringtrace.case import Case
from ringtrace.lock import writes_case
from ringtrace.store.schema import source_files, sources
from ringtrace.vault import digest_file


@dataclass
class Orphans:
    objects: list[tuple[str, int]] = field(default_factory=list)  # (sha256, bytes)
    trees: list[str] = field(default_factory=list)
    temporary: list[str] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(n for _, n in self.objects)

    def __bool__(self) -> bool:
        return bool(self.objects or self.trees or self.temporary)

    def describe(self) -> list[str]:
        out = [f"orphan: vault object {sha} ({n:,} bytes) is recorded by no source" for sha, n in self.objects]
        out += [f"orphan: staged tree {t} belongs to no recorded source" for t in self.trees]
        out += [f"orphan: temporary file vault/tmp/{t} (an interrupted copy)" for t in self.temporary]
        return out


def _walk(root: Path) -> Iterator[tuple[str, Path]]:
    for dirpath, _dirs, files in os.walk(root, followlinks=False):
        for f in files:
            p = Path(dirpath) / f
            yield p.relative_to(root).as_posix(), p


def check_trees(case: Case) -> tuple[int, list[str]]:
    """(files checked, findings) for every vault-mode source's staged tree."""
    findings: list[str] = []
    checked = 0
    with case.engine.connect() as con:
        srcs = {r.id: r for r in con.execute(select(sources.c.id, sources.c.exhibit, sources.c.sha256,
                                                      sources.c.mode))}
        wanted: dict[int, dict[str, str]] = {}
        for r in con.execute(select(source_files.c.source_id, source_files.c.relpath, source_files.c.sha256)
                             .where(source_files.c.embedded.is_(False))):
            wanted.setdefault(r.source_id, {})[r.relpath] = r.sha256
    for sid, src in sorted(srcs.items()):
        if src.mode not in ("vault", "in-place"):  # in-place: a disk image's tree is in the vault all the same
            continue
        tree = case.vault.tree(src.sha256)
        files = wanted.get(sid, {})
        on_disk = dict(_walk(tree)) if tree.exists() else {}
        for relpath, sha in sorted(files.items()):
            p = on_disk.get(relpath)
            if p is None:
                findings.append(f"missing: {src.exhibit}:{relpath} from its staged tree "
                                f"(vault/trees/{src.sha256[:12]}...)")
                continue
            checked += 1
            obj = case.vault.object_path(sha)
            try:
                if obj.exists() and os.path.samestat(p.stat(), obj.stat()):
                    continue  # the very object, which verify hashes on its own
            except OSError:
                pass
            d = digest_file(p)
            if d.sha256 != sha:
                findings.append(f"altered: {src.exhibit}:{relpath} in its staged tree now hashes {d.sha256}, "
                                f"recorded {sha}")
        for relpath in sorted(set(on_disk) - set(files)):
            findings.append(f"planted: {src.exhibit}:{relpath} is in its staged tree but was never ingested")
    return checked, findings


def find_orphans(case: Case) -> Orphans:
    with case.engine.connect() as con:
        recorded = {r[0] for r in con.execute(select(source_files.c.sha256).distinct())}
        src_shas = {r[0] for r in con.execute(select(sources.c.sha256))}
    recorded |= src_shas  # containers are kept whole
    out = Orphans()
    for sha, path in case.vault.iter_objects():
        if sha not in recorded:
            try:
                out.objects.append((sha, path.stat().st_size))
            except OSError:
                continue
    if case.vault.trees.exists():
        for t in sorted(case.vault.trees.iterdir()):
            if t.name not in src_shas:
                out.trees.append(t.name)
    if case.vault.tmp.exists():
        out.temporary = sorted(p.name for p in case.vault.tmp.iterdir())
    return out


@writes_case
def remove_orphans(case: Case) -> Orphans:
    """Delete what nothing records; the audit chain lists every object removed."""
    found = find_orphans(case)
    if not found:
        return found
    for sha, _n in found.objects:
        p = case.vault.object_path(sha)
        p.unlink(missing_ok=True)
    for t in found.trees:
        shutil.rmtree(case.vault.trees / t, ignore_errors=True)
    for name in found.temporary:
        p = case.vault.tmp / name
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    case.log("vault.gc", {"objects": [s for s, _ in found.objects], "bytes": found.bytes, "trees": found.trees,
                          "temporary": found.temporary})
    return found

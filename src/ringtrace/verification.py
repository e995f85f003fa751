"""``ringtrace verify``: re-hash every vault object, staged tree and reference-mode file, walk the audit chain and
hold it against its head kept outside the table (or an anchor taken earlier), recompute every source's parse seal,
and name exactly what was altered, planted or is missing. ``deep`` also re-parses every source from the vault into a
scratch database and compares record by record. See docs/integrity.md for what this proves and what it cannot."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select

from ringtrace.audit import HEAD_FILE, AuditHead, check_head, current_head, read_head, verify_chain
from ringtrace.case import Case
from ringtrace.seal import Seal, describe_difference, seal_source, source_lines
from ringtrace.store.schema import audit_log, source_files, sources
from ringtrace.vault import digest_file
from ringtrace.vaultcheck import check_trees, find_orphans


@dataclass
class VerifyReport:
    objects_checked: int = 0
    files_checked: int = 0
    audit_entries: int = 0
    tree_files_checked: int = 0
    seals_checked: int = 0
    sources_reparsed: int = 0
    head: AuditHead | None = None
    findings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # not alterations: what could not be checked, orphans

    @property
    def ok(self) -> bool:
        return not self.findings


def verify(case: Case, anchor: AuditHead | None = None, deep: bool = False,
           secrets: dict[int, dict[str, str]] | None = None) -> VerifyReport:
    """``anchor``: an audit head taken earlier (from a signed package, say) the log must still hold. ``deep``:
    re-parse every source from the vault and compare. ``secrets``: per source id, what its reader needs in memory
    (an encrypted backup's key) for the deep re-parse."""
    rep = VerifyReport()
    with case.engine.connect() as con:
        srcs = {r.id: r for r in con.execute(select(sources))}
        wanted: dict[str, list[str]] = {}
        for r in con.execute(select(source_files.c.source_id, source_files.c.relpath, source_files.c.sha256,
                                    source_files.c.size)):
            src = srcs[r.source_id]
            where = f"{src.exhibit}:{r.relpath}"
            if src.mode == "reference":
                rep.files_checked += 1
                p = Path(src.original_path)
                p = p / r.relpath if src.kind == "folder" else p
                if not p.exists():
                    rep.findings.append(f"missing: {where} (reference source at {p})")
                    continue
                d = digest_file(p)
                if d.sha256 != r.sha256:
                    rep.findings.append(f"altered: {where} (reference file {p}) now hashes {d.sha256}, "
                                        f"recorded {r.sha256}")
            else:
                wanted.setdefault(r.sha256, []).append(where)
        for sha, places in sorted(wanted.items()):
            obj = case.vault.object_path(sha)
            rep.objects_checked += 1
            if not obj.exists():
                rep.findings.append(f"missing: vault object {sha} ({', '.join(places[:3])})")
                continue
            d = digest_file(obj)
            if d.sha256 != sha:
                rep.findings.append(f"altered: vault object {sha} ({', '.join(places[:3])}) now hashes {d.sha256}")
        for src in srcs.values():
            if src.kind == "disk":
                _verify_disk(con, src, rep)
            if src.kind in ("zip", "tar") and src.mode == "vault":
                obj = case.vault.object_path(src.sha256)
                rep.objects_checked += 1
                if not obj.exists():
                    rep.findings.append(f"missing: container of {src.exhibit} (vault object {src.sha256})")
                elif digest_file(obj).sha256 != src.sha256:
                    rep.findings.append(f"altered: container of {src.exhibit} (vault object {src.sha256})")
        breaks = verify_chain(con)
        rep.audit_entries = con.exec_driver_sql("SELECT count(*) FROM audit_log").scalar() or 0
        for b in breaks:
            rep.findings.append(f"audit log entry {b.seq} {b.reason}")
        rep.head = current_head(con)
        kept = read_head(case.path)
        if kept is None:
            rep.findings.append(f"audit head file {HEAD_FILE} is missing: truncation of the log cannot be ruled out "
                                "without an anchor")
        else:
            rep.findings.extend(check_head(con, kept, f"the head file {HEAD_FILE}"))
        if anchor is not None:
            rep.findings.extend(check_head(con, anchor, "the anchor given"))
        ingested, sealed = _recorded(con)
        for sid, entry in sorted(ingested.items()):
            row = srcs.get(sid)
            if row is None:
                rep.findings.append(f"deleted: source {entry.get('exhibit')} (source id {sid}, ingested per the "
                                    "audit log) has no row in the sources table")
            elif row.sha256 != entry.get("sha256"):
                rep.findings.append(f"altered: source {row.exhibit} is recorded as {row.sha256}, ingested as "
                                    f"{entry.get('sha256')}")
        for sid, src in sorted(srcs.items()):
            if sid not in ingested:
                rep.findings.append(f"planted: source {src.exhibit} (source id {sid}) was never ingested per the "
                                    "audit log")
            if src.status != "parsed":
                continue
            seal = sealed.get(sid)
            if seal is None:
                rep.notes.append(f"{src.exhibit}: no parse seal recorded (parsed by an older version); "
                                 f"'ringtrace reparse' seals it")
                continue
            rep.seals_checked += 1
            now = seal_source(con, sid)
            if now.digest != seal.digest:
                rep.findings.append(f"altered: records derived from {src.exhibit} changed since its parse "
                                    f"(tables: {', '.join(seal.differing_tables(now))})")
    checked, tree_findings = check_trees(case)
    rep.tree_files_checked = checked
    rep.findings.extend(tree_findings)
    rep.notes.extend(find_orphans(case).describe())
    if deep:
        _deep(case, rep, secrets or {})
    return rep


def _recorded(con: Connection) -> tuple[dict[int, dict[str, Any]], dict[int, Seal]]:
    """What the audit chain says was ingested (per source id) and the last seal each source's parse recorded."""
    ingested: dict[int, dict[str, Any]] = {}
    sealed: dict[int, Seal] = {}
    q = (select(audit_log.c.action, audit_log.c.detail)
         .where(audit_log.c.action.in_(["source.ingest", "stage.parse"])).order_by(audit_log.c.seq))
    for row in con.execute(q):
        try:
            d = json.loads(row.detail)
            sid = int(d["source_id"])
        except (ValueError, KeyError, TypeError):
            continue
        if row.action == "source.ingest":
            ingested[sid] = d
        elif isinstance(d.get("seal"), dict):
            sealed[sid] = Seal.from_detail(d["seal"])
    return ingested, sealed


def _verify_disk(con: Connection, src: Any, rep: VerifyReport) -> None:
    """A disk image is verified where it lies: its media hashed again and held to what intake recorded (its files
    kept in the vault are checked as vault objects above; the others are in the image)."""
    from ringtrace.store.schema import disk_images

    row = con.execute(select(disk_images).where(disk_images.c.source_id == src.id)).first()
    if row is None or row.verification == "unreadable" and not row.volumes:
        rep.notes.append(f"disk image of {src.exhibit} could not be opened at intake: not verified")
        return
    try:
        from ringtrace.disk.image import DiskImageError, open_image

        img = open_image(Path(src.original_path))
    except (ImportError, DiskImageError) as e:
        rep.findings.append(f"missing: disk image of {src.exhibit} at {src.original_path} cannot be opened: {e}")
        return
    d, _err = img.media_digests()
    rep.files_checked += 1
    if d.sha256 != row.sha256:
        rep.findings.append(f"altered: disk image of {src.exhibit} ({src.original_path}): its media now hashes "
                            f"{d.sha256}, recorded {row.sha256}")


def _deep(case: Case, rep: VerifyReport, secrets: dict[int, dict[str, str]]) -> None:
    """Re-parse every parsed source from the vault into a scratch case and compare its records with the case's."""
    from ringtrace.stages.parse import parse_source  # verify is not a stage; the deep check borrows one

    with case.engine.connect() as con:
        srcs = [r for r in con.execute(select(sources).where(sources.c.status == "parsed").order_by(sources.c.id))]
        _, sealed = _recorded(con)
    with tempfile.TemporaryDirectory(prefix="ringtrace-verify-") as tmp:
        scratch = Case.init(Path(tmp) / "scratch", name="deep verify", db_url=f"sqlite:///{Path(tmp) / 's.sqlite'}",
                            actor=case.actor)
        scratch.vault = case.vault  # read the evidence where it is kept; content-addressed, nothing is replaced
        try:
            for src in srcs:
                with case.engine.connect() as con:
                    files = [dict(r._mapping) for r in con.execute(
                        select(source_files).where(source_files.c.source_id == src.id)
                        .where(source_files.c.embedded.is_(False)))]
                    current = source_lines(con, src.id)
                with scratch.begin() as sc:
                    sc.execute(insert(sources).values(**{**dict(src._mapping), "status": "staged"}))
                    if files:
                        # ids are the scratch case's own (another source's embedded files may hold the case's):
                        # seals leave ids out
                        sc.execute(insert(source_files), [{**{k: v for k, v in f.items() if k != "id"},
                                                           "format": None, "unit_primary": None} for f in files])
                parse_source(scratch, src.id, secrets=secrets.get(src.id))
                rep.sources_reparsed += 1
                with scratch.engine.connect() as sc:
                    fresh = source_lines(sc, src.id)
                    fresh_seal = seal_source(sc, src.id)
                recorded = sealed.get(src.id)
                if recorded is not None and fresh_seal.digest != recorded.digest:
                    rep.findings.append(f"re-parse of {src.exhibit} from the vault does not give the records sealed "
                                        f"at its parse (tables: {', '.join(recorded.differing_tables(fresh_seal))}): "
                                        "the staged evidence or the parser changed")
                for d in describe_difference(fresh, current):
                    rep.findings.append(f"{src.exhibit}: {d}")
        finally:
            scratch.close()

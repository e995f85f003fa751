"""``ringtrace verify``: re-hash every vault object and reference-mode file, walk the audit chain, and name
exactly what was altered or is missing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from ringtrace.audit import verify_chain
from ringtrace.case import Case
from ringtrace.store.schema import source_files, sources
from ringtrace.vault import digest_file


@dataclass
class VerifyReport:
    objects_checked: int = 0
    files_checked: int = 0
    audit_entries: int = 0
    findings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def verify(case: Case) -> VerifyReport:
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
    return rep

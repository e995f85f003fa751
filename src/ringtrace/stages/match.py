"""The match stage: every media item against every hash set, recomputed as a whole each run.

Exact digests through SQL joins on indexed columns, PDQ through the exact range index (all 8 dihedral hashes of
every media item of quality >= 50, per-list distance); the result replaces the ``matches`` table in one
transaction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import delete, insert, select

from ringtrace.case import Case
from ringtrace.matching.pdq_index import PDQIndex, hex_to_array
from ringtrace.matching.sets import BATCH, MATCH_MIN_QUALITY
from ringtrace.stages import Progress
from ringtrace.store import schema as S

_DIHEDRAL = 8  # query hashes per media item (``pdq_dihedral``: 8 comma-separated 64-hex strings)
_STORED_LEN = _DIHEDRAL * 65 - 1


def dihedral_queries(stored: list[str]) -> np.ndarray:
    """(N, 8, 32) uint8 of the stored dihedral hashes, as ``np.stack([hex_to_array(s.split(","))])`` gives them.
    Where every value has the stored layout (8 x 64 hex, commas between), one ``bytes.fromhex`` of them all;
    anything else (or a bad character) takes that per-hash path, which also names the bad value."""
    if stored and all(len(v) == _STORED_LEN and v[64::65] == "," * (_DIHEDRAL - 1) for v in stored):
        try:
            raw = bytes.fromhex("".join(stored).replace(",", ""))
        except ValueError:
            raw = b""
        if len(raw) == len(stored) * _DIHEDRAL * 32:  # (fromhex skips whitespace: a short result falls back)
            return np.frombuffer(raw, dtype=np.uint8).reshape(len(stored), _DIHEDRAL, 32).copy()
    return np.stack([hex_to_array(v.split(",")) for v in stored])


def match_stage(case: Case, progress: Progress | None = None) -> int:
    rows: list[dict[str, Any]] = []
    with case.engine.connect() as con:
        lists = list(con.execute(select(S.hashsets)))
        # exact: one indexed join per digest kind (media known only by a declared hash match on sha256 too)
        for kind in ("md5", "sha1", "sha256"):
            mcol, ecol = S.media.c[kind], S.hash_entries.c[kind]
            # in a stated order, not the order media rows were stored in (ingest stores them as they are hashed):
            # the one SQLite's plans gave when media were stored in content order (md5 and sha1: media by content,
            # then entries; sha256: entries, each finding its media by key), so the matches keep their ids
            order = ((S.hash_entries.c.id,) if kind == "sha256" else (S.media.c.sha256, S.hash_entries.c.id))
            q = (select(S.media.c.sha256, S.hash_entries.c.id, S.hash_entries.c.hashset_id)
                 .join(S.hash_entries, ecol == mcol).order_by(*order))
            for r in con.execute(q):
                rows.append({"media_sha256": r.sha256, "entry_id": r.id, "hashset_id": r.hashset_id,
                             "method": kind, "distance": 0, "variant": None})
        declared = (select(S.message_media.c.sha256, S.hash_entries.c.id, S.hash_entries.c.hashset_id)
                    .join(S.hash_entries, S.hash_entries.c.sha256 == S.message_media.c.sha256)
                    .where(S.message_media.c.declared_only.is_(True)).distinct())
        declared_rows = [{"media_sha256": r.sha256, "entry_id": r.id, "hashset_id": r.hashset_id,
                          "method": "sha256", "distance": 0, "variant": None} for r in con.execute(declared)]
        # perceptual: all 8 dihedral query hashes of usable media against each list's PDQ entries
        media = [(r.sha256, r.pdq_dihedral) for r in con.execute(
            select(S.media.c.sha256, S.media.c.pdq_dihedral).where(S.media.c.pdq_quality >= MATCH_MIN_QUALITY)
            .where(S.media.c.pdq_dihedral.is_not(None)).order_by(S.media.c.sha256))]
        queries: np.ndarray | None = None  # the media's query hashes, the same for every list: parsed once
        for i, hs in enumerate(lists):
            if progress:
                progress("match", i, len(lists))
            entries = list(con.execute(select(S.hash_entries.c.id, S.hash_entries.c.pdq)
                                       .where(S.hash_entries.c.hashset_id == hs.id)
                                       .where(S.hash_entries.c.pdq.is_not(None))))
            if not entries or not media:
                continue
            index = PDQIndex(hex_to_array([e.pdq for e in entries]), ids=[e.id for e in entries])
            if queries is None:
                queries = dihedral_queries([m[1] for m in media])
            for item, row, dist, variant in index.search_dihedral(queries, hs.pdq_distance):
                rows.append({"media_sha256": media[item][0], "entry_id": int(index.ids[row]),
                             "hashset_id": hs.id, "method": "pdq", "distance": int(dist),
                             "variant": int(variant)})
    have_media = {r["media_sha256"] for r in rows}
    with case.begin() as con:
        con.execute(delete(S.matches))
        # a declared-only hash has no media row: give it a minimal one so the match can cite it
        missing = {r["media_sha256"] for r in declared_rows} - have_media
        existing = {r[0] for r in con.execute(select(S.media.c.sha256).where(S.media.c.sha256.in_(missing)))}
        for sha in sorted(missing - existing):
            con.execute(insert(S.media).values(sha256=sha, md5="", sha1="", size=0, kind="unknown",
                                               error="file not in evidence: hash declared by the app"))
        seen: set[tuple[str, int, str]] = set()
        out: list[dict[str, Any]] = []
        for m in rows + declared_rows:
            k = (m["media_sha256"], m["entry_id"], m["method"])
            if k not in seen:
                seen.add(k)
                out.append(m)
        for i in range(0, len(out), BATCH):
            con.execute(insert(S.matches), out[i:i + BATCH])
        case.log("stage.match", {"hashsets": [h.name for h in lists], "matches": len(out),
                                 "media_items": len({m["media_sha256"] for m in out})}, con)
    return len(out)

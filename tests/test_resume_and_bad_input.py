"""A crash mid-run leaves a case that the next run completes; bad input is named and the rest goes on."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import ColumnElement, Table, func, select

import ringtrace
from ringtrace.case import Case
from ringtrace.demo import ingest_operation
from ringtrace.sources.base import registry
from ringtrace.stages import hash as hash_stage
from ringtrace.store import schema as S


def _count(case: Case, table: Table, *where: ColumnElement[bool]) -> int:
    with case.engine.connect() as con:
        q = select(func.count()).select_from(table)
        for w in where:
            q = q.where(w)
        return con.execute(q).scalar() or 0


def _snapshot(case: Case) -> tuple[int, ...]:
    return tuple(_count(case, t) for t in (S.messages, S.group_events, S.participants, S.media, S.matches,
                                          S.persons, S.memberships, S.indicators))


@pytest.fixture(scope="module")
def reference(tiny_operation: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, ...]:
    case = Case.init(tmp_path_factory.mktemp("ref") / "case")
    ingest_operation(case, tiny_operation)
    ringtrace.run(case)
    snap = _snapshot(case)
    case.close()
    return snap


def test_crash_while_parsing_is_completed_by_the_next_run(tiny_operation: Path, tmp_path: Path,
                                                          reference: tuple[int, ...],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    fmt = registry()["whatsapp-android"]
    real_read = fmt.read

    def crashing_read(self, unit, options):  # type: ignore[no-untyped-def]
        for i, rec in enumerate(real_read(self, unit, options)):
            if i == 40:
                raise KeyboardInterrupt("power cut")
            yield rec

    case = Case.init(tmp_path / "case")
    monkeypatch.setattr(fmt, "read", crashing_read)
    with pytest.raises(KeyboardInterrupt):
        ingest_operation(case, tiny_operation)
    monkeypatch.setattr(fmt, "read", real_read)
    with case.engine.connect() as con:
        statuses = [r.status for r in con.execute(select(S.sources.c.status))]
    assert "staged" in statuses  # the interrupted source is recorded, its parse not committed
    ingest_operation(case, tiny_operation)  # the rest of the exhibits; the recorded one is not taken twice
    res = ringtrace.run(case)
    assert res.parsed  # the interrupted source was parsed by this run
    assert _snapshot(case) == reference
    assert ringtrace.verify(case).ok


def test_crash_while_hashing_keeps_finished_batches(tiny_operation: Path, tmp_path: Path, reference: tuple[int, ...],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    case = Case.init(tmp_path / "case")
    ingest_operation(case, tiny_operation)
    monkeypatch.setattr(hash_stage, "HASH_BATCH", 3)
    real = hash_stage._hash_job
    calls = {"n": 0}

    def flaky(item):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 8:
            raise MemoryError("worker died")
        return real(item)

    monkeypatch.setattr(hash_stage, "_hash_job", flaky)
    with pytest.raises(MemoryError):
        ringtrace.run(case)
    assert _count(case, S.media) == 6  # two whole batches survived the crash
    monkeypatch.setattr(hash_stage, "_hash_job", real)
    ringtrace.run(case)
    assert _snapshot(case) == reference
    ringtrace.run(case)  # and running again changes nothing
    assert _snapshot(case) == reference


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(buf, "JPEG")
    return buf.getvalue()


def test_bad_inputs_are_named_and_the_rest_goes_on(case: Case, tmp_path: Path) -> None:
    ev = tmp_path / "phone"
    ev.mkdir()
    good = "\n".join(f"0{d}/03/2025, 10:0{d} - +34 612 34 56 7{d}: hello {d}" for d in range(1, 8)) + "\n"
    (ev / "WhatsApp Chat with Good.txt").write_text(good, encoding="utf-8")
    (ev / "WhatsApp Chat with Cut.txt").write_text(good + "08/03/2025, 10:09 - +34 612 34 5", encoding="utf-8")
    latin = good.replace("hello", "caf\xe9").encode("latin-1")
    (ev / "WhatsApp Chat with Latin.txt").write_bytes(latin)
    (ev / "IMG-20250301-WA0001.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    (ev / "IMG-20250301-WA0002.jpg").write_bytes(_jpeg()[:200])  # truncated
    (ev / "IMG-20250301-WA0003.jpg").write_bytes(_jpeg())
    r = ringtrace.ingest(case, ev, timezone="Europe/Madrid")
    assert r.parse is not None and len(r.parse.units) == 3
    ringtrace.run(case)
    with case.engine.connect() as con:
        probs = [(p.file, p.reason) for p in con.execute(select(S.problems))]
        media = {m.sha256: m for m in con.execute(select(S.media))}
        files = {f.relpath: f.sha256 for f in con.execute(select(S.source_files))}
    text = "\n".join(f"{f}: {why}" for f, why in probs)
    assert "WhatsApp Chat with Cut.txt" in text
    assert "WhatsApp Chat with Latin.txt" in text
    # every image gets its digests; the ones that will not decode carry the reason
    bad = media[files["IMG-20250301-WA0001.jpg"]]
    cut = media[files["IMG-20250301-WA0002.jpg"]]
    ok = media[files["IMG-20250301-WA0003.jpg"]]
    assert bad.md5 and bad.error and bad.pdq is None
    assert cut.md5 and cut.error
    assert ok.pdq and ok.error is None
    # all three exports' messages are in the case: nothing else was lost
    assert _count(case, S.messages) >= 7 * 3

"""The WhatsApp code table (data) and the encrypted-backup recogniser."""

from __future__ import annotations

import os
from pathlib import Path

from ringtrace.model import EventKind, Problem, ReadOptions
from ringtrace.sources.base import Candidate, Unit, registry
from ringtrace.sources.whatsapp import codes


def test_table_loads_with_version_and_sources() -> None:
    tab = codes.table()
    assert tab.version and tab.version != "unversioned"
    valid = {k.value for k in EventKind}
    assert len(tab.rows) > 50
    for info in tab.rows.values():
        assert (
            info.kind in valid and info.source
            and info.schema in ("android-legacy", "android-current", "android-call", "ios", "ios-call")
        )


def test_known_codes() -> None:
    assert codes.lookup("android-current", "action_type", 12).kind == "added"
    assert codes.lookup("android-current", "action_type", "20").kind == "joined_link"
    assert codes.lookup("android-legacy", "media_size", 11).kind == "created"
    assert codes.lookup("ios", "ZGROUPEVENTTYPE", 2).kind == "added"
    assert "disagree" in codes.lookup("android-current", "action_type", 4).source


def test_unknown_code() -> None:
    info = codes.lookup("ios", "ZGROUPEVENTTYPE", 4242)
    assert info.kind == EventKind.UNKNOWN.value and not info.known and info.code == 4242
    assert codes.lookup("ios", "ZGROUPEVENTTYPE", "junk").kind == "unknown"


def test_code_for_round_trips() -> None:
    for schema, fld in (
        ("android-current", "action_type"),
        ("android-legacy", "media_size"),
        ("ios", "ZGROUPEVENTTYPE"),
    ):
        for kind in ("created", "added", "removed", "left", "promoted", "demoted", "subject", "joined_link"):
            code = codes.code_for(schema, fld, kind)
            assert code is not None and codes.lookup(schema, fld, code).kind == kind


def _crypt15(tmp_path: Path, name: str) -> Candidate:
    p = tmp_path / name
    body = bytes([0x20, 0x01, 0x08, 0x01, 0x12]) + os.urandom(4000)  # protobuf prefix + ciphertext-like
    p.write_bytes(body)
    return Candidate(tmp_path, name, p.stat().st_size)


def test_crypt15_recognised_and_reported(tmp_path: Path) -> None:
    fmt = registry()["whatsapp-crypt"]()
    cand = _crypt15(tmp_path, "msgstore.db.crypt15")
    assert fmt.claim(cand) == 80
    assert registry()["whatsapp-android"]().claim(cand) == 0
    (prob,) = list(fmt.read(Unit(tmp_path, cand.relpath, "whatsapp-crypt"), ReadOptions()))
    assert isinstance(prob, Problem) and "crypt15" in prob.reason and "key is needed" in prob.reason


def test_crypt_bad_inputs(tmp_path: Path) -> None:
    fmt = registry()["whatsapp-crypt"]()
    tiny = tmp_path / "msgstore.db.crypt14"
    tiny.write_bytes(b"\x00" * 10)
    assert fmt.claim(Candidate(tmp_path, tiny.name, 10)) == 0
    other = _crypt15(tmp_path, "holiday.jpg")
    assert fmt.claim(other) == 0

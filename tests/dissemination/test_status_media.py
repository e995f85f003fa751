"""Action-day status and encrypted media."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select

from ringtrace.case import Case
from ringtrace.dissemination import media_crypto as mc
from ringtrace.dissemination.status import StatusError, board, set_status
from ringtrace.store import schema as S


def test_status_set_board_and_audit(case: Case) -> None:
    label = board(case)[0].person
    set_status(case, label, "Devices_Seized", "team A", "two phones")
    row = next(r for r in board(case) if r.person == label)
    assert row.status == "devices seized" and row.by == "team A" and row.note == "two phones"
    with pytest.raises(StatusError, match="not a status"):
        set_status(case, label, "escaped", "team A")
    with pytest.raises(StatusError, match="no person"):
        set_status(case, "P9999", "arrested", "team A")
    with pytest.raises(StatusError, match="who"):
        set_status(case, label, "arrested", " ")
    with case.engine.connect() as con:
        assert "status.set" in {r.action for r in con.execute(select(S.audit_log.c.action))}
    assert all(r.country == "DE" for r in board(case, "de"))


def test_media_round_trip_password_and_recipient(tmp_path: Path) -> None:
    src = tmp_path / "m.bin"
    src.write_bytes(os.urandom(mc.CHUNK * 2 + 123))  # three chunks, the last short
    enc, dec = tmp_path / "m.enc", tmp_path / "m.out"
    mc.encrypt_file(src, enc, password="correct horse")
    assert src.read_bytes() not in enc.read_bytes()
    mc.decrypt_file(enc, dec, password="correct horse")
    assert dec.read_bytes() == src.read_bytes()
    with pytest.raises(mc.MediaCryptoError, match="wrong key"):
        mc.decrypt_file(enc, dec, password="wrong")
    data = bytearray(enc.read_bytes())
    data[-5] ^= 1
    enc.write_bytes(bytes(data))
    with pytest.raises(mc.MediaCryptoError, match="altered"):
        mc.decrypt_file(enc, dec, password="correct horse")
    # truncation (dropping the final chunk) is caught: the new last chunk was not sealed as final
    mc.encrypt_file(src, enc, password="pw")
    whole = enc.read_bytes()
    enc.write_bytes(whole[: len(whole) - (123 + 16)])
    with pytest.raises(mc.MediaCryptoError):
        mc.decrypt_file(enc, dec, password="pw")
    priv = X25519PrivateKey.generate()
    pub_path = tmp_path / "r.pub"
    pub_path.write_bytes(priv.public_key().public_bytes(serialization.Encoding.PEM,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo))
    mc.encrypt_file(src, enc, recipient=mc.load_recipient_key(pub_path))
    mc.decrypt_file(enc, dec, private_key=priv)
    assert dec.read_bytes() == src.read_bytes()
    with pytest.raises(mc.MediaCryptoError, match="recipient"):
        mc.decrypt_file(enc, dec, password="x")
    with pytest.raises(mc.MediaCryptoError, match="not a ringtrace"):
        mc.decrypt_file(src, dec, password="x")
    with pytest.raises(mc.MediaCryptoError, match="public key"):
        mc.load_recipient_key(src)

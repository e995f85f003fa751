"""Encrypted WhatsApp backups decrypted with an examiner-supplied key.

Real backups cannot be used, so this file carries its own ENCRYPTOR, written from the layouts wa-crypt-tools
documents (key15.py/utils.encryptionloop, key14.py, db14.py, db12.py, proto/*.proto), independently of the
module under test: protobuf and Java serialisation are built by hand here. A synthetic msgstore.db is encrypted,
and decrypting + reading it must give exactly the records the plain database gives.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import sqlite3
import struct
import zlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from test_whatsapp_android import DB, make_view, read_all

import ringtrace
from ringtrace.model import Message, Problem, ReadOptions, Record
from ringtrace.sources.base import Candidate, Unit, registry
from ringtrace.sources.whatsapp.crypt import CryptError, WhatsAppCrypt, load_key
from ringtrace.synth.formats import whatsapp_android as writer

ROOT_KEY = bytes(range(32))  # an invented end-to-end root key
CRYPT = DB + ".crypt15"

# ---- the encryptor (test side) ----------------------------------------------------------------------------


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pb_bytes(field: int, value: bytes) -> bytes:
    return varint(field << 3 | 2) + varint(len(value)) + value


def pb_int(field: int, value: int) -> bytes:
    return varint(field << 3) + varint(value)


def java_byte_array(data: bytes) -> bytes:
    """ObjectOutputStream.writeObject(byte[]) -- what javaobj dumps for wa-crypt-tools' create_jba."""
    desc = b"\x72" + struct.pack(">H", 2) + b"[B" + struct.pack(">q", -5984413125824719648) + b"\x02\x00\x00"
    return b"\xac\xed\x00\x05" + b"\x75" + desc + b"\x78\x70" + struct.pack(">i", len(data)) + data


def c15_aes_key(root: bytes) -> bytes:
    prk = hmac.new(b"\x00" * 32, root, hashlib.sha256).digest()
    return hmac.new(prk, b"backup encryption\x01", hashlib.sha256).digest()


def key14_array(aes_key: bytes) -> bytes:
    google = b"G" * 16
    return b"\x00\x01" + b"\x02" + b"S" * 32 + google + hashlib.sha256(google).digest() + b"\x00" * 16 + aes_key


def encrypt(
    plain_db: bytes,
    version: str = "crypt15",
    root: bytes = ROOT_KEY,
    key14: bytes | None = None,
    old_flag: bool = False,
    checksum: bool = True,
) -> bytes:
    iv = os.urandom(16)
    if version == "crypt15":
        aes = c15_aes_key(root)
        # key_type E2E, e2ee data {IV}, backup metadata (version string, jid suffix, padding to > 127 bytes)
        prefix = pb_int(1, 1) + pb_bytes(3, pb_bytes(1, iv)) + pb_bytes(4, pb_bytes(1, b"2.24.1.6"))
    else:
        assert key14 is not None
        aes = key14[99:131]
        c14 = pb_bytes(1, b"\x00\x01") + pb_bytes(2, b"2") + pb_bytes(3, key14[3:35])
        c14 += pb_bytes(4, key14[35:51]) + pb_bytes(5, iv)
        prefix = pb_int(1, 0) + pb_bytes(2, c14) + pb_bytes(4, pb_bytes(1, b"2.21.1.1"))
    if not old_flag:
        prefix += pb_bytes(4, pb_bytes(2, b"x" * 140))  # makes the length a two-byte varint
        head = varint(len(prefix)) + prefix
    else:
        assert len(prefix) < 128
        head = bytes([len(prefix), 1]) + prefix  # the "feature flag" layout older tools describe
    if version == "crypt12":
        head = key14[:3] + key14[3:35] + key14[35:51] + iv  # type: ignore[index]
    body = head + AESGCM(aes).encrypt(iv, zlib.compress(plain_db), None)  # ciphertext || tag
    if checksum:
        body += hashlib.md5(body).digest()
    if version == "crypt12":
        body += b"-78-"
    return body


# ---- fixtures ---------------------------------------------------------------------------------------------


def plain_msgstore(tmp_path: Path) -> tuple[Path, bytes]:
    """A synthetic device tree whose msgstore.db has its WAL folded in (a backup is one file)."""
    src = tmp_path / "device"
    writer.write(make_view("current"), src, seed=7)
    db = src / DB
    con = sqlite3.connect(db)
    single = tmp_path / "single.db"
    con.execute("VACUUM INTO ?", (str(single),))
    con.close()
    for sib in ("-wal", "-shm"):
        db.with_name(db.name + sib).unlink(missing_ok=True)
    shutil.copyfile(single, db)
    return src, single.read_bytes()


def exhibit_with(tmp_path: Path, src: Path, name: str, content: bytes) -> Path:
    ex = tmp_path / f"ex-{name}"
    shutil.copytree(src, ex)
    (ex / DB).unlink()
    (ex / DB).with_name(name).write_bytes(content)
    return ex


def read_crypt(ex: Path, rel: str, key: str | None) -> list[Record]:
    extra = {"key": key} if key is not None else {}
    return list(WhatsAppCrypt().read(Unit(ex, rel, "whatsapp-crypt"), ReadOptions(extra=extra)))


def normalised(recs: list[Record], name: str) -> list[str]:
    return [repr(r).replace(name, "msgstore.db") for r in recs]


def problems(recs: list[Record]) -> list[Problem]:
    return [r for r in recs if isinstance(r, Problem)]


# ---- round trips ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("old_flag", [False, True])
@pytest.mark.parametrize("checksum", [True, False])
def test_crypt15_hex_key_round_trip(tmp_path: Path, old_flag: bool, checksum: bool) -> None:
    src, plain = plain_msgstore(tmp_path)
    expected = read_all(src, DB, "whatsapp-android")
    assert any(isinstance(r, Message) for r in expected)
    ex = exhibit_with(tmp_path, src, "msgstore.db.crypt15", encrypt(plain, old_flag=old_flag, checksum=checksum))
    cand = Candidate(ex, CRYPT, (ex / CRYPT).stat().st_size)
    assert WhatsAppCrypt().claim(cand) == 80 and registry()["whatsapp-android"]().claim(cand) == 0
    hex_key = " ".join(ROOT_KEY.hex()[i : i + 4] for i in range(0, 64, 4))  # as WhatsApp shows it
    recs = read_crypt(ex, CRYPT, hex_key)
    info, *rest = recs
    assert isinstance(info, Problem) and info.severity == "info"
    assert hashlib.sha256(ROOT_KEY).hexdigest() in info.reason and ROOT_KEY.hex() not in repr(recs)
    assert normalised(rest, "msgstore.db.crypt15") == [repr(r) for r in expected]
    msgs = [r for r in rest if isinstance(r, Message)]
    assert msgs and all(m.prov.file == CRYPT and m.prov.table == "message" for m in msgs)
    assert sorted(p.name for p in (ex / DB).parent.iterdir()) == ["msgstore.db.crypt15", "wa.db"]  # nothing left


def test_crypt15_key_file_round_trip(tmp_path: Path) -> None:
    src, plain = plain_msgstore(tmp_path)
    ex = exhibit_with(tmp_path, src, "msgstore.db.crypt15", encrypt(plain))
    keyfile = tmp_path / "encrypted_backup.key"
    keyfile.write_bytes(java_byte_array(ROOT_KEY))
    recs = read_crypt(ex, CRYPT, str(keyfile))
    assert "key file encrypted_backup.key" in problems(recs)[0].reason
    assert len([r for r in recs if isinstance(r, Message)]) == 9
    hexfile = tmp_path / "key.txt"
    hexfile.write_text(ROOT_KEY.hex().upper() + "\n")
    assert load_key(str(hexfile)).material == ROOT_KEY


@pytest.mark.parametrize("version", ["crypt14", "crypt12"])
def test_crypt14_and_12_key_file_round_trip(tmp_path: Path, version: str) -> None:
    src, plain = plain_msgstore(tmp_path)
    expected = read_all(src, DB, "whatsapp-android")
    k14 = key14_array(os.urandom(32))
    name = f"msgstore.db.{version}"
    ex = exhibit_with(tmp_path, src, name, encrypt(plain, version, key14=k14))
    keyfile = tmp_path / "key"
    keyfile.write_bytes(java_byte_array(k14))
    rel = DB.replace("msgstore.db", name)
    assert WhatsAppCrypt().claim(Candidate(ex, rel, (ex / rel).stat().st_size)) == 80
    info, *rest = read_crypt(ex, rel, str(keyfile))
    assert isinstance(info, Problem) and f"decrypted ({version})" in info.reason
    assert normalised(rest, name) == [repr(r) for r in expected]


def test_non_msgstore_backup_is_reported(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE wa_contacts (_id INTEGER PRIMARY KEY, jid TEXT)")
    con.commit()
    con.close()
    (tmp_path / "wa.db.crypt15").write_bytes(encrypt(db.read_bytes()))
    recs = read_crypt(tmp_path, "wa.db.crypt15", ROOT_KEY.hex())
    assert [p.severity for p in problems(recs)] == ["info", "warning"]
    assert "not a message store" in recs[-1].reason  # type: ignore[union-attr]


# ---- bad inputs -------------------------------------------------------------------------------------------


def small_backup(tmp_path: Path, **kw: object) -> tuple[Path, bytes]:
    db = tmp_path / "tiny.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE message (_id INTEGER PRIMARY KEY, chat_row_id, key_id, from_me, timestamp)")
    con.executemany("INSERT INTO message (key_id) VALUES (?)", [(f"K{i}",) for i in range(2000)])
    con.commit()
    con.close()
    data = encrypt(db.read_bytes(), **kw)  # type: ignore[arg-type]
    (tmp_path / "msgstore.db.crypt15").write_bytes(data)
    return tmp_path, data


def only_error(recs: list[Record]) -> str:
    (p,) = recs
    assert isinstance(p, Problem) and p.severity == "error"
    return p.reason


def test_no_key_is_reported(tmp_path: Path) -> None:
    root, _ = small_backup(tmp_path)
    reason = only_error(read_crypt(root, "msgstore.db.crypt15", None))
    assert "crypt15" in reason and "key is needed" in reason


def test_wrong_key(tmp_path: Path) -> None:
    root, _ = small_backup(tmp_path)
    with pytest.raises(CryptError, match=r"msgstore\.db\.crypt15: key does not open this backup \(authentication"):
        read_crypt(root, "msgstore.db.crypt15", "ab" * 32)


def test_truncated_and_corrupt(tmp_path: Path) -> None:
    root, data = small_backup(tmp_path)
    path = root / "msgstore.db.crypt15"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CryptError, match=r"msgstore\.db\.crypt15: backup is damaged or truncated"):
        read_crypt(root, path.name, ROOT_KEY.hex())
    path.write_bytes(data[:60])
    with pytest.raises(CryptError, match=r"msgstore\.db\.crypt15: truncated"):
        read_crypt(root, path.name, ROOT_KEY.hex())
    bad = bytearray(data)
    bad[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(bad))
    with pytest.raises(CryptError, match=r"msgstore\.db\.crypt15: (backup is damaged|key does not open)"):
        read_crypt(root, path.name, ROOT_KEY.hex())
    path.write_bytes(b"\x05\x01\xff\xff\xff\xff\xff" + data[7:])
    with pytest.raises(CryptError, match=r"msgstore\.db\.crypt15: corrupt or unknown backup header"):
        read_crypt(root, path.name, ROOT_KEY.hex())


def test_zip_bomb_guard(tmp_path: Path) -> None:
    root, _ = small_backup(tmp_path)
    unit = Unit(root, "msgstore.db.crypt15", "whatsapp-crypt")
    with pytest.raises(CryptError, match=r"msgstore\.db\.crypt15: decompresses to more than 4096 bytes"):
        list(WhatsAppCrypt().read_with_key(unit, ReadOptions(), load_key(ROOT_KEY.hex()), max_bytes=4096))


def test_bad_keys(tmp_path: Path) -> None:
    root, _ = small_backup(tmp_path)
    notakey = tmp_path / "holiday.txt"
    notakey.write_text("not a key at all")
    reason = only_error(read_crypt(root, "msgstore.db.crypt15", str(notakey)))
    assert "msgstore.db.crypt15" in reason and "key file holiday.txt: not a WhatsApp key" in reason
    odd = tmp_path / "odd.key"
    odd.write_bytes(java_byte_array(b"\x01" * 40))
    assert "40-byte array is not a WhatsApp key" in only_error(read_crypt(root, "msgstore.db.crypt15", str(odd)))
    k14 = bytearray(key14_array(b"k" * 32))
    k14[60] ^= 1
    odd.write_bytes(java_byte_array(bytes(k14)))
    assert "damaged" in only_error(read_crypt(root, "msgstore.db.crypt15", str(odd)))
    secret = "0123456789abcdef" * 3 + "0123"  # 52 hex digits: a mistyped key must not be echoed
    reason = only_error(read_crypt(root, "msgstore.db.crypt15", secret))
    assert "neither 64 hex digits nor an existing key file" in reason and secret not in reason
    odd.write_bytes(java_byte_array(key14_array(b"k" * 32)))
    with pytest.raises(CryptError, match=r"crypt15 backup needs the 64-hex end-to-end key"):
        read_crypt(root, "msgstore.db.crypt15", str(odd))
    big = tmp_path / "big.key"
    big.write_bytes(b"\x00" * 10000)
    assert "too large" in only_error(read_crypt(root, "msgstore.db.crypt15", str(big)))
    assert "BackupKey(crypt15" in repr(load_key(ROOT_KEY.hex())) and ROOT_KEY.hex() not in repr(
        load_key(ROOT_KEY.hex())
    )


def test_ingest_with_key_reads_the_backup_and_stores_no_key(tmp_path: Path) -> None:
    from sqlalchemy import func, select

    from ringtrace.case import Case
    from ringtrace.store import schema as S

    src, plain = plain_msgstore(tmp_path)
    ex = exhibit_with(tmp_path, src, "msgstore.db.crypt15", encrypt(plain))
    hex_key = ROOT_KEY.hex()
    case = Case.init(tmp_path / "case")
    locked = ringtrace.ingest(case, ex, exhibit="EX-LOCKED", reference=True)  # no key: named, nothing read
    assert locked.parse is not None
    with case.engine.connect() as con:
        assert con.execute(select(func.count()).select_from(S.messages)).scalar() == 0
        reasons = " ".join(p.reason for p in con.execute(select(S.problems)))
    assert "key" in reasons
    case2 = Case.init(tmp_path / "case2")
    ringtrace.ingest(case2, ex, exhibit="EX-001", key=hex_key)
    with case2.engine.connect() as con:
        assert (con.execute(select(func.count()).select_from(S.messages)).scalar() or 0) > 0
    case2.close()
    blob = b"".join(p.read_bytes() for p in (tmp_path / "case2").glob("case.sqlite*"))
    assert hex_key.encode() not in blob and ROOT_KEY not in blob  # the key is used, never stored

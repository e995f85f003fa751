"""Encrypted media for packages (``--include-media``): media files never travel in clear.

Format of each ``media/<sha256>.enc`` (docs/dissemination.md): a header line of JSON, then the ciphertext in
1 MiB chunks sealed with AES-256-GCM. The file key is either derived from a password with scrypt (n=2**15, r=8,
p=1, 16-byte salt) or wrapped for a recipient: an ephemeral X25519 key agreement with the recipient's public
key, HKDF-SHA256 over the shared secret. Chunk i uses nonce = 8-byte random prefix || i (4 bytes, big-endian);
the associated data is the header bytes plus the chunk index and a final-chunk flag, so chunks cannot be
reordered, dropped or truncated without failing authentication. Memory use is bounded by the chunk size.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

CHUNK = 1 << 20
MAGIC = "ringtrace-media-enc-1"


class MediaCryptoError(Exception):
    pass


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _scrypt(password: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(password.encode("utf-8"))


def _hkdf(shared: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(shared)


def _chunks(path: Path) -> Iterator[tuple[bytes, bool]]:
    with path.open("rb") as f:
        cur = f.read(CHUNK)
        while True:
            nxt = f.read(CHUNK)
            yield cur, not nxt
            if not nxt:
                return
            cur = nxt


def encrypt_file(src: Path, dst: Path, password: str | None = None,
                 recipient: X25519PublicKey | None = None) -> None:
    header: dict[str, Any] = {"format": MAGIC, "cipher": "AES-256-GCM", "chunk": CHUNK}
    if recipient is not None:
        eph = X25519PrivateKey.generate()
        eph_pub = eph.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        key = _hkdf(eph.exchange(recipient), b"ringtrace media " + eph_pub)
        header["kdf"] = {"name": "X25519+HKDF-SHA256", "ephemeral_public": _b64(eph_pub)}
    elif password:
        salt = os.urandom(16)
        key = _scrypt(password, salt)
        header["kdf"] = {"name": "scrypt", "n": 2**15, "r": 8, "p": 1, "salt": _b64(salt)}
    else:
        raise MediaCryptoError("media encryption needs a password or a recipient key")
    prefix = os.urandom(8)
    header["nonce_prefix"] = _b64(prefix)
    hbytes = (json.dumps(header, sort_keys=True) + "\n").encode("ascii")
    aes = AESGCM(key)
    with dst.open("wb") as out:
        out.write(hbytes)
        for i, (chunk, last) in enumerate(_chunks(src)):
            aad = hbytes + i.to_bytes(4, "big") + (b"\x01" if last else b"\x00")
            out.write(aes.encrypt(prefix + i.to_bytes(4, "big"), chunk, aad))


def decrypt_file(src: Path, dst: Path, password: str | None = None,
                 private_key: X25519PrivateKey | None = None) -> None:
    from cryptography.exceptions import InvalidTag

    with src.open("rb") as f:
        hbytes = f.readline(4096)
        try:
            header = json.loads(hbytes)
        except ValueError as e:
            raise MediaCryptoError(f"{src}: not a ringtrace encrypted media file") from e
        if header.get("format") != MAGIC:
            raise MediaCryptoError(f"{src}: not a ringtrace encrypted media file")
        kdf = header["kdf"]
        if kdf["name"] == "scrypt":
            if not password:
                raise MediaCryptoError(f"{src}: encrypted with a password")
            key = Scrypt(salt=base64.b64decode(kdf["salt"]), length=32, n=kdf["n"], r=kdf["r"],
                         p=kdf["p"]).derive(password.encode("utf-8"))
        else:
            if private_key is None:
                raise MediaCryptoError(f"{src}: encrypted for a recipient key")
            eph_pub = base64.b64decode(kdf["ephemeral_public"])
            key = _hkdf(private_key.exchange(X25519PublicKey.from_public_bytes(eph_pub)),
                        b"ringtrace media " + eph_pub)
        prefix = base64.b64decode(header["nonce_prefix"])
        aes = AESGCM(key)
        size = header["chunk"] + 16
        with dst.open("wb") as out:
            i = 0
            cur = f.read(size)
            while True:
                nxt = f.read(size)
                last = not nxt
                aad = hbytes + i.to_bytes(4, "big") + (b"\x01" if last else b"\x00")
                try:
                    out.write(aes.decrypt(prefix + i.to_bytes(4, "big"), cur, aad))
                except InvalidTag as e:
                    raise MediaCryptoError(f"{src}: wrong key, or the file was altered (chunk {i})") from e
                if last:
                    return
                cur, i = nxt, i + 1


def load_recipient_key(path: Path) -> X25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as e:
        raise MediaCryptoError(f"{path}: not a readable PEM public key ({e})") from e
    if not isinstance(key, X25519PublicKey):
        raise MediaCryptoError(f"{path}: not an X25519 public key")
    return key


def write_encrypted_media(case: Any, shas: list[str], out: Path, password: str | None = None,
                          recipient_key: Path | None = None) -> list[Path]:
    """Encrypt the vault copy of each media file; media not held in the vault are listed as missing."""
    recipient = load_recipient_key(recipient_key) if recipient_key else None
    out.mkdir(parents=True, exist_ok=True)
    written, missing = [], []
    for sha in shas:
        src = case.vault.object_path(sha)
        if not case.vault.has(sha):
            missing.append(sha)
            continue
        dst = out / f"{sha}.enc"
        encrypt_file(src, dst, password=password, recipient=recipient)
        written.append(dst)
    note = out / "README.txt"
    note.write_text(f"{len(written)} media files encrypted ({MAGIC}); see docs/dissemination.md.\n"
                    + "".join(f"not in the vault (reference-mode source or declared only): {s}\n" for s in missing),
                    encoding="utf-8")
    return [*written, note]

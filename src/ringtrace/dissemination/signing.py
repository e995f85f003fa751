"""Signed package manifests: Ed25519 keys, ``manifest.json`` (SHA-256 and size of every file) and ``manifest.sig``.

The signature covers the exact bytes of manifest.json, so a verifier needs nothing but the public key and the
folder: it re-hashes every file, compares with the manifest and checks the signature over the bytes on disk.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ringtrace import TOOL

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
MANIFEST_VERSION = 1
_CHUNK = 1 << 20


class SigningError(Exception):
    pass


def new_keypair(out_dir: Path, name: str = "agency") -> tuple[Path, Path]:
    """Write ``NAME.key`` (PKCS#8 PEM, mode 0600) and ``NAME.pub`` (SubjectPublicKeyInfo PEM); refuse to overwrite."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name).strip("._") or "agency"
    out_dir.mkdir(parents=True, exist_ok=True)
    priv_path, pub_path = out_dir / f"{safe}.key", out_dir / f"{safe}.pub"
    for p in (priv_path, pub_path):
        if p.exists():
            raise SigningError(f"{p} exists: refusing to overwrite a key")
    key = Ed25519PrivateKey.generate()
    priv = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    # create with 0600 from the start so the key is never readable by others, even briefly
    fd = os.open(priv_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(priv)
    os.chmod(priv_path, 0o600)
    pub_path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo))
    return priv_path, pub_path


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as e:
        raise SigningError(f"{path}: not a readable unencrypted PEM private key ({e})") from e
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{path}: not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError, TypeError) as e:
        raise SigningError(f"{path}: not a readable PEM public key ({e})") from e
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"{path}: not an Ed25519 public key")
    return key


def fingerprint(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def _hash_file(p: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    n = 0
    with p.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            n += len(chunk)
    return h.hexdigest(), n


def package_files(root: Path) -> list[str]:
    """Every regular file under root except the manifest and its signature, as sorted POSIX relative paths."""
    out = []
    for p in root.rglob("*"):
        if p.is_symlink():
            raise SigningError(f"{p}: a symbolic link in a package is refused")
        if p.is_file():
            rel = p.relative_to(root).as_posix()
            if rel not in (MANIFEST, SIGNATURE):
                out.append(rel)
    return sorted(out)


def build_manifest(root: Path, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    files = []
    for rel in package_files(root):
        sha, size = _hash_file(root / rel)
        files.append({"path": rel, "sha256": sha, "size": size})
    return {"manifest_version": MANIFEST_VERSION, "tool": TOOL,
            "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "package": metadata or {}, "files": files}


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def write_manifest(root: Path, metadata: dict[str, Any] | None = None) -> Path:
    """Unsigned manifest (no key given): still lets a recipient detect accidental damage, not tampering."""
    data = manifest_bytes(build_manifest(root, metadata))
    (root / MANIFEST).write_bytes(data)
    sig = root / SIGNATURE
    if sig.exists():
        sig.unlink()
    return root / MANIFEST


def sign_manifest(root: Path, private_key_path: Path, metadata: dict[str, Any] | None = None) -> tuple[Path, Path]:
    key = load_private_key(private_key_path)
    meta = dict(metadata or {})
    meta["signer_key_sha256"] = fingerprint(key.public_key())
    data = manifest_bytes(build_manifest(root, meta))
    (root / MANIFEST).write_bytes(data)
    (root / SIGNATURE).write_text(base64.b64encode(key.sign(data)).decode("ascii") + "\n", encoding="ascii")
    return root / MANIFEST, root / SIGNATURE


def verify_package(root: Path, public_key_path: Path | None) -> list[str]:
    """Every finding, one line each: bad or missing signature, changed, missing or extra files. Empty: intact."""
    findings: list[str] = []
    mpath = root / MANIFEST
    if not mpath.is_file():
        return [f"{mpath}: no manifest"]
    data = mpath.read_bytes()
    if public_key_path is None:
        findings.append("no public key given: the signature was not checked")
    else:
        pub = load_public_key(public_key_path)
        spath = root / SIGNATURE
        if not spath.is_file():
            findings.append(f"{SIGNATURE} missing: the package is unsigned")
        else:
            try:
                pub.verify(base64.b64decode(spath.read_text(encoding="ascii").strip(), validate=True), data)
            except (InvalidSignature, ValueError, UnicodeDecodeError):
                findings.append(f"bad signature: {MANIFEST} was not signed by this key or was altered")
    try:
        manifest = json.loads(data)
        listed = {f["path"]: f for f in manifest["files"]}
    except (ValueError, KeyError, TypeError) as e:
        return [*findings, f"{MANIFEST}: unreadable ({e})"]
    try:
        present = set(package_files(root))
    except SigningError as e:
        findings.append(str(e))
        present = set()
    for rel in sorted(set(listed) - present):
        findings.append(f"missing file: {rel}")
    for rel in sorted(present - set(listed)):
        findings.append(f"extra file (not in the manifest): {rel}")
    for rel in sorted(set(listed) & present):
        sha, size = _hash_file(root / rel)
        if sha != listed[rel].get("sha256") or size != listed[rel].get("size"):
            findings.append(f"changed file: {rel} (sha256 {sha} size {size}, manifest says "
                            f"{listed[rel].get('sha256')} size {listed[rel].get('size')})")
    return findings

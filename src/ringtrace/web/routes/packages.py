"""A country's referral package from the web app (supervisors).

Made by ``dissemination.package.make_package`` and signed with the server's Ed25519 key exactly as
``ringtrace package make --key`` signs it (``manifest.json`` + ``manifest.sig``); the web app makes no unsigned
package. Downloaded as its zip, and verified with ``dissemination.signing.verify_package`` twice: the folder kept on
the server, and the zip a recipient is given (unpacked into a scratch folder), both against the server's public key.
Every finding is shown and recorded in the case's audit chain.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from ringtrace.web import auth
from ringtrace.web.auth import NotFound, client_address
from ringtrace.web.deps import GrantedCase, SupervisorCaseDep
from ringtrace.web.state import render

router = APIRouter()

PACKAGE = re.compile(r"^[A-Z]{2}-v\d{1,6}$")
MAX_UNPACKED = 8 * 1024**3  # a zip to verify is unpacked only up to this many bytes in all
MAX_MEMBERS = 200_000


def _root(gc: GrantedCase) -> Path:
    return gc.st.settings.home / "packages" / f"case-{gc.entry.id}"


def signer(gc: GrantedCase) -> tuple[Path, str] | None:
    """The server's public key (written beside the packages, from its private key) and its fingerprint."""
    from cryptography.hazmat.primitives import serialization

    from ringtrace.dissemination.signing import fingerprint, load_private_key

    key_path = gc.st.settings.signing_key
    if key_path is None:
        return None
    pub = load_private_key(key_path).public_key()
    fp = fingerprint(pub)
    path = gc.st.settings.home / "packages" / f"signer-{fp[:16]}.pub"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pub.public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo))
    return path, fp


def _manifest_facts(folder: Path) -> dict[str, Any]:
    import hashlib
    import json

    m = folder / "manifest.json"
    try:
        data = m.read_bytes()
        doc = json.loads(data)
    except (OSError, ValueError):
        return {"manifest_sha256": None, "signer": None, "created_at": None, "persons": []}
    pkg = doc.get("package") or {}
    return {"manifest_sha256": hashlib.sha256(data).hexdigest(), "signer": pkg.get("signer_key_sha256"),
            "created_at": doc.get("created_at"), "persons": pkg.get("persons") or []}


def _listing(gc: GrantedCase) -> list[dict[str, Any]]:
    root = _root(gc)
    if not root.is_dir():
        return []
    return [{"name": d.name, "zip": (root / f"{d.name}.zip").is_file(), "signed": (d / "manifest.sig").is_file(),
             **_manifest_facts(d)}
            for d in sorted(root.iterdir(), key=lambda d: d.name) if d.is_dir() and PACKAGE.match(d.name)]


def _page(request: Request, gc: GrantedCase, error: str | None = None, status: int = 200, done: str | None = None,
          verified: dict[str, Any] | None = None) -> Response:
    from ringtrace.dissemination.signing import SigningError

    p = gc.view("packages")
    try:
        key, key_error = signer(gc), None
    except SigningError as e:  # a broken key file is said on the page, not an error page
        key, key_error = None, str(e)
    countries = sorted({str(x["country"]) for x in p.data.export["persons"] if x.get("country")})
    return render(request, "packages.html",
                  p.ctx("packages", packages=_listing(gc), countries=countries, error=error, done=done,
                        verified=verified, signer=key[1] if key else None, key_error=key_error), status)


@router.get("/cases/{cid}/packages", response_class=HTMLResponse)
def packages_page(request: Request, gc: SupervisorCaseDep) -> Response:
    return _page(request, gc)


@router.post("/cases/{cid}/packages", response_class=HTMLResponse)
def make_package_route(request: Request, gc: SupervisorCaseDep, csrf: str = Form(""), country: str = Form(""),
                       pdf: str = Form(""), recipient: str = Form("")) -> Response:
    from ringtrace.dissemination.package import PackageError, make_package
    from ringtrace.dissemination.signing import SigningError

    auth.check_csrf(gc.viewer, csrf)
    cc = country.strip().upper()[:2]
    key = gc.st.settings.signing_key
    if key is None:
        return _page(request, gc, "This server has no signing key, and the web app makes only signed packages: "
                     "start it with `ringtrace web serve --signing-key KEY` (`ringtrace keys new` makes a key pair).",
                     409)
    to = " ".join(recipient.split())[:200] or None
    try:
        res = make_package(gc.case, cc, _root(gc), zip=True, key=key, pdf=bool(pdf), recipient=to,
                           classification=gc.st.settings.classification)
    except (PackageError, SigningError, ValueError, OSError) as e:
        return _page(request, gc, f"No package for {cc or '?'}: {e}", 400)
    gc.st.store.log("package.make", gc.viewer.user.name, client_address(request), case_id=gc.entry.id,
                    target=res.path.name, detail={"country": res.country, "version": res.version,
                                                  "sha256": res.manifest_sha256, "signed": res.signed})
    return _page(request, gc, done=f"Package {res.path.name} made and signed ({len(res.targets)} persons, "
                 f"{len(res.files)} files; manifest sha256 {res.manifest_sha256})"
                 + (f"; warnings: {'; '.join(res.warnings)}" if res.warnings else "") + ".")


@router.get("/cases/{cid}/packages/{name}.zip")
def download_package(gc: SupervisorCaseDep, name: str) -> Response:
    if not PACKAGE.match(name):
        raise NotFound()
    path = _root(gc) / f"{name}.zip"
    if not path.is_file():
        raise NotFound()
    gc.view("package.download", name)
    return FileResponse(path, media_type="application/zip", filename=f"{name}.zip")


def _verify_zip(zpath: Path, name: str, pub: Path | None) -> list[str]:
    """Unpack the zip a recipient gets into a scratch folder (names checked, size bounded) and verify that."""
    from ringtrace.dissemination.signing import verify_package

    try:
        with zipfile.ZipFile(zpath) as z, tempfile.TemporaryDirectory(prefix="rt-verify-") as tmp:
            members = z.infolist()
            if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNPACKED:
                return [f"{zpath.name}: too large to unpack for checking"]
            for m in members:
                parts = PurePosixPath(m.filename).parts
                if not parts or parts[0] != name or ".." in parts or m.filename.startswith("/"):
                    return [f"{zpath.name}: unexpected entry {m.filename[:200]!r} (outside {name}/)"]
            z.extractall(tmp)
            return verify_package(Path(tmp) / name, pub)
    except (OSError, zipfile.BadZipFile) as e:
        return [f"{zpath.name}: unreadable zip ({e})"]


@router.post("/cases/{cid}/packages/{name}/verify", response_class=HTMLResponse)
def verify_package_route(request: Request, gc: SupervisorCaseDep, name: str, csrf: str = Form("")) -> Response:
    from ringtrace.dissemination.signing import SigningError, verify_package

    auth.check_csrf(gc.viewer, csrf)
    folder = _root(gc) / name
    if not PACKAGE.match(name) or not folder.is_dir():
        raise NotFound()
    try:
        key = signer(gc)
    except SigningError as e:
        return _page(request, gc, f"The server's signing key cannot be read: {e}", 500)
    pub = key[0] if key else None
    found = [("the package kept on the server", verify_package(folder, pub))]
    zpath = _root(gc) / f"{name}.zip"
    if zpath.is_file():
        found.append((f"the download {name}.zip", _verify_zip(zpath, name, pub)))
    checks: list[dict[str, Any]] = [{"what": what, "findings": f, "ok": not f} for what, f in found]
    ok = all(c["ok"] for c in checks)
    gc.case.log("web.package.verify", {"package": name, "by": gc.viewer.user.name, "ok": ok,
                                       "signer_key_sha256": key[1] if key else None,
                                       "findings": [f for c in checks for f in c["findings"]]})
    gc.st.store.log("package.verify", gc.viewer.user.name, client_address(request), case_id=gc.entry.id,
                    target=name, detail={"ok": ok, "findings": sum(len(c["findings"]) for c in checks)})
    return _page(request, gc, verified={"name": name, "ok": ok, "checks": checks, "signer": key[1] if key else None,
                                        **_manifest_facts(folder)})

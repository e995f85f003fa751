"""NCMEC-style XML hash lists: any element carrying md5/sha1/sha256/pdq/photodna children or attributes.

NCMEC's reporting XML puts fingerprints in ``<fileDetails>`` (``<md5>``, ``<sha1>``, ``<photoDna>`` ...);
other exports use ``<hash type="md5">`` children or attributes (``<file md5="..." category="1"/>``).
The reader does not depend on one schema: the innermost element that directly holds a digest is one entry.
Parsed with defusedxml ``iterparse`` (no entity expansion, no external DTDs); each finished entry is
removed from its parent so memory stays bounded however long the list is.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, iterparse

from ._fields import FIELD_ALIASES, build_entry, norm_name
from .model import CategoryScheme, HashEntry, HashListError, HashListProblem

_DIGESTS = {"md5", "sha1", "sha256", "pdq", "photodna"}


def looks_like_xml(head: str) -> bool:
    return head.lstrip("\ufeff \t\r\n").startswith("<")


def _fields(elem: Any) -> dict[str, object]:
    """Attributes and leaf children of ``elem`` as raw name -> text; ``<hash type="md5">`` is named md5."""
    out: dict[str, object] = {}
    for k, v in elem.attrib.items():
        out.setdefault(norm_name(k), v)
    for child in elem:
        if len(child):
            continue
        name = norm_name(child.tag)
        if name in ("hash", "fingerprint", "digest", "hashvalue"):
            kind = norm_name(child.get("type") or child.get("algorithm") or child.get("name") or "")
            if kind:
                name = kind
        text = (child.text or "").strip()
        if text:
            out.setdefault(name, text)
    return out


def read_ncmec_xml(path: Path, scheme: CategoryScheme) -> Iterator[HashEntry | HashListProblem]:
    try:
        fh = path.open("rb")
    except OSError as e:
        raise HashListError(path, f"cannot open: {e}") from e
    stack: list[Any] = []
    n = 0
    with fh:
        try:
            for ev, elem in iterparse(fh, events=("start", "end"), forbid_dtd=True):
                if ev == "start":
                    stack.append(elem)
                    continue
                stack.pop()
                fields = _fields(elem)
                if not any(FIELD_ALIASES.get(k, k) in _DIGESTS for k in fields):
                    continue
                n += 1
                pos = f"{norm_name(elem.tag)}[{n}]"
                yield from build_entry(fields, scheme, path, position=pos)
                elem.clear()
                if stack:
                    stack[-1].remove(elem)  # drop the finished entry so the tree does not grow
        except (ParseError, DefusedXmlException) as e:
            raise HashListError(path, f"malformed XML: {e}") from e
    if n == 0:
        raise HashListError(path, "no element with an md5/sha1/sha256/pdq/photodna value")

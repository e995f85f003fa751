"""Parse one source again: after a parser fix, with the key an encrypted backup needs, or with another format
forced. The evidence is read from the vault as at first; the source's old records are replaced in the same
transaction, and the new parse is sealed (see ringtrace.seal) and audited like the first."""

from __future__ import annotations

from sqlalchemy import select, update

from ringtrace.case import Case
from ringtrace.lock import writes_case
from ringtrace.stages.parse import ParseResult, parse_source
from ringtrace.store import schema as S


class ReparseError(Exception):
    pass


@writes_case
def reparse(case: Case, exhibit: str, key: str | None = None, format: str | None = None,
            password: str | None = None) -> ParseResult:
    """Re-read the source recorded under ``exhibit``. ``key``: an encrypted WhatsApp backup's key (a key file or
    64 hex digits); ``password``: an encrypted iOS or Android backup's; both used in memory only. ``format``:
    force a format id (old ids accepted)."""
    from ringtrace.sources.base import canonical_format, registry
    from ringtrace.stages.intake import backup_secrets

    with case.engine.connect() as con:
        row = con.execute(select(S.sources.c.id, S.sources.c.format_hint).where(S.sources.c.exhibit == exhibit)
                          ).first()
    if row is None:
        raise ReparseError(f"no exhibit {exhibit!r} in this case")
    if format is not None:
        fmt = canonical_format(format)
        if fmt not in registry():
            raise ReparseError(f"--format {format[:40]!r} is not a known source format "
                               f"(known: {', '.join(sorted(registry()))})")
    if key is not None:
        from ringtrace.sources.whatsapp.crypt import CryptError, load_key

        try:
            load_key(key)
        except CryptError as e:
            raise ReparseError(f"--key: {e}") from e
    with case.begin() as con:
        values: dict[str, object] = {"status": "staged"}
        if format is not None:
            values["format_hint"] = canonical_format(format)
        con.execute(update(S.sources).where(S.sources.c.id == row.id).values(**values))
        case.log("source.reparse", {"source_id": row.id, "exhibit": exhibit, "format": values.get("format_hint"),
                                    "previous_format": row.format_hint, "key_given": key is not None,
                                    "password_given": bool(password)}, con)
    return parse_source(case, row.id, secrets=backup_secrets(key, password))

"""docs/extending.md stays true: its formats table is the registry's, and every hook is documented."""

from __future__ import annotations

from pathlib import Path

from ringtrace import plugins
from ringtrace.sources._catalog import formats_table, table_in

DOC = Path(__file__).resolve().parents[2] / "docs" / "extending.md"


def test_formats_table_matches_registry() -> None:
    found = table_in(DOC.read_text(encoding="utf-8"))
    assert found, "docs/extending.md lacks the generated formats table markers"
    assert found == formats_table(), "formats table is stale: run python -m ringtrace.sources._catalog"


def test_every_hook_documented() -> None:
    doc = DOC.read_text(encoding="utf-8")
    specs = {n for n in vars(plugins.Specs) if n.startswith("ringtrace_")}
    assert specs == set(plugins.HOOKS)
    missing = [h for h in specs if f"### `{h}`" not in doc]
    assert not missing, f"hooks without a section in docs/extending.md: {missing}"


def test_table_detects_drift() -> None:
    doc = DOC.read_text(encoding="utf-8")
    assert table_in(doc.replace("`whatsapp-ios`", "`whatsapp_ios`")) != formats_table()
    assert table_in("no markers here") == ""

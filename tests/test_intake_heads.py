"""The heads intake keeps while it records files are what recognition would read from the exhibit tree."""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

from ringtrace.case import Case
from ringtrace.sources.base import HEAD_BYTES
from ringtrace.stages.intake import _Batch, _heads, _stage
from ringtrace.stages.parse import recognise


def _exhibit(where: Path) -> Path:
    """A folder with small files, copies, one larger than a head, and a zip whose two members share a name (the
    earlier is moved to a suffixed name in the tree) beside an export chat file that a format claims."""
    root = where / "exhibit"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_bytes(b"alpha\n")
    (root / "sub" / "copy.txt").write_bytes(b"alpha\n")
    (root / "big.bin").write_bytes(bytes(range(256)) * (3 * HEAD_BYTES // 256))
    (root / "sub" / "_chat.txt").write_text("[01/02/2023, 10:00:00] Ana: hola\n[01/02/2023, 10:01:00] Bo: hi\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the duplicate name is the point
        with zipfile.ZipFile(root / "pack.zip", "w") as z:
            z.writestr("dup.txt", b"first content")
            z.writestr("dup.txt", b"second content")
            z.writestr("inner/SQLite.db", b"SQLite format 3\x00" + b"\x00" * 200)
    return root


def test_kept_heads_are_the_tree_files_first_bytes(tmp_path: Path) -> None:
    case = Case.init(tmp_path / "case", actor="t")
    try:
        st = _stage(case, _exhibit(tmp_path), batch=_Batch())
        assert st.stager is not None and st.fresh_tree is not None
        files = [(f.relpath, f.size) for f in st.stager.files]
        heads = _heads(st)
        assert heads["pack.zip!/dup.txt~1"] == b"first content" and heads["pack.zip!/dup.txt"] == b"second content"
        assert set(heads) == {rel for rel, _ in files}  # every file was put in a fresh tree by this staging
        tree = case.vault.tree(st.container_sha)
        for rel, head in heads.items():
            with (tree / rel).open("rb") as fh:
                assert head == fh.read(HEAD_BYTES), rel
        assert len(heads["big.bin"]) == HEAD_BYTES
        assert all(f.head is None for f in st.stager.files)  # dropped once handed over
        assert recognise(tree, files, None, heads) == recognise(tree, files)
        assert any(u.primary == "sub/_chat.txt" for u in recognise(tree, files, None, heads))
    finally:
        case.close()


def test_no_heads_from_a_tree_an_earlier_staging_made(tmp_path: Path) -> None:
    """A tree already there (an interrupted earlier run) is read as it is: what this staging read may differ."""
    case = Case.init(tmp_path / "case", actor="t")
    try:
        root = _exhibit(tmp_path)
        first = _stage(case, root, batch=_Batch())
        again = _stage(case, root, batch=_Batch())  # not stored: staged anew into the tree the first one made
        assert again.container_sha == first.container_sha and again.fresh_tree is None
        assert _heads(again) == {}
    finally:
        case.close()


def test_a_head_budget_spent_leaves_the_rest_to_be_read(tmp_path: Path, monkeypatch: object) -> None:
    import ringtrace.stages.intake as intake

    setattr_ = monkeypatch.setattr  # type: ignore[attr-defined]
    setattr_(intake, "HEADS_BUDGET", 10)
    case = Case.init(tmp_path / "case", actor="t")
    try:
        st = _stage(case, _exhibit(tmp_path), batch=_Batch())
        assert st.stager is not None
        heads = _heads(st)
        assert 0 < len(heads) < len(st.stager.files)
        tree = case.vault.tree(st.container_sha)
        files = [(f.relpath, f.size) for f in st.stager.files]
        assert recognise(tree, files, None, heads) == recognise(tree, files)
    finally:
        case.close()

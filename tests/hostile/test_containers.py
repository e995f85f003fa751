"""Issue 12 items 1-5: hostile containers lose nothing without a word, and nothing is orphaned in the vault."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from ringtrace.case import Case
from ringtrace.stages.intake import IntakeLimits, display_name, ingest
from ringtrace.store import schema as S

from . import corpus


def _state(case: Case) -> tuple[dict[str, str], list[str]]:
    with case.engine.connect() as con:
        files = {r.relpath: r.sha256 for r in con.execute(select(S.source_files))}
        probs = [f"{r.file}: {r.reason}" for r in con.execute(select(S.problems).where(S.problems.c.stage == "intake"))]
    return files, probs


def _no_orphans(case: Case) -> None:
    with case.engine.connect() as con:
        known = {r.sha256 for r in con.execute(select(S.source_files.c.sha256))}
        known |= {r.sha256 for r in con.execute(select(S.sources.c.sha256))}
    orphans = [sha for sha, _ in case.vault.iter_objects() if sha not in known]
    assert orphans == []


def _content(case: Case, sha: str) -> bytes:
    return case.vault.object_path(sha).read_bytes()


def test_display_name_escapes_undecodable_bytes_stably() -> None:
    shown, raw = display_name(os.fsdecode(b"name\xff.txt"))
    assert shown == "name\\xff.txt" and raw == b"name\xff.txt"
    assert display_name("caf\u00e9.txt") == ("caf\u00e9.txt", None)


@pytest.mark.parametrize("build", [corpus.folder_with_bad_name, corpus.tar_with_bad_name])
def test_non_utf8_name_is_kept_escaped_and_named(case: Case, tmp_path: Path, build) -> None:  # type: ignore[no-untyped-def]
    src = build(tmp_path)
    r = ingest(case, src, parse=False)
    files, probs = _state(case)
    assert "name\\xff.txt" in files
    assert any("name\\xff.txt" in p and "6e616d65ff2e747874" in p for p in probs)
    assert r.files == len(files)
    _no_orphans(case)


def test_zip_name_flagged_utf8_that_is_not(case: Case, tmp_path: Path) -> None:
    src = corpus.zip_with_bad_utf8_name(tmp_path)
    r = ingest(case, src, parse=False)
    files, probs = _state(case)
    assert {"bad-name.zip!/first.txt", "bad-name.zip!/name\\xff\\xfe.txt", "bad-name.zip!/after.txt"} <= set(files)
    assert _content(case, files["bad-name.zip!/name\\xff\\xfe.txt"]) == b"badly named member\n"
    assert any("name\\xff\\xfe.txt" in p and "not valid UTF-8" in p for p in probs)
    assert r.added
    _no_orphans(case)


@pytest.mark.parametrize("build,prefix", [(corpus.zip_with_duplicate, "dup.zip!/"), (corpus.tar_appended, "")])
def test_duplicate_members_both_kept(case: Case, tmp_path: Path, build, prefix: str) -> None:  # type: ignore[no-untyped-def]
    src = build(tmp_path)
    ingest(case, src, parse=False)
    files, probs = _state(case)
    assert _content(case, files[f"{prefix}chat.txt"]) == b"later\n"
    assert _content(case, files[f"{prefix}chat.txt~1"]) == b"earlier\n"
    assert (case.vault.tree(_sha(case)) / f"{prefix}chat.txt").read_bytes() == b"later\n"
    assert any("two members with this name" in p for p in probs)
    _no_orphans(case)


def _sha(case: Case) -> str:
    with case.engine.connect() as con:
        return str(con.execute(select(S.sources.c.sha256)).scalar_one())


def test_tar_file_then_folder_of_same_name(case: Case, tmp_path: Path) -> None:
    ingest(case, corpus.tar_file_then_folder(tmp_path), parse=False)
    files, probs = _state(case)
    assert {"a", "a~1/b", "c.txt", "d/e.txt"} == set(files)
    assert _content(case, files["a~1/b"]) == b"a file under a\n"
    assert len([p for p in probs if p.startswith("a/b:")]) == 1
    assert not any("damaged" in p for p in probs)
    tree = case.vault.tree(_sha(case))
    assert (tree / "a~1" / "b").is_file() and (tree / "d" / "e.txt").is_file()


def test_tar_hard_link_within_the_archive_is_read(case: Case, tmp_path: Path) -> None:
    ingest(case, corpus.tar_with_hard_link(tmp_path), parse=False)
    files, probs = _state(case)
    assert _content(case, files["copy.txt"]) == b"linked content\n"
    assert "stray.txt" not in files
    assert any(p.startswith("links.tar:stray.txt") and "hard link" in p for p in probs)


def test_nul_in_zip_member_name_is_named(case: Case, tmp_path: Path) -> None:
    ingest(case, corpus.zip_with_nul_name(tmp_path), parse=False)
    files, probs = _state(case)
    assert "nul.zip!/fine.txt" in files
    assert not any("evil" in f for f in files)  # not silently read as 'evil'
    assert any("NUL" in p and "evil" in p for p in probs)


def test_zip_nested_past_the_limit_is_named(case: Case, tmp_path: Path) -> None:
    ingest(case, corpus.nested_zips(tmp_path, 4), parse=False, limits=IntakeLimits(nested_zip_depth=2))
    files, probs = _state(case)
    assert "outer.zip!/z1.zip!/level1.txt" in files
    assert "outer.zip!/z1.zip!/z2.zip!/level2.txt" in files
    deep = "outer.zip!/z1.zip!/z2.zip!/z3.zip"
    assert deep in files  # kept whole ...
    assert any(p.startswith(deep) and "nested deeper than 2" in p for p in probs)  # ... and said so


def test_folder_symlink_to_folder_is_named(case: Case, tmp_path: Path) -> None:
    ingest(case, corpus.folder_with_dir_symlink(tmp_path), parse=False)
    files, probs = _state(case)
    assert set(files) == {"real/x.txt"}
    assert any(p.startswith("elsewhere:") and "symbolic link to a folder" in p for p in probs)


def test_container_expansion_budget(case: Case, tmp_path: Path) -> None:
    """Twelve members each far below any per-member bomb threshold, together past the container's budget."""
    src = corpus.zip_bomb(tmp_path, 12, 1024 * 1024)
    assert src.stat().st_size < 100_000
    limits = IntakeLimits(max_ratio=10, ratio_floor_bytes=3 * 1024 * 1024)
    r = ingest(case, src, parse=False, limits=limits)
    files, probs = _state(case)
    assert sorted(files) == [f"bomb.zip!/part{i:02d}.bin" for i in range(3)]  # what came before is kept
    assert any(p.startswith("bomb.zip:part03.bin") and "8 later members refused" in p for p in probs)
    assert r.added
    _no_orphans(case)


def test_total_bytes_limit(case: Case, tmp_path: Path) -> None:
    src = corpus.zip_bomb(tmp_path, 4, 1000)
    ingest(case, src, parse=False, limits=IntakeLimits(max_total_bytes=2500))
    files, probs = _state(case)
    assert len(files) == 2
    assert any("expanded size limit (2500 bytes)" in p for p in probs)

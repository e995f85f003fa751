"""The synthetic operation: same seed, same bytes (in separate processes, whatever the hash seed), and the
invented data obeys the rules (valid numbers, 13+ countries, benign generated images only)."""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys
from pathlib import Path

import phonenumbers

from ringtrace.synth.world import build_world


def _synth(out: Path, hashseed: str) -> None:
    env = dict(os.environ, PYTHONHASHSEED=hashseed)
    subprocess.run([sys.executable, "-c", "from ringtrace.cli import main; main()", "synth", str(out), "--seed", "4",
                    "--scale", "tiny"], check=True, env=env, capture_output=True)


def _tree(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_same_seed_same_bytes_across_processes(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    _synth(a, "1")
    _synth(b, "2")
    files = _tree(a)
    assert files == _tree(b) and len(files) > 50
    _, mismatch, errors = filecmp.cmpfiles(a, b, files, shallow=False)
    assert mismatch == [] and errors == []


def test_people_are_valid_and_spread_over_countries() -> None:
    w = build_world(8, "small")
    for p in w.persons.values():
        num = phonenumbers.parse(p.v.phone)
        assert phonenumbers.is_valid_number(num)
        assert phonenumbers.region_code_for_number(num) == p.country
    assert len({p.country for p in w.persons.values()}) >= 13
    assert len({p.v.phone for p in w.persons.values()}) == len(w.persons)


def test_ground_truth_lists_what_a_perfect_analysis_must_find(tiny_operation: Path) -> None:
    truth = json.loads((tiny_operation / "ground-truth.json").read_text())
    assert {"persons", "groups", "known_media", "invite_links", "media_first_shared", "devices"} <= set(truth)
    assert any(g["observed_by"] for g in truth["groups"])
    manifest = json.loads((tiny_operation / "operation.json").read_text())
    assert all((tiny_operation / e["path"]).exists() for e in manifest["exhibits"])

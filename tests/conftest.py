"""Shared fixtures: cases and synthetic operations built in code."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("RINGTRACE_EXECUTOR", "serial")


@pytest.fixture
def case(tmp_path: Path):
    from ringtrace.case import Case

    c = Case.init(tmp_path / "case", name="test case", actor="tester")
    yield c
    c.close()


@pytest.fixture(scope="session")
def tiny_operation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ringtrace.synth.operation import write_operation

    out = tmp_path_factory.mktemp("op")
    write_operation(out, seed=3, scale="tiny")
    return out

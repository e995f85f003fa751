"""The public API: ``ringtrace`` exports a small typed surface, its docstring example runs, importing it is cheap."""

from __future__ import annotations

import doctest
import subprocess
import sys

import ringtrace


def test_docstring_example_runs() -> None:
    res = doctest.testmod(ringtrace, optionflags=doctest.ELLIPSIS)
    assert res.attempted >= 10  # the example was really run, not skipped
    assert res.failed == 0


def test_public_names() -> None:
    assert set(ringtrace.__all__) >= {"Case", "ingest", "run", "verify", "export"}
    from ringtrace.case import Case

    assert ringtrace.Case is Case
    for name in ("ingest", "run", "verify", "export"):
        assert callable(getattr(ringtrace, name)), name


def test_verify_stays_a_function_after_the_stage_modules_load() -> None:
    import ringtrace.verification  # noqa: F401 - a submodule import must not shadow the function

    assert callable(ringtrace.verify)


def test_import_is_cheap() -> None:
    code = "import sys, ringtrace; print(sorted(m for m in ('sqlalchemy', 'numpy', 'PIL') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

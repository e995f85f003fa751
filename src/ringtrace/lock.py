"""One writer at a time: every command that changes a case holds its lock.

The lock is an advisory ``flock`` on ``case.lock`` in the case folder, so the kernel releases it when the holder
dies (a kill -9 leaves no stale lock to clear by hand); the file also says who holds it (pid, host, command, since)
so a second writer can say plainly who it is waiting for. Within one process the lock is re-entrant: a ``run``
that parses, hashes and analyses takes it once.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Concatenate, ParamSpec, Protocol, TypeVar

LOCK_FILE = "case.lock"
_held: dict[Path, tuple[IO[str], int]] = {}
_guard = threading.RLock()


class CaseLocked(Exception):
    """Another process is writing to the case."""


def _describe(path: Path) -> str:
    try:
        d = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "another process"
    if not isinstance(d, dict) or not d:
        return "another process"
    return (f"pid {d.get('pid')} on {d.get('host')} ({str(d.get('command', ''))[:120]}) "
            f"since {d.get('since')}")


def holder(case_dir: Path) -> str | None:
    """Who holds the case now, or None when nobody does."""
    path = case_dir / LOCK_FILE
    if not path.exists():
        return None
    with path.open("a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _describe(path)
        fcntl.flock(fh, fcntl.LOCK_UN)
    return None


@contextmanager
def case_lock(case_dir: Path, command: str | None = None, wait: float = 0.0) -> Iterator[None]:
    """Hold the case for writing. ``wait`` seconds to wait for another holder (0: fail at once, naming it)."""
    key = case_dir.resolve()
    with _guard:
        if key in _held:
            fh, n = _held[key]
            _held[key] = (fh, n + 1)
            try:
                yield
            finally:
                with _guard:
                    fh, n = _held[key]
                    _held[key] = (fh, n - 1)
            return
    path = key / LOCK_FILE
    fh = path.open("a+", encoding="utf-8")
    deadline = time.monotonic() + max(wait, 0.0)
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                who = _describe(path)
                fh.close()
                raise CaseLocked(f"{case_dir} is being written by {who}; wait for it to finish "
                                 "(or pass --wait SECONDS)") from None
            time.sleep(0.2)
    fh.seek(0)
    fh.truncate()
    fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                         "command": command or " ".join(os.path.basename(a) if i == 0 else a
                                                        for i, a in enumerate(sys.argv)),
                         "since": datetime.now(UTC).isoformat(timespec="seconds")}))
    fh.flush()
    with _guard:
        _held[key] = (fh, 1)
    try:
        yield
    finally:
        with _guard:
            _, n = _held[key]
            if n > 1:  # pragma: no cover - balanced by the re-entrant branch above
                _held[key] = (fh, n - 1)
            else:
                del _held[key]
                fh.seek(0)
                fh.truncate()
                fcntl.flock(fh, fcntl.LOCK_UN)
                fh.close()


class _HasPath(Protocol):
    path: Path
    lock_wait: float


P = ParamSpec("P")
R = TypeVar("R")
C = TypeVar("C", bound=_HasPath)


def writes_case(fn: Callable[Concatenate[C, P], R]) -> Callable[Concatenate[C, P], R]:
    """Decorate a library function whose first argument is the case it changes: it runs holding the case lock
    (waiting ``case.lock_wait`` seconds for another writer)."""

    @functools.wraps(fn)
    def inner(case: C, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with case_lock(case.path, wait=case.lock_wait):
            return fn(case, *args, **kwargs)

    return inner

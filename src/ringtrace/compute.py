"""One executor interface, several backends (as httpx has one transport interface and several transports).

``Executor.map(fn, items)`` runs a picklable top-level function over work items and yields results in order.
``SerialExecutor`` is the test double and the fallback, ``ProcessExecutor`` a local process pool (default),
``DaskExecutor`` hands work to a Dask distributed cluster for hundreds of devices. Never a home-made cluster.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    name: str

    def map(self, fn: Callable[[T], R], items: Iterable[T], chunksize: int = 16) -> Iterator[R]: ...

    def close(self) -> None: ...


class SerialExecutor:
    name = "serial"

    def map(self, fn: Callable[[T], R], items: Iterable[T], chunksize: int = 16) -> Iterator[R]:
        for it in items:
            yield fn(it)

    def close(self) -> None:
        pass


class ProcessExecutor:
    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or max(1, (os.cpu_count() or 1))
        self._pool: ProcessPoolExecutor | None = None

    def map(self, fn: Callable[[T], R], items: Iterable[T], chunksize: int = 16) -> Iterator[R]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers)
        return self._pool.map(fn, items, chunksize=chunksize)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


class DaskExecutor:
    """Runs on a Dask distributed scheduler given by address (``tcp://host:8786``) or a local cluster."""

    name = "dask"

    def __init__(self, address: str | None = None) -> None:
        from distributed import Client  # optional dependency: pip install 'ringtrace[dask]'

        client_cls: Any = Client  # distributed ships no complete annotations
        self.client: Any = client_cls(address) if address else client_cls(processes=True, dashboard_address=None)

    def map(self, fn: Callable[[T], R], items: Iterable[T], chunksize: int = 16) -> Iterator[R]:
        batch: list[T] = []
        for it in items:
            batch.append(it)
            if len(batch) >= chunksize * 64:
                yield from self.client.gather(self.client.map(fn, batch, pure=False))
                batch = []
        if batch:
            yield from self.client.gather(self.client.map(fn, batch, pure=False))

    def close(self) -> None:
        self.client.close()


def make_executor(spec: str | None = None) -> Executor:
    """``serial``, ``local[:N]`` or ``dask[:ADDRESS]``; default from RINGTRACE_EXECUTOR, else local."""
    spec = spec or os.environ.get("RINGTRACE_EXECUTOR") or "local"
    name, _, arg = spec.partition(":")
    if name == "serial":
        return SerialExecutor()
    if name == "local":
        return ProcessExecutor(int(arg) if arg else None)
    if name == "dask":
        return DaskExecutor(arg or None)
    raise ValueError(f"unknown executor {spec!r}: use serial, local[:N] or dask[:ADDRESS]")

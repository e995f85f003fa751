"""The executor interface: every backend maps in order; a backend is chosen by name."""

from __future__ import annotations

from typing import Any

import pytest

from ringtrace.compute import ProcessExecutor, SerialExecutor, make_executor


def square(x: int) -> int:
    return x * x


@pytest.mark.parametrize("spec", ["serial", "local:2"])
def test_backends_map_in_order(spec: str) -> None:
    ex = make_executor(spec)
    try:
        assert list(ex.map(square, range(50), chunksize=4)) == [x * x for x in range(50)]
    finally:
        ex.close()


def test_dask_backend_maps_in_order() -> None:
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    from ringtrace.compute import DaskExecutor

    cluster_cls: Any = LocalCluster  # distributed ships no complete annotations
    with cluster_cls(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        ex = DaskExecutor(cluster.scheduler_address)
        try:
            assert list(ex.map(square, range(30), chunksize=1)) == [x * x for x in range(30)]
            # several batches of 64, each next one submitted before the current one is gathered
            assert list(ex.map(square, range(150), chunksize=1)) == [x * x for x in range(150)]
            assert list(ex.map(square, [], chunksize=1)) == []
            assert ex.workers == 2
        finally:
            ex.close()


def test_unknown_spec_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown executor"):
        make_executor("cluster-of-my-own")
    assert isinstance(make_executor("serial"), SerialExecutor)
    assert isinstance(make_executor("local"), ProcessExecutor)

"""Benchmark: exact PDQ range search (distance <= 31) of dihedral query hashes against a clustered list.

Engines on the same data: ringtrace PDQIndex (multi-index hashing, numpy), faiss IndexBinaryFlat range_search
(brute force, AVX2 popcount, OpenMP), and python-threatexchange's PDQ index (faiss IndexBinaryMultiHash,
16 x 16-bit tables, nflip = 31 // 16), when ``threatexchange`` is importable. Recall of every engine is checked
against an exact brute-force oracle (numpy) on a sample of queries. Each engine runs in a forked child so its
peak RSS (above the shared data) is its own.

List data imitates real lists: families of near-duplicates (random 256-bit root, members 0..12 bits away).
Queries imitate seized media: ``--match-rate`` of the items are near (0..20 bits) a list entry in one of their 8
dihedral variants, the rest (and the other 7 variants) are unrelated hashes.

    python bench/bench_matching.py --sizes 1000000 --items 100000 --peer-items 2000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from multiprocessing import get_context
from typing import Any

import numpy as np

from ringtrace.matching.pdq_index import PDQIndex, brute_force_search

D = 31


def flip_bits(words: np.ndarray, rng: np.random.Generator, nflip: np.ndarray) -> None:
    """Flip nflip[i] random bits of row i in place ((N, 4) uint64; a bit may be drawn twice: fine here)."""
    rows = np.arange(len(words))
    for j in range(int(nflip.max(initial=0))):
        sel = rows[nflip > j]
        pos = rng.integers(0, 256, size=len(sel))
        words[sel, pos >> 6] ^= np.left_shift(np.uint64(1), (pos & 63).astype(np.uint64))


def make_list(n: int, rng: np.random.Generator, family: int = 20) -> np.ndarray:
    roots = rng.integers(0, 2**63, size=(max(1, n // family), 4), dtype=np.uint64) * np.uint64(2)
    roots ^= rng.integers(0, 2, size=roots.shape, dtype=np.uint64)
    words = roots[rng.integers(0, len(roots), size=n)]
    flip_bits(words, rng, rng.integers(0, 13, size=n))
    return words.view(np.uint8).reshape(n, 32)


def make_queries(db: np.ndarray, items: int, rate: float, rng: np.random.Generator) -> np.ndarray:
    """(items, 8, 32): random variants; for ``rate`` of items one variant is near a list entry."""
    q = rng.integers(0, 256, size=(items, 8, 32), dtype=np.uint8)
    hit = np.nonzero(rng.random(items) < rate)[0]
    near = db[rng.integers(0, len(db), size=len(hit))].copy()
    w = near.view(np.uint64).reshape(len(hit), 4)
    flip_bits(w, rng, rng.integers(0, 21, size=len(hit)))
    q[hit, rng.integers(0, 8, size=len(hit))] = w.view(np.uint8).reshape(len(hit), 32)
    return q


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


Pairs = set[tuple[int, int]]


def run_ringtrace(db: np.ndarray, q: np.ndarray) -> tuple[float, Pairs]:
    t = time.perf_counter()
    ix = PDQIndex(db)
    build = time.perf_counter() - t
    qr, er, _ = ix.search_arrays(q, D)
    return build, set(zip(qr.tolist(), er.tolist(), strict=True))


def run_faiss_flat(db: np.ndarray, q: np.ndarray) -> tuple[float, Pairs]:
    import faiss

    t = time.perf_counter()
    ix = faiss.IndexBinaryFlat(256)
    ix.add(db)
    build = time.perf_counter() - t
    lims, _, ids = ix.range_search(q, D + 1)  # faiss keeps distance < radius
    qi = np.repeat(np.arange(len(q)), np.diff(lims).astype(np.int64))
    return build, set(zip(qi.tolist(), ids.tolist(), strict=True))


def run_threatexchange(db: np.ndarray, q: np.ndarray) -> tuple[float, Pairs]:
    from threatexchange.signal_type.pdq.pdq_faiss_matcher import PDQMultiHashIndex

    t = time.perf_counter()
    ix = PDQMultiHashIndex()
    # its add() takes hex strings; the conversion is part of its build cost
    ix.add([bytes(r).hex() for r in db], range(len(db)))
    build = time.perf_counter() - t
    qhex = [bytes(r).hex() for r in q]
    res = ix.search_with_distance_in_result(qhex, D)  # sets nflip = 31 // 16 itself; keyed by query text
    pairs = {(i, int(hit[0])) for i, h in enumerate(qhex) for hit in res[h]}
    return build, pairs


ENGINES: dict[str, Callable[[np.ndarray, np.ndarray], tuple[float, Pairs]]] = {
    "ringtrace": run_ringtrace,
    "faiss_flat": run_faiss_flat,
    "threatexchange": run_threatexchange,
}


def _child(name: str, db: np.ndarray, q: np.ndarray, conn: Any) -> None:
    try:
        base = rss_mb()
        t = time.perf_counter()
        build, pairs = ENGINES[name](db, q)
        total = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        conn.send(
            {
                "build_s": build,
                "search_s": total - build,
                "peak_rss_mb": peak,
                "base_rss_mb": base,
                "pairs": sorted(pairs),
            }
        )
    except Exception as e:  # noqa: BLE001 - a peer failing is a result to report, not a crash
        conn.send({"error": f"{type(e).__name__}: {e}"})


def run_engine(name: str, db: np.ndarray, q: np.ndarray) -> dict[str, Any]:
    ctx = get_context("fork")
    a, b = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(name, db, q, b))
    p.start()
    out: dict[str, Any] = a.recv()
    p.join()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000000", help="comma-separated list sizes")
    ap.add_argument("--items", type=int, default=100_000, help="query items (x8 dihedral hashes) for ringtrace")
    ap.add_argument("--peer-items", type=int, default=2000, help="query items run through the peers")
    ap.add_argument("--oracle-items", type=int, default=500, help="items checked against numpy brute force")
    ap.add_argument("--match-rate", type=float, default=0.1)
    ap.add_argument("--engines", default="ringtrace,faiss_flat,threatexchange")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="also write raw results here")
    args = ap.parse_args()
    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    results: list[dict[str, Any]] = []
    print(
        f"# {platform.machine()} {os.cpu_count()} cores, python {sys.version.split()[0]}, numpy {np.__version__},"
        f" faiss {faiss.__version__}"
    )
    for n in (int(s) for s in args.sizes.split(",")):
        rng = np.random.default_rng(args.seed)
        t = time.perf_counter()
        db = make_list(n, rng)
        q_all = make_queries(db, args.items, args.match_rate, rng).reshape(-1, 32)
        print(
            f"\n## list {n:,} hashes, {args.items:,} items x 8 = {len(q_all):,} query hashes "
            f"(data made in {time.perf_counter() - t:.1f}s)"
        )
        oracle_q = q_all[: args.oracle_items * 8]
        t = time.perf_counter()
        truth = {(a, b) for a, b, _ in brute_force_search(oracle_q, db, D)}
        print(
            f"oracle: {len(truth)} true pairs in the first {len(oracle_q)} query hashes "
            f"({time.perf_counter() - t:.1f}s numpy brute force)"
        )
        for name in args.engines.split(","):
            nq = len(q_all) if name == "ringtrace" else min(len(q_all), args.peer_items * 8)
            r = run_engine(name, db, q_all[:nq])
            if "error" in r:
                print(f"{name}: FAILED {r['error']}")
                results.append({"list": n, "engine": name, "error": r["error"]})
                continue
            pairs = r.pop("pairs")
            got = {(a, b) for a, b in pairs if a < len(oracle_q)}
            in_scope = {(a, b) for a, b in truth if a < nq}
            recall = len(got & in_scope) / max(1, len(in_scope))
            false_pos = len(got - truth)
            qps = nq / r["search_s"] if r["search_s"] > 0 else float("inf")
            row = {
                "list": n,
                "engine": name,
                "query_hashes": nq,
                "matches": len(pairs),
                "recall": recall,
                "oracle_pairs": len(in_scope),
                "false_pos": false_pos,
                "qps": qps,
                **r,
            }
            results.append(row)
            print(
                f"{name:15s} build {r['build_s']:7.1f}s  search {r['search_s']:8.1f}s for {nq:>8,} q "
                f"-> {qps:10,.0f} q/s  recall {recall:.4f} ({len(in_scope)} pairs) fp {false_pos}  "
                f"peak RSS {r['peak_rss_mb']:,.0f} MB (data {r['base_rss_mb']:,.0f} MB)"
            )
        del db, q_all
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()

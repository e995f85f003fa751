"""The JSON export (`ringtrace export`, with and without `--with-messages`): CPU seconds and peak RSS, streamed
against the in-memory document, side by side in one run, on copies of one analysed case.

Variants, each in a fresh process on its own copy of the case (the export appends to the audit log):

- ``streamed``: ``write_export`` of this tree (each list item written as it is read);
- ``in-memory``: ``json.dumps(build_export(...), indent=1, ensure_ascii=False)`` of this tree, what ``write_export``
  did before it streamed (the document the package maker and the report still build);
- ``old``: ``write_export`` of another source tree (``--peer-src``, e.g. the main checkout's ``src``), the peer.

CPU = user + system of that process (its import included, told apart), peak RSS = its ``ru_maxrss``. The files
must be identical byte for byte, ``generated_at`` aside; the script says whether they are.

    python bench/bench_export.py --case /path/to/analysed/case --peer-src /path/to/main/src
    python bench/bench_export.py --scale small          # synthesise, ingest and run one first (not timed)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
CHILD = r"""
import json, resource, sys, time
from pathlib import Path
c0 = resource.getrusage(resource.RUSAGE_SELF)
from ringtrace.case import Case
from ringtrace.dissemination.export import build_export, write_export
case = Case.open(Path(sys.argv[1]), actor="bench")
out, how, wm = Path(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
c1, w = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
if how == "in-memory":
    out.write_text(json.dumps(build_export(case, with_messages=wm), indent=1, ensure_ascii=False) + "\n",
                   encoding="utf-8")
else:
    write_export(case, out, with_messages=wm)
c2 = resource.getrusage(resource.RUSAGE_SELF)
cpu = lambda a, b: (b.ru_utime + b.ru_stime) - (a.ru_utime + a.ru_stime)
print(json.dumps({"cpu_s": cpu(c1, c2), "import_open_cpu_s": cpu(c0, c1), "wall_s": time.perf_counter() - w}))
"""


def _copy_case(src: Path, dst: Path) -> None:
    """The case folder without its vault (linked: the export never reads it)."""
    dst.mkdir(parents=True)
    for p in src.iterdir():
        if p.name == "vault":
            (dst / "vault").symlink_to(p.resolve())
        elif p.is_file() and not p.name.endswith(("-wal", "-shm")):
            shutil.copy2(p, dst / p.name)


def _run_measured(case: Path, out: Path, how: str, with_messages: bool, src: Path) -> dict[str, Any]:
    """One variant in a fresh interpreter, its own rusage read with os.wait4 (so each peak RSS is its own)."""
    env = dict(os.environ, PYTHONPATH=str(src))
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: run the variant with its stdout to the pipe
        os.close(rd)
        os.dup2(wr, 1)
        os.execve(sys.executable, [sys.executable, "-c", CHILD, str(case), str(out), how,
                                   "1" if with_messages else "0"], env)
    os.close(wr)
    with os.fdopen(rd) as fh:
        stdout = fh.read()
    _, status, ru = os.wait4(pid, 0)
    if status:
        raise SystemExit(f"{how}: exit status {status}")
    r: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    r["peak_rss_mb"] = ru.ru_maxrss / 1024
    return r


_GENERATED = re.compile(rb'\n "generated_at": [^\n]*\n')


def _same(a: Path, b: Path) -> bool:
    return bool(_GENERATED.sub(b"\n", a.read_bytes()) == _GENERATED.sub(b"\n", b.read_bytes()))


def _prepare(work: Path, scale: str, seed: int) -> Path:
    import ringtrace
    from ringtrace.case import Case
    from ringtrace.demo import ingest_operation
    from ringtrace.synth.operation import write_operation

    write_operation(work / "op", seed=seed, scale=scale)
    case = Case.init(work / "case", name=f"bench {scale}", actor="bench")
    ingest_operation(case, work / "op")
    ringtrace.run(case)
    case.close()
    return work / "case"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", type=Path, help="an ingested and analysed case folder (read, never changed)")
    ap.add_argument("--scale", default="small", help="without --case: synthesise and run one of this scale")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--peer-src", type=Path, help="source tree whose write_export is the 'old' peer")
    ap.add_argument("--variants", default="old,in-memory,streamed")
    ap.add_argument("--out", type=Path, help="append the table to this file")
    a = ap.parse_args()
    variants = [v for v in a.variants.split(",") if v and (v != "old" or a.peer_src)]
    with tempfile.TemporaryDirectory(prefix="rt-bench-export-") as d:
        work = Path(d)
        case = a.case or _prepare(work / "prep", a.scale, a.seed)
        rows: list[tuple[str, str, dict[str, Any], bool]] = []
        for with_messages in (True, False):
            label = "--with-messages" if with_messages else "default"
            files: list[Path] = []
            for how in variants:
                copy = work / f"{how}-{label}"
                _copy_case(case, copy)
                out = work / f"{how}-{label}.json"
                src = a.peer_src if how == "old" else SRC
                r = _run_measured(copy, out, "streamed" if how == "old" else how, with_messages, src)
                files.append(out)
                rows.append((label, how, r, _same(files[0], out)))
                print(json.dumps({"export": label, "variant": how, **r}), file=sys.stderr, flush=True)
                shutil.rmtree(copy)
            sizes = {f.stat().st_size for f in files}
            for f in files:
                f.unlink()
            print(f"{label}: {sizes.pop() / 1e6:.1f} MB" if len(sizes) == 1 else f"{label}: sizes differ {sizes}",
                  file=sys.stderr)
    lines = [f"### export of {a.case or ('a synthetic ' + a.scale + ' case')} ({os.cpu_count()} CPUs, load average "
             f"{os.getloadavg()[0]:.1f} at the end, {time.strftime('%Y-%m-%d')})", "",
             "| export | variant | CPU s (export) | CPU s (import, open) | wall s | peak RSS | same bytes |",
             "|---|---|---|---|---|---|---|"]
    for label, how, r, same in rows:
        lines.append(f"| {label} | {how} | {r['cpu_s']:.2f} | {r['import_open_cpu_s']:.2f} | {r['wall_s']:.1f} | "
                     f"{r['peak_rss_mb']:.0f} MB | {'yes' if same else 'NO'} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with a.out.open("a", encoding="utf-8") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()

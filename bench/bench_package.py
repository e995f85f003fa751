"""Peak RSS and CPU of `ringtrace package make` for some countries, two code trees alternating, and whether the
packages are the same bytes.

    python bench/bench_package.py CASE OLD_SRC NEW_SRC WORKDIR ES IT FR

CASE is copied twice under WORKDIR (one copy a tree, so that both make the same package versions); each package
is made in a child process of its own (peak RSS and CPU from ``wait4``), with the clock and the audit head fixed
so that the files can be compared byte for byte (the manifest's time too).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

# the child: fix what a package stamps (time, audit head), then the CLI as a user runs it
CHILD = r"""
import sys
from datetime import UTC, datetime
import ringtrace.audit, ringtrace.dissemination.package as pk, ringtrace.dissemination.signing as sg
class Fixed(datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)
pk.datetime = Fixed
sg.datetime = Fixed
ringtrace.audit.current_head = lambda con: "1:" + "ab" * 32
from ringtrace.cli import app
sys.argv = ["ringtrace", *sys.argv[1:]]
app()
"""


def run(src: str, case: Path, country: str, out: Path) -> tuple[float, float, int]:
    env = dict(os.environ, PYTHONPATH=src)
    proc = subprocess.Popen([sys.executable, "-c", CHILD, "package", "make", str(case), "--country", country,
                             "--out", str(out), "--no-pdf"], env=env, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"package {country} failed with {src}")
    return ru.ru_utime, ru.ru_stime, ru.ru_maxrss


def same(a: Path, b: Path) -> list[str]:
    names = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    other = sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    diff = [f"file lists differ: {names} {other}"] if names != other else []
    return diff + [n for n in names if (a / n).read_bytes() != (b / n).read_bytes()]


def main() -> None:
    case, old_src, new_src, work = Path(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4])
    countries = sys.argv[5:]
    work.mkdir(parents=True, exist_ok=True)
    cases = {}
    for tag in ("old", "new"):
        cases[tag] = work / f"case-{tag}"
        if not cases[tag].exists():
            shutil.copytree(case, cases[tag])
    print("| country | tree | user CPU s | sys CPU s | peak RSS MB |")
    print("|---|---|---|---|---|")
    for i, c in enumerate(countries):
        order = ("old", "new") if i % 2 == 0 else ("new", "old")  # alternate: the shared machine's noise
        for tag in order:
            u, s, rss = run(old_src if tag == "old" else new_src, cases[tag], c, work / f"out-{tag}")
            print(f"| {c} | {tag} | {u:.2f} | {s:.2f} | {rss / 1024:.0f} |", flush=True)
        va, vb = sorted((work / "out-old").glob(f"{c}-v*")), sorted((work / "out-new").glob(f"{c}-v*"))
        d = same(va[-1], vb[-1])
        print(f"{c}: {va[-1].name} vs {vb[-1].name}: " + ("identical bytes, every file" if not d
                                                          else "DIFFERENT: " + ", ".join(d)), flush=True)


if __name__ == "__main__":
    main()

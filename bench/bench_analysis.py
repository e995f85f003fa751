"""Analysis time and memory vs data size: the synthetic operation's messages at 1x and 10x.

Each size runs in a fresh process (so peak RSS is that size's own): a world is simulated, its groups, events and
messages are written straight through RecordWriter as two overlapping "devices" (so de-duplication has work),
then analyze_stage runs twice (the second run shows that re-analysis costs the same: it is idempotent).

    python bench/bench_analysis.py            # 1x = 20,000 messages, 10x = 200,000
    python bench/bench_analysis.py --base 5000
    python bench/bench_analysis.py --export   # plus a third device: a chat export of every WhatsApp group
                                              # (minutes, no ids, senders by contact name), so export merging,
                                              # sender-name resolution and precise-time folding have work
    python bench/bench_analysis.py --case DIR [--repeat 2]
                                              # the analyze stage alone on a copy of an ingested case (e.g. the
                                              # medium operation after ingest + hash + match), CPU per run

CPU time is user + system of this process (the stage runs in it); compare versions by running this script with
each on PYTHONPATH in the same session.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from ringtrace.case import Case
from ringtrace.model import AccountKey, ChatRef, DeviceOwner, GroupEvent, MediaRef, Message, Participant, Prov
from ringtrace.stages.analyze import analyze_stage
from ringtrace.store import schema as S
from ringtrace.store.writer import RecordWriter
from ringtrace.synth.world import SCALES, SEIZURE, build_world

P = Prov("bench.db", "messages", "1")


def _source(case: Case, name: str) -> int:
    with case.begin() as con:
        return int(con.execute(S.sources.insert().values(
            exhibit=name, kind="file", original_path=name, sha256=hashlib.sha256(name.encode()).hexdigest(),
            md5="0" * 32, size=1, file_count=1, mode="vault", tool="bench", ingested_at=datetime.now(UTC),
            status="parsed")).inserted_primary_key[0])


def _export_device(case: Case, w: object, since: datetime) -> int:
    """An Android chat export of each WhatsApp group from ``since``: minute times, no message ids, every sender
    and event party printed by a contact name (resolved by the analysis through matched messages)."""
    from ringtrace.synth.world import World

    assert isinstance(w, World)
    sid = _source(case, "C")
    rows = 0
    with case.begin() as con:
        wr = RecordWriter(con, sid, "parse")

        def nm(pid: str | None) -> AccountKey | None:
            return None if pid is None else AccountKey("whatsapp", "export_name", w.persons[pid].v.name + " x")

        for g in w.groups.values():
            if g.platform != "whatsapp":
                continue
            ref = ChatRef("whatsapp", "group", "export:" + g.key)
            for e in g.events:
                if e.at >= since:
                    wr.add(GroupEvent(ref, e.kind, e.at.replace(second=0, microsecond=0), nm(e.actor), nm(e.target),
                                      None, P, value=e.value), "x")
            for m in g.messages:
                if m.at >= since:
                    media = (MediaRef(sha256=hashlib.sha256(m.media.encode()).hexdigest()),) if m.media else ()
                    wr.add(Message(ref, None, nm(m.sender), m.at.replace(second=0, microsecond=0), m.text, P,
                                   media=media, forwarded=m.forwarded, time_precision_s=60), "x")
                    rows += 1
        wr.flush()
    return rows


def write_world(case: Case, messages: int, export: bool = False) -> tuple[int, float]:
    """The bench's data written into ``case``: a world of about ``messages`` messages as two overlapping devices
    (and, with ``export``, a chat export of every WhatsApp group). Returns (message rows, seconds building the
    world)."""
    sc = replace(SCALES["small"], messages=messages, persons=max(60, messages // 200),
                 groups=max(6, messages // 4000))
    t0 = time.perf_counter()
    w = build_world(7, sc)
    t_world = time.perf_counter() - t0
    key = {pid: AccountKey("whatsapp", "phone", p.v.phone) for pid, p in w.persons.items()}
    mid = datetime(2025, 5, 1, tzinfo=UTC)
    n_rows = 0
    for dev, keep in (("A", lambda at: True), ("B", lambda at: at >= mid)):
        sid = _source(case, dev)
        with case.begin() as con:
            wr = RecordWriter(con, sid, "parse")
            wr.add(DeviceOwner(key[next(iter(w.persons))], "bench", P), "x")
            for g in w.groups.values():
                ref = ChatRef(g.platform, "group", g.key)
                for e in g.events:
                    if keep(e.at):
                        wr.add(GroupEvent(ref, e.kind, e.at, key.get(e.actor or ""), key.get(e.target or ""), None,
                                          P, value=e.value, msg_key=e.key), "x")
                for m in g.messages:
                    if not keep(m.at):
                        continue
                    media = (MediaRef(sha256=hashlib.sha256(m.media.encode()).hexdigest()),) if m.media else ()
                    wr.add(Message(ref, m.key, key[m.sender], m.at, m.text, P, media=media,
                                   forwarded=m.forwarded), "x")
                    n_rows += 1
                for p in g.members_at(SEIZURE):
                    wr.add(Participant(ref, key[p], "member", True, P), "x")
            wr.flush()
    if export:
        n_rows += _export_device(case, w, datetime(2025, 6, 1, tzinfo=UTC))
    return n_rows, t_world


def one(messages: int, out: Path, export: bool = False) -> dict[str, float]:
    case = Case.init(out / "case", actor="bench")
    t0 = time.perf_counter()
    n_rows, t_world = write_world(case, messages, export)
    t_write = time.perf_counter() - t0 - t_world
    t0, c0 = time.perf_counter(), time.process_time()
    s1 = analyze_stage(case)
    t_a1, c_a1 = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    analyze_stage(case)
    t_a2, c_a2 = time.perf_counter() - t0, time.process_time() - c0
    return {"messages": messages, "message_rows": n_rows, "canonical": s1.messages, "folded": s1.duplicates,
            "persons": s1.persons, "groups": s1.groups, "memberships": s1.memberships,
            "exports_merged": s1.exports_merged, "names_resolved": s1.names_resolved, "world_s": round(t_world, 2),
            "write_s": round(t_write, 2), "analyze_s": round(t_a1, 2), "reanalyze_s": round(t_a2, 2),
            "analyze_cpu_s": round(c_a1, 2), "reanalyze_cpu_s": round(c_a2, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def on_case(src: Path, repeat: int) -> dict[str, object]:
    """The analyze stage alone, ``repeat`` times, on a copy of the ingested case at ``src`` (left untouched)."""
    import shutil

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    with tempfile.TemporaryDirectory() as d:
        shutil.copytree(src, Path(d) / "case")
        case = Case.open(Path(d) / "case", actor="bench")
        runs = []
        for _ in range(repeat):
            c0, t0 = cpu(), time.perf_counter()
            s = analyze_stage(case)
            runs.append({"cpu_s": round(cpu() - c0, 2), "wall_s": round(time.perf_counter() - t0, 2)})
        case.close()
    return {"case": str(src), "runs": runs, "persons": s.persons, "groups": s.groups, "memberships": s.memberships,
            "messages": s.messages, "folded": s.duplicates, "exports_merged": s.exports_merged,
            "names_resolved": s.names_resolved,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", type=int, default=20000)
    ap.add_argument("--one", type=int)
    ap.add_argument("--export", action="store_true")
    ap.add_argument("--case", type=Path, help="an ingested case: time the analyze stage alone on a copy")
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    if a.case:
        print(json.dumps(on_case(a.case, a.repeat)))
        return
    if a.one:
        with tempfile.TemporaryDirectory() as d:
            print(json.dumps(one(a.one, Path(d), a.export)))
        return
    rows = []
    for n in (a.base, a.base * 10):
        r = subprocess.run([sys.executable, __file__, "--one", str(n), *(["--export"] if a.export else [])],
                           capture_output=True, text=True, check=True)
        rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    ratio = rows[1]["analyze_s"] / max(rows[0]["analyze_s"], 1e-9)
    best = [min(r["analyze_cpu_s"], r["reanalyze_cpu_s"]) for r in rows]  # CPU time: steadier on a shared machine
    print(f"analyze time ratio 10x/1x: wall {ratio:.2f}, CPU (best of the two runs) "
          f"{best[1] / max(best[0], 1e-9):.2f}; rows ratio {rows[1]['message_rows'] / rows[0]['message_rows']:.2f}")


if __name__ == "__main__":
    main()

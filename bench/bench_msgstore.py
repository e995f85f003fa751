"""Benchmark: WhatsApp Android msgstore.db reader throughput on a 1,000,000-message current-schema database.

Peer: ALEAPP's WhatsApp artifact is not on PyPI (it is a script collection run from a git checkout), so it is
not installed here; the peer is a plain sqlite3 read of the same rows with the same joins (message +
message_media + jid + chat), the read a plain Python script would do (this reader pairs message_media by a merge
instead of the join, so it fetches less).

    python bench/bench_msgstore.py [--messages 1000000] [--workdir /tmp/bench-msgstore] [--against-src DIR]

With ``--against-src DIR`` (e.g. the main checkout's ``src``) the reader of that source tree is run too, in a
child process (``PYTHONPATH=DIR``), alternating with the other two: old and new reader, same database, same run.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from ringtrace.model import Message, ReadOptions
from ringtrace.sources.base import Unit
from ringtrace.sources.whatsapp.android import WhatsAppAndroid
from ringtrace.synth.formats.whatsapp_android import CURRENT_SCHEMA

DB = "data/data/com.whatsapp/databases/msgstore.db"


def generate(root: Path, n: int, seed: int = 1) -> Path:
    rng = random.Random(seed)
    db = root / DB
    db.parent.mkdir(parents=True, exist_ok=True)
    db.unlink(missing_ok=True)
    con = sqlite3.connect(db)
    con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + CURRENT_SCHEMA)
    users = [f"3461{i:07d}" for i in range(2000)]
    con.executemany(
        "INSERT INTO jid (_id, user, server, agent, device, type, raw_string) VALUES (?,?,?,0,0,0,?)",
        [(i + 1, u, "s.whatsapp.net", f"{u}@s.whatsapp.net") for i, u in enumerate(users)],
    )
    groups = 200
    con.executemany(
        "INSERT INTO jid (_id, user, server, agent, device, type, raw_string) VALUES (?,?,?,0,0,1,?)",
        [(10000 + g, f"1203630{g:011d}", "g.us", f"1203630{g:011d}@g.us") for g in range(groups)],
    )
    con.executemany(
        "INSERT INTO chat (_id, jid_row_id, subject, created_timestamp) VALUES (?,?,?,?)",
        [(g + 1, 10000 + g, f"group {g}", 1_600_000_000_000) for g in range(groups)],
    )
    t0 = 1_700_000_000_000
    batch: list[tuple[object, ...]] = []
    media: list[tuple[object, ...]] = []
    for i in range(1, n + 1):
        fm = 1 if rng.random() < 0.05 else 0
        batch.append(
            (
                i,
                rng.randrange(groups) + 1,
                fm,
                f"3EB0{i:016X}",
                None if fm else rng.randrange(2000) + 1,
                t0 + i * 1000,
                1 if i % 10 == 0 else 0,
                None if i % 10 == 0 else f"message text {i}",
                i,
            )
        )
        if i % 10 == 0:
            h = base64.b64encode(hashlib.sha256(str(i).encode()).digest()).decode()
            media.append(
                (
                    i,
                    f"Media/WhatsApp Images/IMG-{i}.jpg",
                    1000 + i % 977,
                    "image/jpeg",
                    1000 + i % 977,
                    f"IMG-{i}.jpg",
                    h,
                )
            )
        if len(batch) >= 50_000:
            con.executemany(
                "INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, timestamp, "
                "message_type, text_data, sort_id, status, origination_flags) "
                "VALUES (?,?,?,?,?,?,?,?,?,0,0)",
                batch,
            )
            con.executemany(
                "INSERT INTO message_media (message_row_id, file_path, file_size, mime_type, "
                "file_length, media_name, file_hash) VALUES (?,?,?,?,?,?,?)",
                media,
            )
            batch, media = [], []
    if batch:
        con.executemany(
            "INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, timestamp, "
            "message_type, text_data, sort_id, status, origination_flags) "
            "VALUES (?,?,?,?,?,?,?,?,?,0,0)",
            batch,
        )
        con.executemany(
            "INSERT INTO message_media (message_row_id, file_path, file_size, mime_type, "
            "file_length, media_name, file_hash) VALUES (?,?,?,?,?,?,?)",
            media,
        )
    con.commit()
    con.close()
    return db


def run_ringtrace(root: Path) -> tuple[int, float, float]:
    """Messages read, wall seconds, CPU seconds (this process: user + system)."""
    t, c = time.perf_counter(), time.process_time()
    n = 0
    for rec in WhatsAppAndroid().read(Unit(root, DB, "whatsapp-android"), ReadOptions(owner="+34600000001")):
        if isinstance(rec, Message):
            n += 1
    return n, time.perf_counter() - t, time.process_time() - c


def run_plain(root: Path) -> tuple[int, float, float]:
    t, c = time.perf_counter(), time.process_time()
    con = sqlite3.connect(f"{(root / DB).as_uri()}?mode=ro", uri=True)
    cur = con.execute(
        "SELECT m._id, cj.raw_string, m.key_id, m.from_me, sj.raw_string, m.timestamp, m.text_data, "
        "m.message_type, m.origination_flags & 1, mm.file_path, mm.file_hash, mm.file_length, mm.mime_type, "
        "mm.media_name FROM message m JOIN chat c ON c._id = m.chat_row_id "
        "JOIN jid cj ON cj._id = c.jid_row_id LEFT JOIN jid sj ON sj._id = m.sender_jid_row_id "
        "LEFT JOIN message_media mm ON mm.message_row_id = m._id "
        "WHERE m._id NOT IN (SELECT message_row_id FROM message_system) ORDER BY m._id"
    )
    n = 0
    while rows := cur.fetchmany(5000):
        n += len(rows)
    con.close()
    return n, time.perf_counter() - t, time.process_time() - c


def digest(root: Path) -> str:
    """sha256 over the repr of every record of one read (untimed): old and new readers must agree."""
    h = hashlib.sha256()
    for rec in WhatsAppAndroid().read(Unit(root, DB, "whatsapp-android"), ReadOptions(owner="+34600000001")):
        h.update(repr(rec).encode())
    return h.hexdigest()


def run_other(root: Path, src: str) -> tuple[int, float, float]:
    """``run_ringtrace`` in a child process whose ``ringtrace`` is the one under ``src``."""
    env = {**os.environ, "PYTHONPATH": src}
    out = subprocess.run([sys.executable, __file__, "--child", "--workdir", str(root)], env=env, check=True,
                         capture_output=True, text=True).stdout
    n, wall, cpu = json.loads(out.strip().splitlines()[-1])
    return int(n), float(wall), float(cpu)


def main() -> None:
    if "--child" in sys.argv:
        ap0 = argparse.ArgumentParser()
        ap0.add_argument("--child", action="store_true")
        ap0.add_argument("--workdir", type=Path)
        ap0.add_argument("--digest", action="store_true")
        a0 = ap0.parse_args()
        print(json.dumps(digest(a0.workdir) if a0.digest else run_ringtrace(a0.workdir)))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bench-msgstore"))
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best of each side is kept")
    ap.add_argument("--reuse", action="store_true", help="keep a database generated by an earlier run")
    ap.add_argument("--against-src", help="a source tree whose whatsapp-android reader runs side by side")
    ap.add_argument("--compare", action="store_true", help="with --against-src: check that both readers give the "
                    "same records (sha256 over every record's repr; untimed, slow)")
    args = ap.parse_args()
    t = time.perf_counter()
    if not (args.reuse and (args.workdir / DB).is_file()):
        generate(args.workdir, args.messages)
    db = args.workdir / DB
    print(f"database ready in {time.perf_counter() - t:.1f}s ({db.stat().st_size >> 20} MiB)")
    # Alternate the two readers so machine load hits both alike; on a shared machine the CPU time (user +
    # system of this process) is steadier than the wall clock, so the ratio is given for both.
    plain: list[tuple[int, float, float]] = []
    ours: list[tuple[int, float, float]] = []
    other: list[tuple[int, float, float]] = []
    for _ in range(args.rounds):
        plain.append(run_plain(args.workdir))
        ours.append(run_ringtrace(args.workdir))
        if args.against_src:
            other.append(run_other(args.workdir, args.against_src))
    n_plain, w_plain, c_plain = min(plain, key=lambda r: r[2])
    n_rt, w_rt, c_rt = min(ours, key=lambda r: r[2])
    wp, wr = min(r[1] for r in plain), min(r[1] for r in ours)
    print(f"plain sqlite3 joined read: {n_plain} rows, best of {args.rounds}: {c_plain:.2f} s CPU, {wp:.2f} s wall "
          f"= {n_plain / c_plain:,.0f} rows per CPU second")
    print(f"ringtrace whatsapp-android: {n_rt} messages (incl. copying the db), best of {args.rounds}: "
          f"{c_rt:.2f} s CPU, {wr:.2f} s wall = {n_rt / c_rt:,.0f} msgs per CPU second")
    print(f"ratio (ringtrace rate / plain rate): CPU {c_plain / c_rt:.2f}x, wall {wp / wr:.2f}x")
    if other:
        n_o, _, c_o = min(other, key=lambda r: r[2])
        print(f"reader of {args.against_src}: {n_o} messages, best of {args.rounds}: {c_o:.2f} s CPU = "
              f"{n_o / c_o:,.0f} msgs per CPU second; ratio to plain {c_plain / c_o:.2f}x; new/old {c_o / c_rt:.2f}x")
        assert n_o == n_rt, "old and new readers gave different message counts"
        if args.compare:
            env = {**os.environ, "PYTHONPATH": args.against_src}
            old = subprocess.run([sys.executable, __file__, "--child", "--digest", "--workdir", str(args.workdir)],
                                 env=env, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
            new = digest(args.workdir)
            print(f"records of both readers: {'identical' if json.loads(old) == new else 'DIFFERENT'} ({new[:16]})")
            assert json.loads(old) == new, "old and new readers gave different records"


if __name__ == "__main__":
    main()

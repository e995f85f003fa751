"""The analysis timeline's faster paths give what the general path gives (issue 14: analysis scaling).

Times are integer POSIX microseconds; a group whose every message has a key takes ``keyed_timeline``; whole
groups are read in one query sorted by the database; export matching reads ``contents`` tuples. Each is checked
here against the general path (per-chat streams merged in Python, a Msg per message, the folding window) on
random cases with copies on several devices, shared times, microseconds and media.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ringtrace.analysis.groups import sender_map
from ringtrace.analysis.persons import resolve_persons
from ringtrace.analysis.timeline import (
    contents,
    deduplicated,
    epoch_us,
    from_us,
    group_timeline,
    keyed_timeline,
    raw_messages,
)
from ringtrace.case import Case
from ringtrace.store import schema as S
from tests.analysis.helpers import add_source, gchat, msg, new_case, sha, wa, write

PEOPLE = [f"+3461234{n:04d}" for n in range(6)]
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_epoch_microseconds_are_exact() -> None:
    rng = random.Random(5)
    for _ in range(2000):
        d = datetime(1950, 1, 1, tzinfo=UTC) + timedelta(microseconds=rng.randrange(0, 3 * 10 ** 15))
        us = epoch_us(d)
        assert from_us(us) == d and epoch_us(d.replace(tzinfo=None)) == us
        assert us / 1_000_000 == d.timestamp()  # the same float seconds as datetime.timestamp()
        e = d + timedelta(microseconds=rng.randrange(-10 ** 9, 10 ** 9))
        assert (epoch_us(e) < us) == (e < d) and epoch_us(e) - us == (e - d) // timedelta(microseconds=1)


def _random_case(tmp: Path, seed: int, keyless: bool = False, more_precise_later: bool = False) -> Case:
    """Three devices holding overlapping copies of two groups' messages (same keys), times to the second or
    the microsecond, many sharing a second, some with media (one to three items), some forwarded."""
    rng = random.Random(seed)
    case = new_case(tmp, f"c{seed}")
    sources = [add_source(case, f"D{i}") for i in range(3)]
    per: dict[int, list[Any]] = {s: [] for s in sources}
    for g in ("120363000000000001@g.us", "120363000000000002@g.us"):
        at = T0
        for n in range(300):
            at += timedelta(seconds=rng.choice((0, 0, 1, 5, 70, 400)),
                            microseconds=rng.choice((0, 0, rng.randrange(1_000_000))))
            key = f"{g}:{n}"
            sender = wa(rng.choice(PEOPLE))
            media = sha(rng.randrange(40)) if rng.random() < 0.2 else None
            text = rng.choice(("ok", "hola", "  ok ", "nos vemos", None)) if media is None else None
            holders = rng.sample(sources, rng.randint(1, 3))
            if more_precise_later and n == 150:
                holders = sources  # the first copy (lowest id) to the minute, the later ones to the second
            for i, s in enumerate(holders):
                prec = 60 if more_precise_later and n == 150 and s == sources[0] else 1
                k: str | None = key
                if keyless and i > 0 and rng.random() < 0.3:
                    k = None  # an export's copy: no key
                per[s].append(msg(gchat(g), k, sender, at, text, media, precision=prec,
                                  forwarded=rng.random() < 0.1))
    for s, recs in per.items():
        write(case, s, recs)
    return case


def _general(con: Any, chats: list[int], senders: Any, keyless: bool) -> list[tuple[Any, ...]]:
    return [(m.ts, m.id, m.person, list(m.shas), m.forwarded, len(m.duplicates))
            for m in deduplicated(raw_messages(con, chats, senders), keyless=keyless)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_keyed_short_cut_is_the_general_path(tmp_path: Path, seed: int) -> None:
    case = _random_case(tmp_path, seed)
    with case.begin() as con:
        senders = sender_map(con, resolve_persons(con))
        for (chat,) in con.execute(select(S.chats.c.id)):
            fast = keyed_timeline(con, [chat], senders)
            assert fast is not None
            got = [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in fast]
            assert got == _general(con, [chat], senders, keyless=True) == _general(con, [chat], senders, False)
            assert len(got) == 300


def test_keyed_short_cut_declines_what_it_cannot_do(tmp_path: Path) -> None:
    case = _random_case(tmp_path, 7, more_precise_later=True)  # a later copy more precise than the first
    with case.begin() as con:
        senders = sender_map(con, resolve_persons(con))
        assert any(keyed_timeline(con, [c], senders) is None for (c,) in con.execute(select(S.chats.c.id)))
    case = _random_case(tmp_path, 8, keyless=True)  # copies without a key
    with case.begin() as con:
        senders = sender_map(con, resolve_persons(con))
        assert all(keyed_timeline(con, [c], senders) is None for (c,) in con.execute(select(S.chats.c.id)))


@pytest.mark.parametrize("seed", [4, 5])
def test_whole_read_and_contents_are_the_merged_streams(tmp_path: Path, seed: int) -> None:
    case = _random_case(tmp_path, seed, keyless=True)
    with case.begin() as con:
        senders = sender_map(con, resolve_persons(con))
        chats = [c for (c,) in con.execute(select(S.chats.c.id))]
        assert len(chats) == 2
        lo, hi = T0 + timedelta(minutes=30), T0 + timedelta(hours=20)
        for bounds in ((None, None), (lo, hi)):
            merged = list(raw_messages(con, chats, senders, *bounds))  # per chat, merged in Python
            whole = list(raw_messages(con, chats, senders, *bounds, whole=True))
            key = [(m.id, m.ts, m.precision_s, m.key, m.person, m.wildcard, m.text, m.shas, m.forwarded,
                    m.source_id, m.chat_id, m.sender_id) for m in merged]
            assert key == [(m.id, m.ts, m.precision_s, m.key, m.person, m.wildcard, m.text, m.shas, m.forwarded,
                            m.source_id, m.chat_id, m.sender_id) for m in whole]
            assert list(contents(con, chats, senders, *bounds)) == [
                (m.id, m.ts, m.precision_s, m.person, m.wildcard, m.content(), m.source_id, m.chat_id)
                for m in merged if m.content() is not None]
            assert all(lo <= m.at <= hi for m in merged) or bounds == (None, None)
        folded = _general(con, chats, senders, keyless=True)
        assert len(folded) < len(merged)  # copies without keys folded by content


def test_bounds_take_in_a_message_at_them(tmp_path: Path) -> None:
    """``lo`` and ``hi`` are inclusive on every path, also at a whole second (sqlite3's own adapter writes one
    without its fraction, which compared below the stored text of the same time)."""
    case = _random_case(tmp_path, 6, keyless=True)
    with case.begin() as con:
        senders = sender_map(con, resolve_persons(con))
        chats = [c for (c,) in con.execute(select(S.chats.c.id))]
        every = list(raw_messages(con, chats, senders, whole=True))
        whole_seconds = [m for m in every if m.ts % 1_000_000 == 0]
        assert len(whole_seconds) >= 5
        for m in whole_seconds:
            for whole in (False, True):
                assert m.id in {x.id for x in raw_messages(con, chats, senders, hi=m.at, whole=whole)}
                assert m.id in {x.id for x in raw_messages(con, chats, senders, lo=m.at, whole=whole)}
            assert m.id in {x[0] for x in contents(con, chats, senders, m.at, m.at)} or m.content() is None


def test_stage_tables_same_on_either_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every analysis table the same whether groups take the keyed short cut or the general path."""
    from ringtrace.stages import analyze as stage
    from tests.analysis.test_stage import dump

    case = _random_case(tmp_path, 9)
    stage.analyze_stage(case)
    fast = dump(case)
    taken: list[bool] = []

    def general_only(con: Any, chats: list[int], senders: Any) -> None:
        taken.append(True)
        return None

    monkeypatch.setattr(stage, "keyed_timeline", general_only)
    stage.analyze_stage(case)
    assert taken and dump(case) == fast
    assert len(fast["memberships"]) > 0


def _state(m: Any) -> tuple[Any, ...]:
    return (m.ts, m.id, m.person, m.wildcard, list(m.shas), m.forwarded, list(m.duplicates), m.key, m.precision_s,
            sorted(m.sources), m.source_id, m.chat_id, m.sender_id, m.moves)


@pytest.mark.parametrize(("seed", "later"), [(10, False), (11, True), (12, False), (13, True)])
def test_group_timeline_is_the_whole_read_folded(tmp_path: Path, seed: int, later: bool) -> None:
    """The fused read-and-fold gives each canonical message as deduplicated(raw_messages(whole=True)) does, in
    the same state when it is yielded (a later copy of a key may still change it afterwards)."""
    case = _random_case(tmp_path, seed, keyless=True, more_precise_later=later)
    with case.begin() as con:
        senders = sender_map(con, resolve_persons(con))
        chats = [c for (c,) in con.execute(select(S.chats.c.id))]
        for part in ([chats[0]], chats):
            want = [_state(m) for m in deduplicated(raw_messages(con, part, senders, whole=True), keyless=True)]
            got = [_state(m) for m in group_timeline(con, part, senders)]
            assert got == want
            assert any(len(s[6]) for s in got) and len(got) < sum(1 for _ in raw_messages(con, part, senders))
        assert list(group_timeline(con, [], senders)) == []


def test_content_fold_allows_the_slack_beyond_precision() -> None:
    """Two keyless copies of one text from two phones fold when their times differ by no more than the coarser
    precision plus the slack (2 s): 2.5 s apart at second precision folds, 3.5 s apart does not."""
    from ringtrace.analysis.timeline import Msg, deduplicated

    def copy(mid: int, src: int, ts: int) -> Msg:
        return Msg(mid, None, 1, None, 7, False, "the same words", [], False, src, 10 + src, ts=ts)

    base = 1_700_000_000_000_000
    near = list(deduplicated(iter([copy(1, 1, base), copy(2, 2, base + 2_500_000)])))
    assert [(m.id, m.duplicates) for m in near] == [(1, [2])]
    far = list(deduplicated(iter([copy(1, 1, base), copy(2, 2, base + 3_500_000)])))
    assert [m.id for m in far] == [1, 2]

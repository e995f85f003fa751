"""The shortcuts of ringtrace.store.rows and ringtrace.seal give exactly what they stand for: the time and Boolean
binds made where rows are built equal SQLAlchemy's SQLite bind processors, the seal lines built column by column
or from a template equal ``json.JSONEncoder(sort_keys=True, ...)`` of the row's dict, as the lines always were."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from ringtrace.model import AccountKey, ChatRef, GroupEvent, Indicator, Message, Page, Participant, Problem, Prov
from ringtrace.seal import _ENCODE, _INT, _TEXT, PENDING_SOURCE, LineRenderer, Unsure, media_line
from ringtrace.store import rows as R
from ringtrace.store import schema as S

REFERENCE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
DIALECT = sqlite.dialect()


def _proc(table: str, column: str) -> Any:
    return S.metadata.tables[table].c[column].type.dialect_impl(DIALECT).bind_processor(DIALECT)


def _outcome(f: Any, v: Any) -> tuple[str, Any]:
    try:
        return ("ok", f(v))
    except Exception as e:  # noqa: BLE001 - the same error is part of being equal
        return ("error", type(e))


FUSED = R.fused_binds()


def test_fused_binds_are_chosen_for_sqlite() -> None:
    assert FUSED is not None
    # what stays for ``_bound``: JSON only (pages.resources), no time or Boolean column
    assert {t: [i for i, _ in p] for t, p in FUSED.rest.items() if p} == {
        "pages": [R.COLUMNS["pages"].index("resources")]}


zones = st.one_of(st.timezones(), st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23, minutes=-59),
                                                                      max_value=timedelta(hours=23, minutes=59))))
naive = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), allow_imaginary=True)
times = st.one_of(
    naive,
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=zones),
    naive.map(lambda d: d.replace(microsecond=0)),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(999, 12, 31), timezones=zones),
    st.datetimes(timezones=zones),  # the ends of the range: astimezone may overflow, in both alike
    st.none(),
)


@settings(max_examples=3000)
@given(times, st.booleans())
def test_time_bind_is_sqlalchemys(v: datetime | None, fold: bool) -> None:
    assert FUSED is not None
    if v is not None:
        v = v.replace(fold=int(fold))
    for table, column in (("messages", "at"), ("problems", "at"), ("pages", "captured_at")):
        assert _outcome(FUSED.time, v) == _outcome(lambda x: _proc(table, column)(R._utc(x)), v)


class _Stamp(datetime):
    """A datetime subclass: taken through SQLAlchemy's processor, not the shortcut."""


def test_time_bind_of_other_classes_goes_through_sqlalchemy() -> None:
    assert FUSED is not None
    s = _Stamp(2025, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert FUSED.time(s) == "2025-01-02 01:04:05.000000" == _proc("messages", "at")(R._utc(s))
    assert _outcome(FUSED.time, "2025-01-02") == _outcome(lambda x: _proc("messages", "at")(R._utc(x)), "2025-01-02")


@given(st.one_of(st.booleans(), st.none(), st.integers(-3, 3), st.floats(allow_nan=False), st.text(max_size=3)))
def test_bool_bind_is_sqlalchemys(v: Any) -> None:
    assert FUSED is not None
    got, want = _outcome(FUSED.bool, v), _outcome(_proc("messages", "forwarded"), v)
    assert got == want and type(got[1]) is type(want[1])


# ---- seal lines ------------------------------------------------------------------------------------------------

texts = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=12)  # surrogates, controls
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), texts, st.just(PENDING_SOURCE + "x"))
json_values = st.recursive(scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(texts, c, max_size=3),
                           max_leaves=8)


@settings(max_examples=2000)
@given(st.dictionaries(texts, json_values, max_size=8))
def test_line_encoder_is_jsons(d: dict[str, Any]) -> None:
    assert _ENCODE(d) == REFERENCE.encode(d)


def _old_lines(r: LineRenderer, rows: list[Any], names: list[str]) -> list[str]:
    """LineRenderer.lines as it was: a dict per row, json's encoder."""
    out = []
    for row in rows:
        d: dict[str, Any] = {}
        for name, i in r.refs:
            v = row[i]
            d[name] = None if v is None else names[v]
        for name, i, ok, conv in r.values:
            v = row[i]
            d[name] = v if v.__class__ in ok else conv(v)
        out.append(REFERENCE.encode(d))
    return out


class _Kind(str):
    """A str subclass (as an enum's value): written as its characters."""


stored_time = st.datetimes(min_value=datetime(1, 1, 1)).map(lambda d: FUSED.time(d) if FUSED else None)
odd = st.one_of(st.booleans(), st.floats(), st.builds(_Kind, texts), st.just("2025-01-01"))  # other classes
text_value = st.one_of(st.none(), texts, st.just(PENDING_SOURCE + "Ana"))
int_value = st.one_of(st.none(), st.integers(), st.just(0), st.just(1))


@st.composite
def _rows(draw: st.DrawFn, table: str, n_names: int, odd_chance: bool) -> list[Any]:
    r = R._renderer(table)
    kinds = {i: "ref" for _, i in r.refs}
    for _, i, ok, conv in r.values:
        kinds[i] = "text" if ok is _TEXT else "int" if ok is _INT else "json" if conv.__name__ == "_json" else "time"
    by_kind = {"ref": st.one_of(st.none(), st.integers(0, n_names - 1)), "text": text_value, "int": int_value,
               "time": st.one_of(st.none(), stored_time),
               "json": st.one_of(st.none(), json_values.map(lambda v: json.dumps(v)))}
    out = []
    for _ in range(draw(st.integers(0, 6))):
        row = [None] * len(R.COLUMNS[table])
        for i, k in kinds.items():
            row[i] = draw(odd if odd_chance and draw(st.integers(0, 30)) == 0 else by_kind[k])
        out.append(tuple(row))
    return out


@settings(max_examples=400)
@given(st.data(), st.sampled_from(sorted(R.COLUMNS.keys() - {"message_media"})), st.booleans())
def test_lines_by_column_are_the_lines_by_row(data: st.DataObject, table: str, odd_chance: bool) -> None:
    names = ["whatsapp:phone:+34600000001", "whatsapp:export_name:" + PENDING_SOURCE + "Ana \"x\"\n", "a:b:c"]
    rows = data.draw(_rows(table, len(names), odd_chance))
    r = R._renderer(table)
    assert _outcome(lambda x: r.lines(x, names), rows) == _outcome(lambda x: _old_lines(r, x, names), rows)


@given(st.tuples(st.integers(), st.one_of(st.none(), texts), text_value, text_value, int_value, text_value,
                 st.booleans()), texts)
def test_media_line_is_the_dict_encoded(media: tuple[Any, ...], message_line: str) -> None:
    _mid, sha, relpath, name, size, mime, declared = media
    want = REFERENCE.encode({"message_id": hashlib.sha256(message_line.encode("utf-8", "surrogatepass")).hexdigest(),
                             "sha256": sha, "relpath": relpath, "name": name, "size": size, "mime": mime,
                             "declared_only": int(declared)})
    try:
        got = media_line(message_line, media)
    except UnicodeEncodeError:  # a lone surrogate in the message line: the same error as ever (``.encode()``)
        return
    assert got == want


@pytest.mark.parametrize("bad", [(1, 2, None, None, 3, None, False), (1, None, None, None, True, None, False),
                                 (1, None, None, None, 1.5, None, True)])
def test_media_line_not_text_is_unsure(bad: tuple[Any, ...]) -> None:
    with pytest.raises(Unsure):
        media_line("{}", bad)


def test_encoder_rows_fused_are_the_rows_bound_by_sqlalchemy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every record type through the encoder, times and booleans bound as rows are built, gives the ops of the
    encoder converting them with SQLAlchemy's processors (``fused_binds`` off)."""
    chat = ChatRef("whatsapp", "group", "g1@g.us")
    zone = timezone(timedelta(hours=-5))
    recs: list[Any] = []
    for i in range(R.BATCH + 3):
        at = datetime(2025, 3, 1, 12, tzinfo=zone) + timedelta(seconds=i, microseconds=i % 3)
        recs.append(Message(chat, f"k{i}", AccountKey("whatsapp", "phone", f"+3460{i % 9}"),
                            at.replace(tzinfo=None) if i % 2 else at, f"t{i}", Prov("m.db", "message", str(i)),
                            forwarded=i % 5 == 0, from_owner=i % 7 == 0))
    recs += [Participant(chat, AccountKey("whatsapp", "phone", "+1"), "admin", True, Prov("m.db"),
                         at=datetime(999, 1, 1, tzinfo=UTC)),
             Participant(chat, AccountKey("whatsapp", "phone", "+2"), "member", False, Prov("m.db")),
             GroupEvent(chat, "subject", datetime(2025, 1, 1), None, None, "27", Prov("m.db", "t", "9"), value="N"),
             Page("https://x.test/", datetime(2025, 1, 1, tzinfo=zone), "r1", "A", Prov("c.warc", "r1"),
                  resources=("https://x.test/i.png",)),
             Indicator("whatsapp_invite", "https://chat.whatsapp.com/AbC", "AbC", "join", Prov("c.warc", "r1"),
                       at=datetime(2025, 6, 1, 1, 2, 3)),
             Problem("m.db", "unreadable", Prov("m.db", "message", "7"), "warning")]

    def encode() -> tuple[list[Any], list[Any], Any]:
        enc = R.RowEncoder("parse", "m.db", True, None)
        for rec in recs:
            enc.add(rec)
        enc.flush()
        refs, ops = enc.take()
        # rows as the driver gets them (lists or tuples alike); a problem's wall-clock time aside
        norm = [(op[0], op[1], [tuple(r)[:5] if op[1] == "problems" else tuple(r) for r in op[2]]) if op[0] == R.ROWS
                else (op[0], [tuple(r) for r in op[1]], op[2], op[3]) for op in ops]
        return refs, norm, enc.lines

    fused = encode()
    monkeypatch.setattr(R, "fused_binds", lambda: None)
    plain = encode()
    assert fused == plain
    assert any(op[1] == "messages" and op[2][0][6] == 1 for op in fused[1] if op[0] == R.ROWS)  # bound bools

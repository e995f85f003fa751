"""The export's TypedDicts and export_schema.json say the same thing, object by object, and a real export with
messages validates against the schema."""

from __future__ import annotations

import json
import typing
from typing import Any, NotRequired, get_args, get_origin, get_type_hints, is_typeddict

import jsonschema

from ringtrace.case import Case
from ringtrace.dissemination.export import SCHEMA_PATH
from ringtrace.dissemination.export_types import ExportDoc


def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _typeddicts_in(tp: Any) -> list[Any]:
    """The TypedDicts reachable from a type: itself, list items, union members."""
    if is_typeddict(tp):
        return [tp]
    return [t for a in get_args(tp) for t in _typeddicts_in(a)]


def _schema_object(node: dict[str, Any]) -> dict[str, Any] | None:
    """The object schema a property stands for: itself, or the object items of an array."""
    if "properties" in node:
        return node
    items = node.get("items")
    if isinstance(items, dict):
        return _schema_object(items)
    return None


def _compare(td: Any, node: dict[str, Any], path: str, problems: list[str]) -> None:
    hints = get_type_hints(td, include_extras=True)
    props = node.get("properties", {})
    if set(hints) != set(props):
        problems.append(f"{path} ({td.__name__}): keys {sorted(hints)} but schema properties {sorted(props)}")
    required = set(node.get("required", []))
    for key, tp in hints.items():
        optional = get_origin(tp) is NotRequired
        if key in props and optional == (key in required):
            problems.append(f"{path}.{key}: {'NotRequired' if optional else 'required'} in {td.__name__}, "
                            f"{'required' if key in required else 'optional'} in the schema")
        if optional:
            tp = get_args(tp)[0]
        inner = _typeddicts_in(tp)
        sub = _schema_object(props.get(key, {}))
        if inner and sub is None:
            problems.append(f"{path}.{key}: a TypedDict, but the schema declares no object properties")
        for t in inner:
            if sub is not None:
                _compare(t, sub, f"{path}.{key}", problems)
        if not inner and sub is not None:
            problems.append(f"{path}.{key}: the schema declares an object, {td.__name__} no TypedDict")


def test_typeddicts_match_the_schema() -> None:
    problems: list[str] = []
    _compare(ExportDoc, _schema(), "export", problems)
    assert not problems, "\n".join(problems)


def test_the_comparison_can_fail() -> None:
    """A TypedDict with a key too many, or a required key the schema leaves optional, is caught."""

    class Wrong(typing.TypedDict):
        platform: str
        kind: str
        value: str
        extra: int

    class Loose(typing.TypedDict):
        person: str | None
        group: str | None
        at: NotRequired[str | None]

    problems: list[str] = []
    accounts = _schema()["properties"]["persons"]["items"]["properties"]["accounts"]["items"]
    _compare(Wrong, accounts, "accounts", problems)
    first = _schema()["properties"]["media"]["items"]["properties"]["first_shared"]
    _compare(Loose, first, "first_shared", problems)
    assert len(problems) == 2, problems


def test_an_export_with_messages_validates(case: Case) -> None:
    from ringtrace.dissemination.export import build_export

    doc = build_export(case, with_messages=True)
    assert doc["messages"] and any(m["kind"] == "event" for m in doc["messages"])
    jsonschema.validate(doc, _schema())

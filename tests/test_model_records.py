"""The record classes keep dataclass behaviour with their faster constructor (model._quick_init)."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import UTC, datetime

import pytest

from ringtrace import model
from ringtrace.model import AccountKey, ChatRef, MediaRef, Message, Prov


def test_records_construct_compare_and_stay_frozen() -> None:
    chat = ChatRef("whatsapp", "group", "1@g.us")
    prov = Prov("db", "message", "7")
    at = datetime(2026, 1, 2, tzinfo=UTC)
    m = Message(chat, "K1", AccountKey("whatsapp", "phone", "+34600000001"), at, "hi", prov)
    assert (m.media, m.forwarded, m.from_owner, m.raw_type, m.time_precision_s) == ((), False, False, None, 1)
    kw = Message(chat=chat, msg_key="K1", sender=AccountKey("whatsapp", "phone", "+34600000001"), at=at,
                 text="hi", prov=prov)
    assert kw == m and hash(kw.sender) == hash(m.sender)
    assert pickle.loads(pickle.dumps(m)) == m
    assert dataclasses.replace(m, text="other").text == "other" and m.text == "hi"
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.text = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Message(chat)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Prov("f", bogus=1)  # type: ignore[call-arg]
    assert MediaRef(size=3) == MediaRef(None, None, None, 3)


def test_every_frozen_record_class_has_the_quick_constructor() -> None:
    frozen = [c for c in vars(model).values()
              if isinstance(c, type) and dataclasses.is_dataclass(c) and c.__dataclass_params__.frozen]  # type: ignore[attr-defined]
    assert len(frozen) >= 16
    for cls in frozen:
        assert cls.__init__.__code__.co_filename == "<string>" and "_set_" in " ".join(
            cls.__init__.__code__.co_names
        ), cls.__name__
        assert [p for p in cls.__init__.__code__.co_varnames[1:cls.__init__.__code__.co_argcount]] == [
            f.name for f in dataclasses.fields(cls)
        ]


def test_fast_constructors_build_the_record_class_itself() -> None:
    """``model.new_*`` (the readers' hot-loop constructors) return instances of the record class, equal, hashing,
    pickling and frozen like those the class builds, with the same parameters and defaults."""
    chat = ChatRef("whatsapp", "group", "1@g.us")
    at = datetime(2026, 1, 2, tzinfo=UTC)
    p = model.new_prov("db", "message", "7")
    assert type(p) is Prov and p == Prov("db", "message", "7") and hash(p) == hash(Prov("db", "message", "7"))
    assert model.new_prov("f", line=3) == Prov("f", None, None, 3) and p.locator() == "db:message:row 7"
    m = model.new_message(chat, "K1", None, at, "hi", p)
    assert type(m) is Message and m == Message(chat, "K1", None, at, "hi", p) and not hasattr(m, "__dict__")
    assert (m.media, m.forwarded, m.from_owner, m.raw_type, m.time_precision_s) == ((), False, False, None, 1)
    assert pickle.loads(pickle.dumps(m)) == m and repr(m) == repr(Message(chat, "K1", None, at, "hi", p))
    assert isinstance(m, Message) and dataclasses.replace(m, text="x").text == "x"
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.text = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        model.new_message(chat)  # type: ignore[call-arg]
    assert model.new_media_ref(size=3) == MediaRef(size=3)
    k = AccountKey("whatsapp", "phone", "+34600000001")
    assert model.new_account(k, p) == model.Account(k, p) and type(model.new_account(k, p)) is model.Account

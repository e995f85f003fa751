"""Every synthetic device format through real intake: as a folder, as a zip and as a tar (full file-system
extractions arrive as archives), recognised by content and read as one device."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import Table, func, select

import ringtrace
from ringtrace.case import Case
from ringtrace.store import schema as S
from ringtrace.synth.view import DeviceView
from ringtrace.synth.world import World, build_world, device_view

FORMAT_NAMES = {
    ("whatsapp_android", "current"): "whatsapp-android",
    ("whatsapp_android", "legacy"): "whatsapp-android",
    ("whatsapp_android", "mixed"): "whatsapp-android",
    ("whatsapp_ios", ""): "whatsapp-ios",
    ("whatsapp_export", "android"): "whatsapp-export",
    ("whatsapp_export", "ios"): "whatsapp-export",
    ("telegram_export", "full"): "telegram-desktop",
}


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(11, "tiny")


def _write(world: World, fmt: str, variant: str, out: Path) -> DeviceView:
    import importlib
    from dataclasses import replace

    telegram = fmt == "telegram_export"
    dev = next(d for d in world.devices if (d.fmt == "telegram_export") == telegram and d.fmt != "media_folder")
    view = device_view(world, replace(dev, fmt=fmt, variant=variant))
    importlib.import_module(f"ringtrace.synth.formats.{fmt}").write(view, out, 5)
    return view


def _count(case: Case, table: Table) -> int:
    with case.engine.connect() as con:
        return con.execute(select(func.count()).select_from(table)).scalar() or 0


@pytest.mark.parametrize("fmt,variant", sorted(FORMAT_NAMES))
@pytest.mark.parametrize("container", ["folder", "zip", "tar"])
def test_device_format_through_intake(world: World, fmt: str, variant: str, container: str, tmp_path: Path) -> None:
    src = tmp_path / "device"
    src.mkdir()
    view = _write(world, fmt, variant, src)
    if container == "zip":
        path = Path(shutil.make_archive(str(tmp_path / "extraction"), "zip", src))
    elif container == "tar":
        path = tmp_path / "extraction.tar"
        with tarfile.open(path, "w") as tf:
            tf.add(src, arcname="Dump")  # tools often wrap the tree in a top folder
    else:
        path = src
    case = Case.init(tmp_path / "case", actor="t")
    r = ringtrace.ingest(case, path, exhibit="EX-1", owner=view.owner.phone, timezone=view.timezone)
    assert r.parse is not None
    formats = {f for f, _ in r.parse.units}
    assert FORMAT_NAMES[(fmt, variant)] in formats, (formats, r.parse.counts)
    # one device, one source; its groups and messages are there
    assert _count(case, S.sources) == 1
    # the group messages, and on a phone database those of the chats that are no person's number (status,
    # broadcast list, newsletter)
    n_msgs = sum(len(g.messages) for g in view.groups)
    if fmt in ("whatsapp_android", "whatsapp_ios"):
        n_msgs += sum(len(c.posts) for c in view.others)
    got = _count(case, S.messages)
    assert got == n_msgs, (got, n_msgs)
    assert _count(case, S.group_events) > 0
    with case.engine.connect() as con:
        errors = [p.reason for p in con.execute(select(S.problems).where(S.problems.c.severity == "error"))]
    assert errors == []
    case.close()

"""Hostile input, mechanically: every evidence format is fed damaged copies of a real (synthetic) file —
truncated, bytes flipped, junk spliced in — and must answer with records, ``Problem`` records or a
``FormatError`` naming the file. Any other exception is a parser bug that an investigator would meet as a
crash (the pipeline would still contain it, but the unit's records would be lost)."""

from __future__ import annotations

import os
import random
import shutil
import time
from dataclasses import replace
from pathlib import Path

import pytest

from ringtrace.model import Problem, ReadOptions
from ringtrace.sources.base import Candidate, FormatError, Unit, registry
from ringtrace.synth.world import World, build_world, device_view

MUTATIONS = int(os.environ.get("RINGTRACE_FUZZ_MUTATIONS", "24"))  # more for a deeper local run
SECONDS_PER_READ = 20


def _device(world: World, fmt: str, variant: str, out: Path) -> None:
    import importlib

    telegram = fmt == "telegram_export"
    dev = next(d for d in world.devices if (d.fmt == "telegram_export") == telegram and d.fmt != "media_folder")
    view = device_view(world, replace(dev, fmt=fmt, variant=variant))
    importlib.import_module(f"ringtrace.synth.formats.{fmt}").write(view, out, 9)


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """format name -> (exhibit root, primary file) for one small real example of each format."""
    from ringtrace.synth.formats.captures import make_pages, write_captures

    world = build_world(13, "tiny")
    out: dict[str, tuple[Path, str]] = {}
    for fmt, variant, name, pattern in [
        ("whatsapp_android", "current", "whatsapp-android", "msgstore.db"),
        ("whatsapp_android", "legacy", "whatsapp-android-legacy", "msgstore.db"),
        ("whatsapp_ios", "", "whatsapp-ios", "ChatStorage.sqlite"),
        ("whatsapp_export", "android", "whatsapp-export", ".txt"),
        ("telegram_export", "full", "telegram-desktop", "result.json"),
    ]:
        root = tmp_path_factory.mktemp(name)
        _device(world, fmt, variant, root)
        primary = next(p for p in sorted(root.rglob("*")) if p.is_file() and p.name.endswith(pattern))
        out[name] = (root, primary.relative_to(root).as_posix())
    caps = tmp_path_factory.mktemp("captures")
    write_captures(make_pages(12, seed=4), caps, seed=4)
    for fmt, suffix in [("warc", ".warc.gz"), ("mhtml", ".mhtml"), ("html-page", ".html"), ("ache", ".jsonl"),
                        ("text-capture", ".txt")]:
        primary = next(p for p in sorted(caps.rglob("*")) if p.name.endswith(suffix))
        out[fmt] = (caps, primary.relative_to(caps).as_posix())
    return out


def _mutate(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return rng.randbytes(64)
    kind = rng.choice(["truncate", "flip", "splice", "zero-run"])
    if kind == "truncate":
        return data[: rng.randrange(len(data))]
    buf = bytearray(data)
    if kind == "flip":
        for _ in range(rng.randrange(1, 40)):
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
        return bytes(buf)
    if kind == "splice":
        at = rng.randrange(len(buf))
        return bytes(buf[:at]) + rng.randbytes(rng.randrange(1, 2000)) + bytes(buf[at:])
    at = rng.randrange(len(buf))
    return bytes(buf[:at]) + b"\x00" * min(4096, len(buf) - at) + bytes(buf[at + 4096:])


FORMATS = ["whatsapp-android", "whatsapp-android-legacy", "whatsapp-ios", "whatsapp-export",
           "telegram-desktop", "warc", "mhtml", "html-page", "ache", "text-capture"]


@pytest.mark.parametrize("name", FORMATS)
def test_damaged_copies_never_crash_a_reader(name: str, fixtures: dict[str, tuple[Path, str]], tmp_path: Path) -> None:
    root, primary = fixtures[name]
    fmt_name = "whatsapp-android" if name.startswith("whatsapp-android") else name
    fmt = registry()[fmt_name]()
    original = (root / primary).read_bytes()
    rng = random.Random(f"{name}-fuzz")
    crashes: list[str] = []
    for i in range(MUTATIONS):
        work = tmp_path / f"m{i}"
        shutil.copytree(root, work)
        (work / primary).write_bytes(_mutate(original, rng))
        files = sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file())
        cand = Candidate(work, primary, (work / primary).stat().st_size)
        try:
            members = fmt.members(cand, files)
        except Exception as e:  # noqa: BLE001
            crashes.append(f"mutation {i}: members() raised {type(e).__name__}: {e}")
            continue
        unit = Unit(work, primary, fmt_name, members)
        start = time.monotonic()
        try:
            for rec in fmt.read(unit, ReadOptions(timezone="Europe/Madrid", owner="+34612345678")):
                if isinstance(rec, Problem):
                    assert rec.file and rec.reason
        except FormatError as e:
            assert primary.rsplit("/", 1)[-1] in str(e) or str(work) in str(e) or primary in str(e), str(e)
        except Exception as e:  # noqa: BLE001
            crashes.append(f"mutation {i}: {type(e).__name__}: {e}")
        assert time.monotonic() - start < SECONDS_PER_READ, f"mutation {i} took too long"
        shutil.rmtree(work)
    assert not crashes, "\n".join(crashes)

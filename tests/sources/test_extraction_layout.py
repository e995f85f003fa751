"""Finding app data in file-system extractions: fake trees built in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

from ringtrace.sources._helpers import extraction_layout as el

UUID_A = "0A1B2C3D-4E5F-6789-ABCD-EF0123456789"
UUID_B = "11111111-2222-3333-4444-555555555555"


def touch(root: Path, rel: str, data: bytes = b"x") -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def prefs(entries: dict[str, str]) -> bytes:
    body = "".join(f'    <string name="{k}">{v}</string>\n' for k, v in entries.items())
    return f"<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n{body}</map>\n".encode()


def test_android_layout_under_wrapper_folder(tmp_path: Path) -> None:
    dev = "extraction_FFS/fs"
    touch(tmp_path, f"{dev}/data/data/com.whatsapp/databases/msgstore.db")
    touch(tmp_path, f"{dev}/data/data/com.whatsapp/databases/wa.db")
    touch(
        tmp_path,
        f"{dev}/data/data/com.whatsapp/shared_prefs/com.whatsapp_preferences_light.xml",
        prefs({"registration_jid": "34612345678", "push_name": "Lu"}),
    )
    (tmp_path / f"{dev}/data/media/0/Android/media/com.whatsapp/WhatsApp/Media").mkdir(parents=True)
    (tmp_path / f"{dev}/data/media/0/WhatsApp/Media").mkdir(parents=True)  # older sdcard layout too
    touch(tmp_path, f"{dev}/data/data/com.whatsapp.w4b/databases/msgstore.db")
    (tmp_path / f"{dev}/data/media/0/WhatsApp Business/Media").mkdir(parents=True)

    layouts = el.find_android_whatsapp(tmp_path)
    assert [lay.package for lay in layouts] == ["com.whatsapp", "com.whatsapp.w4b"]  # wa.db present first
    wa, biz = layouts
    assert wa.msgstore == f"{dev}/data/data/com.whatsapp/databases/msgstore.db"
    assert wa.wa_db == f"{dev}/data/data/com.whatsapp/databases/wa.db"
    assert wa.prefs == (f"{dev}/data/data/com.whatsapp/shared_prefs/com.whatsapp_preferences_light.xml",)
    assert set(wa.media_roots) == {
        f"{dev}/data/media/0/Android/media/com.whatsapp/WhatsApp/Media",
        f"{dev}/data/media/0/WhatsApp/Media",
    }
    assert biz.wa_db is None and biz.media_roots == (f"{dev}/data/media/0/WhatsApp Business/Media",)
    assert el.owner_from_android_prefs(tmp_path) == "+34612345678"


def test_android_adb_backup_and_media_only(tmp_path: Path) -> None:
    touch(tmp_path, "apps/com.whatsapp/db/msgstore.db")
    touch(
        tmp_path,
        "apps/com.whatsapp/sp/com.whatsapp_preferences.xml",
        prefs({"cc": "49", "ph": "15123456789"}),
    )
    (lay,) = el.find_android_whatsapp(tmp_path)
    assert lay.app_dir == "apps/com.whatsapp" and lay.msgstore == "apps/com.whatsapp/db/msgstore.db"
    assert el.owner_from_android_prefs(tmp_path, lay) == "+4915123456789"

    only_media = tmp_path / "sd"
    (only_media / "sdcard/WhatsApp/Media").mkdir(parents=True)
    (lay2,) = el.find_android_whatsapp(only_media)
    assert lay2.app_dir is None and lay2.msgstore is None and lay2.media_roots == ("sdcard/WhatsApp/Media",)
    assert el.owner_from_android_prefs(only_media) is None


def test_nothing_found(tmp_path: Path) -> None:
    touch(tmp_path, "Dump/system/build.prop")
    assert el.find_android_whatsapp(tmp_path) == []
    assert el.find_ios_whatsapp(tmp_path) == []
    assert el.find_telegram_exports(tmp_path) == []


def test_symlinks_out_of_root_are_ignored(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    touch(outside, "com.whatsapp/databases/msgstore.db")
    root = tmp_path / "root"
    (root / "data/data").mkdir(parents=True)
    (root / "data/data/com.whatsapp").symlink_to(outside / "com.whatsapp")
    (root / "Dump").symlink_to(outside)  # a wrapper that points away
    assert el.find_android_whatsapp(root) == []
    assert list(el.walk_files(root)) == []


def test_prefs_register_phone_and_bad_files(tmp_path: Path) -> None:
    good = touch(
        tmp_path,
        "RegisterPhone.xml",
        prefs(
            {
                "com.whatsapp.RegisterPhone.country_code": "33",
                "com.whatsapp.RegisterPhone.phone_number": "612345678",
            }
        ),
    )
    assert el.owner_from_prefs_file(good) == "+33612345678"
    jid = touch(tmp_path, "jid.xml", prefs({"registration_jid": "351912345678@s.whatsapp.net"}))
    assert el.owner_from_prefs_file(jid) == "+351912345678"
    invalid_number = touch(tmp_path, "bad_number.xml", prefs({"registration_jid": "340000"}))
    assert el.owner_from_prefs_file(invalid_number) is None
    broken = touch(tmp_path, "broken.xml", b"<map><string name='cc'>34")
    assert el.owner_from_prefs_file(broken) is None
    bomb = b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa">]><map><string name="ph">&a;</string></map>'
    assert el.owner_from_prefs_file(touch(tmp_path, "bomb.xml", bomb)) is None  # DTDs refused
    assert el.owner_from_prefs_file(tmp_path / "absent.xml") is None


def test_ios_layout(tmp_path: Path) -> None:
    base = "Dump/private/var/mobile/Containers/Shared/AppGroup"
    touch(tmp_path, f"{base}/{UUID_A}/ChatStorage.sqlite")
    touch(tmp_path, f"{base}/{UUID_A}/ContactsV2.sqlite")
    (tmp_path / f"{base}/{UUID_A}/Message/Media").mkdir(parents=True)
    touch(tmp_path, f"{base}/{UUID_B}/ChatStorage.sqlite")
    touch(
        tmp_path,
        f"{base}/{UUID_B}/.com.apple.mobile_container_manager.metadata.plist",
        b"bplist00...group.net.whatsapp.WhatsAppSMB.shared...",
    )
    touch(tmp_path, f"{base}/not-a-uuid/ChatStorage.sqlite")
    found = {lay.app_group.rsplit("/", 1)[-1]: lay for lay in el.find_ios_whatsapp(tmp_path)}
    assert set(found) == {UUID_A, UUID_B}
    a, b = found[UUID_A], found[UUID_B]
    assert a.chatstorage == f"{base}/{UUID_A}/ChatStorage.sqlite" and not a.business
    assert (
        a.media_root == f"{base}/{UUID_A}/Message/Media"
        and a.contacts == f"{base}/{UUID_A}/ContactsV2.sqlite"
    )
    assert b.business and b.media_root is None and b.contacts is None


def test_telegram_exports_found_by_content(tmp_path: Path) -> None:
    full = {"about": "x", "personal_information": {"user_id": 1}, "chats": {"list": []}}
    single = {"name": "G", "type": "private_group", "id": 5, "messages": []}
    touch(
        tmp_path,
        "fs/Users/u/Downloads/Telegram Desktop/DataExport_2024-01-01/result.json",
        json.dumps(full).encode(),
    )
    touch(
        tmp_path,
        "fs/Users/u/Downloads/Telegram Desktop/ChatExport_2024-01-01/result.json",
        json.dumps(single).encode(),
    )
    touch(tmp_path, "fs/other/result.json", b'{"score": 3}')
    found = el.find_telegram_exports(tmp_path)
    assert [(f.kind, f.folder.rsplit("/", 1)[-1]) for f in found] == [
        ("single", "ChatExport_2024-01-01"),
        ("full", "DataExport_2024-01-01"),
    ]


def test_walk_is_bounded(tmp_path: Path) -> None:
    deep = tmp_path
    for i in range(15):
        deep = deep / f"d{i}"
    touch(deep, "result.json")
    for i in range(30):
        touch(tmp_path, f"wide/f{i:02d}")
    assert not any(rel.endswith("result.json") for rel in el.walk_files(tmp_path, max_depth=10))
    assert len(list(el.walk_files(tmp_path / "wide", max_entries=10))) == 10

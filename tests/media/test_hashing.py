from __future__ import annotations

import builtins
import hashlib
import struct
import time
import zlib
from pathlib import Path

import pytest

from ringtrace.media.hashing import (
    CSV_HEADER,
    Limits,
    MediaHashes,
    hash_bytes,
    hash_file,
    hash_many,
    hash_paths,
    to_csv_row,
    to_json,
    usable_for_matching,
)
from ringtrace.media.pdq import hamming
from tests.media.helpers import encode, make_image, make_video


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def bomb_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A tiny PNG whose header claims width x height RGB pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _check_digests(h: MediaHashes, data: bytes) -> None:
    assert h.size == len(data)
    assert h.md5 == hashlib.md5(data).hexdigest()
    assert h.sha1 == hashlib.sha1(data).hexdigest()
    assert h.sha256 == hashlib.sha256(data).hexdigest()


def test_jpeg_file_gets_digests_and_pdq(tmp_path: Path) -> None:
    data = encode(make_image(800, 600, seed=3), quality=90)
    p = tmp_path / "photo.bin"  # extension deliberately wrong: detection is by content
    p.write_bytes(data)
    h = hash_file(p)
    _check_digests(h, data)
    assert (h.kind, h.mime, h.width, h.height, h.error) == ("image", "image/jpeg", 800, 600, None)
    assert h.pdq is not None and len(h.pdq) == 64 and len(h.pdq_dihedral) == 8
    assert h.pdq_dihedral[0] == h.pdq
    assert usable_for_matching(h)
    assert hash_bytes(data, "photo.jpg") == h


def test_small_chunks_give_same_digests(tmp_path: Path) -> None:
    data = bytes(range(256)) * 1000
    p = tmp_path / "blob"
    p.write_bytes(data)
    h = hash_file(p, Limits(chunk_bytes=777))
    _check_digests(h, data)
    assert h.kind == "other" and h.error is None and h.pdq is None


def test_file_is_opened_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "a.png"
    p.write_bytes(encode(make_image(300, 200), "PNG"))
    opened: list[str] = []
    real_open = builtins.open

    def counting_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting_open)
    h = hash_file(p)
    assert h.pdq is not None
    assert opened.count(str(p)) == 1


def test_reencoded_and_resized_copy_matches() -> None:
    img = make_image(1200, 900, seed=5)
    a = hash_bytes(encode(img, quality=95), "a.jpg")
    b = hash_bytes(encode(img.resize((400, 300)), quality=60), "b.jpg")
    c = hash_bytes(encode(make_image(1200, 900, seed=6), quality=95), "c.jpg")
    assert a.pdq and b.pdq and c.pdq
    assert hamming(a.pdq, b.pdq) <= 31
    assert hamming(a.pdq, c.pdq) > 31


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "BMP", "TIFF", "WEBP"])
def test_other_formats(fmt: str) -> None:
    img = make_image(400, 300, seed=1)
    ref = hash_bytes(encode(img, "PNG"), "ref.png")
    h = hash_bytes(encode(img, fmt), f"x.{fmt.lower()}")
    assert h.kind == "image" and h.error is None, h.error
    assert h.pdq and ref.pdq and hamming(h.pdq, ref.pdq) <= 16  # GIF quantises to 256 colours


def test_heic_if_encoder_available() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    img = make_image(400, 300, seed=2)
    try:
        data = encode(img, "HEIF", quality=90)
    except (KeyError, OSError, ValueError) as exc:  # wheel built without an HEVC encoder
        pytest.skip(f"no HEIF encoder: {exc} ({pillow_heif.__version__})")
    h = hash_bytes(data, "x.heic")
    ref = hash_bytes(encode(img, "PNG"), "ref.png")
    assert h.kind == "image" and h.mime == "image/heic" and h.error is None, h.error
    assert h.pdq and ref.pdq and hamming(h.pdq, ref.pdq) <= 16


# ---- bad inputs: digests always, plus a recorded reason ----


def test_truncated_jpeg(tmp_path: Path) -> None:
    data = encode(make_image(600, 400), quality=90)
    cut = data[: len(data) // 2]
    p = tmp_path / "cut.jpg"
    p.write_bytes(cut)
    h = hash_file(p)
    _check_digests(h, cut)
    assert h.kind == "image" and h.pdq is None
    assert h.error and "truncated" in h.error and str(p) in h.error


def test_zero_byte_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.jpg"
    p.write_bytes(b"")
    h = hash_file(p)
    _check_digests(h, b"")
    assert h.kind == "other" and h.error and "empty" in h.error


def test_bomb_png_refused_fast(tmp_path: Path) -> None:
    data = bomb_png()
    assert len(data) < 200
    p = tmp_path / "bomb.png"
    p.write_bytes(data)
    t0 = time.perf_counter()
    h = hash_file(p)
    assert time.perf_counter() - t0 < 1.0
    _check_digests(h, data)
    assert h.kind == "image" and h.pdq is None
    assert h.error and "bomb" in h.error and "50000x50000" in h.error


def test_moderate_bomb_under_pillow_limit_still_refused() -> None:
    # 15000 x 10000 = 150 Mpx: under Pillow's own error threshold, over ours.
    h = hash_bytes(bomb_png(15_000, 10_000), "big.png")
    assert h.error and "bomb" in h.error


def test_non_image_named_jpg(tmp_path: Path) -> None:
    data = b"just some notes, not a picture\n" * 10
    p = tmp_path / "notes.jpg"
    p.write_bytes(data)
    h = hash_file(p)
    _check_digests(h, data)
    assert h.kind == "other" and h.error and "not a recognised image" in h.error


def test_plain_text_without_media_name_is_no_error() -> None:
    h = hash_bytes(b"hello", "notes.txt")
    assert h.kind == "other" and h.error is None


def test_damaged_png_body() -> None:
    data = bytearray(encode(make_image(300, 200), "PNG"))
    data[200:400] = b"\x00" * 200  # corrupt compressed pixel data, header intact
    h = hash_bytes(bytes(data), "x.png")
    _check_digests(h, bytes(data))
    assert h.pdq is None and h.error


def test_corrupt_video(tmp_path: Path) -> None:
    good = make_video(seconds=2)
    # keep the ftyp box, scramble everything after it
    bad = good[:32] + bytes((b * 7 + 13) & 0xFF for b in good[32:2000])
    p = tmp_path / "clip.mp4"
    p.write_bytes(bad)
    h = hash_file(p)
    _check_digests(h, bad)
    assert h.kind == "video" and h.error and "video" in h.error
    assert str(p) in h.error


def test_missing_file_recorded(tmp_path: Path) -> None:
    h = hash_file(tmp_path / "nope.jpg")
    assert h.md5 is None and h.error and "nope.jpg" in h.error


def test_decode_limit_keeps_digests(tmp_path: Path) -> None:
    data = encode(make_image(300, 200), "PNG")
    p = tmp_path / "x.png"
    p.write_bytes(data)
    h = hash_file(p, Limits(max_decode_bytes=1000))
    _check_digests(h, data)
    assert h.pdq is None and h.error and "decode limit" in h.error


def test_file_size_limit(tmp_path: Path) -> None:
    p = tmp_path / "x.bin"
    p.write_bytes(b"x" * 5000)
    h = hash_file(p, Limits(max_file_bytes=1000))
    assert h.md5 is None and h.size == 5000 and h.error and "limit" in h.error


# ---- walking, batch, output helpers ----


def test_hash_paths_walks_sorted_and_skips_symlinked_dirs(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "a.txt").write_bytes(b"a")
    (tmp_path / "b" / "c.png").write_bytes(encode(make_image(100, 80), "PNG"))
    outside = tmp_path.parent / (tmp_path.name + "-outside")
    outside.mkdir(exist_ok=True)
    (outside / "secret.txt").write_bytes(b"s")
    (tmp_path / "link").symlink_to(outside, target_is_directory=True)
    got = [(p.relative_to(tmp_path).as_posix(), h.kind) for p, h in hash_paths([tmp_path])]
    assert got == [("a.txt", "other"), ("b/c.png", "image")]


def test_hash_many_process_pool_matches_serial(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"{i}.jpg").write_bytes(encode(make_image(200, 150, seed=i)))
    serial = list(hash_many([tmp_path], workers=1))
    pooled = list(hash_many([tmp_path], workers=2))
    assert serial == pooled and len(serial) == 3


def test_csv_and_json(tmp_path: Path) -> None:
    data = encode(make_image(200, 150))
    h = hash_bytes(data, "x.jpg")
    row = to_csv_row(tmp_path / "x.jpg", h)
    assert len(row) == len(CSV_HEADER)
    assert row[1:4] == [h.md5, h.sha1, h.sha256] and row[4] == h.pdq and row[5] == str(h.pdq_quality)
    other = to_csv_row("y", hash_bytes(b"", "y"))
    assert other[4:] == ["", ""]
    j = to_json("x.jpg", h)
    assert j["path"] == "x.jpg" and j["pdq"] == h.pdq and isinstance(j["pdq_dihedral"], list)
    assert j["usable_for_matching"] is True
    import json

    json.dumps(j)


def test_truncated_image_fails_even_after_a_library_relaxed_pillow(tmp_path) -> None:
    """WeasyPrint (the PDF renderer) sets LOAD_TRUNCATED_IMAGES for the whole process on import."""
    import io

    from PIL import Image, ImageFile

    from ringtrace.media.hashing import hash_bytes

    buf = io.BytesIO()
    Image.effect_noise((256, 256), 40).convert("RGB").save(buf, "JPEG")
    cut = buf.getvalue()[: len(buf.getvalue()) // 2]
    before = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        h = hash_bytes(cut, "cut.jpg")
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before
    assert h.error and h.pdq is None and h.md5


def _blas_threads_in_worker() -> tuple[bool, list[int]]:
    from threadpoolctl import threadpool_info

    from ringtrace.media.hashing import limit_blas_in_worker

    limited = limit_blas_in_worker()
    return limited, [int(i["num_threads"]) for i in threadpool_info() if i.get("user_api") == "blas"]


def test_blas_limited_to_one_thread_in_pool_workers_only() -> None:
    from concurrent.futures import ProcessPoolExecutor

    from ringtrace.media.hashing import limit_blas_in_worker

    assert limit_blas_in_worker() is False  # the test process is no pool worker
    with ProcessPoolExecutor(max_workers=1) as pool:
        limited, threads = pool.submit(_blas_threads_in_worker).result()
    assert limited is True
    assert threads and all(n == 1 for n in threads)

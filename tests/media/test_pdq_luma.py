"""pdq_from_luma (PDQ as matrix products, pre-resize folded in) against pdqhash, Meta's C++ core."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ringtrace.media import pdq
from ringtrace.media.hashing import hash_bytes
from ringtrace.media.images import open_checked, pdq_luma, pdq_pixels
from ringtrace.media.pdq import _lanczos_matrix, hamming, pdq_from_luma, pdq_from_rgb
from tests.media.helpers import encode, make_image

LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[:, :, 0] * LUMA[0] + rgb[:, :, 1] * LUMA[1] + rgb[:, :, 2] * LUMA[2]


@pytest.mark.parametrize(("w", "h"), [(512, 512), (300, 200), (64, 64), (97, 511), (33, 40)])
def test_agrees_with_pdqhash_with_all_dihedral_hashes(w: int, h: int) -> None:
    rgb = np.asarray(make_image(w, h, seed=w + h))
    ref = pdq_from_rgb(rgb)
    ours = pdq_from_luma(_luma(rgb))
    assert abs(ours.quality - ref.quality) <= 1
    # Float summation order differs from the C++: a coefficient at the median may flip, no more.
    dists = [hamming(a, b) for a, b in zip(ours.dihedral, ref.dihedral, strict=True)]
    assert max(dists) <= 4, dists


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", "P"])
def test_small_image_luma_is_the_per_channel_formula_bit_for_bit(mode: str) -> None:
    """The plane up to 512 px is the 8-bit channels' float32 R*.299 + G*.587 + B*.114 exactly (the hashes of
    every small image depend on its bits, not on how the products are scheduled)."""
    img = make_image(301, 203, seed=11).convert(mode)
    want = _luma(np.asarray(img.convert("RGB"), dtype=np.uint8))
    got = pdq_luma(open_checked(encode(img, "PNG")))
    assert got.dtype == np.float32 and np.array_equal(got, want)


def test_dihedral_hashes_are_distinct_transforms() -> None:
    res = pdq_from_luma(_luma(np.asarray(make_image(400, 300, seed=3))))
    assert len(res.dihedral) == 8 and res.dihedral[0] == res.hash
    assert len(set(res.dihedral)) == 8


def test_lanczos_matrix_matches_pillow_float_resize() -> None:
    img = np.random.default_rng(1).uniform(0, 255, (600, 800)).astype(np.float32)
    pil = np.asarray(Image.fromarray(img, "F").resize((512, 512), Image.Resampling.LANCZOS))
    ours = _lanczos_matrix(600, 512) @ img @ _lanczos_matrix(800, 512).T
    assert np.abs(pil - ours).max() < 1e-3


@pytest.mark.parametrize(("w", "h"), [(1600, 1200), (1200, 1600), (4000, 3000), (700, 513)])
def test_fused_jpeg_path_close_to_reference_shaped_pipeline(w: int, h: int) -> None:
    """Draft Y plane + resize folded into the hash vs full decode, RGB Lanczos 512x512, pdqhash."""
    img = make_image(w, h, seed=w // 7 + h)
    data = encode(img, "JPEG", quality=90)
    ref = pdq_from_rgb(np.asarray(img.resize((512, 512), Image.Resampling.LANCZOS))).hash
    plane = pdq_luma(open_checked(data))
    assert plane.shape[0] < h or h <= 1024  # drafted below full size for the big ones
    got = hash_bytes(data, "p.jpg")
    assert got.pdq == pdq_from_luma(plane, presize=True, source=(h, w)).hash
    assert hamming(got.pdq, ref) <= 8


@pytest.mark.parametrize(("w", "h"), [(3000, 2250), (2250, 3000), (700, 525), (2001, 1501)])
def test_draft_side_not_a_multiple_of_the_scale_keeps_its_geometry(w: int, h: int) -> None:
    """2250 rows at 1/8 decode to 282 samples, the last one's block running past the image (libjpeg rounds up):
    stretching the 282 samples over the image's 2250 rows misplaces them (4-8 bits from the reference-shaped
    pipeline on these images); resampled over the 281.25 samples the image spans, every one is within 2."""
    dists = []
    for seed in range(4):
        img = make_image(w, h, seed=seed + w)
        ref = pdq_from_rgb(np.asarray(img.resize((512, 512), Image.Resampling.LANCZOS))).hash
        dists.append(hamming(hash_bytes(encode(img, "JPEG", quality=90), "p.jpg").pdq or "", ref))
    assert max(dists) <= 2, dists


def test_draft_scale_is_libjpegs_rounding_up() -> None:
    assert [pdq.draft_scale(2250, n) for n in (2250, 1125, 563, 282)] == [1, 2, 4, 8]
    with pytest.raises(ValueError, match="no JPEG DCT scale"):
        pdq.draft_scale(2250, 281)


def test_big_png_keeps_pillow_resize_like_before() -> None:
    data = encode(make_image(1100, 700, seed=5).convert("1"), "PNG")
    old = pdq_from_rgb(pdq_pixels(open_checked(data))).hash
    plane = pdq_luma(open_checked(data))
    assert plane.shape == (512, 512)
    assert hamming(pdq_from_luma(plane).hash, old) <= 4


@pytest.mark.parametrize(("w", "h", "mode"), [(1600, 1200, "RGB"), (700, 513, "RGBA"), (1200, 1600, "RGB")])
def test_big_colour_png_takes_the_fused_resample(w: int, h: int, mode: str) -> None:
    """A big colour image that is not a JPEG: its full-size 8-bit luma, the 512 resample folded into the hash, close to
    both Pillow's 512x512 resize and the reference-shaped pipeline (RGB Lanczos 512x512, pdqhash)."""
    img = make_image(w, h, seed=w + h).convert(mode)
    data = encode(img, "PNG")
    plane = pdq_luma(open_checked(data))
    assert plane.shape == (h, w) and plane.dtype == np.uint8
    got = hash_bytes(data, "p.png").pdq or ""
    assert got == pdq_from_luma(plane, presize=True).hash
    grey = img.convert("RGB").convert("L").resize((512, 512), Image.Resampling.LANCZOS)
    assert hamming(got, pdq_from_luma(np.asarray(grey, dtype=np.uint8)).hash) <= 4
    ref = pdq_from_rgb(np.asarray(img.convert("RGB").resize((512, 512), Image.Resampling.LANCZOS))).hash
    assert hamming(got, ref) <= 8


@pytest.mark.parametrize(("w", "h", "mode"), [(900, 700, "P"), (900, 700, "1"), (1754, 1240, "L"),
                                             (900, 700, "LA"), (2100, 600, "RGB")])
def test_hard_edged_or_very_big_non_jpeg_keeps_pillow_resize(w: int, h: int, mode: str) -> None:
    """Bilevel, palette and grey images (scans and line art: hard edges overshoot an unclipped resample) and sides
    past the banded product are resized to 512x512 by Pillow before the hash."""
    data = encode(make_image(w, h, seed=7).convert(mode), "PNG")
    plane = pdq_luma(open_checked(data))
    assert plane.shape == (512, 512)
    assert hash_bytes(data, "p.png").pdq == pdq_from_luma(plane).hash


def test_tiny_and_bad_shapes() -> None:
    res = pdq_from_luma(np.zeros((4, 100), dtype=np.float32))
    assert res.quality == 0 and res.hash == "0" * 64 and len(res.dihedral) == 8
    with pytest.raises(ValueError, match="HxW"):
        pdq_from_luma(np.zeros((10, 10, 3), dtype=np.float32))


def test_huge_plane_in_row_blocks_matches_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """Row blocking (bounded float copies) gives the same hash as one product."""
    rng = np.random.default_rng(2)
    plane = (rng.uniform(0, 255, (2500, 600)) * np.linspace(0, 1, 600)).astype(np.uint8)
    blocked = pdq_from_luma(plane)
    monkeypatch.setattr(pdq, "_ROW_BLOCK", 10_000)
    whole = pdq_from_luma(plane)
    assert hamming(blocked.hash, whole.hash) <= 2 and blocked.quality == whole.quality


def test_flat_image_low_quality() -> None:
    data = encode(Image.new("RGB", (800, 600), (90, 90, 90)), "JPEG")
    h = hash_bytes(data, "flat.jpg")
    assert h.pdq_quality == 0 and h.error is None


def test_draft_floor_decodes_12mp_at_one_eighth_and_stays_near_reference() -> None:
    img = make_image(4000, 3000, seed=11)
    data = encode(img, "JPEG", quality=90)
    plane = pdq_luma(open_checked(data))
    assert plane.shape == (375, 500)  # 1/8 DCT scale: both sides >= JPEG_DRAFT_MIN
    wide = pdq_luma(open_checked(data), draft_min=512)
    assert wide.shape == (750, 1000)
    ref = pdq_from_rgb(np.asarray(img.resize((512, 512), Image.Resampling.LANCZOS))).hash
    got = hash_bytes(data, "big.jpg").pdq or ""
    assert hamming(got, ref) <= 8
    # Without the resample to 512 the reduced plane would be hashed at its own size: the flag must matter.
    assert pdq.pdq_from_luma(plane, presize=True).hash == got


def test_matrix_cache_is_bounded_by_bytes() -> None:
    cache = pdq._ByteBoundedCache(max_bytes=3 * 64 * 1000 * 4)  # three 64 x 1000 float32 matrices
    built: list[int] = []

    def build(n: int) -> tuple[np.ndarray, ...]:
        built.append(n)
        return (np.zeros((64, n), dtype=np.float32),)

    for n in (1000, 1000, 1000):
        cache.get((n, False), lambda n=n: build(n))
    assert built == [1000] and cache.hits == 2
    for n in range(990, 1000):
        cache.get((n, False), lambda n=n: build(n))
    assert cache.nbytes <= cache.max_bytes and len(cache) == 3
    cache.get((1000, False), lambda: build(1000))  # evicted long ago: built again
    assert built[-1] == 1000 and cache.misses == 12
    huge = cache.get((10**6, False), lambda: build(10**6))  # bigger than the bound: returned, not kept
    assert huge[0].shape == (64, 10**6) and cache.nbytes <= cache.max_bytes


def test_process_cache_holds_many_photo_sizes() -> None:
    pdq._CACHE.clear()
    sizes = [(1600 + 8 * k, 1200 + 4 * k) for k in range(80)]  # 80 distinct sizes, 160 axis lengths
    for w, h in sizes:
        pdq_from_luma(np.zeros((h // 4, w // 4), dtype=np.uint8), presize=True)
    before = pdq._CACHE.misses
    for w, h in sizes:
        pdq_from_luma(np.zeros((h // 4, w // 4), dtype=np.uint8), presize=True)
    assert pdq._CACHE.misses == before  # all still cached
    assert pdq._CACHE.nbytes <= pdq.MATRIX_CACHE_BYTES


def test_a_plane_no_dct_scale_of_its_header_is_an_error_not_a_crash(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    """Should a decoder hand back a plane whose size is no DCT scale of the header's (hostile or odd files), the
    file keeps its digests and gets a reason, named by file, instead of stopping the worker."""
    import ringtrace.media.hashing as hashing

    data = encode(make_image(1600, 1200, seed=9), "JPEG", quality=90)
    monkeypatch.setattr(hashing, "pdq_luma", lambda img, limits: np.zeros((301, 400), dtype=np.uint8))
    f = tmp_path / "odd.jpg"
    f.write_bytes(data)
    got = hashing.hash_file(f)
    assert got.md5 and got.sha256 and got.pdq is None and (got.width, got.height) == (1600, 1200)
    assert got.error is not None and got.error.startswith(f"{f}: ") and "no JPEG DCT scale" in got.error

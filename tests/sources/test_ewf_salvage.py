"""Reading an E01 chunk by chunk (ringtrace.disk.ewf_salvage) when libewf cannot: the whole image gives the media
libewf gives; a damaged chunk ends the readable part there (its checksum says so); what is no E01 is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringtrace.synth.formats.disk_image import VolumeSpec, build_disk, missing_tools, sample_files

pyewf = pytest.importorskip("pyewf", reason="the 'disk' extra is not installed")


def _e01(tmp: Path, compressed: bool) -> Path:
    vols = [VolumeSpec("ext4", sample_files(3))]
    if missing_tools(vols, None, "ewf"):
        pytest.skip("Debian tools to build the synthetic image are missing")
    return build_disk(tmp, vols, None, "ewf", segment_mib=None if compressed else 64).image


@pytest.mark.parametrize("compressed", [True, False])
def test_a_whole_image_salvages_to_the_media_libewf_reads(tmp_path: Path, compressed: bool) -> None:
    from ringtrace.disk.ewf_salvage import SalvagedEwf

    e01 = _e01(tmp_path, compressed)
    h = pyewf.handle()
    h.open([str(e01)])
    media = h.read_buffer_at_offset(h.get_media_size(), 0)
    h.close()
    sv = SalvagedEwf([e01])
    try:
        assert sv.readable == sv.media_size == len(media) and sv.report.stopped == "every declared chunk found"
        assert sv.read(0, sv.readable) == media and sv.read(12_345, 70_000) == media[12_345:82_345]
        assert sv.read(sv.media_size, 10) == b""
    finally:
        sv.close()


def test_a_damaged_chunk_ends_the_readable_part_and_reads_past_it_fail(tmp_path: Path) -> None:
    from ringtrace.disk.ewf_salvage import SalvagedEwf

    e01 = _e01(tmp_path, compressed=False)  # chunks stored as they are, each followed by its Adler-32
    data = bytearray(e01.read_bytes())
    sectors = data.find(b"sectors")
    first = sectors + 76  # the first chunk, after the section descriptor
    data[first + 3 * (32768 + 4) + 100] ^= 0xFF  # a byte of chunk 3 changed
    bad = tmp_path / "bad.E01"
    bad.write_bytes(bytes(data))
    sv = SalvagedEwf([bad])
    try:
        assert sv.readable == 3 * 32768 and "chunk 3 (media byte 98304)" in sv.report.stopped
        assert "fails its checksum" in sv.report.stopped
        with pytest.raises(OSError, match="past the readable part"):
            sv.read(98_000, 1000)
        sv.lenient = True  # for probing a table's backup copy only: zeros past the cut
        assert sv.read(98_300, 8)[4:] == bytes(4)
    finally:
        sv.close()


def test_what_is_no_e01_is_refused(tmp_path: Path) -> None:
    from ringtrace.disk.ewf_salvage import SalvagedEwf, SalvageError

    p = tmp_path / "x.E01"
    p.write_bytes(b"EVF2\r\n\x81\x00" + bytes(100))
    with pytest.raises(SalvageError, match="EWF2"):
        SalvagedEwf([p])
    with pytest.raises(SalvageError, match="no segment"):
        SalvagedEwf([])

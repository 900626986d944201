"""Fax TIFFs written and read by the simulator are real Class F-like files."""

from __future__ import annotations

import pytest
from PIL import Image

from freeswitch.sim.fax import (
    FAX_WIDTH,
    FaxFileError,
    FaxPage,
    fax_image_resolution_ppm,
    read_fax_tiff,
    write_fax_tiff,
)


def test_multi_page_fine_fax_round_trip(tmp_path):
    out = write_fax_tiff(tmp_path / "out" / "invoice.tif",
                         ["Invoice 1001\nTotal 99.00", "Page two", "Page three"], fine=True)
    doc = read_fax_tiff(out)
    assert doc.page_count == 3
    assert [p.width for p in doc.pages] == [FAX_WIDTH] * 3
    assert all(p.bilevel and p.compression == "group4" for p in doc.pages)
    assert (doc.x_resolution, doc.y_resolution) == (204, 196)
    assert 2200 < doc.pages[0].height < 2400          # A4 at fine resolution
    assert doc.fine


def test_normal_resolution_group3_fax(tmp_path):
    out = write_fax_tiff(tmp_path / "n.tif", ["hello"], fine=False, compression="group3")
    doc = read_fax_tiff(out)
    assert doc.compression == "group3"
    assert (doc.x_resolution, doc.y_resolution) == (204, 98)
    assert 1100 < doc.pages[0].height < 1200
    assert not doc.fine


def test_rendered_text_is_black_ink_on_white_page(tmp_path):
    out = write_fax_tiff(tmp_path / "t.tif", ["ORDER 42"])
    with Image.open(out) as im:
        im = im.convert("L")
        assert im.getpixel((5, 5)) == 255                          # white paper
        box = im.crop((60, 60, 600, 140))
        assert box.getextrema()[0] == 0                            # some black ink
    assert out.read_bytes()[:4] in (b"II*\x00", b"MM\x00*")


def test_each_page_has_its_own_ifd_with_ccitt_compression(tmp_path):
    out = write_fax_tiff(tmp_path / "p.tif", ["a", "b"])
    with Image.open(out) as im:
        seen = []
        for i in range(im.n_frames):
            im.seek(i)
            seen.append((im.tag_v2[259], im.tag_v2[256], im.tag_v2[258]))
    assert seen == [(4, FAX_WIDTH, (1,)), (4, FAX_WIDTH, (1,))]


def test_resolution_strings_match_freeswitch(tmp_path):
    fine = read_fax_tiff(write_fax_tiff(tmp_path / "f.tif", ["x"], fine=True))
    normal = read_fax_tiff(write_fax_tiff(tmp_path / "s.tif", ["x"], fine=False))
    assert fax_image_resolution_ppm(fine) == "8040x7700"      # traced value
    assert fax_image_resolution_ppm(normal) == "8040x3850"
    assert fax_image_resolution_ppm(FaxPage(1728, 2200, 200, 200, "group4", True)) == "7874x7874"
    assert fax_image_resolution_ppm(FaxPage(1728, 2200, 150, 150, "group4", True)) == "5906x5906"


def test_non_tiff_file_raises_clear_error(tmp_path):
    bad = tmp_path / "fax.tif"
    bad.write_bytes(b"%PDF-1.4 not a tiff")
    with pytest.raises(FaxFileError, match="not a TIFF"):
        read_fax_tiff(bad)


def test_png_is_not_a_fax_tiff(tmp_path):
    png = tmp_path / "x.png"
    Image.new("1", (10, 10)).save(png)
    with pytest.raises(FaxFileError, match="not a TIFF"):
        read_fax_tiff(png)


def test_truncated_tiff_raises_corrupt_error(tmp_path):
    good = write_fax_tiff(tmp_path / "g.tif", ["text " * 20, "more"])
    data = good.read_bytes()
    bad = tmp_path / "cut.tif"
    bad.write_bytes(data[: len(data) // 3])
    with pytest.raises(FaxFileError):
        read_fax_tiff(bad)


def test_missing_file_raises(tmp_path):
    with pytest.raises(FaxFileError, match="no such fax file"):
        read_fax_tiff(tmp_path / "nope.tif")


def test_write_needs_pages(tmp_path):
    with pytest.raises(ValueError):
        write_fax_tiff(tmp_path / "e.tif", [])

"""Fax documents without a switch: rendering (PDF + TIFF-F), conversion of received TIFFs, their failures."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from PIL import Image

from freeswitch.sim.fax import read_fax_tiff, write_fax_tiff
from messaging.fax_convert import FaxConversionError, convert_received_fax
from messaging.fax_render import FAX_WIDTH, FaxRenderError, find_font, render_fax_document, wrap


def test_rendered_document_is_a_g4_tiff_at_fax_resolution_and_a_pdf_of_the_same_pages(tmp_path):
    text = "\n".join(f"{1000 + i}  刀具套装 Knife set {i}  199.00" for i in range(70))
    files = render_fax_document(text, tmp_path, "doc", title="商品目录 Catalogue", compression="group4")
    doc = read_fax_tiff(files.tiff)  # the simulator's txfax reads it the way spandsp would
    assert doc.page_count == files.pages == 2
    assert {(p.width, round(p.x_dpi), round(p.y_dpi), p.compression, p.bilevel) for p in doc.pages} == \
        {(FAX_WIDTH, 204, 196, "group4", True)}
    assert files.pdf.read_bytes().startswith(b"%PDF-") and files.pdf.read_bytes().count(b"/Type /Page\n") == 2
    if shutil.which("tiffinfo"):
        out = subprocess.run(["tiffinfo", str(files.tiff)], capture_output=True, text=True, check=True).stdout
        assert out.count("Compression Scheme: CCITT Group 4") == 2


def test_group3_on_request_and_empty_or_badly_configured_documents_are_refused(tmp_path):
    g3 = render_fax_document("hello", tmp_path, "g3", compression="group3")
    assert read_fax_tiff(g3.tiff).compression == "group3"
    with pytest.raises(FaxRenderError, match="empty"):
        render_fax_document("  ", tmp_path, "empty")
    with pytest.raises(FaxRenderError, match="group3 or group4"):
        render_fax_document("x", tmp_path, "bad", compression="lzw")
    with pytest.raises(FaxRenderError, match="does not exist"):
        find_font("/no/such/font.ttf")


def test_wrapping_keeps_words_and_breaks_chinese_anywhere():
    from PIL import ImageFont

    font = ImageFont.load_default()
    lines = wrap("alpha beta gamma delta " * 10 + "\n" + "中文" * 200, font, 400)
    assert all(font.getlength(line) <= 400 for line in lines)
    assert all(" alph" not in line[-6:] for line in lines)  # no word cut in two
    assert "".join(lines).count("中文") == 200


def test_received_normal_resolution_fax_converts_with_square_pixels(tmp_path):
    tif = write_fax_tiff(tmp_path / "in.tif", ["Order 42", "page 2", "page 3"], fine=False, compression="group3")
    converted = convert_received_fax(tif, tmp_path / "store", "abc")
    assert converted.pages == 3 and converted.tiff.read_bytes() == tif.read_bytes()
    with Image.open(converted.thumbnail) as thumb:
        assert thumb.format == "PNG" and thumb.height > thumb.width  # an A4 page, not a squashed one
    if shutil.which("pdfinfo"):
        out = subprocess.run(["pdfinfo", str(converted.pdf)], capture_output=True, text=True, check=True).stdout
        assert "Pages:           3" in out and "x 84" in out  # A4-ish height (842 pt), not half of it


@pytest.mark.parametrize("damage", ["missing", "empty", "png", "truncated"])
def test_unreadable_received_files_give_a_clear_reason(tmp_path, damage):
    good = write_fax_tiff(tmp_path / "good.tif", ["some text " * 30])
    bad = tmp_path / "bad.tif"
    data = good.read_bytes()
    if damage == "empty":
        bad.write_bytes(b"")
    elif damage == "png":
        Image.new("1", (10, 10)).save(bad, format="PNG")
    elif damage == "truncated":
        bad.write_bytes(data[: len(data) // 3])
    with pytest.raises(FaxConversionError) as error:
        convert_received_fax(bad, tmp_path / "store", "x")
    reason = error.value.reason
    expected = {"missing": "does not exist", "empty": "is empty", "png": "is not a TIFF file (PNG)",
                "truncated": "corrupt"}[damage]
    assert expected in reason, reason
    assert not (tmp_path / "store" / "x.pdf").exists()

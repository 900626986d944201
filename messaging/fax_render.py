"""Fax documents: page text laid out on A4, kept as a PDF and written as the TIFF that ``txfax`` sends.

The pages are drawn once, at fax resolution (1728 pixels across at 204 dpi,
196 lines per inch: "fine"), in black on white, with a CJK font when one is
installed (``fonts-wqy-microhei``; else Pillow's own font, which has no
Chinese glyphs). From that one raster come both files:

* the PDF (square pixels: rows scaled by 204/196) -- the document of record,
  shown in the admin UI and attached to e-mail;
* the TIFF -- one CCITT Group 4 (T.6) or Group 3 (T.4) page per directory,
  204x196 dpi, 1728 wide: what spandsp's ``t4_tx`` reads. Pillow writes
  bilevel TIFFs min-is-black; spandsp reads the photometric tag and flips
  the bits itself, and libtiff's tools read the file as G3/G4 at fax resolution.

No rasteriser for arbitrary PDFs is needed: the PDF is made from the pages,
not the pages from a PDF. Pure Pillow, no Twisted: the dispatcher calls it in
a thread.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, TiffImagePlugin

FAX_WIDTH = 1728
X_DPI, Y_DPI = 204, 196
A4_HEIGHT = round(297 / 25.4 * Y_DPI)  # 2292 rows
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 120, 140, 140
BODY_SIZE, TITLE_SIZE = 34, 52
LINE_GAP = 14

#: fonts tried in order when none is configured (Debian paths)
FONT_CANDIDATES = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
                   "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
                   "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                   "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


class FaxRenderError(Exception):
    """The document could not be rendered (no pages, bad compression, unwritable folder)."""


@dataclass(frozen=True)
class FaxFiles:
    """A rendered fax document."""

    tiff: Path
    pdf: Path
    pages: int


def find_font(path: str | None = None) -> str | None:
    """The configured font, else the first installed candidate (a CJK one if present)."""
    if path:
        if not os.path.isfile(path):
            raise FaxRenderError(f"fax font {path} does not exist")
        return path
    return next((p for p in FONT_CANDIDATES if os.path.isfile(p)), None)


def _font(path: str | None, size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    if path:
        return ImageFont.truetype(path, size)
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType
        return ImageFont.load_default()


def wrap(text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Lines no wider than ``width`` pixels: words kept whole, CJK broken between any two characters."""
    out: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for token in _tokens(paragraph):
            candidate = line + token
            if line and font.getlength(candidate) > width:
                out.append(line.rstrip())
                line = token.lstrip()
                while font.getlength(line) > width and len(line) > 1:  # one word longer than the line
                    cut = max(1, int(len(line) * width / font.getlength(line)))
                    out.append(line[:cut])
                    line = line[cut:]
            else:
                line = candidate
        out.append(line.rstrip())
    return out


def _tokens(text: str) -> list[str]:
    """Words with their trailing space, and every CJK character on its own."""
    tokens: list[str] = []
    word = ""
    for ch in text:
        if ord(ch) >= 0x2E80:  # CJK and wide punctuation: a break is allowed around each
            if word:
                tokens.append(word)
                word = ""
            tokens.append(ch)
        elif ch == " ":
            tokens.append(word + " ")
            word = ""
        else:
            word += ch
    if word:
        tokens.append(word)
    return tokens


def layout_pages(title: str | None, text: str, font_path: str | None = None) -> list[Image.Image]:
    """The document as bilevel A4 pages at 204x196 dpi."""
    body_font, title_font = _font(font_path, BODY_SIZE), _font(font_path, TITLE_SIZE)
    width = FAX_WIDTH - 2 * MARGIN_X
    lines = [(line, body_font) for line in wrap(text, body_font, width)]
    if title:
        lines = [(line, title_font) for line in wrap(title, title_font, width)] + [("", body_font)] + lines
    pages: list[Image.Image] = []
    page = draw = None
    y = 0
    for line, font in lines:
        height = (TITLE_SIZE if font is title_font else BODY_SIZE) + LINE_GAP
        if page is None or y + height > A4_HEIGHT - MARGIN_BOTTOM:
            page = Image.new("L", (FAX_WIDTH, A4_HEIGHT), 255)
            draw = ImageDraw.Draw(page)
            pages.append(page)
            y = MARGIN_TOP
        assert draw is not None
        draw.text((MARGIN_X, y), line, font=font, fill=0)
        y += height
    return [p.point(lambda v: 255 if v >= 160 else 0).convert("1") for p in pages]


def write_tiff(pages: list[Image.Image], path: Path, compression: str = "group4") -> Path:
    """The pages as a multi-page CCITT TIFF at 204x196 dpi (written to a temp file, then renamed)."""
    if compression not in ("group3", "group4"):
        raise FaxRenderError(f"fax compression must be group3 or group4, not {compression!r}")
    if not pages:
        raise FaxRenderError("a fax needs at least one page")
    tmp = path.with_name(path.name + ".part")
    with TiffImagePlugin.AppendingTiffWriter(str(tmp), True) as tiff:
        for page in pages:
            page.save(tiff, format="TIFF", compression=compression, dpi=(X_DPI, Y_DPI))
            tiff.newFrame()
    os.replace(tmp, path)
    return path


def write_pdf(pages: list[Image.Image], path: Path, y_dpi: float = Y_DPI, x_dpi: float = X_DPI) -> Path:
    """The pages as a PDF with square pixels (rows scaled by x_dpi / y_dpi)."""
    if not pages:
        raise FaxRenderError("a PDF needs at least one page")
    square = [p if abs(y_dpi - x_dpi) < 0.5 else
              p.resize((p.width, round(p.height * x_dpi / y_dpi)), Image.Resampling.NEAREST) for p in pages]
    tmp = path.with_name(path.name + ".part")
    square[0].save(tmp, format="PDF", save_all=True, append_images=square[1:], resolution=float(x_dpi))
    os.replace(tmp, path)
    return path


def render_fax_document(text: str, dest_dir: str | os.PathLike, name: str, *, title: str | None = None,
                        font_path: str | None = None, compression: str = "group4") -> FaxFiles:
    """Lay out ``text`` (and ``title``) and write ``<name>.pdf`` and ``<name>.tif`` in ``dest_dir``."""
    if not (text or "").strip() and not (title or "").strip():
        raise FaxRenderError("nothing to fax: the document is empty")
    folder = Path(dest_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FaxRenderError(f"cannot create {folder}: {exc}") from exc
    pages = layout_pages(title, text, find_font(font_path))
    tiff = write_tiff(pages, folder / f"{name}.tif", compression)
    pdf = write_pdf(pages, folder / f"{name}.pdf")
    return FaxFiles(tiff, pdf, len(pages))

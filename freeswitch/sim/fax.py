"""Real fax TIFF files for the simulator's ``txfax`` / ``rxfax``.

mod_spandsp sends and receives TIFF Class F-like files: bilevel pages 1728
pixels wide (A4/Letter at R8), CCITT Group 3 or Group 4 compressed, 204 dpi
across and 98 (normal) or 196 (fine) dpi down, one IFD per page. The
simulator must read the file an outbound fax job hands to ``txfax`` (and
fail it the way a real switch would when the file is not a fax TIFF), and
must write a genuine multi-page TIFF where ``rxfax`` was told to, so that the
inbound-fax path of the engine handles the same bytes it gets in production.
It also reports page geometry in spandsp's terms: ``fax-image-resolution``
is in pixels per metre, snapped to the T.4 resolution codes ("8040x7700" for
204x196 dpi, as traced from a real FreeSWITCH 1.11.1).

Uses Pillow (with its libtiff) for CCITT coding; no Twisted, no sockets.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageSequence, UnidentifiedImageError

__all__ = [
    "FAX_WIDTH",
    "FaxDocument",
    "FaxFileError",
    "FaxPage",
    "fax_image_resolution_ppm",
    "read_fax_tiff",
    "write_fax_tiff",
]

FAX_WIDTH = 1728
"""Pixels per row of an A4/Letter page at R8 (204 dpi): what T.4 requires."""

_X_DPI = 204
_FINE_Y_DPI, _NORMAL_Y_DPI = 196, 98
_A4_INCHES = 297 / 25.4
_MARGIN = 80
_METRE = 1 / 0.0254        # dpi -> pixels per metre

# spandsp's T.4 resolution codes, in pixels per metre, keyed by nominal dpi.
_X_CODES = {100: 3937, 102: 4020, 200: 7874, 204: 8040, 300: 11811, 400: 15748,
            408: 16080, 600: 23622, 1200: 47244}
_Y_CODES = {98: 3850, 100: 3937, 196: 7700, 200: 7874, 300: 11811, 391: 15400,
            400: 15748, 600: 23622, 800: 31496, 1200: 47244}

_TIFF_COMPRESSION = {1: "none", 2: "ccitt_rle", 3: "group3", 4: "group4", 5: "lzw",
                     7: "jpeg", 8: "deflate", 32773: "packbits", 32946: "deflate"}


class FaxFileError(Exception):
    """The file is not a readable fax TIFF (missing, not TIFF, or corrupt)."""


@dataclass(frozen=True)
class FaxPage:
    """Geometry of one page (one TIFF IFD)."""

    width: int
    height: int
    x_dpi: float
    y_dpi: float
    compression: str      # "group3", "group4", "none", ...
    bilevel: bool


@dataclass(frozen=True)
class FaxDocument:
    """A fax TIFF as spandsp would see it: its pages in order."""

    path: Path
    pages: tuple[FaxPage, ...]

    @property
    def page_count(self) -> int:
        """Number of pages (``fax_document_total_pages``)."""
        return len(self.pages)

    @property
    def width(self) -> int:
        """Pixel width of the first page."""
        return self.pages[0].width

    @property
    def x_resolution(self) -> float:
        """Horizontal dpi of the first page."""
        return self.pages[0].x_dpi

    @property
    def y_resolution(self) -> float:
        """Vertical dpi of the first page."""
        return self.pages[0].y_dpi

    @property
    def compression(self) -> str:
        """Compression of the first page."""
        return self.pages[0].compression

    @property
    def fine(self) -> bool:
        """True when the first page is fine resolution (about 196 dpi down)."""
        return self.pages[0].y_dpi > 150


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError):   # Pillow without FreeType: bitmap font
        return ImageFont.load_default()


def _render_page(text: str, fine: bool) -> Image.Image:
    """One A4 page: black text on white, drawn at fine resolution and squeezed for normal."""
    height = round(_A4_INCHES * _FINE_Y_DPI)
    page = Image.new("1", (FAX_WIDTH, height), 1)
    draw = ImageDraw.Draw(page)
    font = _font(32)
    y = _MARGIN
    for line in text.splitlines() or [""]:
        draw.text((_MARGIN, y), line, font=font, fill=0)
        y += 44
        if y > height - _MARGIN:
            break
    if not fine:
        page = page.resize((FAX_WIDTH, round(_A4_INCHES * _NORMAL_Y_DPI)), Image.Resampling.NEAREST)
    return page


def write_fax_tiff(path: str | os.PathLike, pages: list[str], fine: bool = True,
                   compression: str = "group4") -> Path:
    """Render each page's text into a multi-page CCITT (group3/group4) fax TIFF at ``path``."""
    if not pages:
        raise ValueError("a fax needs at least one page")
    if compression not in ("group3", "group4"):
        raise ValueError("compression must be 'group3' or 'group4'")
    images = [_render_page(text, fine) for text in pages]
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    dpi = (_X_DPI, _FINE_Y_DPI if fine else _NORMAL_Y_DPI)
    images[0].save(tmp, format="TIFF", compression=compression, dpi=dpi,
                   save_all=True, append_images=images[1:])
    os.replace(tmp, dest)
    return dest


def _dpi(value, unit: int) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return 0.0
    return v * 2.54 if unit == 3 else v          # 3 = centimetre


def read_fax_tiff(path: str | os.PathLike) -> FaxDocument:
    """Read page geometry of a fax TIFF, decoding every page; raise FaxFileError if unusable."""
    p = Path(path)
    if not p.is_file():
        raise FaxFileError(f"{p}: no such fax file")
    pages: list[FaxPage] = []
    try:
        with warnings.catch_warnings(record=True), Image.open(p) as im:  # corrupt tags warn, then fail
            if im.format != "TIFF":
                raise FaxFileError(f"{p}: not a TIFF file (found {im.format})")
            for frame in ImageSequence.Iterator(im):
                frame.load()                        # decode now: truncated data fails here
                tags = frame.tag_v2
                unit = int(tags.get(296, 2))
                pages.append(FaxPage(
                    width=frame.width,
                    height=frame.height,
                    x_dpi=_dpi(tags.get(282, 0), unit),
                    y_dpi=_dpi(tags.get(283, 0), unit),
                    compression=_TIFF_COMPRESSION.get(int(tags.get(259, 1)), str(tags.get(259))),
                    bilevel=frame.mode == "1",
                ))
    except FaxFileError:
        raise
    except UnidentifiedImageError as exc:
        raise FaxFileError(f"{p}: not a TIFF file") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise FaxFileError(f"{p}: corrupt TIFF ({exc})") from exc
    if not pages:
        raise FaxFileError(f"{p}: TIFF without pages")
    return FaxDocument(p, tuple(pages))


def _snap(dpi: float, codes: dict[int, int]) -> int:
    """spandsp's code for the nearest nominal resolution (within 5%), else the exact ppm."""
    if dpi <= 0:
        return 0
    nominal = min(codes, key=lambda d: abs(d - dpi))
    if min(nominal, dpi) / max(nominal, dpi) >= 0.95:
        return codes[nominal]
    return round(dpi * _METRE)


def fax_image_resolution_ppm(doc: FaxDocument | FaxPage) -> str:
    """FreeSWITCH's ``fax-image-resolution`` string, e.g. ``"8040x7700"`` for 204x196 dpi."""
    page = doc.pages[0] if isinstance(doc, FaxDocument) else doc
    return f"{_snap(page.x_dpi, _X_CODES)}x{_snap(page.y_dpi, _Y_CODES)}"

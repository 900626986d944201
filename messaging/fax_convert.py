"""A received fax TIFF made readable: kept as is, turned into a PDF and a first-page thumbnail.

Every page is decoded (a truncated or corrupt file fails here, with the
reason, instead of producing a PDF that ends early). Pages at normal
resolution (98 lines per inch) are stretched to square pixels so the PDF
shows them in proportion. Pure Pillow; the fax inbox calls it in a thread.
"""

from __future__ import annotations

import os
import shutil
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageSequence, UnidentifiedImageError

from messaging.fax_render import write_pdf

THUMBNAIL_SIZE = (240, 340)


class FaxConversionError(Exception):
    """The received file is missing, not a TIFF, or corrupt; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ConvertedFax:
    """The filed copies of a received fax."""

    tiff: Path
    pdf: Path
    thumbnail: Path
    pages: int


def _dpi(frame: Image.Image) -> tuple[float, float]:
    tags = frame.tag_v2  # type: ignore[attr-defined]
    unit = int(tags.get(296, 2))
    factor = 2.54 if unit == 3 else 1.0
    x = float(tags.get(282, 204) or 204) * factor
    y = float(tags.get(283, x) or x) * factor
    return x, y


def read_pages(path: Path) -> tuple[list[Image.Image], float, float]:
    """Every page decoded as a bilevel image, with the first page's dpi; FaxConversionError otherwise."""
    if not path.is_file():
        raise FaxConversionError(f"the received file {path} does not exist")
    if path.stat().st_size == 0:
        raise FaxConversionError(f"the received file {path} is empty")
    pages: list[Image.Image] = []
    try:
        with warnings.catch_warnings(record=True), Image.open(path) as image:
            if image.format != "TIFF":
                raise FaxConversionError(f"{path.name} is not a TIFF file ({image.format})")
            x_dpi, y_dpi = _dpi(image)
            for frame in ImageSequence.Iterator(image):
                frame.load()  # decode now: truncated page data fails here
                pages.append(frame.convert("1") if frame.mode != "1" else frame.copy())
    except FaxConversionError:
        raise
    except UnidentifiedImageError:
        raise FaxConversionError(f"{path.name} is not a readable TIFF (corrupt or truncated)") from None
    except (OSError, ValueError, SyntaxError, EOFError, struct.error) as exc:
        raise FaxConversionError(f"{path.name} is a corrupt TIFF: {exc}") from None
    if not pages:
        raise FaxConversionError(f"{path.name} has no pages")
    return pages, x_dpi, y_dpi


def convert_received_fax(source: str | os.PathLike, dest_dir: str | os.PathLike, name: str) -> ConvertedFax:
    """Copy the TIFF to ``dest_dir/<name>.tif`` and write ``<name>.pdf`` and ``<name>.png`` beside it."""
    src = Path(source)
    pages, x_dpi, y_dpi = read_pages(src)
    folder = Path(dest_dir)
    folder.mkdir(parents=True, exist_ok=True)
    tiff = folder / f"{name}.tif"
    if src.resolve() != tiff.resolve():
        shutil.copyfile(src, tiff)
    pdf = write_pdf(pages, folder / f"{name}.pdf", y_dpi=y_dpi, x_dpi=x_dpi)
    first = pages[0].convert("L")
    if abs(y_dpi - x_dpi) >= 0.5:
        first = first.resize((first.width, round(first.height * x_dpi / y_dpi)))
    first.thumbnail(THUMBNAIL_SIZE)
    thumbnail = folder / f"{name}.png"
    first.save(thumbnail, format="PNG")
    return ConvertedFax(tiff, pdf, thumbnail, len(pages))

"""Previews for the review screen: a PNG of a stored document, rendered on the server.

An image is scaled down (never up) to fit ``max_width`` x ``max_height``; a PDF's first page is rendered with
PDFium (pypdfium2) at the scale that fits the same box, at most ``MAX_PDF_SCALE`` (a tiny page is not blown up
into a huge bitmap). The file was checked at intake; the bounds here still hold for anything in the storage.
"""

from __future__ import annotations

import io
import threading

import pypdfium2
from django.conf import settings
from PIL import Image

from apps.kyc.errors import FileCorrupt
from apps.kyc.intake import pixel_cap
from apps.kyc.storage import open_document

MAX_PDF_SCALE = 4.0  # 288 dpi
# PDFium is not thread-safe: one rendering at a time per process.
_PDFIUM = threading.Lock()


def preview_png(
    name_or_bytes: str | bytes, kind: str, *, max_width: int = 1200, max_height: int | None = None
) -> bytes:
    """A PNG at most ``max_width`` wide and ``max_height`` (default twice the width) high of a stored document
    (its storage name) or of its bytes."""
    data = open_document(name_or_bytes) if isinstance(name_or_bytes, str) else name_or_bytes
    box = (max(1, max_width), max(1, max_height or 2 * max_width))
    if kind == "pdf":
        image = _pdf_first_page(data, box)
    elif kind in ("jpeg", "png"):
        image = _image(data, kind, box)
    else:
        raise ValueError(f"no preview for kind {kind!r}")
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)
    return out.getvalue()


def _image(data: bytes, kind: str, box: tuple[int, int]) -> Image.Image:
    with (
        pixel_cap(int(settings.KYC_MAX_IMAGE_PIXELS)),
        Image.open(io.BytesIO(data), formats=["JPEG" if kind == "jpeg" else "PNG"]) as source,
    ):
        source.draft("RGB", box)  # a JPEG decodes at 1/2, 1/4 or 1/8 scale when that still covers the box
        image = source.convert("RGBA" if source.mode in ("RGBA", "LA", "PA") else "RGB")
    image.thumbnail(box, Image.Resampling.LANCZOS)
    return image


def _pdf_first_page(data: bytes, box: tuple[int, int]) -> Image.Image:
    with _PDFIUM:
        try:
            document = pypdfium2.PdfDocument(data)
        except pypdfium2.PdfiumError as exc:
            raise FileCorrupt("The PDF cannot be rendered.") from exc
        try:
            if len(document) == 0:
                raise FileCorrupt("The PDF has no pages.")
            page = document[0]
            try:
                width, height = page.get_size()  # points, after the page's rotation
                if width <= 0 or height <= 0:
                    raise FileCorrupt("The PDF's first page has no size.")
                scale = min(box[0] / width, box[1] / height, MAX_PDF_SCALE)
                bitmap = page.render(scale=scale, draw_annots=True)
                try:
                    image = bitmap.to_pil().convert("RGB")
                finally:
                    bitmap.close()
            finally:
                page.close()
        finally:
            document.close()
    image.thumbnail(box)  # rounding may leave a pixel over
    return image

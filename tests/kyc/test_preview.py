"""Previews of stored documents for the review screen (apps/kyc/preview.py)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from apps.kyc import storage
from apps.kyc.intake import validate_upload
from apps.kyc.preview import preview_png
from tests.kyc import documents


def png_of(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image


def test_it_renders_a_pdf_s_first_page_to_a_png_of_sane_size(kyc_files: Path) -> None:
    name = storage.store(validate_upload(documents.pdf(pages=3)))

    image = png_of(preview_png(name, "pdf"))

    # an A4 page (595 x 842 points) fitted to 1200 wide
    assert image.width == 1200 and abs(image.height - 1698) <= 2
    rgb = image.convert("RGB")
    assert rgb.getpixel((600, 849))[0] > 200 and rgb.getpixel((600, 849))[1] < 40  # the red picture
    assert rgb.getpixel((20, 20)) == (255, 255, 255)  # the white margin


def test_it_does_not_blow_a_tiny_pdf_page_up_into_a_huge_bitmap() -> None:
    tiny = documents.blank_pdf()
    tiny.pages[0].mediabox.upper_right = (10, 10)
    image = png_of(preview_png(documents.written(tiny), "pdf"))
    assert image.size == (40, 40)  # at most 4x (288 dpi)


def test_it_fits_a_very_long_pdf_page_in_the_box() -> None:
    strip = documents.blank_pdf()
    strip.pages[0].mediabox.upper_right = (200, 14_000)
    image = png_of(preview_png(documents.written(strip), "pdf", max_width=600))
    assert image.height <= 1200 and image.width <= 600


def test_it_scales_an_image_down_to_a_png(kyc_files: Path) -> None:
    name = storage.store(validate_upload(documents.jpeg(3000, 2000)))

    image = png_of(preview_png(name, "jpeg"))

    assert image.size == (1200, 800)
    assert image.convert("RGB").getpixel((1100, 700))[0] > 180  # red, away from the blue corner


def test_it_never_scales_a_small_image_up() -> None:
    assert png_of(preview_png(documents.png(48, 24), "png", max_width=800)).size == (48, 24)


def test_it_renders_a_rotated_pdf_page_as_it_is_shown() -> None:
    turned = documents.blank_pdf()
    turned.pages[0].rotate(90)
    assert png_of(preview_png(documents.written(turned), "pdf")).size == (1200, 848)  # landscape

"""Document intake (apps/kyc/intake.py) with real documents and real malformed ones. Every refusal goes through
what the upload service does (validate, then store) and leaves the storage folder empty."""

from __future__ import annotations

import hashlib
import io
import random
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from PIL import Image, ImageCms, ImageFile
from PIL.ExifTags import IFD
from pypdf import PdfReader

from apps.core.errors import ApplicationError
from apps.kyc import storage
from apps.kyc.errors import FileCorrupt, FileTooLarge, FileTypeNotAllowed
from apps.kyc.intake import STORED_NAME, ValidatedFile, generated_name, validate_upload
from tests.kyc import documents
from tests.kyc.conftest import stored_files

MB = 1024 * 1024


def intake(data: Any, **declared: Any) -> tuple[ValidatedFile, str]:
    """What the upload service does: validate, then store."""
    validated = validate_upload(data, **declared)
    return validated, storage.store(validated)


def refused(kyc_files: Path, data: Any, error: type[Exception], **declared: Any) -> Exception:
    with pytest.raises(error) as caught:
        intake(data, **declared)
    assert stored_files(kyc_files) == []
    if isinstance(caught.value, ApplicationError):
        assert caught.value.message and caught.value.code == error.code  # type: ignore[attr-defined]
    return caught.value


# ACCEPTED ---------------------------------------------------------------------------------------------------


def test_it_stores_a_phone_photo_without_its_gps_position_and_turned_upright(kyc_files: Path) -> None:
    upload = documents.jpeg_with_gps(64, 32)
    assert Image.open(io.BytesIO(upload)).getexif().get_ifd(IFD.GPSInfo)  # the upload does carry it

    validated, name = intake(upload, declared_name="IMG_0001.JPG", declared_type="image/jpeg")

    assert (validated.kind, validated.content_type, validated.extension) == ("jpeg", "image/jpeg", "jpg")
    assert STORED_NAME.fullmatch(name) and name.endswith(".jpg")
    stored = storage.open_document(name)
    assert stored == validated.content != upload
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG"
    assert dict(image.getexif()) == {} and "exif" not in image.info and "comment" not in image.info
    for trace in (b"PitbossPhone", b"Model GPS-1", b"taken at home", b"Exif"):
        assert trace not in stored
    # orientation 6: the 64x32 sensor image is stored 32 wide and 64 high, its blue corner now top-right
    assert image.size == (32, 64) == (validated.width, validated.height)
    red, _, blue = image.convert("RGB").getpixel((28, 3))
    assert blue > 200 and red < 60
    assert validated.sha256 == hashlib.sha256(stored).hexdigest() and validated.size == len(stored)
    assert validated.declared_name == "IMG_0001.JPG"


def test_it_stores_a_png_without_its_text_chunks(kyc_files: Path) -> None:
    validated, name = intake(documents.png(48, 24))

    stored = storage.open_document(name)
    image = Image.open(io.BytesIO(stored))
    assert (validated.kind, image.format, image.size) == ("png", "PNG", (48, 24))
    assert b"Jane Player" not in stored and b"Home Street" not in stored and image.info.get("Author") is None
    assert image.convert("RGB").getpixel((10, 10)) == (20, 160, 20)


def test_it_keeps_a_png_s_transparency(kyc_files: Path) -> None:
    validated, _ = intake(documents.png(8, 8, mode="RGBA"))
    assert Image.open(io.BytesIO(validated.content)).getpixel((1, 1)) == (20, 160, 20, 128)


def test_it_stores_a_pdf_rewritten_with_its_page_count(kyc_files: Path) -> None:
    validated, name = intake(documents.pdf(pages=2), declared_name="statement.pdf")

    assert (validated.kind, validated.content_type, validated.pages) == ("pdf", "application/pdf", 2)
    assert name.endswith(".pdf")
    assert len(PdfReader(io.BytesIO(storage.open_document(name))).pages) == 2


def test_it_accepts_a_pdf_that_opens_at_its_first_page(kyc_files: Path) -> None:
    validated, _ = intake(documents.pdf_opening_at_page_one())
    assert validated.pages == 1


def test_it_ignores_the_name_a_pdf_renamed_png_is_stored_as_the_pdf_it_is(kyc_files: Path) -> None:
    validated, name = intake(documents.pdf(), declared_name="passport.png", declared_type="image/png")

    assert (validated.kind, validated.extension, validated.content_type) == ("pdf", "pdf", "application/pdf")
    assert name.endswith(".pdf")


def test_it_generates_the_stored_name_a_path_traversal_name_has_no_effect(kyc_files: Path, tmp_path: Path) -> None:
    validated, name = intake(documents.jpeg(), declared_name="../../etc/passwd.jpg")

    assert STORED_NAME.fullmatch(name) and ".." not in name and "passwd" not in name
    (only,) = stored_files(kyc_files)
    assert only.resolve().is_relative_to(kyc_files.resolve()) and only.relative_to(kyc_files).as_posix() == name
    assert not any(path.name == "passwd.jpg" for path in tmp_path.rglob("*"))
    assert validated.declared_name == "passwd.jpg"  # for display only


def test_it_names_files_by_year_month_and_a_random_id() -> None:
    first, second = generated_name("pdf"), generated_name("pdf")
    assert first != second and STORED_NAME.fullmatch(first) and first.endswith(".pdf")
    assert generated_name("jpeg").endswith(".jpg") and generated_name("png").endswith(".png")


# POLYGLOTS --------------------------------------------------------------------------------------------------


def test_it_stores_a_jpeg_polyglot_as_a_clean_image_without_the_pdf_and_the_zip(kyc_files: Path) -> None:
    upload = documents.polyglot_jpeg()
    assert b"%PDF" in upload and b"PK\x03\x04" in upload

    validated, name = intake(upload)

    stored = storage.open_document(name)
    assert validated.kind == "jpeg" and stored != upload
    assert b"%PDF" not in stored and b"PK\x03\x04" not in stored and b"payload.exe" not in stored
    assert Image.open(io.BytesIO(stored)).size == (64, 32)


def test_it_drops_a_zip_and_a_pdf_hidden_in_a_jpeg_s_comment_and_colour_profile(kyc_files: Path) -> None:
    hidden = documents.zip_archive() + documents.pdf()
    upload = documents.jpeg(comment=hidden, icc_profile=b"PK\x03\x04" + hidden)

    validated, _ = intake(upload)

    assert b"PK\x03\x04" not in validated.content and b"%PDF" not in validated.content
    assert "icc_profile" not in Image.open(io.BytesIO(validated.content)).info


def test_it_keeps_the_colours_of_a_photo_with_a_colour_profile_in_srgb(kyc_files: Path) -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    validated, _ = intake(documents.jpeg(colour=(200, 30, 30), icc_profile=srgb))
    red, green, _ = Image.open(io.BytesIO(validated.content)).getpixel((60, 30))
    assert red > 180 and green < 60


@pytest.mark.parametrize(
    ("mode", "value", "fmt", "stored_mode", "pixel"),
    [("CMYK", (0, 255, 255, 0), "JPEG", "RGB", (254, 0, 0)), ("I;16", 40_000, "PNG", "L", 156)],
    ids=["cmyk-jpeg", "16-bit-grey-png"],
)
def test_it_reencodes_print_and_scanner_colour_modes(
    kyc_files: Path, mode: str, value: Any, fmt: str, stored_mode: str, pixel: Any
) -> None:
    out = io.BytesIO()
    Image.new(mode, (20, 10), value).save(out, format=fmt)
    stored = Image.open(io.BytesIO(validate_upload(out.getvalue()).content))
    assert stored.mode == stored_mode and stored.getpixel((5, 5)) == pixel


def test_it_stores_a_pdf_without_what_was_appended_after_its_end(kyc_files: Path) -> None:
    upload = documents.pdf() + documents.zip_archive()

    validated, name = intake(upload)

    stored = storage.open_document(name)
    assert validated.kind == "pdf" and b"PK\x03\x04" not in stored and b"payload.exe" not in stored


def test_it_refuses_a_jpeg_start_whose_image_is_not_there(kyc_files: Path) -> None:
    upload = b"\xff\xd8\xff\xe0" + documents.pdf() + documents.zip_archive()
    assert refused(kyc_files, upload, FileCorrupt).code == "file_corrupt"  # type: ignore[attr-defined]


# REFUSED ----------------------------------------------------------------------------------------------------


def test_it_refuses_a_truncated_jpeg(kyc_files: Path) -> None:
    whole = documents.jpeg(200, 100)
    error = refused(kyc_files, whole[: len(whole) // 2], FileCorrupt)
    assert error.code == "file_corrupt" and "damaged or incomplete" in error.message  # type: ignore[attr-defined]


def test_it_refuses_to_run_with_pillow_s_truncated_image_leniency_on(monkeypatch: Any, kyc_files: Path) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    whole = documents.jpeg(200, 100)
    refused(kyc_files, whole[: len(whole) // 2], ImproperlyConfigured)


def test_it_refuses_a_png_with_a_broken_checksum(kyc_files: Path) -> None:
    upload = bytearray(documents.png())
    upload[29] ^= 0xFF  # inside IHDR's CRC
    refused(kyc_files, bytes(upload), FileCorrupt)


@pytest.mark.parametrize(
    "upload",
    [documents.elf_executable(), documents.pe_executable(), documents.zip_archive()],
    ids=["elf", "pe", "zip"],
)
def test_it_refuses_an_executable_or_archive_renamed_jpg(kyc_files: Path, upload: bytes) -> None:
    error = refused(kyc_files, upload, FileTypeNotAllowed, declared_name="selfie.jpg", declared_type="image/jpeg")
    assert error.code == "file_type_not_allowed" and error.status == 415  # type: ignore[attr-defined]


def test_it_refuses_garbage(kyc_files: Path) -> None:
    garbage = random.Random(14).randbytes(4096)
    assert refused(kyc_files, garbage, FileTypeNotAllowed).code == "file_type_not_allowed"  # type: ignore[attr-defined]


def test_it_refuses_an_empty_file(kyc_files: Path) -> None:
    error = refused(kyc_files, b"", FileCorrupt, declared_name="passport.jpg")
    assert error.message == "The file is empty."  # type: ignore[attr-defined]


def test_it_refuses_a_12_mb_file(kyc_files: Path) -> None:
    upload = documents.jpeg() + bytes(12 * MB)
    error = refused(kyc_files, upload, FileTooLarge)
    assert (error.code, error.status) == ("file_too_large", 413)  # type: ignore[attr-defined]
    assert "10 MB" in error.message  # type: ignore[attr-defined]


def test_it_reads_no_more_than_one_byte_past_the_limit_of_an_endless_upload(kyc_files: Path) -> None:
    upload = documents.EndlessUpload()
    refused(kyc_files, upload, FileTooLarge)
    assert upload.read_bytes == 10 * MB + 1


def test_it_refuses_an_upload_whose_size_is_known_to_be_too_large_without_reading_it(kyc_files: Path) -> None:
    upload = documents.EndlessUpload()
    upload.size = 12 * MB  # type: ignore[attr-defined]  # Django's UploadedFile says it
    refused(kyc_files, upload, FileTooLarge)
    assert upload.read_bytes == 0


def test_it_takes_the_limit_from_settings(settings: Any, kyc_files: Path) -> None:
    settings.KYC_MAX_UPLOAD_BYTES = 1000
    upload = documents.EndlessUpload()
    refused(kyc_files, upload, FileTooLarge)
    assert upload.read_bytes == 1001
    validated, _ = intake(io.BytesIO(documents.png()))  # a file-like object below the limit
    assert validated.kind == "png"


def test_it_refuses_a_decompression_bomb(kyc_files: Path) -> None:
    bomb = documents.png_bomb(30_000)
    assert len(bomb) < 200_000  # small on disk: 900 million pixels once decoded
    error = refused(kyc_files, bomb, FileCorrupt)
    assert "pixels" in error.message  # type: ignore[attr-defined]


def test_it_refuses_an_image_just_over_the_pixel_cap(settings: Any, kyc_files: Path) -> None:
    settings.KYC_MAX_IMAGE_PIXELS = 10_000
    refused(kyc_files, documents.jpeg(150, 100), FileCorrupt)  # 15,000 pixels: between the cap and twice it
    validated, _ = intake(documents.jpeg(100, 100))
    assert validated.width == 100


def test_it_leaves_pillow_s_process_wide_pixel_cap_as_it_found_it(settings: Any, kyc_files: Path) -> None:
    before = Image.MAX_IMAGE_PIXELS
    settings.KYC_MAX_IMAGE_PIXELS = 10_000
    refused(kyc_files, documents.jpeg(300, 100), FileCorrupt)  # above twice the cap: Pillow's own error
    intake(documents.jpeg(50, 50))
    assert before == Image.MAX_IMAGE_PIXELS


def test_it_refuses_an_encrypted_pdf(kyc_files: Path) -> None:
    error = refused(kyc_files, documents.encrypted_pdf(), FileCorrupt)
    assert "encrypted" in error.message  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "make",
    [
        documents.pdf_with_open_action_js,
        documents.pdf_with_names_js,
        documents.pdf_with_page_aa,
        documents.pdf_with_open_action_launch,
    ],
    ids=["open-action-javascript", "names-javascript", "page-additional-actions", "open-action-launch"],
)
def test_it_refuses_a_pdf_with_javascript_or_actions(kyc_files: Path, make: Any) -> None:
    error = refused(kyc_files, make(), FileCorrupt)
    assert "JavaScript" in error.message  # type: ignore[attr-defined]


def test_it_refuses_a_pdf_with_an_attached_file(kyc_files: Path) -> None:
    error = refused(kyc_files, documents.pdf_with_attachment(), FileCorrupt)
    assert "attached" in error.message  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "upload",
    [b"%PDF-1.7\n" + random.Random(7).randbytes(2000), documents.pdf()[:400]],
    ids=["garbage-after-header", "truncated"],
)
def test_it_refuses_an_unparsable_pdf(kyc_files: Path, upload: bytes) -> None:
    refused(kyc_files, upload, FileCorrupt)


def test_it_refuses_a_pdf_with_too_many_pages(settings: Any, kyc_files: Path) -> None:
    settings.KYC_MAX_PDF_PAGES = 3
    error = refused(kyc_files, documents.written(documents.blank_pdf(pages=4)), FileCorrupt)
    assert "4 pages" in error.message  # type: ignore[attr-defined]


def test_it_answers_only_its_own_codes_to_mangled_documents(kyc_files: Path) -> None:
    """Seeded mutations of real documents (bytes flipped, cut, inserted): each is stored clean or refused with
    one of the three codes, never an unexpected exception."""
    rnd = random.Random(14)
    seeds = [documents.jpeg_with_gps(), documents.png(), documents.pdf(), documents.pdf_opening_at_page_one()]
    outcomes: set[str] = set()
    for _ in range(300):
        upload = bytearray(rnd.choice(seeds))
        for _ in range(rnd.randint(1, 6)):
            at = rnd.randrange(8, len(upload))
            action = rnd.random()
            if action < 0.5:
                upload[at] = rnd.randrange(256)
            elif action < 0.75:
                del upload[at : at + rnd.randint(1, 64)]
            else:
                upload[at:at] = rnd.randbytes(rnd.randint(1, 64))
        try:
            validated = validate_upload(bytes(upload))
        except (FileCorrupt, FileTypeNotAllowed) as refusal:
            outcomes.add(refusal.code)
        else:
            outcomes.add(f"stored {validated.kind}")
            assert bytes(upload) != validated.content  # what is stored is never the upload
    assert {"file_corrupt", "stored jpeg", "stored pdf"} <= outcomes

"""Document intake: what an upload must be before anything of it is stored.

An upload is untrusted bytes. Nothing about it is believed: not its name, not its declared type, not its size
header. It is read up to ``KYC_MAX_UPLOAD_BYTES`` + 1 bytes (never more, whatever the stream holds), its type is
sniffed from the content (``filetype``), and only JPEG, PNG and PDF go further:

- an image is decoded in full with Pillow (its format forced to the sniffed one, its pixel count capped before
  decoding, truncation an error) and *re-encoded*: what is stored is new pixels in a new file, with the EXIF
  orientation applied and every piece of metadata (EXIF with its GPS position, XMP, comments, text chunks, an ICC
  profile, anything appended after the image) left behind;
- a PDF is parsed with pypdf and refused when encrypted, when anything in it can run (JavaScript, launch actions,
  additional actions, XFA), when it carries attached files, or when it has no page or too many; what is stored
  is pypdf's re-written copy, which holds only the objects reachable from the document's root (bytes appended to
  the file, older revisions and unreferenced objects are gone).

So a polyglot (a valid image start with a PDF, a zip or an executable inside) ends either as a clean image or
as a refusal: the uploaded bytes themselves are never stored. The stored name is generated (``generated_name``).
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Literal

import filetype
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from PIL import Image, ImageCms, ImageFile, ImageOps

from apps.core.errors import ApplicationError
from apps.kyc.errors import FileCorrupt, FileTooLarge, FileTypeNotAllowed

Kind = Literal["jpeg", "png", "pdf"]

# sniffed MIME type -> (kind, stored content type, stored extension)
ACCEPTED: dict[str, tuple[Kind, str, str]] = {
    "image/jpeg": ("jpeg", "image/jpeg", "jpg"),
    "image/png": ("png", "image/png", "png"),
    "image/apng": ("png", "image/png", "png"),  # an animated PNG: its first frame is kept
    "application/pdf": ("pdf", "application/pdf", "pdf"),
}
EXTENSIONS: dict[str, str] = {"jpeg": "jpg", "png": "png", "pdf": "pdf"}
CONTENT_TYPES: dict[str, str] = {"jpeg": "image/jpeg", "png": "image/png", "pdf": "application/pdf"}
_PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG"}
_READ_CHUNK = 64 * 1024
_SRGB = ImageCms.createProfile("sRGB")


@dataclass(frozen=True)
class ValidatedFile:
    """An upload that passed intake: ``content`` is what will be stored (re-encoded or re-written, never the
    upload's own bytes), described by the other fields."""

    content: bytes
    kind: Kind
    content_type: str
    extension: str
    sha256: str  # of ``content``
    size: int  # of ``content``
    upload_sha256: str  # of the bytes received, for the audit trail
    upload_size: int
    pages: int | None = None  # PDF
    width: int | None = None  # images, after the EXIF orientation
    height: int | None = None
    declared_name: str = ""  # the upload's own name, cleaned, for display only: never a path, never stored as one


def validate_upload(
    data: bytes | bytearray | memoryview | IO[bytes],
    *,
    declared_name: str | None = None,
    declared_type: str | None = None,
) -> ValidatedFile:
    """Check an upload and return what may be stored, or raise ``FileTooLarge`` (413), ``FileTypeNotAllowed``
    (415) or ``FileCorrupt`` (400) with a message for the person who sent it.

    ``data`` is the bytes or a binary file-like object read from its current position (a Django
    ``UploadedFile`` works as it is). ``declared_name`` and ``declared_type`` are what the client said; neither
    decides anything (the type is sniffed, the stored name generated): the name is only kept, cleaned, for display.
    """
    del declared_type  # accepted so callers can pass what they have; the content alone decides
    limit = int(settings.KYC_MAX_UPLOAD_BYTES)
    raw = read_bounded(data, limit)
    if not raw:
        raise FileCorrupt("The file is empty.")
    kind, content_type, extension = sniff(raw)
    width = height = pages = None
    if kind == "pdf":
        from apps.kyc.pdfs import clean_pdf  # pypdf on first use: a worker that never sees a PDF boots faster

        content, pages = clean_pdf(raw, max_pages=int(settings.KYC_MAX_PDF_PAGES))
    else:
        content, width, height = clean_image(raw, kind)
    return ValidatedFile(
        content=content,
        kind=kind,
        content_type=content_type,
        extension=extension,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        upload_sha256=hashlib.sha256(raw).hexdigest(),
        upload_size=len(raw),
        pages=pages,
        width=width,
        height=height,
        declared_name=display_name(declared_name),
    )


def read_bounded(data: bytes | bytearray | memoryview | IO[bytes], limit: int) -> bytes:
    """The upload's bytes, reading at most ``limit`` + 1 of them: one byte past the limit is enough to refuse."""
    too_large = file_too_large(limit)
    if isinstance(data, bytes | bytearray | memoryview):
        if len(data) > limit:
            raise too_large
        return bytes(data)
    declared_size = getattr(data, "size", None)  # Django's UploadedFile knows it; refuse without reading
    if isinstance(declared_size, int) and declared_size > limit:
        raise too_large
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = data.read(min(_READ_CHUNK, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > limit:
        raise too_large
    return b"".join(chunks)


def sniff(raw: bytes) -> tuple[Kind, str, str]:
    """(kind, content type, extension) from the content's own signature; anything else is refused."""
    guess = filetype.guess(raw)
    accepted = ACCEPTED.get(guess.mime) if guess is not None else None
    if accepted is None:
        found = f" (it looks like {guess.mime})" if guess is not None else ""
        raise FileTypeNotAllowed(f"Only JPEG, PNG and PDF files are accepted{found}.")
    return accepted


def clean_image(raw: bytes, kind: Kind) -> tuple[bytes, int, int]:
    """Decode the image in full and re-encode its pixels alone: (new file, width, height)."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Something turned on Pillow's process-wide leniency: a truncated file would be padded, not refused.
        raise ImproperlyConfigured("PIL.ImageFile.LOAD_TRUNCATED_IMAGES is on: KYC intake refuses to run with it")
    max_pixels = int(settings.KYC_MAX_IMAGE_PIXELS)
    formats = [_PILLOW_FORMATS[kind]]
    try:
        with pixel_cap(max_pixels), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # Pillow's notes on damaged EXIF: it is dropped anyway
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=formats) as probe:
                _refuse_bomb(probe.size, max_pixels)
                probe.verify()  # structure and checksums (PNG CRCs), without decoding
            with Image.open(io.BytesIO(raw), formats=formats) as image:
                _refuse_bomb(image.size, max_pixels)
                image.load()  # every pixel: a truncated or undecodable file fails here
                return _reencode(image, kind)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise FileCorrupt(_bomb_message(max_pixels)) from exc
    except (ApplicationError, ImproperlyConfigured):
        raise
    except Exception as exc:  # Pillow raises many types on malformed input (OSError, SyntaxError, ValueError...)
        raise FileCorrupt(f"The image cannot be read ({type(exc).__name__}): it is damaged or incomplete.") from exc


@contextmanager
def pixel_cap(max_pixels: int) -> Iterator[None]:
    """Pillow's own bomb check (a warning above the cap, an error above twice it, raised while the header is
    read) at our cap for this decoding, and back to what it was after: the setting is Pillow's process-wide
    ``Image.MAX_IMAGE_PIXELS``, which other code in the process (demo data, reports) must not inherit."""
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _refuse_bomb(size: tuple[int, int], max_pixels: int) -> None:
    if size[0] * size[1] > max_pixels:
        raise FileCorrupt(_bomb_message(max_pixels))


def _bomb_message(max_pixels: int) -> str:
    return f"The image has more than {max_pixels:,} pixels: send a smaller photo or scan."


def _reencode(image: Image.Image, kind: Kind) -> tuple[bytes, int, int]:
    try:
        oriented = ImageOps.exif_transpose(image)  # a copy, turned as the camera meant it
    except Exception:  # a damaged EXIF block: the pixels are still good, and the EXIF is dropped anyway
        oriented = image.copy()
    icc = oriented.info.get("icc_profile")
    if icc:
        # The colours are brought to sRGB and the profile itself is dropped (it is an arbitrary blob).
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            target_mode = "RGBA" if oriented.mode in ("RGBA", "LA", "PA") else "RGB"
            if oriented.mode not in ("RGB", "RGBA", "CMYK", "L", "LA"):
                oriented = oriented.convert(target_mode)
            converted = ImageCms.profileToProfile(oriented, source, _SRGB, outputMode=target_mode)
            if converted is not None:
                oriented = converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unusable profile: the pixels as they are
    if oriented.mode.startswith("I"):  # 16-bit grey (scanners): to 8 bits by value, not by clipping at 255
        oriented = oriented.convert("I").point(lambda value: value / 256).convert("L")
    if kind == "jpeg":
        mode = "L" if oriented.mode in ("1", "L") else "RGB"
    elif oriented.mode in ("RGBA", "LA", "PA") or "transparency" in oriented.info:
        mode = "RGBA"
    else:
        mode = "L" if oriented.mode in ("1", "L") else "RGB"
    pixels = oriented.convert(mode) if oriented.mode != mode else oriented
    # A fresh image holds pixels and nothing else: no info, no EXIF, no palette, no text chunks.
    clean = Image.new(mode, pixels.size)
    clean.paste(pixels)
    out = io.BytesIO()
    if kind == "jpeg":
        clean.save(out, format="JPEG", quality=90, optimize=True)
    else:
        clean.save(out, format="PNG", compress_level=6)
    return out.getvalue(), clean.width, clean.height


def generated_name(kind: str, *, now: datetime | None = None) -> str:
    """``kyc/<yyyy>/<mm>/<uuid4 hex>.<ext>``: the stored name, never derived from the upload."""
    now = now or timezone.now()
    return f"kyc/{now:%Y}/{now:%m}/{uuid.uuid4().hex}.{EXTENSIONS[kind]}"


STORED_NAME = re.compile(r"^kyc/\d{4}/\d{2}/[0-9a-f]{32}\.(jpg|png|pdf)$")


def display_name(declared: str | None) -> str:
    """The declared name's last part, printable characters only, at most 100: for showing, never as a path."""
    if not declared:
        return ""
    last = re.split(r"[\\/]", declared)[-1]
    printable = "".join(ch for ch in last if ch.isprintable()).strip().lstrip(".")
    return printable[:100]


def file_too_large(limit: int) -> FileTooLarge:
    return FileTooLarge(f"The file is larger than {limit / (1024 * 1024):g} MB: send a smaller scan or photo.")

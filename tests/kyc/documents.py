"""Real documents and real malformed ones, made in the tests (no binary fixtures)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from PIL import Image, ImageDraw
from PIL.ExifTags import GPS, IFD, Base
from PIL.PngImagePlugin import PngInfo
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

# The camera's position, as a photo taken on a phone carries it: 35°53'55" N, 14°30'45" E (Valletta).
GPS_LATITUDE = (35.0, 53.0, 55.0)
GPS_LONGITUDE = (14.0, 30.0, 45.0)


def jpeg(width: int = 64, height: int = 32, *, colour: tuple[int, int, int] = (200, 30, 30), **save: object) -> bytes:
    image = Image.new("RGB", (width, height), colour)
    ImageDraw.Draw(image).rectangle((0, 0, width // 4, height // 4), fill=(0, 0, 255))  # a blue top-left corner
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90, **save)
    return out.getvalue()


def jpeg_with_gps(width: int = 64, height: int = 32) -> bytes:
    """A phone photo: EXIF with GPS, camera make and model, and orientation 6 (to be turned 90° clockwise)."""
    exif = Image.Exif()
    exif[Base.Make] = "PitbossPhone"
    exif[Base.Model] = "Model GPS-1"
    exif[Base.Orientation] = 6
    gps = exif.get_ifd(IFD.GPSInfo)
    gps[GPS.GPSLatitudeRef] = "N"
    gps[GPS.GPSLatitude] = GPS_LATITUDE
    gps[GPS.GPSLongitudeRef] = "E"
    gps[GPS.GPSLongitude] = GPS_LONGITUDE
    return jpeg(width, height, exif=exif.tobytes(), comment=b"taken at home")


def png(width: int = 48, height: int = 24, *, mode: str = "RGB") -> bytes:
    image = Image.new(mode, (width, height), (20, 160, 20) if mode == "RGB" else (20, 160, 20, 128))
    info = PngInfo()
    info.add_text("Author", "Jane Player")
    info.add_text("Comment", "scanned at 12 Home Street")
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def pdf(pages: int = 1) -> bytes:
    """A real PDF with a red picture on an A4 page (Pillow writes it; pypdf re-reads it at intake)."""
    page = Image.new("RGB", (595, 842), (255, 255, 255))
    ImageDraw.Draw(page).rectangle((100, 100, 495, 742), fill=(220, 0, 0))
    out = io.BytesIO()
    page.save(out, format="PDF", resolution=72.0, save_all=pages > 1, append_images=[page] * (pages - 1))
    return out.getvalue()


def blank_pdf(pages: int = 1) -> PdfWriter:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    return writer


def written(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted_pdf() -> bytes:
    writer = blank_pdf()
    writer.encrypt(user_password="", owner_password="owner-secret", algorithm="AES-256")
    return written(writer)


def pdf_with_open_action_js() -> bytes:
    writer = blank_pdf()
    action = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Action"),
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('hello from the upload')"),
        }
    )
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    return written(writer)


def pdf_with_names_js() -> bytes:
    """Document-level JavaScript: the catalog's /Names /JavaScript name tree (it runs when the file opens)."""
    writer = blank_pdf()
    action = writer._add_object(
        DictionaryObject(
            {
                NameObject("/S"): NameObject("/JavaScript"),
                NameObject("/JS"): TextStringObject("this.print({bUI:false});"),
            }
        )
    )
    tree = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("print"), action])})
    writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): writer._add_object(tree)})
    return written(writer)


def pdf_with_page_aa() -> bytes:
    """Additional actions on a page (run when the page opens), hidden behind an indirect /S."""
    writer = blank_pdf()
    launch = DictionaryObject(
        {NameObject("/S"): writer._add_object(NameObject("/Launch")), NameObject("/F"): TextStringObject("calc.exe")}
    )
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): writer._add_object(launch)})
    return written(writer)


def pdf_with_open_action_launch() -> bytes:
    writer = blank_pdf()
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("cmd.exe")}
    )
    return written(writer)


def pdf_with_attachment() -> bytes:
    writer = blank_pdf()
    writer.add_attachment("invoice.exe", elf_executable())
    return written(writer)


def pdf_opening_at_page_one() -> bytes:
    """What many generators write: an /OpenAction that is a destination (page 1, fit): harmless."""
    writer = blank_pdf()
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(
        DictionaryObject({NameObject("/S"): NameObject("/GoTo"), NameObject("/D"): writer.pages[0].indirect_reference})
    )
    return written(writer)


def elf_executable() -> bytes:
    """The start of a 64-bit little-endian Linux executable (ELF header fields as the linker writes them)."""
    header = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    header += struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, 0x401000, 64, 0, 0, 64, 56, 1, 64, 0, 0)
    return header + bytes(200)


def pe_executable() -> bytes:
    """A Windows executable's start: the MZ stub pointing at a PE header."""
    stub = bytearray(b"MZ" + bytes(62))
    stub[0x3C:0x40] = struct.pack("<I", 64)
    return bytes(stub) + b"PE\x00\x00" + struct.pack("<HH", 0x8664, 1) + bytes(200)


def zip_archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.exe", pe_executable())
    return out.getvalue()


def polyglot_jpeg() -> bytes:
    """A valid JPEG with a PDF and a zip (holding an executable) after its end: a viewer shows the photo, a PDF
    reader or an unzip tool finds the rest."""
    return jpeg() + pdf() + zip_archive()


def png_bomb(side: int = 30_000) -> bytes:
    """A one-colour ``side`` x ``side`` 1-bit PNG: about 100 kB on disk, ``side``² pixels once decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + b"\xff" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


class EndlessUpload:
    """A client that never stops sending (a JPEG start, then zeros): counts what intake reads of it."""

    def __init__(self) -> None:
        self.read_bytes = 0
        self.calls = 0

    def read(self, size: int = -1) -> bytes:
        assert size is not None and size >= 0, "intake asked for everything: an unbounded read"
        self.calls += 1
        head = b"\xff\xd8\xff\xe0" if self.read_bytes == 0 else b""
        chunk = (head + bytes(size))[:size]
        self.read_bytes += len(chunk)
        return chunk

"""Receiving a document upload (apps/kyc/uploads.py): in memory, and stopped at the limit."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile
from django.core.handlers.wsgi import WSGIRequest
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from PIL import Image
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request

from apps.kyc.errors import FileTooLarge
from apps.kyc.intake import validate_upload
from apps.kyc.uploads import KycUploadHandler, uploaded_file, use_kyc_upload_handler
from tests.kyc import documents
from tests.kyc.conftest import stored_files

MB = 1024 * 1024


class CountingBody(io.BytesIO):
    """A request body that counts what the server reads of it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.read_bytes = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.read_bytes += len(chunk)
        return chunk

    def readline(self, size: int | None = -1) -> bytes:
        line = super().readline(size)
        self.read_bytes += len(line)
        return line


def multipart_request(content: bytes, name: str = "passport.jpg") -> tuple[WSGIRequest, CountingBody]:
    body = encode_multipart(BOUNDARY, {"type": "passport", "file": SimpleUploadedFile(name, content, "image/jpeg")})
    stream = CountingBody(body)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/players/p-1/kyc/documents/",
        "CONTENT_TYPE": MULTIPART_CONTENT,
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": stream,
    }
    return WSGIRequest(environ), stream


def photo(megabytes: int) -> bytes:
    """A JPEG of noise (which JPEG cannot compress) of about that size."""
    side = int((megabytes * MB / 1.1) ** 0.5)
    noise = Image.frombytes("L", (side, side), random.Random(3).randbytes(side * side))
    out = io.BytesIO()
    noise.save(out, format="JPEG", quality=95)
    return out.getvalue()


def test_it_keeps_a_5_mb_upload_in_memory_and_hands_it_to_intake(kyc_files: Path) -> None:
    content = photo(5)
    assert len(content) > 2.5 * MB  # Django's default handlers would have written it to a temporary file
    request, _ = multipart_request(content, name="../../scan.jpg")
    use_kyc_upload_handler(request)

    upload = uploaded_file(request)

    assert isinstance(upload, InMemoryUploadedFile) and upload.size == len(content)
    assert request.POST["type"] == "passport"
    validated = validate_upload(upload, declared_name=upload.name, declared_type=upload.content_type)
    assert validated.kind == "jpeg" and validated.upload_size == len(content)
    assert validated.declared_name == "scan.jpg"


def test_it_stops_reading_a_12_mb_upload_just_past_the_limit(kyc_files: Path) -> None:
    request, body = multipart_request(documents.jpeg() + bytes(12 * MB))
    use_kyc_upload_handler(request)

    with pytest.raises(FileTooLarge) as caught:
        uploaded_file(request)

    assert caught.value.code == "file_too_large"
    handler = request.upload_handlers[0]
    assert isinstance(handler, KycUploadHandler)
    assert handler.buffer.getbuffer().nbytes <= 10 * MB  # never more than the limit held
    # read: the limit and Django's next 64 kB chunk (the form's other part and headers included); not the rest
    assert body.read_bytes <= 10 * MB + 2 * 64 * 1024
    assert stored_files(kyc_files) == []


def test_it_works_under_a_drf_request(settings: Any, kyc_files: Path) -> None:
    settings.KYC_MAX_UPLOAD_BYTES = 100_000
    request, _ = multipart_request(documents.png())
    drf_request = Request(request, parsers=[MultiPartParser(), FormParser()])
    use_kyc_upload_handler(drf_request)
    upload = uploaded_file(drf_request)
    assert upload is not None and validate_upload(upload).kind == "png"
    assert drf_request.data["type"] == "passport"

    too_large, _ = multipart_request(documents.png() + bytes(200_000))
    drf_too_large = Request(too_large, parsers=[MultiPartParser(), FormParser()])
    use_kyc_upload_handler(drf_too_large)
    with pytest.raises(FileTooLarge):
        uploaded_file(drf_too_large)


def test_it_answers_none_when_no_file_was_sent(kyc_files: Path) -> None:
    request, _ = multipart_request(documents.png())
    use_kyc_upload_handler(request)
    assert uploaded_file(request, field="selfie") is None

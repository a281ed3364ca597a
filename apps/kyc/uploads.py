"""Receiving a document upload: in memory, bounded, before intake (apps/kyc/intake.py) looks at it.

Django's default upload handlers keep a file of up to 2.5 MB in memory and write a larger one to a temporary
file, however large it grows: a passport scan would sit in plain text in the temporary folder, and an endless
upload would fill it. A view that receives documents installs ``KycUploadHandler`` instead (before anything
reads ``request.POST``, ``request.FILES`` or DRF's ``request.data``): each file is kept in memory up to
``KYC_MAX_UPLOAD_BYTES``, and the first chunk past it stops the parsing of the request at once. The view then
calls ``uploaded_file`` (``FileTooLarge`` if the handler stopped the upload) and hands the file to
``validate_upload``.
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

from apps.kyc.intake import file_too_large

_STOPPED = "_kyc_upload_too_large"


class KycUploadHandler(FileUploadHandler):
    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.limit = int(settings.KYC_MAX_UPLOAD_BYTES)
        self.buffer = io.BytesIO()
        self.received = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        if self.received > self.limit:
            if self.request is not None:
                setattr(self.request, _STOPPED, True)
            # connection_reset: Django does not read the rest of the body (the client is answered 413 and cut off)
            raise StopUpload(connection_reset=True)
        self.buffer.write(raw_data)

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


def _django_request(request: Any) -> HttpRequest:
    return getattr(request, "_request", request)  # DRF's Request wraps Django's


def use_kyc_upload_handler(request: Any) -> None:
    """Install the handler on a Django or DRF request; call it before the body is read."""
    django_request = _django_request(request)
    django_request.upload_handlers = [KycUploadHandler(django_request)]


def uploaded_file(request: Any, field: str = "file") -> UploadedFile | None:
    """The uploaded file in ``field`` (None if there is none), or ``FileTooLarge`` if it was stopped."""
    files = request.FILES  # parses the body through the handler if nothing has yet (DRF's Request parses its own)
    if getattr(_django_request(request), _STOPPED, False):
        raise file_too_large(int(settings.KYC_MAX_UPLOAD_BYTES))
    return files.get(field)

"""The KYC app's error codes: one class per code (docs/ERRORS.md is generated from them).

Import only apps.core.errors here: services, views and forms of every layer import this module."""

from __future__ import annotations

from apps.core.errors import ValidationFailed


class FileTooLarge(ValidationFailed):
    code = "file_too_large"
    status = 413
    when = "an uploaded document is larger than KYC_MAX_UPLOAD_BYTES (10 MB by default); nothing is kept"


class FileTypeNotAllowed(ValidationFailed):
    code = "file_type_not_allowed"
    status = 415
    when = "an uploaded document's content is not JPEG, PNG or PDF (sniffed; the name and declared type are ignored)"


class FileCorrupt(ValidationFailed):
    code = "file_corrupt"
    when = (
        "an uploaded document cannot be decoded, is a decompression bomb, or is a PDF that is encrypted, carries "
        "JavaScript or cannot be parsed; nothing is kept"
    )


class LevelInvalid(ValidationFailed):
    code = "kyc_level_invalid"
    when = "a verification level outside 0 to 3 (a requirement: 1 to 3)"

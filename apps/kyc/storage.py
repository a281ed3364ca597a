"""Where KYC documents' files live: a Django storage of their own, never reachable by URL.

``KYC_STORAGE=filesystem`` (the default) keeps them under ``KYC_FILES_ROOT``, which must lie outside
``MEDIA_ROOT`` and ``STATIC_ROOT``; ``KYC_STORAGE=s3`` keeps them in a bucket of any S3-compatible store
(django-storages), as private objects. Either way the storage's ``url()`` raises: a document is read by the
server (``open_document``) and shown to staff only through the permission-checked view that audits each viewing,
so there is no link to leak, no presigned URL to forward, no bucket policy to get wrong.

The storage is built from the ``KYC_*`` settings, not from ``STORAGES`` (the test settings replace that whole
dict), once per process and again when a test changes one of them.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import structlog
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from apps.kyc.intake import STORED_NAME, ValidatedFile, generated_name

log = structlog.get_logger(__name__)

NO_URL = "KYC documents have no URL: serve them through the permission-checked document view"


class KycFileSystemStorage(FileSystemStorage):
    """Files readable by the application's user only; never a URL."""

    def url(self, name: str | None) -> str:
        raise NotImplementedError(NO_URL)


@cache
def s3_storage_class() -> Any:  # a subclass of S3Storage, made on first use
    """Private objects (no ACL grant, no presigned URLs); never a URL. Built on first use: boto3 is not imported by
    a process (a worker, a command) whose storage is the file system."""
    from storages.backends.s3 import S3Storage

    class KycS3Storage(S3Storage):
        def url(self, name: str, parameters: Any = None, expire: Any = None, http_method: Any = None) -> str:
            raise NotImplementedError(NO_URL)

    return KycS3Storage


@cache
def kyc_storage() -> Storage:
    if settings.KYC_STORAGE == "s3":
        return s3_storage_class()(
            bucket_name=settings.KYC_S3_BUCKET,
            endpoint_url=settings.KYC_S3_ENDPOINT_URL or None,
            region_name=settings.KYC_S3_REGION or None,
            access_key=settings.KYC_S3_ACCESS_KEY_ID or None,
            secret_key=settings.KYC_S3_SECRET_ACCESS_KEY or None,
            default_acl=settings.KYC_S3_ACL or None,
            querystring_auth=False,
            file_overwrite=False,  # a generated name never collides; if one did, it would not replace a document
            location="",
            object_parameters={"ContentDisposition": "attachment"},
        )
    root = Path(settings.KYC_FILES_ROOT).resolve()
    for served in ("MEDIA_ROOT", "STATIC_ROOT"):
        other = getattr(settings, served, None)
        if other and (root == Path(other).resolve() or root.is_relative_to(Path(other).resolve())):
            raise ImproperlyConfigured(f"KYC_FILES_ROOT: {root} is inside {served}, which is served by URL")
    return KycFileSystemStorage(
        location=root, base_url=None, file_permissions_mode=0o600, directory_permissions_mode=0o700
    )


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("KYC_") or setting in ("MEDIA_ROOT", "STATIC_ROOT"):
        kyc_storage.cache_clear()


def _checked(name: str) -> str:
    # Names come from our own rows, but a name that is not one of ours is never handed to the storage.
    if not STORED_NAME.fullmatch(name):
        raise SuspiciousFileOperation(f"not a KYC document name: {name!r}")
    return name


def store(validated: ValidatedFile) -> str:
    """Write the validated content under a new generated name and return that name."""
    name = generated_name(validated.kind)
    saved = kyc_storage().save(name, ContentFile(validated.content))
    if saved != name:  # the storage picked another name: ours was taken (it cannot be, with a uuid4)
        kyc_storage().delete(saved)
        raise SuspiciousFileOperation(f"KYC storage renamed {name!r} to {saved!r}")
    return name


def open_document(name: str) -> bytes:
    with kyc_storage().open(_checked(name), "rb") as handle:
        data: bytes = handle.read()
    return data


def delete(name: str) -> None:
    kyc_storage().delete(_checked(name))


def exists(name: str) -> bool:
    return bool(kyc_storage().exists(_checked(name)))


def stored_names(folder: str = "kyc") -> Iterator[str]:
    """Every document name in the storage (walked folder by folder: ``kyc/<yyyy>/<mm>/``)."""
    try:
        folders, files = kyc_storage().listdir(folder)
    except FileNotFoundError:  # nothing stored yet (a bucket answers an empty listing instead)
        return
    for file in sorted(files):
        name = f"{folder}/{file}"
        if STORED_NAME.fullmatch(name):
            yield name
    for sub in sorted(folders):
        yield from stored_names(f"{folder}/{sub}")


# Other apps that keep validated files in this storage (a case's attachments) say which names are theirs, so the
# orphan sweep never takes a file a row of theirs names. Registered from their ``AppConfig.ready``.
FileOwner = Callable[[list[str]], set[str]]
_owners: list[FileOwner] = []


def register_file_owner(owner: FileOwner) -> FileOwner:
    if owner not in _owners:
        _owners.append(owner)
    return owner


def referenced_elsewhere(names: list[str]) -> set[str]:
    """The names a registered owner's rows hold."""
    found: set[str] = set()
    for owner in _owners:
        found |= owner(names)
    return found


def discard_orphans(
    *, referenced: Callable[[list[str]], set[str]], older_than: timedelta, now: datetime | None = None
) -> list[str]:
    """Delete the files no row names (``referenced`` answers which of a batch of names a row has) that are older
    than ``older_than``: the files of processes that died between writing and committing. ``older_than`` must
    exceed the longest transaction, so a file whose row is about to commit is left alone. Returns the names."""
    cutoff = (now or timezone.now()) - older_than
    storage = kyc_storage()
    discarded: list[str] = []
    batch: list[str] = []

    def flush() -> None:
        known = referenced(batch)
        for name in batch:
            if name not in known and storage.get_modified_time(name) < cutoff:
                storage.delete(name)
                discarded.append(name)
        batch.clear()

    for name in stored_names():
        batch.append(name)
        if len(batch) >= 500:
            flush()
    flush()
    if discarded:
        log.warning("kyc.orphan_files_discarded", count=len(discarded))
    return discarded


class _Pending:
    """The file of a transaction that has not committed yet. Django keeps this object in the connection's
    on-commit list: it is called on commit, and dropped unrun when the transaction (or the savepoint it was
    registered in) rolls back. Dropped without having been called means rolled back: the file is deleted."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.committed = [False]  # shared with the finaliser, which must not hold self
        weakref.finalize(self, _delete_unless_committed, name, self.committed)

    def __call__(self) -> None:
        self.committed[0] = True


def _delete_unless_committed(name: str, committed: list[bool]) -> None:
    if committed[0]:
        return
    try:
        delete(name)
        log.info("kyc.file_discarded", name=name, reason="transaction rolled back")
    except Exception:  # a finaliser cannot raise; the orphan is only a file nobody can reach
        log.exception("kyc.file_discard_failed", name=name)


def store_on_commit(validated: ValidatedFile, *, using: str | None = None) -> str:
    """``store`` for a service inside ``transaction.atomic``: the file is written now (so the row that names it
    is never without it once committed) and deleted again if the transaction, or the savepoint this was called
    in, rolls back. Outside a transaction there is nothing to tie the file to, so this refuses."""
    if not transaction.get_connection(using).in_atomic_block:
        raise RuntimeError("store_on_commit must be called inside transaction.atomic()")
    name = store(validated)
    transaction.on_commit(_Pending(name), using=using)
    return name

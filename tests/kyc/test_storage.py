"""The documents' storage (apps/kyc/storage.py): the filesystem by default, S3 for real against moto's standalone
server on loopback, no URL either way, and a file that follows its transaction."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.db import transaction
from django.utils import timezone

from apps.kyc import storage
from apps.kyc.intake import validate_upload
from tests.kyc import documents
from tests.kyc.conftest import stored_files


class Boom(Exception):
    pass


def test_it_stores_opens_and_deletes_on_the_filesystem_readable_by_the_application_alone(kyc_files: Path) -> None:
    validated = validate_upload(documents.pdf())

    name = storage.store(validated)

    (path,) = stored_files(kyc_files)
    assert path == kyc_files / name
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert storage.open_document(name) == validated.content and storage.exists(name)
    storage.delete(name)
    assert stored_files(kyc_files) == [] and not storage.exists(name)


def test_it_gives_no_url_for_a_document(kyc_files: Path) -> None:
    name = storage.store(validate_upload(documents.png()))
    with pytest.raises(NotImplementedError, match="no URL"):
        storage.kyc_storage().url(name)


def test_it_refuses_a_files_root_inside_media_or_static(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.KYC_FILES_ROOT = str(tmp_path / "media" / "kyc")
    with pytest.raises(ImproperlyConfigured, match="MEDIA_ROOT"):
        storage.kyc_storage()
    settings.KYC_FILES_ROOT = str(tmp_path / "kyc")
    assert storage.kyc_storage().location == str((tmp_path / "kyc").resolve())


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "kyc/2026/12/../../../x.pdf", "kyc/a.pdf"])
def test_it_opens_only_names_it_generates(kyc_files: Path, name: str) -> None:
    with pytest.raises(SuspiciousFileOperation):
        storage.open_document(name)
    with pytest.raises(SuspiciousFileOperation):
        storage.delete(name)


# S3 ---------------------------------------------------------------------------------------------------------


def test_it_stores_opens_and_deletes_in_s3_as_private_objects(kyc_s3: SimpleNamespace, kyc_files: Path) -> None:
    validated = validate_upload(documents.jpeg_with_gps())

    name = storage.store(validated)

    head = kyc_s3.client.head_object(Bucket=kyc_s3.bucket, Key=name)
    assert head["ContentLength"] == validated.size and head["ContentDisposition"] == "attachment"
    grants = kyc_s3.client.get_object_acl(Bucket=kyc_s3.bucket, Key=name)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]  # the owner alone
    assert all(grant["Grantee"].get("URI") is None for grant in grants)  # no AllUsers / AuthenticatedUsers
    assert storage.open_document(name) == validated.content
    assert stored_files(kyc_files) == []  # nothing on the local disk

    storage.delete(name)
    with pytest.raises(ClientError):
        kyc_s3.client.head_object(Bucket=kyc_s3.bucket, Key=name)


def test_it_sends_no_acl_for_a_bucket_with_acls_disabled_and_the_object_is_private_all_the_same(
    settings: Any, kyc_s3: SimpleNamespace
) -> None:
    settings.KYC_S3_ACL = ""
    name = storage.store(validate_upload(documents.png()))
    grants = kyc_s3.client.get_object_acl(Bucket=kyc_s3.bucket, Key=name)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    assert all(grant["Grantee"].get("URI") is None for grant in grants)


def test_it_gives_no_url_from_s3_either(kyc_s3: SimpleNamespace) -> None:
    name = storage.store(validate_upload(documents.png()))
    with pytest.raises(NotImplementedError, match="no URL"):
        storage.kyc_storage().url(name)


def test_it_stores_nothing_in_s3_when_intake_refuses(kyc_s3: SimpleNamespace) -> None:
    with pytest.raises(Exception, match="empty"):
        storage.store(validate_upload(b""))
    assert kyc_s3.client.list_objects_v2(Bucket=kyc_s3.bucket)["KeyCount"] == 0


# ORPHANS ----------------------------------------------------------------------------------------------------


def test_it_discards_old_files_no_row_names_and_keeps_the_rest(kyc_files: Path) -> None:
    named, orphan, fresh_orphan = (storage.store(validate_upload(documents.png())) for _ in range(3))
    two_hours_ago = (timezone.now() - timedelta(hours=2)).timestamp()
    for name in (named, orphan):
        os.utime(kyc_files / name, (two_hours_ago, two_hours_ago))
    asked: list[list[str]] = []

    def referenced(names: list[str]) -> set[str]:
        asked.append(list(names))
        return {named} & set(names)

    assert storage.discard_orphans(referenced=referenced, older_than=timedelta(hours=1)) == [orphan]
    assert sorted(asked[0]) == sorted([named, orphan, fresh_orphan])
    assert storage.exists(named) and storage.exists(fresh_orphan) and not storage.exists(orphan)


def test_it_discards_orphans_in_s3_too(kyc_s3: SimpleNamespace) -> None:
    named, orphan = (storage.store(validate_upload(documents.png())) for _ in range(2))
    later = timezone.now() + timedelta(hours=2)

    discarded = storage.discard_orphans(referenced=lambda names: {named}, older_than=timedelta(hours=1), now=later)

    assert discarded == [orphan]
    assert [item["Key"] for item in kyc_s3.client.list_objects_v2(Bucket=kyc_s3.bucket)["Contents"]] == [named]


def test_it_has_no_orphans_in_an_empty_storage(kyc_files: Path) -> None:
    assert storage.discard_orphans(referenced=lambda names: set(), older_than=timedelta(hours=1)) == []


# THE FILE FOLLOWS ITS TRANSACTION ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_file_when_the_transaction_commits(kyc_files: Path) -> None:
    validated = validate_upload(documents.png())
    with transaction.atomic():
        name = storage.store_on_commit(validated)
        Group.objects.create(name=f"row of {name}")
    assert Group.objects.filter(name=f"row of {name}").exists()
    assert storage.open_document(name) == validated.content


@pytest.mark.django_db(transaction=True)
def test_it_deletes_the_file_when_the_transaction_rolls_back(kyc_files: Path) -> None:
    validated = validate_upload(documents.png())
    with pytest.raises(Boom), transaction.atomic():
        name = storage.store_on_commit(validated)
        Group.objects.create(name=f"row of {name}")
        assert storage.exists(name)  # written before the row, so a committed row always has its file
        raise Boom
    assert not Group.objects.filter(name=f"row of {name}").exists()
    assert stored_files(kyc_files) == []  # no row, no file


@pytest.mark.django_db(transaction=True)
def test_it_deletes_the_file_when_an_outer_transaction_rolls_back_after_the_inner_block_succeeded(
    kyc_files: Path,
) -> None:
    with pytest.raises(Boom), transaction.atomic():
        with transaction.atomic():  # the service's own atomic block: it succeeds
            name = storage.store_on_commit(validate_upload(documents.png()))
        assert storage.exists(name)
        raise Boom  # the caller's transaction fails afterwards
    assert stored_files(kyc_files) == []


@pytest.mark.django_db
def test_it_deletes_the_file_of_a_rolled_back_savepoint_and_keeps_the_others(kyc_files: Path) -> None:
    kept = storage.store_on_commit(validate_upload(documents.png()))
    with pytest.raises(Boom), transaction.atomic():
        storage.store_on_commit(validate_upload(documents.jpeg()))
        raise Boom
    assert [path.relative_to(kyc_files).as_posix() for path in stored_files(kyc_files)] == [kept]


def test_it_refuses_to_store_on_commit_outside_a_transaction(kyc_files: Path) -> None:
    with pytest.raises(RuntimeError, match=r"inside transaction\.atomic"):
        storage.store_on_commit(validate_upload(documents.png()))
    assert stored_files(kyc_files) == []

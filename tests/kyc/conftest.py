from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def kyc_files(settings: Any, tmp_path: Path) -> Path:
    """Every KYC test stores documents in an empty folder of its own (the filesystem storage)."""
    root = tmp_path / "kyc-files"
    settings.KYC_STORAGE = "filesystem"
    settings.KYC_FILES_ROOT = str(root)
    return root


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's standalone S3 server on loopback, one per test process: its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)  # start() returns once bound
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def kyc_s3(settings: Any, s3_server: str) -> SimpleNamespace:
    """KYC_STORAGE=s3 against the loopback server, in a new bucket: ``.client`` (boto3) and ``.bucket``."""
    import uuid

    import boto3

    bucket = f"kyc-{uuid.uuid4().hex[:12]}"
    settings.KYC_STORAGE = "s3"
    settings.KYC_S3_BUCKET = bucket
    settings.KYC_S3_ENDPOINT_URL = s3_server
    settings.KYC_S3_REGION = "us-east-1"
    settings.KYC_S3_ACCESS_KEY_ID = "testing"
    settings.KYC_S3_SECRET_ACCESS_KEY = "testing"
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=bucket)
    return SimpleNamespace(client=client, bucket=bucket)

"""Where imported documents are stored: on disk unless the environment names a bucket."""

from __future__ import annotations

from pathlib import Path

from tests.s3 import S3Server
from tests.sous.procfile import environment, probe

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, django
from django.conf import settings
django.setup()
from django.core.files.storage import storages
print(json.dumps({
    "default": settings.STORAGES["default"],
    "class": type(storages["default"]).__name__,
}))
"""


def storage_from(tmp_path, **env) -> dict:
    """sous.settings in a fresh interpreter with only `env` set."""
    return probe(PROBE, env=environment(**env), cwd=tmp_path)


def test_documents_are_stored_on_disk_by_default(tmp_path):
    found = storage_from(tmp_path)

    assert found["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert found["class"] == "FileSystemStorage"


def test_a_bucket_in_the_environment_stores_them_in_s3_privately(tmp_path):
    store = S3Server("http://minio.internal:9000")

    found = storage_from(tmp_path, **store.environment("sous-documents"))

    # What the tests' s3_storage fixture uses is what an operator's .env gives.
    assert found["default"] == store.storage("sous-documents")
    assert found["class"] == "S3Storage"
    assert found["default"]["OPTIONS"]["default_acl"] is None
    assert found["default"]["OPTIONS"]["file_overwrite"] is False


def test_on_aws_itself_boto3_finds_the_endpoint_and_credentials(tmp_path):
    found = storage_from(tmp_path, AWS_STORAGE_BUCKET_NAME="sous-documents")

    options = found["default"]["OPTIONS"]
    assert options["bucket_name"] == "sous-documents"
    assert options["endpoint_url"] is options["access_key"] is options["addressing_style"] is None

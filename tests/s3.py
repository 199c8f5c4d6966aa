"""A real S3-compatible server for the storage tests: moto's server mode in a subprocess, on a
free loopback port. Django reaches it through django-storages' S3 backend, worker processes
through the same environment variables production sets, and tests read it with boto3."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import boto3
import requests

REGION = "us-east-1"
# moto takes any credentials; these only have to be the same on every client.
ACCESS_KEY, SECRET_KEY = "sous-test-access", "sous-test-secret"  # noqa: S105

_buckets = itertools.count(1)


@dataclass(frozen=True)
class S3Server:
    endpoint: str

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def new_bucket(self) -> str:
        name = f"sous-test-{next(_buckets)}"
        self.client().create_bucket(Bucket=name)
        return name

    def objects(self, bucket: str) -> dict[str, bytes]:
        """Every object in the bucket: key -> bytes."""
        client = self.client()
        found = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"]
                found[item["Key"]] = body.read()
        return found

    def environment(self, bucket: str) -> dict[str, str]:
        """What an operator puts in .env to store documents in `bucket` (.env.example)."""
        return {
            "AWS_STORAGE_BUCKET_NAME": bucket,
            "AWS_S3_ENDPOINT_URL": self.endpoint,
            "AWS_S3_REGION_NAME": REGION,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        }

    def storage(self, bucket: str) -> dict:
        """The STORAGES["default"] that sous/settings.py builds from `environment(bucket)`."""
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": self.endpoint,
                "region_name": REGION,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "default_acl": None,
                "file_overwrite": False,
                "addressing_style": "path",
            },
        }


def _answers(endpoint: str) -> bool:
    try:
        return requests.get(f"{endpoint}/moto-api/", timeout=1).ok
    except requests.ConnectionError:
        return False


@contextmanager
def run(port: int, *, timeout: float = 30.0) -> Iterator[S3Server]:
    from tests.conftest import wait_for

    endpoint = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(
            lambda: process.poll() is not None or _answers(endpoint),
            timeout=timeout,
            interval=0.2,
            message="moto's S3 server did not answer",
        )
        if process.poll() is not None:
            raise RuntimeError(f"moto's S3 server exited with {process.returncode}")
        yield S3Server(endpoint)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

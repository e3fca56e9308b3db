"""A `MediaStore` on S3-compatible object storage (AWS S3, MinIO, Ceph…), through boto3.

boto3 is blocking: each call runs in a worker thread, so the event loop never waits on the
network. Credentials come the way boto3 reads them (AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY in the environment, or its files); jbl never holds or logs them.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from models.media import MediaUnusable, media_type_of

# Ask again on a throttled or failed call, as boto3's "standard" mode does, a few times.
_CONFIG = Config(retries={"max_attempts": 4, "mode": "standard"}, s3={"addressing_style": "path"})


class S3Media:
    """Objects `<prefix><key>` in `bucket`; the bucket must exist."""

    def __init__(self, bucket: str, prefix: str = "", **client: Any) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self._client_options = client
        self._client: Any = None

    @classmethod
    def from_url(cls, url: str) -> S3Media:
        """`s3://BUCKET[/PREFIX][?endpoint=URL&region=NAME]`, as `[media] s3_url` has it."""
        parts = urlsplit(url)
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        prefix = parts.path.strip("/")
        options = {}
        if "endpoint" in query:
            options["endpoint_url"] = query["endpoint"]
        if "region" in query:
            options["region_name"] = query["region"]
        return cls(parts.netloc, f"{prefix}/" if prefix else "", **options)

    @property
    def client(self) -> Any:
        # Built on first use, not at start-up: nothing is built before it is needed.
        if self._client is None:
            self._client = boto3.session.Session().client(
                "s3", config=_CONFIG, **self._client_options
            )
        return self._client

    async def save(self, key: str, content: bytes) -> None:
        await asyncio.to_thread(
            self.client.put_object,
            Bucket=self.bucket,
            Key=self.prefix + key,
            Body=content,
            ContentType=media_type_of(key),
        )

    async def load(self, key: str) -> bytes | None:
        return await asyncio.to_thread(self._get, key)

    def _get(self, key: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return bytes(answer["Body"].read())

    async def check(self) -> None:
        await asyncio.to_thread(self._check)

    def _check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError, ValueError) as error:  # ValueError: a bad endpoint
            # botocore's messages name the bucket and the endpoint, never the credentials.
            raise MediaUnusable(f"media: s3://{self.bucket} cannot be used: {error}") from error

    def where(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"

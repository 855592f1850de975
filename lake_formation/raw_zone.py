"""The raw zone: the one module that writes, lists and reads raw objects and their manifest entries.

Ingestion writes through it (it ships in the Lambda package) and curation reads through it (it ships in the Glue
package), so it imports neither of them. The layout (ARCHITECTURE.md, "Raw zone"):

    spapi/<raw name>/marketplace_id=<id>/dt=<yyyy-mm-dd>/<object id>.<ext>   the object, UTF-8, SSE-KMS
    spapi/_manifests/<raw name>/<object id>.json                              its manifest entry, written last

A raw name is a report type, or an API's name (catalog_items, listings_items): `Source.raw_name` in the registry. An
object id is the object's natural id (the reportId of a report, the hash of an API batch), so a retry overwrites
rather than duplicates. The manifest entry is written after its object: an object without one is not landed.

Example:
    >>> raw = RawZone(s3_client, "my-raw-bucket", kms_key_id)
    >>> target = RawObject(raw_name="catalog_items", marketplace_id="ATVPDKIKX0DER", day=now, object_id="ab12",
    ...                    format="jsonl")
    >>> raw.put_object(target, body)
    >>> raw.write_manifest(raw.manifest_entry(target, account_id="a", source_charset="utf-8", ...))
    >>> [entry.uri for entry in raw.manifests("catalog_items")]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

from boto3.s3.transfer import TransferConfig
from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from lake_formation.errors import ManifestError, MissingRawObjectError

if TYPE_CHECKING:
    from collections.abc import Iterator

PREFIX = "spapi"
MANIFEST_PREFIX = f"{PREFIX}/_manifests"
Format = Literal["tsv", "json", "jsonl"]
CONTENT_TYPES: dict[Format, str] = {
    "tsv": "text/tab-separated-values; charset=utf-8",
    "json": "application/json",
    "jsonl": "application/x-ndjson",
}
# 8 MiB parts, uploaded one at a time while the next is decoded; at most two parts held in memory (s3transfer's
# default of ten would hold 80 MiB of a non-seekable stream): memory stays flat whatever the document size.
TRANSFER = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024, max_concurrency=1)
TRANSFER.max_in_memory_upload_chunks = 2


class ByteStream(Protocol):
    """What `RawZone.upload_stream` reads: UTF-8 bytes, `size` at a time (a document stream, a file)."""

    def read(self, size: int | None = -1, /) -> bytes: ...


def _utc_day(value: Any) -> Any:
    return value.astimezone(UTC).date() if isinstance(value, datetime) else value


class RawObject(BaseModel):
    """Where one raw object lands: its raw name, marketplace, UTC day and natural id make its key."""

    model_config = ConfigDict(frozen=True)

    raw_name: str  # a report type, or an API's name (catalog_items, listings_items)
    marketplace_id: str
    day: Annotated[date, BeforeValidator(_utc_day)]  # a datetime is taken as its UTC day
    object_id: str
    format: Format

    @property
    def key(self) -> str:
        return (
            f"{PREFIX}/{self.raw_name}/marketplace_id={self.marketplace_id}/dt={self.day.isoformat()}/"
            f"{self.object_id}.{self.format}"
        )

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


def _manifest_key(raw_name: str, object_id: str) -> str:
    return f"{MANIFEST_PREFIX}/{raw_name}/{object_id}.json"


@dataclass(frozen=True)
class BrokenManifest:
    """A manifest entry that does not parse: whose object it names and why."""

    object_id: str
    key: str
    reason: str


class ManifestEntry(BaseModel):
    """One landed raw object: what it is, where it came from, and how to check it."""

    # Entries written before the rename (report_id, report_type) still read.
    object_id: str = Field(validation_alias=AliasChoices("object_id", "report_id"))  # reportId, or API batch hash
    raw_name: str = Field(validation_alias=AliasChoices("raw_name", "report_type"))  # report type, or API name
    account_id: str
    marketplace_id: str
    bucket: str
    key: str
    source_charset: str
    bytes: int
    rows: int
    sha256: str  # of the stored (UTF-8) bytes
    header: list[str]
    ingested_at: datetime
    data_start_time: datetime | None = None
    data_end_time: datetime | None = None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def manifest_key(self) -> str:
        return _manifest_key(self.raw_name, self.object_id)

    @property
    def data_date(self) -> str:
        """The partition day, as it appears in the raw key (dt=...)."""
        return self.key.split("/dt=", 1)[1].split("/", 1)[0]


class RawZone:
    """The raw bucket: objects and manifest entries written SSE-KMS (with the given key id, if any), listed and read.

    Args:
        s3_client: a boto3 S3 client (`ingestion_lambdas.aws.client("s3")` in the Lambdas, boto3's in Glue).
        bucket: the raw bucket.
        kms_key_id: the KMS key to encrypt with; None uses the bucket's default aws:kms key.
    """

    def __init__(self, s3_client: Any, bucket: str, kms_key_id: str | None = None) -> None:
        self.s3 = s3_client
        self.bucket = bucket
        self.kms_key_id = kms_key_id

    # Writing ---------------------------------------------------------------------------------------------------
    def _encryption(self) -> dict[str, str]:
        return {"ServerSideEncryption": "aws:kms", **({"SSEKMSKeyId": self.kms_key_id} if self.kms_key_id else {})}

    def upload_stream(self, target: RawObject, stream: ByteStream, source_charset: str) -> None:
        """Stream UTF-8 bytes into the raw zone: an S3 multipart upload of 8 MiB parts, one at a time (TRANSFER).
        A stream that raises mid-upload (a failed verification) makes boto3 abort the multipart upload: no object."""
        self.s3.upload_fileobj(
            stream,
            self.bucket,
            target.key,
            Config=TRANSFER,
            ExtraArgs={
                **self._encryption(),
                "ContentType": target.content_type,
                "Metadata": {"object-id": target.object_id, "source-charset": source_charset},
            },
        )

    def put_object(self, target: RawObject, body: bytes) -> None:
        """Write a small object (an API batch) in one request."""
        self.s3.put_object(
            Bucket=self.bucket, Key=target.key, Body=body, ContentType=target.content_type, **self._encryption()
        )

    def manifest_entry(
        self,
        target: RawObject,
        *,
        account_id: str,
        source_charset: str,
        bytes: int,  # noqa: A002 - the manifest's field name
        rows: int,
        sha256: str,
        header: list[str],
        ingested_at: datetime,
        data_start_time: datetime | None = None,
        data_end_time: datetime | None = None,
    ) -> ManifestEntry:
        """The manifest entry of an object written to `target` in this bucket."""
        return ManifestEntry(
            object_id=target.object_id,
            raw_name=target.raw_name,
            account_id=account_id,
            marketplace_id=target.marketplace_id,
            bucket=self.bucket,
            key=target.key,
            source_charset=source_charset,
            bytes=bytes,
            rows=rows,
            sha256=sha256,
            header=header,
            ingested_at=ingested_at,
            data_start_time=data_start_time,
            data_end_time=data_end_time,
        )

    def write_manifest(self, entry: ManifestEntry) -> None:
        """Land an object by writing its manifest entry, after the object itself (a retry rewrites both)."""
        self.s3.put_object(
            Bucket=self.bucket,
            Key=entry.manifest_key,
            Body=entry.model_dump_json().encode(),
            ContentType="application/json",
            **self._encryption(),
        )

    # Reading ---------------------------------------------------------------------------------------------------
    def _keys(self, prefix: str) -> Iterator[str]:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield str(item["Key"])

    def manifests(self, raw_name: str | None = None) -> list[ManifestEntry]:
        """The landed objects (of one raw name, or all), oldest ingestion first. Raises ManifestError on an entry
        that does not parse (`read_manifests` lists those instead)."""
        entries, broken = self.read_manifests(raw_name)
        if broken:
            first = broken[0]
            raise ManifestError(f"{len(broken)} manifest entries do not parse, e.g. {first.key}: {first.reason}")
        return entries

    def read_manifests(self, raw_name: str | None = None) -> tuple[list[ManifestEntry], list[BrokenManifest]]:
        """The landed objects (of one raw name, or all), oldest ingestion first; and the entries that do not parse,
        each with why."""
        prefix = f"{MANIFEST_PREFIX}/{raw_name}/" if raw_name is not None else f"{MANIFEST_PREFIX}/"
        entries, broken = [], []
        for key in self._keys(prefix):
            try:
                entries.append(
                    ManifestEntry.model_validate_json(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
                )
            except ValidationError as err:
                reason = f"its manifest entry does not parse: {err.errors()[0]['msg']} ({err.error_count()} errors)"
                broken.append(BrokenManifest(key.rsplit("/", 1)[1].removesuffix(".json"), key, reason))
        return sorted(entries, key=lambda e: (e.ingested_at, e.object_id)), broken

    def head(self, entry: ManifestEntry, size: int) -> bytes:
        """A landed object's first `size` bytes (one GET, closed after them: the rest is not fetched).

        Raises:
            MissingRawObjectError: the object is not where its manifest entry says.
        """
        try:
            body = self.s3.get_object(Bucket=entry.bucket, Key=entry.key)["Body"]
        except self.s3.exceptions.NoSuchKey as err:
            raise MissingRawObjectError(entry.key) from err
        try:
            return bytes(body.read(size))
        finally:
            body.close()

    def stream(self, entry: ManifestEntry) -> Any:
        """A landed object's bytes as a file-like stream (botocore's StreamingBody), for reading line by line."""
        return self.s3.get_object(Bucket=entry.bucket, Key=entry.key)["Body"]

    def read(self, entry: ManifestEntry) -> bytes:
        """A landed object's bytes."""
        return bytes(self.stream(entry).read())

"""The raw zone's contract between ingestion (writer) and curation (reader): object keys and manifest entries."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

MANIFEST_PREFIX = "spapi/_manifests"


def raw_key(report_type: str, marketplace_id: str, day: datetime, natural_id: str, extension: str = "tsv") -> str:
    """Deterministic raw-zone key: a retry of the same report overwrites, never duplicates."""
    dt = day.astimezone(UTC).date().isoformat()
    return f"spapi/{report_type}/marketplace_id={marketplace_id}/dt={dt}/{natural_id}.{extension}"


def manifest_key(report_type: str, natural_id: str) -> str:
    return f"{MANIFEST_PREFIX}/{report_type}/{natural_id}.json"


class ManifestEntry(BaseModel):
    """One landed raw object: what it is, where it came from, and how to check it."""

    report_id: str
    report_type: str
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
        return manifest_key(self.report_type, self.report_id)

    @property
    def data_date(self) -> str:
        """The partition day, as it appears in the raw key (dt=...)."""
        return self.key.split("/dt=", 1)[1].split("/", 1)[0]

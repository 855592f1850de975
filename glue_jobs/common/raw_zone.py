"""The raw zone as the curation jobs see it: manifest entries of landed objects, and which were already curated."""

from __future__ import annotations

import json
from typing import Any

from lake_formation.raw_zone import MANIFEST_PREFIX, ManifestEntry


def _list_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


def landed_objects(s3: Any, raw_bucket: str, report_type: str) -> list[ManifestEntry]:
    objects = []
    for key in _list_keys(s3, raw_bucket, f"{MANIFEST_PREFIX}/{report_type}/"):
        body = s3.get_object(Bucket=raw_bucket, Key=key)["Body"].read()
        objects.append(ManifestEntry.model_validate(json.loads(body)))
    return sorted(objects, key=lambda o: (o.ingested_at, o.report_id))


class ProcessedLedger:
    """Which raw objects a dataset has curated: one marker object per report, so marking is idempotent."""

    def __init__(self, s3: Any, bucket: str, table: str) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.prefix = f"_state/{table}/processed/"

    def processed(self) -> set[str]:
        return {key.rsplit("/", 1)[1].removesuffix(".json") for key in _list_keys(self.s3, self.bucket, self.prefix)}

    def mark(self, objects: list[ManifestEntry], run_id: str) -> None:
        for item in objects:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=f"{self.prefix}{item.report_id}.json",
                Body=json.dumps({"key": item.key, "sha256": item.sha256, "run_id": run_id}).encode(),
            )

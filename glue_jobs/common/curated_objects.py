"""Which raw objects a dataset has curated: one marker object per raw object in the curated bucket.

Not to be confused with the report-request ledger (DynamoDB, ingestion_lambdas/services/ledger.py): this is the
curation side's record, kept beside the data it describes, so that a run curates only what is new.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lake_formation.raw_zone import ManifestEntry


class CuratedObjects:
    """The raw objects a dataset has curated, by object id: s3://<curated>/_state/<table>/processed/<object id>.json.
    Marking is idempotent (one marker per object, rewritten by a retry).

    Example:
        >>> curated = CuratedObjects(s3, "my-curated-bucket", "orders")
        >>> pending = [e for e in raw.manifests(raw_name) if e.object_id not in curated.curated_ids()]
        >>> curated.mark(pending, run_id)
    """

    def __init__(self, s3: Any, bucket: str, table: str) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.prefix = f"_state/{table}/processed/"  # the prefix runs before the rename wrote: their markers still count

    def curated_ids(self) -> set[str]:
        """The object ids of every raw object already curated into the table."""
        ids: set[str] = set()
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            ids.update(item["Key"].rsplit("/", 1)[1].removesuffix(".json") for item in page.get("Contents", []))
        return ids

    def mark(self, objects: list[ManifestEntry], run_id: str) -> None:
        """Record the objects as curated by `run_id` (after their rows are published)."""
        for item in objects:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=f"{self.prefix}{item.object_id}.json",
                Body=json.dumps({"key": item.key, "sha256": item.sha256, "run_id": run_id}).encode(),
            )

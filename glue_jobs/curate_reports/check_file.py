"""`spapi-lake curate-file`: parse and validate one report file exactly as the curation job does, without a lake.

A user's way to check a real report before deploying: the file (as downloaded from Amazon, gzip or not, in the
marketplace's charset) goes through the same header parsing or JSON flattening, registry typing, quarantine rules,
dedupe and great-expectations suite; the counts come back per dataset, with the quarantine reasons.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glue_jobs.common.validation import validate
from glue_jobs.curate_reports.job import extract_lines, extract_records
from glue_jobs.curate_reports.transforms import (
    deduplicate,
    parse_flat_file,
    parse_json_records,
    quarantine_reasons,
)
from ingestion_lambdas.spapi.documents import DocumentStream
from lake_formation import registry
from lake_formation.raw_zone import ManifestEntry

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def as_utf8(source: Path, charset: str, target: Path) -> None:
    """The landing's decoding (gzip by magic bytes, transcoding, strict errors), into a local UTF-8 file."""
    with DocumentStream.from_file(source, charset) as stream, target.open("wb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)


def check_file(spark: SparkSession, report_type: str, marketplace_id: str, path: Path, charset: str) -> dict[str, Any]:
    datasets = [d for d in registry.load_all().values() if d.source.report_type == report_type]
    if not datasets:
        raise ValueError(f"no dataset in the schema registry reads {report_type}")
    work = Path(tempfile.mkdtemp(prefix="curate-file-"))
    utf8 = work / "document"
    as_utf8(path, charset, utf8)
    header = utf8.open(encoding="utf-8").readline().rstrip("\r\n").split("\t")
    entry = ManifestEntry(
        report_id="local-file", report_type=report_type, account_id="-", marketplace_id=marketplace_id, bucket="-",
        key=f"spapi/{report_type}/marketplace_id={marketplace_id}/dt={datetime.now(UTC).date()}/local-file",
        source_charset=charset, bytes=utf8.stat().st_size, rows=0, sha256="-", header=header,
        ingested_at=datetime.now(UTC),
    )  # fmt: skip
    results = {}
    for dataset in datasets:
        if dataset.source.format == "tsv":
            batch = parse_flat_file(extract_lines(spark, [entry], lambda _: utf8.as_uri()), header, dataset)
        else:
            batch = parse_json_records(extract_records(spark, [entry], dataset, lambda _: utf8.as_uri()), dataset)
        valid, quarantined = batch.valid.cache(), batch.quarantined.cache()
        curated = deduplicate(valid, dataset.dedupe_key).cache()
        valid_count, quarantined_count, curated_count = valid.count(), quarantined.count(), curated.count()
        outcome = validate(dataset, curated, "curate-file", work / dataset.table)
        results[dataset.table] = {
            "rows_read": valid_count + quarantined_count,
            "curated": curated_count,
            "quarantined": quarantined_count,
            "deduplicated": valid_count - curated_count,
            "quarantine_reasons": quarantine_reasons(quarantined),
            "quarantined_examples": [r.raw_line[:300] for r in quarantined.select("raw_line").limit(3).collect()],
            "missing_columns": batch.missing_columns,
            "extra_columns": batch.extra_columns,
            "validation": {"success": outcome.success, "failed": outcome.failed},
            "data_docs": str(outcome.docs_dir / "index.html") if outcome.docs_dir else None,
        }
    return {"file": str(path), "report_type": report_type, "marketplace_id": marketplace_id, "charset": charset,
            "datasets": results}  # fmt: skip

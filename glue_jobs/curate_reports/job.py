"""Glue job: curate landed report documents of one dataset into the curated zone and the Glue Data Catalog.

Arguments: --dataset <registry table> --raw_bucket B --curated_bucket B --database D
Runs the same on Glue 5.0 and under local Spark; all I/O is spark.read/df.write on s3:// and boto3 catalog calls.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812

from glue_jobs.common.catalog import register_partitions, register_table
from glue_jobs.common.raw_zone import ProcessedLedger, landed_objects
from glue_jobs.common.spark import get_spark
from glue_jobs.common.spark_types import curated_schema
from glue_jobs.common.validation import ValidationOutcome, validate
from glue_jobs.curate_reports.transforms import (
    LINE_COLUMNS,
    deduplicate,
    parse_flat_file,
    parse_json_records,
    quarantine_reasons,
)
from lake_formation import registry

if TYPE_CHECKING:
    from collections.abc import Callable

    from lake_formation.raw_zone import ManifestEntry
    from lake_formation.registry import Dataset

logger = logging.getLogger(__name__)


class RowAccountingError(RuntimeError):
    """Rows read != curated + quarantined + deduplicated: something would be lost silently."""


@dataclass(frozen=True)
class JobConfig:
    dataset: str
    raw_bucket: str
    curated_bucket: str
    database: str
    run_id: str

    def curated_location(self, table: str) -> str:
        return f"s3://{self.curated_bucket}/{table}/"

    def quarantine_location(self, table: str) -> str:
        return f"s3://{self.curated_bucket}/quarantine/{table}/"


def parse_args(argv: list[str]) -> JobConfig:
    from awsglue.utils import getResolvedOptions  # noqa: PLC0415 - Glue's argument parser, only at the entry point

    args = getResolvedOptions(argv, ["dataset", "raw_bucket", "curated_bucket", "database"])
    return JobConfig(
        args["dataset"],
        args["raw_bucket"],
        args["curated_bucket"],
        args["database"],
        args.get("JOB_RUN_ID") or f"run-{uuid.uuid4().hex[:12]}",
    )


def _uri(entry: ManifestEntry) -> str:
    return entry.uri


def extract_lines(
    spark: SparkSession, objects: list[ManifestEntry], uri: Callable[[ManifestEntry], str] = _uri
) -> DataFrame:
    """Every line of the given raw objects, with each object's lineage columns (LINE_COLUMNS)."""
    lines = spark.read.text([uri(o) for o in objects]).withColumn("uri", F.input_file_name())
    return lines.join(F.broadcast(_lineage(spark, objects, uri)), "uri").select(*LINE_COLUMNS)


def _lineage(spark: SparkSession, objects: list[ManifestEntry], uri: Callable[[ManifestEntry], str]) -> DataFrame:
    return spark.createDataFrame(
        [(uri(o), o.report_id, o.key, o.marketplace_id, o.data_date, o.ingested_at) for o in objects],
        "uri string, report_id string, source_key string, marketplace_id string, data_date string, "
        "ingested_at timestamp",
    ).withColumn("data_date", F.to_date("data_date"))


def extract_records(
    spark: SparkSession, objects: list[ManifestEntry], dataset: Dataset, uri: Callable[[ManifestEntry], str] = _uri
) -> DataFrame:
    """One `record` struct per row of the given JSON documents (the array at record_path) or JSON-lines objects
    (each line), every leaf read as text so values keep their written form; with each object's lineage."""
    reader = spark.read.option("primitivesAsString", "true")
    uris = [uri(o) for o in objects]
    if dataset.source.format == "json":
        documents = reader.option("multiLine", "true").json(uris).withColumn("uri", F.input_file_name())
        records = documents.select("uri", F.explode(F.col(str(dataset.source.record_path))).alias("record"))
    else:
        lines = reader.json(uris)
        records = lines.select(F.struct(*lines.columns).alias("record"), F.input_file_name().alias("uri"))
    return records.join(F.broadcast(_lineage(spark, objects, uri)), "uri").drop("uri")


def existing_partitions(
    spark: SparkSession, dataset: Dataset, location: str, touched: list[dict[str, str]], s3: Any, bucket: str
) -> DataFrame | None:
    """Curated rows already in the partitions this run rewrites (so a rewrite merges rather than drops)."""
    paths = []
    for values in touched:
        prefix = "/".join(f"{name}={values[name]}" for name in dataset.partitions)
        key_prefix = f"{location.split(bucket + '/', 1)[1]}{prefix}/"
        if s3.list_objects_v2(Bucket=bucket, Prefix=key_prefix, MaxKeys=1).get("KeyCount", 0):
            paths.append(f"{location}{prefix}/")
    if not paths:
        return None
    return spark.read.schema(curated_schema(dataset)).option("basePath", location).parquet(*paths)


def curate(spark: SparkSession, s3: Any, glue: Any, config: JobConfig) -> dict[str, Any]:
    """Curate every landed, not-yet-curated object of the dataset. Returns the run report."""
    dataset = registry.dataset(config.dataset)
    if dataset.source.report_type is None:
        raise ValueError(f"{dataset.table} names no raw-zone source")
    ledger = ProcessedLedger(s3, config.curated_bucket, dataset.table)
    done = ledger.processed()
    pending = [o for o in landed_objects(s3, config.raw_bucket, dataset.source.report_type) if o.report_id not in done]
    report: dict[str, Any] = {
        "dataset": dataset.table,
        "run_id": config.run_id,
        "raw_objects": len(pending),
        "rows_read": 0,
        "curated": 0,
        "quarantined": 0,
        "deduplicated": 0,
        "partitions": 0,
        "missing_columns": [],
        "extra_columns": [],
        "quarantine_reasons": {},
        "status": "NO_NEW_DATA",
    }
    if not pending:
        return _publish_report(s3, config, report)

    if dataset.source.format == "tsv":
        by_header: dict[tuple[str, ...], list[ManifestEntry]] = defaultdict(list)
        for item in pending:
            by_header[tuple(item.header)].append(item)
        batches = [
            parse_flat_file(extract_lines(spark, items), list(header), dataset) for header, items in by_header.items()
        ]
    else:
        batches = [parse_json_records(extract_records(spark, pending, dataset), dataset)]
    valid = _union([b.valid for b in batches]).localCheckpoint()
    quarantined = _union([b.quarantined for b in batches]).localCheckpoint()
    valid_count, quarantined_count = valid.count(), quarantined.count()

    location = config.curated_location(dataset.table)
    touched = [
        {k: str(v) for k, v in row.asDict().items()} for row in valid.select(*dataset.partitions).distinct().collect()
    ]
    combined = valid.withColumn("_new", F.lit(True))
    existing = existing_partitions(spark, dataset, location, touched, s3, config.curated_bucket)
    if existing is not None:
        combined = combined.unionByName(existing.withColumn("_new", F.lit(False)))
    merged = deduplicate(combined, dataset.dedupe_key).localCheckpoint()  # materialized before its inputs are rewritten
    curated_new = merged.filter("_new").count()

    report.update(
        rows_read=valid_count + quarantined_count,
        curated=curated_new,
        quarantined=quarantined_count,
        deduplicated=valid_count - curated_new,
        partitions=len(touched),
        missing_columns=sorted({c for b in batches for c in b.missing_columns}),
        extra_columns=sorted({c for b in batches for c in b.extra_columns}),
        quarantine_reasons=quarantine_reasons(quarantined),
        status="SUCCEEDED",
    )
    if report["rows_read"] != report["curated"] + report["quarantined"] + report["deduplicated"]:
        raise RowAccountingError(json.dumps(report))

    outcome = validate(dataset, merged.drop("_new"), config.run_id)
    report["validation"] = {"success": outcome.success, "evaluated": outcome.evaluated, "failed": outcome.failed}
    _publish_validation(s3, config, dataset.table, outcome)
    if not outcome.success:  # nothing is published; the raw objects stay pending for the next run
        report["status"] = "VALIDATION_FAILED"
        return _publish_report(s3, config, report)

    if touched:
        merged.drop("_new").write.mode("overwrite").partitionBy(*dataset.partitions).parquet(location)
    if quarantined_count:
        quarantined.write.mode("overwrite").partitionBy("report_id").parquet(config.quarantine_location(dataset.table))
    register_table(glue, config.database, dataset, location)
    register_partitions(glue, config.database, dataset, location, touched)
    ledger.mark(pending, config.run_id)
    return _publish_report(s3, config, report)


def _publish_validation(s3: Any, config: JobConfig, table: str, outcome: ValidationOutcome) -> None:
    """The suite's results beside the run report, and its Data Docs (HTML) under _data_docs/<table>/."""
    s3.put_object(
        Bucket=config.curated_bucket,
        Key=f"_runs/{table}/{config.run_id}.validation.json",
        Body=json.dumps(outcome.results).encode(),
        ContentType="application/json",
    )
    if outcome.docs_dir is None or not outcome.docs_dir.exists():
        return
    for path in outcome.docs_dir.rglob("*"):
        if path.is_file():
            kind = "text/html" if path.suffix == ".html" else "application/octet-stream"
            key = f"_data_docs/{table}/{path.relative_to(outcome.docs_dir).as_posix()}"
            s3.put_object(Bucket=config.curated_bucket, Key=key, Body=path.read_bytes(), ContentType=kind)


def _publish_report(s3: Any, config: JobConfig, report: dict[str, Any]) -> dict[str, Any]:
    """Every run leaves its report beside the data: s3://<curated>/_runs/<table>/<run id>.json."""
    s3.put_object(
        Bucket=config.curated_bucket,
        Key=f"_runs/{report['dataset']}/{config.run_id}.json",
        Body=json.dumps(report).encode(),
        ContentType="application/json",
    )
    return report


def _union(frames: list[DataFrame]) -> DataFrame:
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result


def main(argv: list[str]) -> dict[str, Any]:
    config = parse_args(argv)
    report = curate(get_spark(), boto3.client("s3"), boto3.client("glue"), config)
    logger.info(json.dumps({"event": "curation_run", **report}))
    return report


if __name__ == "__main__":
    main(sys.argv)

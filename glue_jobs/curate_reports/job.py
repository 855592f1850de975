"""Glue job: curate the landed raw objects of one dataset into the curated zone and the Glue Data Catalog.

Arguments: --dataset <registry table> --raw_bucket B --curated_bucket B --database D
Runs the same on Glue 5.0 and under local Spark; all I/O is spark.read/df.write on s3:// and boto3 calls.

A run is a sequence of named steps (`curate`): pending objects → parse → merge → account → validate → publish →
register → mark. Each step is a function of its own, so a test can run the job's own step on small DataFrames.
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
from pydantic import ValidationError
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812

from glue_jobs.common.catalog import register_partitions, register_table
from glue_jobs.common.curated_objects import CuratedObjects
from glue_jobs.common.spark import get_spark
from glue_jobs.common.spark_types import curated_schema
from glue_jobs.common.validation import ValidationOutcome, validate
from glue_jobs.curate_reports.report import RunReport, ValidationSummary
from glue_jobs.curate_reports.transforms import (
    LINE_COLUMNS,
    ParsedBatch,
    deduplicate,
    parse_flat_file,
    parse_json_records,
    quarantine_reasons,
)
from glue_jobs.errors import RowAccountingError, UnreadableObjectError
from lake_formation import registry
from lake_formation.raw_zone import RawZone

if TYPE_CHECKING:
    from collections.abc import Callable

    from lake_formation.raw_zone import ManifestEntry
    from lake_formation.registry import Dataset

logger = logging.getLogger(__name__)
NEW = "_new"  # merge: whether a row comes from this run (True) or from the curated zone (False)


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


# Extract ---------------------------------------------------------------------------------------------------------
def _uri(entry: ManifestEntry) -> str:
    return entry.uri


def extract_lines(
    spark: SparkSession, objects: list[ManifestEntry], uri: Callable[[ManifestEntry], str] = _uri
) -> DataFrame:
    """Every line of the given raw objects, with each object's lineage columns (LINE_COLUMNS)."""
    lines = _read(objects, lambda: spark.read.text([uri(o) for o in objects])).withColumn("uri", F.input_file_name())
    return lines.join(F.broadcast(_lineage(spark, objects, uri)), "uri").select(*LINE_COLUMNS)


def _lineage(spark: SparkSession, objects: list[ManifestEntry], uri: Callable[[ManifestEntry], str]) -> DataFrame:
    return spark.createDataFrame(
        [(uri(o), o.object_id, o.key, o.marketplace_id, o.data_date, o.ingested_at) for o in objects],
        "uri string, object_id string, source_key string, marketplace_id string, data_date string, "
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
        documents = _read(objects, lambda: reader.option("multiLine", "true").json(uris))
        documents = documents.withColumn("uri", F.input_file_name())
        records = documents.select("uri", F.explode(F.col(str(dataset.source.record_path))).alias("record"))
    else:
        lines = _read(objects, lambda: reader.json(uris))
        records = lines.select(F.struct(*lines.columns).alias("record"), F.input_file_name().alias("uri"))
    return records.join(F.broadcast(_lineage(spark, objects, uri)), "uri").drop("uri")


def _read(objects: list[ManifestEntry], read: Callable[[], DataFrame]) -> DataFrame:
    try:
        return read()
    except AnalysisException as err:  # e.g. PATH_NOT_FOUND: a manifest entry whose object is gone
        names = ", ".join(o.key for o in objects[:3])
        raise UnreadableObjectError(f"cannot read the raw objects ({names}, ...): {err}") from err


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


# Steps -----------------------------------------------------------------------------------------------------------
def pending_objects(raw: RawZone, curated: CuratedObjects, dataset: Dataset) -> list[ManifestEntry]:
    """The dataset's landed raw objects that it has not curated yet, oldest ingestion first.

    Raises:
        UnreadableObjectError: a manifest entry that does not parse.
    """
    done = curated.curated_ids()
    try:
        landed = raw.manifests(dataset.source.raw_name)
    except ValidationError as err:
        raise UnreadableObjectError(f"{dataset.table}: a manifest entry of {dataset.source.raw_name}: {err}") from err
    return [o for o in landed if o.object_id not in done]


def parse(
    spark: SparkSession, objects: list[ManifestEntry], dataset: Dataset, uri: Callable[[ManifestEntry], str] = _uri
) -> ParsedBatch:
    """The typed rows and the quarantined rows of the given raw objects (flat files grouped by header, JSON documents
    flattened), materialized once. `uri` says where each object's bytes are (curate-file: a local file).

    Raises:
        UnreadableObjectError: an object that is not where its manifest entry says.
    """
    if dataset.source.format == "tsv":
        by_header: dict[tuple[str, ...], list[ManifestEntry]] = defaultdict(list)
        for item in objects:
            by_header[tuple(item.header)].append(item)
        batches = [
            parse_flat_file(extract_lines(spark, items, uri), list(header), dataset)
            for header, items in by_header.items()
        ]
    else:
        batches = [parse_json_records(extract_records(spark, objects, dataset, uri), dataset)]
    return ParsedBatch(
        valid=_union([b.valid for b in batches]).localCheckpoint(),
        quarantined=_union([b.quarantined for b in batches]).localCheckpoint(),
        missing_columns=sorted({c for b in batches for c in b.missing_columns}),
        extra_columns=sorted({c for b in batches for c in b.extra_columns}),
    )


def touched_partitions(rows: DataFrame, dataset: Dataset) -> list[dict[str, str]]:
    """The partitions (name → value as text) that the rows fall in: what the run rewrites."""
    return [
        {k: str(v) for k, v in row.asDict().items()} for row in rows.select(*dataset.partitions).distinct().collect()
    ]


@dataclass(frozen=True)
class Merged:
    rows: DataFrame  # every row of the touched partitions after the merge, in curated column order
    new_rows: int  # rows of this run among them


def merge(new: DataFrame, existing: DataFrame | None, dataset: Dataset) -> Merged:
    """This run's valid rows merged with the curated rows already in the partitions they touch, deduplicated on the
    registry key: the latest ingestion wins (ties: the later raw object id). Materialized, because the partitions it
    was read from are about to be overwritten."""
    combined = new.withColumn(NEW, F.lit(True))
    if existing is not None:
        combined = combined.unionByName(existing.withColumn(NEW, F.lit(False)))
    merged = deduplicate(combined, dataset).localCheckpoint()
    return Merged(rows=merged.drop(NEW), new_rows=merged.filter(F.col(NEW)).count())


def account(
    config: JobConfig,
    dataset: Dataset,
    objects: list[ManifestEntry],
    parsed: ParsedBatch,
    merged: Merged,
    touched: list[dict[str, str]],
) -> RunReport:
    """The run's counts. Raises RowAccountingError unless read = curated + quarantined + deduplicated."""
    valid, quarantined = parsed.valid.count(), parsed.quarantined.count()
    report = RunReport(
        dataset=dataset.table,
        run_id=config.run_id,
        raw_objects=len(objects),
        rows_read=valid + quarantined,
        curated=merged.new_rows,
        quarantined=quarantined,
        deduplicated=valid - merged.new_rows,
        partitions=len(touched),
        missing_columns=parsed.missing_columns,
        extra_columns=parsed.extra_columns,
        quarantine_reasons=quarantine_reasons(parsed.quarantined),
        status="SUCCEEDED",
    )
    if not report.rows_accounted:
        raise RowAccountingError(report.model_dump_json())
    return report


def validate_curated(s3: Any, config: JobConfig, dataset: Dataset, merged: Merged) -> ValidationSummary:
    """Run the dataset's great-expectations suite on the rows about to be published; keep its results and Data Docs
    beside the run report."""
    outcome = validate(dataset, merged.rows, config.run_id)
    _publish_validation(s3, config, dataset.table, outcome)
    return ValidationSummary(success=outcome.success, evaluated=outcome.evaluated, failed=outcome.failed)


def publish(config: JobConfig, dataset: Dataset, merged: Merged, parsed: ParsedBatch, report: RunReport) -> None:
    """Overwrite the touched partitions with the merged rows; write the quarantined rows (by raw object)."""
    if report.partitions:
        merged.rows.write.mode("overwrite").partitionBy(*dataset.partitions).parquet(
            config.curated_location(dataset.table)
        )
    if report.quarantined:
        parsed.quarantined.write.mode("overwrite").partitionBy("object_id").parquet(
            config.quarantine_location(dataset.table)
        )


def register(glue: Any, config: JobConfig, dataset: Dataset, touched: list[dict[str, str]]) -> None:
    """The table (as the registry declares it) and its new partitions in the Glue Data Catalog."""
    location = config.curated_location(dataset.table)
    register_table(glue, config.database, dataset, location)
    register_partitions(glue, config.database, dataset, location, touched)


def mark(curated: CuratedObjects, objects: list[ManifestEntry], config: JobConfig) -> None:
    """Record the run's raw objects as curated, so the next run skips them."""
    curated.mark(objects, config.run_id)


def curate(spark: SparkSession, s3: Any, glue: Any, config: JobConfig) -> RunReport:
    """Curate every landed, not-yet-curated raw object of the dataset; returns the run report (also left beside the
    data). A batch that fails its suite publishes nothing, and its objects stay pending for the next run."""
    dataset = registry.dataset(config.dataset)
    curated = CuratedObjects(s3, config.curated_bucket, dataset.table)
    objects = pending_objects(RawZone(s3, config.raw_bucket), curated, dataset)
    if not objects:
        return publish_report(s3, config, RunReport(dataset=dataset.table, run_id=config.run_id, raw_objects=0,
                                                    status="NO_NEW_DATA"))  # fmt: skip
    parsed = parse(spark, objects, dataset)
    touched = touched_partitions(parsed.valid, dataset)
    existing = existing_partitions(
        spark, dataset, config.curated_location(dataset.table), touched, s3, config.curated_bucket
    )
    merged = merge(parsed.valid, existing, dataset)
    report = account(config, dataset, objects, parsed, merged, touched)
    report = report.model_copy(update={"validation": validate_curated(s3, config, dataset, merged)})
    if report.validation is None or not report.validation.success:
        return publish_report(s3, config, report.model_copy(update={"status": "VALIDATION_FAILED"}))
    publish(config, dataset, merged, parsed, report)
    register(glue, config, dataset, touched)
    mark(curated, objects, config)
    return publish_report(s3, config, report)


# Load helpers ----------------------------------------------------------------------------------------------------
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


def publish_report(s3: Any, config: JobConfig, report: RunReport) -> RunReport:
    """Every run leaves its report beside the data: s3://<curated>/_runs/<table>/<run id>.json."""
    s3.put_object(
        Bucket=config.curated_bucket,
        Key=f"_runs/{report.dataset}/{config.run_id}.json",
        Body=report.model_dump_json().encode(),
        ContentType="application/json",
    )
    return report


def _union(frames: list[DataFrame]) -> DataFrame:
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result


def main(argv: list[str]) -> RunReport:
    config = parse_args(argv)
    report = curate(get_spark(), boto3.client("s3"), boto3.client("glue"), config)
    logger.info(json.dumps({"event": "curation_run", **report.model_dump(mode="json")}))
    return report


if __name__ == "__main__":
    main(sys.argv)

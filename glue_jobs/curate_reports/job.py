"""Glue job: curate the landed raw objects of one dataset into the curated zone and the Glue Data Catalog.

Arguments: --dataset <registry table> --raw_bucket B --curated_bucket B --database D
Runs the same on Glue 5.0 and under local Spark; all I/O is spark.read/df.write on s3:// and boto3 calls.

A run is a sequence of named steps (`curate`): pending objects → parse → merge → account → validate → publish →
register → mark. Each step is a function of its own, so a test can run the job's own step on small DataFrames.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from pydantic import ValidationError
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812
from pyspark.sql import types as T  # noqa: N812

from glue_jobs.common.catalog import register_partitions, register_table, unregister_partitions
from glue_jobs.common.curated_objects import CuratedObjects
from glue_jobs.common.metrics import put_dataset_run
from glue_jobs.common.spark import get_spark
from glue_jobs.common.spark_types import curated_schema
from glue_jobs.common.validation import ValidationOutcome, validate
from glue_jobs.curate_reports.report import (
    BatchRows,
    RunReport,
    UnreadableObject,
    ValidationSummary,
    report_key,
    report_keys,
)
from glue_jobs.curate_reports.transforms import (
    CORRUPT_RECORD,
    HEAD_BYTES,
    ISO_STYLE,
    LINE_COLUMNS,
    QUARANTINE_SCHEMA,
    MarketplaceStyle,
    ParsedBatch,
    Unreadable,
    deduplicate,
    lineage_column,
    marketplace_style,
    parse_flat_file,
    parse_json_records,
    quarantine_reasons,
    read_head,
    uses_marketplace_style,
)
from glue_jobs.errors import RowAccountingError, UnreadableObjectError
from lake_formation import registry
from lake_formation.errors import MissingRawObjectError
from lake_formation.raw_zone import RawZone
from lake_formation.render import ROW_COUNT, RunContext, curated_location

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from lake_formation.raw_zone import ManifestEntry
    from lake_formation.registry import Dataset

    HeadReader = Callable[[ManifestEntry], bytes]  # an object's first bytes (transforms.HEAD_BYTES of them)

logger = logging.getLogger(__name__)
NEW = "_new"  # merge: whether a row comes from this run (True) or from the curated zone (False)
PREVIOUS_REPORTS = 100  # earlier run reports read at most for the row-count baseline (runs with nothing new included)


@dataclass(frozen=True)
class JobConfig:
    dataset: str
    raw_bucket: str
    curated_bucket: str
    database: str
    run_id: str

    def curated_location(self, table: str) -> str:
        return curated_location(self.curated_bucket, table)

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
) -> tuple[DataFrame | None, list[Unreadable]]:
    """One `record` struct per row of the given JSON documents (the array at record_path) or JSON-lines objects
    (each line), every leaf read as text so values keep their written form; with each object's lineage. Also the
    documents that cannot be read (cut short, or without the array); None when no document can."""
    reader = spark.read.option("primitivesAsString", "true").option("mode", "PERMISSIVE")
    reader = reader.option("columnNameOfCorruptRecord", CORRUPT_RECORD)
    uris = [uri(o) for o in objects]
    unreadable: list[Unreadable] = []
    # Materialized once (every column read): Spark refuses queries of raw JSON that reference only the corrupt-record
    # column; where that is the only column, nothing parsed at all.
    if dataset.source.format == "json":
        documents = _read(objects, lambda: reader.option("multiLine", "true").json(uris))
        if documents.columns == [CORRUPT_RECORD]:
            return None, [_malformed(o) for o in objects]
        documents = documents.withColumn("uri", F.input_file_name()).localCheckpoint()
        bad = _unreadable_documents(documents, dataset, {uri(o): o for o in objects})
        documents, unreadable = documents.filter(~F.col("uri").isin(list(bad))), list(bad.values())
        if len(unreadable) == len(objects):
            return None, unreadable
        records = documents.select("uri", F.explode(F.col(str(dataset.source.record_path))).alias("record"))
    else:
        lines = _read(objects, lambda: reader.json(uris))
        if lines.columns == [CORRUPT_RECORD]:
            return None, [_malformed(o) for o in objects]
        lines = lines.withColumn("_uri", F.input_file_name()).localCheckpoint()
        fields = [name for name in lines.columns if name != "_uri"]
        records = lines.select(F.struct(*fields).alias("record"), F.col("_uri").alias("uri"))
    return records.join(F.broadcast(_lineage(spark, objects, uri)), "uri").drop("uri"), unreadable


def _malformed(entry: ManifestEntry) -> Unreadable:
    return Unreadable(entry.object_id, entry.key, "json_malformed", "JSON that does not parse (cut short, or not JSON)")


def _unreadable_documents(
    documents: DataFrame, dataset: Dataset, by_uri: dict[str, ManifestEntry]
) -> dict[str, Unreadable]:
    """JSON documents that did not parse (Spark's corrupt record: cut short, not JSON) or have no array at the
    dataset's record path (wrong shape: e.g. an error document). One small aggregate per document."""
    path, schema = str(dataset.source.record_path), documents.schema
    corrupt = F.col(CORRUPT_RECORD).isNotNull() if CORRUPT_RECORD in schema.fieldNames() else F.lit(False)
    is_array = path in schema.fieldNames() and isinstance(schema[path].dataType, T.ArrayType)
    has_records = F.col(path).isNotNull() if is_array else F.lit(False)
    checks = documents.groupBy("uri").agg(
        F.max(corrupt.cast("int")).alias("corrupt"), F.max(has_records.cast("int")).alias("has_records")
    )
    unreadable = {}
    for row in checks.collect():
        entry = by_uri.get(row["uri"])
        if entry is None or (not row["corrupt"] and row["has_records"]):
            continue
        if row["corrupt"]:
            unreadable[row["uri"]] = _malformed(entry)
        else:
            unreadable[row["uri"]] = Unreadable(
                entry.object_id, entry.key, "json_shape", f"JSON without the {path} array"
            )
    return unreadable


def _read(objects: list[ManifestEntry], read: Callable[[], DataFrame]) -> DataFrame:
    try:
        return read()
    except AnalysisException as err:  # e.g. PATH_NOT_FOUND: a manifest entry whose object is gone
        names = ", ".join(o.key for o in objects[:3])
        raise UnreadableObjectError(f"cannot read the raw objects ({names}, ...): {err}", kind="missing") from err


def raw_head(raw: RawZone) -> HeadReader:
    """Reads the first HEAD_BYTES of a raw object (RawZone.head); a missing object is unreadable."""

    def head(entry: ManifestEntry) -> bytes:
        try:
            return raw.head(entry, HEAD_BYTES)
        except MissingRawObjectError as err:
            raise UnreadableObjectError("not in the raw zone, though its manifest entry says it landed",
                                        kind="missing", key=entry.key) from err  # fmt: skip

    return head


def partition_path(dataset: Dataset, values: dict[str, str]) -> str:
    """A partition's folder under the table's location: name=value/name=value."""
    return "/".join(f"{name}={values[name]}" for name in dataset.partitions)


def existing_partitions(
    spark: SparkSession, dataset: Dataset, location: str, touched: list[dict[str, str]], s3: Any, bucket: str
) -> DataFrame | None:
    """Curated rows already in the partitions this run rewrites (so a rewrite merges rather than drops)."""
    paths = []
    for values in touched:
        prefix = partition_path(dataset, values)
        key_prefix = f"{location.split(bucket + '/', 1)[1]}{prefix}/"
        if s3.list_objects_v2(Bucket=bucket, Prefix=key_prefix, MaxKeys=1).get("KeyCount", 0):
            paths.append(f"{location}{prefix}/")
    if not paths:
        return None
    return spark.read.schema(curated_schema(dataset)).option("basePath", location).parquet(*paths)


# Steps -----------------------------------------------------------------------------------------------------------
def pending_objects(
    raw: RawZone, curated: CuratedObjects, dataset: Dataset
) -> tuple[list[ManifestEntry], list[Unreadable]]:
    """The dataset's landed raw objects that it has not curated yet, oldest ingestion first; and the manifest entries
    that do not parse (reported as unreadable, so one broken entry does not stop the dataset's curation)."""
    done = curated.curated_ids()
    landed, broken = raw.read_manifests(dataset.source.raw_name)
    unreadable = [Unreadable(b.object_id, b.key, "unreadable", b.reason) for b in broken if b.object_id not in done]
    return [o for o in landed if o.object_id not in done], unreadable


def screen(
    objects: list[ManifestEntry], dataset: Dataset, head: HeadReader | None
) -> tuple[list[tuple[ManifestEntry, list[str]]], list[Unreadable]]:
    """Which objects can be read (each with its header as the object's first line says it), and which cannot, from
    their first bytes: empty, still gzipped, an HTML page, not the report, missing (transforms.read_head). Without
    `head`, every object is taken as its manifest entry describes it."""
    readable, unreadable = [], []
    for entry in objects:
        try:
            header = read_head(head(entry), dataset) if head is not None else entry.header
        except UnreadableObjectError as err:
            unreadable.append(Unreadable(entry.object_id, entry.key, err.kind, str(err)))
            continue
        readable.append((entry, header or entry.header))
    return readable, unreadable


def parse(
    spark: SparkSession,
    objects: list[ManifestEntry],
    dataset: Dataset,
    uri: Callable[[ManifestEntry], str] = _uri,
    head: HeadReader | None = None,
) -> ParsedBatch:
    """The typed rows and the quarantined rows of the given raw objects (flat files grouped by header and marketplace
    style, JSON documents flattened), materialized once. `uri` says where each object's bytes are (curate-file: a
    local file), `head` reads an object's first bytes (raw_head). An object that cannot be read at all is left out
    and listed in the batch's `unreadable` (the run goes on with the others); a row that cannot be read is
    quarantined with its rule."""
    screened, unreadable = screen(objects, dataset, head)
    batches = []
    if dataset.source.format == "tsv":
        styled = uses_marketplace_style(dataset)
        groups: dict[tuple[tuple[str, ...], MarketplaceStyle], list[ManifestEntry]] = defaultdict(list)
        for entry, header in screened:
            groups[(tuple(header), marketplace_style(entry.marketplace_id) if styled else ISO_STYLE)].append(entry)
        for (names, style), items in groups.items():
            batches.append(parse_flat_file(extract_lines(spark, items, uri), list(names), dataset, style))
    elif screened:
        records, bad_documents = extract_records(spark, [entry for entry, _ in screened], dataset, uri)
        unreadable += bad_documents
        if records is not None:
            batches.append(parse_json_records(records, dataset))
    for item in unreadable:
        logger.error(json.dumps({"event": "unreadable_object", "dataset": dataset.table, "object_id": item.object_id,
                                 "key": item.key, "kind": item.kind, "reason": item.reason}))  # fmt: skip
    valid = [b.valid for b in batches] or [spark.createDataFrame([], curated_schema(dataset))]
    quarantined = [b.quarantined for b in batches] or [spark.createDataFrame([], QUARANTINE_SCHEMA)]
    return ParsedBatch(
        valid=_union(valid).localCheckpoint(),
        quarantined=_union(quarantined).localCheckpoint(),
        missing_columns=sorted({c for b in batches for c in b.missing_columns}),
        extra_columns=sorted({c for b in batches for c in b.extra_columns}),
        unreadable=unreadable,
    )


def readable(objects: list[ManifestEntry], parsed: ParsedBatch) -> list[ManifestEntry]:
    """The objects the parse could read: the ones the run accounts for, owns windows with and marks curated."""
    unreadable = {u.object_id for u in parsed.unreadable}
    return [o for o in objects if o.object_id not in unreadable]


def unreadable_report(unreadable: list[Unreadable]) -> list[UnreadableObject]:
    return [UnreadableObject(object=u.key, object_id=u.object_id, kind=u.kind, reason=u.reason)
            for u in unreadable]  # fmt: skip


def covered_days(entry: ManifestEntry) -> list[date]:
    """The UTC days a raw object's window covers: from its data start to its data end (the last instant of its last
    day, or the midnight after it); a snapshot or an object without a window covers its partition day."""
    if entry.data_start_time is None or entry.data_end_time is None or entry.data_end_time <= entry.data_start_time:
        return [date.fromisoformat(entry.data_date)]
    first = entry.data_start_time.astimezone(UTC).date()
    last = (entry.data_end_time.astimezone(UTC) - timedelta(microseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def window_owners(objects: list[ManifestEntry], dataset: Dataset) -> dict[tuple[str, str], str]:
    """For a dataset whose report is authoritative for its window: (marketplace, day) → the raw object that owns the
    day, the latest ingested of those whose window covers it. Other datasets own nothing (they upsert)."""
    if dataset.curation.semantics != "window":
        return {}
    owners: dict[tuple[str, str], str] = {}
    for entry in sorted(objects, key=lambda o: (o.ingested_at, o.object_id)):  # later ingestion overwrites
        for day in covered_days(entry):
            owners[(entry.marketplace_id, day.isoformat())] = entry.object_id
    return owners


def touched_partitions(rows: DataFrame, dataset: Dataset, owners: dict[tuple[str, str], str]) -> list[dict[str, str]]:
    """The partitions (name → value as text) the run rewrites: those its rows fall in, and every day its windows
    cover (a covered day may end up empty: Amazon no longer reports anything for it)."""
    found = {tuple(str(v) for v in row) for row in rows.select(*dataset.partitions).distinct().collect()}
    found |= {tuple(dataset.partition_of(market, day).values()) for market, day in owners}
    return [dict(zip(dataset.partitions, values, strict=True)) for values in sorted(found)]


@dataclass(frozen=True)
class Merged:
    rows: DataFrame  # every row of the touched partitions after the merge, in curated column order
    new_rows: int  # rows of this run among them
    replaced: int = 0  # curated rows of earlier runs dropped because a window of this run covers their day
    emptied: list[dict[str, str]] = field(default_factory=list)  # touched partitions left without a row


def merge(
    new: DataFrame,
    existing: DataFrame | None,
    dataset: Dataset,
    owners: dict[tuple[str, str], str] | None = None,
    touched: list[dict[str, str]] | None = None,
) -> Merged:
    """This run's valid rows merged with the curated rows already in the partitions they touch (ARCHITECTURE.md,
    "Keys and replacement"): where a window of this run covers a day, that day's rows are the rows of the window
    that owns it, and nothing else (restated rows replace, rows Amazon no longer reports disappear); elsewhere rows
    upsert on the registry key, the latest version winning. Materialized, because the partitions it was read from
    are about to be overwritten."""
    day, replaced = dataset.curation.day, 0
    if owners:
        spark = new.sparkSession
        covered = spark.createDataFrame(
            [(market, day_text, owner) for (market, day_text), owner in owners.items()],
            f"marketplace_id string, {day} string, _owner string",
        ).withColumn(day, F.to_date(day))
        lineage, columns = lineage_column(dataset), new.columns
        new = new.join(F.broadcast(covered), ["marketplace_id", day], "left")
        new = new.filter(F.col("_owner").isNull() | (F.col("_owner") == F.col(lineage))).select(*columns)
        if existing is not None:
            existing = existing.localCheckpoint()  # read from S3 once: counted, then filtered and merged
            kept = existing.join(F.broadcast(covered.drop("_owner")), ["marketplace_id", day], "left_anti")
            kept = kept.select(*existing.columns)
            replaced = existing.count() - kept.count()
            existing = kept
    combined = new.withColumn(NEW, F.lit(True))
    if existing is not None:
        combined = combined.unionByName(existing.withColumn(NEW, F.lit(False)))
    merged = deduplicate(combined, dataset).localCheckpoint()
    filled = {tuple(str(v) for v in row) for row in merged.select(*dataset.partitions).distinct().collect()}
    emptied = [p for p in touched or [] if tuple(p[name] for name in dataset.partitions) not in filled]
    return Merged(merged.drop(NEW), merged.filter(F.col(NEW)).count(), replaced, emptied)


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
        partition_values=touched,
        replaced=merged.replaced,
        missing_columns=parsed.missing_columns,
        extra_columns=parsed.extra_columns,
        quarantine_reasons=quarantine_reasons(parsed.quarantined),
        status="SUCCEEDED",
    )
    if not report.rows_accounted:
        raise RowAccountingError(report.model_dump_json())
    return report


def validate_curated(
    s3: Any, config: JobConfig, dataset: Dataset, merged: Merged, now: datetime | None = None
) -> ValidationSummary:
    """Run the dataset's great-expectations suite on the rows about to be published; keep its results and Data Docs
    beside the run report. The suite's freshness and row-count expectations compare with the run's time (`now`,
    default the clock) and with earlier runs (their reports, in the curated bucket: see `run_context`)."""
    batch, newest = batch_rows(merged.rows, dataset)
    run = run_context(previous_reports(s3, config.curated_bucket, dataset.table), batch, now or datetime.now(UTC))
    outcome = validate(dataset, merged.rows, config.run_id, run=run, rows=sum(b.rows for b in batch.values()))
    _publish_validation(s3, config, dataset.table, outcome)
    days = [d for d in (run.newest_day, newest if outcome.success else None) if d is not None]
    return ValidationSummary(success=outcome.success, evaluated=outcome.evaluated, failed=outcome.failed,
                             batch=batch, newest_day=max(days, default=None))  # fmt: skip


def batch_rows(rows: DataFrame, dataset: Dataset) -> tuple[dict[str, BatchRows], date | None]:
    """Per marketplace, the rows and the curation days they span; and the newest curation day among them."""
    day = dataset.curation.day
    stats = rows.groupBy("marketplace_id").agg(
        F.count(F.lit(1)).alias("rows"), F.countDistinct(day).alias("days"), F.max(day).alias("newest")
    )
    found = stats.collect()
    newest = max((r["newest"] for r in found if r["newest"] is not None), default=None)
    return {r["marketplace_id"]: BatchRows(rows=r["rows"], days=r["days"]) for r in found}, newest


def previous_reports(s3: Any, bucket: str, table: str, limit: int = PREVIOUS_REPORTS) -> Iterator[RunReport]:
    """The dataset's earlier run reports (s3://<curated>/_runs/<table>/<run id>.json), the latest first; at most
    `limit` of them are read. A report this code cannot read is skipped."""
    for _, key in report_keys(s3, bucket, table)[::-1][:limit]:
        try:
            yield RunReport.model_validate_json(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except ValidationError as err:
            logger.warning(json.dumps({"event": "unreadable_run_report", "key": key, "error": str(err)[:300]}))


def run_context(reports: Iterator[RunReport], batch: dict[str, BatchRows], now: datetime) -> RunContext:
    """What the suite compares with beyond the registry: the run's time; the curated table's newest day, from the
    latest run that validated a batch; and the row-count baseline, the batch of the latest run whose row counts the
    suite accepted (a refused count is never a baseline, or the same anomaly would pass on the next run). Runs with
    nothing new are passed over; without an earlier validated batch (the first run) there is no baseline."""
    newest_day: date | None = None
    previous: dict[str, tuple[int, int]] = {}
    validated = False
    for report in reports:
        summary = report.validation
        if summary is None:
            continue
        if not validated:
            newest_day, validated = summary.newest_day, True
        if not summary.batch:  # a report written before batches were recorded: no baseline
            break
        if not any(failure.startswith(f"{ROW_COUNT}(") for failure in summary.failed):
            previous = {market: (rows.rows, rows.days) for market, rows in summary.batch.items()}
            break
    return RunContext(now=now, newest_day=newest_day, batch_days={m: b.days for m, b in batch.items()},
                      previous=previous)  # fmt: skip


def publish(
    s3: Any, config: JobConfig, dataset: Dataset, merged: Merged, parsed: ParsedBatch, report: RunReport
) -> None:
    """Overwrite the touched partitions with the merged rows (dynamic partition overwrite), empty the partitions a
    restated window left without rows, and write the quarantined rows (by raw object)."""
    location = config.curated_location(dataset.table)
    if report.partitions:
        # One file per partition (not one per task and partition): fewer, larger objects for readers and fewer
        # S3 requests per write.
        rows = merged.rows.repartition(*dataset.partitions)
        rows.write.mode("overwrite").partitionBy(*dataset.partitions).parquet(location)
    for values in merged.emptied:
        prefix = location.split(f"{config.curated_bucket}/", 1)[1] + partition_path(dataset, values) + "/"
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=config.curated_bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                s3.delete_object(Bucket=config.curated_bucket, Key=item["Key"])
    if report.quarantined:
        parsed.quarantined.write.mode("overwrite").partitionBy("object_id").parquet(
            config.quarantine_location(dataset.table)
        )


def register(glue: Any, config: JobConfig, dataset: Dataset, touched: list[dict[str, str]], merged: Merged) -> None:
    """The table (as the registry declares it) and its partitions in the Glue Data Catalog: new ones added, emptied
    ones removed."""
    location = config.curated_location(dataset.table)
    register_table(glue, config.database, dataset, location)
    emptied = {tuple(p.values()) for p in merged.emptied}
    register_partitions(
        glue, config.database, dataset, location, [p for p in touched if tuple(p.values()) not in emptied]
    )
    if merged.emptied:
        unregister_partitions(glue, config.database, dataset, merged.emptied)


def mark(curated: CuratedObjects, objects: list[ManifestEntry], config: JobConfig) -> None:
    """Record the run's raw objects as curated, so the next run skips them."""
    curated.mark(objects, config.run_id)


def curate(spark: SparkSession, s3: Any, glue: Any, config: JobConfig) -> RunReport:
    """Curate every landed, not-yet-curated raw object of the dataset; returns the run report (also left beside the
    data). A batch that fails its suite publishes nothing, and its objects stay pending for the next run."""
    dataset = registry.dataset(config.dataset)
    curated = CuratedObjects(s3, config.curated_bucket, dataset.table)
    raw = RawZone(s3, config.raw_bucket)
    objects, broken_manifests = pending_objects(raw, curated, dataset)
    if not objects:
        return publish_report(s3, config, RunReport(dataset=dataset.table, run_id=config.run_id, raw_objects=0,
                                                    status="NO_NEW_DATA", unreadable_objects=unreadable_report(
                                                        broken_manifests)))  # fmt: skip
    parsed = parse(spark, objects, dataset, head=raw_head(raw))
    parsed = dataclasses.replace(parsed, unreadable=broken_manifests + parsed.unreadable)
    objects = readable(objects, parsed)  # the unreadable stay pending: not accounted, owning no window, not marked
    owners = window_owners(objects, dataset)
    touched = touched_partitions(parsed.valid, dataset, owners)
    existing = existing_partitions(
        spark, dataset, config.curated_location(dataset.table), touched, s3, config.curated_bucket
    )
    merged = merge(parsed.valid, existing, dataset, owners, touched)
    report = account(config, dataset, objects, parsed, merged, touched)
    report = report.model_copy(update={"unreadable_objects": unreadable_report(parsed.unreadable)})
    report = report.model_copy(update={"validation": validate_curated(s3, config, dataset, merged)})
    if report.validation is None or not report.validation.success:
        return publish_report(s3, config, report.model_copy(update={"status": "VALIDATION_FAILED"}))
    publish(s3, config, dataset, merged, parsed, report)
    register(glue, config, dataset, touched, merged)
    # The report before the mark: a run that dies between the two has published its partitions and says so (the
    # warehouse loader loads what run reports name); its objects stay pending and the retry curates them again.
    publish_report(s3, config, report)
    mark(curated, objects, config)
    return report


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
        Key=report_key(report.dataset, config.run_id),
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
    session = boto3.session.Session()  # its own: boto3's default session is not safe across threads
    report = curate(get_spark(), session.client("s3"), session.client("glue"), config)
    logger.info(json.dumps({"event": "curation_run", "job_run_id": config.run_id, **report.model_dump(mode="json")}))
    # After the run report: a metric that cannot be put fails the run visibly, and its retry finds nothing new.
    put_dataset_run(session.client("cloudwatch"), report.dataset, blocked=report.status == "VALIDATION_FAILED",
                    unreadable=len(report.unreadable_objects))  # fmt: skip
    return report


if __name__ == "__main__":
    main(sys.argv)

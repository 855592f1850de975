"""How much does Spark cost against an embedded engine, and how cheap is a run with nothing new?

1. 1M order lines (GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL from the sandbox's world, cached in
   .cache/bench/) are parsed by header, typed by the registry (rows breaking a rule set aside), deduplicated on the
   declared key and written as partitioned snappy Parquet: by our Spark transforms under local Spark, and by the
   same casts, dedupe and partitioned write in DuckDB, on the same file in the same run. Goal: Spark ≤ 5× DuckDB.
2. The curation job (`curate()`, the Glue job's body) on that document landed in moto's S3: the full run, then a
   re-run with no new raw data. Goal: the re-run ≤ 10% of the full run.

Usage: python bench/curate.py [--lines N]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402, N812

from glue_jobs.curate_reports.transforms import deduplicate, parse_flat_file  # noqa: E402
from lake_formation import registry  # noqa: E402
from sandbox.report_content import ReportRequest  # noqa: E402
from sandbox.report_types import REPORT_TYPES  # noqa: E402
from sandbox.world import World  # noqa: E402

if TYPE_CHECKING:
    from glue_jobs.curate_reports.report import RunReport

CACHE = ROOT / ".cache" / "bench"
REPORT_TYPE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
ACCOUNT, MARKETPLACE = "demo-seller-na", "ATVPDKIKX0DER"
START = datetime(2026, 10, 1, tzinfo=UTC)


def generate(path: Path, lines: int) -> int:
    """Order lines day by day until `lines`, written as one report document (header once)."""
    world, render = World(seed=7, scale=640), REPORT_TYPES[REPORT_TYPE].render
    written, day = 0, START
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        while written < lines:
            report = render(world, ReportRequest(ACCOUNT, MARKETPLACE, day, day + timedelta(days=1), {}))
            if written == 0:
                out.write("\t".join(report.header) + "\n")
            out.writelines("\t".join(row) + "\n" for row in report.rows)
            written += len(report.rows)
            day += timedelta(days=1)
    return written


def spark_curate(spark, source: Path, target: Path) -> int:  # noqa: ANN001
    dataset = registry.dataset("orders")
    header = source.open(encoding="utf-8").readline().rstrip("\n").split("\t")
    lines = spark.read.text(str(source)).select(
        "value", F.lit("bench").alias("object_id"), F.lit(str(source)).alias("source_key"),
        F.lit(MARKETPLACE).alias("marketplace_id"), F.to_date(F.lit(START.date().isoformat())).alias("data_date"),
        F.current_timestamp().alias("ingested_at"),
    )  # fmt: skip
    batch = parse_flat_file(lines, header, dataset)
    curated = deduplicate(batch.valid, dataset)
    curated.write.mode("overwrite").partitionBy(*dataset.partitions).parquet(str(target))
    return spark.read.parquet(str(target)).count()


def duckdb_curate(source: Path, target: Path) -> int:
    """The same work in DuckDB: every column read as text, cast like the registry says, the same dedupe."""
    con = duckdb.connect()
    con.execute(f"""
        COPY (
            SELECT * EXCLUDE (rank) FROM (
                SELECT "amazon-order-id" AS amazon_order_id, "sku" AS sku, "asin" AS asin,
                       strptime("purchase-date", '%Y-%m-%dT%H:%M:%S%z') AS purchase_date,
                       strptime("last-updated-date", '%Y-%m-%dT%H:%M:%S%z') AS last_updated_date,
                       "order-status" AS order_status, TRY_CAST("quantity" AS INTEGER) AS quantity,
                       "currency" AS currency, TRY_CAST("item-price" AS DECIMAL(18,2)) AS item_price,
                       TRY_CAST("item-tax" AS DECIMAL(18,2)) AS item_tax,
                       "is-business-order" = 'true' AS is_business_order, * EXCLUDE ("amazon-order-id", "sku", "asin",
                       "purchase-date", "last-updated-date", "order-status", "quantity", "currency", "item-price",
                       "item-tax", "is-business-order"),
                       'bench' AS report_id, now() AS ingested_at, '{MARKETPLACE}' AS marketplace_id,
                       DATE '{START.date().isoformat()}' AS window_date,
                       row_number() OVER (PARTITION BY '{MARKETPLACE}', amazon_order_id, sku
                                          ORDER BY now() DESC) AS rank
                FROM read_csv('{source}', delim = '\t', header = true, all_varchar = true, quote = '')
            ) WHERE rank = 1 AND amazon_order_id IS NOT NULL AND sku IS NOT NULL
        ) TO '{target}' (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (marketplace_id, window_date))""")  # noqa: S608
    return int(con.execute(f"SELECT count(*) FROM read_parquet('{target}/**/*.parquet')").fetchone()[0])  # type: ignore[index]


def job_runs(source: Path) -> tuple[float, float, RunReport, RunReport]:
    """curate() on moto's S3: the full run, then a run with no new raw data."""
    import boto3  # noqa: PLC0415

    from glue_jobs.curate_reports.job import JobConfig, curate  # noqa: PLC0415
    from lake_formation.raw_zone import RawObject, RawZone  # noqa: PLC0415
    from local.moto_runtime import LocalAws  # noqa: PLC0415
    from local.spark import local_spark  # noqa: PLC0415

    moto = LocalAws()
    moto.start()
    try:
        s3, glue = boto3.client("s3"), boto3.client("glue")
        for bucket in ("bench-raw", "bench-curated"):
            s3.create_bucket(Bucket=bucket)
        glue.create_database(DatabaseInput={"Name": "bench"})
        raw = RawZone(s3, "bench-raw")
        target = RawObject(raw_name=REPORT_TYPE, marketplace_id=MARKETPLACE, day=START, object_id="bench-1",
                           format="tsv")  # fmt: skip
        with source.open("rb") as document:
            raw.upload_stream(target, document, "utf-8")
        header = source.open(encoding="utf-8").readline().rstrip("\n").split("\t")
        raw.write_manifest(raw.manifest_entry(target, account_id=ACCOUNT, source_charset="utf-8",
                                              bytes=source.stat().st_size, rows=0, sha256="-", header=header,
                                              ingested_at=datetime.now(UTC), data_start_time=START))  # fmt: skip
        spark = local_spark(moto.endpoint)
        config = JobConfig("orders", "bench-raw", "bench-curated", "bench", "bench-full")
        started = time.perf_counter()
        full = curate(spark, s3, glue, config)
        full_s = time.perf_counter() - started
        started = time.perf_counter()
        again = curate(spark, s3, glue, JobConfig("orders", "bench-raw", "bench-curated", "bench", "bench-again"))
        again_s = time.perf_counter() - started
        return full_s, again_s, full, again
    finally:
        moto.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()
    source = CACHE / f"orders-{args.lines}.tsv"
    if not source.exists():
        started = time.perf_counter()
        count = generate(source, args.lines)
        print(f"generated {count} order lines in {time.perf_counter() - started:.1f} s")
    from local.spark import local_spark  # noqa: PLC0415

    started = time.perf_counter()
    spark = local_spark()
    spark_start_s = time.perf_counter() - started
    work = Path(tempfile.mkdtemp(prefix="bench-curate-"))
    try:
        spark_curate(spark, source, work / "warmup")  # JIT and class loading, as a long-lived Glue worker has done
        started = time.perf_counter()
        spark_rows = spark_curate(spark, source, work / "spark")
        spark_s = time.perf_counter() - started
        started = time.perf_counter()
        duck_rows = duckdb_curate(source, work / "duckdb")
        duck_s = time.perf_counter() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratio = spark_s / duck_s
    print(f"parse + type + dedupe + partitioned Parquet of {spark_rows} rows: Spark {spark_s:.1f} s "
          f"(session start {spark_start_s:.1f} s), DuckDB {duck_s:.1f} s ({duck_rows} rows): {ratio:.1f}x")  # fmt: skip
    full_s, again_s, full, again = job_runs(source)
    print(f"curation job on moto S3: full run {full_s:.1f} s ({full.curated} curated, validated), "
          f"re-run with no new data {again_s:.2f} s ({again.status}): {again_s / full_s:.1%} of it")  # fmt: skip
    print(f"RESULT rows={spark_rows} spark_s={spark_s:.2f} duckdb_s={duck_s:.2f} spark_vs_duckdb={ratio:.2f} "
          f"job_full_s={full_s:.2f} job_rerun_s={again_s:.2f} rerun_vs_full={again_s / full_s:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()

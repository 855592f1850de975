"""The whole offline pipeline: state machines on moto → raw zone → Glue job on local Spark → catalog → DuckDB."""

import json
from datetime import UTC, datetime

import pytest
import requests

from glue_jobs.common.validation import ValidationOutcome
from glue_jobs.curate_reports import job
from ingestion_lambdas import aws
from lake_formation.raw_zone import ManifestEntry, RawObject, RawZone
from local.pipeline import ingest, landed_manifests, publish_duckdb, run_curation
from local.query import catalog_views, connect_lake
from sandbox.report_types import MERCHANT_LISTINGS_HEADER

REPORT_TYPE = "GET_MERCHANT_LISTINGS_ALL_DATA"
# The bad documents are in a marketplace no other run of the session curates: the suite's row-count band compares a
# marketplace's rows per day with its previous run's, and earlier modules may already have curated the landed reports.
FRANCE = "A13V1IB3VIYZZH"


def land_bad_document(stack, report_id: str = "900000000001") -> tuple[ManifestEntry, str]:
    """A raw document with one good row and one line missing most of its columns, as if Amazon sent it."""
    good = "\t".join({"seller-sku": "BAD-FILE-SKU", "status": "Active"}.get(c, "") for c in MERCHANT_LISTINGS_HEADER)
    broken = "Broken line\twith three\tcells"
    body = "\n".join(["\t".join(MERCHANT_LISTINGS_HEADER), good, broken]) + "\n"
    raw = RawZone(aws.client("s3"), stack.resources.raw_bucket)
    target = RawObject(raw_name=REPORT_TYPE, marketplace_id=FRANCE, day=datetime(2020, 1, 1, tzinfo=UTC),
                       object_id=report_id, format="tsv")  # fmt: skip
    raw.put_object(target, body.encode())
    entry = raw.manifest_entry(
        target, account_id="demo-seller-na", source_charset="utf-8", bytes=len(body), rows=2, sha256="-",
        header=list(MERCHANT_LISTINGS_HEADER), ingested_at=datetime.now(UTC),
    )  # fmt: skip
    raw.write_manifest(entry)
    return entry, broken


def sandbox_rows(stack, report_id: str) -> int:
    return int(requests.get(f"{stack.sandbox.base_url}/_sandbox/reports/{report_id}", timeout=5).json()["rows"])


@pytest.fixture(scope="module")
def pipeline(stack, tmp_path_factory):
    stack.spark()
    ingest(stack)
    results = [m for m in landed_manifests(stack) if m.raw_name == REPORT_TYPE]
    bad_entry, broken_line = land_bad_document(stack)
    run = run_curation(stack, "merchant_listings")
    duckdb_file, _ = publish_duckdb(stack, tmp_path_factory.mktemp("out") / "lake.duckdb")
    return {"results": results, "run": run, "bad": bad_entry, "broken": broken_line, "duckdb": duckdb_file}


def test_every_listings_report_lands_its_document(pipeline, stack):
    results = pipeline["results"]
    assert {r.marketplace_id for r in results} == {
        m for a in stack.sandbox.info()["accounts"] if a["kind"] == "seller" for m in a["marketplace_ids"]
    }
    for result in results:
        assert result.rows == sandbox_rows(stack, result.object_id)


def test_row_accounting_is_exact(pipeline):
    run = pipeline["run"]
    assert run.status == "SUCCEEDED"
    assert run.rows_read == run.curated + run.quarantined + run.deduplicated
    assert run.quarantined == 1
    assert run.quarantine_reasons == {"column_count": 1, "missing_required:seller_sku": 1}


def test_curated_rows_per_report_equal_the_sandbox_ground_truth(pipeline, stack):
    # Query through the catalog entry (DuckDB views are built from the Glue table's location and partition keys).
    con = connect_lake(stack.aws.endpoint)
    catalog_views(con, aws.client("glue"), stack.resources.database)
    # Several listings reports of one marketplace and day are deduplicated to one snapshot (the latest ingestion).
    per_day = dict(
        con.sql("""SELECT marketplace_id || '/' || snapshot_date, count(*)
                              FROM spapi_lake.merchant_listings GROUP BY 1""").fetchall()
    )
    for result in pipeline["results"]:
        assert per_day[f"{result.marketplace_id}/{result.data_date}"] == sandbox_rows(stack, result.object_id)
    assert per_day[f"{FRANCE}/{pipeline['bad'].data_date}"] == 1  # the good line of the bad document


def test_the_bad_line_is_in_quarantine_with_its_rule_and_raw_text(pipeline, stack):
    con = connect_lake(stack.aws.endpoint)
    rows = con.sql(f"""SELECT rules, raw_line FROM read_parquet(
        's3://{stack.resources.curated_bucket}/quarantine/merchant_listings/**/*.parquet', hive_partitioning = true)
        WHERE object_id = '{pipeline["bad"].object_id}'""").fetchall()
    assert rows == [("column_count:expected 29 got 3; missing_required:seller_sku", pipeline["broken"])]


def test_catalog_table_and_partitions_are_registered(pipeline, stack):
    glue = aws.client("glue")
    table = glue.get_table(DatabaseName=stack.resources.database, Name="merchant_listings")["Table"]
    partitions = glue.get_partitions(DatabaseName=stack.resources.database, TableName="merchant_listings")["Partitions"]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["marketplace_id", "snapshot_date"]
    assert {p["Values"][0] for p in partitions} >= {r.marketplace_id for r in pipeline["results"]}


def test_a_rerun_without_new_raw_data_writes_nothing(pipeline, stack):
    con = connect_lake(stack.aws.endpoint, str(pipeline["duckdb"]))
    before = con.sql("SELECT count(*) FROM merchant_listings").fetchone()[0]
    con.close()
    again = run_curation(stack, "merchant_listings")
    target, _ = publish_duckdb(stack, pipeline["duckdb"])
    con = connect_lake(stack.aws.endpoint, str(target))
    assert again.status == "NO_NEW_DATA" and again.rows_read == 0 and again.validation is None
    assert con.sql("SELECT count(*) FROM merchant_listings").fetchone()[0] == before


def test_the_run_keeps_its_validation_results_and_data_docs(pipeline, stack):
    run = pipeline["run"]
    assert run.validation.success and run.validation.failed == []
    s3 = aws.client("s3")
    results = s3.get_object(
        Bucket=stack.resources.curated_bucket, Key=f"_runs/merchant_listings/{run.run_id}.validation.json"
    )
    assert json.loads(results["Body"].read())["success"] is True
    stored = s3.get_object(Bucket=stack.resources.curated_bucket, Key=f"_runs/merchant_listings/{run.run_id}.json")
    assert set(json.loads(stored["Body"].read())) >= {  # the run report's keys stay; new ones may come
        "dataset", "run_id", "raw_objects", "rows_read", "curated", "quarantined", "deduplicated", "partitions",
        "replaced", "missing_columns", "extra_columns", "quarantine_reasons", "status", "validation",
    }  # fmt: skip
    index = s3.get_object(Bucket=stack.resources.curated_bucket, Key="_data_docs/merchant_listings/index.html")
    assert b"<html" in index["Body"].read().lower()


def test_a_batch_that_fails_its_suite_is_not_published_and_is_curated_by_the_next_run(pipeline, stack, monkeypatch):
    land_bad_document(stack, report_id="900000000002")
    con = connect_lake(stack.aws.endpoint)
    catalog_views(con, aws.client("glue"), stack.resources.database)
    before = con.sql("SELECT count(*) FROM spapi_lake.merchant_listings").fetchone()[0]
    failing = ValidationOutcome(
        success=False, evaluated=3, failed=["expect_column_values_to_not_be_null(asin): 1 unexpected"]
    )
    monkeypatch.setattr(job, "validate", lambda *args, **kwargs: failing)
    refused = run_curation(stack, "merchant_listings")
    assert refused.status == "VALIDATION_FAILED" and refused.validation.failed == failing.failed
    assert con.sql("SELECT count(*) FROM spapi_lake.merchant_listings").fetchone()[0] == before
    monkeypatch.undo()
    accepted = run_curation(stack, "merchant_listings")
    assert accepted.status == "SUCCEEDED" and accepted.raw_objects == 1 and accepted.curated == 1

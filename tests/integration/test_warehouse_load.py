"""The warehouse loader against real S3 (moto) and a real DuckDB file: COPY + MERGE from curated partitions, the load
ledger, repeated and failed loads, restatements, schema changes, and the same statements for Redshift.

The curated partitions here are Parquet files written by DuckDB itself (data columns only, as Spark writes them),
with run reports as the curation job leaves them; what the warehouse must hold is read back from those files, not
from the loader.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import boto3
import duckdb
import pytest

from glue_jobs.curate_reports.report import RunReport, report_key
from glue_jobs.errors import WarehouseLoadError
from glue_jobs.load_warehouse.executors import DuckDBExecutor, executor_for, read_s3
from glue_jobs.load_warehouse.job import LoadConfig, load, load_table, write_manifest
from glue_jobs.load_warehouse.statements import LEDGER, load_statements, table_statements
from lake_formation import registry
from lake_formation.registry import Column
from lake_formation.render import duckdb_type

if TYPE_CHECKING:
    from pathlib import Path

BUCKET = "warehouse-load-test"
NOW = datetime(2026, 12, 1, 7, tzinfo=UTC)


@pytest.fixture(scope="module")
def session(stack):
    boto = boto3.session.Session()
    boto.client("s3").create_bucket(Bucket=BUCKET)
    return boto


def _value(column: Column, i: int, version: int, key: bool, day: str) -> str:  # noqa: PLR0911 - one per type
    if column.type == "date":
        return f"CAST(DATE '{day}' + INTERVAL {i % 28} DAY AS DATE)" if day else f"DATE '2026-11-{1 + i % 28:02d}'"
    if column.type == "timestamp":
        return f"TIMESTAMP '2026-11-01 10:00:00' + INTERVAL {i + version * 1000} SECOND"
    if column.type in ("int", "bigint"):
        return f"CAST({i + (0 if key else version * 100)} AS {duckdb_type(column.type)})"
    if column.type == "double" or column.type.startswith("decimal"):
        return f"CAST({i + (0 if key else version * 100)}.25 AS {duckdb_type(column.type)})"
    if column.type == "boolean":
        return "true" if i % 2 else "false"
    if key and column.nullable and i % 2 == 0:
        return "CAST(NULL AS VARCHAR)"  # a key part Amazon leaves empty (settlements)
    return f"'{column.name}-{i}" + ("'" if key else f"-v{version}'")


def write_partition(session, name: str, values: dict[str, str], rows: range, version: int, tmp: Path) -> None:
    """A curated partition's Parquet file: the data columns only, in the registry's order."""
    dataset = registry.dataset(name)
    month_day = f"{values[dataset.partitions[1]]}-01" if dataset.month_column else ""
    select = " UNION ALL ".join(
        "SELECT " + ", ".join(f"{_value(c, i, version, c.name in dataset.dedupe_key, month_day)} AS {c.name}"
                              for c in dataset.data_columns)
        for i in rows
    )  # fmt: skip
    local = tmp / f"{name}-{version}.parquet"
    duckdb.sql(f"COPY ({select}) TO '{local}' (FORMAT parquet)")
    prefix = "/".join(f"{k}={v}" for k, v in values.items())
    s3 = session.client("s3")
    for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{name}/{prefix}/").get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])  # a rewrite replaces the partition's files
    if rows:
        s3.upload_file(str(local), BUCKET, f"{name}/{prefix}/part-00000-{version}.snappy.parquet")


def empty_partition(session, name: str, values: dict[str, str]) -> None:
    s3, prefix = session.client("s3"), "/".join(f"{k}={v}" for k, v in values.items())
    for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{name}/{prefix}/").get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])


def publish_run(session, name: str, run_id: str, partitions: list[dict[str, str]]) -> None:
    report = RunReport(dataset=name, run_id=run_id, raw_objects=1, status="SUCCEEDED", partitions=len(partitions),
                       partition_values=partitions)  # fmt: skip
    session.client("s3").put_object(Bucket=BUCKET, Key=report_key(name, run_id), Body=report.model_dump_json())


def curated_rows(session, name: str) -> list[tuple]:
    """Every row of the curated files as the warehouse should hold it: partition values from the paths."""
    dataset = registry.dataset(name)
    con = duckdb.connect()
    read_s3(con, session)
    hive = ", ".join(f"'{c.name}': '{duckdb_type(c.type)}'" for c in dataset.partition_columns)
    columns = ", ".join(c.name for c in dataset.columns)
    source = f"read_parquet('s3://{BUCKET}/{name}/**/*.parquet', hive_partitioning = true, hive_types = {{{hive}}})"
    try:
        return sorted(con.sql(f"SELECT {columns} FROM {source}").fetchall(), key=repr)
    except duckdb.IOException:  # no file at all
        return []
    finally:
        con.close()


def warehouse_rows(path: Path, name: str) -> list[tuple]:
    columns = ", ".join(c.name for c in registry.dataset(name).columns)
    with duckdb.connect(str(path), read_only=True) as con:
        return sorted(con.sql(f"SELECT {columns} FROM spapi.{name}").fetchall(), key=repr)


def ledger(path: Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return sorted(con.sql(f"SELECT table_name, run_id, load_id FROM spapi.{LEDGER}").fetchall())


def config(path: Path, load_id: str) -> LoadConfig:
    return LoadConfig(BUCKET, f"duckdb://{path}", "spapi", "arn:aws:iam::123456789012:role/copy", load_id)


def run_load(session, path: Path, load_id: str):
    executor = executor_for(f"duckdb://{path}", session)
    try:
        return load(session.client("s3"), executor, config(path, load_id), NOW)
    finally:
        executor.close()


NOV = {"marketplace_id": "ATVPDKIKX0DER", "month": "2026-11"}
DEC = {"marketplace_id": "ATVPDKIKX0DER", "month": "2026-12"}
SETTLED = {"marketplace_id": "ATVPDKIKX0DER", "period_date": "2026-11-20"}


def test_loads_replace_restated_rows_and_record_each_run_once(session, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    write_partition(session, "sales_and_traffic_by_date", NOV, range(20), 1, tmp_path)
    write_partition(session, "sales_and_traffic_by_date", DEC, range(3), 1, tmp_path)
    publish_run(session, "sales_and_traffic_by_date", "run-1", [NOV, DEC])
    write_partition(session, "settlements", SETTLED, range(6), 1, tmp_path)  # half its rows have NULL key parts
    publish_run(session, "settlements", "run-s1", [SETTLED])

    first = run_load(session, path, "load-1")
    assert first.tables["sales_and_traffic_by_date"].runs == ["run-1"]
    for name in ("sales_and_traffic_by_date", "settlements"):
        assert warehouse_rows(path, name) == curated_rows(session, name)
    assert len(warehouse_rows(path, "sales_and_traffic_by_date")) == 23

    # the same load again: nothing new, nothing changed
    again = run_load(session, path, "load-2")
    assert again.status == "NOTHING_NEW"
    assert ledger(path) == [("sales_and_traffic_by_date", "run-1", "load-1"), ("settlements", "run-s1", "load-1")]

    # a restated window: November rewritten (rows 0-14 at a new version, 15-19 gone, 20-24 new), December emptied
    write_partition(session, "sales_and_traffic_by_date", NOV, [i for i in range(25) if not 15 <= i < 20], 2,
                    tmp_path)  # fmt: skip
    empty_partition(session, "sales_and_traffic_by_date", DEC)
    publish_run(session, "sales_and_traffic_by_date", "run-2", [NOV, DEC])
    write_partition(session, "settlements", SETTLED, range(6), 2, tmp_path)  # the same keys, NULL parts and all
    publish_run(session, "settlements", "run-s2", [SETTLED])
    run_load(session, path, "load-3")
    for name in ("sales_and_traffic_by_date", "settlements"):
        assert warehouse_rows(path, name) == curated_rows(session, name)
    assert len(warehouse_rows(path, "sales_and_traffic_by_date")) == 20  # nothing of December, 15-19 gone
    assert len(warehouse_rows(path, "settlements")) == 6  # replaced in place, never doubled
    assert [(t, r) for t, r, _ in ledger(path)] == [
        ("sales_and_traffic_by_date", "run-1"),
        ("sales_and_traffic_by_date", "run-2"),
        ("settlements", "run-s1"),
        ("settlements", "run-s2"),
    ]

    # the same partitions loaded again under a new load id (a duplicate job run): rows and ledger unchanged
    before = ledger(path)
    executor = DuckDBExecutor(str(path), session)
    dataset = registry.dataset("sales_and_traffic_by_date")
    load_table(session.client("s3"), executor, config(path, "load-4"), dataset, set(), {c.name for c in
               dataset.columns} | {"_load_id"}, NOW)  # fmt: skip
    executor.close()
    assert warehouse_rows(path, "sales_and_traffic_by_date") == curated_rows(session, "sales_and_traffic_by_date")
    assert ledger(path) == before


class FailingExecutor(DuckDBExecutor):
    """Dies at the MERGE, half way through a table's transaction (as a lost connection or a full disk would)."""

    def _run(self, sql: str):  # type: ignore[no-untyped-def]
        if sql.startswith("MERGE INTO spapi.sales_and_traffic_by_date"):
            raise WarehouseLoadError("connection lost")
        return super()._run(sql)


def test_a_load_that_fails_half_way_leaves_nothing_and_the_next_loads_it_once(session, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    run_load(session, path, "load-a")  # whatever the bucket has (the test above), loaded
    rows, runs = warehouse_rows(path, "sales_and_traffic_by_date"), ledger(path)
    write_partition(session, "sales_and_traffic_by_date", NOV, range(8), 3, tmp_path)
    publish_run(session, "sales_and_traffic_by_date", "run-3", [NOV])
    failing = FailingExecutor(str(path), session)
    with pytest.raises(WarehouseLoadError):
        load(session.client("s3"), failing, config(path, "load-b"), NOW)
    failing.close()
    assert warehouse_rows(path, "sales_and_traffic_by_date") == rows  # rolled back
    assert ledger(path) == runs
    run_load(session, path, "load-c")
    assert warehouse_rows(path, "sales_and_traffic_by_date") == curated_rows(session, "sales_and_traffic_by_date")
    assert [r for t, r, _ in ledger(path) if r == "run-3"] == ["run-3"]


def test_a_column_the_registry_adds_is_added_to_the_loaded_table(session, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    run_load(session, path, "load-x")
    dataset = registry.dataset("sales_and_traffic_by_date")
    grown = dataset.model_copy(
        update={
            "columns": [
                *dataset.columns,
                Column(name="b2b_units", type="int", source="B2B Units", description="units ordered by B2B"),
            ]
        }
    )
    (alter,) = table_statements(grown, "spapi", {c.name for c in dataset.columns} | {"_load_id"})
    assert alter == "ALTER TABLE spapi.sales_and_traffic_by_date ADD COLUMN b2b_units INTEGER"
    executor = DuckDBExecutor(str(path), session)
    executor.transaction([alter])
    executor.close()
    with duckdb.connect(str(path), read_only=True) as con:
        counts = con.sql("SELECT count(*), count(b2b_units) FROM spapi.sales_and_traffic_by_date").fetchone()
    # the rows loaded before are all there, the new column empty in them
    assert counts == (len(curated_rows(session, "sales_and_traffic_by_date")), 0)
    assert counts[0] > 0


def test_the_same_key_in_two_partitions_stays_in_both_as_in_the_curated_zone(session, tmp_path):
    # curation dedupes across the partitions one run rewrites: two runs may leave one key in two partitions
    path = tmp_path / "warehouse.duckdb"
    other = {"marketplace_id": "ATVPDKIKX0DER", "period_date": "2026-11-21"}
    write_partition(session, "settlements", other, range(3), 5, tmp_path)  # rows 0-2: keys SETTLED also has
    publish_run(session, "settlements", "run-s5", [other])
    run_load(session, path, "load-p")
    assert warehouse_rows(path, "settlements") == curated_rows(session, "settlements")
    assert len(warehouse_rows(path, "settlements")) == 6 + 3


def test_a_first_load_takes_every_curated_partition_also_of_runs_from_before_the_warehouse(session, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    old = {"marketplace_id": "A1PA6795UKMFR9", "snapshot_date": "2026-10-01"}
    write_partition(session, "fba_inventory", old, range(4), 1, tmp_path)
    report = RunReport(dataset="fba_inventory", run_id="run-old", raw_objects=1, status="SUCCEEDED", partitions=1)
    session.client("s3").put_object(Bucket=BUCKET, Key=report_key("fba_inventory", "run-old"),
                                    Body=report.model_dump_json())  # a report without its partition list  # fmt: skip
    first = run_load(session, path, "load-first")
    assert first.tables["fba_inventory"].created and first.tables["fba_inventory"].runs == ["run-old"]
    assert warehouse_rows(path, "fba_inventory") == curated_rows(session, "fba_inventory")
    assert len(warehouse_rows(path, "fba_inventory")) == 4


def test_both_executors_receive_the_same_statements(session, tmp_path):
    from botocore.stub import Stubber  # noqa: PLC0415

    from glue_jobs.load_warehouse.executors import RedshiftDataExecutor  # noqa: PLC0415
    from glue_jobs.load_warehouse.statements import PartitionLoad  # noqa: PLC0415

    dataset = registry.dataset("settlements")
    manifest = write_manifest(session.client("s3"), config(tmp_path / "w.duckdb", "load-x"), dataset, SETTLED, 0)
    assert manifest is not None
    plan = load_statements(dataset, "spapi", [PartitionLoad(SETTLED, manifest)], ["run-x"], "load-x", NOW,
                           "arn:aws:iam::123456789012:role/copy")  # fmt: skip
    duck = DuckDBExecutor(str(tmp_path / "w.duckdb"), session)
    duck.transaction(["CREATE SCHEMA IF NOT EXISTS spapi", *table_statements(dataset, "spapi", None)])
    duck.transaction(
        [
            f"CREATE TABLE IF NOT EXISTS spapi.{LEDGER} (table_name VARCHAR(128), run_id VARCHAR(256), "
            "load_id VARCHAR(128), loaded_at TIMESTAMP, partitions INTEGER, rows_loaded BIGINT)"
        ]
    )
    duck.sent.clear()
    duck.transaction(plan)
    rows = duck.query("SELECT count(*) FROM spapi.settlements")
    duck.close()
    assert duck.sent[: len(plan)] == plan
    day = [c.name for c in dataset.columns].index("period_date")
    assert rows == [(len([r for r in curated_rows(session, "settlements") if str(r[day]) == "2026-11-20"]),)]
    assert rows[0][0] > 0  # the plan ran for real on DuckDB: copied, merged

    client = boto3.client("redshift-data", region_name="us-east-1")
    redshift = RedshiftDataExecutor(client, "spapi-lake", "spapi_lake", poll_s=0)
    with Stubber(client) as stub:
        stub.add_response("execute_statement", {"Id": "s-0", "SessionId": "session-1"},
                          {"Sql": "BEGIN", "WorkgroupName": "spapi-lake", "Database": "spapi_lake",
                           "SessionKeepAliveSeconds": 120})  # fmt: skip
        stub.add_response("describe_statement", {"Id": "s-0", "Status": "FINISHED"}, {"Id": "s-0"})
        for n, sql in enumerate([*plan, "COMMIT"], start=1):
            stub.add_response("execute_statement", {"Id": f"s-{n}"}, {"Sql": sql, "SessionId": "session-1"})
            stub.add_response("describe_statement", {"Id": f"s-{n}", "Status": "FINISHED"}, {"Id": f"s-{n}"})
        redshift.transaction(plan)
        stub.assert_no_pending_responses()
    assert redshift.sent == ["BEGIN", *plan, "COMMIT"]


def test_a_failed_redshift_statement_rolls_the_transaction_back_and_says_why():
    from botocore.stub import Stubber  # noqa: PLC0415

    from glue_jobs.load_warehouse.executors import RedshiftDataExecutor  # noqa: PLC0415

    client = boto3.client("redshift-data", region_name="us-east-1")
    redshift = RedshiftDataExecutor(client, "spapi-lake", "spapi_lake", poll_s=0)
    with Stubber(client) as stub:
        stub.add_response("execute_statement", {"Id": "s-0", "SessionId": "session-1"})
        stub.add_response("describe_statement", {"Id": "s-0", "Status": "FINISHED"})
        stub.add_response("execute_statement", {"Id": "s-1"})
        stub.add_response(
            "describe_statement",
            {"Id": "s-1", "Status": "FAILED", "Error": "ERROR: Spectrum Scan Error: file has changed"},
        )
        stub.add_response("execute_statement", {"Id": "s-2"}, {"Sql": "ROLLBACK", "SessionId": "session-1"})
        stub.add_response("describe_statement", {"Id": "s-2", "Status": "FINISHED"})
        with pytest.raises(WarehouseLoadError, match="file has changed"):
            redshift.transaction(["COPY files_x FROM 's3://b/m' IAM_ROLE 'r' FORMAT AS PARQUET MANIFEST"])
        stub.assert_no_pending_responses()


def test_redshift_query_results_are_read_page_by_page_with_their_types():
    from botocore.stub import Stubber  # noqa: PLC0415

    from glue_jobs.load_warehouse.executors import RedshiftDataExecutor  # noqa: PLC0415

    client = boto3.client("redshift-data", region_name="us-east-1")
    redshift = RedshiftDataExecutor(client, "spapi-lake", "spapi_lake", secret_arn="arn:aws:secretsmanager:x", poll_s=0)
    sql = "SELECT table_name, run_id FROM spapi.load_ledger"
    with Stubber(client) as stub:
        stub.add_response("execute_statement", {"Id": "q-1"}, {"Sql": sql, "WorkgroupName": "spapi-lake",
                          "Database": "spapi_lake", "SecretArn": "arn:aws:secretsmanager:x"})  # fmt: skip
        stub.add_response("describe_statement", {"Id": "q-1", "Status": "FINISHED"})
        stub.add_response("get_statement_result", {"Records": [[{"stringValue": "orders"}, {"longValue": 7}]],
                          "NextToken": "page-2"}, {"Id": "q-1"})  # fmt: skip
        stub.add_response("get_statement_result", {"Records": [[{"stringValue": "settlements"}, {"isNull": True}]]},
                          {"Id": "q-1", "NextToken": "page-2"})  # fmt: skip
        assert redshift.query(sql) == [("orders", 7), ("settlements", None)]
        stub.assert_no_pending_responses()

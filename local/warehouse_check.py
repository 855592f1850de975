"""The warehouse against the curated zone, as the simulation checks it every day: each curated table's rows (every
registry column) equal the warehouse table's, as multisets (no row missing, none extra, none twice), and the load
ledger holds every published curation run exactly once.

The curated zone is read through the catalog (local/query.py); the warehouse is the DuckDB file the loader job
loads offline (the warehouse stack's Executor=duckdb).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from glue_jobs.curate_reports.report import RunReport, report_keys
from glue_jobs.load_warehouse.statements import LEDGER
from ingestion_lambdas import aws
from lake_formation import registry

if TYPE_CHECKING:
    import duckdb

    from local.stack import LocalStack
    from local.truth_check import TruthCheck


def published_runs(bucket: str, table: str) -> set[str]:
    """The curation runs of a table that published partitions: the ones the ledger must hold."""
    s3, runs = aws.client("s3"), set()
    for _, key in report_keys(s3, bucket, table):
        report = RunReport.model_validate_json(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        if report.status == "SUCCEEDED" and report.partition_values:
            runs.add(report.run_id)
    return runs


def check_warehouse(stack: LocalStack, con: duckdb.DuckDBPyConnection, tables: set[str]) -> TruthCheck:
    """`con` reads the curated zone's `tables` (views in the catalog database's schema)."""
    from local.truth_check import MAX_LISTED, TruthCheck  # noqa: PLC0415 - it imports this module

    assert stack.resources is not None  # noqa: S101
    result, database = TruthCheck("warehouse"), stack.resources.database
    schema = stack.resources.outputs["WarehouseSchema"]
    con.sql(f"ATTACH '{stack.resources.warehouse}' AS warehouse (READ_ONLY)")
    try:
        ledger = f"SELECT table_name, run_id, count(*) FROM warehouse.{schema}.{LEDGER} GROUP BY ALL"
        loaded = {(str(t), str(r)): int(n) for t, r, n in con.sql(ledger).fetchall()}
        for name in sorted(tables & set(registry.load_all())):
            columns = ", ".join(f'"{c.name}"' for c in registry.dataset(name).columns)
            curated = f'SELECT {columns} FROM "{database}"."{name}"'
            stored = f"SELECT {columns} FROM warehouse.{schema}.{name}"
            (rows,) = con.sql(f"SELECT count(*) FROM ({curated})").fetchone() or (0,)
            (missing,) = con.sql(f"SELECT count(*) FROM ({curated} EXCEPT ALL {stored})").fetchone() or (0,)
            (extra,) = con.sql(f"SELECT count(*) FROM ({stored} EXCEPT ALL {curated})").fetchone() or (0,)
            result.rows += rows
            if missing or extra:
                result.differences.append(f"{name}: {missing} of {rows} curated rows not in the warehouse, "
                                          f"{extra} warehouse rows not curated")  # fmt: skip
            runs = published_runs(stack.resources.curated_bucket, name)
            result.differences += [f"{name}: run {run} in the ledger {loaded.get((name, run), 0)} times"
                                   for run in sorted(runs) if loaded.get((name, run), 0) != 1]  # fmt: skip
    finally:
        con.sql("DETACH warehouse")
    result.differences = result.differences[:MAX_LISTED]
    return result

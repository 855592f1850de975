"""DuckDB as the offline Athena/Redshift: views over the curated zone built from the Glue Data Catalog entries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import duckdb
import sqlglot

from glue_jobs.load_warehouse.executors import read_s3
from lake_formation.render import duckdb_type

if TYPE_CHECKING:
    from pathlib import Path


def connect_lake(s3_endpoint: str, database_file: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that reads s3:// from the given endpoint, with the environment's credentials (httpfs)."""
    con = duckdb.connect(database_file)
    read_s3(con, boto3.session.Session(), s3_endpoint)
    return con


def parquet_source(table: dict[str, Any]) -> str:
    """The DuckDB relation reading a Glue table's Parquet files, with its partition key types."""
    location = table["StorageDescriptor"]["Location"].rstrip("/")
    hive_types = ", ".join(f"'{k['Name']}': '{duckdb_type(k['Type'])}'" for k in table.get("PartitionKeys", []))
    return f"read_parquet('{location}/**/*.parquet', hive_partitioning = true, hive_types = {{{hive_types}}})"


def has_data(glue: Any, database: str, table: str) -> bool:
    return bool(glue.get_partitions(DatabaseName=database, TableName=table, MaxResults=1)["Partitions"])


def catalog_tables(glue: Any, database: str) -> list[dict[str, Any]]:
    return [t for page in glue.get_paginator("get_tables").paginate(DatabaseName=database) for t in page["TableList"]]


def catalog_views(con: duckdb.DuckDBPyConnection, glue: Any, database: str) -> list[str]:
    """Create one view per Glue table of `database` that holds data (a partition at least), reading its location
    with its partition key types; returns their names. Every column: the pipeline's own reader (the simulation's
    checks, the exported DuckDB file); analysts read through `LakeGrants.open` instead."""
    con.sql(f'CREATE SCHEMA IF NOT EXISTS "{database}"')
    names = []
    for table in catalog_tables(glue, database):
        if table.get("TableType") == "VIRTUAL_VIEW" or not has_data(glue, database, table["Name"]):
            continue
        con.sql(f'CREATE OR REPLACE VIEW "{database}"."{table["Name"]}" AS SELECT * FROM {parquet_source(table)}')
        names.append(table["Name"])
    return names


def export_tables(con: duckdb.DuckDBPyConnection, database: str, tables: list[str], target: Path) -> Path:
    """Copy the catalog's tables into a DuckDB file the user can open after the demo's servers are gone."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    con.sql(f"ATTACH '{target}' AS out_db")
    for table in tables:
        con.sql(f'CREATE TABLE out_db."{table}" AS SELECT * FROM "{database}"."{table}"')
    con.sql("DETACH out_db")
    return target


def athena(con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.DuckDBPyRelation:
    """Run Athena SQL (as the views and insights are written) on DuckDB, transpiled by sqlglot."""
    return con.sql(sqlglot.transpile(sql, read="athena", write="duckdb")[0])

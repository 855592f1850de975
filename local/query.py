"""DuckDB as the offline Athena/Redshift: views over the curated zone built from the Glue Data Catalog entries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import duckdb
import sqlglot
from duckdb_extensions import import_extension

if TYPE_CHECKING:
    from pathlib import Path

DUCKDB_TYPES = {
    "string": "VARCHAR",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "boolean": "BOOLEAN",
    "double": "DOUBLE",
}


def connect_lake(s3_endpoint: str, database_file: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that reads s3:// from the given endpoint (httpfs from its offline wheel)."""
    con = duckdb.connect(database_file)
    import_extension("httpfs", con=con)
    con.sql("LOAD httpfs")
    endpoint = urlparse(s3_endpoint)
    con.sql(f"""CREATE OR REPLACE SECRET lake (TYPE s3, KEY_ID 'testing', SECRET 'testing', REGION 'us-east-1',
                ENDPOINT '{endpoint.netloc}', URL_STYLE 'path', USE_SSL {str(endpoint.scheme == "https").lower()})""")
    return con


def catalog_views(con: duckdb.DuckDBPyConnection, glue: Any, database: str) -> list[str]:
    """Create one view per Glue table of `database`, reading its location with its partition key types."""
    con.sql(f'CREATE SCHEMA IF NOT EXISTS "{database}"')
    names = []
    for page in glue.get_paginator("get_tables").paginate(DatabaseName=database):
        for table in page["TableList"]:
            location = table["StorageDescriptor"]["Location"].rstrip("/")
            hive_types = ", ".join(
                f"'{k['Name']}': '{DUCKDB_TYPES.get(k['Type'], 'VARCHAR')}'" for k in table.get("PartitionKeys", [])
            )
            con.sql(f"""CREATE OR REPLACE VIEW "{database}"."{table["Name"]}" AS
                        SELECT * FROM read_parquet('{location}/**/*.parquet', hive_partitioning = true,
                                                   hive_types = {{{hive_types}}})""")
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

"""The warehouse load's SQL, generated once from the schema registry, in Redshift's dialect.

Every statement here goes unchanged to whichever executor the configuration chooses (executors.py): Redshift through
the Data API on AWS, a DuckDB file offline (which reads the same text through sqlglot, and performs Redshift's COPY
itself). Nothing here knows which one runs it.

One dataset's load is one transaction (`load_statements`):

1. two temporary tables: the files' columns (COPY from Parquet fills columns by position and the files hold no
   partition column), and the table's columns;
2. per touched partition, `COPY … FORMAT AS PARQUET MANIFEST` of exactly the files the partition has now (listed in
   a manifest the loader writes), then an INSERT adding the partition's values; an emptied partition has no file;
3. `MERGE` into the table on the partition and the registry's dedupe key (null-safe: some keys have nullable
   columns), stamping each merged row with the load's id; then every other row of the touched partitions is deleted:
   what the curated zone no longer holds there (a restated window that dropped a row) leaves the warehouse too;
4. one ledger row per curation run loaded, unless the ledger has it already.

So a table equals its curated partitions after every load, a repeated load changes nothing, and a load that fails
half way leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lake_formation.render import redshift_column, redshift_ddl, redshift_type

if TYPE_CHECKING:
    from datetime import datetime

    from lake_formation.registry import Column, Dataset

LEDGER = "load_ledger"
LOAD_ID = "_load_id"  # the loader's own column: which load wrote the row
LOAD_ID_COLUMN = f"{LOAD_ID} VARCHAR(128)"


@dataclass(frozen=True)
class PartitionLoad:
    """One touched partition of a load: its values (name → text), and the COPY manifest of the Parquet files it has
    now (None: the partition is empty now, its rows are all deleted)."""

    values: dict[str, str]
    manifest: str | None


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def schema_statement(schema: str) -> str:
    return f"CREATE SCHEMA IF NOT EXISTS {schema}"


def ledger_ddl(schema: str) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {schema}.{LEDGER} (\n  table_name VARCHAR(128) NOT NULL,\n"
        f"  run_id VARCHAR(256) NOT NULL,\n  load_id VARCHAR(128) NOT NULL,\n  loaded_at TIMESTAMP NOT NULL,\n"
        f"  partitions INTEGER NOT NULL,\n  rows_loaded BIGINT NOT NULL\n)"
    )


def ledger_query(schema: str) -> str:
    return f"SELECT table_name, run_id FROM {schema}.{LEDGER}"


def columns_query(schema: str) -> str:
    """The warehouse's tables and their columns (information_schema: Redshift and DuckDB both have it)."""
    return f"SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = {_literal(schema)}"


def table_statements(dataset: Dataset, schema: str, existing: set[str] | None) -> list[str]:
    """What makes the warehouse table match the registry: the table if it is missing (`existing` None), else one
    ALTER TABLE per registry column it lacks (the registry adds columns as nullable; a new required column cannot
    be added to rows already loaded, and is refused by Redshift and DuckDB alike)."""
    if existing is None:
        return [redshift_ddl(dataset, schema, (LOAD_ID_COLUMN,))]
    return [f"ALTER TABLE {schema}.{dataset.table} ADD COLUMN {redshift_column(c)}"
            for c in dataset.columns if c.name not in existing]  # fmt: skip


def _typed_columns(columns: list[Column]) -> str:
    return ", ".join(f"{c.name} {redshift_type(c.type)}" for c in columns)


def _same(left: str, right: str, column: Column) -> str:
    equal = f"{left}.{column.name} = {right}.{column.name}"
    if not column.nullable:
        return equal
    return f"({equal} OR ({left}.{column.name} IS NULL AND {right}.{column.name} IS NULL))"


def _in_partitions(dataset: Dataset, table: str, partitions: list[PartitionLoad]) -> str:
    by_name = {c.name: c for c in dataset.partition_columns}
    clauses = [
        "(" + " AND ".join(f"{table}.{name} = CAST({_literal(value)} AS {redshift_type(by_name[name].type)})"
                           for name, value in p.values.items()) + ")"
        for p in partitions
    ]  # fmt: skip
    return "(" + " OR ".join(clauses) + ")"


def load_statements(  # noqa: PLR0913 - what one load of one table is made of
    dataset: Dataset,
    schema: str,
    partitions: list[PartitionLoad],
    runs: list[str],
    load_id: str,
    loaded_at: datetime,
    copy_role: str,
) -> list[str]:
    """One dataset's load, in order, as one transaction (see the module's docstring)."""
    target, files, stage = f"{schema}.{dataset.table}", f"files_{dataset.table}", f"stage_{dataset.table}"
    names = [c.name for c in dataset.columns]
    by_name = {c.name: c for c in dataset.columns}
    statements = [
        f"CREATE TEMP TABLE {files} ({_typed_columns(dataset.data_columns)})",
        f"CREATE TEMP TABLE {stage} ({_typed_columns(dataset.columns)})",
    ]
    for partition in partitions:
        if partition.manifest is None:
            continue
        values = {name: f"CAST({_literal(value)} AS {redshift_type(by_name[name].type)})"
                  for name, value in partition.values.items()}  # fmt: skip
        selected = ", ".join(values.get(name, name) for name in names)
        statements += [
            f"COPY {files} FROM {_literal(partition.manifest)} IAM_ROLE {_literal(copy_role)} "
            "FORMAT AS PARQUET MANIFEST",
            f"INSERT INTO {stage} ({', '.join(names)}) SELECT {selected} FROM {files}",
            f"DELETE FROM {files}",
        ]
    # A row is its partition's: the curated zone dedupes across the partitions one run rewrites, so the same key may
    # stand in two partitions written by different runs, and the warehouse holds both, as the lake does.
    matched = list(dict.fromkeys([*dataset.partitions, *dataset.dedupe_key]))
    key = [by_name[name] for name in matched]
    updated = [name for name in names if name not in matched] + [LOAD_ID]
    source = {**{name: f"{stage}.{name}" for name in names}, LOAD_ID: _literal(load_id)}
    statements += [
        f"MERGE INTO {target} USING {stage} ON {' AND '.join(_same(target, stage, c) for c in key)} "
        f"WHEN MATCHED THEN UPDATE SET {', '.join(f'{name} = {source[name]}' for name in updated)} "
        f"WHEN NOT MATCHED THEN INSERT ({', '.join([*names, LOAD_ID])}) "
        f"VALUES ({', '.join(source[name] for name in [*names, LOAD_ID])})",
        f"DELETE FROM {target} WHERE {_in_partitions(dataset, target, partitions)} "
        f"AND ({target}.{LOAD_ID} IS NULL OR {target}.{LOAD_ID} <> {_literal(load_id)})",
    ]
    ledger = f"{schema}.{LEDGER}"
    for run in runs:
        statements.append(
            f"INSERT INTO {ledger} (table_name, run_id, load_id, loaded_at, partitions, rows_loaded) "
            f"SELECT {_literal(dataset.table)}, {_literal(run)}, {_literal(load_id)}, "
            f"CAST({_literal(loaded_at.strftime('%Y-%m-%d %H:%M:%S'))} AS TIMESTAMP), {len(partitions)}, staged.n "
            f"FROM (SELECT COUNT(*) AS n FROM {stage}) AS staged WHERE NOT EXISTS (SELECT 1 FROM {ledger} WHERE "
            f"{ledger}.table_name = "
            f"{_literal(dataset.table)} AND {ledger}.run_id = {_literal(run)})"
        )
    return [*statements, f"DROP TABLE {stage}", f"DROP TABLE {files}"]

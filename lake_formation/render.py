"""Renderers: registry → Glue TableInput, Athena and Redshift DDL, expectation suites, the report plan. (Spark types
live with the Glue jobs' I/O.)

One type-mapping function per engine; each registry type maps to exactly one engine type.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from lake_formation import registry

if TYPE_CHECKING:
    from lake_formation.registry import Column, Dataset

# The report plan's own settings (not per report type): how far back a new deployment requests, and how often a
# window Amazon still restates is requested again.
PLAN_SETTINGS = {"lookback_days": 30, "restate_after_hours": 12}


def glue_type(registry_type: str) -> str:
    """Hive/Athena type names, as the Glue Data Catalog stores them."""
    return registry_type  # the registry's vocabulary is Hive's: string, int, bigint, decimal(p,s), timestamp, date, ...


def redshift_type(registry_type: str) -> str:
    mapping = {
        "string": "VARCHAR(65535)",
        "int": "INTEGER",
        "bigint": "BIGINT",
        "double": "DOUBLE PRECISION",
        "boolean": "BOOLEAN",
        "date": "DATE",
        "timestamp": "TIMESTAMP",
    }
    if registry_type.startswith("decimal"):
        return registry_type.upper()
    return mapping[registry_type]


def _glue_column(column: Column) -> dict[str, Any]:
    return {"Name": column.name, "Type": glue_type(column.type), "Comment": column.description[:255]}


def glue_table_input(dataset: Dataset, location: str) -> dict[str, Any]:
    """A Glue TableInput for the curated Parquet table at `location`."""
    return {
        "Name": dataset.table,
        "Description": dataset.description,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {
            "classification": "parquet",
            "EXTERNAL": "TRUE",
            "parquet.compression": "SNAPPY",
            "spapi_source": dataset.source.raw_name,
        },
        "PartitionKeys": [_glue_column(c) for c in dataset.partition_columns],
        "StorageDescriptor": {
            "Columns": [_glue_column(c) for c in dataset.data_columns],
            "Location": location,
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {
                "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                "Parameters": {"serialization.format": "1"},
            },
        },
    }


def glue_partition_input(dataset: Dataset, location: str, values: dict[str, str]) -> dict[str, Any]:
    path = "/".join(f"{name}={values[name]}" for name in dataset.partitions)
    table = glue_table_input(dataset, location)["StorageDescriptor"]
    return {
        "Values": [values[name] for name in dataset.partitions],
        "StorageDescriptor": {**table, "Location": f"{location.rstrip('/')}/{path}/"},
    }


def athena_ddl(dataset: Dataset, database: str, location: str) -> str:
    columns = ",\n  ".join(
        f"`{c.name}` {glue_type(c.type)} COMMENT '{_quote(c.description)}'" for c in dataset.data_columns
    )
    partitions = ", ".join(f"`{c.name}` {glue_type(c.type)}" for c in dataset.partition_columns)
    return (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `{database}`.`{dataset.table}` (\n  {columns}\n)\n"
        f"COMMENT '{_quote(dataset.description)}'\nPARTITIONED BY ({partitions})\nSTORED AS PARQUET\n"
        f"LOCATION '{location}'\nTBLPROPERTIES ('parquet.compression'='SNAPPY')"
    )


def redshift_ddl(dataset: Dataset, schema: str) -> str:
    columns = ",\n  ".join(
        f"{c.name} {redshift_type(c.type)}{'' if c.nullable else ' NOT NULL'}" for c in dataset.columns
    )
    return f"CREATE TABLE IF NOT EXISTS {schema}.{dataset.table} (\n  {columns}\n)"


def _quote(text: str) -> str:
    return text.replace("'", "''")


def expectations(dataset: Dataset) -> list[dict[str, Any]]:
    """The column-level expectation suite of a curated batch, engine-neutral: great-expectations type names and
    keyword arguments (the Glue job turns them into a suite). Every declared column exists, required columns are
    never null, and the dedupe key is unique after deduplication."""
    suite: list[dict[str, Any]] = [
        {"type": "expect_column_to_exist", "kwargs": {"column": c.name}} for c in dataset.columns
    ]
    suite += [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": c.name}}
        for c in dataset.columns
        if not c.nullable
    ]
    if len(dataset.dedupe_key) == 1:
        suite.append({"type": "expect_column_values_to_be_unique", "kwargs": {"column": dataset.dedupe_key[0]}})
    else:
        suite.append({"type": "expect_compound_columns_to_be_unique",
                      "kwargs": {"column_list": list(dataset.dedupe_key), "ignore_row_if": "never"}})  # fmt: skip
    return suite


def report_plan() -> dict[str, Any]:
    """The report plan deployed to Parameter Store (cloudformation/report-plan.json): one entry per report type the
    registry requests, with its account kind and request rules."""
    reports = []
    for source, request in sorted(registry.requested_reports(), key=lambda item: str(item[0].report_type)):
        entry: dict[str, Any] = {"report_type": source.report_type, "account_kind": source.account_kind}
        entry.update(request.model_dump(exclude_defaults=True))
        reports.append(entry)
    return {**PLAN_SETTINGS, "reports": reports}


def report_plan_json() -> str:
    return json.dumps(report_plan(), indent=2) + "\n"


if __name__ == "__main__":  # python -m lake_formation.render > cloudformation/report-plan.json
    sys.stdout.write(report_plan_json())

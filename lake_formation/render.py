"""Renderers: registry → Glue TableInput, Athena and Redshift DDL, expectation suites, the report plan. (Spark types
live with the Glue jobs' I/O.)

One type-mapping function per engine; each registry type maps to exactly one engine type.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
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


DUCKDB_TYPES = {
    "string": "VARCHAR",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "boolean": "BOOLEAN",
    "double": "DOUBLE",
}


def duckdb_type(glue_type: str) -> str:
    return glue_type.upper() if glue_type.startswith("decimal") else DUCKDB_TYPES.get(glue_type, "VARCHAR")


def empty_source(table: dict[str, Any]) -> str:
    """A table with no data yet: its columns, typed, and no rows (as Athena answers a table with no partitions)."""
    columns = table["StorageDescriptor"]["Columns"] + table.get("PartitionKeys", [])
    return (
        "(SELECT "
        + ", ".join(f'CAST(NULL AS {duckdb_type(c["Type"])}) AS "{c["Name"]}"' for c in columns)
        + " WHERE false)"
    )


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


def curated_location(bucket: str, table: str) -> str:
    """Where a curated table's Parquet files are (its Glue table's Location)."""
    return f"s3://{bucket}/{table}/"


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


def redshift_column(column: Column) -> str:
    return f"{column.name} {redshift_type(column.type)}{'' if column.nullable else ' NOT NULL'}"


def redshift_keys(dataset: Dataset) -> str:
    """Distribution and sort keys from the grain: rows are spread by the first key column that is neither a
    partition nor a day (an order id, a SKU, an ASIN: many distinct values, joined on), or evenly where the key
    has none; and sorted by the curation day, then marketplace, which is how analysts filter."""
    day = dataset.curation.day
    spread = [c for c in dataset.dedupe_key if c not in dataset.partitions and c != day]
    distribution = f"DISTSTYLE KEY DISTKEY ({spread[0]})" if spread else "DISTSTYLE EVEN"
    return f"{distribution} SORTKEY ({day}, marketplace_id)"


def redshift_ddl(dataset: Dataset, schema: str, extra_columns: tuple[str, ...] = ()) -> str:
    """The warehouse table of a dataset: every registry column, then `extra_columns` (the loader's own, as
    `name TYPE` text), with its distribution and sort keys."""
    columns = ",\n  ".join([redshift_column(c) for c in dataset.columns] + list(extra_columns))
    return f"CREATE TABLE IF NOT EXISTS {schema}.{dataset.table} (\n  {columns}\n)\n{redshift_keys(dataset)}"


def _quote(text: str) -> str:
    return text.replace("'", "''")


# A marketplace's rows per curation day may move between half and twice the previous run's before the suite refuses
# the batch. Per day, not per run: a month-to-date window on the 2nd holds one day, the whole month the day before.
ROW_COUNT_BAND = (0.5, 2.0)
ROW_COUNT = "expect_table_row_count_to_be_between"  # the row-count expectation: run reports name it when it fails


@dataclass(frozen=True)
class RunContext:
    """What a run knows beyond the registry, for the expectations that depend on its time and on earlier runs."""

    now: datetime  # the run's time (UTC)
    newest_day: date | None = None  # the newest curation day the curated table already holds (None: nothing yet)
    batch_days: Mapping[str, int] = field(default_factory=dict)  # marketplace_id → curation days the batch spans
    # The previous run's batch: marketplace_id → (rows, curation days); empty on the first run.
    previous: Mapping[str, tuple[int, int]] = field(default_factory=dict)


def expectations(dataset: Dataset, run: RunContext | None = None) -> list[dict[str, Any]]:
    """The expectation suite of a curated batch, engine-neutral: great-expectations type names, keyword arguments
    and notes (the Glue job turns them into a suite).

    From the registry's columns: every declared column exists, required columns are never null, the dedupe key is
    unique after deduplication, values are within their declared min/max and accepted values, and a currency column
    holds its marketplace's currency. With the run's context, two table-level checks: the dataset's newest curation
    day is at most `freshness_days` before the run, and each marketplace's rows per curation day are within
    ROW_COUNT_BAND of the previous run's (skipped for a marketplace the previous run did not have, and on the first).

    Example:
        >>> [e["type"] for e in expectations(registry.dataset("orders")) if e["kwargs"].get("column") == "quantity"]
        ['expect_column_to_exist', 'expect_column_values_to_be_between']
    """
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
    for column in dataset.columns:
        suite += _value_expectations(column)
    if run is not None:
        suite += _freshness(dataset, run) + _row_counts(run)
    return suite


def _value_expectations(column: Column) -> list[dict[str, Any]]:
    """A column's declared value rules (great-expectations counts nulls against none of them)."""
    rules: list[dict[str, Any]] = []
    if column.min is not None or column.max is not None:
        bounds = {k: v for k, v in (("min_value", column.min), ("max_value", column.max)) if v is not None}
        rules.append({"type": "expect_column_values_to_be_between", "kwargs": {"column": column.name, **bounds}})
    if column.accepted_values is not None:
        rules.append({"type": "expect_column_values_to_be_in_set",
                      "kwargs": {"column": column.name, "value_set": list(column.accepted_values)}})  # fmt: skip
    if column.currency == "marketplace":
        pairs = [[market, currency] for market, currency in sorted(registry.MARKETPLACE_CURRENCIES.items())]
        rules.append({
            "type": "expect_column_pair_values_to_be_in_set",
            "kwargs": {"column_A": "marketplace_id", "column_B": column.name, "value_pairs_set": pairs,
                       "ignore_row_if": "either_value_is_missing"},  # no currency: Amazon priced nothing yet
            "notes": f"{column.name} is the currency of the row's marketplace",
        })  # fmt: skip
    return rules


def _freshness(dataset: Dataset, run: RunContext) -> list[dict[str, Any]]:
    """The newest curation day after this run is at most `freshness_days` before the run. When the curated table
    already holds a day that recent, any batch keeps it so (a backfill of old days included): nothing to check."""
    if dataset.freshness_days is None or not run.batch_days:  # an empty batch changes nothing
        return []
    day = dataset.curation.day
    run_day = run.now.astimezone(UTC).date()
    oldest_fresh = run_day - timedelta(days=dataset.freshness_days)
    if run.newest_day is not None and run.newest_day >= oldest_fresh:
        return []
    return [{
        "type": "expect_column_max_to_be_between",
        "kwargs": {"column": day, "min_value": oldest_fresh},
        "notes": f"the newest {day} may be {dataset.freshness_days} days before the run on {run_day.isoformat()}",
    }]  # fmt: skip


def _row_counts(run: RunContext) -> list[dict[str, Any]]:
    """Each marketplace's rows in the batch, against the previous run's rows per curation day times the batch's
    days in that marketplace."""
    low, high = ROW_COUNT_BAND
    rules: list[dict[str, Any]] = []
    for market, days in sorted(run.batch_days.items()):
        if market not in run.previous:
            continue
        rows, previous_days = run.previous[market]
        per_day = rows / max(previous_days, 1)
        rules.append({
            "type": ROW_COUNT,
            "kwargs": {
                "min_value": math.floor(low * per_day * days),
                "max_value": math.ceil(high * per_day * days),
                "row_condition": {"type": "comparison", "column": {"name": "marketplace_id"}, "operator": "==",
                                  "parameter": market},
            },
            "meta": {"marketplace_id": market},
            "notes": f"{low:.0%} to {high:.0%} of the previous run's {per_day:.1f} rows per day, times {days} "
                     f"day{'s' * (days != 1)}",
        })  # fmt: skip
    return rules


def report_plan() -> dict[str, Any]:
    """The report plan deployed to Parameter Store (cloudformation/report-plan.json): one entry per report type the
    registry requests, with its account kind and request rules."""
    reports = []
    for source, request in sorted(registry.requested_reports(), key=lambda item: str(item[0].report_type)):
        entry: dict[str, Any] = {"report_type": source.report_type, "account_kind": source.account_kind}
        entry |= {} if request.snapshot else {"window": request.window}
        entry.update(request.model_dump(exclude_defaults=True))
        reports.append(entry)
    return {**PLAN_SETTINGS, "reports": reports}


def report_plan_json() -> str:
    return json.dumps(report_plan(), indent=2) + "\n"


if __name__ == "__main__":  # python -m lake_formation.render > cloudformation/report-plan.json
    sys.stdout.write(report_plan_json())

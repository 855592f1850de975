"""Glue job: load the curated zone's newly curated partitions into the warehouse, exactly once per curation run.

Arguments: --curated_bucket B --warehouse URL --schema S --copy_role_arn ARN (Redshift's role for COPY; any text
offline). The --warehouse URL chooses the executor (executors.py): Redshift Serverless through the Data API, or a
DuckDB file offline; the statements are the same (statements.py).

A Glue job (Python on the Glue 5.0 runtime, no Spark used) because it runs in the curation workflow, after the
curation runs, from the same package; Redshift does the work (COPY reads S3 itself), the job only plans the load,
writes the COPY manifests and waits on the Data API, which can take longer than a Lambda may run.

Per dataset: the table is created from the registry or given the columns the registry added (ALTER TABLE); the
curation runs that succeeded and that the ledger does not have are read from their run reports; the partitions
they touched (for a table never loaded, every partition the curated zone has) are loaded in one transaction, which also
writes their ledger rows. A table whose load fails is rolled back and the others go on; the job then fails, and the
next load takes that table's runs again. A load with nothing new changes nothing.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import boto3
from pydantic import BaseModel, ConfigDict, ValidationError

from glue_jobs.curate_reports.report import RunReport, report_key, report_keys
from glue_jobs.errors import WarehouseLoadError
from glue_jobs.load_warehouse.executors import executor_for
from glue_jobs.load_warehouse.statements import (
    PartitionLoad,
    columns_query,
    ledger_ddl,
    ledger_query,
    load_statements,
    schema_statement,
    table_statements,
)
from lake_formation import registry
from lake_formation.render import curated_location

if TYPE_CHECKING:
    from glue_jobs.load_warehouse.executors import Executor
    from lake_formation.registry import Dataset

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadConfig:
    curated_bucket: str
    warehouse: str
    schema: str
    copy_role_arn: str
    load_id: str


def parse_args(argv: list[str]) -> LoadConfig:
    from awsglue.utils import getResolvedOptions  # noqa: PLC0415 - Glue's argument parser, only at the entry point

    args = getResolvedOptions(argv, ["curated_bucket", "warehouse", "schema", "copy_role_arn"])
    load_id = args.get("JOB_RUN_ID") or f"load-{uuid.uuid4().hex[:12]}"
    return LoadConfig(args["curated_bucket"], args["warehouse"], args["schema"], args["copy_role_arn"], load_id)


class TableLoad(BaseModel):
    """What one load did to one table."""

    model_config = ConfigDict(frozen=True)

    runs: list[str] = []  # the curation runs loaded (now in the ledger)
    partitions: int = 0  # partitions copied again (emptied ones included)
    columns_added: list[str] = []  # registry columns the table was given (ALTER TABLE)
    created: bool = False


class LoadReport(BaseModel):
    """One load, written to s3://<curated>/_loads/<load id>/report.json."""

    model_config = ConfigDict(frozen=True)

    load_id: str
    status: Literal["LOADED", "NOTHING_NEW", "FAILED"]
    tables: dict[str, TableLoad]
    failed: dict[str, str] = {}  # table → why its load failed (rolled back; the next load takes its runs again)


def pending_runs(s3: Any, bucket: str, table: str, loaded: set[str], everything: bool = False) -> list[RunReport]:
    """The table's curation runs that published partitions and that the ledger does not have, oldest first. With
    `everything`, every run that succeeded (also those whose report predates its partition list)."""
    runs = []
    for _, key in report_keys(s3, bucket, table):
        run_id = key.rsplit("/", 1)[-1].removesuffix(".json")
        if run_id in loaded or key != report_key(table, run_id):
            continue
        try:
            report = RunReport.model_validate_json(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except ValidationError as err:  # a report this code cannot read: say so, load the others
            logger.warning(json.dumps({"event": "unreadable_run_report", "key": key, "error": str(err)[:300]}))
            continue
        if report.status == "SUCCEEDED" and (report.partition_values or everything):
            runs.append(report)
    return runs


def curated_partitions(s3: Any, bucket: str, dataset: Dataset) -> list[dict[str, str]]:
    """Every partition of a curated table that has files (name → value), from the keys under its location."""
    prefix = curated_location(bucket, dataset.table).split(f"{bucket}/", 1)[1]
    found: dict[tuple[str, ...], dict[str, str]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            folders = item["Key"].removeprefix(prefix).split("/")[:-1]
            values = dict(folder.split("=", 1) for folder in folders if "=" in folder)
            if item["Key"].endswith(".parquet") and list(values) == dataset.partitions:
                found[tuple(values.values())] = values
    return list(found.values())


def write_manifest(s3: Any, config: LoadConfig, dataset: Dataset, values: dict[str, str], number: int) -> str | None:
    """A COPY manifest of the Parquet files a curated partition has now (None: it has none, it was emptied)."""
    location = curated_location(config.curated_bucket, dataset.table)
    prefix = location.split(f"{config.curated_bucket}/", 1)[1] + "/".join(f"{k}={v}" for k, v in values.items()) + "/"
    entries = [
        {"url": f"s3://{config.curated_bucket}/{item['Key']}", "mandatory": True,
         "meta": {"content_length": item["Size"]}}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=config.curated_bucket, Prefix=prefix)
        for item in page.get("Contents", []) if item["Key"].endswith(".parquet")
    ]  # fmt: skip
    if not entries:
        return None
    key = f"_loads/{config.load_id}/{dataset.table}/{number:05d}.manifest"
    s3.put_object(Bucket=config.curated_bucket, Key=key, Body=json.dumps({"entries": entries}).encode())
    return f"s3://{config.curated_bucket}/{key}"


def load_table(  # noqa: PLR0913 - one table's load and what the warehouse already holds
    s3: Any,
    executor: Executor,
    config: LoadConfig,
    dataset: Dataset,
    loaded: set[str],
    columns: set[str] | None,
    now: datetime,
) -> TableLoad:
    """Make the table match the registry, then load the partitions of its runs the ledger does not have."""
    changes = table_statements(dataset, config.schema, columns)
    for statement in changes:  # each in a transaction of its own, before the load's
        executor.transaction([statement])
    added = [] if columns is None else [c.name for c in dataset.columns if c.name not in columns]
    # A table never loaded (a new deployment, the warehouse added to a lake that has run for a while, or a first load
    # that failed) is loaded with every partition the curated zone has, and every run that made them goes into the
    # ledger.
    first = columns is None or not loaded
    runs = pending_runs(s3, config.curated_bucket, dataset.table, loaded, everything=first)
    touched = [values for run in runs for values in run.partition_values]
    if first:
        touched += curated_partitions(s3, config.curated_bucket, dataset)
    unique = {tuple(values[name] for name in dataset.partitions): {name: values[name] for name in dataset.partitions}
              for values in touched}  # fmt: skip
    partitions = [
        PartitionLoad(values, write_manifest(s3, config, dataset, values, number))
        for number, (_, values) in enumerate(sorted(unique.items()))
    ]
    if partitions:
        executor.transaction(load_statements(dataset, config.schema, partitions, [r.run_id for r in runs],
                                             config.load_id, now, config.copy_role_arn))  # fmt: skip
    return TableLoad(runs=[r.run_id for r in runs], partitions=len(partitions), columns_added=added,
                     created=columns is None)  # fmt: skip


def load(s3: Any, executor: Executor, config: LoadConfig, now: datetime | None = None) -> LoadReport:
    """Load every dataset of the registry (see the module's docstring); returns the load's report, also left in the
    curated bucket."""
    now = now or datetime.now(UTC)
    executor.transaction([schema_statement(config.schema)])
    executor.transaction([ledger_ddl(config.schema)])
    loaded: dict[str, set[str]] = defaultdict(set)
    for table, run_id in executor.query(ledger_query(config.schema)):
        loaded[str(table)].add(str(run_id))
    columns: dict[str, set[str]] = defaultdict(set)
    for table, column in executor.query(columns_query(config.schema)):
        columns[str(table)].add(str(column))
    tables, failed = {}, {}
    for dataset in registry.load_all().values():
        try:
            tables[dataset.table] = load_table(s3, executor, config, dataset, loaded[dataset.table],
                                               columns.get(dataset.table), now)  # fmt: skip
        except Exception as err:  # noqa: BLE001 - one table's failure (rolled back) does not hold up the others
            failed[dataset.table] = f"{type(err).__name__}: {err}"[:500]
            logger.error(
                json.dumps({"event": "table_load_failed", "table": dataset.table, "error": failed[dataset.table]})
            )
    status = "FAILED" if failed else "LOADED" if any(t.runs for t in tables.values()) else "NOTHING_NEW"
    report = LoadReport(load_id=config.load_id, status=status, tables=tables, failed=failed)
    s3.put_object(Bucket=config.curated_bucket, Key=f"_loads/{config.load_id}/report.json",
                  Body=report.model_dump_json().encode(), ContentType="application/json")  # fmt: skip
    if failed:  # the job run fails, so Glue runs it again (MaxRetries) and alarms see it
        raise WarehouseLoadError(f"the load of {', '.join(sorted(failed))} failed: {json.dumps(failed)[:1000]}")
    return report


def main(argv: list[str]) -> LoadReport:
    config = parse_args(argv)
    session = boto3.session.Session()  # its own: boto3's default session is not safe across threads
    executor = executor_for(config.warehouse, session)
    try:
        report = load(session.client("s3"), executor, config)
    finally:
        executor.close()
    logger.info(json.dumps({"event": "warehouse_load", **report.model_dump(mode="json")}))
    return report


if __name__ == "__main__":
    main(sys.argv)

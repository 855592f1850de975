"""`spapi-lake demo`: the whole pipeline offline on small synthetic data, run for a few simulated days as its
schedules would run it, checked against the sandbox's ground truth every day, ending in one JSON line."""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from deployment.operations import status
from glue_jobs.curate_reports.report import ValidationSummary
from glue_jobs.load_warehouse.statements import LEDGER
from lake_formation import views
from local.data_docs import localize
from local.governed import grants_file, offline_session
from local.insights_page import Validation, write_page
from local.pipeline import download_prefix, landed_manifests, publish_duckdb
from local.simulate import Simulation, report_day

if TYPE_CHECKING:
    from collections.abc import Iterator

    from glue_jobs.curate_reports.report import RunReport
    from local.stack import LocalStack

OUT_DIR = Path("out")
DEMO_DAYS = 3


class DemoFailedError(RuntimeError):
    """The demo's own check failed: a curated dataset differs from the sandbox's ground truth."""


def say(message: str) -> None:
    print(message, flush=True)


@contextmanager
def stage(name: str, timings: dict[str, float]) -> Iterator[None]:
    say(f"\n== {name}")
    started = time.monotonic()
    yield
    timings[name] = round(time.monotonic() - started, 2)
    say(f"   ({timings[name]:.1f} s)")


def describe_run(dataset: str, run: RunReport) -> None:
    say(f"   {dataset}: read {run.rows_read} rows -> curated {run.curated}, quarantined {run.quarantined}, "
        f"deduplicated {run.deduplicated}, replaced {run.replaced} ({run.partitions} partitions)")  # fmt: skip
    for rule, rows in sorted(run.quarantine_reasons.items()):
        say(f"   {dataset}: {rows} rows quarantined by {rule} (see s3://.../quarantine/{dataset}/)")
    if run.missing_columns or run.extra_columns:
        say(f"   {dataset}: columns missing {run.missing_columns}, unexpected {run.extra_columns}")
    suite = run.validation or ValidationSummary(success=True, evaluated=0)  # None: nothing new to check
    say(f"   {dataset}: great-expectations suite: {suite.evaluated} expectations, "
        f"{'passed' if suite.success else f'FAILED {suite.failed}'}")  # fmt: skip


def publish(stack: LocalStack, out_dir: Path, docs: Path, validated: dict[str, tuple[str, RunReport]]) -> None:
    """Leave the lake for the user (DuckDB file and grants), show it as the analyst reads it, write the page."""
    target, tables = publish_duckdb(stack, out_dir / "spapi_lake.duckdb")
    session = offline_session(target, "analyst")  # as `spapi-lake query` reads it: the analyst's grants
    for table in tables:
        count = session.query(f'SELECT count(*) FROM "{table}"').fetchone()
        say(f"   {table}: {count[0] if count else 0} rows in {target}")
    hidden = {table: columns for table, columns in session.hidden.items() if columns}
    say(f"   the analyst role reads no PII: hidden {sum(map(len, hidden.values()))} columns of "
        f"{', '.join(sorted(hidden))}")  # fmt: skip
    for view in session.views:  # Athena SQL, transpiled to DuckDB
        say(f"   {view}: {' '.join(views.load_all()[view].doc.description.split())}")
        for line in str(session.query(f"SELECT * FROM {view} ORDER BY 1, 2 LIMIT 5")).splitlines():
            say(f"     {line}")
    validations = [
        Validation(name, day, run.validation.success, run.validation.evaluated, run.validation.failed,
                   f"data_docs/{name}/index.html" if (docs / name / "index.html").is_file() else None)
        for name, (day, run) in sorted(validated.items()) if run.validation is not None
    ]  # fmt: skip
    page = write_page(session, validations, out_dir / "insights.html")
    say(f"   the insights page (charts from the views, opens offline): {page}")
    session.con.close()
    assert stack.resources is not None  # noqa: S101
    schema = stack.resources.outputs["WarehouseSchema"]
    with duckdb.connect(stack.resources.warehouse, read_only=True) as warehouse:
        counts = [warehouse.sql(f"SELECT count(*) FROM {schema}.{name}").fetchone() for name in tables]
        rows = sum(int(count[0]) for count in counts if count)
        (runs,) = warehouse.sql(f"SELECT count(*) FROM {schema}.{LEDGER}").fetchone() or (0,)
    say(f"   the warehouse (loaded after each curation by COPY + MERGE; offline a DuckDB file): {rows} rows in "
        f"{len(tables)} tables, {runs} curation runs in its load ledger: {stack.resources.warehouse}")  # fmt: skip


def run_demo(out_dir: Path = OUT_DIR, days: int = DEMO_DAYS) -> dict[str, Any]:
    timings: dict[str, float] = {"start": 0.0, "ingest": 0.0, "curate": 0.0}
    datasets: dict[str, dict[str, int]] = {}
    start = datetime.now(UTC).date() - timedelta(days=days)
    differences = 0
    validated: dict[str, tuple[str, RunReport]] = {}  # dataset → its last run that validated a batch (day, run)
    with stage("start", timings):
        simulation = Simulation(start=start, warehouse=out_dir / "warehouse.duckdb").__enter__()
    stack = simulation.stack
    assert stack.sandbox is not None and stack.resources is not None  # noqa: S101
    try:
        say(f"   moto (local AWS) with the CloudFormation stacks deployed  {stack.aws.endpoint}")
        say(f"   SP-API sandbox (its clock at {start})                   {stack.sandbox.base_url}")
        say(f"\n== {days} simulated days: RequestReports 02:30, CatalogAndListings 05:00, curation 06:00 (UTC)")
        for number in range(days):
            result = simulation.run_day(simulation.day(number))
            timings["ingest"] += round(result.ingest_s, 2)
            timings["curate"] += round(result.curate_s, 2)
            report_day(result, say)
            differences += result.differences
            for dataset, run in result.curation.items():
                if run.validation is not None:
                    validated[dataset] = (result.day.isoformat(), run)
                counts = datasets.setdefault(dataset, {"raw_objects": 0, "curated_rows": 0, "quarantined_rows": 0,
                                                       "deduplicated_rows": 0})  # fmt: skip
                counts["raw_objects"] += run.raw_objects
                counts["curated_rows"] += run.curated
                counts["quarantined_rows"] += run.quarantined
                counts["deduplicated_rows"] += run.deduplicated
        say(f"\n== the last day's curation, dataset by dataset ({result.day})")
        for dataset, run in result.curation.items():
            describe_run(dataset, run)
        checked = ", ".join(f"{c.dataset} ({c.rows})" for c in result.checks)
        say(f"   compared with the sandbox's ground truth: {checked}")
        ledger = result.ledger
        fetched = landed_manifests(stack)
        catalog_counts = {name: sum(m.rows for m in fetched if m.raw_name == name)
                          for name in ("catalog_items", "listings_items")}  # fmt: skip
        docs = download_prefix(stack.resources.curated_bucket, "_data_docs/", out_dir / "data_docs")
        localize(docs)  # their CDN stylesheets and scripts from the pinned npm packages: they open offline
        say(f"   Data Docs (validation results as HTML): {docs}/<dataset>/index.html")
        with stage("query", timings):
            publish(stack, out_dir, docs, validated)
        say("\n== what `spapi-lake status` says of the deployment (on AWS the same, from your credentials)")
        operations = status(stack.resources.outputs)
        for line in operations.lines():
            say(f"   {line}")
    finally:
        simulation.__exit__(None, None, None)
    if differences:
        raise DemoFailedError(f"{differences} differences between the curated tables and the ground truth (above)")
    summary = {
        "demo": "spapi-lake",
        "ok": True,
        "stage_seconds": {name: round(seconds, 1) for name, seconds in timings.items()},
        "ledger": ledger,
        "catalog": catalog_counts,
        "datasets": datasets,
        "operations": {
            "blocked": operations.blocked,
            "dead_letters": operations.dead_letters,
            "failed_reports": len(operations.failed_reports),
        },
        "outputs": {
            "duckdb": str(out_dir / "spapi_lake.duckdb"),
            "grants": str(grants_file(out_dir / "spapi_lake.duckdb")),
            "curated": f"s3://{stack.resources.curated_bucket}/ (moto, gone after the demo)",
            "data_docs": str(out_dir / "data_docs"),
            "insights": str(out_dir / "insights.html"),
            "warehouse": str(out_dir / "warehouse.duckdb"),
        },
    }
    say(
        f'\nQuery the lake as an analyst:  .venv/bin/spapi-lake query "SELECT * FROM daily_sales LIMIT 5"'
        f"  (--list names the tables and views; the DuckDB file: {out_dir / 'spapi_lake.duckdb'})"
    )
    say(json.dumps(summary))
    return summary

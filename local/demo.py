"""`spapi-lake demo`: the whole pipeline offline on small synthetic data, with progress, ending in one JSON line."""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glue_jobs.curate_reports.report import ValidationSummary
from lake_formation import insights, registry
from local.pipeline import (
    curation_workflow,
    download_prefix,
    ground_truth_rows,
    ingest,
    landed_manifests,
    publish_duckdb,
    run_curation,
    run_state_machine,
)
from local.query import athena, connect_lake
from local.stack import LocalStack

if TYPE_CHECKING:
    from collections.abc import Iterator


def curated_datasets() -> list[str]:
    """Every dataset the deployed curation workflow curates, in its triggers' order (the registry's datasets: a
    test holds the triggers to the registry)."""
    return [dataset for trigger in curation_workflow() for dataset in trigger]


OUT_DIR = Path("out")


class DemoFailedError(RuntimeError):
    """The demo's own check failed: curated rows differ from what the sandbox generated."""


def say(message: str) -> None:
    print(message, flush=True)


@contextmanager
def stage(name: str, timings: dict[str, float]) -> Iterator[None]:
    say(f"\n== {name}")
    started = time.monotonic()
    yield
    timings[name] = round(time.monotonic() - started, 2)
    say(f"   ({timings[name]:.1f} s)")


def run_demo(out_dir: Path = OUT_DIR) -> dict[str, Any]:  # noqa: PLR0915 - a script told as one story
    timings: dict[str, float] = {}
    datasets: dict[str, dict[str, int]] = {}
    with LocalStack() as stack:
        assert stack.sandbox is not None and stack.resources is not None  # noqa: S101
        with stage("start", timings):
            say(f"   moto (local AWS)  {stack.aws.endpoint}")
            say(f"   SP-API sandbox    {stack.sandbox.base_url}")
            stack.spark()
            say("   local Spark       ready")
        ground_truth: dict[str, int] = {}
        with stage("ingest", timings):
            ingested = ingest(stack, progress=lambda line: say(f"   - {line}"))
            ledger = ingested["ledger"]
            say(f"   {len(ingested['subscribed'])} accounts subscribed to notifications; RequestReports asked for "
                f"{ingested['requested']} reports; reconcile found the settlements Amazon generated")  # fmt: skip
            manifests = landed_manifests(stack)
            say(f"   {len(manifests)} documents in the raw zone ({sum(m.bytes for m in manifests) / 1e6:.1f} MB)")
            run_state_machine(stack, "catalog_and_listings")
            fetched = landed_manifests(stack)
            catalog_counts = {name: sum(m.rows for m in fetched if m.raw_name == name)
                              for name in ("catalog_items", "listings_items")}  # fmt: skip
            say(f"   CatalogAndListings: {catalog_counts['catalog_items']} catalog items and "
                f"{catalog_counts['listings_items']} listings items landed as JSON lines")  # fmt: skip
            for dataset in curated_datasets():
                source = registry.dataset(dataset).source
                landed = [m for m in fetched if m.raw_name == source.raw_name]
                if source.format == "tsv":
                    ground_truth[dataset] = ground_truth_rows(stack, landed)
                datasets[dataset] = {"raw_objects": len(landed)}
        with stage("curate", timings):
            for dataset, counts in datasets.items():
                run = run_curation(stack, dataset)
                counts.update(
                    curated_rows=run.curated,
                    quarantined_rows=run.quarantined,
                    deduplicated_rows=run.deduplicated,
                )
                say(
                    f"   {dataset}: read {run.rows_read} rows -> curated {run.curated}, "
                    f"quarantined {run.quarantined}, deduplicated {run.deduplicated} ({run.partitions} partitions)"
                )
                for rule, rows in sorted(run.quarantine_reasons.items()):
                    say(f"   {dataset}: {rows} rows quarantined by {rule} (see s3://.../quarantine/{dataset}/)")
                if run.missing_columns or run.extra_columns:
                    say(f"   {dataset}: columns missing {run.missing_columns}, unexpected {run.extra_columns}")
                flat = registry.dataset(dataset).source.format == "tsv"  # JSON documents count rows at curation
                if flat and run.rows_read != ground_truth[dataset]:
                    raise DemoFailedError(
                        f"{dataset}: sandbox generated {ground_truth[dataset]} rows, the lake accounts for "
                        f"{run.rows_read} (curated + quarantined + deduplicated)"
                    )
                truth = (
                    f"matches the sandbox's ground truth ({ground_truth[dataset]} rows)" if flat else "rows accounted"
                )
                suite = run.validation or ValidationSummary(success=True, evaluated=0)  # None: nothing new to check
                outcome = "passed" if suite.success else f"FAILED {suite.failed}"
                say(f"   {dataset}: {truth}; great-expectations suite: {suite.evaluated} expectations, {outcome}")
            docs = download_prefix(stack.resources.curated_bucket, "_data_docs/", out_dir / "data_docs")
            say(f"   Data Docs (validation results as HTML): {docs}/<dataset>/index.html")
        with stage("query", timings):
            target, tables = publish_duckdb(stack, out_dir / "spapi_lake.duckdb")
            con = connect_lake(stack.aws.endpoint, str(target))
            for table in tables:
                count = con.sql(f'SELECT count(*) FROM "{table}"').fetchone()
                say(f"   {table}: {count[0] if count else 0} rows in {target}")
            for insight in insights.load_all().values():  # Athena SQL, transpiled to DuckDB
                if insight.tables <= set(tables):
                    say(f"   {insight.title}:")
                    for line in str(athena(con, insight.sql)).splitlines():
                        say(f"     {line}")
            con.close()
    summary = {
        "demo": "spapi-lake",
        "ok": True,
        "stage_seconds": timings,
        "ledger": ledger,
        "catalog": catalog_counts,
        "datasets": datasets,
        "outputs": {
            "duckdb": str(out_dir / "spapi_lake.duckdb"),
            "curated": f"s3://{stack.resources.curated_bucket}/ (moto, gone after the demo)",
            "data_docs": str(out_dir / "data_docs"),
        },
    }
    say(
        '\nOpen the curated tables:  .venv/bin/python -c "import duckdb; '
        f"print(duckdb.connect('{out_dir / 'spapi_lake.duckdb'}').sql('SELECT * FROM merchant_listings LIMIT 5'))\""
    )
    say(json.dumps(summary))
    return summary

"""Drive the offline pipeline through AWS APIs only: start state machines, run Glue jobs, build the query layer.

The demo and the end-to-end tests call these same functions.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import requests

from ingestion_lambdas import aws
from ingestion_lambdas.events import ReportJob
from lake_formation import registry
from local.moto_runtime import JOB_RUN_ERRORS
from local.provision import CURATION_JOB
from local.query import catalog_views, connect_lake, export_tables

if TYPE_CHECKING:
    from pathlib import Path

    from local.stack import LocalStack

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass
class ExecutionResult:
    job: ReportJob
    status: str  # SUCCEEDED, FAILED, ...
    output: dict[str, Any]

    @property
    def report_id(self) -> str | None:
        return self.output.get("report_id") if self.output else None


def report_jobs(stack: LocalStack, report_type: str, poll_seconds: int = 1) -> list[ReportJob]:
    """One job per (account, marketplace) of the sandbox's demo world whose kind (seller, vendor) can request it."""
    assert stack.sandbox is not None  # noqa: S101
    kind = registry.dataset_for_report(report_type).source.account_kind
    return [
        ReportJob(account_id=a["account_id"], report_type=report_type, marketplace_id=m, poll_seconds=poll_seconds)
        for a in stack.sandbox.info()["accounts"]
        if a["kind"] == kind
        for m in a["marketplace_ids"]
    ]


def execution_name(job: ReportJob, requested_at: datetime) -> str:
    """Deterministic per (job, request time): starting the same request twice starts one execution."""
    natural = f"{job.account_id}|{job.marketplace_id}|{job.report_type}|{requested_at.isoformat()}"
    return f"{job.report_type[:40]}-{hashlib.sha256(natural.encode()).hexdigest()[:24]}"


def run_report_workflows(
    stack: LocalStack, jobs: list[ReportJob], progress: Progress = _quiet, timeout_s: float = 300
) -> list[ExecutionResult]:
    assert stack.resources is not None  # noqa: S101
    sfn = aws.client("stepfunctions")
    arn = stack.resources.state_machines["report_to_raw"]
    now = datetime.now(UTC)
    started = {
        sfn.start_execution(stateMachineArn=arn, name=execution_name(job, now), input=json.dumps(job.dump()))[
            "executionArn"
        ]: job
        for job in jobs
    }
    results: dict[str, ExecutionResult] = {}
    deadline = time.monotonic() + timeout_s
    while len(results) < len(started):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(started) - len(results)} report workflows still running after {timeout_s}s")
        for execution_arn, job in started.items():
            if execution_arn in results:
                continue
            described = sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                output = json.loads(described.get("output") or "{}")
                results[execution_arn] = ExecutionResult(job, described["status"], output)
                progress(
                    f"{job.report_type} {job.account_id}/{job.marketplace_id}: {described['status']}"
                    + (f", {output['landed']['rows']} rows landed" if output.get("landed") else "")
                )
        time.sleep(0.3)
    return list(results.values())


def run_curation(stack: LocalStack, dataset: str, timeout_s: float = 600) -> dict[str, Any]:
    """Start the curation Glue job for a dataset, wait for it, and return its run report."""
    assert stack.resources is not None  # noqa: S101
    glue, s3 = aws.client("glue"), aws.client("s3")
    run_id = glue.start_job_run(JobName=CURATION_JOB, Arguments={"--dataset": dataset})["JobRunId"]
    deadline = time.monotonic() + timeout_s
    while (run := glue.get_job_run(JobName=CURATION_JOB, RunId=run_id)["JobRun"])["JobRunState"] in (
        "STARTING",
        "RUNNING",
        "STOPPING",
    ):
        if time.monotonic() > deadline:
            raise TimeoutError(f"curation of {dataset} still running after {timeout_s}s")
        time.sleep(0.5)
    if run["JobRunState"] != "SUCCEEDED":
        error = JOB_RUN_ERRORS.get(run_id, run.get("ErrorMessage", ""))
        raise RuntimeError(f"curation of {dataset} ended {run['JobRunState']}: {error}")
    body = s3.get_object(Bucket=stack.resources.curated_bucket, Key=f"_runs/{dataset}/{run_id}.json")["Body"].read()
    return dict(json.loads(body))


def ground_truth_rows(stack: LocalStack, report_ids: list[str]) -> int:
    """What the sandbox says it generated for these reports (its inspection endpoint, not SP-API)."""
    assert stack.sandbox is not None  # noqa: S101
    total = 0
    for report_id in report_ids:
        info = requests.get(f"{stack.sandbox.base_url}/_sandbox/reports/{report_id}", timeout=10).json()
        total += int(info["rows"] or 0)
    return total


def publish_duckdb(stack: LocalStack, target: Path) -> tuple[Path, list[str]]:
    """Query the curated zone through the catalog and leave a DuckDB file holding its tables."""
    assert stack.resources is not None  # noqa: S101
    con = connect_lake(stack.aws.endpoint)
    tables = catalog_views(con, aws.client("glue"), stack.resources.database)
    export_tables(con, stack.resources.database, tables, target)
    con.close()
    return target, tables


def dataset_for(report_type: str) -> str:
    return registry.dataset_for_report(report_type).table

"""Drive the offline pipeline through AWS APIs only: start state machines, run Glue jobs, build the query layer.

The demo and the end-to-end tests call these same functions.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from glue_jobs.curate_reports.report import RunReport, report_key
from ingestion_lambdas import aws
from ingestion_lambdas.services import wiring
from lake_formation.raw_zone import ManifestEntry, RawZone
from local.governed import LakeGrants, grants_file
from local.moto_runtime import JOB_RUN_ERRORS
from local.query import catalog_views, connect_lake, export_tables

if TYPE_CHECKING:
    from pathlib import Path

    from local.stack import LocalStack

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def invoke(stack: LocalStack, handler: str, event: dict[str, Any] | None = None) -> dict[str, Any]:
    """Invoke the deployed Lambda function of a handler module as AWS would, and return its result."""
    assert stack.resources is not None  # noqa: S101
    response = aws.client("lambda").invoke(
        FunctionName=stack.resources.functions[handler], Payload=json.dumps(event or {}).encode()
    )
    result = json.loads(response["Payload"].read() or b"{}")
    if response.get("FunctionError"):
        raise RuntimeError(f"{handler} failed: {result.get('errorType')}: {result.get('errorMessage')}")
    return dict(result)


def run_state_machine(
    stack: LocalStack, name: str, payload: dict[str, Any] | None = None, timeout_s: float = 300
) -> Any:
    """Start one of the pipeline's state machines, wait for it, and return its output (or raise with its error)."""
    assert stack.resources is not None  # noqa: S101
    sfn = aws.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=stack.resources.state_machines[name],
        name=f"{name.replace('_', '-')}-{int(time.time() * 1000)}",
        input=json.dumps(payload or {}),
    )["executionArn"]
    deadline = time.monotonic() + timeout_s
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} still running after {timeout_s}s")
        time.sleep(0.2)
    if described["status"] != "SUCCEEDED":
        raise RuntimeError(f"{name} ended {described['status']}: {described.get('error')} {described.get('cause')}")
    return json.loads(described.get("output") or "{}")


def ingest(stack: LocalStack, progress: Progress = _quiet) -> dict[str, Any]:
    """Subscribe, run RequestReports, and let notifications and reconcile land everything. Running it again
    requests only what is new (the ledger has the rest)."""
    subscribed = invoke(stack, "subscribe")["subscribed"]
    requested = run_state_machine(stack, "request_reports")
    return {"subscribed": subscribed, "requested": requested["count"], "ledger": settle_reports(stack, progress)}


def settle_reports(
    stack: LocalStack, progress: Progress = _quiet, timeout_s: float = 240, reconcile_every_s: float = 5.0
) -> dict[str, int]:
    """Let notifications land the requested reports, running reconcile as its schedule would (it also lands the
    settlements Amazon generates), until every ledger entry is terminal."""
    deadline = time.monotonic() + timeout_s
    last_reconcile, last_line = 0.0, ""
    while True:
        if time.monotonic() - last_reconcile >= reconcile_every_s:
            invoke(stack, "reconcile")
            last_reconcile = time.monotonic()
        if (summary := wiring.ledger().summary()) and (line := _summary_line(summary)) != last_line:
            progress(line)
            last_line = line
        if summary["requested"] and not summary["pending"]:
            return summary
        if time.monotonic() > deadline:
            raise TimeoutError(f"reports still pending after {timeout_s}s: {summary}")
        time.sleep(0.5)


def _summary_line(summary: dict[str, int]) -> str:
    return (
        f"ledger: {summary['requested']} requested, {summary['landed']} landed, {summary['no_data']} no data, "
        f"{summary['failed']} failed, {summary['pending']} pending"
    )


def landed_manifests(stack: LocalStack) -> list[ManifestEntry]:
    """Every manifest entry in the raw zone, oldest ingestion first."""
    assert stack.resources is not None  # noqa: S101
    return RawZone(aws.client("s3"), stack.resources.raw_bucket).manifests()


def start_curation(stack: LocalStack, dataset: str) -> str:
    """Start the curation Glue job for a dataset; returns the run id."""
    assert stack.resources is not None  # noqa: S101
    return _start(stack.resources.curation_job, {"--dataset": dataset})


def wait_job_run(job: str, run_id: str, what: str, timeout_s: float = 600) -> None:
    """Wait for a Glue job run to end; raises RuntimeError if it did not succeed (`what` names it in the error)."""
    glue = aws.client("glue")
    deadline = time.monotonic() + timeout_s
    while (run := glue.get_job_run(JobName=job, RunId=run_id)["JobRun"])["JobRunState"] in (
        "STARTING",
        "RUNNING",
        "STOPPING",
    ):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} still running after {timeout_s}s")
        time.sleep(0.1)
    if run["JobRunState"] != "SUCCEEDED":
        error = JOB_RUN_ERRORS.get(run_id, run.get("ErrorMessage", ""))
        raise RuntimeError(f"{what} ended {run['JobRunState']}: {error}")


def wait_curation(
    stack: LocalStack, dataset: str, run_id: str, timeout_s: float = 600, job: str | None = None
) -> RunReport:
    """Wait for a curation run (of the curation job, or `job`) and return its run report; raises RuntimeError if the
    run failed."""
    assert stack.resources is not None  # noqa: S101
    wait_job_run(job or stack.resources.curation_job, run_id, f"curation of {dataset}", timeout_s)
    key = report_key(dataset, run_id)
    return RunReport.model_validate_json(aws.client("s3").get_object(Bucket=stack.resources.curated_bucket,
                                                                     Key=key)["Body"].read())  # fmt: skip


def run_curation(stack: LocalStack, dataset: str, timeout_s: float = 600) -> RunReport:
    """Run the curation Glue job for a dataset, wait for it, and return its run report."""
    return wait_curation(stack, dataset, start_curation(stack, dataset), timeout_s)


def run_curation_workflow(stack: LocalStack) -> dict[str, RunReport]:
    """Fire the deployed curation workflow's triggers in order, as Glue does: each trigger starts all its actions
    at once, and a failed run is run again as its job's MaxRetries says; the next trigger fires when all runs
    succeeded. Returns the curation runs' reports by dataset (the warehouse load, last, reports in the bucket)."""
    assert stack.resources is not None  # noqa: S101
    glue = aws.client("glue")
    reports: dict[str, RunReport] = {}
    for trigger in curation_workflow():
        pending = dict.fromkeys(range(len(trigger)), 0)  # action → failed attempts
        while pending:
            runs = {n: _start(*trigger[n]) for n in pending}
            for n, run_id in runs.items():
                job, arguments = trigger[n]
                try:
                    if "--dataset" in arguments:  # a curation run (the report or the item datasets' job)
                        dataset = arguments["--dataset"]
                        reports[dataset] = wait_curation(stack, dataset, run_id, job=job)
                    else:
                        wait_job_run(job, run_id, job)
                    del pending[n]
                except RuntimeError:
                    if pending[n] == int(glue.get_job(JobName=job)["Job"].get("MaxRetries", 0)):
                        raise
                    pending[n] += 1
    return reports


def _start(job: str, arguments: dict[str, str]) -> str:
    return str(aws.client("glue").start_job_run(JobName=job, Arguments=arguments)["JobRunId"])


def curation_workflow() -> list[list[tuple[str, dict[str, str]]]]:
    """The deployed Glue workflow's job runs, trigger by trigger in firing order, each as (job, arguments): the
    scheduled trigger's, then the conditional triggers' in the order the stacks made them, which is the order of
    their predicates (the item datasets once the report datasets' job succeeded, the warehouse load once the item
    datasets' job did). moto stores triggers but fires none; the offline runner fires them in this order."""
    triggers = aws.client("glue").get_triggers()["Triggers"]
    ordered = sorted(triggers, key=lambda t: t["Type"] != "SCHEDULED")
    return [[(str(a["JobName"]), dict(a.get("Arguments", {}))) for a in t["Actions"]] for t in ordered]


def publish_duckdb(stack: LocalStack, target: Path) -> tuple[Path, list[str]]:
    """Query the curated zone through the catalog and leave a DuckDB file holding its tables, and beside it the
    Lake Formation grants (`spapi-lake query` applies them to the file once the offline world is gone)."""
    assert stack.resources is not None  # noqa: S101
    con = connect_lake(stack.aws.endpoint)
    tables = catalog_views(con, aws.client("glue"), stack.resources.database)
    export_tables(con, stack.resources.database, tables, target)
    con.close()
    grants = LakeGrants.read(aws.client("lakeformation"), aws.client("glue"), stack.resources.database,
                             stack.resources.outputs)  # fmt: skip
    grants_file(target).write_text(grants.to_json(), encoding="utf-8")
    return target, tables


def download_prefix(bucket: str, prefix: str, target: Path) -> Path:
    """Copy every object under an S3 prefix into a local folder (e.g. the Data Docs out of moto)."""
    s3 = aws.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            path = target / item["Key"].removeprefix(prefix)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
    return target

"""`spapi-lake simulate`: run the pipeline day after day, as its schedules run it on AWS, and check every day.

One process: the offline world deployed from the templates (local/stack.py), with the whole process's clock moved
day by day (time-machine) so the sandbox's world, the Lambdas' "now", tokens, queues and the ledger all agree on the
simulated time. Each day runs what the deployed schedules start, at the hours their cron expressions say:
RequestReports (and the notifications it causes, with reconcile every few minutes as on AWS), CatalogAndListings,
then the Glue workflow's curation. Then every curated dataset is compared with the sandbox's ground truth for that
day (local/truth_check.py). The curated tables stay in out/spapi_lake.duckdb, as after the demo.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from typing import TYPE_CHECKING, Any

import time_machine

from glue_jobs.curate_reports.report import RunReport  # noqa: TC001 - a dataclass field type
from ingestion_lambdas import aws
from ingestion_lambdas.services import wiring
from local.pipeline import invoke, publish_duckdb, run_curation_workflow, run_state_machine, settle_reports
from local.stack import LocalStack
from local.truth_check import TruthCheck, check_day
from sandbox.app import SandboxConfig
from sandbox.faults import Faults

if TYPE_CHECKING:
    from pathlib import Path

Progress = Callable[[str], None]
CRON = re.compile(r"cron\((\d+) (\d+) ")
# Faults the offline runtime injects itself (the sandbox's own come from sandbox/faults.py).
RUNTIME_FAULTS = {
    "glue_crash": "a curation run dies after publishing, before marking its objects (once a day; Glue runs it again)",
    "landing_crash": "a landing dies after the upload, before the ledger update (once a day; reconcile repairs it)",
    "load_crash": "a warehouse load dies half way through a table's transaction, after its COPY (once a day; Glue "
    "runs it again)",
}


class SimulationError(RuntimeError):
    """A simulated day's pipeline did not finish (a workflow failed or reports stayed pending)."""


@dataclass
class DayResult:
    day: date
    checks: list[TruthCheck] = field(default_factory=list)
    create_report_calls: int = 0
    ledger: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)
    curation: dict[str, RunReport] = field(default_factory=dict)
    ingest_s: float = 0.0
    curate_s: float = 0.0
    spapi_calls: int = 0

    @property
    def differences(self) -> int:
        return sum(len(c.differences) for c in self.checks)

    @property
    def rows(self) -> int:
        return sum(c.rows for c in self.checks)

    def line(self) -> str:
        faults = ",".join(f"{k}={v}" for k, v in sorted(self.faults.items()) if v) or "none"
        return (
            f"{self.day}  datasets {len(self.checks):2d}  rows {self.rows:7d}  differences {self.differences:3d}  "
            f"createReport {self.create_report_calls:3d}  ledger {self.ledger.get('landed', 0)} landed "
            f"{self.ledger.get('failed', 0)} failed {self.ledger.get('pending', 0)} pending  "
            f"ingest {self.ingest_s:.0f}s curate {self.curate_s:.0f}s  faults {faults}"
        )


def schedule_times(stack: LocalStack) -> dict[str, time]:
    """When each deployed schedule fires (UTC), from the EventBridge rules' and the Glue trigger's cron expressions:
    request_reports, catalog_and_listings, curation."""
    assert stack.resources is not None  # noqa: S101
    events, times = aws.client("events"), {}
    machines = {arn: name for name, arn in stack.resources.state_machines.items()}
    for rule in events.list_rules()["Rules"]:
        for target in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]:
            if target["Arn"] in machines and (match := CRON.match(rule.get("ScheduleExpression", ""))):
                times[machines[target["Arn"]]] = time(int(match.group(2)), int(match.group(1)))
    for trigger in aws.client("glue").get_triggers()["Triggers"]:
        if trigger["Type"] == "SCHEDULED" and (match := CRON.match(trigger["Schedule"])):
            times["curation"] = time(int(match.group(2)), int(match.group(1)))
    return times


def parse_faults(spec: str, seed: int) -> tuple[Faults, set[str]]:
    """The sandbox's faults and the runtime's own (RUNTIME_FAULTS) from one spec."""
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    runtime = {p.split("=", 1)[0] for p in parts if p.split("=", 1)[0] in RUNTIME_FAULTS}  # once a day each
    sandbox = ",".join(p for p in parts if p.split("=", 1)[0] not in RUNTIME_FAULTS)
    return Faults.parse(sandbox, seed), runtime


class LogScan(logging.Handler):
    """Everything the run logs (every logger at INFO, as Lambda and Glue log, and what reaches stdout and stderr),
    kept to be searched for secrets at the end: refresh tokens, the app's client secret, every access token the
    sandbox issued, and pre-signed document URLs (their X-Amz-Signature)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self._streams: list[tuple[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def start(self) -> None:
        logging.getLogger().addHandler(self)
        logging.getLogger().setLevel(min(logging.getLogger().level or logging.INFO, logging.INFO))
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            self._streams.append((name, stream))
            setattr(sys, name, _Tee(stream, self.lines))

    def stop(self) -> None:
        logging.getLogger().removeHandler(self)
        for name, stream in self._streams:
            setattr(sys, name, stream)

    def secrets_found(self, box: Any) -> list[str]:
        secrets = {account.refresh_token: "a refresh token" for account in box.world.accounts}
        secrets[box.world.client_secret] = "the client secret"  # pragma: allowlist secret - the name of what leaked
        secrets |= dict.fromkeys(box.lwa.issued_tokens(), "an access token")
        text = "\n".join(self.lines)
        found = sorted({kind for secret, kind in secrets.items() if secret and secret in text})
        if "X-Amz-Signature=" in text:
            found.append("a pre-signed URL")
        return found


class _Tee:
    """A text stream that also keeps what is written to it."""

    def __init__(self, stream: Any, lines: list[str]) -> None:
        self.stream, self.lines = stream, lines

    def write(self, text: str) -> int:
        self.lines.append(text)
        return int(self.stream.write(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class Simulation:
    """The offline world, travelling in time: enter it, then `run_day` for each simulated day in order."""

    def __init__(
        self, faults: str = "", seed: int = 7, start: date | None = None, warehouse: Path | None = None
    ) -> None:
        self.first = start or (datetime.now(UTC).date() - timedelta(days=30))
        sandbox_faults, self.runtime_faults = parse_faults(faults, seed)
        # Offline the client gives up on a silent call after 2 s (SpApiReadTimeoutSeconds), so a timeout fault
        # answers after 3 s and a slow call after half a second: the run meets the same faults, sooner.
        sandbox_faults = replace(sandbox_faults, timeout_seconds=3.0, slow_seconds=0.5)
        self.stack = LocalStack(sandbox_config=SandboxConfig(seed=seed, time_scale=20.0, faults=sandbox_faults),
                                warehouse=warehouse)  # fmt: skip
        self._travel = time_machine.travel(datetime.combine(self.first, time(0, 5), UTC), tick=True)
        self.clock: Any = None
        self.hours: dict[str, time] = {}
        self.logs = LogScan()
        self.leaked: list[str] = []  # kinds of secrets found in the logs (none, or the run is a failure)

    def __enter__(self) -> Simulation:
        self.logs.start()
        self.clock = self._travel.__enter__()
        self.stack.start()
        self.stack.spark()
        self.hours = schedule_times(self.stack)
        invoke(self.stack, "subscribe")
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self.stack.sandbox is not None  # noqa: S101
        self.leaked = self.logs.secrets_found(self.stack.sandbox.sandbox)
        self.stack.stop()
        self._travel.__exit__(*exc)
        self.logs.stop()

    def day(self, number: int) -> date:
        return self.first + timedelta(days=number)

    def run_day(self, day: date) -> DayResult:
        """One simulated day: the schedules in their order, then the checks."""
        stack, box = self.stack, self.stack.sandbox.sandbox  # type: ignore[union-attr]
        before, faults_before, calls_before = box.created_reports(), box.fault_counts(), box.calls()
        started = monotonic()
        self.clock.move_to(datetime.combine(day, self.hours["request_reports"], UTC))
        with crash_after_upload(once="landing_crash" in self.runtime_faults) as landing_crashes:
            run_state_machine(stack, "request_reports")
            ledger = settle_reports(stack)
        self.clock.move_to(datetime.combine(day, self.hours["catalog_and_listings"], UTC))
        run_state_machine(stack, "catalog_and_listings")
        ingested = monotonic()
        self.clock.move_to(datetime.combine(day, self.hours["curation"], UTC))
        with (
            crash_after_publish(once="glue_crash" in self.runtime_faults) as glue_crashes,
            crash_mid_load(once="load_crash" in self.runtime_faults) as load_crashes,
        ):
            curation = run_curation_workflow(stack)
        curated = monotonic()
        faults = {name: count - faults_before.get(name, 0) for name, count in box.fault_counts().items()}
        fired = {"landing_crash": len(landing_crashes), "glue_crash": len(glue_crashes),
                 "load_crash": len(load_crashes)}  # fmt: skip
        faults |= {name: count for name, count in fired.items() if name in self.runtime_faults}
        result = DayResult(day, create_report_calls=box.created_reports() - before, ledger=ledger, faults=faults,
                           curation=curation, ingest_s=ingested - started, curate_s=curated - ingested,
                           spapi_calls=box.calls() - calls_before)  # fmt: skip
        result.checks = check_day(stack, day)
        return result


@dataclass
class SimulationRun:
    days: list[DayResult]
    leaked: list[str]  # kinds of secrets the logs held (must be none)
    log_lines: int  # how much was scanned

    @property
    def differences(self) -> int:
        return sum(day.differences for day in self.days)


def simulate(  # noqa: PLR0913 - the command's options
    days: int,
    faults: str = "",
    seed: int = 7,
    start: date | None = None,
    out_dir: Path | None = None,
    progress: Progress = print,
) -> SimulationRun:
    """Run `days` simulated days from `start` (default: 30 days before today) and check each against the truth."""
    results: list[DayResult] = []
    simulation = Simulation(faults, seed, start, None if out_dir is None else out_dir / "warehouse.duckdb")
    with simulation:
        for number in range(days):
            result = simulation.run_day(simulation.day(number))
            results.append(result)
            report_day(result, progress)
        if out_dir is not None:
            publish_duckdb(simulation.stack, out_dir / "spapi_lake.duckdb")
    return SimulationRun(results, simulation.leaked, len(simulation.logs.lines))


def as_json(result: DayResult) -> dict[str, Any]:
    """One day of the simulation as the command's --json file holds it."""
    return {
        "day": result.day.isoformat(), "rows": result.rows, "differences": result.differences,
        "checks": {c.dataset: {"rows": c.rows, "differences": c.differences, "in_flight": c.in_flight}
                   for c in result.checks},
        "create_report_calls": result.create_report_calls, "spapi_calls": result.spapi_calls,
        "ledger": result.ledger, "faults": result.faults,
        "ingest_s": round(result.ingest_s, 1), "curate_s": round(result.curate_s, 1),
        "curation": {name: run.model_dump(mode="json") for name, run in result.curation.items()},
    }  # fmt: skip


def report_day(result: DayResult, progress: Progress) -> None:
    progress(result.line())
    for check in result.checks:
        for difference in check.differences[:5]:
            progress(f"   {check.dataset}: {difference}")


class SimulatedCrashError(RuntimeError):
    """A fault of the simulation: a Glue job run or a landing dying half way."""


@contextmanager
def crash_after_publish(once: bool) -> Iterator[list[str]]:
    """With `once`, the first curation run to reach its `mark` step dies there: after publishing its rows, before
    marking its raw objects curated (Glue then runs it again). Yields the datasets whose run crashed."""
    crashed: list[str] = []
    if not once:
        yield crashed
        return
    from glue_jobs.curate_reports import job  # noqa: PLC0415

    original, turn = job.mark, threading.Lock()

    def mark(curated: Any, objects: Any, config: Any) -> None:
        if turn.acquire(blocking=False):  # one run only, whichever of the concurrent runs gets there first
            crashed.append(config.dataset)
            raise SimulatedCrashError("the Glue job run died after publishing, before marking its objects")
        original(curated, objects, config)

    job.mark = mark
    try:
        yield crashed
    finally:
        job.mark = original


@contextmanager
def crash_mid_load(once: bool) -> Iterator[list[str]]:
    """With `once`, the first warehouse load to reach a MERGE dies there: its table's staging rows are copied, its
    transaction open (rolled back by the loader; Glue then runs the load again). Yields the statements it died at."""
    crashed: list[str] = []
    if not once:
        yield crashed
        return
    from glue_jobs.load_warehouse.executors import DuckDBExecutor  # noqa: PLC0415

    original = DuckDBExecutor._run  # noqa: SLF001 - the executor's one statement runner

    def run(self: DuckDBExecutor, sql: str) -> Any:
        if sql.startswith("MERGE INTO") and not crashed:
            crashed.append(sql.split(" ", 3)[2])
            raise SimulatedCrashError("the warehouse load died half way through a table's transaction")
        return original(self, sql)

    DuckDBExecutor._run = run  # type: ignore[method-assign]  # noqa: SLF001
    try:
        yield crashed
    finally:
        DuckDBExecutor._run = original  # type: ignore[method-assign]  # noqa: SLF001


@contextmanager
def crash_after_upload(once: bool) -> Iterator[list[str]]:
    """With `once`, the first landing that succeeds dies before the ledger hears of it (its Lambda killed after the
    upload): the ledger entry stays REQUESTED until reconcile lands the report again, over the same keys. Yields the
    reports whose landing crashed."""
    crashed: list[str] = []
    if not once:
        yield crashed
        return
    ledger, real_settle = wiring.ledger(), wiring.ledger().settle

    def settle(entry: Any, status: Any, **fields: Any) -> Any:
        if status == "LANDED" and not crashed:
            crashed.append(entry.report_id)
            raise SimulatedCrashError("the landing Lambda was killed after the upload, before the ledger update")
        return real_settle(entry, status, **fields)

    ledger.settle = settle  # type: ignore[method-assign]
    try:
        yield crashed
    finally:
        ledger.settle = real_settle  # type: ignore[method-assign]

"""Operations against the offline stack: the operations stack's alarms deployed on the resources the other stacks
made, the metrics the running code emits (EMF lines from the Lambda handlers, PutMetricData from the curation job),
a document served broken ending FAILED in a bounded number of attempts beside a report that lands, and the LWA
credential-age check over moto's Secrets Manager."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from glue_jobs.curate_reports import job as curation
from glue_jobs.curate_reports.report import RunReport
from ingestion_lambdas import aws
from ingestion_lambdas.events import ReportJob
from ingestion_lambdas.services import wiring
from ingestion_lambdas.services.accounts import SpApiClients
from ingestion_lambdas.services.credentials import ISSUED_ON_TAG, CredentialCheck
from ingestion_lambdas.services.landing import DOWNLOAD_MAX_ATTEMPTS
from ingestion_lambdas.services.notifications import start_landing
from ingestion_lambdas.services.report_requests import ReportRequests
from ingestion_lambdas.settings import load_settings
from ingestion_lambdas.spapi.auth import LwaCredentials, LwaTokenProvider, RefreshTokenAuth
from ingestion_lambdas.spapi.errors import MalformedReportError, SpApiThrottledError
from ingestion_lambdas.spapi.rate_limit import RateLimiter
from ingestion_lambdas.spapi.reports import ReportsApi
from ingestion_lambdas.spapi.transport import Transport
from local.pipeline import invoke
from sandbox.faults import Faults

LISTINGS = "GET_MERCHANT_LISTINGS_ALL_DATA"
HELD = "drop_notification"  # the test starts each landing itself
DAY = 86400.0


def emf(out: str, metric: str) -> list[dict]:
    """The EMF lines for `metric` among what reached stdout."""
    lines = []
    for text in out.splitlines():
        try:
            line = json.loads(text)
        except ValueError:
            continue
        if isinstance(line, dict) and "_aws" in line and metric in line:
            lines.append(line)
    return lines


@pytest.fixture(autouse=True)
def metrics_on(monkeypatch):
    """Metric lines printed whatever the environment says (an offline run may switch Powertools' metrics off)."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")


@pytest.fixture
def settled_reports(stack):
    """Report ids whose ledger entries a test leaves FATAL or FAILED: removed afterwards, since other tests on this
    stack count such entries as failures of the pipeline."""
    report_ids: list[str] = []
    yield report_ids
    ledger = wiring.ledger()
    for report_id in report_ids:
        if (entry := ledger.by_report_id(report_id)) is not None:
            ledger.table.delete_item(Key={"request_key": entry.request_key})


def requested(stack, marketplace_id: str = "ATVPDKIKX0DER") -> str:
    """A report requested through the pipeline (its own ledger entry); its notification is held back."""
    clients = SpApiClients.from_settings(load_settings())
    job = ReportJob(account_id="demo-seller-na", report_type=LISTINGS, marketplace_id=marketplace_id,
                    data_start_time=datetime.now(UTC) - timedelta(days=1))  # fmt: skip
    return str(ReportRequests(clients, wiring.ledger()).request(job).report_id)


def finished(report_id: str, status: str = "DONE"):
    reports = SpApiClients.from_settings(load_settings()).reports("demo-seller-na")
    for _ in range(100):
        if (report := reports.get_report(report_id)).processing_status == status:
            return report
        time.sleep(0.1)
    raise AssertionError(f"report {report_id} did not end {status}")


def land(stack, report_id: str, name: str | None = None) -> dict:
    """Run LandReport (the real ASL on moto, the real handler) for one report, started as the pipeline starts it;
    its output."""
    sfn, machine = aws.client("stepfunctions"), stack.resources.state_machines["land_report"]
    name = name or f"test-operations-{report_id}-{int(time.time() * 1000)}"
    assert start_landing(sfn, machine, name, report_id) == "landing started"
    arn = machine.replace(":stateMachine:", ":execution:") + f":{name}"
    deadline = time.monotonic() + 120
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "LandReport still running"
        time.sleep(0.2)
    assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
    return dict(json.loads(described["output"]))


def test_the_alarms_are_deployed_on_the_resources_the_other_stacks_made(stack):
    # GIVEN the deployed stacks
    prefix, cloudwatch = stack.resources.prefix, aws.client("cloudwatch")
    # WHEN the operations stack's alarms are read back
    deployed = {a["AlarmName"]: a for a in cloudwatch.describe_alarms(AlarmNamePrefix=f"{prefix}-")["MetricAlarms"]}
    # THEN each goes to the alarm topic
    topic = stack.resources.outputs["AlarmTopicArn"]
    assert len(deployed) == 10 and all(alarm["AlarmActions"] == [topic] for alarm in deployed.values())
    # AND the names they were built from the prefix are those of the deployed queue and state machines
    dlq = deployed[f"{prefix}-notifications-dlq-not-empty"]["Dimensions"]
    queue_urls = aws.client("sqs").list_queues(QueueNamePrefix=f"{prefix}-notifications-dlq")["QueueUrls"]
    assert [d["Value"] for d in dlq] == [url.rsplit("/", 1)[1] for url in queue_urls]
    land_report = deployed[f"{prefix}-land-report-executions-failed"]["Dimensions"]
    assert land_report == [{"Name": "StateMachineArn", "Value": stack.resources.state_machines["land_report"]}]
    watched = {a["Dimensions"][0]["Value"] for a in deployed.values() if a["MetricName"] == "ExecutionsFailed"}
    assert watched == set(stack.resources.state_machines.values())
    # AND the thresholds are the template's defaults
    assert deployed[f"{prefix}-spapi-throttling"]["Threshold"] == 200.0
    assert deployed[f"{prefix}-no-report-landed-for-a-day"]["TreatMissingData"] == "breaching"


def test_a_report_amazon_ends_fatal_emits_reports_failed_fatal_with_its_type(stack, box, capsys, settled_reports):
    # GIVEN a requested report that SP-API ends FATAL
    box.set_faults(Faults.parse(f"fatal_report,{HELD}"))
    report_id = requested(stack)
    settled_reports.append(report_id)
    finished(report_id, "FATAL")
    capsys.readouterr()
    # WHEN the landing settles it
    outcome = wiring.settlement().settle(report_id)
    # THEN the ledger says FATAL and one ReportsFailed line, Status FATAL, names the report
    assert outcome.status == "FATAL"
    lines = [line for line in emf(capsys.readouterr().out, "ReportsFailed") if line.get("report_id") == report_id]
    assert [(line["Status"], line["ReportType"], line["ReportsFailed"]) for line in lines] == [
        ("FATAL", LISTINGS, [1.0])
    ]


def test_a_broken_document_ends_failed_after_the_bound_and_the_report_beside_it_lands(stack, box, capsys,
                                                                                      settled_reports):  # fmt: skip
    # GIVEN two finished reports, and a seed that stores the first's document broken and the second's whole
    box.set_faults(Faults.parse(HELD))
    broken_id, good_id = requested(stack), requested(stack, marketplace_id="A2EUQ1WTGCTBG2")
    settled_reports.append(broken_id)
    broken_doc, good_doc = (finished(r).report_document_id for r in (broken_id, good_id))
    seed = next(s for s in range(1000)
                if [Faults.parse("broken_document=0.5", seed=s).hits("broken_document", doc)
                    for doc in (broken_doc, good_doc)] == [True, False])  # fmt: skip
    box.set_faults(Faults.parse(f"broken_document=0.5,{HELD}", seed=seed))
    capsys.readouterr()
    # WHEN LandReport runs for each
    broken, good = land(stack, broken_id), land(stack, good_id)
    # THEN the broken one ends FAILED, with its reason, after the bound; the other lands whole
    assert DOWNLOAD_MAX_ATTEMPTS == 4
    assert broken["status"] == "FAILED" and "failed to download 4 times" in broken["error"]
    entry = wiring.ledger().by_report_id(broken_id)
    assert (entry.status, entry.download_failures, entry.error) == ("FAILED", 4, broken["error"])
    truth = requests.get(f"{stack.sandbox.base_url}/_sandbox/reports/{good_id}", timeout=5).json()
    assert good["status"] == "LANDED" and good["sha256"] == truth["sha256"]
    # AND each emitted its metric: ReportsFailed FAILED for the one, ReportsLanded for the other
    out = capsys.readouterr().out
    assert [line["Status"] for line in emf(out, "ReportsFailed") if line.get("report_id") == broken_id] == ["FAILED"]
    assert [line["ReportType"] for line in emf(out, "ReportsLanded") if line.get("report_id") == good_id] == [LISTINGS]
    # AND the reconcile sweep never starts the FAILED one again
    invoke(stack, "reconcile")
    executions = aws.client("stepfunctions").list_executions(
        stateMachineArn=stack.resources.state_machines["land_report"]
    )["executions"]
    assert [
        e["name"] for e in executions if broken_id in e["name"] and not e["name"].startswith("test-operations-")
    ] == []
    assert wiring.ledger().by_report_id(broken_id).status == "FAILED"


def test_the_download_bound_is_the_deployments_setting(stack, box, monkeypatch, capsys, settled_reports):
    # GIVEN a deployment whose bound is 2 downloads, and a finished report whose every download is undecodable
    with monkeypatch.context() as deployed:
        deployed.setenv("DOWNLOAD_MAX_ATTEMPTS", "2")  # as the template sets the function's environment
        wiring.settings.cache_clear()
        settlement = wiring.settlement()
    wiring.settings.cache_clear()  # the stack's own settings again for whatever comes next
    box.set_faults(Faults.parse(HELD))
    report_id = requested(stack)
    settled_reports.append(report_id)
    finished(report_id)
    box.set_faults(Faults.parse(f"corrupt_document,{HELD}"))
    # WHEN the landing is tried, as LandReport retries it
    with pytest.raises(MalformedReportError):
        settlement.settle(report_id)
    outcome = settlement.settle(report_id)
    # THEN the second failure records FAILED with the decoding error, and says so in a metric line
    assert (
        outcome.status == "FAILED" and "2 times" in str(outcome.error) and "MalformedReportError" in str(outcome.error)
    )
    assert wiring.ledger().by_report_id(report_id).download_failures == 2
    lines = [line for line in emf(capsys.readouterr().out, "ReportsFailed") if line.get("report_id") == report_id]
    assert [line["Status"] for line in lines] == ["FAILED"]


def test_a_landings_log_lines_carry_its_report_id_and_execution_name(stack, box, caplog):
    # GIVEN a finished report, and the landing's loggers captured
    caplog.set_level(logging.INFO, logger="ingestion_lambdas")
    box.set_faults(Faults.parse(HELD))
    report_id = requested(stack)
    finished(report_id)
    name = f"test-operations-{report_id}-correlated"
    # WHEN LandReport lands it
    assert land(stack, report_id, name)["status"] == "LANDED"
    # THEN its structured lines name the report and the execution that landed it
    lines = [json.loads(r.getMessage()) for r in caplog.records
             if r.name.startswith("ingestion_lambdas") and r.getMessage().startswith("{")]  # fmt: skip
    landed = [line for line in lines if line["event"] == "report_landed" and line.get("execution_name") == name]
    assert [line["report_id"] for line in landed] == [report_id]  # (the stack lands other reports meanwhile)


def test_every_429_is_counted_by_operation(sandbox_factory, capsys):
    # GIVEN a sandbox that answers every SP-API call 429
    running = sandbox_factory(rate_limits=False)
    running.sandbox.set_faults(Faults.parse("throttle"))
    info = running.info()
    account = info["accounts"][0]
    provider = LwaTokenProvider(info["lwa_endpoint"], LwaCredentials(info["client_id"], info["client_secret"]))
    transport = Transport(info["spapi_endpoint"], RefreshTokenAuth(provider, account["refresh_token"]), RateLimiter(),
                          (account["account_id"], account["region"]), max_attempts=3, sleep=lambda _: None)  # fmt: skip
    capsys.readouterr()
    # WHEN a call is retried until the transport gives up
    with pytest.raises(SpApiThrottledError):
        ReportsApi(transport).get_report("123")
    # THEN each 429 was one SpApiThrottles line, by the operation's name
    lines = emf(capsys.readouterr().out, "SpApiThrottles")
    assert [(line["Operation"], line["SpApiThrottles"]) for line in lines] == [("getReport", [1.0])] * 3


def test_a_dataset_blocked_by_its_suite_is_put_to_cloudwatch(stack, monkeypatch):
    # GIVEN a curation run whose batch fails its suite (the Spark part replaced by its run report)
    blocked = RunReport(dataset="merchant_listings", run_id="jr_blocked", raw_objects=1, status="VALIDATION_FAILED")
    monkeypatch.setattr(curation, "get_spark", lambda: None)
    monkeypatch.setattr(curation, "curate", lambda *args: blocked)
    started = datetime.now(UTC) - timedelta(minutes=1)
    # WHEN the job's entry point runs, as Glue calls it
    curation.main(["job.py", "--dataset", "merchant_listings", "--raw_bucket", stack.resources.raw_bucket,
                   "--curated_bucket", stack.resources.curated_bucket, "--database", stack.resources.database,
                   "--JOB_RUN_ID", "jr_blocked"])  # fmt: skip
    # THEN moto's CloudWatch holds DatasetsBlocked = 1 for the dataset, and under `service` alone (what the alarm reads)
    cloudwatch = aws.client("cloudwatch")
    for dimensions in ([{"Name": "service", "Value": "spapi-lake"}, {"Name": "Dataset", "Value": "merchant_listings"}],
                       [{"Name": "service", "Value": "spapi-lake"}]):  # fmt: skip
        points = cloudwatch.get_metric_statistics(
            Namespace="SpApiLake", MetricName="DatasetsBlocked", Dimensions=dimensions, StartTime=started,
            EndTime=datetime.now(UTC) + timedelta(minutes=1), Period=3600, Statistics=["Maximum"],
        )["Datapoints"]  # fmt: skip
        assert [p["Maximum"] for p in points] == [1.0], dimensions


def test_credential_check_reports_days_left_from_each_secrets_current_version(stack, capsys):
    # GIVEN the operator's secrets as the offline stack set them (the app's, one refresh token per account), and a
    # clock 160 days after the newest of them was put
    secrets = aws.client("secretsmanager")
    settings = load_settings()
    clients = SpApiClients.from_settings(settings)
    secret_ids = [settings.need("app_credentials_secret_id")] + [
        a.refresh_token_secret_id for a in clients.accounts().values()
    ]
    created = {}
    for secret_id in secret_ids:
        versions = secrets.list_secret_version_ids(SecretId=secret_id)["Versions"]
        created[secret_id] = next(v["CreatedDate"] for v in versions if "AWSCURRENT" in v["VersionStages"])
    newest = max(created.values())
    now = newest + timedelta(days=160) - timedelta(hours=12)  # moto keeps whole seconds: not on a day's edge
    capsys.readouterr()
    # WHEN the check runs then
    report = CredentialCheck(clients, secrets, clock=now.timestamp).run()
    # THEN the client secret has 20 days left of its 180 (the alarm's 30 are past), each token 205 of its 365
    days = {age.account_id or "app": age.days_left for age in report.credentials}
    assert days.pop("app") == 20
    assert days == dict.fromkeys(clients.accounts(), 205)
    # AND the same numbers went out as metrics, tokens by account
    out = capsys.readouterr().out
    assert [line["LwaClientSecretDaysLeft"] for line in emf(out, "LwaClientSecretDaysLeft")] == [[20.0]]
    tokens = {line["AccountId"]: line["RefreshTokenDaysLeft"] for line in emf(out, "RefreshTokenDaysLeft")}
    assert tokens == dict.fromkeys(clients.accounts(), [205.0])


def test_an_issued_on_tag_wins_over_the_version_date(stack):
    # GIVEN the app secret tagged as issued 170 days before the clock
    secrets, settings = aws.client("secretsmanager"), load_settings()
    app_secret = settings.need("app_credentials_secret_id")
    now = datetime(2027, 3, 1, 12, tzinfo=UTC)
    secrets.tag_resource(SecretId=app_secret, Tags=[{"Key": ISSUED_ON_TAG, "Value": "2026-09-12"}])
    try:
        # WHEN the check runs
        report = CredentialCheck(SpApiClients.from_settings(settings), secrets, clock=now.timestamp).run()
    finally:
        secrets.untag_resource(SecretId=app_secret, TagKeys=[ISSUED_ON_TAG])
    # THEN the client secret's age counts from the tag: 2026-09-12 + 180 days is 2027-03-11, 9.5 days on
    (app,) = [age for age in report.credentials if age.credential == "client_secret"]
    assert (app.source, app.days_left, app.deadline) == ("tag", 9, datetime(2027, 3, 11, tzinfo=UTC))


def test_the_deployed_credential_check_runs_daily_and_reports_every_credential(stack):
    # GIVEN the deployed function and its schedule
    rules = aws.client("events").list_rules()["Rules"]
    (rule,) = [r for r in rules if r.get("Description", "").startswith("Check the LWA client secret")]
    assert rule["ScheduleExpression"] == "cron(0 6 * * ? *)"
    # WHEN it is invoked as the schedule invokes it
    result = invoke(stack, "check_credentials")
    # THEN every credential was checked from its current version, just put: 179 whole days left of 180, 364 of 365
    accounts = SpApiClients.from_settings(load_settings()).accounts()
    days = sorted((c["account_id"] or "", c["days_left"], c["source"]) for c in result["credentials"])
    assert days == sorted([("", 179, "current_version")] + [(a, 364, "current_version") for a in accounts])

"""The operations stack against the code: every alarm watches a metric something emits, with the dimensions it emits
it under, and the metrics' declarations, their EMF lines and the credential arithmetic are what they say."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest

from deployment.templates import STACKS, load
from glue_jobs.common import metrics as glue_metrics
from ingestion_lambdas import metrics
from ingestion_lambdas.services.credentials import (
    CLIENT_SECRET_MAX_AGE,
    REFRESH_TOKEN_MAX_AGE,
    WARNING_DAYS,
    days_left,
)
from ingestion_lambdas.services.landing import DOWNLOAD_MAX_ATTEMPTS
from ingestion_lambdas.settings import Settings
from ingestion_lambdas.spapi.transport import correlated, log_event

OPERATIONS = load("operations.yaml")
# AWS's own metrics the alarms may use, with the dimension each is published by (from the SQS and Step Functions
# CloudWatch metrics documentation), and the resource type and name property that dimension's value names.
AWS_METRICS = {
    ("AWS/SQS", "ApproximateNumberOfMessagesVisible"): ("QueueName", "AWS::SQS::Queue", "QueueName"),
    ("AWS/States", "ExecutionsFailed"): ("StateMachineArn", "AWS::StepFunctions::StateMachine", "StateMachineName"),
}


@pytest.fixture(autouse=True)
def metrics_on(monkeypatch):
    """Metric lines printed whatever the environment says (an offline run may switch Powertools' metrics off)."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")


def alarms(template: dict) -> dict[str, dict]:
    return {k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def declared() -> dict[str, metrics.Metric | glue_metrics.Metric]:
    return {m.name: m for m in (*metrics.METRICS, *glue_metrics.METRICS)}


def sub_text(value: object) -> str:
    """A template value as its Fn::Sub text (a plain string is its own)."""
    return str(value["Fn::Sub"]) if isinstance(value, dict) else str(value)


def named_resources(resource_type: str, name_property: str) -> set[str]:
    """The names (Fn::Sub text) every template we ship gives resources of a type."""
    return {sub_text(r["Properties"][name_property]) for s in STACKS for r in load(s.template)["Resources"].values()
            if r["Type"] == resource_type and name_property in r.get("Properties", {})}  # fmt: skip


def problems(alarm: dict) -> list[str]:
    """Why an alarm watches nothing the code emits (empty: it watches a real series)."""
    dimensions = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
    if alarm["Namespace"] == metrics.NAMESPACE:
        metric = declared().get(alarm["MetricName"])
        if metric is None:
            return [f"{alarm['MetricName']} is declared in neither metrics module"]
        found = []
        if tuple(sorted(dimensions)) not in {tuple(sorted(series)) for series in metric.series()}:
            found.append(f"{alarm['MetricName']} is emitted by {metric.series()}, not by {sorted(dimensions)}")
        if dimensions.get(metrics.SERVICE_DIMENSION) != metrics.SERVICE:
            found.append(f"service must be {metrics.SERVICE}")
        return found
    known = AWS_METRICS.get((alarm["Namespace"], alarm["MetricName"]))
    if known is None:
        return [f"{alarm['Namespace']} {alarm['MetricName']} is not a metric this test knows AWS publishes"]
    dimension, resource_type, name_property = known
    if set(dimensions) != {dimension}:
        return [f"{alarm['MetricName']} is published by {dimension}, not {sorted(dimensions)}"]
    value = sub_text(dimensions[dimension])
    name = value.rsplit(":stateMachine:", 1)[-1]  # a state machine's ARN ends with its name
    if name not in named_resources(resource_type, name_property):
        return [f"no template declares a {resource_type} named {name}"]
    return []


def test_every_alarm_names_a_metric_the_code_emits_or_an_aws_metric_of_a_declared_resource():
    found = {logical: problems(alarm) for logical, alarm in alarms(OPERATIONS).items()}
    assert {logical: p for logical, p in found.items() if p} == {}
    # ...and the check fails for an alarm on a metric nobody emits, on a dimension it is not emitted by, and on a
    # resource no template declares.
    assert problems({"Namespace": "SpApiLake", "MetricName": "ReportsLost", "Dimensions": []})
    service, operation = {"Name": "service", "Value": "spapi-lake"}, {"Name": "Operation", "Value": "getReport"}
    assert problems({"Namespace": "SpApiLake", "MetricName": "ReportsFailed", "Dimensions": [service, operation]})
    elsewhere = {"Name": "QueueName", "Value": {"Fn::Sub": "${Prefix}-elsewhere-dlq"}}
    assert problems({"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
                     "Dimensions": [elsewhere]})  # fmt: skip


def test_the_issues_alarms_exist_each_to_the_topic():
    by_metric = {(a["Namespace"], a["MetricName"]): a for a in alarms(OPERATIONS).values()}
    assert set(by_metric) == {
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),  # DLQ depth
        ("AWS/States", "ExecutionsFailed"),  # failed executions
        ("SpApiLake", "ReportsFailed"),  # reports FAILED
        ("SpApiLake", "DatasetsBlocked"),  # a dataset blocked by its suite
        ("SpApiLake", "ReportsLanded"),  # no data landed for a day
        ("SpApiLake", "SpApiThrottles"),  # throttling above a threshold
        ("SpApiLake", "LwaClientSecretDaysLeft"),  # the client secret's 180 days
        ("SpApiLake", "RefreshTokenDaysLeft"),  # a refresh token's 365 days
    }
    # one failed-executions alarm per state machine the ingestion stack declares
    failed = [a for a in alarms(OPERATIONS).values() if a["MetricName"] == "ExecutionsFailed"]
    watched = {sub_text(a["Dimensions"][0]["Value"]).rsplit(":stateMachine:", 1)[1] for a in failed}
    assert watched == named_resources("AWS::StepFunctions::StateMachine", "StateMachineName")
    # no data for a day: a day's sum under 1, and a day with no data point at all counts
    landed = by_metric[("SpApiLake", "ReportsLanded")]
    assert (landed["Period"], landed["Statistic"], landed["ComparisonOperator"], landed["Threshold"],
            landed["TreatMissingData"]) == (86400, "Sum", "LessThanThreshold", 1, "breaching")  # fmt: skip
    reports_failed = by_metric[("SpApiLake", "ReportsFailed")]
    assert {"Name": "Status", "Value": "FAILED"} in reports_failed["Dimensions"]
    for alarm in alarms(OPERATIONS).values():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_credential_alarms_fire_at_the_warning_days_the_check_warns_at():
    parameters = OPERATIONS["Parameters"]
    assert parameters["CredentialWarningDays"]["Default"] == WARNING_DAYS == 30
    for metric in ("LwaClientSecretDaysLeft", "RefreshTokenDaysLeft"):
        (alarm,) = [a for a in alarms(OPERATIONS).values() if a["MetricName"] == metric]
        assert alarm["Threshold"] == {"Ref": "CredentialWarningDays"}
        assert (alarm["Statistic"], alarm["ComparisonOperator"]) == ("Minimum", "LessThanOrEqualToThreshold")


def test_the_alarm_topic_is_encrypted_by_a_key_cloudwatch_may_use_and_mailed_only_when_asked():
    resources = OPERATIONS["Resources"]
    data_key = {"Fn::ImportValue": {"Fn::Sub": "${Prefix}-data-key-arn"}}
    assert resources["AlarmTopic"]["Properties"]["KmsMasterKeyId"] == data_key
    statements = load("storage.yaml")["Resources"]["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = [s for s in statements if s["Principal"].get("Service") == "cloudwatch.amazonaws.com"]
    assert cloudwatch and {"kms:Decrypt", "kms:GenerateDataKey"} <= set(cloudwatch[0]["Action"])
    assert resources["AlarmEmailSubscription"]["Condition"] == "HasAlarmEmail"
    assert OPERATIONS["Parameters"]["AlarmEmail"]["Default"] == ""


def test_the_dashboard_shows_only_metrics_that_are_emitted():
    body = sub_text(OPERATIONS["Resources"]["Dashboard"]["Properties"]["DashboardBody"])
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]  # valid JSON once substituted
    shown = set()
    for row in (row for widget in widgets for row in widget["properties"]["metrics"]):
        if isinstance(row[0], dict):  # SEARCH('{namespace,dimensions...} MetricName="name"', ...)
            namespace, name = re.search(r"\{(\w+),.*MetricName=\"(\w+)\"", row[0]["expression"]).groups()
        else:  # [namespace, name, dimension, value, ...]
            namespace, name = row[0], row[1]
        shown.add((namespace, name))
    ours = {name for namespace, name in shown if namespace == metrics.NAMESPACE}
    assert ours <= set(declared())
    assert {"ReportsLanded", "ReportsFailed", "SpApiThrottles", "DatasetsBlocked", "RefreshTokenDaysLeft"} <= ours
    assert {("AWS/SQS", "ApproximateNumberOfMessagesVisible"), ("AWS/States", "ExecutionsFailed")} <= shown


def test_the_lambda_and_glue_declarations_share_namespace_and_service_and_no_name():
    assert (glue_metrics.NAMESPACE, glue_metrics.SERVICE) == (metrics.NAMESPACE, metrics.SERVICE)
    assert not {m.name for m in metrics.METRICS} & {m.name for m in glue_metrics.METRICS}


def test_an_emf_line_names_every_series_of_its_metric(capsys):
    # WHEN a report's failure is emitted
    metrics.emit(metrics.REPORTS_FAILED, 1, {"report_id": "r-1"}, ReportType="GET_X", Status="FAILED")
    # THEN one EMF line on stdout carries the value under each dimension set, and the report id beside it
    (line,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "SpApiLake"
    assert directive["Dimensions"] == [["service"], ["service", "Status"], ["service", "ReportType", "Status"]]
    assert directive["Metrics"] == [{"Name": "ReportsFailed", "Unit": "Count"}]
    assert (line["service"], line["Status"], line["ReportType"], line["report_id"]) == (
        "spapi-lake", "FAILED", "GET_X", "r-1")  # fmt: skip
    assert line["ReportsFailed"] == [1.0]


def test_a_metric_refuses_dimensions_it_is_not_declared_with(capsys):
    with pytest.raises(ValueError, match="ReportsLanded"):
        metrics.emit(metrics.REPORTS_LANDED, 1, Operation="getReport")
    with pytest.raises(ValueError, match="DatasetsBlocked"):
        glue_metrics.put(None, glue_metrics.DATASETS_BLOCKED, 1)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("age", "max_age", "expected"),
    [
        (timedelta(days=160), CLIENT_SECRET_MAX_AGE, 20),  # 180-day rotation: 20 days to go, the alarm fires
        (timedelta(days=149), CLIENT_SECRET_MAX_AGE, 31),  # a day before the warning
        (timedelta(days=160, hours=12), CLIENT_SECRET_MAX_AGE, 19),  # 19.5 days: whole days, rounded down
        (timedelta(days=180), CLIENT_SECRET_MAX_AGE, 0),  # the deadline
        (timedelta(days=200), CLIENT_SECRET_MAX_AGE, -20),  # past it
        (timedelta(days=335), REFRESH_TOKEN_MAX_AGE, 30),  # 365-day re-authorization: 30 left, the alarm fires
        (timedelta(days=1), REFRESH_TOKEN_MAX_AGE, 364),
    ],
)
def test_days_left_counts_whole_days_to_the_deadline(age, max_age, expected):
    now = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert days_left(now - age, max_age, now) == expected


def test_log_lines_inside_correlated_carry_its_ids_and_lines_after_it_do_not(caplog):
    log = logging.getLogger("tests.correlation")
    caplog.set_level(logging.INFO, logger="tests.correlation")
    # WHEN lines are logged inside nested correlation scopes, then after them
    with correlated(report_id="r-1", execution_name="land-r-1"):
        with correlated(account_id=None, marketplace_id="M"):
            log_event(log, logging.INFO, "inner", rows=1)
        log_event(log, logging.INFO, "outer", report_id="given")
    log_event(log, logging.INFO, "after")
    # THEN each carries the ids around it (a field given explicitly wins, None is left out), and none leak out
    assert [json.loads(r.getMessage()) for r in caplog.records] == [
        {"event": "inner", "report_id": "r-1", "execution_name": "land-r-1", "marketplace_id": "M", "rows": 1},
        {"event": "outer", "report_id": "given", "execution_name": "land-r-1"},
        {"event": "after"},
    ]


def test_the_download_bound_is_a_parameter_no_larger_than_one_execution_tries():
    parameter = load("ingestion.yaml")["Parameters"]["DownloadMaxAttempts"]
    assert parameter["Default"] == parameter["MaxValue"] == Settings().download_max_attempts == DOWNLOAD_MAX_ATTEMPTS
    land = load("ingestion.yaml")["Resources"]["LandReportFunction"]["Properties"]["Environment"]["Variables"]
    assert land["DOWNLOAD_MAX_ATTEMPTS"] == {"Ref": "DownloadMaxAttempts"}

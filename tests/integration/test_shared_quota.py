"""Two processes calling SP-API for the same seller share one quota through DynamoDB: together they never exceed
Amazon's bucket (the sandbox answers 429 as Amazon does when they would), where two processes pacing themselves
alone would each spend a full burst."""

import json
import os
import subprocess
import sys

import pytest

from ingestion_lambdas import aws
from ingestion_lambdas.spapi.reports import GET_REPORT

WORKER = """
import json, sys, time
from collections import Counter
import requests
from ingestion_lambdas import aws
from ingestion_lambdas.spapi.auth import LwaCredentials, LwaTokenProvider, RefreshTokenAuth
from ingestion_lambdas.spapi.rate_limit import QuotaTable, RateLimiter
from ingestion_lambdas.spapi.reports import ReportsApi
from ingestion_lambdas.spapi.transport import Transport

info, table, calls, report_id = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
account = info["accounts"][0]
session, statuses = requests.Session(), Counter()
def count(response, **_):  # SP-API's answers, not the LWA exchange's
    if "/reports/" in response.request.path_url:
        statuses.update([response.status_code])
session.hooks["response"].append(count)
sent, send = [], session.send
def timed(request, **kwargs):  # when each SP-API request left this process
    if "/reports/" in request.path_url:
        sent.append(time.time())
    return send(request, **kwargs)
session.send = timed
shared = QuotaTable(aws.resource("dynamodb").Table(table), info["client_id"]) if table != "-" else None
provider = LwaTokenProvider(info["lwa_endpoint"], LwaCredentials(info["client_id"], info["client_secret"]), session)
transport = Transport(info["spapi_endpoint"], RefreshTokenAuth(provider, account["refresh_token"]),
                      RateLimiter(shared), (account["account_id"], account["region"]), session=session,
                      backoff_base_s=0.05, backoff_cap_s=0.2, max_attempts=50)
reports = ReportsApi(transport)
sys.stdin.readline()  # both processes start calling together
for _ in range(calls):
    reports.get_report(report_id)
print(json.dumps({"throttled": statuses[429], "ok": statuses[200], "sent": sent}))
"""


def run_together(info: dict, table: str, calls: int, report_id: str, processes: int = 2) -> list[dict]:
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, json.dumps(info), table, str(calls), report_id],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )  # fmt: skip
        for _ in range(processes)
    ]
    for worker in workers:  # imported and connected: release them at once
        worker.stdin.write("go\n")
        worker.stdin.flush()
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


@pytest.fixture
def quota_table(stack):
    name = "spapi-lake-quotas-test"
    dynamodb = aws.client("dynamodb")
    dynamodb.create_table(
        TableName=name, KeySchema=[{"AttributeName": "quota_key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "quota_key", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )  # fmt: skip
    yield name
    dynamodb.delete_table(TableName=name)


def excess(sent: list[float], rate: float, burst: int) -> int:
    """The most calls any window held beyond what Amazon's bucket allows in it (burst + rate x window)."""
    times = sorted(sent)
    return max(
        (j - i + 1) - int(burst + rate * (times[j] - times[i]) + 1e-6)
        for i in range(len(times)) for j in range(i, len(times))
    )  # fmt: skip


def test_two_processes_never_exceed_the_quota_together(sandbox_factory, stack, quota_table):
    # GIVEN the sandbox with getReport at 4x Amazon's plan (8/s, burst 15), and a report to look at
    running = sandbox_factory(time_scale=4.0)
    info = running.info()
    from tests.integration.test_client_against_sandbox import client_for  # noqa: PLC0415

    reports, _, _ = client_for(running)
    report_id = reports.create_report("GET_MERCHANT_LISTINGS_ALL_DATA", ["ATVPDKIKX0DER"])
    assert GET_REPORT.quota.burst == 15
    # WHEN two processes that share the quota table each make 40 getReport calls at once
    shared = run_together(info, quota_table, 40, report_id)
    # THEN together they never sent more than Amazon's bucket allows, in any window
    assert excess([t for r in shared for t in r["sent"]], 8.0, 15) <= 0
    # AND every call succeeded without Amazon (the sandbox) having to refuse one
    assert [r["ok"] for r in shared] == [40, 40]
    assert sum(r["throttled"] for r in shared) == 0
    # AND the same two processes pacing themselves alone (each a full burst) exceed it: the test can fail
    alone = run_together(info, "-", 40, report_id)
    assert excess([t for r in alone for t in r["sent"]], 8.0, 15) > 0


def test_the_deployed_functions_pace_their_calls_through_the_stacks_quota_table(stack):
    import importlib  # noqa: PLC0415
    from datetime import UTC, datetime  # noqa: PLC0415

    from local.moto_runtime import LambdaContext  # noqa: PLC0415

    table = stack.resources.environment()["QUOTA_TABLE"]
    assert table == f"{stack.resources.prefix}-quotas"
    # WHEN a function requests a report
    job = {"account_id": "demo-seller-na", "report_type": "GET_MERCHANT_LISTINGS_ALL_DATA",
           "marketplace_id": "ATVPDKIKX0DER", "data_start_time": datetime.now(UTC).isoformat()}  # fmt: skip
    importlib.import_module("ingestion_lambdas.handlers.request_report").lambda_handler(
        job, LambdaContext("spapi-lake-request-report")
    )
    # THEN its createReport call took its slot from the application's bucket for that seller, region and operation
    items = aws.resource("dynamodb").Table(table).scan()["Items"]
    client_id = stack.sandbox.info()["client_id"]
    assert f"{client_id}|demo-seller-na|NA|createReport" in {item["quota_key"] for item in items}

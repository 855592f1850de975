"""The operator's commands against the offline deployment (the entry stack in moto, the sandbox over HTTP):
`spapi-lake status`, `spapi-lake redrive` and `spapi-lake destroy`."""

import importlib
import json
import subprocess
import sys
import time
from datetime import UTC, datetime

from deployment.operations import dead_letter_queue, depth, queue_url, status
from deployment.stacks import ensure_bucket, stack_outputs
from glue_jobs.curate_reports.report import RunReport, ValidationSummary, report_key
from ingestion_lambdas import aws
from local.cli import main
from local.moto_runtime import LambdaContext
from tests.integration.test_handlers import finished


def deployed() -> dict[str, str]:
    return stack_outputs(aws.client("cloudformation"), "spapi-lake")


def land_executions(stack, report_id: str) -> list[str]:
    executions = aws.client("stepfunctions").list_executions(
        stateMachineArn=stack.resources.state_machines["land_report"]
    )["executions"]
    return [e["name"] for e in executions if e["name"] == f"land-{report_id}"]


def test_redrive_moves_dead_lettered_notifications_back_and_their_report_is_landed_once(stack, capsys):
    found = deployed()
    sqs = aws.client("sqs")
    dead = dead_letter_queue(sqs, queue_url(sqs, found["NotificationsQueueArn"]))
    before = status(found)
    # GIVEN a report the pipeline requested, whose notification was dead-lettered, and dead-lettered again (a copy)
    job = {"account_id": "demo-seller-na", "report_type": "GET_MERCHANT_LISTINGS_ALL_DATA",
           "marketplace_id": "ATVPDKIKX0DER", "data_start_time": datetime.now(UTC).isoformat()}  # fmt: skip
    request = importlib.import_module("ingestion_lambdas.handlers.request_report").lambda_handler
    report_id = request(job, LambdaContext("spapi-lake-request-report"))["report_id"]
    for _ in range(2):
        sqs.send_message(QueueUrl=dead, MessageBody=json.dumps(finished(report_id)))
    # THEN status counts the request and the dead letters
    seen = status(found)
    assert seen.ledger["REQUESTED"] == before.ledger.get("REQUESTED", 0) + 1
    assert seen.dead_letters == before.dead_letters + 2
    assert land_executions(stack, report_id) == []
    # WHEN the operator redrives
    assert main(["redrive"]) == 0
    assert f"moved {before.dead_letters + 2} notifications" in capsys.readouterr().out
    # THEN the dead-letter queue is empty and the report's landing started exactly once, for both copies
    assert depth(sqs, dead) == 0
    deadline = time.monotonic() + 30
    while not land_executions(stack, report_id) and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2)  # the copy's turn
    assert land_executions(stack, report_id) == [f"land-{report_id}"]
    # AND a second redrive has nothing to move
    assert main(["redrive"]) == 0
    assert "moved 0 notifications" in capsys.readouterr().out


def test_status_names_a_dataset_blocked_by_its_newest_run_and_why(stack, capsys):
    found = deployed()
    s3, bucket = aws.client("s3"), found["CuratedBucketName"]
    # GIVEN orders' run reports as the curation job writes them: a run that published, then one whose suite failed
    passed = RunReport(dataset="orders", run_id="op-test-1", raw_objects=1, status="SUCCEEDED",
                       validation=ValidationSummary(success=True, evaluated=12))  # fmt: skip
    rule = "expect_column_values_to_be_in_set(order_status): 2 unexpected, e.g. ['Shiped']"
    blocked = RunReport(dataset="orders", run_id="op-test-2", raw_objects=1, status="VALIDATION_FAILED",
                        validation=ValidationSummary(success=False, evaluated=12, failed=[rule]))  # fmt: skip
    keys = [report_key("orders", r.run_id) for r in (passed, blocked)]
    try:
        s3.put_object(Bucket=bucket, Key=keys[0], Body=passed.model_dump_json().encode())
        time.sleep(1.1)  # S3 keeps LastModified to the second: the second report is the newer
        s3.put_object(Bucket=bucket, Key=keys[1], Body=blocked.model_dump_json().encode())
        # WHEN the operator asks for the status
        assert main(["status", "--json"]) == 0
        seen = json.loads(capsys.readouterr().out)
        # THEN orders is blocked, by its newest run, with the suite's reason; the other datasets are not
        assert "orders" in seen["blocked"]
        assert seen["last_curation"]["orders"]["run_id"] == "op-test-2"
        assert seen["last_curation"]["orders"]["failed"] == [rule]
        assert all(seen["last_curation"][name]["status"] == "VALIDATION_FAILED" for name in seen["blocked"])
        assert main(["status"]) == 0
        assert "blocked by their suite: " in capsys.readouterr().out
    finally:
        for key in keys:
            s3.delete_object(Bucket=bucket, Key=key)
    assert "orders" not in status(found).blocked


DESTROY = """
import json
from deployment.stacks import destroy, nested_stacks
from ingestion_lambdas import aws
from local.provision import ARTIFACTS_BUCKET, PREFIX
from local.stack import LocalStack

with LocalStack() as running:
    cfn, s3 = aws.client("cloudformation"), aws.client("s3")
    raw, key = running.resources.raw_bucket, running.resources.kms_key_id
    s3.put_object(Bucket=raw, Key="spapi/kept.txt", Body=b"data")
    # a cached access token, as the functions make them
    aws.client("secretsmanager").create_secret(Name=f"{PREFIX}/access-token/abc", SecretString="{}")
    parts = nested_stacks(cfn, PREFIX)
    kept = destroy(PREFIX, ARTIFACTS_BUCKET)
    alive = [s["StackName"] for s in cfn.describe_stacks()["Stacks"] if s["StackStatus"] != "DELETE_COMPLETE"]
    functions = aws.client("lambda").list_functions()["Functions"]
    print(json.dumps({
        "kept": [[k.kind, k.name, k.reason] for k in kept], "parts": sorted(parts), "alive": alive,
        "functions": len(functions), "raw": raw, "curated": running.resources.curated_bucket, "key": key,
        "raw_object": s3.get_object(Bucket=raw, Key="spapi/kept.txt")["Body"].read().decode(),
        "key_state": aws.client("kms").describe_key(KeyId=key)["KeyMetadata"]["KeyState"],
        "secrets": sorted(s["Name"] for s in aws.client("secretsmanager").list_secrets()["SecretList"]),
    }))
"""


def test_destroy_deletes_every_part_and_keeps_the_data_the_key_and_the_sellers_tokens():
    # a world of its own (moto's backends are per process): destroying the session's would end the other tests
    result = subprocess.run([sys.executable, "-c", DESTROY], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["parts"] == ["curation", "governance", "ingestion", "operations", "storage", "warehouse"]
    # THEN no stack is left, nor any function
    assert seen["alive"] == [] and seen["functions"] == 0
    # AND what it keeps is said with its reason: both data buckets (with their data), the key, the tokens
    kept = {(kind, name) for kind, name, _ in seen["kept"]}
    assert {("AWS::S3::Bucket", seen["raw"]), ("AWS::S3::Bucket", seen["curated"])} <= kept
    assert ("AWS::KMS::Key", seen["key"].rsplit("/", 1)[-1]) in kept or ("AWS::KMS::Key", seen["key"]) in kept
    tokens = {name for kind, name in kept if kind == "AWS::SecretsManager::Secret"}
    assert tokens and tokens <= set(seen["secrets"])
    assert all(reason for _, _, reason in seen["kept"])
    assert seen["raw_object"] == "data" and seen["key_state"] == "Enabled"
    # AND the functions' cached access tokens (live tokens, made at run time) went with it
    assert not [name for name in seen["secrets"] if "/access-token/" in name]


def test_deploy_makes_a_missing_artifacts_bucket_private_and_leaves_an_existing_one(stack):
    s3 = aws.client("s3")
    assert ensure_bucket(s3, "spapi-lake-new-artifacts") is True
    block = s3.get_public_access_block(Bucket="spapi-lake-new-artifacts")["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    assert s3.get_bucket_versioning(Bucket="spapi-lake-new-artifacts")["Status"] == "Enabled"
    assert ensure_bucket(s3, "spapi-lake-new-artifacts") is False
    s3.delete_bucket(Bucket="spapi-lake-new-artifacts")

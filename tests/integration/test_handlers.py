"""The Lambda entry points with the event shapes AWS gives them (SQS batches, state input, schedules)."""

import importlib
import json
import logging
import time
from datetime import UTC, datetime

from ingestion_lambdas import aws
from ingestion_lambdas.services import wiring
from local.event_sources import sqs_event
from local.moto_runtime import LambdaContext


def handler(name: str):
    return importlib.import_module(f"ingestion_lambdas.handlers.{name}").lambda_handler


def message(body: object, message_id: str) -> dict:
    """An SQS message as ReceiveMessage (AttributeNames=All) returns it: Lambda's records carry these attributes."""
    text = body if isinstance(body, str) else json.dumps(body)
    sent = str(int(time.time() * 1000))
    attributes = {"ApproximateReceiveCount": "1", "SentTimestamp": sent, "SenderId": "AIDAEXAMPLE",
                  "ApproximateFirstReceiveTimestamp": sent}  # fmt: skip
    return {"MessageId": message_id, "ReceiptHandle": f"rh-{message_id}", "Body": text, "Attributes": attributes}


def finished(report_id: str) -> dict:
    return {
        "notificationVersion": "2020-09-04",
        "notificationType": "REPORT_PROCESSING_FINISHED",
        "payloadVersion": "2020-09-04",
        "eventTime": "2026-11-24T00:00:00.000Z",
        "payload": {"reportProcessingFinishedNotification": {
            "sellerId": "A1", "accountId": "amzn1.merchant.o.A1", "reportId": report_id,
            "reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "processingStatus": "DONE"}},
        "notificationMetadata": {"applicationId": "app", "subscriptionId": "sub", "publishTime": "2026-11-24T00:00:00Z",
                                 "notificationId": f"n-{report_id}"},
    }  # fmt: skip


def test_notification_batch_reports_only_the_bad_records_as_failed_and_logs_why(stack, caplog):
    # GIVEN a report this pipeline requested, one it did not, a body that is not JSON, and a notification of a type
    # the pipeline never subscribed to
    job = {"account_id": "demo-seller-na", "report_type": "GET_MERCHANT_LISTINGS_ALL_DATA",
           "marketplace_id": "ATVPDKIKX0DER", "data_start_time": datetime.now(UTC).isoformat()}  # fmt: skip
    ours = handler("request_report")(job, LambdaContext("spapi-lake-request-report"))["report_id"]
    unknown = {**finished("424243"), "notificationType": "FEED_PROCESSING_FINISHED"}
    event = sqs_event(
        [message(finished(ours), "m-ours"), message(finished("424242"), "m-theirs"), message("{not json", "m-bad"),
         message(unknown, "m-unknown")],
        stack.resources.queue_arn,
    )  # fmt: skip
    function = importlib.import_module("ingestion_lambdas.handlers.process_notifications")
    # WHEN the notifications function gets the batch
    with caplog.at_level(logging.WARNING, logger=function.logger.name):
        result = function.lambda_handler(event, LambdaContext("spapi-lake-process-notifications"))
    # THEN exactly the bad records are reported failed (they will be retried, then dead-lettered)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-bad"}, {"itemIdentifier": "m-unknown"}]}
    # AND each failure is logged by the function's logger with its reason
    reasons = [str(r.exc_info[1]) for r in caplog.records if r.name == function.logger.name and r.exc_info]
    assert len(reasons) == 2
    assert any("Invalid JSON" in reason for reason in reasons)
    assert any("'FEED_PROCESSING_FINISHED'" in reason for reason in reasons)
    # AND our report's landing started under the name of its reportId
    executions = aws.client("stepfunctions").list_executions(
        stateMachineArn=stack.resources.state_machines["land_report"]
    )
    assert f"land-{ours}" in {e["name"] for e in executions["executions"]}


def test_a_listings_notification_refreshes_that_sku(stack):
    account = next(a for a in stack.sandbox.info()["accounts"] if a["account_id"] == "demo-seller-na")
    listing = stack.sandbox.sandbox.world.listings("demo-seller-na", "ATVPDKIKX0DER")[0]
    body = {"NotificationVersion": "1.0", "NotificationType": "LISTINGS_ITEM_STATUS_CHANGED", "PayloadVersion": "1.0",
            "EventTime": "2026-11-24T00:00:00.000Z",
            "Payload": {"SellerId": account["selling_partner_id"], "MarketplaceId": "ATVPDKIKX0DER",
                        "Asin": listing.asin, "Sku": listing.seller_sku, "Status": ["BUYABLE"]},
            "NotificationMetadata": {"NotificationId": "n-listing"}}  # fmt: skip
    event = sqs_event([message(body, "m-listing")], stack.resources.queue_arn)
    result = handler("process_notifications")(event, LambdaContext("spapi-lake-process-notifications"))
    assert result == {"batchItemFailures": []}
    s3 = aws.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=stack.resources.raw_bucket, Prefix="spapi/listings_items/")
            .get("Contents", [])]  # fmt: skip
    bodies = [s3.get_object(Bucket=stack.resources.raw_bucket, Key=k)["Body"].read().decode() for k in keys]
    assert any(json.loads(line)["item"]["sku"] == listing.seller_sku for b in bodies for line in b.splitlines())


def test_plan_reports_returns_state_input_for_the_map_and_reconcile_takes_a_schedule_event(stack):
    planned = handler("plan_reports")({}, LambdaContext("spapi-lake-plan-reports"))
    assert planned["count"] == len(planned["jobs"])
    for job in planned["jobs"]:
        assert {"account_id", "report_type", "marketplace_id", "data_start_time"} <= set(job)
    schedule = {"version": "0", "id": "e1", "detail-type": "Scheduled Event", "source": "aws.events",
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ"), "resources": [], "detail": {}}  # fmt: skip
    swept = handler("reconcile")(schedule, LambdaContext("spapi-lake-reconcile"))
    assert set(swept) == {"checked", "landing_started", "requested_again", "discovered"}
    assert wiring.ledger().summary()  # the ledger is readable after both

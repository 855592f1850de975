"""NotificationRouter with in-memory fakes of Step Functions, the ledger and the catalog service, and Powertools' batch
processing with the notification record model in front of it."""

from __future__ import annotations

import copy
import json
import logging
import time
from pathlib import Path

import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from botocore.exceptions import ClientError

from ingestion_lambdas.events import NotificationRecord, parse_notification
from ingestion_lambdas.services.ledger import LedgerEntry
from ingestion_lambdas.services.notifications import NotificationRouter

SCHEMAS = Path(__file__).resolve().parents[2] / "contracts" / "spapi-models"
LAND_REPORT_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:spapi-lake-land-report"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:spapi-lake-notifications"


def example(name: str) -> dict:
    return copy.deepcopy(json.loads((SCHEMAS / f"notification-schema_{name}.json").read_text())["examples"][0])


def report_finished(report_id: str) -> dict:
    body = example("REPORT_PROCESSING_FINISHED")
    body["payload"]["reportProcessingFinishedNotification"]["reportId"] = report_id
    return body


class FakeStepFunctions:
    """Keeps started executions by name. A name used before is refused as Step Functions refuses it once that
    execution has closed (ExecutionAlreadyExists)."""

    def __init__(self, refuse_with: str | None = None) -> None:
        self.started: list[dict[str, object]] = []
        self.refuse_with = refuse_with

    def start_execution(self, *, stateMachineArn: str, name: str, input: str) -> dict[str, str]:  # noqa: N803, A002
        if self.refuse_with is not None:
            raise ClientError({"Error": {"Code": self.refuse_with, "Message": "refused"}}, "StartExecution")
        if any(e["name"] == name for e in self.started):
            raise ClientError({"Error": {"Code": "ExecutionAlreadyExists", "Message": name}}, "StartExecution")
        self.started.append({"stateMachineArn": stateMachineArn, "name": name, "input": json.loads(input)})
        return {"executionArn": f"{stateMachineArn}:{name}"}


class FakeLedger:
    """The ledger's lookup by reportId, over the reports this pipeline requested."""

    def __init__(self, *report_ids: str) -> None:
        now = time.time()
        self.entries = {
            report_id: LedgerEntry(
                request_key=f"key-{report_id}",
                account_id="demo-seller-na",
                marketplace_id="ATVPDKIKX0DER",
                report_type="GET_MERCHANT_LISTINGS_ALL_DATA",
                report_id=report_id,
                requested_at=now,
                updated_at=now,
            )
            for report_id in report_ids
        }

    def by_report_id(self, report_id: str) -> LedgerEntry | None:
        return self.entries.get(report_id)


class FakeCatalog:
    def __init__(self) -> None:
        self.refreshed: list[tuple[str, str, str]] = []

    def refresh_listing(self, seller_id: str, sku: str, marketplace_id: str) -> None:
        self.refreshed.append((seller_id, sku, marketplace_id))


def router(
    sfn: FakeStepFunctions | None = None, ledger: FakeLedger | None = None, catalog: FakeCatalog | None = None
) -> NotificationRouter:
    return NotificationRouter(
        sfn or FakeStepFunctions(),
        LAND_REPORT_ARN,
        ledger or FakeLedger(),
        catalog or FakeCatalog(),
    )


def test_our_finished_report_starts_one_landing_named_after_its_report_id():
    # GIVEN a report this pipeline requested
    sfn = FakeStepFunctions()
    routing = router(sfn, FakeLedger("50001"))
    # WHEN its REPORT_PROCESSING_FINISHED arrives
    outcome = routing.route(parse_notification(json.dumps(report_finished("50001"))))
    # THEN LandReport starts once, named land-<reportId>, with the report id (and its own name) as its input
    assert outcome == "landing started"
    assert sfn.started == [{"stateMachineArn": LAND_REPORT_ARN, "name": "land-50001",
                            "input": {"report_id": "50001", "execution_name": "land-50001"}}]  # fmt: skip


def test_duplicate_notification_lands_report_once():
    # GIVEN a report whose landing already started (SQS delivers at least once)
    sfn = FakeStepFunctions()
    routing = router(sfn, FakeLedger("50001"))
    notification = parse_notification(json.dumps(report_finished("50001")))
    routing.route(notification)
    # WHEN the same notification arrives again
    outcome = routing.route(notification)
    # THEN it is a duplicate, not a failure, and still one execution exists
    assert outcome == "duplicate"
    assert [e["name"] for e in sfn.started] == ["land-50001"]


def test_a_report_not_in_the_ledger_is_not_ours_and_starts_nothing():
    sfn = FakeStepFunctions()
    outcome = router(sfn, FakeLedger("50001")).route(parse_notification(json.dumps(report_finished("424242"))))
    assert outcome == "not ours"
    assert sfn.started == []


def test_a_start_refused_for_another_reason_raises_so_the_message_is_retried():
    routing = router(FakeStepFunctions(refuse_with="ThrottlingException"), FakeLedger("50001"))
    with pytest.raises(ClientError, match="ThrottlingException"):
        routing.route(parse_notification(json.dumps(report_finished("50001"))))


@pytest.mark.parametrize(
    "schema",
    ["LISTINGS_ITEM_STATUS_CHANGE", "LISTINGS_ITEM_ISSUES_CHANGE", "LISTINGS_ITEM_ISSUES_CHANGE_2023-12-13"],
)
def test_a_listings_notification_refreshes_that_sku(schema):
    # GIVEN a listings notification
    body = example(schema)
    catalog, sfn = FakeCatalog(), FakeStepFunctions()
    # WHEN it is routed
    outcome = router(sfn, catalog=catalog).route(parse_notification(json.dumps(body)))
    # THEN that one listings item is fetched again, by the ids the notification names, and no landing starts
    assert outcome == "listing refreshed"
    item = body["Payload"]
    assert catalog.refreshed == [(item["SellerId"], item["Sku"], item["MarketplaceId"])]
    assert sfn.started == []


# Batch processing ----------------------------------------------------------------------------------------------------


def sqs_record(message_id: str, body: str) -> dict:
    """An SQS record as Lambda's event source mapping delivers it."""
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1764000000000",
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1764000000001",
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "us-east-1",
    }


def test_a_batch_reports_only_the_record_that_fails_its_model_and_logs_why(caplog):
    # GIVEN a batch with our finished report and a notification of a type we never subscribed to
    sfn = FakeStepFunctions()
    routing = router(sfn, FakeLedger("50001"))
    unknown = {**report_finished("50002"), "notificationType": "FEED_PROCESSING_FINISHED"}
    event = {
        "Records": [
            sqs_record("m-good", json.dumps(report_finished("50001"))),
            sqs_record("m-bad", json.dumps(unknown)),
        ]
    }
    processor = BatchProcessor(
        event_type=EventType.SQS, model=NotificationRecord, logger=logging.getLogger("test-notifications")
    )

    def record_handler(record: NotificationRecord) -> str:
        return routing.route(record.body)

    # WHEN the batch is processed as the notifications function processes it
    with caplog.at_level(logging.WARNING, logger="test-notifications"):
        result = process_partial_response(event=event, record_handler=record_handler, processor=processor)
    # THEN only the bad record is reported (SQS retries it, then dead-letters it), and the good one was routed
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-bad"}]}
    assert [e["name"] for e in sfn.started] == ["land-50001"]
    # AND the failure is logged with the reason
    (warning,) = [r for r in caplog.records if r.name == "test-notifications"]
    assert warning.exc_info is not None
    assert "'FEED_PROCESSING_FINISHED'" in str(warning.exc_info[1])

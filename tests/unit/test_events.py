"""The event models: every notification Amazon documents and the sandbox sends parses as its model, what does not is
refused with a reason that names it, and the state-machine models carry the keys the ASL files select."""

from __future__ import annotations

import copy
import json
import typing
from pathlib import Path

import pytest
from pydantic import ValidationError

from ingestion_lambdas.events import (
    NOTIFICATION_MODELS,
    CatalogAndListingsInput,
    CatalogPlan,
    LandReportInput,
    ListingsItemIssuesChangeNotification,
    ListingsItemIssuesChangeNotification20231213,
    ListingsItemStatusChangeNotification,
    Notification,
    NotificationRecord,
    PlannedReports,
    ReportJob,
    ReportProcessingFinishedNotification,
    parse_notification,
)
from ingestion_lambdas.services.notifications import SUBSCRIPTIONS
from ingestion_lambdas.spapi.notifications import PAYLOAD_VERSIONS
from sandbox import notifications as sandbox_notifications
from sandbox.notifications import NotificationHub
from sandbox.world import World

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "contracts" / "spapi-models"
ASL = ROOT / "ingestion_lambdas" / "statemachines"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:spapi-lake-notifications"
ACCOUNT, SELLER, MARKETPLACE = "demo-seller-na", "A1SANDBOXSELLER", "ATVPDKIKX0DER"


def schema_examples(name: str) -> list[dict]:
    return json.loads((SCHEMAS / f"notification-schema_{name}.json").read_text(encoding="utf-8"))["examples"]


def refusal(body: object) -> ValidationError:
    with pytest.raises(ValidationError) as raised:
        parse_notification(body if isinstance(body, str) else json.dumps(body))
    return raised.value


class InMemoryHub(NotificationHub):
    """The sandbox's own notification hub, delivering into a list instead of an SQS queue."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[str] = []

    def _send(self, queue_arn: str, body: str) -> None:
        self.bodies.append(body)


def sandbox_bodies(issues_version: str) -> tuple[list[dict], list]:
    """What the sandbox delivers for one finished report and one active and one inactive listing, subscribed to
    LISTINGS_ITEM_ISSUES_CHANGE in `issues_version`; returns the bodies and the listings."""
    hub = InMemoryHub()
    destination = hub.create_destination("spapi-lake", QUEUE_ARN).destination_id
    for kind, version in (
        ("REPORT_PROCESSING_FINISHED", "2020-09-04"),
        ("LISTINGS_ITEM_STATUS_CHANGE", "1.0"),
        ("LISTINGS_ITEM_ISSUES_CHANGE", issues_version),
    ):
        hub.subscribe(ACCOUNT, kind, version, destination)
    report = {
        "reportId": "50001",
        "reportType": "GET_MERCHANT_LISTINGS_ALL_DATA",
        "processingStatus": "DONE",
        "reportDocumentId": "amzn1.doc.50001",
    }
    hub.report_finished(ACCOUNT, SELLER, report)
    listings = World().listings(ACCOUNT, MARKETPLACE)
    chosen = [next(x for x in listings if x.status == "Active"), next(x for x in listings if x.status != "Active")]
    for listing in chosen:
        hub.listing_changed(ACCOUNT, SELLER, listing)
    return hub.bodies, chosen


# Amazon's documented examples ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", schema_examples("REPORT_PROCESSING_FINISHED"), ids=["seller", "vendor"])
def test_report_processing_finished_examples_parse_with_their_report_id(example):
    notification = parse_notification(json.dumps(example))
    assert isinstance(notification, ReportProcessingFinishedNotification)
    finished = notification.payload.report_processing_finished_notification
    documented = example["payload"]["reportProcessingFinishedNotification"]
    assert finished.report_id == documented["reportId"]
    assert finished.processing_status == documented["processingStatus"]
    assert finished.seller_id == documented.get("sellerId")  # absent for a vendor group
    assert notification.notification_metadata.notification_id == example["notificationMetadata"]["notificationId"]


@pytest.mark.parametrize(
    ("schema", "model"),
    [
        ("LISTINGS_ITEM_STATUS_CHANGE", ListingsItemStatusChangeNotification),
        ("LISTINGS_ITEM_ISSUES_CHANGE", ListingsItemIssuesChangeNotification),
        ("LISTINGS_ITEM_ISSUES_CHANGE_2023-12-13", ListingsItemIssuesChangeNotification20231213),
    ],
)
def test_listings_examples_parse_as_their_model_with_the_listings_item(schema, model):
    (example,) = schema_examples(schema)
    notification = parse_notification(json.dumps(example))
    assert type(notification) is model
    documented = example["Payload"]
    assert (notification.payload.seller_id, notification.payload.sku, notification.payload.marketplace_id) == (
        documented["SellerId"],
        documented["Sku"],
        documented["MarketplaceId"],
    )


@pytest.mark.parametrize("spelling", ["LISTINGS_ITEM_STATUS_CHANGE", "LISTINGS_ITEM_STATUS_CHANGED"])
def test_status_change_parses_under_both_spellings_of_its_type(spelling):
    # GIVEN the documented example, typed as the schema's example spells it and as the schema's enum spells it
    example = {**schema_examples("LISTINGS_ITEM_STATUS_CHANGE")[0], "NotificationType": spelling}
    # WHEN it is parsed
    notification = parse_notification(json.dumps(example))
    # THEN it is a status change either way
    assert isinstance(notification, ListingsItemStatusChangeNotification)
    assert notification.payload.status == example["Payload"]["Status"]


def test_issues_change_versions_differ_in_their_enforcement_actions():
    # GIVEN the 2023-12-13 example, whose enforcement actions 1.0 does not know (1.0 has SEARCH_SUPPRESSED only)
    (newer,) = schema_examples("LISTINGS_ITEM_ISSUES_CHANGE_2023-12-13")
    assert set(newer["Payload"]["EnforcementActions"]) - {"SEARCH_SUPPRESSED"}
    # THEN it parses as 2023-12-13, with every action
    parsed = parse_notification(json.dumps(newer))
    assert parsed.payload.enforcement_actions == newer["Payload"]["EnforcementActions"]
    # AND the same payload sent as 1.0 is refused, at the field
    error = refusal({**newer, "PayloadVersion": "1.0"})
    assert {e["loc"][-2] for e in error.errors()} == {"EnforcementActions"}
    assert all(e["loc"][0] == "ListingsItemIssuesChangeNotification" for e in error.errors())


def test_fields_amazon_adds_later_are_kept_not_refused():
    example = copy.deepcopy(schema_examples("REPORT_PROCESSING_FINISHED")[0])
    example["payload"]["reportProcessingFinishedNotification"]["dataEndTime"] = "2026-01-01T00:00:00Z"
    example["newTopLevelField"] = {"any": "thing"}
    notification = parse_notification(json.dumps(example))
    assert notification.model_extra == {"newTopLevelField": {"any": "thing"}}


# The sandbox's messages ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("issues_version", ["1.0", "2023-12-13"])
def test_the_sandboxs_messages_parse_as_the_models_of_their_subscriptions(issues_version):
    # GIVEN what the sandbox sends for a finished report and two listings that changed
    bodies, listings = sandbox_bodies(issues_version)
    # WHEN each body is parsed
    parsed = [parse_notification(json.dumps(body)) for body in map(json.loads, bodies)]
    # THEN the report is the one that finished, and each listing has a status and an issues notification
    issues_model = NOTIFICATION_MODELS[("LISTINGS_ITEM_ISSUES_CHANGE", issues_version)]
    assert [type(n) for n in parsed] == [ReportProcessingFinishedNotification] + [
        ListingsItemStatusChangeNotification,
        issues_model,
    ] * len(listings)
    assert parsed[0].payload.report_processing_finished_notification.report_id == "50001"
    items = {(n.payload.seller_id, n.payload.sku, n.payload.marketplace_id) for n in parsed[1:]}
    assert items == {(SELLER, listing.seller_sku, MARKETPLACE) for listing in listings}
    # AND the sandbox spells the status change with the D, as the schema's enum does
    assert json.loads(bodies[1])["NotificationType"] == "LISTINGS_ITEM_STATUS_CHANGED"


# Refusals ------------------------------------------------------------------------------------------------------------


def test_a_type_we_do_not_subscribe_to_is_refused_naming_the_type():
    body = {**schema_examples("REPORT_PROCESSING_FINISHED")[0], "notificationType": "FEED_PROCESSING_FINISHED"}
    (error,) = refusal(body).errors()
    assert error["type"] == "unknown_notification"
    assert "'FEED_PROCESSING_FINISHED'" in error["msg"]


def test_a_payload_version_we_have_no_model_for_is_refused_naming_it():
    body = {**schema_examples("LISTINGS_ITEM_ISSUES_CHANGE")[0], "PayloadVersion": "2099-01-01"}
    (error,) = refusal(body).errors()
    assert error["type"] == "unknown_notification"
    assert "'LISTINGS_ITEM_ISSUES_CHANGE'" in error["msg"]
    assert "'2099-01-01'" in error["msg"]


def test_a_body_without_a_type_is_refused():
    (error,) = refusal({"payload": {}}).errors()
    assert error["type"] == "unknown_notification"
    assert "notificationType" in error["msg"]


def test_a_report_notification_without_its_report_id_is_refused_at_that_field():
    body = copy.deepcopy(schema_examples("REPORT_PROCESSING_FINISHED")[0])
    del body["payload"]["reportProcessingFinishedNotification"]["reportId"]
    (error,) = refusal(body).errors()
    assert error["type"] == "missing"
    assert error["loc"] == (
        "ReportProcessingFinishedNotification",
        "payload",
        "reportProcessingFinishedNotification",
        "reportId",
    )


@pytest.mark.parametrize("field", ["SellerId", "Sku", "MarketplaceId"])
def test_a_listings_notification_without_an_id_it_is_refreshed_by_is_refused_at_that_field(field):
    body = copy.deepcopy(schema_examples("LISTINGS_ITEM_STATUS_CHANGE")[0])
    del body["Payload"][field]
    (error,) = refusal(body).errors()
    assert error["type"] == "missing"
    assert error["loc"] == ("ListingsItemStatusChangeNotification", "Payload", field)


def test_a_closed_set_value_outside_the_schema_is_refused():
    body = copy.deepcopy(schema_examples("REPORT_PROCESSING_FINISHED")[0])
    body["payload"]["reportProcessingFinishedNotification"]["processingStatus"] = "IN_PROGRESS"
    (error,) = refusal(body).errors()
    assert error["loc"][-1] == "processingStatus"


@pytest.mark.parametrize(("text", "kind"), [("{not json", "json_invalid"), ("[1, 2]", "notification_not_an_object")])
def test_a_body_that_is_not_a_json_object_is_refused(text, kind):
    (error,) = refusal(text).errors()
    assert error["type"] == kind


def test_a_bad_body_fails_as_the_sqs_record_model_which_powertools_reports_as_a_batch_item_failure():
    # Powertools' BatchProcessor reports a record as a poison pill (a batchItemFailures entry) when the
    # ValidationError's title is its model's name.
    record = {
        "messageId": "m-1",
        "receiptHandle": "rh",
        "body": '{"notificationType": "NOPE"}',
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1700000000000",
            "SenderId": "AIDA",
            "ApproximateFirstReceiveTimestamp": "1700000000000",
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "us-east-1",
    }
    with pytest.raises(ValidationError) as raised:
        NotificationRecord.model_validate(record)
    assert raised.value.title == NotificationRecord.__name__
    assert [e["loc"] for e in raised.value.errors()] == [("body",)]


# The table -----------------------------------------------------------------------------------------------------------


def test_every_subscription_we_make_and_every_one_the_sandbox_offers_has_a_model():
    ours = {(kind, PAYLOAD_VERSIONS[kind]) for kinds in SUBSCRIPTIONS.values() for kind in kinds}
    sandbox = {(k, v) for k, versions in sandbox_notifications.PAYLOAD_VERSIONS.items() for v in versions}
    assert ours | sandbox <= set(NOTIFICATION_MODELS)


def test_every_model_in_the_table_is_a_member_of_the_notification_union():
    union, *_ = typing.get_args(Notification)
    members = {typing.get_args(member)[0] for member in typing.get_args(union)}
    assert set(NOTIFICATION_MODELS.values()) == members


# State machines ------------------------------------------------------------------------------------------------------


def asl(name: str) -> dict:
    return json.loads((ASL / f"{name}.asl.json").read_text(encoding="utf-8"))


def test_request_reports_states_select_keys_the_models_carry():
    states = asl("request_reports")["States"]
    assert states["RequestEach"]["ItemsPath"] == "$.jobs"
    assert "jobs" in PlannedReports.model_fields
    selected = states["RequestEach"]["ItemProcessor"]["States"]["RequestReport"]["ResultSelector"]
    assert {path.removeprefix("$.Payload.") for path in selected.values()} <= set(ReportJob.model_fields)


def test_catalog_and_listings_maps_over_the_lists_the_plan_carries():
    branches = asl("catalog_and_listings")["States"]["Fetch"]["Branches"]
    items = {state["ItemsPath"].removeprefix("$.") for b in branches for state in b["States"].values()}
    assert items == set(CatalogPlan.model_fields)


def test_the_scheduled_event_starting_catalog_and_listings_means_every_account():
    scheduled = {
        "version": "0",
        "id": "e1",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-01-01T05:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }
    assert CatalogAndListingsInput.model_validate(scheduled).account_ids is None
    assert CatalogAndListingsInput.model_validate({"account_ids": ["a"]}).account_ids == ["a"]


def test_land_report_input_requires_the_report_id():
    assert LandReportInput.model_validate({"report_id": "50001"}).report_id == "50001"
    with pytest.raises(ValidationError):
        LandReportInput.model_validate({})

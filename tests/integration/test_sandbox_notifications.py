"""Notifications: the sandbox delivers REPORT_PROCESSING_FINISHED into an SQS queue on moto, per the schema."""

import json
import time

import jsonschema
import pytest
import requests

from ingestion_lambdas import aws
from sandbox.faults import Faults
from tests.spapi_contract import MODELS, validate_response

SCHEMA = json.loads((MODELS / "notification-schema_REPORT_PROCESSING_FINISHED.json").read_text())


@pytest.fixture
def subscribed(stack):
    """A fresh queue, a destination for it, and the EU seller subscribed to REPORT_PROCESSING_FINISHED."""
    sqs = aws.client("sqs")
    name = f"sandbox-notifications-{time.time_ns()}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    running = stack.sandbox
    info = running.info()
    account = next(a for a in info["accounts"] if a["account_id"] == "demo-seller-eu")
    running.sandbox.notifications.subscriptions.pop((account["account_id"], "REPORT_PROCESSING_FINISHED"), None)

    def token(**grant):
        form = {"client_id": info["client_id"], "client_secret": info["client_secret"], **grant}
        return requests.post(info["lwa_endpoint"], data=form, timeout=5).json()["access_token"]

    app = {"x-amz-access-token": token(grant_type="client_credentials", scope="sellingpartnerapi::notifications")}
    seller = {"x-amz-access-token": token(grant_type="refresh_token", refresh_token=account["refresh_token"])}
    destination = requests.post(
        f"{running.base_url}/notifications/v1/destinations",
        headers=app,
        timeout=5,
        json={"name": name, "resourceSpecification": {"sqs": {"arn": arn}}},
    )
    validate_response(destination)
    destination_id = destination.json()["payload"]["destinationId"]
    subscription = requests.post(
        f"{running.base_url}/notifications/v1/subscriptions/REPORT_PROCESSING_FINISHED",
        headers=seller,
        timeout=5,
        json={"payloadVersion": "2020-09-04", "destinationId": destination_id},
    )
    validate_response(subscription)
    again = requests.post(
        f"{running.base_url}/notifications/v1/subscriptions/REPORT_PROCESSING_FINISHED",
        headers=seller,
        timeout=5,
        json={"payloadVersion": "2020-09-04", "destinationId": destination_id},
    )
    validate_response(again)
    assert again.status_code == 409
    yield running, url, seller, account
    running.sandbox.set_faults(Faults())


def receive_all(url: str, expect: int, timeout_s: float = 10.0) -> list[dict]:
    sqs, messages, deadline = aws.client("sqs"), [], time.monotonic() + timeout_s
    while len(messages) < expect and time.monotonic() < deadline:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        messages += [json.loads(m["Body"]) for m in batch]
    return messages


def create_report(running, seller, account) -> str:
    response = requests.post(
        f"{running.base_url}/reports/2021-06-30/reports",
        headers=seller,
        timeout=5,
        json={"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [account["marketplace_ids"][0]]},
    )
    return response.json()["reportId"]


def test_finished_report_sends_one_schema_valid_notification(subscribed):
    running, url, seller, account = subscribed
    report_id = create_report(running, seller, account)
    (message,) = receive_all(url, expect=1)
    jsonschema.Draft7Validator(SCHEMA).validate(message)
    finished = message["payload"]["reportProcessingFinishedNotification"]
    assert (finished["reportId"], finished["processingStatus"]) == (report_id, "DONE")
    assert finished["sellerId"] == account["selling_partner_id"] and finished["reportDocumentId"]


def test_duplicated_notifications_carry_the_same_notification_id(subscribed):
    running, url, seller, account = subscribed
    running.sandbox.set_faults(Faults.parse("duplicate_notification"))
    create_report(running, seller, account)
    first, second = receive_all(url, expect=2)
    assert first == second


def test_dropped_notifications_never_arrive_but_are_recorded(subscribed):
    running, url, seller, account = subscribed
    running.sandbox.set_faults(Faults.parse("drop_notification"))
    report_id = create_report(running, seller, account)
    assert receive_all(url, expect=1, timeout_s=3) == []
    dropped = requests.get(f"{running.base_url}/_sandbox/notifications", timeout=5).json()["dropped"]
    assert report_id in {d["payload"]["reportProcessingFinishedNotification"]["reportId"] for d in dropped}


@pytest.mark.parametrize("version", ["1.0", "2023-12-13"])
def test_a_listing_change_sends_status_and_issues_notifications_that_validate(subscribed, version):
    running, url, seller, account = subscribed
    for kind, payload_version in (("LISTINGS_ITEM_STATUS_CHANGE", "1.0"), ("LISTINGS_ITEM_ISSUES_CHANGE", version)):
        running.sandbox.notifications.subscriptions.pop((account["account_id"], kind), None)
        destination_id = running.sandbox.notifications.subscriptions[
            (account["account_id"], "REPORT_PROCESSING_FINISHED")
        ].destination_id
        for _ in range(20):  # a client waits out 429s: this file's fixtures spend createSubscription's burst of 5
            response = requests.post(
                f"{running.base_url}/notifications/v1/subscriptions/{kind}",
                headers=seller,
                timeout=5,
                json={"payloadVersion": payload_version, "destinationId": destination_id},
            )
            validate_response(response)
            if response.status_code != 429:
                break
            time.sleep(0.1)
        assert response.status_code == 200, response.text
    marketplace = account["marketplace_ids"][0]
    listing = next(
        x for x in running.sandbox.world.listings(account["account_id"], marketplace) if x.status == "Active"
    )
    changed = requests.post(
        f"{running.base_url}/_sandbox/listings/{account['account_id']}/{marketplace}/{listing.seller_sku}",
        json={"status": "Inactive"},
        timeout=5,
    )
    assert changed.status_code == 200
    messages = {m["NotificationType"].removesuffix("D"): m for m in receive_all(url, expect=2)}
    status_schema = json.loads((MODELS / "notification-schema_LISTINGS_ITEM_STATUS_CHANGE.json").read_text())
    suffix = "" if version == "1.0" else f"_{version}"
    issues_schema = json.loads((MODELS / f"notification-schema_LISTINGS_ITEM_ISSUES_CHANGE{suffix}.json").read_text())
    jsonschema.Draft7Validator(status_schema).validate(messages["LISTINGS_ITEM_STATUS_CHANGE"])
    jsonschema.Draft7Validator(issues_schema).validate(messages["LISTINGS_ITEM_ISSUES_CHANGE"])
    assert messages["LISTINGS_ITEM_STATUS_CHANGE"]["Payload"]["Status"] == ["DISCOVERABLE"]
    assert messages["LISTINGS_ITEM_ISSUES_CHANGE"]["Payload"]["Severities"] == ["ERROR"]
    # AND the Listings Items API shows the change
    item = requests.get(
        f"{running.base_url}/listings/2021-08-01/items/{account['selling_partner_id']}/{listing.seller_sku}",
        params={"marketplaceIds": marketplace, "includedData": "summaries,issues"},
        headers=seller,
        timeout=5,
    ).json()
    assert item["summaries"][0]["status"] == ["DISCOVERABLE"] and item["issues"][0]["severity"] == "ERROR"
    running.sandbox.change_listing(account["account_id"], marketplace, listing.seller_sku, "Active")


def test_delayed_notifications_arrive_late_but_arrive(subscribed):
    running, url, seller, account = subscribed
    running.sandbox.set_faults(Faults(rates={"delay_notification": 1.0}, notification_delay_seconds=2.0))
    report_id = create_report(running, seller, account)
    while running.sandbox.reports.get(report_id).outcome is None:  # the report finishes: the notification is due
        time.sleep(0.05)
    finished = time.monotonic()
    (message,) = receive_all(url, expect=1, timeout_s=10.0)
    # ...but held back for the delay (measured from when the finish was seen, which is at most one poll late; a
    # timed "nothing yet" receive would race with a busy machine)
    assert time.monotonic() - finished >= 2.0 - 0.2
    assert message["payload"]["reportProcessingFinishedNotification"]["reportId"] == report_id

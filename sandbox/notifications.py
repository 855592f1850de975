"""Notifications v1: destinations (SQS), subscriptions per account, and delivery into SQS with faults.

Delivery uses boto3 against whatever SQS endpoint the environment configures (moto offline), exactly as Amazon's
notification account would send to the customer's queue.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3

from sandbox.catalog import listing_issues, listing_status
from sandbox.faults import Faults
from sandbox.report_content import iso

if TYPE_CHECKING:
    from sandbox.world import Listing

PAYLOAD_VERSIONS = {
    "REPORT_PROCESSING_FINISHED": {"2020-09-04"},
    "LISTINGS_ITEM_STATUS_CHANGE": {"1.0"},
    "LISTINGS_ITEM_ISSUES_CHANGE": {"1.0", "2023-12-13"},
}
# The status-change schema's enum spells the message's type with a D, though the subscription is
# LISTINGS_ITEM_STATUS_CHANGE and the schema's own example omits it; the schema is the contract, so consumers must
# accept both spellings.
MESSAGE_TYPE = {"LISTINGS_ITEM_STATUS_CHANGE": "LISTINGS_ITEM_STATUS_CHANGED"}
APPLICATION_ID = "amzn1.sellerapps.app.sandbox-spapi-lake"


class NotificationError(ValueError):
    """A request the Notifications API refuses; `status` is its HTTP status (400, 404 or 409)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Destination:
    destination_id: str
    name: str
    queue_arn: str

    def as_json(self) -> dict[str, Any]:
        return {"destinationId": self.destination_id, "name": self.name, "resource": {"sqs": {"arn": self.queue_arn}}}


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    account_id: str
    notification_type: str
    payload_version: str
    destination_id: str

    def as_json(self) -> dict[str, Any]:
        return {
            "subscriptionId": self.subscription_id,
            "payloadVersion": self.payload_version,
            "destinationId": self.destination_id,
        }


def _now_iso() -> str:
    return iso(time.time())


class NotificationHub:
    def __init__(self, faults: Faults | None = None) -> None:
        self.faults = faults or Faults()
        self.destinations: dict[str, Destination] = {}
        self.subscriptions: dict[tuple[str, str], Subscription] = {}
        self.sent: list[dict[str, Any]] = []  # every delivered message, for inspection
        self.dropped: list[dict[str, Any]] = []
        self._delayed: list[tuple[float, int, str, str]] = []
        self._counter = 0
        self._lock = threading.Lock()
        self._sqs: Any = None

    def create_destination(self, name: str, queue_arn: str) -> Destination:
        if not queue_arn.startswith("arn:aws:sqs:") or len(queue_arn.split(":")) != 6:
            raise NotificationError(400, f"resourceSpecification.sqs.arn {queue_arn!r} is not an SQS queue ARN")
        with self._lock:
            if any(d.queue_arn == queue_arn for d in self.destinations.values()):
                raise NotificationError(409, "A destination with this resource already exists.")
            destination = Destination(str(uuid.uuid4()), name, queue_arn)
            self.destinations[destination.destination_id] = destination
        return destination

    def delete_destination(self, destination_id: str) -> None:
        with self._lock:
            if destination_id not in self.destinations:
                raise NotificationError(404, f"destination {destination_id} does not exist")
            if any(s.destination_id == destination_id for s in self.subscriptions.values()):
                raise NotificationError(409, "The destination has subscriptions; delete them first.")
            del self.destinations[destination_id]

    def subscription_by_id(self, notification_type: str, subscription_id: str) -> Subscription | None:
        return next(
            (s for (_, kind), s in self.subscriptions.items()
             if kind == notification_type and s.subscription_id == subscription_id),
            None,
        )  # fmt: skip

    def subscribe(
        self, account_id: str, notification_type: str, payload_version: str, destination_id: str
    ) -> Subscription:
        versions = PAYLOAD_VERSIONS.get(notification_type)
        if versions is None:
            raise NotificationError(400, f"notificationType {notification_type} is not supported by the sandbox")
        if payload_version not in versions:
            raise NotificationError(400, f"payloadVersion must be one of {sorted(versions)}")
        if destination_id not in self.destinations:
            raise NotificationError(404, f"destination {destination_id} does not exist")
        with self._lock:
            if (account_id, notification_type) in self.subscriptions:
                raise NotificationError(409, "The resource specified conflicts with the current state.")
            subscription = Subscription(
                str(uuid.uuid4()), account_id, notification_type, payload_version, destination_id
            )
            self.subscriptions[(account_id, notification_type)] = subscription
        return subscription

    def report_finished(self, account_id: str, selling_partner_id: str, report: dict[str, Any]) -> None:
        """Send REPORT_PROCESSING_FINISHED for a report that reached DONE, CANCELLED or FATAL."""
        subscription = self.subscriptions.get((account_id, "REPORT_PROCESSING_FINISHED"))
        if subscription is None:
            return
        finished = {
            "sellerId": selling_partner_id,
            "accountId": f"amzn1.merchant.o.{selling_partner_id}",
            "reportId": report["reportId"],
            "reportType": report["reportType"],
            "processingStatus": report["processingStatus"],
        }
        if report.get("reportDocumentId"):
            finished["reportDocumentId"] = report["reportDocumentId"]
        self._deliver(
            subscription,
            report["reportId"],
            {
                "notificationVersion": "2020-09-04",
                "notificationType": "REPORT_PROCESSING_FINISHED",
                "payloadVersion": subscription.payload_version,
                "eventTime": _now_iso(),
                "payload": {"reportProcessingFinishedNotification": finished},
                "notificationMetadata": self._metadata(subscription, report["reportId"]),
            },
        )

    def listing_changed(self, account_id: str, seller_id: str, listing: Listing) -> None:
        """Send LISTINGS_ITEM_STATUS_CHANGE and LISTINGS_ITEM_ISSUES_CHANGE for a listing whose status changed."""
        base = {"SellerId": seller_id, "MarketplaceId": listing.marketplace_id, "Asin": listing.asin,
                "Sku": listing.seller_sku}  # fmt: skip
        issues = listing_issues(listing)
        self._listing_notification(account_id, "LISTINGS_ITEM_STATUS_CHANGE",
                                   {**base, "CreatedDate": _now_iso(), "Status": listing_status(listing)})  # fmt: skip
        self._listing_notification(account_id, "LISTINGS_ITEM_ISSUES_CHANGE", {
            **base,
            "Severities": sorted({issue["severity"] for issue in issues}),
            "EnforcementActions": sorted({a["action"] for issue in issues for a in issue["enforcements"]["actions"]}),
        })  # fmt: skip

    def _listing_notification(self, account_id: str, notification_type: str, payload: dict[str, Any]) -> None:
        subscription = self.subscriptions.get((account_id, notification_type))
        if subscription is None:
            return
        key = f"{notification_type}|{payload['Sku']}|{payload['MarketplaceId']}|{time.time()}"
        self._deliver(
            subscription,
            key,
            {
                "NotificationVersion": "1.0",
                "NotificationType": MESSAGE_TYPE.get(notification_type, notification_type),
                "PayloadVersion": subscription.payload_version,
                "EventTime": _now_iso(),
                "Payload": payload,
                "NotificationMetadata": self._metadata(subscription, key),
            },
        )

    def _metadata(self, subscription: Subscription, key: str) -> dict[str, str]:
        notification_id = str(
            uuid.UUID(hashlib.sha256(f"{subscription.subscription_id}|{key}".encode()).hexdigest()[:32])
        )
        metadata = {
            "applicationId": APPLICATION_ID,
            "subscriptionId": subscription.subscription_id,
            "publishTime": _now_iso(),
            "notificationId": notification_id,
        }
        if subscription.notification_type.startswith("LISTINGS"):
            return {k[0].upper() + k[1:]: v for k, v in metadata.items()}
        return metadata

    def _deliver(self, subscription: Subscription, key: str, message: dict[str, Any]) -> None:
        queue_arn = self.destinations[subscription.destination_id].queue_arn
        body = json.dumps(message)
        if self.faults.hits("drop_notification", key):
            self.dropped.append(message)
            return
        copies = 2 if self.faults.hits("duplicate_notification", key) else 1
        delay = self.faults.notification_delay_seconds if self.faults.hits("delay_notification", key) else 0.0
        for _ in range(copies):
            if delay:
                with self._lock:
                    self._counter += 1
                    heapq.heappush(self._delayed, (time.time() + delay, self._counter, queue_arn, body))
            else:
                self._send(queue_arn, body)

    def flush_due(self) -> None:
        while True:
            with self._lock:
                if not self._delayed or self._delayed[0][0] > time.time():
                    return
                _, _, queue_arn, body = heapq.heappop(self._delayed)
            self._send(queue_arn, body)

    def _send(self, queue_arn: str, body: str) -> None:
        _, _, _, region, account, name = queue_arn.split(":")
        if self._sqs is None:
            self._sqs = boto3.client("sqs", region_name=region)
        url = self._sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        self._sqs.send_message(QueueUrl=url, MessageBody=body)
        self.sent.append(json.loads(body))

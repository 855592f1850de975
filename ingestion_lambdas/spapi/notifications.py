"""Notifications API v1: destinations (grantless) and subscriptions (per selling partner)."""

from __future__ import annotations

from pydantic import Field

from ingestion_lambdas.spapi.errors import SpApiRequestError
from ingestion_lambdas.spapi.models import ApiModel
from ingestion_lambdas.spapi.rate_limit import Quota
from ingestion_lambdas.spapi.transport import Operation, Transport

NOTIFICATIONS_SCOPE = "sellingpartnerapi::notifications"
_PLAN = Quota(1.0, 5)
CREATE_DESTINATION = Operation("createDestination", _PLAN)
GET_DESTINATIONS = Operation("getDestinations", _PLAN)
DELETE_DESTINATION = Operation("deleteDestination", _PLAN)
CREATE_SUBSCRIPTION = Operation("createSubscription", _PLAN)
GET_SUBSCRIPTION = Operation("getSubscription", _PLAN)
DELETE_SUBSCRIPTION = Operation("deleteSubscriptionById", _PLAN)
BASE = "/notifications/v1"
PAYLOAD_VERSIONS = {"REPORT_PROCESSING_FINISHED": "2020-09-04", "LISTINGS_ITEM_STATUS_CHANGE": "1.0",
                    "LISTINGS_ITEM_ISSUES_CHANGE": "1.0"}  # fmt: skip
NOT_FOUND = 404


class Destination(ApiModel):
    destination_id: str = Field(alias="destinationId")
    name: str
    resource: dict[str, object]

    @property
    def queue_arn(self) -> str | None:
        sqs = self.resource.get("sqs")
        return str(sqs.get("arn")) if isinstance(sqs, dict) else None


class Subscription(ApiModel):
    subscription_id: str = Field(alias="subscriptionId")
    payload_version: str = Field(alias="payloadVersion")
    destination_id: str = Field(alias="destinationId")


class NotificationsApi:
    """`application` calls with a grantless token (destinations, deleting subscriptions); `seller` calls with the
    selling partner's (creating and reading its subscriptions)."""

    def __init__(self, application: Transport, seller: Transport) -> None:
        self.application = application
        self.seller = seller

    def create_destination(self, name: str, queue_arn: str) -> Destination:
        body = {"name": name, "resourceSpecification": {"sqs": {"arn": queue_arn}}}
        payload = self.application.call(CREATE_DESTINATION, "POST", f"{BASE}/destinations", json=body)["payload"]
        return Destination.model_validate(payload)

    def destinations(self) -> list[Destination]:
        payload = self.application.call(GET_DESTINATIONS, "GET", f"{BASE}/destinations")["payload"]
        return [Destination.model_validate(item) for item in payload]

    def delete_destination(self, destination_id: str) -> None:
        self.application.call(DELETE_DESTINATION, "DELETE", f"{BASE}/destinations/{destination_id}")

    def create_subscription(self, notification_type: str, destination_id: str) -> Subscription:
        body = {"payloadVersion": PAYLOAD_VERSIONS[notification_type], "destinationId": destination_id}
        path = f"{BASE}/subscriptions/{notification_type}"
        return Subscription.model_validate(self.seller.call(CREATE_SUBSCRIPTION, "POST", path, json=body)["payload"])

    def subscription(self, notification_type: str) -> Subscription | None:
        try:
            payload = self.seller.call(GET_SUBSCRIPTION, "GET", f"{BASE}/subscriptions/{notification_type}")
        except SpApiRequestError as err:
            if err.status == NOT_FOUND:
                return None
            raise
        return Subscription.model_validate(payload["payload"])

    def ensure_subscription(self, notification_type: str, destination_id: str) -> Subscription:
        """Subscribe unless already subscribed (idempotent: safe to run on every deployment)."""
        return self.subscription(notification_type) or self.create_subscription(notification_type, destination_id)

    def delete_subscription(self, notification_type: str, subscription_id: str) -> None:
        path = f"{BASE}/subscriptions/{notification_type}/{subscription_id}"
        self.application.call(DELETE_SUBSCRIPTION, "DELETE", path)

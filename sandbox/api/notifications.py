"""Notifications API v1: destinations (grantless) and subscriptions (per selling partner)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from sandbox.api.common import account_id, errors, operation, sandbox
from sandbox.notifications import NotificationError

blueprint = Blueprint("notifications", __name__)
BASE = "/notifications/v1"


def _refused(err: NotificationError) -> Response:
    code = {400: "InvalidInput", 404: "NotFound", 409: "Conflict"}[err.status]
    return errors(err.status, code, str(err))


@blueprint.post(f"{BASE}/destinations")
@operation("createDestination", grantless=True)
def create_destination() -> Response:
    body = request.get_json(silent=True) or {}
    arn = ((body.get("resourceSpecification") or {}).get("sqs") or {}).get("arn")
    if not body.get("name") or not arn:
        return errors(400, "InvalidInput", "name and resourceSpecification.sqs.arn are required")
    try:
        destination = sandbox().notifications.create_destination(body["name"], arn)
    except NotificationError as err:
        return _refused(err)
    return jsonify({"payload": destination.as_json()})


@blueprint.get(f"{BASE}/destinations")
@operation("getDestinations", grantless=True)
def get_destinations() -> Response:
    return jsonify({"payload": [d.as_json() for d in sandbox().notifications.destinations.values()]})


@blueprint.post(f"{BASE}/subscriptions/<notification_type>")
@operation("createSubscription")
def create_subscription(notification_type: str) -> Response:
    body = request.get_json(silent=True) or {}
    try:
        subscription = sandbox().notifications.subscribe(
            account_id(), notification_type, str(body.get("payloadVersion", "")), str(body.get("destinationId", ""))
        )
    except NotificationError as err:
        return _refused(err)
    return jsonify({"payload": subscription.as_json()})


@blueprint.get(f"{BASE}/subscriptions/<notification_type>")
@operation("getSubscription")
def get_subscription(notification_type: str) -> Response:
    subscription = sandbox().notifications.subscriptions.get((account_id(), notification_type))
    if subscription is None:
        return errors(404, "NotFound", f"no {notification_type} subscription for this selling partner")
    return jsonify({"payload": subscription.as_json()})


@blueprint.get(f"{BASE}/destinations/<destination_id>")
@operation("getDestination", grantless=True)
def get_destination(destination_id: str) -> Response:
    destination = sandbox().notifications.destinations.get(destination_id)
    if destination is None:
        return errors(404, "NotFound", f"destination {destination_id} does not exist")
    return jsonify({"payload": destination.as_json()})


@blueprint.delete(f"{BASE}/destinations/<destination_id>")
@operation("deleteDestination", grantless=True)
def delete_destination(destination_id: str) -> Response:
    try:
        sandbox().notifications.delete_destination(destination_id)
    except NotificationError as err:
        return _refused(err)
    return jsonify({})


@blueprint.get(f"{BASE}/subscriptions/<notification_type>/<subscription_id>")
@operation("getSubscriptionById", grantless=True)
def get_subscription_by_id(notification_type: str, subscription_id: str) -> Response:
    subscription = sandbox().notifications.subscription_by_id(notification_type, subscription_id)
    if subscription is None:
        return errors(404, "NotFound", f"subscription {subscription_id} does not exist")
    return jsonify({"payload": subscription.as_json()})


@blueprint.delete(f"{BASE}/subscriptions/<notification_type>/<subscription_id>")
@operation("deleteSubscriptionById", grantless=True)
def delete_subscription_by_id(notification_type: str, subscription_id: str) -> Response:
    subscription = sandbox().notifications.subscription_by_id(notification_type, subscription_id)
    if subscription is None:
        return errors(404, "NotFound", f"subscription {subscription_id} does not exist")
    sandbox().notifications.subscriptions.pop((subscription.account_id, notification_type), None)
    return jsonify({})

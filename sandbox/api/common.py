"""What every SP-API operation does before and after its own logic: auth, quota, faults, headers."""

from __future__ import annotations

import base64
import json
import time
from functools import wraps
from typing import TYPE_CHECKING, Any, cast

from flask import Response, current_app, g, jsonify, request

from sandbox.faults import attempt_key
from sandbox.marketplaces import MARKETPLACES

if TYPE_CHECKING:
    from collections.abc import Callable

    from sandbox.lwa import IssuedToken
    from sandbox.state import Sandbox

RATE_HEADER_STATUSES = frozenset({200, 201, 202, 204, 400, 404})  # "20x, 400 and 404 only"
IMPLEMENTED: dict[str, bool] = {}  # operationId -> grantless, for every operation the sandbox serves


def sandbox() -> Sandbox:
    return cast("Sandbox", current_app.extensions["sandbox"])


def errors(status: int, code: str, message: str, details: str = "") -> Response:
    """SP-API's error envelope: {"errors": [{"code", "message", "details"?}]}."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    response = jsonify({"errors": [error]})
    response.status_code = status
    return response


def denied(details: str) -> Response:
    return errors(403, "Unauthorized", "Access to requested resource is denied.", details)


def _authorize(grantless: bool) -> IssuedToken | Response:
    token = sandbox().lwa.lookup(request.headers.get("x-amz-access-token"))
    if token is None:
        return denied("The access token you provided is revoked, malformed or invalid.")
    if token.expires_at <= time.time():
        return denied("The access token you provided has expired.")
    if grantless and token.account_id is not None:
        return denied("This operation is grantless: call it with a client_credentials token and its scope.")
    if not grantless and token.account_id is None:
        return denied("This operation needs a selling partner's authorization, not a grantless token.")
    return token


def operation(name: str, grantless: bool = False) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Wrap a view as the SP-API operation `name`: auth, quota (429), faults, rate header."""

    IMPLEMENTED[name] = grantless

    def wrap(view: Callable[..., Response]) -> Callable[..., Response]:
        @wraps(view)
        def handle(*args: Any, **kwargs: Any) -> Response:
            box = sandbox()
            grant = _authorize(grantless)
            if isinstance(grant, Response):
                return grant
            g.grant = grant
            caller = grant.account_id or f"application:{grant.scope}"
            key = attempt_key(name, box.call_number(name))  # per call: a retry is a new call, decided anew
            if box.faults.hits("server_error", key):
                status = box.faults.pick("server_error", key, (500, 503))
                return errors(status, "InternalFailure", "We encountered an internal error.")
            if box.faults.hits("throttle", key) or not box.quotas.allow(caller, name):
                return errors(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
            if box.faults.hits("timeout", key):
                time.sleep(box.faults.timeout_seconds)
            elif box.faults.hits("slow", key):
                time.sleep(box.faults.slow_seconds)
            response = view(*args, **kwargs)
            if response.status_code in RATE_HEADER_STATUSES:
                response.headers["x-amzn-RateLimit-Limit"] = box.quotas.header_rate(name)
            return response

        return handle

    return wrap


def account_id() -> str:
    """The selling-partner account the current call is authorized for."""
    return cast("str", g.grant.account_id)


def csv_arg(name: str) -> list[str]:
    """An array query parameter (collectionFormat csv): comma-separated, possibly repeated."""
    return [value for raw in request.args.getlist(name) for value in raw.split(",") if value]


def page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def page_offset(token: str | None) -> int | None:
    """The offset a pageToken stands for; None if the token is not one this sandbox issued."""
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token))["offset"])
    except (ValueError, KeyError, TypeError):
        return None


def pagination(offset: int, page_size: int, total: int) -> dict[str, str]:
    """SP-API's Pagination object for a page of `page_size` items starting at `offset`."""
    tokens = {}
    if offset + page_size < total:
        tokens["nextToken"] = page_token(offset + page_size)
    if offset:
        tokens["previousToken"] = page_token(max(0, offset - page_size))
    return tokens


def invalid(details: str) -> Response:
    return errors(400, "InvalidInput", "Request has missing or invalid parameters and cannot be parsed.", details)


def included_data(allowed: frozenset[str]) -> set[str] | Response:
    """The includedData sets of a catalog or listings call (default summaries), or the 400 that refuses them."""
    included = set(csv_arg("includedData") or ["summaries"])
    if included - allowed:
        return invalid(f"includedData values {sorted(included - allowed)} are not supported")
    return included


def marketplace_and_included(allowed: frozenset[str]) -> tuple[str, set[str]] | Response:
    """The one marketplace and the includedData sets of a catalog or listings call, or the 400 that refuses them."""
    marketplaces = csv_arg("marketplaceIds")
    if len(marketplaces) != 1 or marketplaces[0] not in MARKETPLACES:
        return invalid("marketplaceIds must hold exactly one valid marketplace id")
    included = included_data(allowed)
    return included if isinstance(included, Response) else (marketplaces[0], included)

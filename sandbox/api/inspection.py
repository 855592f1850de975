"""Inspection endpoints (not SP-API): the ground truth tests and benchmarks compare against."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

from flask import Blueprint, Response, jsonify, request

from sandbox.api.common import errors, sandbox
from sandbox.commerce import day_range, midnight

blueprint = Blueprint("inspection", __name__)


@blueprint.get("/_sandbox/reports/<report_id>")
def report_truth(report_id: str) -> Response:
    report = sandbox().reports.get(report_id)
    if report is None:
        return errors(404, "NotFound", "unknown report", report_id)
    document = sandbox().reports.documents.get(report.document_id or "")
    return jsonify(
        {
            "reportId": report_id,
            "reportType": report.report_type,
            "status": report.status(time.time()),
            "rows": report.rows,
            "marketplaceId": report.request.marketplace_id,
            "accountId": report.request.account_id,
            "sha256": document.sha256_utf8 if document else None,
            "charset": document.charset if document else None,
        }
    )


@blueprint.get("/_sandbox/notifications")
def notifications_truth() -> Response:
    hub = sandbox().notifications
    return jsonify({"sent": hub.sent, "dropped": hub.dropped})


@blueprint.post("/_sandbox/listings/<account_id>/<marketplace_id>/<path:sku>")
def change_listing(account_id: str, marketplace_id: str, sku: str) -> Response:
    """Make a listing change as a seller or Amazon would (body {"status": "Active"|"Inactive"}): later reports and
    API calls see it, and subscribers get LISTINGS_ITEM_STATUS_CHANGE and LISTINGS_ITEM_ISSUES_CHANGE."""
    status = (request.get_json(silent=True) or {}).get("status")
    if status not in ("Active", "Inactive"):
        return errors(400, "InvalidInput", "status must be Active or Inactive")
    try:
        listing = sandbox().change_listing(account_id, marketplace_id, sku, status)
    except (StopIteration, KeyError):
        return errors(404, "NotFound", f"no listing {sku} of {account_id} in {marketplace_id}")
    return jsonify({"sku": listing.seller_sku, "status": listing.status})


@blueprint.get("/_sandbox/ping")
def ping() -> Response:
    """The cheapest answer this server gives: the HTTP floor benchmarks compare SP-API operations against."""
    return jsonify({"ok": True})


@blueprint.get("/_sandbox/truth/daily")
def daily_truth() -> Response:
    """Order totals per UTC day for an account and marketplace (?account_id=&marketplace_id=&start=&end=, dates):
    what curated order and sales tables must add up to."""
    args = request.args
    try:
        first, last = date.fromisoformat(args["start"]), date.fromisoformat(args["end"])
        account_id, marketplace_id = args["account_id"], args["marketplace_id"]
    except (KeyError, ValueError):
        return errors(400, "InvalidInput", "account_id, marketplace_id, start and end (YYYY-MM-DD) are required")
    commerce = sandbox().world.commerce
    days = []
    for day in day_range(midnight(first), midnight(last)):
        lines = [x for x in commerce.day_orders(account_id, marketplace_id, day) if x.counts_as_ordered]
        days.append({
            "date": day.isoformat(),
            "order_lines": len(lines),
            "units_ordered": sum(x.quantity for x in lines),
            "ordered_sales": str(sum((x.item_price for x in lines), Decimal(0))),
        })  # fmt: skip
    return jsonify({"accountId": account_id, "marketplaceId": marketplace_id, "days": days})

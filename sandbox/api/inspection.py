"""Inspection endpoints (not SP-API): the ground truth tests and benchmarks compare against."""

from __future__ import annotations

import time
from dataclasses import asdict, is_dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, jsonify, request

from sandbox import truth
from sandbox.api.common import errors, sandbox
from sandbox.clock import ClockError
from sandbox.report_content import iso

blueprint = Blueprint("inspection", __name__)


class _BadQueryError(ValueError):
    """A truth query misses a parameter or has one in the wrong format."""


def _plain(value: Any) -> Any:  # noqa: PLR0911 - one return per type
    """Truth values as JSON: Decimal as its string, datetime as SP-API's ISO form (UTC, ms), date as YYYY-MM-DD."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _query(*names: str) -> dict[str, Any]:
    """account_id and marketplace_id plus the named parameters (dates as YYYY-MM-DD), and the optional as_of
    (ISO 8601: the moment to answer for, default the clock's now)."""
    args = request.args
    try:
        values: dict[str, Any] = {"account_id": args["account_id"], "marketplace_id": args["marketplace_id"]}
        for name in names:
            values[name] = date.fromisoformat(args[name])
        values["now"] = _moment(args["as_of"]) if args.get("as_of") else None
    except (KeyError, ValueError) as err:
        required = ", ".join(("account_id", "marketplace_id", *(f"{n} (YYYY-MM-DD)" for n in names)))
        raise _BadQueryError(f"{required} are required; as_of is an optional ISO 8601 date-time") from err
    try:
        sandbox().world.account(values["account_id"])
    except StopIteration as err:
        raise _BadQueryError(f"unknown account {values['account_id']}") from err
    return values


def _answer(values: dict[str, Any], body: dict[str, Any]) -> Response:
    moment = values.get("now") or sandbox().clock.now()
    head = {"accountId": values["account_id"], "marketplaceId": values["marketplace_id"], "asOf": iso(moment)}
    return jsonify(_plain({**head, **body}))


@blueprint.errorhandler(_BadQueryError)
def _bad_query(err: _BadQueryError) -> Response:
    return errors(400, "InvalidInput", str(err))


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
            "asOf": iso(report.as_of) if report.as_of else None,
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


@blueprint.get("/_sandbox/clock")
def get_clock() -> Response:
    """The sandbox's business time: {"now", "today", "offsetSeconds"} (offset from process time)."""
    return jsonify(_clock_json())


@blueprint.post("/_sandbox/clock")
def move_clock() -> Response:
    """Move the world forward to {"now": "2026-03-04T02:30:00Z"}; a moment before now is refused (400)."""
    value = (request.get_json(silent=True) or {}).get("now")
    try:
        sandbox().clock.advance_to(_moment(str(value)))
    except (ValueError, ClockError) as err:
        return errors(400, "InvalidInput", f"now must be an ISO 8601 date-time not before the clock's now: {err}")
    return jsonify(_clock_json())


def _clock_json() -> dict[str, Any]:
    state = truth.clock(sandbox())
    return {"now": iso(state.now), "today": state.today.isoformat(), "offsetSeconds": state.offset.total_seconds()}


@blueprint.get("/_sandbox/truth/daily")
def daily_truth() -> Response:
    """Per UTC day (?account_id=&marketplace_id=&start=&end=, dates, inclusive; optional as_of) what Amazon reports
    now: order_lines, units_ordered, ordered_sales (lines not cancelled), by_asin {asin: {units, sales}} and
    sales_and_traffic (the salesAndTrafficByDate record, null for a future day)."""
    values = _query("start", "end")
    days = truth.daily(sandbox(), values["account_id"], values["marketplace_id"], values["start"], values["end"],
                       values["now"])  # fmt: skip
    return _answer(values, {"days": days})


@blueprint.get("/_sandbox/truth/orders")
def orders_truth() -> Response:
    """The order lines purchased on ?date= (by="purchase", default) or last updated on it (by=update), as of now."""
    values = _query("date")
    lister = truth.order_lines_updated if request.args.get("by") == "update" else truth.order_lines
    lines = lister(sandbox(), values["account_id"], values["marketplace_id"], values["date"], values["now"])
    return _answer(values, {"date": values["date"], "lines": lines})


@blueprint.get("/_sandbox/truth/sales-and-traffic")
def sales_and_traffic_truth() -> Response:
    """Sales & traffic of ?start= to ?end= (inclusive) as Amazon reports it now: byDate (one record per day) and
    byAsin (rows over the whole window, ?granularity= PARENT, CHILD (default) or SKU)."""
    values = _query("start", "end")
    box, account, market = sandbox(), values["account_id"], values["marketplace_id"]
    days = truth.daily(box, account, market, values["start"], values["end"], values["now"])
    by_asin = truth.sales_and_traffic_by_asin(box, account, market, values["start"], values["end"], values["now"],
                                              request.args.get("granularity", "CHILD"))  # fmt: skip
    by_date = [day["sales_and_traffic"] for day in days if day["sales_and_traffic"] is not None]
    return _answer(values, {"byDate": by_date, "byAsin": by_asin})


@blueprint.get("/_sandbox/truth/vendor")
def vendor_truth() -> Response:
    """A vendor's figures per ASIN on ?date= (sales, traffic and inventory fields merged), or asins null while
    Amazon has none yet (before 72 h after the day starts)."""
    values = _query("date")
    try:
        asins = truth.vendor(sandbox(), values["account_id"], values["marketplace_id"], values["date"], values["now"])
    except ValueError as err:
        return errors(400, "InvalidInput", str(err))
    return _answer(values, {"date": values["date"], "available": asins is not None, "asins": asins})


@blueprint.get("/_sandbox/truth/shipments")
def shipments_truth() -> Response:
    """The FBA order lines shipped on ?date= by now (?fba_only=false adds merchant-fulfilled ones)."""
    values = _query("date")
    fba_only = request.args.get("fba_only", "true").lower() != "false"
    lines = truth.shipments(sandbox(), values["account_id"], values["marketplace_id"], values["date"], values["now"],
                            fba_only)  # fmt: skip
    return _answer(values, {"date": values["date"], "shipments": lines})


@blueprint.get("/_sandbox/truth/inventory")
def inventory_truth() -> Response:
    """The inventory snapshot of the clock's day, per SKU."""
    values = _query()
    skus = truth.inventory(sandbox(), values["account_id"], values["marketplace_id"], values["now"])
    moment = values["now"] or sandbox().clock.now()
    return _answer(values, {"date": moment.date(), "skus": skus})


@blueprint.get("/_sandbox/truth/settlements")
def settlements_truth() -> Response:
    """The settlements closed by now that getReports lists, oldest first, with totals and line counts."""
    values = _query()
    closed = truth.settlements(sandbox(), values["account_id"], values["marketplace_id"], values["now"])
    return _answer(values, {"settlements": closed})

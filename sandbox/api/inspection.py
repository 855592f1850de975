"""Inspection endpoints (not SP-API): the ground truth tests and benchmarks compare against."""

from __future__ import annotations

import time

from flask import Blueprint, Response, jsonify

from sandbox.api.common import errors, sandbox

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

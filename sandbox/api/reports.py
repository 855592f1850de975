"""Reports API 2021-06-30 and the pre-signed document downloads it hands out."""

from __future__ import annotations

import hmac
import math
import time
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from sandbox.api.common import account_id, csv_arg, errors, operation, sandbox
from sandbox.faults import attempt_key
from sandbox.json_reports import report_period_error
from sandbox.marketplaces import MARKETPLACES
from sandbox.report_types import REPORT_TYPES, ReportOptionsError, ReportRequest
from sandbox.reports import ReportListError, ReportSchedule

blueprint = Blueprint("reports", __name__)
BASE = "/reports/2021-06-30"


def _parse_time(value: str | None, default: datetime) -> datetime:
    """An ISO 8601 date-time (UTC when it names no zone); both of Amazon's window ends are accepted as they are:
    the exclusive midnight and the inclusive last instant of a day (2026-03-03T23:59:59.999Z)."""
    if not value:
        return default
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _report_request(spec: dict[str, Any]) -> ReportRequest | Response:  # noqa: PLR0911 - one return per rule
    """The request a createReport or createReportSchedule body describes, or the 400 Amazon would answer."""
    report_type, marketplace_ids = spec.get("reportType"), spec.get("marketplaceIds") or []
    if report_type not in REPORT_TYPES:
        return errors(400, "InvalidInput", "Invalid input", f"reportType {report_type!r} is not supported")
    if not marketplace_ids or any(m not in MARKETPLACES for m in marketplace_ids):
        return errors(400, "InvalidInput", "Invalid input", "marketplaceIds must list valid marketplace ids")
    account = sandbox().world.account(account_id())
    if marketplace_ids[0] not in account.marketplace_ids:
        return errors(400, "InvalidInput", "Invalid input", f"the account does not sell in {marketplace_ids[0]}")
    now = sandbox().clock.now()  # omitted dates default to now, business time
    try:
        end = _parse_time(spec.get("dataEndTime"), now)
        start = _parse_time(spec.get("dataStartTime"), end if spec.get("dataEndTime") else now)
    except ValueError:
        return errors(400, "InvalidInput", "Invalid input", "dataStartTime and dataEndTime must be ISO 8601")
    if start > end:
        return errors(400, "InvalidInput", "Invalid input", "dataStartTime must not be after dataEndTime")
    options = {str(k): str(v) for k, v in (spec.get("reportOptions") or {}).items()}
    try:
        REPORT_TYPES[report_type].check(account.kind, options)
    except ReportOptionsError as err:
        return errors(400, "InvalidInput", "Invalid input", str(err))
    checked = ReportRequest(account.account_id, marketplace_ids[0], start, end, options)
    refused = report_period_error(report_type, checked)
    if refused is not None:
        return errors(400, "InvalidInput", "Invalid input", refused)
    return checked


@blueprint.post(f"{BASE}/reports")
@operation("createReport")
def create_report() -> Response:
    spec = request.get_json(silent=True) or {}
    checked = _report_request(spec)
    if isinstance(checked, Response):
        return checked
    report = sandbox().reports.create(spec["reportType"], checked)
    response = jsonify({"reportId": report.report_id})
    response.status_code = 202
    return response


@blueprint.post(f"{BASE}/schedules")
@operation("createReportSchedule")
def create_report_schedule() -> Response:
    spec = request.get_json(silent=True) or {}
    checked = _report_request(spec)
    if isinstance(checked, Response):
        return checked
    try:
        first = spec.get("nextReportCreationTime")
        clock = sandbox().clock
        first_at = clock.to_process(_parse_time(first, clock.now())) if first else None
        schedule = sandbox().reports.schedule(spec["reportType"], checked, str(spec.get("period")), first_at)
    except ValueError as err:
        return errors(400, "InvalidInput", "Invalid input", str(err))
    response = jsonify({"reportScheduleId": schedule.schedule_id})
    response.status_code = 201
    return response


@blueprint.get(f"{BASE}/schedules")
@operation("getReportSchedules")
def get_report_schedules() -> Response:
    types = set(csv_arg("reportTypes"))
    if not 1 <= len(types) <= 10:  # noqa: PLR2004 - the model's bounds
        return errors(400, "InvalidInput", "Invalid input", "reportTypes must list 1 to 10 report types")
    schedules = [
        s for s in sandbox().reports.schedules.values() if s.account_id == account_id() and s.report_type in types
    ]
    return jsonify({"reportSchedules": [s.as_json() for s in schedules]})


def _own_schedule(schedule_id: str) -> ReportSchedule | Response:
    schedule = sandbox().reports.schedules.get(schedule_id)
    if schedule is None or schedule.account_id != account_id():
        return errors(404, "NotFound", "The requested report schedule was not found.", schedule_id)
    return schedule


@blueprint.get(f"{BASE}/schedules/<schedule_id>")
@operation("getReportSchedule")
def get_report_schedule(schedule_id: str) -> Response:
    schedule = _own_schedule(schedule_id)
    return schedule if isinstance(schedule, Response) else jsonify(schedule.as_json())


@blueprint.delete(f"{BASE}/schedules/<schedule_id>")
@operation("cancelReportSchedule")
def cancel_report_schedule(schedule_id: str) -> Response:
    schedule = _own_schedule(schedule_id)
    if isinstance(schedule, Response):
        return schedule
    sandbox().reports.schedules.pop(schedule_id, None)
    return Response(status=200)


@blueprint.get(f"{BASE}/reports")
@operation("getReports")
def get_reports() -> Response:
    try:
        page, token = sandbox().reports.search(account_id(), request.args.to_dict(flat=False))
    except ReportListError as err:
        return errors(400, "InvalidInput", "Invalid input", str(err))
    body: dict[str, object] = {"reports": [sandbox().reports.as_json(r) for r in page]}
    if token:
        body["nextToken"] = token
    return jsonify(body)


@blueprint.get(f"{BASE}/reports/<report_id>")
@operation("getReport")
def get_report(report_id: str) -> Response:
    report = sandbox().reports.get(report_id)
    if report is None or report.request.account_id != account_id():
        return errors(404, "NotFound", "The requested report was not found.", report_id)
    return jsonify(sandbox().reports.as_json(report))


@blueprint.delete(f"{BASE}/reports/<report_id>")
@operation("cancelReport")
def cancel_report(report_id: str) -> Response:
    report = sandbox().reports.get(report_id)
    if report is None or report.request.account_id != account_id():
        return errors(404, "NotFound", "The requested report was not found.", report_id)
    if not sandbox().reports.cancel(report_id):
        return errors(400, "InvalidInput", "Invalid input", "Only reports that are IN_QUEUE can be cancelled.")
    return Response(status=200)


@blueprint.get(f"{BASE}/documents/<document_id>")
@operation("getReportDocument")
def get_report_document(document_id: str) -> Response:
    document = sandbox().reports.documents.get(document_id)
    owner = next((r for r in sandbox().reports.reports.values() if r.document_id == document_id), None)
    if document is None or owner is None or owner.request.account_id != account_id():
        return errors(404, "NotFound", "The requested report document was not found.", document_id)
    expires = math.ceil(time.time() + sandbox().config.document_url_ttl_s)  # whole seconds, never early
    content_encoding = request.args.get("enableContentEncodingUrlHeader", "false").lower() == "true"
    url = (
        f"{request.host_url}_documents/{document_id}?X-Amz-Expires={expires}"
        f"&X-Amz-Signature={sandbox().sign(document_id, expires)}" + ("&ce=gzip" if content_encoding else "")
    )
    body: dict[str, object] = {"reportDocumentId": document_id, "url": url}
    if document.compression:
        body["compressionAlgorithm"] = document.compression
    return jsonify(body)


def _access_denied(message: str) -> Response:
    return Response(
        f"<Error><Code>AccessDenied</Code><Message>{message}</Message></Error>", 403, content_type="application/xml"
    )


@blueprint.get("/_documents/<document_id>")
def download(document_id: str) -> Response:
    """The pre-signed URL's target (S3 in production): signature and expiry are enforced."""
    box = sandbox()
    expires = request.args.get("X-Amz-Expires", "0")
    signature = request.args.get("X-Amz-Signature", "")
    document = box.reports.documents.get(document_id)
    if (
        not expires.isdigit()
        or document is None
        or not hmac.compare_digest(signature, box.sign(document_id, int(expires)))
    ):
        return _access_denied("Access Denied")
    if int(expires) < time.time():
        return _access_denied("Request has expired")
    headers = {"Content-Type": f"text/plain;charset={document.charset}"}
    if document.compression and request.args.get("ce") == "gzip":
        headers["Content-Encoding"] = "gzip"
    # Transient faults are decided per download (this document's n-th), so a retry can succeed; a broken document
    # is decided by its id alone and served the same way every time.
    key = attempt_key(document_id, box.call_number(f"download {document_id}"))
    content = document.content
    if box.faults.hits("broken_document", document_id):
        if document.compression:  # a complete response whose gzip stream stops before its trailer
            return Response(content[: len(content) // 2], 200, headers=headers)
        return _cut_short(content, headers)  # a plain document: the connection drops at the same byte
    if document.compression and box.faults.hits("corrupt_document", key):
        damaged = bytearray(content)
        middle = len(damaged) // 2
        damaged[middle : middle + 16] = bytes(b ^ 0xFF for b in damaged[middle : middle + 16])
        content = bytes(damaged)
    if box.faults.hits("truncated_document", key):
        return _cut_short(content, headers)
    return Response(content, 200, headers=headers)


def _cut_short(content: bytes, headers: dict[str, str]) -> Response:
    """The connection ends early: the declared length is the whole document, the body is half of it."""
    response = Response(
        iter([content[: len(content) // 2]]), 200, headers={**headers, "Content-Length": str(len(content))}
    )
    response.automatically_set_content_length = False
    return response

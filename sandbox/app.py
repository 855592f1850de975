"""The sandbox's HTTP surface: LWA, Reports 2021-06-30, document downloads and a ground-truth inspection endpoint."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, jsonify, request

from sandbox.lwa import LwaError, TokenIssuer
from sandbox.marketplaces import MARKETPLACES
from sandbox.report_types import REPORT_TYPES, ReportRequest
from sandbox.reports import ReportStore
from sandbox.world import World

# Usage-plan rates (requests/second) returned in x-amzn-RateLimit-Limit, from the models' usage plans.
RATE_LIMITS = {"createReport": "0.0167", "getReport": "2.0", "getReportDocument": "0.0167"}
DOCUMENT_URL_TTL_S = 300  # "This URL expires after 5 minutes."


@dataclass
class SandboxConfig:
    seed: int = 7
    scale: float = 1.0
    time_scale: float = 1.0
    token_lifetime_s: int = 3600
    document_url_ttl_s: float = DOCUMENT_URL_TTL_S
    url_secret: bytes = field(default=b"")
    # Fault injection (off by default): "truncated_document" cuts every document download in half.
    faults: frozenset[str] = frozenset()


class Sandbox:
    """All sandbox state, independent of HTTP so tests and the inspection endpoint can read ground truth."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.world = World(config.seed, config.scale)
        self.lwa = TokenIssuer(self.world, config.token_lifetime_s)
        self.reports = ReportStore(self.world, config.time_scale)
        self.url_secret = config.url_secret or hashlib.sha256(f"url-{config.seed}".encode()).digest()

    def sign(self, document_id: str, expires: int) -> str:
        return hmac.new(self.url_secret, f"{document_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def _errors(status: int, code: str, message: str, details: str = "") -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    response = jsonify({"errors": [body]})
    response.status_code = status
    return response


def _parse_time(value: str | None, default: datetime) -> datetime:
    if not value:
        return default
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def create_app(sandbox: Sandbox) -> Flask:  # noqa: C901, PLR0915 - one route table, read top to bottom
    app = Flask("spapi-sandbox")

    @app.after_request
    def request_id(response: Response) -> Response:
        response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
        return response

    def authorize(account_required: bool = True) -> Response | None:
        token = sandbox.lwa.lookup(request.headers.get("x-amz-access-token"))
        if token is None:
            return _errors(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                "The access token you provided is revoked, malformed or invalid.",
            )
        if token.expires_at <= time.time():
            return _errors(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                "The access token you provided has expired.",
            )
        if account_required and token.account_id is None:
            return _errors(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                "This operation requires a selling partner authorization, not a grantless token.",
            )
        return None

    def with_rate(response: Response, operation: str) -> Response:
        response.headers["x-amzn-RateLimit-Limit"] = RATE_LIMITS[operation]
        return response

    @app.post("/auth/o2/token")
    def token() -> Response:
        try:
            body = sandbox.lwa.exchange(request.form.to_dict())
        except LwaError as err:
            response = jsonify({"error": err.error, "error_description": err.description})
            response.status_code = err.status
            return response
        response = jsonify(body)
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.post("/reports/2021-06-30/reports")
    def create_report() -> Response:
        if (denied := authorize()) is not None:
            return denied
        spec = request.get_json(silent=True) or {}
        report_type = spec.get("reportType")
        marketplace_ids = spec.get("marketplaceIds") or []
        if report_type not in REPORT_TYPES:
            return _errors(400, "InvalidInput", "Invalid input", f"reportType {report_type!r} is not supported")
        if not marketplace_ids or any(m not in MARKETPLACES for m in marketplace_ids):
            return _errors(400, "InvalidInput", "Invalid input", "marketplaceIds must list valid marketplace ids")
        token = sandbox.lwa.lookup(request.headers.get("x-amz-access-token"))
        assert token is not None and token.account_id is not None  # noqa: S101 - authorize() checked it
        now = datetime.now(UTC)
        try:
            start = _parse_time(spec.get("dataStartTime"), now)
            end = _parse_time(spec.get("dataEndTime"), now)
        except ValueError:
            return _errors(400, "InvalidInput", "Invalid input", "dataStartTime/dataEndTime must be ISO 8601")
        report_request = ReportRequest(
            token.account_id, marketplace_ids[0], start, end, spec.get("reportOptions") or {}
        )
        report = sandbox.reports.create(report_type, report_request)
        response = jsonify({"reportId": report.report_id})
        response.status_code = 202
        return with_rate(response, "createReport")

    @app.get("/reports/2021-06-30/reports/<report_id>")
    def get_report(report_id: str) -> Response:
        if (denied := authorize()) is not None:
            return denied
        report = sandbox.reports.get(report_id)
        if report is None:
            return _errors(404, "NotFound", "The requested report was not found.", report_id)
        return with_rate(jsonify(sandbox.reports.as_json(report)), "getReport")

    @app.get("/reports/2021-06-30/documents/<document_id>")
    def get_report_document(document_id: str) -> Response:
        if (denied := authorize()) is not None:
            return denied
        document = sandbox.reports.documents.get(document_id)
        if document is None:
            return _errors(404, "NotFound", "The requested report document was not found.", document_id)
        expires = int(time.time() + sandbox.config.document_url_ttl_s)
        content_encoding = request.args.get("enableContentEncodingUrlHeader", "false").lower() == "true"
        url = (
            f"{request.host_url}_documents/{document_id}?X-Amz-Expires={expires}"
            f"&X-Amz-Signature={sandbox.sign(document_id, expires)}" + ("&ce=gzip" if content_encoding else "")
        )
        body: dict[str, Any] = {"reportDocumentId": document_id, "url": url}
        if document.compression:
            body["compressionAlgorithm"] = document.compression
        return with_rate(jsonify(body), "getReportDocument")

    @app.get("/_documents/<document_id>")
    def download(document_id: str) -> Response:
        expires = request.args.get("X-Amz-Expires", "0")
        signature = request.args.get("X-Amz-Signature", "")
        valid = expires.isdigit() and hmac.compare_digest(signature, sandbox.sign(document_id, int(expires)))
        document = sandbox.reports.documents.get(document_id)
        if not valid or document is None:
            return Response(
                "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
                403,
                content_type="application/xml",
            )
        if int(expires) < time.time():
            return Response(
                "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                403,
                content_type="application/xml",
            )
        headers = {"Content-Type": f"text/plain;charset={document.charset}"}
        if document.compression and request.args.get("ce") == "gzip":
            headers["Content-Encoding"] = "gzip"
        if "truncated_document" in sandbox.config.faults:
            # The connection ends early: the declared length is the full document, the body is half of it.
            half = document.content[: len(document.content) // 2]
            response = Response(iter([half]), 200, headers={**headers, "Content-Length": str(len(document.content))})
            response.automatically_set_content_length = False
            return response
        return Response(document.content, 200, headers=headers)

    @app.get("/_sandbox/reports/<report_id>")
    def ground_truth(report_id: str) -> Response:
        """Inspection (not part of SP-API): what the sandbox generated for a report."""
        report = sandbox.reports.get(report_id)
        if report is None:
            return _errors(404, "NotFound", "unknown report", report_id)
        document = sandbox.reports.documents.get(report.document_id or "")
        return jsonify(
            {
                "reportId": report_id,
                "reportType": report.report_type,
                "status": report.status(time.time()),
                "rows": report.rows,
                "marketplaceId": report.request.marketplace_id,
                "sha256": document.sha256_uncompressed if document else None,
                "charset": document.charset if document else None,
            }
        )

    return app

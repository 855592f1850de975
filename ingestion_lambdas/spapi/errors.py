"""Typed SP-API errors. Class names are a contract: Step Functions Retry/Catch match them by name."""

from __future__ import annotations


class SpApiError(Exception):
    """Any failure talking to SP-API. Carries SP-API's error code, message, details and request id."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.details = details
        self.request_id = request_id

    def __str__(self) -> str:
        parts = [super().__str__()]
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.code:
            parts.append(f"code={self.code}")
        if self.details:
            parts.append(f"details={self.details}")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        return " ".join(parts)


class SpApiThrottledError(SpApiError):
    """429 after the transport's retries were spent."""


class SpApiServerError(SpApiError):
    """5xx, timeout or connection failure after the transport's retries were spent."""


class SpApiRequestError(SpApiError):
    """4xx other than 429: the request itself is wrong (bad input, unknown id, forbidden)."""


class LwaAuthError(SpApiError):
    """Login with Amazon refused the token exchange (bad client credentials or refresh token)."""


class ReportNotReadyError(SpApiError):
    """The report is still IN_QUEUE or IN_PROGRESS."""


class ReportFailedError(SpApiError):
    """The report ended CANCELLED or FATAL: there is no document to land."""


class MalformedReportError(SpApiError):
    """A report document could not be decoded (bad gzip stream, undecodable bytes)."""


class TruncatedDownloadError(SpApiError):
    """A report document download ended early (length or gzip trailer mismatch)."""


class DocumentUrlRefusedError(TruncatedDownloadError):
    """The document's pre-signed URL was refused (typically expired: they last five minutes)."""


class UnknownReportError(SpApiError):
    """A notification or request names a report this pipeline did not request (not in the ledger)."""

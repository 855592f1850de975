"""HTTP transport: one requests Session, token-bucket pacing, bounded jittered retries, typed errors.

Also what the SP-API client logs: one structured (JSON) line per retry, refresh and failure (`log_event`), and no
secret in the HTTP and AWS libraries' DEBUG lines (`RedactSecretsFilter`).
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import requests

from ingestion_lambdas import metrics
from ingestion_lambdas.spapi.errors import (
    SpApiError,
    SpApiRequestError,
    SpApiServerError,
    SpApiThrottledError,
)
from ingestion_lambdas.spapi.rate_limit import Quota, RateLimiter

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "spapi-lake/0.1 (Language=Python/3.11)"

# What must never reach a log line, in the formats Amazon gives them: LWA access and refresh tokens (Atza|, Atzr|, also
# form-encoded), LWA client secrets, and the query of a pre-signed URL (its signature, credential and session token).
SECRET_PATTERNS = (
    (re.compile(r"Atz([ar])(\||%7C)[^\s\"'\\,;&}]+", re.IGNORECASE), r"Atz\1\2***"),
    (re.compile(r"amzn1\.oa2-cs\.v1\.[0-9A-Za-z]+"), "amzn1.oa2-cs.v1.***"),
    (re.compile(r"\?[^\s\"']*X-Amz-(?:Signature|Credential|Security-Token)=[^\s\"']*"), "?***"),
)
# Libraries that log them at DEBUG: botocore writes request and response bodies (Secrets Manager's carry the LWA
# credentials, the refresh tokens and the shared access tokens), urllib3 every request's path and query.
LOGGERS_WITH_SECRETS = ("botocore.endpoint", "botocore.parsers", "urllib3.connectionpool")


# The ids of the unit of work being done (report id, execution name): every log_event line carries them, so one id
# finds the lines of one report's landing across the client, the services and the state machine. A ContextVar: each
# thread (offline, each in-process invocation) has its own.
_CORRELATION: ContextVar[dict[str, object]] = ContextVar("correlation", default={})  # noqa: B039 - never mutated


def log_event(log: logging.Logger, level: int, event: str, **fields: object) -> None:
    """Log one structured line: a JSON object naming the event, with the fields that describe it and the correlation
    ids of `correlated` around it.

    Fields are ids, counts, statuses, error kinds and hosts: never a token, a secret or a URL (a pre-signed URL is
    a credential until it expires).

    Example:
        >>> log_event(logger, logging.INFO, "spapi_retry", operation="getReport", status=429, attempt=1)
        # {"event": "spapi_retry", "operation": "getReport", "status": 429, "attempt": 1}
    """
    if log.isEnabledFor(level):
        log.log(level, json.dumps({"event": event, **_CORRELATION.get(), **fields}, default=str))


@contextmanager
def correlated(**ids: object) -> Iterator[None]:
    """Every log_event line inside carries `ids` (None values are left out); nested calls add to the outer ids.

    Example:
        >>> with correlated(report_id="123", execution_name="land-123"):
        ...     log_event(logger, logging.INFO, "report_landed", rows=10)
        # {"event": "report_landed", "report_id": "123", "execution_name": "land-123", "rows": 10}
    """
    token = _CORRELATION.set({**_CORRELATION.get(), **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _CORRELATION.reset(token)


def redact(text: str) -> str:
    """`text` with every LWA token, client secret and pre-signed URL query blanked."""
    for pattern, replacement in SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Blanks secrets in the records of a library logger (message and traceback) before any handler sees them.

    A logger's filters see only the records logged on that logger, so it is installed on each logger that leaks.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def redact_library_logs(names: tuple[str, ...] = LOGGERS_WITH_SECRETS) -> None:
    """Install `RedactSecretsFilter` on the library loggers that log secrets at DEBUG (once per logger)."""
    for name in names:
        library_logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecretsFilter) for f in library_logger.filters):
            library_logger.addFilter(RedactSecretsFilter())


redact_library_logs()  # at import: whatever imports the SP-API client has them, at whatever level it logs


@dataclass(frozen=True)
class Operation:
    """An SP-API operation and its default usage plan (from the official models)."""

    name: str
    quota: Quota


class TokenSource(Protocol):
    def token(self) -> str: ...

    def invalidate(self, token: str) -> None: ...


class Transport:
    """Sends one SP-API operation call for one account in one region.

    Example:
        >>> transport = Transport("https://sellingpartnerapi-na.amazon.com", auth, RateLimiter(), ("acct", "NA"))
        >>> transport.call(GET_REPORT, "GET", "/reports/2021-06-30/reports/123")
    """

    def __init__(
        self,
        base_url: str,
        auth: TokenSource,
        limiter: RateLimiter,
        bucket_scope: tuple[str, str],
        session: requests.Session | None = None,
        max_attempts: int = 5,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        timeout_s: tuple[float, float] = (5.0, 30.0),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.limiter = limiter
        self.bucket_scope = bucket_scope
        self.session = session or requests.Session()
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.timeout_s = timeout_s
        self._sleep = sleep

    def call(
        self,
        operation: Operation,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        bucket = self.limiter.bucket((*self.bucket_scope, operation.name), operation.quota)
        refreshed_token = False
        attempt = 0
        while True:
            attempt += 1
            bucket.acquire()
            token = self.auth.token()
            try:
                response = self.session.request(
                    method,
                    self.base_url + path,
                    params=params,
                    json=json,
                    timeout=self.timeout_s,
                    headers={"x-amz-access-token": token, "user-agent": USER_AGENT, "accept": "application/json"},
                )
            except (requests.ConnectionError, requests.Timeout) as err:
                kind = "timeout" if isinstance(err, requests.Timeout) else "connection"
                if attempt >= self.max_attempts:
                    self._log(logging.WARNING, "spapi_call_failed", operation, attempt, error=kind)
                    raise SpApiServerError(f"{operation.name}: {type(err).__name__} after {attempt} attempts") from err
                self._backoff(operation, attempt, error=kind)
                continue
            request_id = response.headers.get("x-amzn-RequestId")
            if rate := response.headers.get("x-amzn-RateLimit-Limit"):
                try:
                    bucket.update_rate(float(rate))
                except ValueError:
                    logger.warning("ignoring unparsable x-amzn-RateLimit-Limit %r", rate)
            if response.status_code < 400:
                return response.json() if response.content else {}
            error = _error_from(operation, response, request_id)
            if response.status_code == 429:  # every one, retried or not: the alarm watches how often quotas bind
                metrics.emit(metrics.SPAPI_THROTTLES, 1, Operation=operation.name)
            if response.status_code == 403 and not refreshed_token and "expired" in (error.details or "").lower():
                # An expired token is refreshed once, then the call is retried at once.
                self._log(logging.INFO, "spapi_retry", operation, attempt, status=403, error="token_expired",
                          request_id=request_id)  # fmt: skip
                self.auth.invalidate(token)
                refreshed_token = True
                continue
            if response.status_code not in RETRYABLE_STATUS:
                raise error
            fields = {"status": response.status_code, "error": type(error).__name__, "code": error.code,
                      "request_id": request_id}  # fmt: skip
            if attempt >= self.max_attempts:
                self._log(logging.WARNING, "spapi_call_failed", operation, attempt, **fields)
                raise error
            self._backoff(operation, attempt, **fields)

    def _backoff(self, operation: Operation, attempt: int, **fields: object) -> None:
        # "Full jitter": uniform in [0, min(cap, base * 2^attempt)].
        delay = random.uniform(0, min(self.backoff_cap_s, self.backoff_base_s * 2**attempt))  # noqa: S311
        self._log(logging.INFO, "spapi_retry", operation, attempt, backoff_s=round(delay, 3), **fields)
        self._sleep(delay)

    def _log(self, level: int, event: str, operation: Operation, attempt: int, **fields: object) -> None:
        log_event(logger, level, event, operation=operation.name, attempt=attempt, max_attempts=self.max_attempts,
                  host=urlsplit(self.base_url).netloc, **fields)  # fmt: skip


def _error_from(operation: Operation, response: requests.Response, request_id: str | None) -> SpApiError:
    code = message = details = None
    try:
        body = response.json()
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            code, message, details = errors[0].get("code"), errors[0].get("message"), errors[0].get("details")
    except ValueError:
        pass
    error_type: type[SpApiError]
    if response.status_code == 429:
        error_type = SpApiThrottledError
    elif response.status_code >= 500:
        error_type = SpApiServerError
    else:
        error_type = SpApiRequestError
    return error_type(
        f"{operation.name} failed: {message or response.reason}",
        status=response.status_code,
        code=code,
        details=details,
        request_id=request_id,
    )

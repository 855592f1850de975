"""HTTP transport: one requests Session, token-bucket pacing, bounded jittered retries, typed errors."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import requests

from ingestion_lambdas.spapi.errors import (
    SpApiError,
    SpApiRequestError,
    SpApiServerError,
    SpApiThrottledError,
)
from ingestion_lambdas.spapi.rate_limit import Quota, RateLimiter

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "spapi-lake/0.1 (Language=Python/3.11)"


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
                if attempt >= self.max_attempts:
                    raise SpApiServerError(f"{operation.name}: {type(err).__name__} after {attempt} attempts") from err
                self._backoff(attempt)
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
            if response.status_code == 403 and not refreshed_token and "expired" in (error.details or "").lower():
                self.auth.invalidate(token)  # an expired token is refreshed once, then the call is retried
                refreshed_token = True
                continue
            if response.status_code not in RETRYABLE_STATUS or attempt >= self.max_attempts:
                raise error
            logger.info(
                "retrying %s after HTTP %s (attempt %s, request id %s)",
                operation.name,
                response.status_code,
                attempt,
                request_id,
            )
            self._backoff(attempt)

    def _backoff(self, attempt: int) -> None:
        # "Full jitter": uniform in [0, min(cap, base * 2^attempt)].
        self._sleep(random.uniform(0, min(self.backoff_cap_s, self.backoff_base_s * 2**attempt)))  # noqa: S311


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

"""Login with Amazon: refresh-token and grantless (client_credentials) exchanges, cached until shortly before expiry."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import requests
from pydantic import BaseModel

from ingestion_lambdas.spapi.errors import LwaAuthError, SpApiServerError

if TYPE_CHECKING:
    from collections.abc import Callable

EXPIRY_MARGIN_S = 60  # refresh this long before LWA's expiry, as Amazon's Java SDK does
RETRYABLE_LWA_ERRORS = frozenset({"server_error", "temporarily_unavailable"})


@dataclass(frozen=True)
class LwaCredentials:
    """The application's LWA client credentials. repr hides the secret."""

    client_id: str
    client_secret: str

    def __repr__(self) -> str:
        return f"LwaCredentials(client_id={self.client_id!r}, client_secret=***)"


class _TokenResponse(BaseModel):
    access_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - the token type, not a token


@dataclass(frozen=True)
class _CachedToken:
    value: str
    expires_at: float


class LwaTokenProvider:
    """One provider per application; tokens are cached per (client id, refresh token or scope)."""

    def __init__(
        self,
        endpoint: str,
        credentials: LwaCredentials,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        timeout_s: float = 15.0,
    ) -> None:
        self.endpoint = endpoint
        self.credentials = credentials
        self.session = session or requests.Session()
        self._clock = clock
        self._timeout_s = timeout_s
        self._cache: dict[tuple[str, str], _CachedToken] = {}
        self._lock = threading.Lock()

    def access_token(self, refresh_token: str) -> str:
        """An access token for a selling partner's authorization."""
        return self._token(
            ("refresh_token", refresh_token), {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )

    def grantless_token(self, scope: str) -> str:
        """An access token for grantless operations (e.g. scope `sellingpartnerapi::notifications`)."""
        return self._token(("scope", scope), {"grant_type": "client_credentials", "scope": scope})

    def invalidate(self, token: str) -> None:
        """Drop a token SP-API called expired, so the next call exchanges again."""
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if v.value != token}

    def _token(self, key: tuple[str, str], form: dict[str, str]) -> str:
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached.expires_at > self._clock():
                return cached.value
            issued = self._exchange(form)
            self._cache[key] = _CachedToken(issued.access_token, self._clock() + issued.expires_in - EXPIRY_MARGIN_S)
            return issued.access_token

    def _exchange(self, form: dict[str, str]) -> _TokenResponse:
        data = {**form, "client_id": self.credentials.client_id, "client_secret": self.credentials.client_secret}
        last_error: Exception | None = None
        for attempt in range(3):
            try:
                response = self.session.post(self.endpoint, data=data, timeout=self._timeout_s)
            except requests.RequestException as err:
                last_error = err
            else:
                if response.status_code == 200:
                    return _TokenResponse.model_validate(response.json())
                error = _lwa_error(response)
                if error not in RETRYABLE_LWA_ERRORS and response.status_code < 500:
                    raise LwaAuthError(
                        f"LWA refused the {form['grant_type']} exchange: {error}",
                        status=response.status_code,
                        code=error,
                    )
                last_error = LwaAuthError(f"LWA error {error}", status=response.status_code, code=error)
            time.sleep(2**attempt * 0.5)
        raise SpApiServerError(f"LWA token endpoint unavailable after retries: {type(last_error).__name__}")


def _lwa_error(response: requests.Response) -> str:
    try:
        return str(response.json().get("error", f"http_{response.status_code}"))
    except ValueError:
        return f"http_{response.status_code}"

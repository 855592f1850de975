"""Login with Amazon: refresh-token and grantless (client_credentials) exchanges, cached until shortly before expiry."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import requests
from botocore.exceptions import ClientError
from pydantic import BaseModel

from ingestion_lambdas.spapi.errors import LwaAuthError, SpApiServerError
from ingestion_lambdas.spapi.transport import log_event

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)
EXPIRY_MARGIN_S = 60  # refresh this long before LWA's expiry, as Amazon's Java SDK does
RETRYABLE_LWA_ERRORS = frozenset({"server_error", "temporarily_unavailable"})
LWA_ATTEMPTS = 3


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
class CachedToken:
    value: str = field(repr=False)
    expires_at: float  # epoch seconds, already EXPIRY_MARGIN_S before LWA's expiry


class TokenStore(Protocol):
    """Where access tokens are shared between processes (Lambda invocations)."""

    def load(self, key: str) -> CachedToken | None: ...

    def save(self, key: str, token: CachedToken) -> None: ...


class SecretsManagerTokenStore:
    """Access tokens in Secrets Manager, one secret per authorization, so that concurrent and successive Lambda
    invocations reuse one token until shortly before it expires. Secret names carry a hash of the authorization,
    never the refresh token; a store failure costs an extra LWA exchange, never the call."""

    def __init__(
        self,
        client: Any,
        prefix: str = "spapi-lake/access-token/",
        kms_key_id: str | None = None,  # noqa: S107
    ) -> None:
        self.client = client
        self.prefix = prefix  # a name prefix, not a secret
        self.kms_key_id = kms_key_id  # the deployment's data key, as every other secret (None: Secrets Manager's)

    def load(self, key: str) -> CachedToken | None:
        try:
            secret = self.client.get_secret_value(SecretId=self.prefix + key)
            value = json.loads(secret["SecretString"])
            return CachedToken(str(value["access_token"]), float(value["expires_at"]))
        except ClientError as err:
            if err.response["Error"]["Code"] != "ResourceNotFoundException":
                logger.warning("access-token cache unreadable: %s", err.response["Error"]["Code"])
        except (KeyError, ValueError):
            logger.warning("access-token cache entry %s is malformed; exchanging anew", key)
        return None

    def save(self, key: str, token: CachedToken) -> None:
        body = json.dumps({"access_token": token.value, "expires_at": token.expires_at})
        try:
            try:
                self.client.put_secret_value(SecretId=self.prefix + key, SecretString=body)
            except ClientError as err:
                if err.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
                key_id = {"KmsKeyId": self.kms_key_id} if self.kms_key_id else {}
                self.client.create_secret(
                    Name=self.prefix + key,
                    SecretString=body,
                    Description="SP-API access token cache (spapi-lake)",
                    **key_id,
                )
        except ClientError as err:
            logger.warning("access-token cache not written: %s", err.response["Error"]["Code"])


class LwaTokenProvider:
    """One provider per application; tokens are cached per (client id, refresh token or scope)."""

    def __init__(
        self,
        endpoint: str,
        credentials: LwaCredentials,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        timeout_s: float = 15.0,
        store: TokenStore | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.credentials = credentials
        self.session = session or requests.Session()
        self.store = store
        self.exchanges = 0  # LWA round trips made by this provider
        self._clock = clock
        self._timeout_s = timeout_s
        self._cache: dict[tuple[str, str], CachedToken] = {}
        self._rejected: set[str] = set()  # tokens SP-API called expired: never reused from the store
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
        """Refuse a token SP-API called expired, so the next call exchanges again. It stays cached, unusable, so
        that the exchange replacing it can log why."""
        with self._lock:
            self._rejected.add(token)

    def _store_key(self, key: tuple[str, str]) -> str:
        return hashlib.sha256("|".join((self.credentials.client_id, *key)).encode()).hexdigest()[:40]

    def _usable(self, token: CachedToken | None) -> bool:
        return token is not None and token.expires_at > self._clock() and token.value not in self._rejected

    def _token(self, key: tuple[str, str], form: dict[str, str]) -> str:
        with self._lock:
            cached = self._cache.get(key)
            stale = cached  # the token this exchange replaces, if any: why it is no longer usable is logged
            if cached is None or not self._usable(cached):
                cached = self.store.load(self._store_key(key)) if self.store is not None else None
                stale = cached or stale
            if cached is None or not self._usable(cached):
                issued = self._exchange(form)
                self.exchanges += 1
                self._log(logging.INFO, "lwa_token_exchanged", form["grant_type"], reason=self._replaced(stale),
                          exchanges=self.exchanges, expires_in=issued.expires_in)  # fmt: skip
                cached = CachedToken(issued.access_token, self._clock() + issued.expires_in - EXPIRY_MARGIN_S)
                if self.store is not None:
                    self.store.save(self._store_key(key), cached)
            self._cache[key] = cached
            return cached.value

    def _replaced(self, stale: CachedToken | None) -> str:
        if stale is None:
            return "none_cached"
        return "rejected" if stale.value in self._rejected else "expired"

    def _exchange(self, form: dict[str, str]) -> _TokenResponse:
        data = {**form, "client_id": self.credentials.client_id, "client_secret": self.credentials.client_secret}
        last_error: Exception | None = None
        for attempt in range(1, LWA_ATTEMPTS + 1):
            status: int | None = None
            try:
                response = self.session.post(self.endpoint, data=data, timeout=self._timeout_s)
            except requests.RequestException as err:
                last_error = err
            else:
                if response.status_code == 200:
                    return _TokenResponse.model_validate(response.json())
                status, error = response.status_code, _lwa_error(response)
                if error not in RETRYABLE_LWA_ERRORS and response.status_code < 500:
                    self._log(logging.WARNING, "lwa_exchange_refused", form["grant_type"], attempt=attempt,
                              status=status, error=error)  # fmt: skip
                    raise LwaAuthError(
                        f"LWA refused the {form['grant_type']} exchange: {error}",
                        status=response.status_code,
                        code=error,
                    )
                last_error = LwaAuthError(f"LWA error {error}", status=response.status_code, code=error)
            kind = last_error.code if isinstance(last_error, LwaAuthError) else type(last_error).__name__
            if attempt == LWA_ATTEMPTS:
                self._log(logging.WARNING, "lwa_exchange_failed", form["grant_type"], attempt=attempt, status=status,
                          error=kind)  # fmt: skip
                break
            self._log(logging.INFO, "lwa_retry", form["grant_type"], attempt=attempt, status=status, error=kind)
            time.sleep(2 ** (attempt - 1) * 0.5)
        raise SpApiServerError(f"LWA token endpoint unavailable after retries: {type(last_error).__name__}")

    def _log(self, level: int, event: str, grant_type: str, **fields: object) -> None:
        log_event(logger, level, event, operation="lwaTokenExchange", grant_type=grant_type,
                  host=urlsplit(self.endpoint).netloc, **fields)  # fmt: skip


def _lwa_error(response: requests.Response) -> str:
    try:
        return str(response.json().get("error", f"http_{response.status_code}"))
    except ValueError:
        return f"http_{response.status_code}"


class RefreshTokenAuth:
    """The token source of one selling-partner authorization whose refresh token is at hand (scripts, benchmarks,
    tests); Lambdas read theirs by reference from Secrets Manager instead (services.accounts)."""

    def __init__(self, provider: LwaTokenProvider, refresh_token: str) -> None:
        self.provider = provider
        self._refresh_token = refresh_token

    def __repr__(self) -> str:
        return "RefreshTokenAuth(refresh_token=***)"

    def token(self) -> str:
        return self.provider.access_token(self._refresh_token)

    def invalidate(self, token: str) -> None:
        self.provider.invalidate(token)

"""Login with Amazon token issuance: refresh_token and client_credentials grants, with expiry."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sandbox.faults import Faults

if TYPE_CHECKING:
    from sandbox.world import World

GRANTLESS_SCOPES = frozenset({"sellingpartnerapi::notifications", "sellingpartnerapi::client_credential:rotation"})


@dataclass(frozen=True)
class IssuedToken:
    account_id: str | None  # None for grantless tokens
    scope: str | None
    expires_at: float


class LwaError(Exception):
    """An LWA error response: `error` is one of LWA's codes, `status` the HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class TokenIssuer:
    def __init__(self, world: World, token_lifetime_s: int = 3600, faults: Faults | None = None) -> None:
        self.world = world
        self.token_lifetime_s = token_lifetime_s
        self.faults = faults or Faults()
        self._tokens: dict[str, IssuedToken] = {}
        self._lock = threading.Lock()

    def exchange(self, form: dict[str, str]) -> dict[str, object]:
        if form.get("client_id") != self.world.client_id or form.get("client_secret") != self.world.client_secret:
            raise LwaError("invalid_client", "Client authentication failed", status=401)
        grant_type = form.get("grant_type")
        if grant_type == "refresh_token":
            if "scope" in form:
                raise LwaError("invalid_request", "scope must not be sent with grant_type=refresh_token")
            account = self.world.account_for_refresh_token(form.get("refresh_token", ""))
            if account is None:
                raise LwaError("invalid_grant", "The request has an invalid grant parameter : refresh_token")
            token = self._issue(IssuedToken(account.account_id, None, time.time() + self.token_lifetime_s))
            return {
                "access_token": token,
                "refresh_token": account.refresh_token,
                "token_type": "bearer",
                "expires_in": self.token_lifetime_s,
            }
        if grant_type == "client_credentials":
            scope = form.get("scope", "")
            if not scope or "refresh_token" in form:
                raise LwaError("invalid_request", "client_credentials requires scope and no refresh_token")
            if not set(scope.split()) <= GRANTLESS_SCOPES:
                raise LwaError("invalid_scope", "The request has an invalid parameter : scope")
            token = self._issue(IssuedToken(None, scope, time.time() + self.token_lifetime_s))
            return {"access_token": token, "scope": scope, "token_type": "bearer", "expires_in": self.token_lifetime_s}
        raise LwaError("unsupported_grant_type", f"unsupported grant_type {grant_type!r}")

    def _issue(self, issued: IssuedToken) -> str:
        token = "Atza|" + secrets.token_urlsafe(96)
        with self._lock:
            if self.faults.hits("token_expiry", str(len(self._tokens))):
                # The token dies early although expires_in promised an hour.
                issued = IssuedToken(issued.account_id, issued.scope, time.time() + self.faults.early_expiry_seconds)
            self._tokens[token] = issued
        return token

    def lookup(self, token: str | None) -> IssuedToken | None:
        """The token's grant, or None if unknown. Expiry is checked by the caller (it needs a distinct message)."""
        if not token:
            return None
        with self._lock:
            return self._tokens.get(token)

    def issued_tokens(self) -> list[str]:
        """Every access token issued so far (for a test's scan of logs: none may appear there)."""
        with self._lock:
            return list(self._tokens)

    @property
    def issued_count(self) -> int:
        with self._lock:
            return len(self._tokens)

    def expire_all(self) -> None:
        """Fault hook: every token issued so far expires now."""
        with self._lock:
            self._tokens = {k: IssuedToken(v.account_id, v.scope, 0.0) for k, v in self._tokens.items()}

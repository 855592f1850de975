"""How long the LWA credentials have left: the app's client secret and each account's refresh token.

Amazon requires an LWA app's client secret to be rotated every 180 days, and a selling partner's authorization (its
refresh token) to be renewed every 365 days; a credential past its deadline stops working. This check runs daily and
emits the days left of each (ingestion_lambdas/metrics.py), and operations.yaml alarms 30 days before.

Where the dates come from: the credential's secret in Secrets Manager. Rotating the client secret, or a partner
authorizing the app again, means putting the new value as a new version of its secret, so the AWSCURRENT version's
CreatedDate is when the credential in use was issued. When that is not so (a value copied in later, from elsewhere),
the secret's tag `spapi-lake:issued-on` (an ISO date, e.g. 2026-06-01) says when it was issued, and wins. Only the
secrets' metadata is read (DescribeSecret, ListSecretVersionIds): this check never sees a secret value.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from ingestion_lambdas import metrics
from ingestion_lambdas.services.errors import CredentialNotSetError
from ingestion_lambdas.spapi.transport import log_event

if TYPE_CHECKING:
    from collections.abc import Callable

    from ingestion_lambdas.services.accounts import SpApiClients

logger = logging.getLogger(__name__)

CLIENT_SECRET_MAX_AGE = timedelta(days=180)  # Amazon's rotation rule for LWA client secrets
REFRESH_TOKEN_MAX_AGE = timedelta(days=365)  # a selling partner authorizes the app again every year
WARNING_DAYS = 30  # logged as a warning from here on: operations.yaml CredentialWarningDays default (tested)
ISSUED_ON_TAG = "spapi-lake:issued-on"
CURRENT = "AWSCURRENT"


class CredentialAge(BaseModel):
    """One credential, when it was issued (and how we know), and the whole days left before its deadline."""

    credential: Literal["client_secret", "refresh_token"]
    secret_id: str
    account_id: str | None = None
    issued_at: datetime
    source: Literal["tag", "current_version"]
    deadline: datetime
    days_left: int  # whole days, rounded down: 0 on the deadline's last day, negative after it


class CredentialReport(BaseModel):
    checked_at: datetime
    credentials: list[CredentialAge]


def days_left(issued_at: datetime, max_age: timedelta, now: datetime) -> int:
    """Whole days from `now` to `issued_at + max_age`, rounded down (a deadline 20.5 days away is 20 days left)."""
    return math.floor((issued_at + max_age - now) / timedelta(days=1))


def issued_at(secrets_client: Any, secret_id: str) -> tuple[datetime, Literal["tag", "current_version"]]:
    """When the secret's current credential was issued: its `spapi-lake:issued-on` tag, else its AWSCURRENT version's
    CreatedDate.

    Raises:
        CredentialNotSetError: the secret has no current version (created empty and never set) and no tag.
    """
    described = secrets_client.describe_secret(SecretId=secret_id)
    tag = next((t["Value"] for t in described.get("Tags", []) if t["Key"] == ISSUED_ON_TAG), None)
    if tag:
        day = date.fromisoformat(tag.strip()[:10])
        return datetime(day.year, day.month, day.day, tzinfo=UTC), "tag"
    kwargs: dict[str, Any] = {"SecretId": secret_id}
    while True:
        page = secrets_client.list_secret_version_ids(**kwargs)
        for version in page.get("Versions", []):
            if CURRENT in version.get("VersionStages", []):
                return version["CreatedDate"].astimezone(UTC), "current_version"
        if not page.get("NextToken"):
            raise CredentialNotSetError(f"secret {secret_id} has no {CURRENT} version and no {ISSUED_ON_TAG} tag")
        kwargs["NextToken"] = page["NextToken"]


class CredentialCheck:
    """Days left of the app's client secret and of every account's refresh token, as metrics and a report."""

    def __init__(self, clients: SpApiClients, secrets_client: Any, clock: Callable[[], float] = time.time) -> None:
        self.clients = clients
        self.secrets = secrets_client
        self._clock = clock

    def run(self) -> CredentialReport:
        """Check every credential and emit its days left; one that is not set is reported after the others.

        Raises:
            CredentialNotSetError: a credential's secret has never been set (its metric is then missing, which its
                alarm treats as breaching).
        """
        now = datetime.fromtimestamp(self._clock(), UTC)
        wanted: list[tuple[Literal["client_secret", "refresh_token"], str, str | None, timedelta]] = [
            ("client_secret", self.clients.settings.need("app_credentials_secret_id"), None, CLIENT_SECRET_MAX_AGE)
        ]
        wanted += [("refresh_token", a.refresh_token_secret_id, a.account_id, REFRESH_TOKEN_MAX_AGE)
                   for a in self.clients.accounts().values()]  # fmt: skip
        checked, missing = [], []
        for credential, secret_id, account_id, max_age in wanted:
            try:
                issued, source = issued_at(self.secrets, secret_id)
            except CredentialNotSetError as err:
                log_event(logger, logging.ERROR, "credential_not_set", credential=credential, secret_id=secret_id,
                          account_id=account_id)  # fmt: skip
                missing.append(str(err))
                continue
            age = CredentialAge(credential=credential, secret_id=secret_id, account_id=account_id, issued_at=issued,
                                source=source, deadline=issued + max_age,
                                days_left=days_left(issued, max_age, now))  # fmt: skip
            self._emit(age)
            checked.append(age)
        if missing:
            raise CredentialNotSetError("; ".join(missing))
        return CredentialReport(checked_at=now, credentials=checked)

    @staticmethod
    def _emit(age: CredentialAge) -> None:
        level = logging.WARNING if age.days_left <= WARNING_DAYS else logging.INFO
        log_event(logger, level, "credential_age", credential=age.credential, secret_id=age.secret_id,
                  account_id=age.account_id, issued_at=age.issued_at, source=age.source,
                  days_left=age.days_left)  # fmt: skip
        if age.account_id is None:
            metrics.emit(metrics.CLIENT_SECRET_DAYS_LEFT, age.days_left)
        else:
            metrics.emit(metrics.REFRESH_TOKEN_DAYS_LEFT, age.days_left, AccountId=age.account_id)

"""Selling-partner accounts and the SP-API clients built for them (one token provider, one limiter per process)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import requests
from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider
from pydantic import BaseModel, TypeAdapter

from ingestion_lambdas import aws
from ingestion_lambdas.spapi.auth import LwaCredentials, LwaTokenProvider, SecretsManagerTokenStore
from ingestion_lambdas.spapi.catalog import CatalogItemsApi
from ingestion_lambdas.spapi.listings import ListingsItemsApi
from ingestion_lambdas.spapi.notifications import NOTIFICATIONS_SCOPE, NotificationsApi
from ingestion_lambdas.spapi.rate_limit import QuotaTable, RateLimiter
from ingestion_lambdas.spapi.reports import ReportsApi
from ingestion_lambdas.spapi.sellers import SellersApi
from ingestion_lambdas.spapi.transport import TokenSource, Transport

if TYPE_CHECKING:
    from ingestion_lambdas.settings import Settings

PARAMETER_MAX_AGE_S = 300


class Account(BaseModel):
    """An entry of the account registry (Parameter Store JSON). The refresh token is referenced, not held."""

    account_id: str
    kind: Literal["seller", "vendor"]
    selling_partner_id: str
    region: Literal["NA", "EU", "FE"]
    marketplace_ids: list[str]
    refresh_token_secret_id: str


class _AccountAuth:
    """Token source for one selling-partner authorization."""

    def __init__(self, provider: LwaTokenProvider, secrets: SecretsProvider, secret_id: str) -> None:
        self._provider = provider
        self._secrets = secrets
        self._secret_id = secret_id

    def token(self) -> str:
        refresh_token = self._secrets.get(self._secret_id, max_age=PARAMETER_MAX_AGE_S)
        return self._provider.access_token(str(refresh_token))

    def invalidate(self, token: str) -> None:
        self._provider.invalidate(token)


class _GrantlessAuth:
    """Token source for the application's grantless operations (one scope)."""

    def __init__(self, provider: LwaTokenProvider, scope: str) -> None:
        self._provider = provider
        self._scope = scope

    def token(self) -> str:
        return self._provider.grantless_token(self._scope)

    def invalidate(self, token: str) -> None:
        self._provider.invalidate(token)


class SpApiClients:
    """Builds per-account API objects sharing one session, one LWA provider and one rate limiter."""

    def __init__(
        self, settings: Settings, ssm_client: Any, secrets_client: Any, session: requests.Session | None = None
    ) -> None:
        self.settings = settings
        self.session = session or requests.Session()
        self._ssm = SSMProvider(boto3_client=ssm_client)
        self._secrets = SecretsProvider(boto3_client=secrets_client)
        self._secrets_client = secrets_client
        self._limiter: RateLimiter | None = None
        self._provider: LwaTokenProvider | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SpApiClients:
        """Clients for a Lambda cold start: boto3 clients from the environment's endpoints."""
        return cls(settings, aws.client("ssm"), aws.client("secretsmanager"))

    def accounts(self) -> dict[str, Account]:
        raw = self._ssm.get(self.settings.need("accounts_parameter"), transform="json", max_age=PARAMETER_MAX_AGE_S)
        return {a.account_id: a for a in TypeAdapter(list[Account]).validate_python(raw)}

    def parameter(self, name: str) -> Any:
        """A JSON parameter from Parameter Store (cached for PARAMETER_MAX_AGE_S)."""
        return self._ssm.get(name, transform="json", max_age=PARAMETER_MAX_AGE_S)

    def account(self, account_id: str) -> Account:
        try:
            return self.accounts()[account_id]
        except KeyError as err:
            raise KeyError(f"account {account_id!r} is not in {self.settings.accounts_parameter}") from err

    def _token_provider(self) -> LwaTokenProvider:
        if self._provider is None:
            app = self._secrets.get(
                self.settings.need("app_credentials_secret_id"), transform="json", max_age=PARAMETER_MAX_AGE_S
            )
            assert isinstance(app, dict)  # noqa: S101 - transform="json" of an object
            credentials = LwaCredentials(str(app["client_id"]), str(app["client_secret"]))
            store = SecretsManagerTokenStore(self._secrets_client, self.settings.need("access_token_secret_prefix"),
                                             self.settings.kms_key_id)  # fmt: skip
            self._provider = LwaTokenProvider(self.settings.lwa_endpoint, credentials, self.session, store=store)
        return self._provider

    def limiter(self) -> RateLimiter:
        """One limiter for every account of this process; with the deployment's quota table, each of its buckets also
        paced by the one every process shares (the key names the application: Amazon's quotas are per app)."""
        if self._limiter is None:
            shared = None
            if self.settings.quota_table:
                application = self._token_provider().credentials.client_id
                shared = QuotaTable(aws.resource("dynamodb").Table(self.settings.quota_table), application)
            self._limiter = RateLimiter(shared)
        return self._limiter

    def transport(self, account: Account) -> Transport:
        auth = _AccountAuth(self._token_provider(), self._secrets, account.refresh_token_secret_id)
        return self._transport(account.region, auth, account.account_id)

    def _transport(self, region: str, auth: TokenSource, caller: str) -> Transport:
        return Transport(self.settings.spapi_endpoint(region), auth, self.limiter(), (caller, region),
                         session=self.session, timeout_s=(5.0, self.settings.read_timeout_s))  # fmt: skip

    def reports(self, account_id: str) -> ReportsApi:
        return ReportsApi(self.transport(self.account(account_id)))

    def catalog(self, account_id: str) -> CatalogItemsApi:
        return CatalogItemsApi(self.transport(self.account(account_id)))

    def listings(self, account_id: str) -> ListingsItemsApi:
        return ListingsItemsApi(self.transport(self.account(account_id)))

    def sellers(self, account_id: str) -> SellersApi:
        return SellersApi(self.transport(self.account(account_id)))

    def notifications(self, account_id: str) -> NotificationsApi:
        account = self.account(account_id)
        grantless = _GrantlessAuth(self._token_provider(), NOTIFICATIONS_SCOPE)
        return NotificationsApi(self._transport(account.region, grantless, "application"), self.transport(account))

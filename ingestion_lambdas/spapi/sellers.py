"""Sellers API v1: getMarketplaceParticipations."""

from __future__ import annotations

from pydantic import Field

from ingestion_lambdas.spapi.models import ApiModel
from ingestion_lambdas.spapi.rate_limit import Quota
from ingestion_lambdas.spapi.transport import Operation, Transport

GET_MARKETPLACE_PARTICIPATIONS = Operation("getMarketplaceParticipations", Quota(0.016, 15))


class Marketplace(ApiModel):
    id: str
    name: str
    country_code: str = Field(alias="countryCode")
    default_currency_code: str = Field(alias="defaultCurrencyCode")


class Participation(ApiModel):
    is_participating: bool = Field(alias="isParticipating")
    has_suspended_listings: bool = Field(alias="hasSuspendedListings")


class MarketplaceParticipation(ApiModel):
    marketplace: Marketplace
    participation: Participation
    store_name: str = Field(alias="storeName")


class SellersApi:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def marketplace_participations(self) -> list[MarketplaceParticipation]:
        body = self.transport.call(GET_MARKETPLACE_PARTICIPATIONS, "GET", "/sellers/v1/marketplaceParticipations")
        return [MarketplaceParticipation.model_validate(item) for item in body.get("payload", [])]

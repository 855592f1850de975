"""Marketplaces the synthetic world sells in, with the facts reports depend on (region, currency, charset)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Marketplace:
    marketplace_id: str
    country_code: str
    region: str  # SP-API selling region: NA, EU or FE
    currency_code: str
    # Flat-file reports in some marketplaces are delivered in a legacy charset (said in the document's Content-Type).
    flat_file_charset: str
    fulfillment_channel_afn: str


MARKETPLACES: dict[str, Marketplace] = {
    m.marketplace_id: m
    for m in (
        Marketplace("ATVPDKIKX0DER", "US", "NA", "USD", "UTF-8", "AMAZON_NA"),
        Marketplace("A2EUQ1WTGCTBG2", "CA", "NA", "CAD", "UTF-8", "AMAZON_NA"),
        Marketplace("A1PA6795UKMFR9", "DE", "EU", "EUR", "Cp1252", "AMAZON_EU"),
        Marketplace("A1F83G8C2ARO7P", "UK", "EU", "GBP", "Cp1252", "AMAZON_EU"),
        Marketplace("A1VC38T7YXB528", "JP", "FE", "JPY", "windows-31j", "AMAZON_FE"),
    )
}

"""A deterministic synthetic seller world: accounts, products and listings derived from (seed, scale).

Every value is a pure function of the seed, the scale and the entity's identity, so the same world can be rebuilt by
tests to compute ground truth, and two runs with the same seed serve byte-identical reports. What changes over time
(orders, their statuses, restated figures, daily snapshots) is a function of the world's clock as well: the same seed
and the same "now" give the same answers.
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING

from sandbox.clock import SandboxClock
from sandbox.marketplaces import MARKETPLACES, Marketplace

if TYPE_CHECKING:
    from sandbox.commerce import Commerce

BRANDS = ("Northwind", "Lumora", "Kestrel & Co", "Blue Fjord", "Tidewell", "Oakhaven")
PRODUCTS = (
    ("Stainless Steel Water Bottle", "Kitchen"),
    ("Bamboo Cutting Board", "Kitchen"),
    ("Wireless Charging Pad", "Electronics"),
    ("Organic Cotton Bath Towel", "Home"),
    ("Yoga Mat Non-Slip", "Sports"),
    ("LED Desk Lamp", "Home"),
    ("Ceramic Pour-Over Coffee Set", "Kitchen"),
    ("Trail Running Socks", "Apparel"),
    ("Silicone Baking Mat", "Kitchen"),
    ("Noise-Isolating Earbuds", "Electronics"),
)
VARIANTS = ("Black", "White", "Sage", "Navy", "Large", "Small", "2-Pack", "4-Pack", "Crème", "Größe M")


@dataclass(frozen=True)
class Account:
    """A selling-partner account the demo application is authorized for."""

    account_id: str
    kind: str  # "seller" or "vendor"
    selling_partner_id: str
    region: str
    marketplace_ids: tuple[str, ...]
    refresh_token: str


@dataclass(frozen=True)
class Product:
    asin: str
    brand: str
    title: str
    category: str
    base_price: Decimal


@dataclass(frozen=True)
class Listing:
    """One seller SKU offered in one marketplace."""

    seller_sku: str
    asin: str
    marketplace_id: str
    listing_id: str
    item_name: str
    price: Decimal
    quantity: int | None  # None for FBA listings: Amazon leaves the cell empty
    fulfillment_channel: str
    opened_at: datetime
    status: str

    @property
    def is_fba(self) -> bool:
        return self.fulfillment_channel != "DEFAULT"

    @property
    def fnsku(self) -> str:
        """Amazon's fulfillment-network SKU of an FBA listing (X00…, derived from the listing id)."""
        return "X00" + self.listing_id[-7:].upper()


def stable_int(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


@dataclass
class World:
    seed: int = 7
    scale: float = 1.0
    clock: SandboxClock = field(default_factory=SandboxClock, compare=False, repr=False)  # business time
    client_id: str = field(init=False)
    client_secret: str = field(init=False)
    _listings: dict[tuple[str, str], list[Listing]] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.client_id = f"amzn1.application-oa2-client.sandbox{stable_int(self.seed, 'client') % 10**12:012d}"
        self.client_secret = f"amzn1.oa2-cs.v1.sandbox{stable_int(self.seed, 'secret'):x}"

    @cached_property
    def accounts(self) -> tuple[Account, ...]:
        def token(name: str) -> str:
            return f"Atzr|sandbox-{name}-{stable_int(self.seed, 'refresh', name):x}"

        return (
            Account(
                "demo-seller-na",
                "seller",
                f"A{stable_int(self.seed, 'na') % 10**12:012d}",
                "NA",
                ("ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"),
                token("na"),
            ),
            Account(
                "demo-seller-eu",
                "seller",
                f"A{stable_int(self.seed, 'eu') % 10**12:012d}",
                "EU",
                ("A1PA6795UKMFR9", "A1F83G8C2ARO7P"),
                token("eu"),
            ),
            Account(
                "demo-seller-fe",
                "seller",
                f"A{stable_int(self.seed, 'fe') % 10**12:012d}",
                "FE",
                ("A1VC38T7YXB528",),
                token("fe"),
            ),
            Account(
                "demo-vendor-na",
                "vendor",
                f"amzn1.vg.{stable_int(self.seed, 'vendor') % 10**7}",
                "NA",
                ("ATVPDKIKX0DER",),
                token("vendor"),
            ),
        )

    @cached_property
    def commerce(self) -> Commerce:
        """Orders, shipments, refunds, inventory, settlements and traffic of this world, generated per day."""
        from sandbox.commerce import Commerce  # noqa: PLC0415 - commerce builds on this module

        return Commerce(self)

    def now(self) -> datetime:
        """The world's current moment: every business fact a report shows is as of this."""
        return self.clock.now()

    def account(self, account_id: str) -> Account:
        return next(a for a in self.accounts if a.account_id == account_id)

    def account_for_refresh_token(self, refresh_token: str) -> Account | None:
        return next((a for a in self.accounts if a.refresh_token == refresh_token), None)

    @cached_property
    def products(self) -> tuple[Product, ...]:
        rng = random.Random(stable_int(self.seed, "products"))  # noqa: S311 - synthetic data, seeded on purpose
        count = max(1, round(60 * self.scale))
        products = []
        for i in range(count):
            name, category = PRODUCTS[i % len(PRODUCTS)]
            brand = BRANDS[rng.randrange(len(BRANDS))]
            variant = VARIANTS[rng.randrange(len(VARIANTS))]
            asin = "B0" + f"{stable_int(self.seed, 'asin', i):X}"[:8]
            price = Decimal(rng.randrange(599, 8999)) / 100
            products.append(Product(asin, brand, f"{brand} {name}, {variant}", category, price))
        return tuple(products)

    @cached_property
    def products_by_asin(self) -> dict[str, Product]:
        return {product.asin: product for product in self.products}

    def set_listing_status(self, account_id: str, marketplace_id: str, sku: str, status: str) -> Listing:
        """Change a listing's status (Active/Inactive): later reports and API calls see the change."""
        listings = self.listings(account_id, marketplace_id)
        index = next(i for i, listing in enumerate(listings) if listing.seller_sku == sku)
        listings[index] = replace(listings[index], status=status)
        return listings[index]

    def listings(self, account_id: str, marketplace_id: str) -> list[Listing]:
        """The seller's listings in a marketplace: a deterministic subset of the catalog (cached)."""
        key = (account_id, marketplace_id)
        if key not in self._listings:
            self._listings[key] = self._make_listings(account_id, marketplace_id)
        return self._listings[key]

    def _make_listings(self, account_id: str, marketplace_id: str) -> list[Listing]:
        account = self.account(account_id)
        if marketplace_id not in account.marketplace_ids or account.kind != "seller":
            return []
        market = MARKETPLACES[marketplace_id]
        rng = random.Random(stable_int(self.seed, "listings", account_id, marketplace_id))  # noqa: S311
        epoch = datetime(2022, 1, 1, tzinfo=UTC)
        rows = []
        for product in self.products:
            if rng.random() > 0.8:  # not every product is offered in every marketplace
                continue
            fba = rng.random() < 0.55
            rows.append(
                Listing(
                    seller_sku=f"{product.brand[:3].upper()}-{product.asin[-6:]}-{market.country_code}",
                    asin=product.asin,
                    marketplace_id=marketplace_id,
                    listing_id=f"{rng.randrange(10**9, 10**10)}{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}",
                    item_name=_local_title(product.title, market),
                    price=_local_price(product.base_price, market),
                    quantity=None if fba else rng.randrange(0, 500),
                    fulfillment_channel=market.fulfillment_channel_afn if fba else "DEFAULT",
                    opened_at=epoch + timedelta(seconds=rng.randrange(0, 3 * 365 * 86400)),
                    status="Active" if rng.random() < 0.9 else "Inactive",
                )
            )
        return rows


def _local_title(title: str, market: Marketplace) -> str:
    """Titles as the marketplace would show them; JP titles carry Japanese text and no Latin accents (not in cp932)."""
    if market.country_code != "JP":
        return title
    ascii_title = unicodedata.normalize("NFKD", title.replace("ß", "ss")).encode("ascii", "ignore").decode()
    return f"{ascii_title} 【正規品】"


def _local_price(usd: Decimal, market: Marketplace) -> Decimal:
    factor = {
        "USD": Decimal(1),
        "CAD": Decimal("1.36"),
        "EUR": Decimal("0.92"),
        "GBP": Decimal("0.79"),
        "JPY": Decimal(150),
    }[market.currency_code]
    exponent = Decimal(1) if market.currency_code == "JPY" else Decimal("0.01")
    return (usd * factor).quantize(exponent)

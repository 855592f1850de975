"""The synthetic world's commerce: orders, refunds, FBA inventory, settlements, traffic and vendor sales.

Everything is generated per (account, marketplace, UTC day) from a seeded RNG, so a report over any window is the
union of its days and agrees with every other report that covers the same days:
- units ordered per ASIN and day in the order reports == `unitsOrdered` in GET_SALES_AND_TRAFFIC_REPORT (both count
  the order lines that are not cancelled);
- each settlement's lines are the principal, tax and fees of the order lines shipped in its period, plus refunds,
  and its total is their sum.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import TYPE_CHECKING

from sandbox.marketplaces import MARKETPLACES
from sandbox.world import Listing, stable_int

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sandbox.world import Product, World

ORDERS_PER_DAY = 40  # per seller marketplace at scale 1
TAX_RATE = {
    "USD": Decimal("0.07"),
    "CAD": Decimal("0.13"),
    "EUR": Decimal("0.19"),
    "GBP": Decimal("0.20"),
    "JPY": Decimal("0.10"),
}
COMMISSION_RATE = Decimal("0.15")
FBA_FEE = {
    "USD": Decimal("3.22"),
    "CAD": Decimal("4.10"),
    "EUR": Decimal("2.95"),
    "GBP": Decimal("2.60"),
    "JPY": Decimal(420),
}
ORDER_PREFIX = {"US": "11", "CA": "70", "DE": "30", "UK": "20", "JP": "25"}
SALES_CHANNEL = {"US": "Amazon.com", "CA": "Amazon.ca", "DE": "Amazon.de", "UK": "Amazon.co.uk", "JP": "Amazon.co.jp"}
SETTLEMENT_DAYS = 14
SETTLEMENT_EPOCH = date(2024, 1, 1)  # settlement periods are 14-day blocks counted from here


@dataclass(frozen=True, slots=True)
class OrderLine:
    order_id: str
    order_item_id: str
    purchased_at: datetime
    last_updated_at: datetime
    status: str  # order status: Shipped, Pending or Cancelled
    listing: Listing
    quantity: int
    item_price: Decimal  # price * quantity
    item_tax: Decimal
    is_business: bool
    refunded: bool  # a shipped line the buyer returned (refund posted the day after shipping)

    @property
    def counts_as_ordered(self) -> bool:
        return self.status != "Cancelled"

    @property
    def shipped_at(self) -> datetime | None:
        return self.purchased_at + timedelta(hours=20) if self.status == "Shipped" else None

    @property
    def refunded_at(self) -> datetime | None:
        return self.purchased_at + timedelta(hours=44) if self.refunded else None

    @property
    def is_fba(self) -> bool:
        return self.listing.is_fba


@dataclass(frozen=True, slots=True)
class SettlementLine:
    transaction_type: str  # Order or Refund
    line: OrderLine
    amount_type: str  # ItemPrice or ItemFees
    amount_description: str  # Principal, Tax, Commission, FBAPerUnitFulfillmentFee, RefundCommission
    amount: Decimal
    posted_at: datetime


@dataclass(frozen=True)
class Settlement:
    settlement_id: str
    start: datetime
    end: datetime
    currency: str
    lines: list[SettlementLine]

    @property
    def deposit_date(self) -> datetime:
        return self.end + timedelta(days=1)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def day_range(start: datetime, end: datetime) -> Iterator[date]:
    day, last = start.astimezone(UTC).date(), end.astimezone(UTC).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def _seasonality(day: date) -> float:
    """Weekly rhythm, a yearly wave peaking in Q4, and a Prime Day spike in mid-July."""
    weekly = (1.0, 0.95, 0.95, 1.0, 1.05, 1.15, 1.1)[day.weekday()]
    yearly = 1.0 + 0.35 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 350) / 365)
    prime = 2.5 if day.month == 7 and 15 <= day.day <= 16 else 1.0
    return weekly * yearly * prime


def _poisson(rng: random.Random, mean: float) -> int:
    if mean > 50:  # normal approximation keeps large scales fast
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    threshold, count, product = math.exp(-mean), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


class Commerce:
    """Order-level facts of a World, generated on demand per day and cached."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._days: dict[tuple[str, str, date], list[OrderLine]] = {}
        self._popularity_cache: dict[tuple[str, str], list[float]] = {}

    def day_orders(self, account_id: str, marketplace_id: str, day: date) -> list[OrderLine]:
        key = (account_id, marketplace_id, day)
        if key not in self._days:
            self._days[key] = self._generate_day(account_id, marketplace_id, day)
        return self._days[key]

    def _popularity(self, account_id: str, marketplace_id: str, count: int) -> list[float]:
        """Cumulative sales weights of a seller's listings: a few best sellers and a long tail (Zipf-like)."""
        key = (account_id, marketplace_id)
        if key not in self._popularity_cache:
            self._popularity_cache[key] = list(accumulate(1.0 / (rank + 1) ** 0.8 for rank in range(count)))
        return self._popularity_cache[key]

    def _generate_day(self, account_id: str, marketplace_id: str, day: date) -> list[OrderLine]:
        listings = self.world.listings(account_id, marketplace_id)
        if not listings:
            return []
        market = MARKETPLACES[marketplace_id]
        rng = random.Random(f"{self.world.seed}|orders|{account_id}|{marketplace_id}|{day.isoformat()}")  # noqa: S311
        cumulative = self._popularity(account_id, marketplace_id, len(listings))
        start_of_day = midnight(day)
        count = _poisson(rng, ORDERS_PER_DAY * self.world.scale * _seasonality(day))
        tax_rate = TAX_RATE[market.currency_code]
        unit = Decimal(1) if market.currency_code == "JPY" else Decimal("0.01")
        prefix = ORDER_PREFIX[market.country_code]
        day_number = (day - date(2020, 1, 1)).days
        recent = (datetime.now(UTC).date() - day).days <= 1
        lines: list[OrderLine] = []
        for number in range(count):
            order_id = f"{prefix}{rng.randrange(1, 10)}-{day_number % 10**7:07d}-{number % 10**7:07d}"
            purchased = start_of_day + timedelta(seconds=rng.randrange(86400))
            roll = rng.random()
            status = "Cancelled" if roll < 0.05 else ("Pending" if recent and roll < 0.25 else "Shipped")
            business = rng.random() < 0.05
            items = rng.choices(listings, cum_weights=cumulative, k=1 if rng.random() < 0.75 else rng.randint(2, 3))
            for item_number, listing in enumerate(dict.fromkeys(items)):
                quantity = 1 if rng.random() < 0.8 else rng.randint(2, 4)
                price = listing.price * quantity
                lines.append(
                    OrderLine(
                        order_id=order_id,
                        order_item_id=f"{day_number:05d}{number:07d}{item_number:02d}",
                        purchased_at=purchased,
                        last_updated_at=purchased + timedelta(hours=rng.randint(1, 30)),
                        status=status,
                        listing=listing,
                        quantity=quantity,
                        item_price=price,
                        item_tax=(price * tax_rate).quantize(unit),
                        is_business=business,
                        refunded=status == "Shipped" and rng.random() < 0.04,
                    )
                )
        return lines

    def orders(
        self, account_id: str, marketplace_id: str, start: datetime, end: datetime, by: str = "purchase"
    ) -> list[OrderLine]:
        """Order lines purchased (or last updated, by="update") in [start, end)."""
        first = start - timedelta(days=2) if by == "update" else start
        selected = []
        for day in day_range(first, end):
            for line in self.day_orders(account_id, marketplace_id, day):
                moment = line.purchased_at if by == "purchase" else line.last_updated_at
                if start <= moment < end:
                    selected.append(line)
        return selected

    def shipped(self, account_id: str, marketplace_id: str, start: datetime, end: datetime) -> list[OrderLine]:
        """Order lines whose shipment happened in [start, end)."""
        lines = self.orders(account_id, marketplace_id, start - timedelta(days=1), end)
        return [line for line in lines if line.shipped_at is not None and start <= line.shipped_at < end]

    def settlement_periods(self, before: date, count: int) -> list[tuple[date, date]]:
        """The last `count` complete 14-day settlement periods ending on or before `before`."""
        index = (before - SETTLEMENT_EPOCH).days // SETTLEMENT_DAYS
        periods = []
        for back in range(count, 0, -1):
            start = SETTLEMENT_EPOCH + timedelta(days=(index - back) * SETTLEMENT_DAYS)
            periods.append((start, start + timedelta(days=SETTLEMENT_DAYS)))
        return periods

    def settlement(self, account_id: str, marketplace_id: str, period: tuple[date, date]) -> Settlement:
        """What Amazon pays out for a period: principal, tax and fees of the lines shipped in it, minus refunds."""
        start, end = midnight(period[0]), midnight(period[1])
        market = MARKETPLACES[marketplace_id]
        unit = Decimal(1) if market.currency_code == "JPY" else Decimal("0.01")
        fee = FBA_FEE[market.currency_code]
        lines: list[SettlementLine] = []
        for line in self.orders(account_id, marketplace_id, start - timedelta(days=2), end):
            commission = (line.item_price * COMMISSION_RATE).quantize(unit)
            if line.shipped_at is not None and start <= line.shipped_at < end:
                charges = [
                    ("ItemPrice", "Principal", line.item_price),
                    ("ItemPrice", "Tax", line.item_tax),
                    ("ItemFees", "Commission", -commission),
                ]
                if line.is_fba:
                    charges.append(("ItemFees", "FBAPerUnitFulfillmentFee", -fee * line.quantity))
                lines += [SettlementLine("Order", line, *charge, line.shipped_at) for charge in charges]
            if line.refunded_at is not None and start <= line.refunded_at < end:
                admin_fee = min((commission * Decimal("0.2")).quantize(unit), Decimal(500 if unit == 1 else 5))
                charges = [
                    ("ItemPrice", "Principal", -line.item_price),
                    ("ItemPrice", "Tax", -line.item_tax),
                    ("ItemFees", "Commission", commission),
                    ("ItemFees", "RefundCommission", -admin_fee),
                ]
                lines += [SettlementLine("Refund", line, *charge, line.refunded_at) for charge in charges]
        number = stable_int(self.world.seed, "settlement", account_id, marketplace_id, period[0])
        return Settlement(f"{number % 10**11:011d}", start, end, market.currency_code, lines)

    def fba_quantity(self, listing: Listing, day: date) -> tuple[int, int, int, int]:
        """(fulfillable, unsellable, reserved, inbound) units of an FBA listing on a day."""
        rng = random.Random(f"{self.world.seed}|fba|{listing.marketplace_id}|{listing.seller_sku}|{day}")  # noqa: S311
        fulfillable = rng.randrange(0, 400)
        return fulfillable, rng.randrange(0, 6), rng.randrange(0, 25), rng.randrange(0, 120)

    def sessions(self, listing: Listing, day: date, units: int) -> tuple[int, int]:
        """(browser sessions, mobile app sessions) of a listing's detail page: units / a conversion rate."""
        rng = random.Random(f"{self.world.seed}|traffic|{listing.marketplace_id}|{listing.asin}|{day}")  # noqa: S311
        total = max(units, round(units / rng.uniform(0.06, 0.14)) + rng.randrange(0, 30))
        browser = round(total * rng.uniform(0.3, 0.5))
        return browser, total - browser


@dataclass(frozen=True, slots=True)
class VendorDay:
    """One ASIN's day at a vendor (1P): what Amazon ordered from customers, shipped, saw and holds."""

    ordered_units: int
    shipped_units: int
    customer_returns: int
    glance_views: int
    sellable_on_hand: int
    unsellable_on_hand: int
    open_purchase_order_units: int
    net_received_units: int


def vendor_products(world: World) -> list[Product]:
    """The vendor sells every third product of the catalog to Amazon (deterministic)."""
    return list(world.products[::3])


def vendor_day(world: World, product: Product, day: date) -> VendorDay:
    rng = random.Random(f"{world.seed}|vendor|{product.asin}|{day}")  # noqa: S311
    ordered = _poisson(rng, 12 * _seasonality(day))
    shipped = max(0, ordered + rng.randint(-2, 2))
    return VendorDay(
        ordered_units=ordered,
        shipped_units=shipped,
        customer_returns=_poisson(rng, shipped * 0.03),
        glance_views=ordered * rng.randint(8, 15) + rng.randrange(0, 20),
        sellable_on_hand=rng.randrange(50, 900),
        unsellable_on_hand=rng.randrange(0, 8),
        open_purchase_order_units=rng.randrange(0, 300),
        net_received_units=rng.randrange(0, 120),
    )

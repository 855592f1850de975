"""The synthetic world's commerce: orders, refunds, FBA inventory, settlements, traffic and vendor sales.

Everything is generated per (account, marketplace, UTC day) from a seeded RNG, so a report over any window is the
union of its days and agrees with every other report that covers the same days. The world lives in time: each order
line carries a timeline fixed at generation, and every report shows the facts as of a moment `now` (the sandbox
clock when Amazon processes the request):
- an order line exists from its purchase time; it is Pending until it ships 6-30 h later, or, for about 5% of the
  orders, until it is cancelled 1-48 h after purchase; about 4% of the shipped lines are refunded 3-10 days after
  shipment; its last update is the latest of those events that happened by now;
- units ordered per ASIN and day in the order reports == `unitsOrdered` in GET_SALES_AND_TRAFFIC_REPORT (both count
  the lines placed by now and not cancelled as of now);
- a day's traffic grows towards its final value until 7 days after the day (`TRAFFIC_SHARE`);
- vendor figures of a day appear 72 h after the day starts and are restated until 7 days after it (`VENDOR_SHARE`);
- each settlement's lines are the principal, tax and fees of the order lines shipped in its period, plus refunds
  posted in it, and its total is their sum; a period is closed once its end has passed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import TYPE_CHECKING

from sandbox.marketplaces import MARKETPLACES
from sandbox.world import Listing, stable_int

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

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

# An order line's timeline (uniform draws in whole seconds from the line's seeded RNG).
CANCEL_RATE = 0.05  # share of orders cancelled instead of shipped
SHIP_DELAY = (timedelta(hours=6), timedelta(hours=30))  # purchase → shipment
CANCEL_DELAY = (timedelta(hours=1), timedelta(hours=48))  # purchase → cancellation
REFUND_RATE = 0.04  # share of shipped lines refunded
REFUND_DELAY = (timedelta(days=3), timedelta(days=10))  # shipment → refund
LAST_CHANGE = SHIP_DELAY[1] + REFUND_DELAY[1]  # nothing about a line changes later than this after its purchase
# Share of a day's final traffic reported n days after the day (n = 1..6; the day itself grows hour by hour towards
# the day-1 share; from 7 days on the figures are final).
TRAFFIC_SHARE = {1: 0.80, 2: 0.90, 3: 0.95, 4: 0.97, 5: 0.98, 6: 0.99}
RESTATEMENT_DAYS = 7
BUY_BOX_SHORTFALL = 5.0  # percentage points a day's buy-box share starts below its final value
VENDOR_DELAY = timedelta(hours=72)  # vendor figures of a day appear 72 h after the day starts
VENDOR_SHARE = {3: 0.90, 4: 0.94, 5: 0.97, 6: 0.99}  # share of a day's final vendor flows reported n days after


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One order line and its timeline, fixed at generation: purchased (Pending), then shipped or cancelled, maybe
    refunded later. What Amazon reports about it depends on the moment asked (`now`)."""

    order_id: str
    order_item_id: str
    purchased_at: datetime
    listing: Listing
    quantity: int
    item_price: Decimal  # price * quantity
    item_tax: Decimal
    is_business: bool
    ships_at: datetime | None  # when the order ships (None: it is cancelled instead)
    cancels_at: datetime | None  # when the order is cancelled (None: it ships)
    refunds_at: datetime | None  # when the buyer's refund posts (a few shipped lines)

    @property
    def is_fba(self) -> bool:
        return self.listing.is_fba

    def placed_by(self, now: datetime) -> bool:
        """Whether the order exists at `now`: no order exists before its purchase time."""
        return self.purchased_at <= now

    def status_at(self, now: datetime) -> str:
        """The order status as of `now`: Pending, Shipped or Cancelled."""
        if self.cancels_at is not None and self.cancels_at <= now:
            return "Cancelled"
        if self.ships_at is not None and self.ships_at <= now:
            return "Shipped"
        return "Pending"

    def counts_as_ordered(self, now: datetime) -> bool:
        return self.status_at(now) != "Cancelled"

    def shipped_at(self, now: datetime) -> datetime | None:
        return self.ships_at if self.ships_at is not None and self.ships_at <= now else None

    def cancelled_at(self, now: datetime) -> datetime | None:
        return self.cancels_at if self.cancels_at is not None and self.cancels_at <= now else None

    def refunded_at(self, now: datetime) -> datetime | None:
        return self.refunds_at if self.refunds_at is not None and self.refunds_at <= now else None

    def last_updated_at(self, now: datetime) -> datetime:
        """The latest event of the line that happened by `now` (its purchase at least)."""
        events = (self.shipped_at(now), self.cancelled_at(now), self.refunded_at(now))
        return max((moment for moment in events if moment is not None), default=self.purchased_at)


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


@dataclass(frozen=True, slots=True)
class Traffic:
    """A listing's detail-page traffic on one day, as reported at some moment."""

    browser_sessions: int
    mobile_sessions: int
    buy_box_percentage: float

    @property
    def sessions(self) -> int:
        return self.browser_sessions + self.mobile_sessions


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


def traffic_share(day: date, now: datetime) -> float:
    """The share of a day's final traffic reported at `now`: 0 before the day, growing hour by hour during it towards
    TRAFFIC_SHARE[1], then TRAFFIC_SHARE[n] n days after it, and 1 (final) from RESTATEMENT_DAYS days after it."""
    age = (now.astimezone(UTC).date() - day).days
    if age < 0:
        return 0.0
    if age == 0:
        hours = (now - midnight(day)) // timedelta(hours=1)
        return TRAFFIC_SHARE[1] * hours / 24
    return TRAFFIC_SHARE.get(age, 1.0)


def settlement_period_of(day: date) -> tuple[date, date]:
    """The 14-day settlement period [start, end) a day falls in."""
    start = SETTLEMENT_EPOCH + timedelta(days=(day - SETTLEMENT_EPOCH).days // SETTLEMENT_DAYS * SETTLEMENT_DAYS)
    return start, start + timedelta(days=SETTLEMENT_DAYS)


def closed_settlement_periods(first: date, now: datetime) -> list[tuple[date, date]]:
    """Settlement periods from the one holding `first` on whose end (00:00 UTC) has passed by `now`, oldest first."""
    periods = []
    start, end = settlement_period_of(first)
    while midnight(end) <= now:
        periods.append((start, end))
        start, end = end, end + timedelta(days=SETTLEMENT_DAYS)
    return periods


def _delay(rng: random.Random, bounds: tuple[timedelta, timedelta]) -> timedelta:
    low, high = (int(bound.total_seconds()) for bound in bounds)
    return timedelta(seconds=rng.randrange(low, high))


class Commerce:
    """Order-level facts of a World, generated on demand per day and cached (the timeline of every line is fixed
    at generation, so a day is generated once however often the clock moves)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._days: dict[tuple[str, str, date], list[OrderLine]] = {}
        self._popularity_cache: dict[tuple[str, str], list[float]] = {}
        self._final_traffic: dict[tuple[str, str, date], dict[str, Traffic]] = {}

    def day_orders(self, account_id: str, marketplace_id: str, day: date) -> list[OrderLine]:
        """Every order line purchased on a UTC day, with its whole timeline: including lines purchased after any
        given now (callers filter with `placed_by`, or use `placed`)."""
        key = (account_id, marketplace_id, day)
        if key not in self._days:
            self._days[key] = self._generate_day(account_id, marketplace_id, day)
        return self._days[key]

    def placed(self, account_id: str, marketplace_id: str, day: date, now: datetime) -> list[OrderLine]:
        """The order lines purchased on a day that exist at `now`."""
        return [line for line in self.day_orders(account_id, marketplace_id, day) if line.placed_by(now)]

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
        lines: list[OrderLine] = []
        for number in range(count):
            order_id = f"{prefix}{rng.randrange(1, 10)}-{day_number % 10**7:07d}-{number % 10**7:07d}"
            purchased = start_of_day + timedelta(seconds=rng.randrange(86400))
            cancelled = rng.random() < CANCEL_RATE
            business = rng.random() < 0.05
            items = rng.choices(listings, cum_weights=cumulative, k=1 if rng.random() < 0.75 else rng.randint(2, 3))
            ships_at = None if cancelled else purchased + _delay(rng, SHIP_DELAY)
            cancels_at = purchased + _delay(rng, CANCEL_DELAY) if cancelled else None
            for item_number, listing in enumerate(dict.fromkeys(items)):
                quantity = 1 if rng.random() < 0.8 else rng.randint(2, 4)
                price = listing.price * quantity
                refunded = ships_at is not None and rng.random() < REFUND_RATE
                lines.append(
                    OrderLine(
                        order_id=order_id,
                        order_item_id=f"{day_number:05d}{number:07d}{item_number:02d}",
                        purchased_at=purchased,
                        listing=listing,
                        quantity=quantity,
                        item_price=price,
                        item_tax=(price * tax_rate).quantize(unit),
                        is_business=business,
                        ships_at=ships_at,
                        cancels_at=cancels_at,
                        refunds_at=ships_at + _delay(rng, REFUND_DELAY) if refunded and ships_at else None,
                    )
                )
        return lines

    def _lines_purchased(
        self, account_id: str, marketplace_id: str, first: datetime, end: datetime, now: datetime
    ) -> Iterator[OrderLine]:
        """Lines placed by `now` whose purchase day lies from first's day to end's day (a superset to filter)."""
        for day in day_range(first, min(end, now)):
            for line in self.day_orders(account_id, marketplace_id, day):
                if line.placed_by(now):
                    yield line

    def orders(
        self,
        account_id: str,
        marketplace_id: str,
        start: datetime,
        end: datetime,
        now: datetime,
        by: str = "purchase",
    ) -> list[OrderLine]:
        """Order lines placed by `now` and purchased (by="purchase") or last updated as of now (by="update") in
        [start, end)."""
        if by == "purchase":
            lines = self._lines_purchased(account_id, marketplace_id, start, end, now)
            return [line for line in lines if start <= line.purchased_at < end]
        return self._events(account_id, marketplace_id, start, end, now, LAST_CHANGE, lambda x: x.last_updated_at(now))

    def _events(
        self,
        account_id: str,
        marketplace_id: str,
        start: datetime,
        end: datetime,
        now: datetime,
        lookback: timedelta,
        moment: Callable[[OrderLine], datetime | None],
    ) -> list[OrderLine]:
        selected = []
        for line in self._lines_purchased(account_id, marketplace_id, start - lookback, end, now):
            when = moment(line)
            if when is not None and start <= when < end:
                selected.append(line)
        return selected

    def shipped(
        self, account_id: str, marketplace_id: str, start: datetime, end: datetime, now: datetime
    ) -> list[OrderLine]:
        """Order lines whose shipment happened in [start, end), by `now`."""
        return self._events(account_id, marketplace_id, start, end, now, SHIP_DELAY[1], lambda x: x.shipped_at(now))

    def refunded(
        self, account_id: str, marketplace_id: str, start: datetime, end: datetime, now: datetime
    ) -> list[OrderLine]:
        """Order lines whose refund posted in [start, end), by `now`."""
        return self._events(account_id, marketplace_id, start, end, now, LAST_CHANGE, lambda x: x.refunded_at(now))

    def settlement_periods(self, before: date, count: int) -> list[tuple[date, date]]:
        """The last `count` complete 14-day settlement periods ending on or before `before`."""
        index = (before - SETTLEMENT_EPOCH).days // SETTLEMENT_DAYS
        periods = []
        for back in range(count, 0, -1):
            start = SETTLEMENT_EPOCH + timedelta(days=(index - back) * SETTLEMENT_DAYS)
            periods.append((start, start + timedelta(days=SETTLEMENT_DAYS)))
        return periods

    def settlement(self, account_id: str, marketplace_id: str, period: tuple[date, date], now: datetime) -> Settlement:
        """What Amazon pays out for a period: principal, tax and fees of the lines shipped in it, minus refunds
        posted in it (events by `now` only: a closed period's settlement no longer changes)."""
        start, end = midnight(period[0]), midnight(period[1])
        market = MARKETPLACES[marketplace_id]
        unit = Decimal(1) if market.currency_code == "JPY" else Decimal("0.01")
        fee = FBA_FEE[market.currency_code]
        lines: list[SettlementLine] = []
        for line in self._lines_purchased(account_id, marketplace_id, start - LAST_CHANGE, end, now):
            commission = (line.item_price * COMMISSION_RATE).quantize(unit)
            shipped_at, refunded_at = line.shipped_at(now), line.refunded_at(now)
            if shipped_at is not None and start <= shipped_at < end:
                charges = [
                    ("ItemPrice", "Principal", line.item_price),
                    ("ItemPrice", "Tax", line.item_tax),
                    ("ItemFees", "Commission", -commission),
                ]
                if line.is_fba:
                    charges.append(("ItemFees", "FBAPerUnitFulfillmentFee", -fee * line.quantity))
                lines += [SettlementLine("Order", line, *charge, shipped_at) for charge in charges]
            if refunded_at is not None and start <= refunded_at < end:
                admin_fee = min((commission * Decimal("0.2")).quantize(unit), Decimal(500 if unit == 1 else 5))
                charges = [
                    ("ItemPrice", "Principal", -line.item_price),
                    ("ItemPrice", "Tax", -line.item_tax),
                    ("ItemFees", "Commission", commission),
                    ("ItemFees", "RefundCommission", -admin_fee),
                ]
                lines += [SettlementLine("Refund", line, *charge, refunded_at) for charge in charges]
        number = stable_int(self.world.seed, "settlement", account_id, marketplace_id, period[0])
        return Settlement(f"{number % 10**11:011d}", start, end, market.currency_code, lines)

    def fba_quantity(self, listing: Listing, day: date) -> tuple[int, int, int, int]:
        """(fulfillable, unsellable, reserved, inbound) units of an FBA listing on a day."""
        rng = random.Random(f"{self.world.seed}|fba|{listing.marketplace_id}|{listing.seller_sku}|{day}")  # noqa: S311
        fulfillable = rng.randrange(0, 400)
        return fulfillable, rng.randrange(0, 6), rng.randrange(0, 25), rng.randrange(0, 120)

    def listing_quantity(self, listing: Listing, day: date) -> int | None:
        """The quantity an MFN listing offers on a day (the seller's own stock moves daily); None for FBA listings,
        whose quantity Amazon leaves empty in the listings report."""
        if listing.quantity is None:
            return None
        rng = random.Random(f"{self.world.seed}|mfn|{listing.marketplace_id}|{listing.seller_sku}|{day}")  # noqa: S311
        return max(0, listing.quantity + rng.randint(-25, 25))

    def sessions(self, listing: Listing, day: date, units: int) -> tuple[int, int]:
        """(browser sessions, mobile app sessions) of a listing's detail page: units / a conversion rate."""
        rng = random.Random(f"{self.world.seed}|traffic|{listing.marketplace_id}|{listing.asin}|{day}")  # noqa: S311
        total = max(units, round(units / rng.uniform(0.06, 0.14)) + rng.randrange(0, 30))
        browser = round(total * rng.uniform(0.3, 0.5))
        return browser, total - browser

    def final_traffic(self, account_id: str, marketplace_id: str, day: date) -> dict[str, Traffic]:
        """Each listed ASIN's final traffic of a day (what Amazon reports from RESTATEMENT_DAYS days after it): its
        sessions follow the units of the day's lines that are never cancelled."""
        key = (account_id, marketplace_id, day)
        if key not in self._final_traffic:
            units: dict[str, int] = {}
            for line in self.day_orders(account_id, marketplace_id, day):
                if line.cancels_at is None:
                    units[line.listing.asin] = units.get(line.listing.asin, 0) + line.quantity
            traffic = {}
            for listing in self.world.listings(account_id, marketplace_id):
                browser, mobile = self.sessions(listing, day, units.get(listing.asin, 0))
                seed = f"{self.world.seed}|buybox|{listing.marketplace_id}|{listing.asin}|{day}"
                buy_box = round(random.Random(seed).uniform(90.0, 100.0), 2)  # noqa: S311
                traffic[listing.asin] = Traffic(browser, mobile, buy_box)
            self._final_traffic[key] = traffic
        return self._final_traffic[key]

    def traffic(self, account_id: str, marketplace_id: str, day: date, now: datetime) -> dict[str, Traffic]:
        """Each listed ASIN's traffic of a day as Amazon reports it at `now`: sessions are the final ones times
        `traffic_share(day, now)` (rounded), the buy-box share starts BUY_BOX_SHORTFALL points below its final value
        and closes the gap in the same proportion."""
        share = traffic_share(day, now)
        final = self.final_traffic(account_id, marketplace_id, day)
        if share == 1.0:
            return final
        return {
            asin: Traffic(
                round(figures.browser_sessions * share),
                round(figures.mobile_sessions * share),
                round(figures.buy_box_percentage - (1 - share) * BUY_BOX_SHORTFALL, 2),
            )
            for asin, figures in final.items()
        }


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


def vendor_available(day: date, now: datetime) -> bool:
    """Whether Amazon reports vendor figures of a day at `now`: VENDOR_DELAY after the day starts."""
    return now >= midnight(day) + VENDOR_DELAY


def vendor_day_as_of(world: World, product: Product, day: date, now: datetime) -> VendorDay | None:
    """An ASIN's vendor day as reported at `now`: None until VENDOR_DELAY after the day starts, then the flows
    (ordered, shipped, returned, glance views, received) at VENDOR_SHARE[n] of their final value n days after the
    day, final from RESTATEMENT_DAYS days on; on-hand and open purchase-order units are final once reported."""
    if not vendor_available(day, now):
        return None
    final = vendor_day(world, product, day)
    share = VENDOR_SHARE.get((now.astimezone(UTC).date() - day).days, 1.0)
    if share == 1.0:
        return final
    return replace(
        final,
        ordered_units=round(final.ordered_units * share),
        shipped_units=round(final.shipped_units * share),
        customer_returns=round(final.customer_returns * share),
        glance_views=round(final.glance_views * share),
        net_received_units=round(final.net_received_units * share),
    )

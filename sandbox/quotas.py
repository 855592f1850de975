"""Usage plans (rate per second, burst) from the official models, enforced per (account, operation)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class UsagePlan:
    rate: float
    burst: int


# From each operation's "Usage Plan" table in contracts/spapi-models (see SPAPI-NOTES.md §2).
USAGE_PLANS: dict[str, UsagePlan] = {
    "createReport": UsagePlan(0.0167, 15),
    "getReport": UsagePlan(2.0, 15),
    "getReports": UsagePlan(0.0222, 10),
    "cancelReport": UsagePlan(0.0222, 10),
    "getReportDocument": UsagePlan(0.0167, 15),
    "createReportSchedule": UsagePlan(0.0222, 10),
    "getReportSchedules": UsagePlan(0.0222, 10),
    "getReportSchedule": UsagePlan(0.0222, 10),
    "cancelReportSchedule": UsagePlan(0.0222, 10),
    "searchCatalogItems": UsagePlan(2.0, 2),
    "getCatalogItem": UsagePlan(2.0, 2),
    "getListingsItem": UsagePlan(5.0, 10),
    "searchListingsItems": UsagePlan(5.0, 5),
    "getMarketplaceParticipations": UsagePlan(0.016, 15),
    "createDestination": UsagePlan(1.0, 5),
    "getDestinations": UsagePlan(1.0, 5),
    "createSubscription": UsagePlan(1.0, 5),
    "getSubscription": UsagePlan(1.0, 5),
    "getDestination": UsagePlan(1.0, 5),
    "deleteDestination": UsagePlan(1.0, 5),
    "getSubscriptionById": UsagePlan(1.0, 5),
    "deleteSubscriptionById": UsagePlan(1.0, 5),
}


class QuotaEnforcer:
    """A token bucket per (account, operation); `time_scale` multiplies every rate, as it speeds the sandbox clock."""

    def __init__(self, time_scale: float = 1.0, enabled: bool = True) -> None:
        self.time_scale = time_scale
        self.enabled = enabled
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # key → (tokens, updated)
        self._lock = threading.Lock()

    def plan(self, operation: str) -> UsagePlan:
        return USAGE_PLANS[operation]

    def allow(self, account: str, operation: str) -> bool:
        if not self.enabled:
            return True
        plan = USAGE_PLANS[operation]
        rate = plan.rate * self.time_scale
        now = time.monotonic()
        with self._lock:
            tokens, updated = self._buckets.get((account, operation), (float(plan.burst), now))
            tokens = min(float(plan.burst), tokens + (now - updated) * rate)
            allowed = tokens >= 1.0
            self._buckets[(account, operation)] = (tokens - 1.0 if allowed else tokens, now)
        return allowed

    def header_rate(self, operation: str) -> str:
        """What x-amzn-RateLimit-Limit says: the (scaled) rate applied to this operation."""
        return f"{USAGE_PLANS[operation].rate * self.time_scale:g}"

"""All sandbox state, independent of HTTP, so tests and the inspection endpoint can read its ground truth."""

from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass, field
from datetime import date

from sandbox.clock import SandboxClock
from sandbox.faults import Faults
from sandbox.lwa import TokenIssuer
from sandbox.notifications import NotificationHub
from sandbox.quotas import QuotaEnforcer
from sandbox.reports import Report, ReportStore
from sandbox.world import Listing, World

DOCUMENT_URL_TTL_S = 300  # "This URL expires after 5 minutes."


@dataclass
class SandboxConfig:
    seed: int = 7
    scale: float = 1.0
    time_scale: float = 1.0
    token_lifetime_s: int = 3600
    document_url_ttl_s: float = DOCUMENT_URL_TTL_S
    rate_limits: bool = True
    faults: Faults = field(default_factory=Faults)
    url_secret: bytes = b""
    start: date | None = None  # the world starts at this date's 00:00 UTC (None: it follows process time)


class Sandbox:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.clock = SandboxClock.starting_at(config.start)  # business time: every fact is as of clock.now()
        self.world = World(config.seed, config.scale, self.clock)
        self.lwa = TokenIssuer(self.world, config.token_lifetime_s, config.faults)
        self.quotas = QuotaEnforcer(config.time_scale, enabled=config.rate_limits)
        self.notifications = NotificationHub(config.faults)
        self.reports = ReportStore(self.world, config.time_scale, config.faults, on_finished=self._report_finished)
        self.url_secret = config.url_secret or hashlib.sha256(f"url-{config.seed}".encode()).digest()
        self._calls: dict[str, int] = {}
        self._calls_lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    @property
    def faults(self) -> Faults:
        return self.config.faults

    def set_faults(self, faults: Faults) -> None:
        """Change the faults in force (tests switch them on around one step)."""
        self.config.faults = faults
        self.lwa.faults = self.notifications.faults = self.reports.faults = faults

    def call_number(self, operation: str) -> int:
        """The n-th call of an operation: the key faults are decided on."""
        with self._calls_lock:
            self._calls[operation] = self._calls.get(operation, 0) + 1
            return self._calls[operation]

    def calls(self) -> int:
        """How many SP-API calls (every operation, retries included) the sandbox has answered or refused."""
        with self._calls_lock:
            return sum(count for name, count in self._calls.items() if not name.startswith("download "))

    def created_reports(self) -> int:
        """How many reports createReport has created (the settlements Amazon generates are not counted)."""
        return sum(1 for report in list(self.reports.reports.values()) if not report.scheduled)

    def fault_counts(self) -> dict[str, int]:
        """How many times each fault has been injected so far."""
        return dict(self.faults.injected)

    def sign(self, document_id: str, expires: int) -> str:
        return hmac.new(self.url_secret, f"{document_id}:{expires}".encode(), hashlib.sha256).hexdigest()

    def change_listing(self, account_id: str, marketplace_id: str, sku: str, status: str) -> Listing:
        listing = self.world.set_listing_status(account_id, marketplace_id, sku, status)
        self.notifications.listing_changed(account_id, self.world.account(account_id).selling_partner_id, listing)
        return listing

    def _report_finished(self, report: Report) -> None:
        account = self.world.account(report.request.account_id)
        self.notifications.report_finished(account.account_id, account.selling_partner_id, self.reports.as_json(report))

    def start_ticker(self, interval_s: float = 0.05) -> None:
        """Finish due reports and send due notifications in the background, as Amazon does."""

        def run() -> None:
            while not self._stop.wait(interval_s):
                self.reports.finish_due()
                self.notifications.flush_due()

        self._ticker = threading.Thread(target=run, name="sandbox-ticker", daemon=True)
        self._ticker.start()

    def stop_ticker(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)

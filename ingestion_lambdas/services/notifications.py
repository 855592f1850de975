"""Notifications: subscribing every account (idempotently), and routing what arrives on the queue.

REPORT_PROCESSING_FINISHED starts the LandReport execution named after the reportId, so a duplicated notification
starts nothing new. A listings notification refreshes that SKU in the raw zone.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, assert_never

from botocore.exceptions import ClientError

from ingestion_lambdas.events import LandReportInput, ListingsItemNotification, ReportProcessingFinishedNotification

if TYPE_CHECKING:
    from ingestion_lambdas.events import Notification, ReportProcessingFinished
    from ingestion_lambdas.services.accounts import SpApiClients
    from ingestion_lambdas.services.catalog_listings import CatalogAndListings
    from ingestion_lambdas.services.ledger import Ledger
    from ingestion_lambdas.settings import Settings

logger = logging.getLogger(__name__)
REPORT_FINISHED = "REPORT_PROCESSING_FINISHED"
LISTINGS_TYPES = ("LISTINGS_ITEM_STATUS_CHANGE", "LISTINGS_ITEM_ISSUES_CHANGE")
SUBSCRIPTIONS = {"seller": (REPORT_FINISHED, *LISTINGS_TYPES), "vendor": (REPORT_FINISHED,)}
DESTINATION_NAME = "spapi-lake"


class Subscriber:
    def __init__(self, clients: SpApiClients, settings: Settings) -> None:
        self.clients = clients
        self.settings = settings

    def subscribe_all(self, queue_arn: str | None = None) -> dict[str, list[str]]:
        """One SQS destination per region (reused if it exists) and every account's subscriptions, delivered to
        `queue_arn` (default: the pipeline's queue)."""
        queue_arn = queue_arn or self.settings.queue_arn
        destinations: dict[str, str] = {}
        subscribed: dict[str, list[str]] = {}
        for account in self.clients.accounts().values():
            api = self.clients.notifications(account.account_id)
            if account.region not in destinations:
                existing = [d for d in api.destinations() if d.queue_arn == queue_arn]
                destination = existing[0] if existing else api.create_destination(DESTINATION_NAME, queue_arn)
                destinations[account.region] = destination.destination_id
            for notification_type in SUBSCRIPTIONS[account.kind]:
                api.ensure_subscription(notification_type, destinations[account.region])
            subscribed[account.account_id] = list(SUBSCRIPTIONS[account.kind])
        return subscribed


class NotificationRouter:
    def __init__(self, sfn: Any, land_state_machine_arn: str, ledger: Ledger, catalog: CatalogAndListings) -> None:
        self.sfn = sfn
        self.land_state_machine_arn = land_state_machine_arn
        self.ledger = ledger
        self.catalog = catalog

    def route(self, notification: Notification) -> str:
        """Act on one notification.

        Args:
            notification: the parsed body (`events.parse_notification`, or `events.NotificationRecord.body`).

        Returns:
            What was done: "landing started", "duplicate" (LandReport already started for it), "not ours" (a report
            this pipeline did not request) or "listing refreshed".

        Raises:
            Whatever starting the execution or fetching the listing raises; the message is then retried and, in the
            end, kept in the dead-letter queue.
        """
        if isinstance(notification, ReportProcessingFinishedNotification):
            outcome = self._report_finished(notification.payload.report_processing_finished_notification)
        elif isinstance(notification, ListingsItemNotification):
            item = notification.payload
            self.catalog.refresh_listing(item.seller_id, item.sku, item.marketplace_id)
            outcome = "listing refreshed"
        else:
            assert_never(notification)
        logger.info("notification %s (%s): %s", notification.notification_metadata.notification_id,
                    notification.notification_type, outcome)  # fmt: skip
        return outcome

    def _report_finished(self, finished: ReportProcessingFinished) -> str:
        if self.ledger.by_report_id(finished.report_id) is None:
            logger.info("report %s (%s) was not requested by this pipeline", finished.report_id, finished.report_type)
            return "not ours"
        return start_landing(self.sfn, self.land_state_machine_arn, f"land-{finished.report_id}", finished.report_id)


def start_landing(sfn: Any, state_machine_arn: str, name: str, report_id: str) -> str:
    """Start LandReport under a name made of natural ids: the same name twice starts one execution. The input names
    the execution too, so the landing's log lines carry it (`$$.Execution.Name` in the ASL would say the same, but
    moto's ASL interpreter reads no context object, and the same input for the same name keeps the start idempotent).
    """
    try:
        landing = LandReportInput(report_id=report_id, execution_name=name)
        sfn.start_execution(stateMachineArn=state_machine_arn, name=name, input=landing.model_dump_json())
    except ClientError as err:
        if err.response["Error"]["Code"] != "ExecutionAlreadyExists":
            raise
        return "duplicate"
    return "landing started"

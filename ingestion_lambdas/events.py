"""Pydantic models for events: the SP-API notifications on the queue, and each state machine's input and output.

Notifications follow Amazon's payload schemas in `contracts/spapi-models/notification-schema_*.json`. What the pipeline
acts on is required (the notification id, reportId; SellerId, Sku and MarketplaceId); the schemas' other fields are
typed but optional, and fields Amazon adds later are kept (`extra="allow"`), so neither breaks a record.

State-machine models carry snake_case keys, the names the ASL files in `statemachines/` select with JSONPath.

Example:
    >>> notification = parse_notification(sqs_record_body)
    >>> isinstance(notification, ReportProcessingFinishedNotification)
    True
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, TypeAlias

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Json, Tag, TypeAdapter
from pydantic.alias_generators import to_camel, to_pascal
from pydantic_core import PydanticCustomError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

# Notifications ---------------------------------------------------------------------------------------------------


class _CamelCaseModel(BaseModel):
    """REPORT_PROCESSING_FINISHED spells its keys in camelCase."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, extra="allow", frozen=True)


class _PascalCaseModel(BaseModel):
    """LISTINGS_ITEM_* notifications spell their keys in PascalCase."""

    model_config = ConfigDict(alias_generator=to_pascal, validate_by_name=True, extra="allow", frozen=True)


class NotificationMetadata(_CamelCaseModel):
    """`notificationMetadata`; `notificationId` is the natural id of one delivery (SQS may deliver it twice)."""

    notification_id: str
    application_id: str | None = None
    subscription_id: str | None = None
    publish_time: datetime | None = None


class ListingsNotificationMetadata(_PascalCaseModel):
    """`NotificationMetadata` of the LISTINGS_ITEM_* notifications."""

    notification_id: str
    application_id: str | None = None
    subscription_id: str | None = None
    publish_time: datetime | None = None


class ReportProcessingFinished(_CamelCaseModel):
    """`payload.reportProcessingFinishedNotification`: a report reached DONE, CANCELLED or FATAL."""

    report_id: str
    report_type: str | None = None
    processing_status: Literal["CANCELLED", "DONE", "FATAL"] | None = None
    account_id: str | None = None  # merchant customer id or vendor group id (amzn1.vg....)
    seller_id: str | None = None  # null for vendor groups
    report_document_id: str | None = None


class ReportProcessingFinishedPayload(_CamelCaseModel):
    report_processing_finished_notification: ReportProcessingFinished


class ReportProcessingFinishedNotification(_CamelCaseModel):
    """REPORT_PROCESSING_FINISHED, payload version 2020-09-04."""

    notification_type: Literal["REPORT_PROCESSING_FINISHED"]
    payload_version: Literal["2020-09-04"]
    notification_version: str | None = None
    event_time: datetime | None = None
    payload: ReportProcessingFinishedPayload
    notification_metadata: NotificationMetadata


class ListingsItemPayload(_PascalCaseModel):
    """What every LISTINGS_ITEM_* payload names: the listings item (the schemas make MarketplaceId optional; a SKU is
    fetched per marketplace, so this pipeline requires it)."""

    seller_id: str
    sku: str
    marketplace_id: str
    asin: str | None = None


Severity = Literal["NONE", "ERROR", "WARNING"]


class ListingsItemStatusChangePayload(ListingsItemPayload):
    created_date: datetime | None = None
    status: list[Literal["BUYABLE", "DISCOVERABLE", "DELETED"]] = []


class ListingsItemIssuesChangePayload(ListingsItemPayload):
    """Payload version 1.0: SEARCH_SUPPRESSED is the only enforcement action."""

    severities: list[Severity] = []
    enforcement_actions: list[Literal["SEARCH_SUPPRESSED"]] = []


class ListingsItemIssuesChangePayload20231213(ListingsItemPayload):
    """Payload version 2023-12-13: enforcement actions are open-ended (LISTING_SUPPRESSED, ATTRIBUTE_SUPPRESSED,
    CATALOG_ITEM_REMOVED, SEARCH_SUPPRESSED so far)."""

    severities: list[Severity] = []
    enforcement_actions: list[str] = []


class ListingsItemNotification(_PascalCaseModel):
    """The envelope every LISTINGS_ITEM_* notification shares; each one refreshes its listings item."""

    notification_type: str
    payload_version: str
    notification_version: str | None = None
    event_time: datetime | None = None
    payload: ListingsItemPayload
    notification_metadata: ListingsNotificationMetadata


class ListingsItemStatusChangeNotification(ListingsItemNotification):
    """LISTINGS_ITEM_STATUS_CHANGE, payload version 1.0. The schema's enum spells the message type with a D, its own
    example and the subscription without: both arrive."""

    notification_type: Literal["LISTINGS_ITEM_STATUS_CHANGE", "LISTINGS_ITEM_STATUS_CHANGED"]
    payload_version: Literal["1.0"]
    payload: ListingsItemStatusChangePayload


class ListingsItemIssuesChangeNotification(ListingsItemNotification):
    """LISTINGS_ITEM_ISSUES_CHANGE, payload version 1.0."""

    notification_type: Literal["LISTINGS_ITEM_ISSUES_CHANGE"]
    payload_version: Literal["1.0"]
    payload: ListingsItemIssuesChangePayload


class ListingsItemIssuesChangeNotification20231213(ListingsItemNotification):
    """LISTINGS_ITEM_ISSUES_CHANGE, payload version 2023-12-13."""

    notification_type: Literal["LISTINGS_ITEM_ISSUES_CHANGE"]
    payload_version: Literal["2023-12-13"]
    payload: ListingsItemIssuesChangePayload20231213


# (subscription type, payload version) -> the model of that notification. A type or version not in this table is
# refused: its shape is unknown.
NOTIFICATION_MODELS: Final[Mapping[tuple[str, str], type[BaseModel]]] = {
    ("REPORT_PROCESSING_FINISHED", "2020-09-04"): ReportProcessingFinishedNotification,
    ("LISTINGS_ITEM_STATUS_CHANGE", "1.0"): ListingsItemStatusChangeNotification,
    ("LISTINGS_ITEM_ISSUES_CHANGE", "1.0"): ListingsItemIssuesChangeNotification,
    ("LISTINGS_ITEM_ISSUES_CHANGE", "2023-12-13"): ListingsItemIssuesChangeNotification20231213,
}
# Message types spelled otherwise than their subscription (see ListingsItemStatusChangeNotification).
MESSAGE_TYPES: Final[Mapping[str, str]] = {"LISTINGS_ITEM_STATUS_CHANGED": "LISTINGS_ITEM_STATUS_CHANGE"}


def notification_key(body: Mapping[str, Any]) -> tuple[str, str]:
    """The `NOTIFICATION_MODELS` key of a notification body: its subscription type and payload version ("" where the
    body has none).

    Args:
        body: the decoded JSON body; camelCase (`notificationType`) or PascalCase (`NotificationType`) keys.

    Returns:
        `(notification type, payload version)`, with the type spelled as its subscription.
    """
    if "notificationType" in body:
        kind, version = body.get("notificationType"), body.get("payloadVersion")
    else:
        kind, version = body.get("NotificationType"), body.get("PayloadVersion")
    kind_text = "" if kind is None else str(kind)
    return MESSAGE_TYPES.get(kind_text, kind_text), "" if version is None else str(version)


def _model_tag(body: Any) -> str | None:
    """The union tag (the model's class name) of a body, or of an already built notification."""
    if isinstance(body, BaseModel):
        return type(body).__name__
    model = NOTIFICATION_MODELS.get(notification_key(body)) if isinstance(body, dict) else None
    return model.__name__ if model is not None else None


def _known_notification(body: object) -> object:
    """Refuse, with a reason that names it, a body whose type and version are not in `NOTIFICATION_MODELS`."""
    if isinstance(body, BaseModel):
        return body
    if not isinstance(body, dict):
        raise PydanticCustomError(
            "notification_not_an_object", "a notification is a JSON object, not a {json_type}",
            {"json_type": type(body).__name__},
        )  # fmt: skip
    kind, version = notification_key(body)
    if not kind:
        raise PydanticCustomError("unknown_notification", "the body has no notificationType (nor NotificationType)")
    if (kind, version) not in NOTIFICATION_MODELS:
        raise PydanticCustomError(
            "unknown_notification",
            "notification type {notification_type} with payload version {payload_version} is not one this pipeline "
            "subscribes to (known: {known})",
            {"notification_type": repr(kind), "payload_version": repr(version),
             "known": ", ".join(f"{k} {v}" for k, v in NOTIFICATION_MODELS)},
        )  # fmt: skip
    return body


Notification: TypeAlias = Annotated[
    Annotated[ReportProcessingFinishedNotification, Tag(ReportProcessingFinishedNotification.__name__)]
    | Annotated[ListingsItemStatusChangeNotification, Tag(ListingsItemStatusChangeNotification.__name__)]
    | Annotated[ListingsItemIssuesChangeNotification, Tag(ListingsItemIssuesChangeNotification.__name__)]
    | Annotated[
        ListingsItemIssuesChangeNotification20231213, Tag(ListingsItemIssuesChangeNotification20231213.__name__)
    ],
    Discriminator(_model_tag),
    BeforeValidator(_known_notification),
]
_NOTIFICATION: TypeAdapter[Notification] = TypeAdapter(Notification, config=ConfigDict(title="Notification"))


def parse_notification(body: str | bytes | Mapping[str, Any]) -> Notification:
    """One notification body, as its model (picked from `NOTIFICATION_MODELS` by the body's type and version).

    Args:
        body: the SQS message body (JSON text) or its decoded object.

    Returns:
        The notification's model.

    Raises:
        pydantic.ValidationError: the body is not JSON, its type and version are not in `NOTIFICATION_MODELS`
            (`unknown_notification`), or it does not match its model (the location names the model and the field).
    """
    if isinstance(body, str | bytes):
        return _NOTIFICATION.validate_json(body)
    return _NOTIFICATION.validate_python(body)


class NotificationRecord(SqsRecordModel):
    """An SQS record whose body is one of our notifications. Powertools' BatchProcessor validates each record with it
    before the record handler runs; a record that fails becomes a `batchItemFailures` entry (retried, then
    dead-lettered)."""

    body: Json[Notification]


# State machines --------------------------------------------------------------------------------------------------


class ReportWindow(BaseModel):
    """What identifies a report request: one report type for one account and marketplace over one window (with its
    reportOptions), and the reportId SP-API gave it. The report ledger's entries and the workflow's jobs share it."""

    model_config = ConfigDict(extra="ignore")

    account_id: str
    report_type: str
    marketplace_id: str
    data_start_time: datetime | None = None
    data_end_time: datetime | None = None
    report_options: dict[str, str] = {}
    report_id: str | None = None


class ReportJob(ReportWindow):
    """One report for one account and marketplace, as it moves through create → poll → land (RequestReports: the
    items of PlanReports' `jobs`, RequestReport's input and output)."""

    processing_status: str | None = None
    report_document_id: str | None = None
    attempts: int = 1  # how many times this window has been requested (FATAL reports are requested again)


class PlannedReports(BaseModel):
    """RequestReports, PlanReports' output: the Map state iterates over `jobs`."""

    jobs: list[ReportJob]
    count: int

    @classmethod
    def of(cls, jobs: list[ReportJob]) -> PlannedReports:
        return cls(jobs=jobs, count=len(jobs))


class LandReportInput(BaseModel):
    """LandReport's input, as a notification or reconcile starts it (its output is `landing.LandingOutcome`)."""

    model_config = ConfigDict(extra="ignore")

    report_id: str
    execution_name: str | None = None  # the execution's name, given by its starter: a correlation id for logs


class CatalogAndListingsInput(BaseModel):
    """CatalogAndListings' input. The schedule starts it with its EventBridge event, whose fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    account_ids: list[str] | None = None  # default: every seller account


class Batch(BaseModel):
    """One unit of catalog or listings work: the CatalogAndListings state machine maps over these."""

    account_id: str
    marketplace_id: str
    kind: str  # "ASIN" or "SKU"
    ids: list[str]


class CatalogPlan(BaseModel):
    """CatalogAndListings, PlanBatches' output: one Map state per list."""

    asin_batches: list[Batch]
    sku_batches: list[Batch]

    @classmethod
    def of(cls, batches: Iterable[Batch]) -> CatalogPlan:
        planned = list(batches)
        return cls(asin_batches=[b for b in planned if b.kind == "ASIN"],
                   sku_batches=[b for b in planned if b.kind == "SKU"])  # fmt: skip


class FetchedBatch(BaseModel):
    """CatalogAndListings, FetchCatalogBatch's and FetchListingsBatch's output: the raw object written."""

    key: str
    rows: int


class SubscribeInput(BaseModel):
    """The subscribe function's input (invoked directly, or with a deployment's custom event)."""

    model_config = ConfigDict(extra="ignore")

    queue_arn: str | None = None  # default: the pipeline's queue


class Subscribed(BaseModel):
    """The subscribe function's output: account id -> the notification types it is subscribed to."""

    subscribed: dict[str, list[str]]

"""Services built from the environment, once per cold start: what every handler module calls at import."""

from __future__ import annotations

from functools import cache

from ingestion_lambdas import aws
from ingestion_lambdas.services.accounts import SpApiClients
from ingestion_lambdas.services.catalog_listings import CatalogAndListings
from ingestion_lambdas.services.credentials import CredentialCheck
from ingestion_lambdas.services.landing import ReportLanding, ReportSettlement
from ingestion_lambdas.services.ledger import Ledger
from ingestion_lambdas.services.notifications import NotificationRouter, Subscriber
from ingestion_lambdas.services.plan import ReportPlanner
from ingestion_lambdas.services.reconcile import Reconciler
from ingestion_lambdas.services.report_requests import ReportRequests
from ingestion_lambdas.settings import Settings, load_settings


@cache
def settings() -> Settings:
    return load_settings()


@cache
def clients() -> SpApiClients:
    return SpApiClients.from_settings(settings())


@cache
def ledger() -> Ledger:
    return Ledger(aws.resource("dynamodb"), settings().need("ledger_table"))


def catalog() -> CatalogAndListings:
    s = settings()
    return CatalogAndListings(clients(), aws.resource("dynamodb"), s.need("targets_table"), aws.client("s3"),
                              s.need("raw_bucket"), s.kms_key_id)  # fmt: skip


def planner() -> ReportPlanner:
    return ReportPlanner(clients(), ledger(), settings())


def report_requests() -> ReportRequests:
    return ReportRequests(clients(), ledger())


def settlement() -> ReportSettlement:
    s = settings()
    landing = ReportLanding(clients(), aws.client("s3"), s.need("raw_bucket"), s.kms_key_id)
    return ReportSettlement(landing, ledger(), s, on_landed=catalog().register_targets,
                            download_max_attempts=s.download_max_attempts)  # fmt: skip


def router() -> NotificationRouter:
    return NotificationRouter(aws.client("stepfunctions"), settings().land_report_arn, ledger(), catalog())


def subscriber() -> Subscriber:
    return Subscriber(clients(), settings())


def reconciler() -> Reconciler:
    return Reconciler(clients(), ledger(), aws.client("stepfunctions"), settings())


def credential_check() -> CredentialCheck:
    return CredentialCheck(clients(), aws.client("secretsmanager"))

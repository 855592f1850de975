"""Landing report documents into moto's S3 through the real handler and service code."""

import hashlib
import importlib
import time
from datetime import UTC, datetime

import pytest
import requests

from ingestion_lambdas import aws
from ingestion_lambdas.events import ReportJob
from ingestion_lambdas.services import wiring
from ingestion_lambdas.services.accounts import SpApiClients
from ingestion_lambdas.services.landing import ReportLanding
from ingestion_lambdas.services.report_requests import ReportRequests
from ingestion_lambdas.settings import load_settings
from ingestion_lambdas.spapi.errors import TruncatedDownloadError
from lake_formation.raw_zone import RawZone
from local.moto_runtime import LambdaContext
from sandbox.faults import Faults


def finished_job(stack, account_id: str, marketplace_id: str) -> ReportJob:
    service = ReportRequests(SpApiClients.from_settings(load_settings()), wiring.ledger())
    job = service.request(
        ReportJob(
            account_id=account_id,
            report_type="GET_MERCHANT_LISTINGS_ALL_DATA",
            marketplace_id=marketplace_id,
            data_start_time=datetime.now(UTC),
        )  # a window of its own: its own ledger entry
    )
    reports = SpApiClients.from_settings(load_settings()).reports(account_id)
    for _ in range(100):
        if (status := reports.get_report(str(job.report_id)).processing_status) == "DONE":
            return job
        time.sleep(0.1)
    raise AssertionError(f"report {job.report_id} did not finish: {status}")


def truth(stack, report_id: str) -> dict:
    return requests.get(f"{stack.sandbox.base_url}/_sandbox/reports/{report_id}", timeout=5).json()


def test_land_report_handler_stores_a_cp1252_document_as_utf8_with_its_manifest(stack):
    # GIVEN a finished German listings report (delivered gzip-compressed in Cp1252)
    job = finished_job(stack, "demo-seller-eu", "A1PA6795UKMFR9")
    # WHEN the Lambda handler lands it (state-machine input shape); importing it is its cold start, after the
    # offline stack has set the environment CloudFormation would give the function
    land_report = importlib.import_module("ingestion_lambdas.handlers.land_report")
    result = land_report.lambda_handler({"report_id": job.report_id}, LambdaContext("spapi-lake-land-report"))
    assert result["status"] == "LANDED" and wiring.ledger().by_report_id(job.report_id).status == "LANDED"
    # THEN the raw object is UTF-8, KMS-encrypted, at its deterministic key, and the manifest describes it
    s3 = aws.client("s3")
    stored = s3.get_object(Bucket=stack.resources.raw_bucket, Key=result["key"])
    body = stored["Body"].read()
    landed = RawZone(s3, stack.resources.raw_bucket).manifests("GET_MERCHANT_LISTINGS_ALL_DATA")
    (manifest,) = [m for m in landed if m.object_id == job.report_id]
    expected_key = (
        f"spapi/GET_MERCHANT_LISTINGS_ALL_DATA/marketplace_id=A1PA6795UKMFR9/"
        f"dt={job.data_start_time.date().isoformat()}/{job.report_id}.tsv"
    )  # the raw-zone layout ARCHITECTURE.md states
    assert manifest.key == result["key"] == expected_key
    assert stored["ServerSideEncryption"] == "aws:kms"
    assert stored["SSEKMSKeyId"].endswith(load_settings().kms_key_id)  # the configured key, not the bucket default
    assert result["rows"] == truth(stack, job.report_id)["rows"] == len(body.decode("utf-8").splitlines()) - 1
    assert manifest.source_charset == "cp1252" and manifest.raw_name == "GET_MERCHANT_LISTINGS_ALL_DATA"
    assert result["sha256"] == manifest.sha256 == hashlib.sha256(body).hexdigest()
    assert manifest.rows == result["rows"] and manifest.header[3] == "seller-sku"


def test_landing_the_same_report_twice_overwrites_one_object(stack):
    job = finished_job(stack, "demo-seller-na", "A2EUQ1WTGCTBG2")
    settings = load_settings()
    landing = ReportLanding(SpApiClients.from_settings(settings), aws.client("s3"), settings.raw_bucket)
    first, second = landing.land(job), landing.land(job)
    s3 = aws.client("s3")
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=settings.raw_bucket)
            for o in page.get("Contents", []) if job.report_id in o["Key"]]  # fmt: skip
    assert sorted(keys) == sorted([first.key, first.manifest_key])  # one object and its manifest, whatever the tries
    # the raw bucket is versioned (storage stack): the second landing really wrote, over the same key
    versions = s3.list_object_versions(Bucket=settings.raw_bucket, Prefix=first.key)["Versions"]
    assert len([v for v in versions if v["Key"] == first.key]) == 2
    assert first.sha256 == second.sha256


def test_truncated_download_lands_nothing(stack):
    # GIVEN a finished report whose download will be cut short
    job = finished_job(stack, "demo-seller-fe", "A1VC38T7YXB528")
    box = stack.sandbox.sandbox
    box.set_faults(Faults.parse("truncated_document"))
    settings = load_settings()
    landing = ReportLanding(SpApiClients.from_settings(settings), aws.client("s3"), settings.raw_bucket)
    try:
        # WHEN landing is attempted
        with pytest.raises(TruncatedDownloadError):
            landing.land(job)
    finally:
        box.set_faults(Faults())
    # THEN neither the object nor its manifest exists
    s3 = aws.client("s3")
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=settings.raw_bucket)
        for o in page.get("Contents", [])
    ]
    assert not [k for k in keys if job.report_id in k]

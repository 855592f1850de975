"""The only place boto3 clients are built. Endpoints come from AWS_ENDPOINT_URL[_<SERVICE>] (moto offline)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

RETRY_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=120)


def client(service: str, *, session: boto3.session.Session | None = None) -> Any:
    """A boto3 client with the project's retry configuration."""
    return (session or boto3.session.Session()).client(service, config=RETRY_CONFIG)


def resource(service: str) -> Any:
    """A boto3 resource (DynamoDB tables) with the project's retry configuration."""
    return boto3.session.Session().resource(service, config=RETRY_CONFIG)

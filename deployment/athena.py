"""Athena on AWS: the insight views created in the Glue Data Catalog through the analysts' workgroup (a step of
`spapi-lake deploy`), and `spapi-lake query --athena`. Offline, the same SQL runs on DuckDB (local/governed.py)."""

from __future__ import annotations

import time
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from deployment.errors import DeploymentError
from lake_formation import views
from lake_formation.access import IAM_ALLOWED_PRINCIPALS

POLL_SECONDS = 1.0


class AthenaQueryError(DeploymentError):
    """An Athena query that failed or was cancelled: Athena's reason."""


def run(athena: Any, sql: str, workgroup: str, database: str, timeout_s: float = 300) -> list[dict[str, str]]:
    """Run one statement in the workgroup (its enforced result location and encryption) and return its rows."""
    try:
        return _run(athena, sql, workgroup, database, timeout_s)
    except (ClientError, BotoCoreError) as err:
        raise AthenaQueryError(str(err)) from None


def _run(athena: Any, sql: str, workgroup: str, database: str, timeout_s: float) -> list[dict[str, str]]:
    execution = athena.start_query_execution(
        QueryString=sql, WorkGroup=workgroup, QueryExecutionContext={"Database": database}
    )["QueryExecutionId"]
    deadline = time.monotonic() + timeout_s
    while True:
        status = athena.get_query_execution(QueryExecutionId=execution)["QueryExecution"]["Status"]
        if status["State"] == "SUCCEEDED":
            break
        if status["State"] in ("FAILED", "CANCELLED"):
            raise AthenaQueryError(f"{status['State']}: {status.get('StateChangeReason', 'no reason given')}")
        if time.monotonic() > deadline:
            athena.stop_query_execution(QueryExecutionId=execution)
            raise AthenaQueryError(f"no answer within {timeout_s:.0f} s (stopped)")
        time.sleep(POLL_SECONDS)
    rows: list[dict[str, str]] = []
    header: list[str] = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=execution):
        for row in page["ResultSet"]["Rows"]:
            values = [cell.get("VarCharValue", "") for cell in row["Data"]]
            if not header:
                header = values
                continue
            rows.append(dict(zip(header, values, strict=True)))
    return rows


def deployed_outputs(cfn: Any, prefix: str) -> dict[str, str]:
    """The deployment's outputs (the workgroup, the database, the roles' ARNs).

    Raises:
        AthenaQueryError: the entry stack is not deployed (in this account and region).
    """
    from deployment.errors import DeploymentError  # noqa: PLC0415
    from deployment.stacks import stack_outputs  # noqa: PLC0415 - stacks imports this module

    try:
        return stack_outputs(cfn, prefix)
    except DeploymentError as err:
        raise AthenaQueryError(str(err)) from None


def role_session(sts: Any, role_arn: str) -> boto3.Session:
    """A session as one of the lake's roles (Athena applies that role's Lake Formation grants).

    Raises:
        AthenaQueryError: the role cannot be assumed by the caller.
    """
    try:
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName="spapi-lake")["Credentials"]
    except (ClientError, BotoCoreError) as err:
        raise AthenaQueryError(f"cannot act as {role_arn}: {err}") from None
    return boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                         aws_secret_access_key=credentials["SecretAccessKey"],
                         aws_session_token=credentials["SessionToken"])  # fmt: skip


def create_views(athena: Any, workgroup: str, database: str) -> list[str]:
    """CREATE OR REPLACE VIEW for every insight view, views read by others first."""
    ordered = views.in_dependency_order()
    for view in ordered:
        run(athena, view.create_statement(database), workgroup, database)
    return [view.name for view in ordered]


def revoke_iam_allowed_principals(lakeformation: Any, database: str) -> None:
    """A database created before the governance stack's settings got Lake Formation's IAMAllowedPrincipals default
    (IAM alone decides), and so did every table created in it since: that would make every grant moot. Revoked on
    the database and on all its tables."""
    for resource in ({"Database": {"Name": database}}, {"Table": {"DatabaseName": database, "TableWildcard": {}}}):
        try:
            lakeformation.revoke_permissions(
                Principal={"DataLakePrincipalIdentifier": IAM_ALLOWED_PRINCIPALS}, Resource=resource,
                Permissions=["ALL"],
            )  # fmt: skip
        except lakeformation.exceptions.InvalidInputException:
            pass  # not granted (made after the settings, or revoked already)

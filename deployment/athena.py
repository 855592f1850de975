"""Athena on AWS: the insight views created in the Glue Data Catalog through the analysts' workgroup (a step of
`spapi-lake deploy`), and `spapi-lake query --athena`. Offline, the same SQL runs on DuckDB (local/governed.py)."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from deployment.errors import DeploymentError
from lake_formation import views

POLL_SECONDS = 1.0


class AthenaQueryError(DeploymentError):
    """An Athena query that failed or was cancelled: Athena's reason."""


def run(athena: Any, sql: str, workgroup: str, database: str, timeout_s: float = 300) -> list[dict[str, str]]:
    """Run one statement in the workgroup (its enforced result location and encryption) and return its rows."""
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


def deployed_workgroup(cfn: Any, prefix: str) -> tuple[str, str]:
    """The analysts' workgroup and the catalog database, from the deployed stacks' outputs.

    Raises:
        AthenaQueryError: the stacks are not deployed (in this account and region).
    """
    from deployment.stacks import outputs, stack_name  # noqa: PLC0415 - stacks imports this module

    found: dict[str, str] = {}
    for part in ("storage", "governance"):
        try:
            found |= outputs(cfn.describe_stacks(StackName=stack_name(prefix, part))["Stacks"][0])
        except ClientError as err:
            raise AthenaQueryError(f"stack {stack_name(prefix, part)}: {err}") from None
    return found["AthenaWorkgroup"], found["CatalogDatabaseName"]


def create_views(athena: Any, workgroup: str, database: str) -> list[str]:
    """CREATE OR REPLACE VIEW for every insight view, views read by others first."""
    for view in views.in_dependency_order():
        run(athena, view.create_statement(database), workgroup, database)
    return [view.name for view in views.in_dependency_order()]


def revoke_iam_allowed_principals(lakeformation: Any, database: str) -> None:
    """The storage stack's database was created before the governance stack's settings: Lake Formation gave it
    the IAMAllowedPrincipals default (IAM alone decides), which would make every grant moot. Revoked here."""
    try:
        lakeformation.revoke_permissions(
            Principal={"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"},
            Resource={"Database": {"Name": database}},
            Permissions=["ALL"],
        )
    except lakeformation.exceptions.InvalidInputException:
        pass  # not granted (a database created after the settings, or revoked already)

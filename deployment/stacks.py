"""`spapi-lake deploy`: package the code, upload it with the ASL files, deploy the stacks with boto3.

Uses the AWS credentials and region of the environment. The storage stack goes first (the ingestion and curation
stacks import its exports), then governance, after which the database's IAMAllowedPrincipals default is revoked and
the insight views are created through the Athena workgroup; then, when asked for, the warehouse (Redshift Serverless
and its loader) and BI (QuickSight on the views). Secrets (the LWA app credentials, each account's refresh
token) are set by you afterwards, in Secrets Manager, under the names the stack outputs and your accounts file give.
The offline runtime deploys the same stacks, with the same parameters but for its endpoints, into moto
(local/provision.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError, WaiterError

from deployment.artifacts import artifact_keys, upload_artifacts
from deployment.athena import create_views, revoke_iam_allowed_principals, role_session
from deployment.errors import StackFailedError
from deployment.templates import REPORT_PLAN, STACKS, TEMPLATES
from ingestion_lambdas import aws

if TYPE_CHECKING:
    from pathlib import Path


def stack_name(prefix: str, part: str) -> str:
    return f"{prefix}-{part}"


def stack_parameters(
    part: str, prefix: str, artifacts_bucket: str, accounts_json: str | None = None, **overrides: str
) -> dict[str, str]:
    """The parameters each stack takes from a deployment; `overrides` sets any other parameter of that template
    that it declares (offline: the sandbox's endpoints and faster reconcile timings)."""
    keys = artifact_keys()
    parameters = {
        "storage": {"Prefix": prefix},
        "ingestion": {"Prefix": prefix, "ArtifactsBucket": artifacts_bucket, "CodeKey": keys["lambda"],
                      "ReportPlanJson": REPORT_PLAN.read_text(encoding="utf-8")},
        "curation": {"Prefix": prefix, "ArtifactsBucket": artifacts_bucket, "ScriptKey": keys["glue_script"],
                     "PackageKey": keys["glue_package"]},
        "governance": {"Prefix": prefix},
        "warehouse": {"Prefix": prefix, "ArtifactsBucket": artifacts_bucket, "ScriptKey": keys["loader_script"],
                      "PackageKey": keys["glue_package"]},
        "bi": {"Prefix": prefix},
        "operations": {"Prefix": prefix, "ArtifactsBucket": artifacts_bucket, "CodeKey": keys["lambda"]},
    }[part]  # fmt: skip
    if part == "governance" and "DeployerArn" not in overrides:
        parameters["DeployerArn"] = deployer_arn(aws.client("sts"))
    if accounts_json is not None and part == "ingestion":
        parameters["AccountsJson"] = accounts_json
    return parameters | overrides


# CreateStack takes a TemplateBody up to this many bytes; a larger template (governance: every curated table and its
# columns) is uploaded to the artifacts bucket and passed as TemplateURL.
TEMPLATE_BODY_LIMIT = 51_200


def template_argument(template_body: str, name: str, s3: Any, bucket: str) -> dict[str, str]:
    """TemplateBody, or TemplateURL to a copy in the artifacts bucket when the body is over CreateStack's limit."""
    if len(template_body.encode()) <= TEMPLATE_BODY_LIMIT:
        return {"TemplateBody": template_body}
    key = f"cloudformation/{name}.template"
    s3.put_object(Bucket=bucket, Key=key, Body=template_body.encode())
    # CloudFormation reads the copy with the deploying identity's credentials: a plain (not pre-signed) URL.
    return {"TemplateURL": f"https://{bucket}.s3.{s3.meta.region_name or 'us-east-1'}.amazonaws.com/{key}"}


def deployer_arn(sts: Any) -> str:
    """The identity deploying, as Lake Formation names admins: an assumed role's session ARN becomes its role's ARN
    (a role with a path must be given by hand, as DeployerArn)."""
    arn = str(sts.get_caller_identity()["Arn"])
    if ":assumed-role/" in arn:
        account_part, role = arn.split(":assumed-role/")
        return f"{account_part.replace(':sts:', ':iam:')}:role/{role.split('/')[0]}"
    return arn


def deploy_stack(cfn: Any, name: str, template: dict[str, str], parameters: dict[str, str]) -> dict[str, Any]:
    """Create the stack, or update it if it exists; wait for it; return its description. `template` is
    template_argument's TemplateBody or TemplateURL."""
    arguments = {
        "StackName": name,
        **template,
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        "Capabilities": ["CAPABILITY_IAM"],
    }
    try:
        try:
            cfn.create_stack(**arguments)
            cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 5})
        except ClientError as err:
            if err.response["Error"]["Code"] != "AlreadyExistsException":
                raise
            try:
                cfn.update_stack(**arguments)
            except ClientError as update_err:
                if "No updates are to be performed" not in str(update_err):
                    raise
            else:
                cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig={"Delay": 5})
    except (ClientError, WaiterError) as err:
        raise StackFailedError(f"stack {name}: {err}; {_failed_resources(cfn, name)}") from err
    return dict(cfn.describe_stacks(StackName=name)["Stacks"][0])


def _failed_resources(cfn: Any, name: str) -> str:
    try:
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    except ClientError:
        return "no stack events"
    failed = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}" for e in events
              if str(e.get("ResourceStatus", "")).endswith("FAILED")]  # fmt: skip
    return "; ".join(failed[:5]) or "no failed resource reported"


def outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def deploy(
    prefix: str,
    artifacts_bucket: str,
    accounts_file: Path | None,
    optional: frozenset[str] = frozenset(),
    overrides: dict[str, dict[str, str]] | None = None,
) -> dict[str, str]:
    """Deploy every stack, and the optional ones named in `optional`; `overrides` gives a stack's other parameters
    (part → parameter → value)."""
    upload_artifacts(aws.client("s3"), artifacts_bucket)
    accounts = accounts_file.read_text(encoding="utf-8") if accounts_file is not None else None
    cfn, s3, result = aws.client("cloudformation"), aws.client("s3"), dict[str, str]()
    overrides = overrides or {}
    for stack in STACKS:
        if stack.optional and stack.part not in optional:
            continue
        name = stack_name(prefix, stack.part)
        body = template_argument((TEMPLATES / stack.template).read_text(encoding="utf-8"), name, s3, artifacts_bucket)
        parameters = stack_parameters(stack.part, prefix, artifacts_bucket, accounts, **overrides.get(stack.part, {}))
        result |= outputs(deploy_stack(cfn, name, body, parameters))
        if stack.part == "governance":  # the views exist before QuickSight's datasets read them
            revoke_iam_allowed_principals(aws.client("lakeformation"), result["CatalogDatabaseName"])
            # Athena creates a view only for who may SELECT what it reads: the lake admin, not the deployer.
            admin = role_session(aws.client("sts"), result["LakeAdminRoleArn"])
            create_views(admin.client("athena"), result["AthenaWorkgroup"], result["CatalogDatabaseName"])
    return result

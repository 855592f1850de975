"""`spapi-lake deploy` and `spapi-lake destroy`: package the code, upload it with the templates, deploy the entry
stack (cloudformation/main.yaml: every part as a nested stack) with boto3.

Uses the AWS credentials and region of the environment. The artifacts bucket is created when it is missing. The
entry stack, named after the prefix, deploys storage, ingestion, curation, governance and operations in that order
(and the warehouse when asked for); then the database's IAMAllowedPrincipals default is revoked and the insight
views are created through the Athena workgroup; BI (QuickSight on the views) is switched on after the views exist.
Secrets (the LWA app credentials, each account's refresh token) are set by you afterwards, in Secrets Manager, under
the names the outputs and your accounts file give. The offline runtime deploys the same entry stack, with the same
parameters but for its endpoints, into moto (local/provision.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError, WaiterError

from deployment.artifacts import artifact_keys, upload_artifacts
from deployment.athena import create_views, revoke_iam_allowed_principals, role_session
from deployment.errors import DeploymentError, StackFailedError
from deployment.main_template import MAIN, TEMPLATES_URL, deploy_parameter
from deployment.templates import REPORT_PLAN, STACKS, STATE_MACHINES, TEMPLATES, load, packaged_template
from ingestion_lambdas import aws

if TYPE_CHECKING:
    from pathlib import Path

NESTED = "AWS::CloudFormation::Stack"


def main_parameters(
    prefix: str, artifacts_bucket: str, templates_url: str, accounts_json: str | None = None, **overrides: str
) -> dict[str, str]:
    """The entry stack's parameters from a deployment; `overrides` sets any other parameter main.yaml declares
    (offline: the sandbox's endpoints and faster reconcile timings; Deploy<Part> switches an optional part on)."""
    keys = artifact_keys()
    parameters = {
        TEMPLATES_URL: templates_url, "Prefix": prefix, "ArtifactsBucket": artifacts_bucket,
        "CodeKey": keys["lambda"], "ReportPlanJson": REPORT_PLAN.read_text(encoding="utf-8"),
        "ScriptKey": keys["glue_script"], "PackageKey": keys["glue_package"], "LoaderScriptKey": keys["loader_script"],
    }  # fmt: skip
    if "DeployerArn" not in overrides:
        parameters["DeployerArn"] = deployer_arn(aws.client("sts"))
    if accounts_json is not None:
        parameters["AccountsJson"] = accounts_json
    unknown = sorted(set(overrides) - set(load(MAIN)["Parameters"]))
    if unknown:
        raise DeploymentError(f"main.yaml declares no parameter {', '.join(unknown)}")
    return parameters | overrides


def template_version() -> str:
    """A digest of the part templates and state machines: each version is uploaded under its own folder, so an
    update of the entry stack always reads the templates of this checkout."""
    digest = hashlib.sha256()
    for path in sorted(TEMPLATES.glob("*.yaml")) + sorted(STATE_MACHINES.glob("*.asl.json")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def upload_templates(s3: Any, bucket: str) -> str:
    """Upload every part template, packaged (the state machine definitions inlined, so that an edited ASL file is a
    changed template CloudFormation updates; see deployment/templates.py); returns the TemplatesUrl the entry stack
    reads them from."""
    folder = f"cloudformation/{template_version()}"
    for stack in STACKS:
        body = json.dumps(packaged_template(stack.template))
        s3.put_object(Bucket=bucket, Key=f"{folder}/{stack.part}.template", Body=body.encode())
    # CloudFormation reads the copies with the deploying identity's credentials: plain (not pre-signed) URLs.
    return f"https://{bucket}.s3.{s3.meta.region_name or 'us-east-1'}.amazonaws.com/{folder}"


def load_text(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def ensure_bucket(s3: Any, bucket: str) -> bool:
    """Create the artifacts bucket when it does not exist (private, encrypted, versioned); True if it was made.

    Raises:
        DeploymentError: the bucket exists but this identity may not use it (another account's name, say).
    """
    try:
        s3.head_bucket(Bucket=bucket)
        return False
    except ClientError as err:
        if err.response["Error"]["Code"] not in ("404", "NoSuchBucket", "NotFound"):
            raise DeploymentError(f"artifacts bucket {bucket}: {err.response['Error']['Code']} (not yours?)") from None
    region = s3.meta.region_name or "us-east-1"
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **location)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return True  # fmt: skip


def deployer_arn(sts: Any) -> str:
    """The identity deploying, as Lake Formation names admins: an assumed role's session ARN becomes its role's ARN
    (a role with a path must be given by hand, as DeployerArn)."""
    arn = str(sts.get_caller_identity()["Arn"])
    if ":assumed-role/" in arn:
        account_part, role = arn.split(":assumed-role/")
        return f"{account_part.replace(':sts:', ':iam:')}:role/{role.split('/')[0]}"
    return arn


def deployed_parameters(cfn: Any, name: str) -> set[str] | None:
    """The parameters the deployed stack was given; None when there is no such stack."""
    try:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as err:
        if "does not exist" in str(err):
            return None
        raise
    return {p["ParameterKey"] for p in stack.get("Parameters", [])}


def deploy_stack(
    cfn: Any, name: str, template: dict[str, str], parameters: dict[str, str], keep: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Create the stack, or update it if it exists; wait for it; return its description. `template` is a
    TemplateBody or TemplateURL argument; `keep`: parameters an update leaves as they are (UsePreviousValue)."""
    given: list[dict[str, Any]] = [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]
    kept: list[dict[str, Any]] = [{"ParameterKey": k, "UsePreviousValue": True} for k in sorted(keep - set(parameters))]
    arguments = {"StackName": name, **template, "Capabilities": ["CAPABILITY_IAM"]}
    try:
        if kept:  # only an existing stack's parameters can be kept
            _update(cfn, arguments | {"Parameters": given + kept})
        else:
            try:
                cfn.create_stack(**arguments, Parameters=given)
                cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 5})
            except ClientError as err:
                if err.response["Error"]["Code"] != "AlreadyExistsException":
                    raise
                _update(cfn, arguments | {"Parameters": given})
    except (ClientError, WaiterError) as err:
        raise StackFailedError(f"stack {name}: {err}; {_failed_resources(cfn, name)}") from err
    return dict(cfn.describe_stacks(StackName=name)["Stacks"][0])


def _update(cfn: Any, arguments: dict[str, Any]) -> None:
    try:
        cfn.update_stack(**arguments)
    except ClientError as err:
        if "No updates are to be performed" not in str(err):
            raise
        return
    cfn.get_waiter("stack_update_complete").wait(StackName=arguments["StackName"], WaiterConfig={"Delay": 5})


def _failed_resources(cfn: Any, name: str, depth: int = 0) -> str:
    """What failed, and why: the stack's failed resources, and for a failed nested stack, what failed in it."""
    try:
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    except ClientError:
        return "no stack events"
    failed = []
    for event in events:
        if not str(event.get("ResourceStatus", "")).endswith("FAILED") or event.get("PhysicalResourceId") == name:
            continue
        failed.append(f"{event['LogicalResourceId']}: {event.get('ResourceStatusReason', '')}")
        if event.get("ResourceType") == NESTED and event.get("PhysicalResourceId") and depth < 2:
            failed.append(f"[{_failed_resources(cfn, event['PhysicalResourceId'], depth + 1)}]")
    return "; ".join(failed[:8]) or "no failed resource reported"


def outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def stack_resources(cfn: Any, name: str) -> list[dict[str, Any]]:
    """Every resource summary of a stack (ListStackResources pages at 100: governance has more)."""
    pages = cfn.get_paginator("list_stack_resources").paginate(StackName=name)
    return [summary for page in pages for summary in page["StackResourceSummaries"]]


def nested_stacks(cfn: Any, name: str) -> dict[str, str]:
    """The entry stack's deployed parts: nested stack id (ARN on AWS, name on moto) by part."""
    parts = {stack.logical_id: stack.part for stack in STACKS}
    summaries = stack_resources(cfn, name)
    return {
        parts[s["LogicalResourceId"]]: s["PhysicalResourceId"]
        for s in summaries
        if s["ResourceType"] == NESTED and s.get("PhysicalResourceId") and s["LogicalResourceId"] in parts
    }


def stack_outputs(cfn: Any, name: str) -> dict[str, str]:
    """Every deployed part's outputs (the entry stack repeats none of them, see deployment/main_template.py).

    Raises:
        DeploymentError: no entry stack of that name in this account and region.
    """
    try:
        nested = nested_stacks(cfn, name)
        found: dict[str, str] = {}
        for stack_id in nested.values():
            found |= outputs(cfn.describe_stacks(StackName=stack_id)["Stacks"][0])
    except ClientError as err:
        raise DeploymentError(f"stack {name}: {err.response['Error']['Message']}") from None
    return found


def deploy(
    prefix: str,
    artifacts_bucket: str,
    accounts_file: Path | None,
    optional: frozenset[str] = frozenset(),
    overrides: dict[str, str] | None = None,
) -> dict[str, str]:
    """Deploy the entry stack `prefix`, switching on the optional parts named in `optional` (warehouse, bi);
    `overrides` sets any other parameter of main.yaml. A re-deployment keeps every parameter it is not given (an
    optional part stays until `--set Deploy<Part>=false`, the accounts until another `--accounts`). Returns every
    part's outputs."""
    s3, cfn = aws.client("s3"), aws.client("cloudformation")
    ensure_bucket(s3, artifacts_bucket)
    upload_artifacts(s3, artifacts_bucket)
    accounts = accounts_file.read_text(encoding="utf-8") if accounts_file is not None else None
    switches = {deploy_parameter(stack): "true" for stack in STACKS if stack.optional and stack.part in optional}
    previous = deployed_parameters(cfn, prefix)
    keep = frozenset(previous or ())
    bi = next(stack for stack in STACKS if stack.part == "bi")
    had_bi = previous is not None and "bi" in nested_stacks(cfn, prefix)
    # QuickSight's datasets read the views, which exist only once the lake is deployed: a first deployment with BI
    # runs without it, creates the views, then switches BI on.
    first = switches | ({deploy_parameter(bi): "false"} if "bi" in optional and not had_bi else {})
    parameters = main_parameters(prefix, artifacts_bucket, upload_templates(s3, artifacts_bucket), accounts,
                                 **(overrides or {}) | first)  # fmt: skip
    deploy_stack(cfn, prefix, {"TemplateBody": load_text(MAIN)}, parameters, keep)
    result = stack_outputs(cfn, prefix)
    revoke_iam_allowed_principals(aws.client("lakeformation"), result["CatalogDatabaseName"])
    # Athena creates a view only for who may SELECT what it reads: the lake admin, not the deployer.
    admin = role_session(aws.client("sts"), result["LakeAdminRoleArn"])
    create_views(admin.client("athena"), result["AthenaWorkgroup"], result["CatalogDatabaseName"])
    if first != switches:
        deploy_stack(cfn, prefix, {"TemplateBody": load_text(MAIN)}, parameters | switches, keep | set(parameters))
        result = stack_outputs(cfn, prefix)
    return result


@dataclass(frozen=True)
class Kept:
    """A resource `destroy` leaves in place, and why."""

    kind: str
    name: str
    reason: str


RETAINED_BECAUSE = {
    "AWS::S3::Bucket": "holds data (the lake, its logs or query results): empty and delete it yourself if unwanted "
    "(its name is the prefix's: deploying the same prefix again needs it gone, or a new prefix)",
    "AWS::KMS::Key": "encrypts what the kept buckets and secrets hold: schedule its deletion only after theirs",
}


def destroy(prefix: str, artifacts_bucket: str | None = None) -> list[Kept]:
    """Delete the entry stack and every part; returns what stays: the resources the templates retain (DeletionPolicy
    Retain), the refresh-token secrets you created, and the artifacts bucket.

    Raises:
        DeploymentError: no such stack, or its deletion failed (the message says which resources and why).
    """
    cfn = aws.client("cloudformation")
    kept = []
    try:
        nested = nested_stacks(cfn, prefix)
    except ClientError as err:
        raise DeploymentError(f"stack {prefix}: {err.response['Error']['Message']}") from None
    by_part = {stack.part: stack for stack in STACKS}
    for part, stack_id in nested.items():
        resources = load(by_part[part].template)["Resources"]
        for summary in stack_resources(cfn, stack_id):
            declared = resources.get(summary["LogicalResourceId"], {})
            if declared.get("DeletionPolicy") == "Retain" and summary.get("PhysicalResourceId"):
                reason = RETAINED_BECAUSE.get(summary["ResourceType"], "kept by its template (DeletionPolicy)")
                kept.append(Kept(summary["ResourceType"], summary["PhysicalResourceId"], reason))
    secrets = _refresh_token_secrets(cfn, nested.get("ingestion"))
    try:
        cfn.delete_stack(StackName=prefix)
        cfn.get_waiter("stack_delete_complete").wait(StackName=prefix, WaiterConfig={"Delay": 10})
    except (ClientError, WaiterError) as err:
        raise StackFailedError(f"deleting {prefix}: {err}; {_failed_resources(cfn, prefix)}") from err
    for secret in secrets:
        kept.append(Kept("AWS::SecretsManager::Secret", secret, "a seller's refresh token you stored: delete it "
                         "yourself (the seller must authorize the app again to get a new one)"))  # fmt: skip
    if artifacts_bucket:
        kept.append(Kept("AWS::S3::Bucket", artifacts_bucket, "the code and templates deploy uploaded"))
    _delete_token_cache(prefix)
    return kept


def _delete_token_cache(prefix: str) -> None:
    """The functions' cached LWA access tokens (`<prefix>/access-token/*`, made at run time, not by the stacks):
    only a cache, and a live token, so they go with the deployment."""
    secrets = aws.client("secretsmanager")
    pages = secrets.get_paginator("list_secrets").paginate(
        Filters=[{"Key": "name", "Values": [f"{prefix}/access-token/"]}]
    )
    for secret in (s for page in pages for s in page["SecretList"]):
        if str(secret["Name"]).startswith(f"{prefix}/access-token/"):
            secrets.delete_secret(SecretId=secret["ARN"], ForceDeleteWithoutRecovery=True)


def _refresh_token_secrets(cfn: Any, ingestion: str | None) -> list[str]:
    """The refresh-token secrets the deployed accounts registry names (you made them, not the stacks)."""
    if ingestion is None:
        return []
    parameters = cfn.describe_stacks(StackName=ingestion)["Stacks"][0].get("Parameters", [])
    registry = next((p["ParameterValue"] for p in parameters if p["ParameterKey"] == "AccountsJson"), "[]")
    try:
        accounts = json.loads(registry)
    except ValueError:
        return []
    return sorted({str(a["refresh_token_secret_id"]) for a in accounts if a.get("refresh_token_secret_id")})

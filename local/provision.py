"""The offline world, deployed from the CloudFormation templates `make deploy` ships.

The same entry stack (cloudformation/main.yaml, every part a nested stack) goes into moto's CloudFormation with the
same parameters as on AWS but for the sandbox's endpoints and faster timings; local/moto_gaps.py makes the resources
moto's CloudFormation leaves unusable, each from its template resource; then the operator's post-deploy step (the LWA
app secret, one refresh-token secret per account) is done as the README tells a user to. Every name below is read
back from the deployed stacks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deployment.artifacts import upload_artifacts
from deployment.main_template import MAIN
from deployment.stacks import (
    deploy_stack,
    load_text,
    main_parameters,
    nested_stacks,
    outputs,
    stack_resources,
    upload_templates,
)
from deployment.templates import STACKS, load, packaged_template
from ingestion_lambdas import aws
from local.moto_gaps import EventSource, Made, make_skipped

if TYPE_CHECKING:
    from pathlib import Path

    from sandbox.server import RunningSandbox

PREFIX = str(load("storage.yaml")["Parameters"]["Prefix"]["Default"])
ARTIFACTS_BUCKET = f"{PREFIX}-artifacts"  # offline, the bucket a user gives `make deploy`
# The sandbox's clock runs fast (time_scale): reconcile, FATAL retries and SQS redelivery follow it.
OFFLINE_PARAMETERS = {
    "ReconcileAfterSeconds": "4",
    "FatalCooldownSeconds": "3",
    "NotificationsVisibilityTimeout": "5",
    "SpApiReadTimeoutSeconds": "2",
}


class DeploymentLookupError(LookupError):
    """The deployed stacks hold no resource of the kind asked for."""


@dataclass
class Deployment:
    """The deployed stacks as the offline runner sees them: outputs, physical ids, functions, state machines."""

    prefix: str
    outputs: dict[str, str] = field(default_factory=dict)
    resources: dict[str, tuple[str, str]] = field(default_factory=dict)  # logical id → (type, physical id)
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)  # stack part → template as deployed
    event_sources: list[EventSource] = field(default_factory=list)
    unapplied_bucket_policies: dict[str, str] = field(default_factory=dict)  # see local/moto_gaps.py

    @property
    def raw_bucket(self) -> str:
        return self.outputs["RawBucketName"]

    @property
    def curated_bucket(self) -> str:
        return self.outputs["CuratedBucketName"]

    @property
    def database(self) -> str:
        return self.outputs["CatalogDatabaseName"]

    @property
    def kms_key_id(self) -> str:
        return self.outputs["DataKeyArn"]

    def of_type(self, resource_type: str) -> dict[str, str]:
        """Physical ids of every deployed resource of one type, by logical id."""
        return {logical: physical for logical, (kind, physical) in self.resources.items() if kind == resource_type}

    def template_resource(self, logical_id: str) -> dict[str, Any]:
        for template in self.templates.values():
            if logical_id in template["Resources"]:
                return dict(template["Resources"][logical_id])
        raise DeploymentLookupError(logical_id)

    @property
    def functions(self) -> dict[str, str]:
        """Function names by handler module (the module part of each function's Handler)."""
        return {
            str(self.template_resource(logical)["Properties"]["Handler"]).split(".")[2]: name
            for logical, name in self.of_type("AWS::Lambda::Function").items()
        }

    @property
    def state_machines(self) -> dict[str, str]:
        """State machine ARNs by ASL file (ingestion_lambdas/statemachines/<name>.asl.json)."""
        machines = {}
        for logical, arn in self.of_type("AWS::StepFunctions::StateMachine").items():
            key = str(load_unpackaged(logical)["Properties"]["DefinitionS3Location"]["Key"])
            machines[key.rsplit("/", 1)[-1].removesuffix(".asl.json")] = arn
        return machines

    @property
    def curation_job(self) -> str:
        return self.of_type("AWS::Glue::Job")["CurationJob"]

    @property
    def loader_job(self) -> str:
        return self.of_type("AWS::Glue::Job")["LoaderJob"]

    @property
    def warehouse(self) -> str:
        """The DuckDB file the loader loads (offline the warehouse stack's --warehouse is duckdb://<path>)."""
        return self.outputs["WarehouseUrl"].removeprefix("duckdb://")

    @property
    def notifications(self) -> EventSource:
        (source,) = self.event_sources
        return source

    @property
    def queue_arn(self) -> str:
        return self.notifications.queue_arn

    @property
    def queue_url(self) -> str:
        return self.notifications.queue_url

    def environment(self) -> dict[str, str]:
        """The union of the functions' environments, as CloudFormation set them. The handlers run in this one
        process, so they share it: each variable must mean the same in every function that has it."""
        lam, union = aws.client("lambda"), dict[str, str]()
        for name in self.functions.values():
            variables = lam.get_function_configuration(FunctionName=name).get("Environment", {}).get("Variables", {})
            for key, value in ((k, str(v)) for k, v in variables.items()):  # moto keeps a Number parameter's int
                if union.setdefault(key, value) != value:
                    raise DeploymentLookupError(f"{key} differs between functions: {union[key]!r} and {value!r}")
        return union


def load_unpackaged(logical_id: str) -> dict[str, Any]:
    for stack in STACKS:
        resources = load(stack.template)["Resources"]
        if logical_id in resources:
            return dict(resources[logical_id])
    raise DeploymentLookupError(logical_id)


def offline_parameters(sandbox: RunningSandbox, templates_url: str, warehouse: Path | None = None) -> dict[str, str]:
    info = sandbox.info()
    accounts = json.dumps([
        {key: account[key] for key in ("account_id", "kind", "selling_partner_id", "region", "marketplace_ids")}
        | {"refresh_token_secret_id": refresh_token_secret(account["account_id"])}
        for account in info["accounts"]
    ])  # fmt: skip
    endpoints = {"SpApiEndpoint": info["spapi_endpoint"], "LwaEndpoint": info["lwa_endpoint"]}
    extra = OFFLINE_PARAMETERS | endpoints
    if warehouse is not None:  # the same loader and statements, on a DuckDB file instead of Redshift
        extra |= {"DeployWarehouse": "true", "Executor": "duckdb", "DuckDbPath": str(warehouse)}
    return main_parameters(PREFIX, ARTIFACTS_BUCKET, templates_url, accounts, **extra)


def refresh_token_secret(account_id: str) -> str:
    """Where the offline operator keeps each account's refresh token (the accounts registry names it)."""
    return f"{PREFIX}/refresh-token/{account_id}"


def provision(sandbox: RunningSandbox, warehouse: Path) -> Deployment:
    """Upload the artifacts and templates, deploy the entry stack into moto, make what moto skips, then do the
    operator's step. The warehouse part loads the DuckDB file `warehouse`; BI (QuickSight) has no offline form and is
    not deployed (its template is checked by cfn-lint and the tests)."""
    s3, cfn = aws.client("s3"), aws.client("cloudformation")
    s3.create_bucket(Bucket=ARTIFACTS_BUCKET)
    upload_artifacts(s3, ARTIFACTS_BUCKET, with_dependencies=False)  # handlers run in this process, not from the zip
    templates_url = upload_templates(s3, ARTIFACTS_BUCKET)
    deploy_stack(cfn, PREFIX, {"TemplateBody": load_text(MAIN)}, offline_parameters(sandbox, templates_url, warehouse))
    deployment, made = Deployment(PREFIX), Made()
    by_part = {stack.part: stack for stack in STACKS}
    for part, stack_id in nested_stacks(cfn, PREFIX).items():
        template = packaged_template(by_part[part].template)
        make_skipped(stack_id, template, made)
        deployment.outputs |= outputs(cfn.describe_stacks(StackName=stack_id)["Stacks"][0])
        deployment.templates[part] = template
        for summary in stack_resources(cfn, stack_id):
            if summary.get("PhysicalResourceId"):
                deployment.resources[summary["LogicalResourceId"]] = (
                    summary["ResourceType"],
                    summary["PhysicalResourceId"],
                )
        for logical, physical in made.physical_ids.items():
            if logical in template["Resources"]:
                deployment.resources[logical] = (template["Resources"][logical]["Type"], physical)
    deployment.event_sources = made.event_sources
    deployment.unapplied_bucket_policies = made.unapplied_policies
    _operator_step(sandbox, deployment)
    return deployment


def _operator_step(sandbox: RunningSandbox, deployment: Deployment) -> None:
    """What the README asks a user to do after deploying: the app's LWA credentials into the app secret the stack
    made, each account's refresh token under the name the accounts registry gives it."""
    info, secrets = sandbox.info(), aws.client("secretsmanager")
    (app_secret,) = deployment.of_type("AWS::SecretsManager::Secret").values()  # the stacks' only secret
    secrets.put_secret_value(
        SecretId=app_secret,
        SecretString=json.dumps({"client_id": info["client_id"], "client_secret": info["client_secret"]}),
    )
    for account in info["accounts"]:
        secrets.create_secret(Name=refresh_token_secret(account["account_id"]), SecretString=account["refresh_token"],
                              KmsKeyId=deployment.kms_key_id)  # fmt: skip
    # Offline only: buckets Spark writes to use SSE-S3. The s3a connector propagates SSE-KMS to its rename copies and
    # the AWS SDK then insists on HTTPS, which moto's local server does not speak. On AWS every bucket is SSE-KMS.
    sse_s3 = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
    aws.client("s3").put_bucket_encryption(Bucket=deployment.curated_bucket, ServerSideEncryptionConfiguration=sse_s3)

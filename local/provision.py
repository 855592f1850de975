"""Provision the offline AWS resources with boto3, using the same names the CloudFormation stacks use."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ingestion_lambdas import aws

if TYPE_CHECKING:
    from sandbox.server import RunningSandbox

ROOT = Path(__file__).resolve().parent.parent
STATE_MACHINES = ROOT / "ingestion_lambdas" / "statemachines"
REPORT_PLAN = ROOT / "cloudformation" / "report-plan.json"
HANDLERS = ("subscribe", "plan_reports", "request_report", "process_notifications", "land_report", "reconcile",
            "plan_catalog", "fetch_batch")  # fmt: skip


def function_name(handler: str) -> str:
    return "spapi-lake-" + handler.replace("_", "-")


def substitution_key(handler: str) -> str:
    """ASL DefinitionSubstitutions key, e.g. land_report → LandReportFunctionArn (as in the CloudFormation template)."""
    return "".join(part.title() for part in handler.split("_")) + "FunctionArn"


def state_machine_name(asl: Path) -> str:
    return "spapi-lake-" + asl.name.removesuffix(".asl.json").replace("_", "-")


CURATION_JOB = "spapi-lake-curate-reports"


@dataclass
class LocalResources:
    raw_bucket: str = "spapi-lake-raw"
    curated_bucket: str = "spapi-lake-curated"
    artifacts_bucket: str = "spapi-lake-artifacts"
    database: str = "spapi_lake"
    app_secret_id: str = "spapi-lake/lwa-app"  # noqa: S105 - a secret name, not a secret
    accounts_parameter: str = "/spapi-lake/accounts"
    notifications_queue: str = "spapi-lake-notifications"
    ledger_table: str = "spapi-lake-report-ledger"
    targets_table: str = "spapi-lake-catalog-targets"
    report_plan_parameter: str = "/spapi-lake/report-plan"
    kms_key_id: str = ""
    queue_url: str = ""
    queue_arn: str = ""
    state_machines: dict[str, str] = field(default_factory=dict)

    def environment(self, sandbox: RunningSandbox) -> dict[str, str]:
        """The Lambda environment, as CloudFormation would set it (references only, never secret values)."""
        info = sandbox.info()
        return {
            "SPAPI_ENDPOINT": info["spapi_endpoint"],
            "LWA_ENDPOINT": info["lwa_endpoint"],
            "LWA_APP_SECRET_ID": self.app_secret_id,
            "ACCOUNTS_PARAMETER": self.accounts_parameter,
            "RAW_BUCKET": self.raw_bucket,
            "RAW_KMS_KEY_ID": self.kms_key_id,
            "LEDGER_TABLE": self.ledger_table,
            "TARGETS_TABLE": self.targets_table,
            "REPORT_PLAN_PARAMETER": self.report_plan_parameter,
            "NOTIFICATIONS_QUEUE_ARN": self.queue_arn,
            "LAND_REPORT_STATE_MACHINE_ARN": self.state_machines["land_report"],
            # The sandbox's clock runs fast: reconcile and FATAL retries follow it.
            "RECONCILE_AFTER_SECONDS": "4",
            "FATAL_COOLDOWN_SECONDS": "3",
        }


def render_definition(path: Path, substitutions: dict[str, str]) -> str:
    """What CloudFormation's DefinitionSubstitutions does to an ASL file."""
    text = path.read_text(encoding="utf-8")
    for key, value in substitutions.items():
        text = text.replace("${" + key + "}", value)
    return text


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Offline: invocations are routed to the handler named in the function config.")
    return buffer.getvalue()


def provision(sandbox: RunningSandbox, resources: LocalResources | None = None) -> LocalResources:
    res = resources or LocalResources()
    info = sandbox.info()
    s3, kms, secrets, ssm = aws.client("s3"), aws.client("kms"), aws.client("secretsmanager"), aws.client("ssm")
    res.kms_key_id = kms.create_key(Description="spapi-lake data key")["KeyMetadata"]["KeyId"]
    for bucket in (res.raw_bucket, res.curated_bucket, res.artifacts_bucket):
        s3.create_bucket(Bucket=bucket)
        # Offline, buckets Spark writes to use SSE-S3: the s3a connector propagates SSE-KMS to its rename copies and
        # the AWS SDK then insists on HTTPS, which moto's local server does not speak. On AWS every bucket is SSE-KMS.
        rule = (
            {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": res.kms_key_id}
            if bucket == res.raw_bucket
            else {"SSEAlgorithm": "AES256"}
        )
        s3.put_bucket_encryption(
            Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": rule}]}
        )
    secrets.create_secret(
        Name=res.app_secret_id,
        SecretString=json.dumps({"client_id": info["client_id"], "client_secret": info["client_secret"]}),
    )
    accounts = []
    for account in info["accounts"]:
        secret_id = f"spapi-lake/refresh-token/{account['account_id']}"
        secrets.create_secret(Name=secret_id, SecretString=account["refresh_token"])
        accounts.append(
            {key: account[key] for key in ("account_id", "kind", "selling_partner_id", "region", "marketplace_ids")}
            | {"refresh_token_secret_id": secret_id}
        )
    ssm.put_parameter(Name=res.accounts_parameter, Type="String", Value=json.dumps(accounts))
    ssm.put_parameter(Name=res.report_plan_parameter, Type="String", Value=REPORT_PLAN.read_text(encoding="utf-8"))
    _queues(res)
    _tables(res)
    _functions_and_state_machines(res)
    _glue(res)
    return res


def _queues(res: LocalResources) -> None:
    sqs = aws.client("sqs")
    dlq = sqs.create_queue(QueueName=f"{res.notifications_queue}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    res.queue_url = sqs.create_queue(
        QueueName=res.notifications_queue,
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"}),
            "VisibilityTimeout": "5",  # offline: a failed record comes back quickly
        },
    )["QueueUrl"]
    res.queue_arn = sqs.get_queue_attributes(QueueUrl=res.queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]


def _tables(res: LocalResources) -> None:
    dynamodb = aws.client("dynamodb")
    dynamodb.create_table(
        TableName=res.ledger_table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "request_key", "AttributeType": "S"},
            {"AttributeName": "report_id", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "request_key", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "report_id-index",
                "KeySchema": [{"AttributeName": "report_id", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    dynamodb.create_table(
        TableName=res.targets_table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "scope", "AttributeType": "S"},
            {"AttributeName": "target", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "scope", "KeyType": "HASH"}, {"AttributeName": "target", "KeyType": "RANGE"}],
    )


def _functions_and_state_machines(res: LocalResources) -> None:
    iam, lam, sfn = aws.client("iam"), aws.client("lambda"), aws.client("stepfunctions")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
            }
        ],
    }
    role_arn = iam.create_role(RoleName="spapi-lake-local", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    code = _placeholder_zip()
    arns: dict[str, str] = {}
    for handler in HANDLERS:
        arns[substitution_key(handler)] = lam.create_function(
            FunctionName=function_name(handler),
            Runtime="python3.11",
            Role=role_arn,
            Handler=f"ingestion_lambdas.handlers.{handler}.lambda_handler",
            Code={"ZipFile": code},
            Timeout=900,
            MemorySize=512,
        )["FunctionArn"]
    for path in sorted(STATE_MACHINES.glob("*.asl.json")):
        definition = render_definition(path, arns)
        res.state_machines[path.name.removesuffix(".asl.json")] = sfn.create_state_machine(
            name=state_machine_name(path), definition=definition, roleArn=role_arn
        )["stateMachineArn"]


def _glue(res: LocalResources) -> None:
    glue = aws.client("glue")
    glue.create_database(DatabaseInput={"Name": res.database, "Description": "SP-API curated data"})
    script = f"s3://{res.artifacts_bucket}/glue_jobs/curate_reports/job.py"
    aws.client("s3").put_object(
        Bucket=res.artifacts_bucket,
        Key=script.split("/", 3)[3],
        Body=(ROOT / "glue_jobs" / "curate_reports" / "job.py").read_bytes(),
    )
    glue.create_job(
        Name=CURATION_JOB,
        Role="spapi-lake-local",
        GlueVersion="5.0",
        Command={"Name": "glueetl", "ScriptLocation": script, "PythonVersion": "3"},
        DefaultArguments={
            "--raw_bucket": res.raw_bucket,
            "--curated_bucket": res.curated_bucket,
            "--database": res.database,
        },
        ExecutionProperty={"MaxConcurrentRuns": 10},
    )

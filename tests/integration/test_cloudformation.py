"""The storage and ingestion templates deploy on moto's CloudFormation, and what moto builds is what the code uses."""

import io
import json
import zipfile

import pytest
from moto.stepfunctions.models import stepfunctions_backends

from ingestion_lambdas import aws
from local.cloudformation import ROOT, load, packaged
from local.deploy import build_package

ACCOUNT, REGION = "123456789012", "us-east-1"  # moto's defaults
PREFIX = "cfntest"
ARTIFACTS = "cfntest-artifacts"


@pytest.fixture(scope="module")
def deployed(stack):
    s3, cfn = aws.client("s3"), aws.client("cloudformation")
    s3.create_bucket(Bucket=ARTIFACTS)
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("ingestion_lambdas/__init__.py", "")
    s3.put_object(Bucket=ARTIFACTS, Key="ingestion/lambda.zip", Body=package.getvalue())
    cfn.create_stack(StackName=f"{PREFIX}-storage", TemplateBody=packaged("storage.yaml"),
                     Parameters=[{"ParameterKey": "Prefix", "ParameterValue": PREFIX}])  # fmt: skip
    plan = (ROOT / "cloudformation" / "report-plan.json").read_text()
    cfn.create_stack(
        StackName=f"{PREFIX}-ingestion",
        TemplateBody=packaged("ingestion.yaml"),
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[
            {"ParameterKey": "Prefix", "ParameterValue": PREFIX},
            {"ParameterKey": "ArtifactsBucket", "ParameterValue": ARTIFACTS},
            {"ParameterKey": "ReportPlanJson", "ParameterValue": plan},
        ],
    )
    return {s["StackName"]: s for s in cfn.describe_stacks()["Stacks"]}


def test_both_stacks_deploy(deployed):
    stacks = deployed
    assert stacks[f"{PREFIX}-storage"]["StackStatus"] == "CREATE_COMPLETE"
    assert stacks[f"{PREFIX}-ingestion"]["StackStatus"] == "CREATE_COMPLETE"


def test_the_queue_has_its_dead_letter_queue_and_lets_sp_api_send(deployed):
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{PREFIX}-notifications")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"].endswith(f"{PREFIX}-notifications-dlq")
    # moto skips AWS::SQS::QueuePolicy, so the policy is checked in the template itself
    template = load("ingestion.yaml")
    statement = template["Resources"]["NotificationsQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert template["Parameters"]["SpApiNotificationsAccount"]["Default"] == "437568002678"
    assert statement["Principal"] == {"AWS": {"Ref": "SpApiNotificationsAccount"}}
    assert set(statement["Action"]) == {"sqs:SendMessage", "sqs:GetQueueAttributes"}


def test_the_ledger_has_the_report_id_index_the_code_queries(deployed):
    table = aws.client("dynamodb").describe_table(TableName=f"{PREFIX}-report-ledger")["Table"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["report_id-index"]
    assert table["KeySchema"] == [{"AttributeName": "request_key", "KeyType": "HASH"}]


def test_functions_run_the_real_handlers_with_references_only(deployed):
    lam = aws.client("lambda")
    land = lam.get_function(FunctionName=f"{PREFIX}-land-report")["Configuration"]
    assert land["Handler"] == "ingestion_lambdas.handlers.land_report.lambda_handler"
    env = land["Environment"]["Variables"]
    assert env["LEDGER_TABLE"] == f"{PREFIX}-report-ledger" and env["RAW_BUCKET"].startswith(f"{PREFIX}-raw-")
    assert not any("secret" in v.lower() and "/" not in v for v in env.values())  # names of secrets, never values
    handlers = {
        f["Handler"].split(".")[2] for f in lam.list_functions()["Functions"] if f["FunctionName"].startswith(PREFIX)
    }
    modules = {p.stem for p in (ROOT / "ingestion_lambdas" / "handlers").glob("*.py") if p.stem != "__init__"}
    assert handlers == modules
    mappings = lam.list_event_source_mappings(FunctionName=f"{PREFIX}-process-notifications")["EventSourceMappings"]
    assert mappings and mappings[0]["EventSourceArn"].endswith(f"{PREFIX}-notifications")


def test_state_machines_get_the_asl_files_with_function_arns_substituted(deployed):
    # With ASL execution switched on, moto's API serves a different backend from the one its CloudFormation fills,
    # so the deployed definitions are read from the latter (moto runs in this process).
    machines = {m.name: m.definition for m in stepfunctions_backends[ACCOUNT][REGION].state_machines}
    definition = json.loads(machines[f"{PREFIX}-land-report"])
    task = definition["States"]["LandReport"]
    assert task["Parameters"]["FunctionName"].endswith(f"function:{PREFIX}-land-report")
    assert {e for r in task["Retry"] for e in r["ErrorEquals"]} >= {"SpApiThrottledError", "TruncatedDownloadError"}
    assert {f"{PREFIX}-request-reports", f"{PREFIX}-catalog-and-listings"} <= set(machines)
    assert not any("${" in text for text in machines.values())


def test_the_lambda_package_holds_every_handler_and_the_raw_zone_contract(tmp_path):
    package = build_package(tmp_path / "lambda.zip", with_dependencies=False)
    names = set(zipfile.ZipFile(package).namelist())
    handlers = {f"ingestion_lambdas/handlers/{p.name}" for p in (ROOT / "ingestion_lambdas" / "handlers").glob("*.py")}
    assert handlers <= names and "lake_formation/raw_zone.py" in names
    assert not any("__pycache__" in name for name in names)


def test_the_curation_workflow_curates_every_dataset_of_the_registry():
    from lake_formation import registry  # noqa: PLC0415

    resources = load("curation.yaml")["Resources"]
    scheduled = resources["ReportDatasetsTrigger"]["Properties"]
    conditional = resources["ItemDatasetsTrigger"]["Properties"]
    assert scheduled["Type"] == "SCHEDULED" and conditional["Type"] == "CONDITIONAL"
    curated = [a["Arguments"]["--dataset"] for t in (scheduled, conditional) for a in t["Actions"]]
    assert sorted(curated) == sorted(registry.load_all())
    job = resources["CurationJob"]["Properties"]
    assert (
        job["GlueVersion"] == "5.0" and "great_expectations==" in job["DefaultArguments"]["--additional-python-modules"]
    )

"""The offline world is the CloudFormation templates deployed into moto: what they declare is what the code uses."""

import json
import re
import zipfile

from moto.stepfunctions.models import stepfunctions_backends

from deployment import main_template
from deployment.artifacts import build_package
from deployment.main_template import MAIN
from deployment.stacks import nested_stacks
from deployment.templates import ROOT, STACKS, load, packaged_template
from ingestion_lambdas import aws
from ingestion_lambdas.settings import ENVIRONMENT
from lake_formation import registry
from local.moto_gaps import ACCOUNT, REGION, uncovered_types

LOCAL = ROOT / "local"


def template_variables() -> set[str]:
    """Every environment variable a template gives a Lambda function."""
    names = set()
    for stack in STACKS:
        for resource in load(stack.template)["Resources"].values():
            if resource["Type"] == "AWS::Lambda::Function":
                names |= set(resource["Properties"].get("Environment", {}).get("Variables", {}))
    return names


def test_the_entry_stack_deploys_every_part_as_a_nested_stack(stack):
    cfn = aws.client("cloudformation")
    prefix = stack.resources.prefix
    nested = nested_stacks(cfn, prefix)
    # BI (QuickSight) has no offline form: its template is checked by cfn-lint and tests/unit/test_bi.py
    assert set(nested) == {s.part for s in STACKS if s.part != "bi"}
    statuses = {s["StackName"]: s["StackStatus"] for s in cfn.describe_stacks()["Stacks"]}
    assert statuses[prefix] == "CREATE_COMPLETE"
    assert {statuses[cfn.describe_stacks(StackName=i)["Stacks"][0]["StackName"]] for i in nested.values()} == {
        "CREATE_COMPLETE"
    }
    # each part got exactly the parameters it declares, from the entry stack's
    ingestion = cfn.describe_stacks(StackName=nested["ingestion"])["Stacks"][0]
    assert {p["ParameterKey"] for p in ingestion["Parameters"]} == set(load("ingestion.yaml")["Parameters"])


def test_the_entry_template_is_rendered_from_the_parts_and_each_part_imports_only_earlier_parts():
    assert (ROOT / "cloudformation" / MAIN).read_text() == main_template.template_yaml()
    order = [s.part for s in STACKS]
    for part, imported in main_template.imported_parts().items():
        assert all(order.index(earlier) < order.index(part) for earlier in imported), part
        after = load(MAIN)["Resources"][next(s.logical_id for s in STACKS if s.part == part)].get("DependsOn", [])
        assert {s.part for s in STACKS if s.logical_id in after} >= imported
    assert main_template.imported_parts()["ingestion"] == {"storage"}


def test_every_resource_type_is_deployed_by_moto_or_made_by_hand():
    for stack in STACKS:
        if stack.part == "bi":
            continue
        template = load(stack.template)
        # offline the warehouse stack runs with Executor=duckdb: its Redshift resources are not made
        template["Resources"] = {k: r for k, r in template["Resources"].items() if r.get("Condition") != "OnRedshift"}
        assert uncovered_types(template) == set(), stack.template
    # ...and the check fails for a type nobody deploys, as soon as a template gains one.
    template = load("curation.yaml")
    template["Resources"]["Dashboard"] = {"Type": "AWS::QuickSight::Dashboard", "Properties": {"Name": "sales"}}
    assert uncovered_types(template) == {"AWS::QuickSight::Dashboard"}


def test_each_setting_has_its_template_variable_and_each_variable_its_setting():
    assert template_variables() == set(ENVIRONMENT.values())


def test_local_declares_no_resource_name_variable_or_handler_of_the_templates(stack):
    source = "\n".join(p.read_text() for p in LOCAL.glob("*.py"))
    names = {physical for _, physical in stack.resources.resources.values() if len(physical) > 8}
    names |= {name.split(":")[-1] for name in names if name.startswith("arn:")}
    declared = [n for n in names | template_variables() if re.search(rf"[\"'/]{re.escape(n)}[\"'/]", source)]
    assert declared == []
    assert "ingestion_lambdas.handlers." not in source


def test_the_queue_has_its_dead_letter_queue_and_lets_sp_api_send(stack):
    sqs = aws.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=stack.resources.queue_url, AttributeNames=["All"])["Attributes"]
    assert json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"].endswith("-notifications-dlq")
    (statement,) = json.loads(attributes["Policy"])["Statement"]  # made by hand from the template resource
    assert load("ingestion.yaml")["Parameters"]["SpApiNotificationsAccount"]["Default"] == "437568002678"
    assert statement["Principal"] == {"AWS": "437568002678"}
    assert set(statement["Action"]) == {"sqs:SendMessage", "sqs:GetQueueAttributes"}
    # the queue is encrypted with the data key, and the deployed key policy lets that account use it through SQS
    assert attributes["KmsMasterKeyId"] == stack.resources.kms_key_id
    policy = aws.client("kms").get_key_policy(KeyId=stack.resources.kms_key_id, PolicyName="default")["Policy"]
    (sp_api,) = (s for s in json.loads(policy)["Statement"] if s.get("Sid") == "SpApiSendsToEncryptedQueue")
    assert sp_api["Principal"] == {"AWS": "arn:aws:iam::437568002678:root"}
    assert sp_api["Condition"] == {"StringEquals": {"kms:ViaService": f"sqs.{REGION}.amazonaws.com"}}


def test_the_ledger_has_the_report_id_index_the_code_queries(stack):
    name = stack.resources.environment()["LEDGER_TABLE"]
    table = aws.client("dynamodb").describe_table(TableName=name)["Table"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["report_id-index"]
    assert table["KeySchema"] == [{"AttributeName": "request_key", "KeyType": "HASH"}]


def test_functions_run_the_real_handlers_with_references_only(stack):
    lam = aws.client("lambda")
    land = lam.get_function(FunctionName=stack.resources.functions["land_report"])["Configuration"]
    env = land["Environment"]["Variables"]
    assert env["RAW_BUCKET"] == stack.resources.raw_bucket
    assert not any("secret" in str(v).lower() and "/" not in str(v) for v in env.values())  # secret names only
    modules = {p.stem for p in (ROOT / "ingestion_lambdas" / "handlers").glob("*.py") if p.stem != "__init__"}
    assert set(stack.resources.functions) == modules
    (mapping,) = lam.list_event_source_mappings(FunctionName=stack.resources.functions["process_notifications"])[
        "EventSourceMappings"
    ]
    assert mapping["EventSourceArn"] == stack.resources.queue_arn
    assert mapping["State"] == "Disabled"  # moto's own delivery is off; local/event_sources.py polls as AWS does


def test_state_machines_run_the_asl_files_with_function_arns_substituted(stack):
    described = aws.client("stepfunctions").describe_state_machine(
        stateMachineArn=stack.resources.state_machines["land_report"]
    )
    task = json.loads(described["definition"])["States"]["LandReport"]
    assert task["Parameters"]["FunctionName"].endswith(f"function:{stack.resources.functions['land_report']}")
    assert {e for r in task["Retry"] for e in r["ErrorEquals"]} >= {"SpApiThrottledError", "TruncatedDownloadError"}
    # moto's CloudFormation filled its own backend with the same definitions
    machines = {m.name: m.definition for m in stepfunctions_backends[ACCOUNT][REGION].state_machines}
    assert not any("${" in text for text in machines.values())
    assert {arn.rsplit(":", 1)[1] for arn in stack.resources.state_machines.values()} == set(machines)


def test_the_lambda_package_holds_every_handler_and_the_raw_zone_contract(tmp_path):
    package = build_package(tmp_path / "lambda.zip", with_dependencies=False)
    names = set(zipfile.ZipFile(package).namelist())
    handlers = {f"ingestion_lambdas/handlers/{p.name}" for p in (ROOT / "ingestion_lambdas" / "handlers").glob("*.py")}
    assert handlers <= names and "lake_formation/raw_zone.py" in names
    assert not any("__pycache__" in name for name in names)


def test_the_curation_workflow_curates_every_dataset_of_the_registry(stack):
    glue = aws.client("glue")
    triggers = glue.get_triggers()["Triggers"]  # the deployed triggers, in the order the stacks made them
    datasets = [{a["Arguments"]["--dataset"] for a in t["Actions"] if "--dataset" in a.get("Arguments", {})}
                for t in triggers]  # fmt: skip
    assert [t["Type"] for t in triggers] == ["SCHEDULED", "CONDITIONAL", "CONDITIONAL"]
    assert datasets[0] == {name for name, d in registry.load_all().items() if d.source.kind == "report"}
    assert datasets[1] == {name for name, d in registry.load_all().items() if d.source.kind == "api"}
    # the item datasets once the report datasets' job succeeded, on a job of their own (the same job otherwise)...
    reports_job, items_job = (
        {a["JobName"] for a in triggers[0]["Actions"]},
        {a["JobName"] for a in triggers[1]["Actions"]},
    )
    assert [c["JobName"] for c in triggers[1]["Predicate"]["Conditions"]] == [*reports_job]
    resources = load("curation.yaml")["Resources"]
    same = {k: v for k, v in resources["CurationJob"]["Properties"].items() if k != "Name"}
    assert same == {k: v for k, v in resources["ItemCurationJob"]["Properties"].items() if k != "Name"}
    # ...and then the warehouse load, in the same workflow, once the item datasets' job succeeded
    assert [a["JobName"] for a in triggers[2]["Actions"]] == [stack.resources.loader_job]
    assert [c["JobName"] for c in triggers[2]["Predicate"]["Conditions"]] == [*items_job] != [*reports_job]
    assert triggers[2]["WorkflowName"] == triggers[0]["WorkflowName"]
    loader = glue.get_job(JobName=stack.resources.loader_job)["Job"]
    assert loader["DefaultArguments"]["--warehouse"] == f"duckdb://{stack.resources.warehouse}"
    assert loader["ExecutionProperty"]["MaxConcurrentRuns"] == 1
    job = glue.get_job(JobName=stack.resources.curation_job)["Job"]
    assert job["GlueVersion"] == "5.0"
    assert "great_expectations==" in job["DefaultArguments"]["--additional-python-modules"]
    assert job["DefaultArguments"]["--raw_bucket"] == stack.resources.raw_bucket


def test_every_glue_job_runs_with_the_security_configuration_the_storage_stack_made(stack):
    glue = aws.client("glue")
    name = stack.resources.outputs["GlueSecurityConfigurationName"]
    encryption = glue.get_security_configuration(Name=name)["SecurityConfiguration"]["EncryptionConfiguration"]
    assert [e["KmsKeyArn"] for e in encryption["S3Encryption"]] == [stack.resources.kms_key_id]
    jobs = stack.resources.of_type("AWS::Glue::Job").values()
    assert jobs and {glue.get_job(JobName=job)["Job"]["SecurityConfiguration"] for job in jobs} == {name}


def test_the_report_plan_is_the_registry_rendered():
    from lake_formation.render import report_plan_json  # noqa: PLC0415

    assert (ROOT / "cloudformation" / "report-plan.json").read_text() == report_plan_json()


def test_kms_key_policies_ship_as_json_text():
    key = packaged_template("storage.yaml")["Resources"]["DataKey"]["Properties"]["KeyPolicy"]
    assert json.loads(key["Fn::Sub"])["Statement"][0]["Principal"]["AWS"].endswith(":root")


def test_bucket_policies_deny_plain_http_and_are_kept_unapplied_offline(stack):
    policies = stack.resources.unapplied_bucket_policies
    log_bucket = stack.resources.outputs["LogBucketName"]
    assert set(policies) == {stack.resources.raw_bucket, stack.resources.curated_bucket, log_bucket}
    for bucket, policy in policies.items():
        deny, *allows = json.loads(policy)["Statement"]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        # only the log bucket lets anyone in: S3's logging service, writing this account's access logs
        assert [(a["Principal"], a["Action"]) for a in allows] == (
            [({"Service": "logging.s3.amazonaws.com"}, "s3:PutObject")] if bucket == log_bucket else []
        )


def test_the_raw_bucket_keeps_versions_and_blocks_public_access_as_the_template_says(stack):
    s3 = aws.client("s3")
    assert s3.get_bucket_versioning(Bucket=stack.resources.raw_bucket)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=stack.resources.raw_bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=stack.resources.raw_bucket)["Rules"]
    assert rule["Transitions"] == [{"Days": 30, "StorageClass": "STANDARD_IA"}]

"""The security posture of every template in cloudformation/ (also one added later): least-privilege policies, and the
data key, a retention and point-in-time recovery wherever data or logs rest. `make security` (checkov) checks the
generic rules; these hold the project's own."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from deployment.templates import STATE_MACHINES, TEMPLATES, load

if TYPE_CHECKING:
    from collections.abc import Iterator

TEMPLATE_NAMES = sorted(path.name for path in TEMPLATES.glob("*.yaml"))

# Actions that have no resource type in the Service Authorization Reference: a policy can only name them with
# Resource "*". Each is bounded another way, said beside it.
RESOURCELESS_ACTIONS = {
    "lakeformation:GetDataAccess",  # what it vends is decided by the Lake Formation grants
    "cloudwatch:PutMetricData",  # bounded by the cloudwatch:namespace condition
    "redshift-data:DescribeStatement",  # statement ids: bounded by redshift-data:statement-owner-iam-userid
    "redshift-data:GetStatementResult",  # likewise
    "redshift-data:CancelStatement",  # likewise
}
IDENTITY_POLICY_TYPES = {"AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"}
RESOURCE_POLICY_TYPES = {"AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"}


def _resources(kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name in TEMPLATE_NAMES:
        for logical, resource in load(name)["Resources"].items():
            if resource["Type"] == kind:
                yield name, logical, resource.get("Properties", {})


def _statements(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A policy's statements, both sides of each Fn::If (a condition may hold in some deployment)."""
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if set(statement) == {"Fn::If"}:
            for branch in statement["Fn::If"][1:]:
                if branch != {"Ref": "AWS::NoValue"}:
                    yield branch
        else:
            yield statement


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policies(template: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(logical id, kind, policy document) of every policy in a template: kind is identity, resource or key."""
    for logical, resource in template.get("Resources", {}).items():
        kind, properties = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                yield logical, "identity", policy["PolicyDocument"]
        elif kind in IDENTITY_POLICY_TYPES:
            yield logical, "identity", properties["PolicyDocument"]
        elif kind in RESOURCE_POLICY_TYPES:
            yield logical, "resource", properties["PolicyDocument"]
        elif kind == "AWS::KMS::Key":
            yield logical, "key", properties["KeyPolicy"]


def _is_account_root(principal: Any) -> bool:
    """The key policy's own-account statement (AWS's default key policy): it hands the key's use to IAM policies."""
    return principal == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}


def privilege_problems(template: dict[str, Any]) -> list[str]:
    """Every Allow that grants a wildcard action, or Resource "*" for an action that has a resource type."""
    problems = []
    for logical, kind, document in policies(template):
        for statement in _statements(document):
            if statement.get("Effect") != "Allow":
                continue  # a Deny may be as broad as it likes (e.g. every s3 action without TLS)
            if kind == "key" and _is_account_root(statement.get("Principal")):
                continue
            actions = [str(a) for a in _listed(statement.get("Action", []))]
            problems += [f"{logical}: wildcard action {a}" for a in actions if "*" in a]
            resources = _listed(statement.get("Resource", []))
            if "*" in resources and kind != "key":  # in a key policy "*" is the key itself
                problems += [f"{logical}: {a} on Resource *" for a in actions if a not in RESOURCELESS_ACTIONS]
            for resource in resources:
                text = resource.get("Fn::Sub") if isinstance(resource, dict) else resource
                text = text[0] if isinstance(text, list) else text
                if isinstance(text, str) and text.endswith("${AWS::AccountId}:*"):
                    problems.append(f"{logical}: every resource of a service in the account ({text})")
    return problems


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_no_policy_grants_a_wildcard_action_or_an_unnamed_resource(name):
    assert privilege_problems(load(name)) == []


def test_the_privilege_check_finds_wildcards_unnamed_resources_and_whole_services():
    template = {"Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "p", "PolicyDocument": {
            "Statement": [
                {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
                {"Effect": "Allow", "Action": ["lakeformation:GetDataAccess", "glue:GetTable"], "Resource": "*"},
                {"Fn::If": ["C", {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:sqs:::q"},
                            {"Ref": "AWS::NoValue"}]},
                {"Effect": "Allow", "Action": "logs:PutLogEvents",
                 "Resource": {"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*"}},
                {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
            ]}}]}},
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [
            {"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "kms:*", "Resource": "*"},
        ]}}},
    }}  # fmt: skip
    assert privilege_problems(template) == [
        "Role: wildcard action s3:*",
        "Role: glue:GetTable on Resource *",
        "Role: wildcard action *",
        "Role: every resource of a service in the account "
        "(arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*)",
        "Key: wildcard action kms:*",
    ]


def _sub_text(value: Any) -> str:
    return str(value["Fn::Sub"] if isinstance(value, dict) else value)


def test_each_function_logs_to_its_own_log_group_encrypted_and_with_a_retention():
    functions = list(_resources("AWS::Lambda::Function"))
    assert functions
    groups = {(name, _sub_text(p["LogGroupName"])): p for name, _, p in _resources("AWS::Logs::LogGroup")}
    for name, logical, function in functions:
        group = groups.get((name, "/aws/lambda/" + _sub_text(function["FunctionName"])))
        assert group is not None, f"{logical} has no log group of its own"
        assert "KmsKeyId" in group and "RetentionInDays" in group, logical


def test_each_table_is_encrypted_with_the_data_key_and_recoverable_to_a_point_in_time():
    tables = list(_resources("AWS::DynamoDB::Table"))
    assert tables
    for _, logical, table in tables:
        assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, logical
        sse = table["SSESpecification"]
        assert sse["SSEEnabled"] is True and sse["SSEType"] == "KMS" and "KMSMasterKeyId" in sse, logical


def test_each_queue_and_secret_is_encrypted_with_the_data_key():
    data_key = {"Fn::ImportValue": {"Fn::Sub": "${Prefix}-data-key-arn"}}
    queues, secrets = list(_resources("AWS::SQS::Queue")), list(_resources("AWS::SecretsManager::Secret"))
    assert queues and secrets
    for _, logical, queue in queues:
        assert queue.get("KmsMasterKeyId") == data_key and "SqsManagedSseEnabled" not in queue, logical
    for _, logical, secret in secrets:
        assert secret.get("KmsKeyId") == data_key, logical


def test_the_data_key_lets_sp_api_send_to_the_encrypted_queue_and_logs_encrypt_log_groups():
    (key,) = (p["KeyPolicy"] for _, _, p in _resources("AWS::KMS::Key"))
    by_sid = {s["Sid"]: s for s in _statements(key)}
    sp_api = by_sid["SpApiSendsToEncryptedQueue"]
    assert sp_api["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${SpApiNotificationsAccount}:root"}}
    assert sorted(sp_api["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert load("storage.yaml")["Parameters"]["SpApiNotificationsAccount"]["Default"] == "437568002678"
    logs = by_sid["CloudWatchLogsEncryptsLogGroups"]
    assert logs["Principal"] == {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}}
    assert "kms:EncryptionContext:aws:logs:arn" in logs["Condition"]["ArnLike"]


def test_each_glue_job_runs_with_the_security_configuration_that_encrypts_s3_logs_and_bookmarks():
    jobs = list(_resources("AWS::Glue::Job"))
    assert jobs
    security_configuration = {"Fn::ImportValue": {"Fn::Sub": "${Prefix}-glue-security-configuration"}}
    for _, logical, job in jobs:
        assert job.get("SecurityConfiguration") == security_configuration, logical
    (configuration,) = (p["EncryptionConfiguration"] for _, _, p in _resources("AWS::Glue::SecurityConfiguration"))
    assert [e["S3EncryptionMode"] for e in configuration["S3Encryptions"]] == ["SSE-KMS"]
    assert configuration["CloudWatchEncryption"]["CloudWatchEncryptionMode"] == "SSE-KMS"
    assert configuration["JobBookmarksEncryption"]["JobBookmarksEncryptionMode"] == "CSE-KMS"


def test_each_bucket_keeps_versions_for_a_while_and_logs_access_to_the_log_bucket():
    buckets = list(_resources("AWS::S3::Bucket"))
    assert buckets
    for _, logical, bucket in buckets:
        assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}, logical
        rules = bucket["LifecycleConfiguration"]["Rules"]
        assert any("NoncurrentVersionExpiration" in rule for rule in rules), f"{logical} keeps old versions forever"
        if logical != "LogBucket":  # the log bucket is the target: logging itself would never end
            target = bucket["LoggingConfiguration"]["DestinationBucketName"]
            assert target in ({"Ref": "LogBucket"}, {"Fn::ImportValue": {"Fn::Sub": "${Prefix}-log-bucket"}}), logical


def _map_concurrency(states: dict[str, Any], variable: str) -> int:
    """How many invocations of the function ASL variable `variable` the states may run at once (Map states'
    MaxConcurrency, Parallel branches side by side)."""
    total = 0
    for state in states.values():
        if state["Type"] == "Map":
            inner = state.get("ItemProcessor", state.get("Iterator", {}))["States"]
            invokes = json.dumps(inner).count("${" + variable + "}") > 0
            total += state.get("MaxConcurrency", 0) if invokes else 0
        elif state["Type"] == "Parallel":
            total += sum(_map_concurrency(branch["States"], variable) for branch in state["Branches"])
    return total


def _reserved_concurrency(name: str, value: Any) -> int:
    """A reserved concurrency as deployed by default (a number, or a parameter's default)."""
    if isinstance(value, dict):
        return int(load(name)["Parameters"][value["Ref"]]["Default"])
    return int(value)


def test_reserved_concurrency_leaves_room_for_every_map_state_that_invokes_the_function():
    reserved = {logical: _reserved_concurrency(name, p["ReservedConcurrentExecutions"])
                for name, logical, p in _resources("AWS::Lambda::Function")
                if "ReservedConcurrentExecutions" in p}  # fmt: skip
    assert reserved, "no function has a reserved concurrency"
    checked = set()
    for _, _, machine in _resources("AWS::StepFunctions::StateMachine"):
        asl = json.loads((STATE_MACHINES / machine["DefinitionS3Location"]["Key"].rsplit("/", 1)[-1]).read_text())
        for variable, value in machine.get("DefinitionSubstitutions", {}).items():
            function = value.get("Fn::GetAtt", [None])[0] if isinstance(value, dict) else None
            if function in reserved:
                assert reserved[function] >= _map_concurrency(asl["States"], variable), function
                checked.add(function)
    assert checked == set(reserved)  # every capped function is run by a state machine the check read


def test_no_role_leans_on_an_aws_managed_policy():
    # AWS's managed policies (AWSGlueServiceRole: glue:*, s3 and ec2 on *) are invisible to the checks above
    attached = [(name, logical, str(arn)) for name, logical, role in _resources("AWS::IAM::Role")
                for arn in role.get("ManagedPolicyArns", []) if ":iam::aws:policy/" in str(arn)]  # fmt: skip
    assert attached == []

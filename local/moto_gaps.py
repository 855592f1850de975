"""The template resources moto's CloudFormation does not deploy usably, made by hand, each from its own template
resource (its name and properties, resolved against the deployed stack).

moto's CloudFormation skips some resource types with a warning (Secrets Manager, Glue and its security
configurations, Lake Formation, Athena, the SQS and S3 policies, CloudWatch alarms, SNS topic policies and
subscriptions);
drops some properties of a type it deploys (an S3 bucket's versioning, lifecycle rules and public access block);
and deploys two types where moto's own APIs cannot use them: state machines go to a backend other than the one that
executes ASL, and an SQS event source mapping is run by moto once per message, inside SendMessage, ignoring
batchItemFailures. Each type here names what it makes instead (one, a bucket policy, is kept but not applied, and
says why); `uncovered_types` lists the types of a template that neither moto nor this module deploys, and a test
keeps that list empty for every template we ship.

Intrinsic functions (Ref, Fn::GetAtt, Fn::Sub, Fn::ImportValue, Fn::Join, ...) are resolved by moto's own resolver
against the stack moto deployed, so nothing here re-declares a name; this relies on moto internals (moto is pinned).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.cloudformation.models import cloudformation_backends
from moto.cloudformation.parsing import clean_json, get_model_map

from deployment.errors import StackFailedError
from ingestion_lambdas import aws

ACCOUNT, REGION = "123456789012", "us-east-1"  # moto's defaults


@dataclass(frozen=True)
class EventSource:
    """An SQS event source mapping, as the offline poller (local/event_sources.py) runs it."""

    queue_arn: str
    function_name: str
    batch_size: int

    @property
    def queue_url(self) -> str:
        _, _, _, region, account, name = self.queue_arn.split(":")
        return str(aws.client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])


@dataclass
class Made:
    """What the hand-made resources are: physical ids by logical id, and the event sources to poll."""

    physical_ids: dict[str, str] = field(default_factory=dict)
    event_sources: list[EventSource] = field(default_factory=list)
    unapplied_policies: dict[str, str] = field(default_factory=dict)  # bucket → policy JSON (see _bucket_policy)


Maker = Callable[[str, dict[str, Any], Made], str]


def _secret(logical_id: str, props: dict[str, Any], made: Made) -> str:
    # The template creates the secret empty ("set after deploying"); so does this. Values are the operator's step.
    kwargs = {key: props[key] for key in ("Name", "Description", "KmsKeyId", "SecretString") if key in props}
    return str(aws.client("secretsmanager").create_secret(**kwargs)["ARN"])


def _glue_database(logical_id: str, props: dict[str, Any], made: Made) -> str:
    database = props["DatabaseInput"]
    aws.client("glue").create_database(DatabaseInput=database)
    return str(database["Name"])


def _glue_job(logical_id: str, props: dict[str, Any], made: Made) -> str:
    aws.client("glue").create_job(**props)  # AWS::Glue::Job's properties are CreateJob's arguments
    return str(props["Name"])


def _glue_security_configuration(logical_id: str, props: dict[str, Any], made: Made) -> str:
    # CloudFormation's list is S3Encryptions, the API's S3Encryption; the rest is spelt alike.
    encryption = dict(props["EncryptionConfiguration"])
    encryption["S3Encryption"] = encryption.pop("S3Encryptions", [])
    aws.client("glue").create_security_configuration(Name=props["Name"], EncryptionConfiguration=encryption)
    return str(props["Name"])


def _glue_workflow(logical_id: str, props: dict[str, Any], made: Made) -> str:
    aws.client("glue").create_workflow(**props)
    return str(props["Name"])


def _glue_trigger(logical_id: str, props: dict[str, Any], made: Made) -> str:
    aws.client("glue").create_trigger(**props)  # moto stores triggers; the offline runner fires what they name
    return str(props["Name"])


def _glue_table(logical_id: str, props: dict[str, Any], made: Made) -> str:
    aws.client("glue").create_table(DatabaseName=props["DatabaseName"], TableInput=props["TableInput"])
    return f"{props['DatabaseName']}|{props['TableInput']['Name']}"


def _lake_settings(logical_id: str, props: dict[str, Any], made: Made) -> str:
    """DataLakeSettings in the API's spelling; MutationType APPEND keeps the admins already there."""
    lakeformation = aws.client("lakeformation")
    settings = dict(lakeformation.get_data_lake_settings()["DataLakeSettings"])
    admins = props.get("Admins", [])
    if props.get("MutationType") == "APPEND":
        admins = settings.get("DataLakeAdmins", []) + [a for a in admins if a not in settings.get("DataLakeAdmins", [])]
    settings |= {"DataLakeAdmins": admins}
    for key in ("CreateDatabaseDefaultPermissions", "CreateTableDefaultPermissions"):
        if key in props:
            settings[key] = props[key]
    lakeformation.put_data_lake_settings(DataLakeSettings=settings)
    return logical_id


def _lake_location(logical_id: str, props: dict[str, Any], made: Made) -> str:
    kwargs = {key: props[key] for key in ("ResourceArn", "RoleArn", "UseServiceLinkedRole") if key in props}
    aws.client("lakeformation").register_resource(**kwargs)
    return str(props["ResourceArn"])


def _lf_tag(logical_id: str, props: dict[str, Any], made: Made) -> str:
    aws.client("lakeformation").create_lf_tag(TagKey=props["TagKey"], TagValues=props["TagValues"])
    return str(props["TagKey"])


def _lf_tag_association(logical_id: str, props: dict[str, Any], made: Made) -> str:
    failures = aws.client("lakeformation").add_lf_tags_to_resource(Resource=props["Resource"], LFTags=props["LFTags"])
    if failures.get("Failures"):
        raise StackFailedError(f"{logical_id}: {failures['Failures']}")  # CloudFormation fails the same way
    return logical_id


def _lf_grant(logical_id: str, props: dict[str, Any], made: Made) -> str:
    aws.client("lakeformation").grant_permissions(
        Principal=props["Principal"], Resource=props["Resource"], Permissions=props["Permissions"],
        PermissionsWithGrantOption=props.get("PermissionsWithGrantOption", []),
    )  # fmt: skip
    return logical_id


def _athena_workgroup(logical_id: str, props: dict[str, Any], made: Made) -> str:
    configuration = dict(props.get("WorkGroupConfiguration", {}))
    configuration.pop("EngineVersion", None)  # moto's Athena keeps no engine version
    aws.client("athena").create_work_group(
        Name=props["Name"], Description=props.get("Description", ""), Configuration=configuration
    )
    return str(props["Name"])


def _queue_policy(logical_id: str, props: dict[str, Any], made: Made) -> str:
    policy = json.dumps(props["PolicyDocument"])
    for queue_url in props["Queues"]:
        aws.client("sqs").set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": policy})
    return logical_id


def _bucket_policy(logical_id: str, props: dict[str, Any], made: Made) -> str:
    # Kept, not applied: our bucket policies deny requests without TLS (aws:SecureTransport), moto evaluates that
    # condition, and moto's local server speaks plain HTTP. The resolved policy is kept for tests to read.
    made.unapplied_policies[str(props["Bucket"])] = json.dumps(props["PolicyDocument"])
    return logical_id


def _state_machine(logical_id: str, props: dict[str, Any], made: Made) -> str:
    # Created again through the API, under the same name (so the same ARN the other resources were given), in the
    # backend that executes ASL.
    return str(
        aws.client("stepfunctions").create_state_machine(
            name=props["StateMachineName"], definition=props["DefinitionString"], roleArn=props["RoleArn"]
        )["stateMachineArn"]
    )


def _event_source_mapping(logical_id: str, props: dict[str, Any], made: Made) -> str:
    lam = aws.client("lambda")
    function = str(lam.get_function(FunctionName=props["FunctionName"])["Configuration"]["FunctionName"])
    for mapping in lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]:
        if mapping["EventSourceArn"] == props["EventSourceArn"]:
            lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    made.event_sources.append(EventSource(str(props["EventSourceArn"]), function, int(props.get("BatchSize", 10))))
    return function


# PutMetricAlarm's numeric arguments, which a template may give as a parameter's (string) value.
_ALARM_NUMBERS = {"Threshold": float, "Period": int, "EvaluationPeriods": int, "DatapointsToAlarm": int}


def _alarm(logical_id: str, props: dict[str, Any], made: Made) -> str:
    # AWS::CloudWatch::Alarm's properties are PutMetricAlarm's arguments (moto keeps alarms, it evaluates none).
    kwargs = {key: _ALARM_NUMBERS.get(key, lambda v: v)(value) for key, value in props.items()}
    aws.client("cloudwatch").put_metric_alarm(**kwargs)
    return str(props["AlarmName"])


def _topic_policy(logical_id: str, props: dict[str, Any], made: Made) -> str:
    for topic_arn in props["Topics"]:
        aws.client("sns").set_topic_attributes(
            TopicArn=topic_arn, AttributeName="Policy", AttributeValue=json.dumps(props["PolicyDocument"])
        )
    return logical_id


def _subscription(logical_id: str, props: dict[str, Any], made: Made) -> str:
    return str(aws.client("sns").subscribe(TopicArn=props["TopicArn"], Protocol=props["Protocol"],
                                           Endpoint=props["Endpoint"])["SubscriptionArn"])  # fmt: skip


def _bucket_settings(logical_id: str, props: dict[str, Any], made: Made) -> str:
    """moto's CloudFormation makes the bucket and its encryption, and drops versioning, lifecycle rules and the
    public access block: those are applied here to the bucket it made."""
    s3, bucket = aws.client("s3"), str(props["BucketName"])
    if "VersioningConfiguration" in props:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration=props["VersioningConfiguration"])
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(
            Bucket=bucket, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
        )
    if "LifecycleConfiguration" in props:
        rules = [_lifecycle_rule(rule) for rule in props["LifecycleConfiguration"]["Rules"]]
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    return bucket


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the S3 API's spelling."""
    api: dict[str, Any] = {"ID": rule["Id"], "Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "Transitions" in rule:
        api["Transitions"] = [{"Days": t["TransitionInDays"], "StorageClass": t["StorageClass"]}
                              for t in rule["Transitions"]]  # fmt: skip
    if "ExpirationInDays" in rule:
        api["Expiration"] = {"Days": rule["ExpirationInDays"]}
    for key in ("NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload"):
        if key in rule:
            api[key] = rule[key]
    return api


HANDMADE: dict[str, Maker] = {
    "AWS::SecretsManager::Secret": _secret,
    "AWS::Glue::Database": _glue_database,
    "AWS::Glue::Job": _glue_job,
    "AWS::Glue::SecurityConfiguration": _glue_security_configuration,
    "AWS::Glue::Workflow": _glue_workflow,
    "AWS::Glue::Trigger": _glue_trigger,
    "AWS::SQS::QueuePolicy": _queue_policy,
    "AWS::S3::BucketPolicy": _bucket_policy,
    "AWS::StepFunctions::StateMachine": _state_machine,
    "AWS::Lambda::EventSourceMapping": _event_source_mapping,
    "AWS::Glue::Table": _glue_table,
    "AWS::LakeFormation::DataLakeSettings": _lake_settings,
    "AWS::LakeFormation::Resource": _lake_location,
    "AWS::LakeFormation::Tag": _lf_tag,
    "AWS::LakeFormation::TagAssociation": _lf_tag_association,
    "AWS::LakeFormation::PrincipalPermissions": _lf_grant,
    "AWS::Athena::WorkGroup": _athena_workgroup,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::SNS::TopicPolicy": _topic_policy,
    "AWS::SNS::Subscription": _subscription,
}
# Types moto deploys in part: the resource stays moto's, and the properties it drops are applied by hand.
HANDMADE_PROPERTIES: dict[str, Maker] = {"AWS::S3::Bucket": _bucket_settings}


def uncovered_types(template: dict[str, Any]) -> set[str]:
    """Resource types of the template that neither moto's CloudFormation nor this module deploys."""
    deployed_by_moto = set(get_model_map())
    return {str(r["Type"]) for r in template.get("Resources", {}).values()} - deployed_by_moto - set(HANDMADE)


def make_skipped(stack_name: str, template: dict[str, Any], made: Made) -> Made:
    """Make, in template order, each resource of the deployed stack that moto's CloudFormation left unusable."""
    stack = next(s for s in cloudformation_backends[ACCOUNT][REGION].stacks.values() if s.name == stack_name)
    for logical_id, resource in template["Resources"].items():
        if "Condition" in resource and not stack.resource_map.lazy_condition_map[resource["Condition"]]:
            continue  # not in this deployment (e.g. Redshift, when the warehouse runs on DuckDB)
        properties = _refs_to_made(resource.get("Properties", {}), made.physical_ids)
        if (maker := HANDMADE.get(resource["Type"])) is not None:
            made.physical_ids[logical_id] = maker(logical_id, clean_json(properties, stack.resource_map), made)
        elif (settings := HANDMADE_PROPERTIES.get(resource["Type"])) is not None:
            settings(logical_id, clean_json(properties, stack.resource_map), made)
    return made


def _refs_to_made(value: Any, physical_ids: dict[str, str]) -> Any:
    """`Ref` to a resource made here resolves to what was made (moto's resolver knows only its own resources)."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in physical_ids:
            return physical_ids[value["Ref"]]
        return {key: _refs_to_made(item, physical_ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_refs_to_made(item, physical_ids) for item in value]
    return value

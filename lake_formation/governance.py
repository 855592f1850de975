"""Lake Formation as code, rendered from the registry: `cloudformation/governance.yaml`.

    python -m lake_formation.governance > cloudformation/governance.yaml   (a test keeps the file equal to this)

What the stack holds:
- the curated tables themselves (AWS::Glue::Table from the registry, as the Glue job registers them), so every PII
  column is tagged before a single row lands: the job only keeps each table equal to the registry (UpdateTable);
- the raw and curated bucket locations registered with Lake Formation, with a role of this stack;
- LF-tags `layer` (raw, curated), `pii` (true, false) and `domain` (the registry's domains); the database carries
  layer=curated and pii=false, each table its domain, each PII column of the registry pii=true (a tag on a column
  overrides the one it inherits);
- grants by tag expression: analyst SELECT on layer=curated AND pii=false (so never a PII column, and every view
  created in the database, which inherits pii=false); curation all table permissions on layer=curated and the
  curated location; admin all of it, PII included; the ingestion roles the raw location;
- the analyst and admin roles, and the Athena workgroup analysts query through (KMS-encrypted results, enforced).

CloudFormation pitfalls met, and what the template does about each:
- A database created outside Lake Formation grants ALL to IAMAllowedPrincipals (IAM alone decides), which makes
  every LF grant moot, and so does each table created in it. DataLakeSettings sets CreateDatabaseDefaultPermissions
  and CreateTableDefaultPermissions to [], the storage stack's database its own CreateTableDefaultPermissions to [],
  and `spapi-lake deploy` revokes IAMAllowedPrincipals on the database and all its tables afterwards (for a database
  made before these settings: deployment/athena.py).
- DataLakeSettings replaces the whole admin list by default, locking out the admin who deploys. MutationType APPEND
  adds ours to whoever is admin already; everything Lake Formation makes DependsOn it (the deployer must be an admin
  first).
- AWS::LakeFormation::Permissions cannot grant on an LF-tag expression; PrincipalPermissions can, but every change
  replaces it, the new grant made before the old one is revoked, so what both hold is revoked: one resource per
  permission (and per PII column for the tag associations, which behave the same). Its Permissions and
  PermissionsWithGrantOption are both required (the latter []).
- Nothing orders an LF-tag before a grant or an association that names it only by its key string: each one
  DependsOn the tags it names, and the column associations DependsOn their table.
- A data-location grant needs the location registered first (DependsOn), and a location registered with the
  service-linked role cannot decrypt objects under a customer key: the locations use LakeLocationRole, which may
  use the data key.
- LF's data-location permission governs catalog resources pointing at a location (creating tables there); reading
  and writing objects with the S3 API stays IAM's (the ingestion roles' RawZoneWriterPolicy).
"""

from __future__ import annotations

import sys
from typing import Any, get_args

import yaml

from lake_formation import registry
from lake_formation.render import curated_location, glue_table_input

LAYERS = ["raw", "curated"]
TABLE_PERMISSIONS = ["SELECT", "INSERT", "DELETE", "DESCRIBE", "ALTER", "DROP"]
# Roles by the name `spapi-lake query --as` knows them, with the stack output holding each one's ARN.
ROLE_OUTPUTS = {"analyst": "AnalystRoleArn", "admin": "LakeAdminRoleArn", "curation": "CurationRoleArn"}


def _import(name: str) -> dict[str, Any]:
    return {"Fn::ImportValue": {"Fn::Sub": f"${{Prefix}}-{name}"}}


def _bucket_arn(export: str) -> dict[str, Any]:
    return {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${Bucket}", {"Bucket": _import(export)}]}


def _glue_arns(*resources: str) -> list[dict[str, Any]]:
    """Glue Data Catalog ARNs in the lake's database: `catalog`, `database/${Db}`, `table/${Db}/*`, ..."""
    arns: list[dict[str, Any]] = []
    for resource in resources:
        arn = f"arn:${{AWS::Partition}}:glue:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"
        arns.append({"Fn::Sub": [arn, {"Db": _import("database")}]} if "${Db}" in resource else {"Fn::Sub": arn})
    return arns


def _tag(key: str, *values: str) -> dict[str, Any]:
    return {"CatalogId": {"Ref": "AWS::AccountId"}, "TagKey": key, "TagValues": list(values)}


def _tag_logical_id(key: str) -> str:
    return f"Tag{key.title().replace('_', '')}"


def _grants(
    name: str, principal: Any, resource: dict[str, Any], permissions: list[str], needs: list[str]
) -> dict[str, Any]:
    """One PrincipalPermissions resource per permission (logical id `<name><Permission>`): a change to one replaces
    it, and CloudFormation creates the new one before it revokes the old, so a permission shared by both would be
    revoked; with one permission each, adding or dropping one never touches the others."""
    return {
        f"{name}{permission.title().replace('_', '')}": {
            "Type": "AWS::LakeFormation::PrincipalPermissions",
            "DependsOn": [*needs, "LakeSettings"],
            "Properties": {
                "Principal": {"DataLakePrincipalIdentifier": principal},
                "Resource": resource,
                "Permissions": [permission],
                "PermissionsWithGrantOption": [],
            },
        }
        for permission in permissions
    }


def _tag_policy(resource_type: str, **expression: str) -> dict[str, Any]:
    terms = [{"TagKey": key, "TagValues": [value]} for key, value in expression.items()]
    return {"LFTagPolicy": {"CatalogId": {"Ref": "AWS::AccountId"}, "ResourceType": resource_type, "Expression": terms}}


def _role(description: str, statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": description,
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRole",
                "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}}]},
            "Policies": [{"PolicyName": "lake", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}],
        },
    }  # fmt: skip


def _query_statements() -> list[dict[str, Any]]:
    """IAM side of querying through Lake Formation: Athena in the workgroup, catalog reads, LF's data access."""
    return [
        {"Effect": "Allow", "Action": ["athena:StartQueryExecution", "athena:GetQueryExecution",
                                        "athena:GetQueryResults", "athena:StopQueryExecution", "athena:GetWorkGroup"],
         "Resource": {"Fn::Sub": "arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:workgroup/"
                                 "${Workgroup}"}},
        # Athena resolves a query's names in the catalog; `default` too, which it looks up for every session.
        {"Effect": "Allow", "Action": ["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables",
                                        "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition",
                                        "glue:GetCatalog", "glue:GetCatalogs"],
         "Resource": _glue_arns("catalog", "database/${Db}", "table/${Db}/*", "database/default")},
        # Lake Formation vends the data's credentials: an action with no resource type (Service Authorization
        # Reference), so only "*"; what it vends is decided by the Lake Formation grants.
        {"Effect": "Allow", "Action": ["lakeformation:GetDataAccess"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:GetBucketLocation",
                                        "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
         "Resource": [{"Fn::GetAtt": ["QueryResultsBucket", "Arn"]},
                      {"Fn::Sub": "${QueryResultsBucket.Arn}/*"}]},
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": _import("data-key-arn")},
    ]  # fmt: skip


def _tables(database: dict[str, Any]) -> dict[str, Any]:
    """One Glue table per dataset, its domain tag, and its PII columns' tag."""
    resources: dict[str, Any] = {}
    for dataset in registry.load_all().values():
        name = "".join(part.title() for part in dataset.table.split("_"))
        location = {"Fn::Sub": [curated_location("${Bucket}", dataset.table), {"Bucket": _import("curated-bucket")}]}
        table_input = glue_table_input(dataset, "LOCATION")
        table_input["StorageDescriptor"]["Location"] = location
        resources[f"{name}Table"] = {
            "Type": "AWS::Glue::Table",
            "Properties": {"CatalogId": {"Ref": "AWS::AccountId"}, "DatabaseName": database, "TableInput": table_input},
        }
        resources[f"{name}DomainTag"] = {
            "Type": "AWS::LakeFormation::TagAssociation",
            "DependsOn": [_tag_logical_id("domain"), f"{name}Table", "LakeSettings"],
            "Properties": {
                "Resource": {
                    "Table": {"CatalogId": {"Ref": "AWS::AccountId"}, "DatabaseName": database, "Name": dataset.table}
                },
                "LFTags": [_tag("domain", dataset.domain)],
            },
        }
        for column in (c for c in dataset.data_columns if c.pii):
            # One association per column: a changed association is replaced (the new one made, the old one's tags
            # removed), so one association for all of a table's PII columns would untag them all when one is added.
            logical = f"{name}Pii{''.join(part.title() for part in column.name.split('_'))}"
            resources[logical] = {
                "Type": "AWS::LakeFormation::TagAssociation",
                "DependsOn": [_tag_logical_id("pii"), f"{name}Table", "LakeSettings"],
                "Properties": {
                    "Resource": {
                        "TableWithColumns": {
                            "CatalogId": {"Ref": "AWS::AccountId"},
                            "DatabaseName": database,
                            "Name": dataset.table,
                            "ColumnNames": [column.name],
                        }
                    },
                    "LFTags": [_tag("pii", "true")],
                },
            }
    return resources  # fmt: skip


def template() -> dict[str, Any]:
    database = _import("database")
    account = {"Ref": "AWS::AccountId"}
    tags = {"layer": LAYERS, "pii": ["true", "false"], "domain": list(get_args(registry.Domain))}
    resources: dict[str, Any] = {
        "LakeSettings": {
            "Type": "AWS::LakeFormation::DataLakeSettings",
            "Properties": {
                "Admins": [{"DataLakePrincipalIdentifier": {"Fn::GetAtt": ["LakeAdminRole", "Arn"]}},
                           {"DataLakePrincipalIdentifier": {"Ref": "DeployerArn"}}],
                "MutationType": "APPEND",
                "CreateDatabaseDefaultPermissions": [],
                "CreateTableDefaultPermissions": [],
            },
        },
        "LakeLocationRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": "Lake Formation's access to the registered raw and curated locations",
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Action": "sts:AssumeRole",
                    "Principal": {"Service": "lakeformation.amazonaws.com"}}]},
                "Policies": [{"PolicyName": "locations", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
                     "Resource": [_bucket_arn("raw-bucket"), _bucket_arn("curated-bucket"),
                                  {"Fn::Join": ["", [_bucket_arn("raw-bucket"), "/*"]]},
                                  {"Fn::Join": ["", [_bucket_arn("curated-bucket"), "/*"]]}]},
                    {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                     "Resource": _import("data-key-arn")}]}}],
            },
        },
        "RawLocation": {"Type": "AWS::LakeFormation::Resource", "DependsOn": ["LakeSettings"], "Properties": {
            "ResourceArn": _bucket_arn("raw-bucket"), "RoleArn": {"Fn::GetAtt": ["LakeLocationRole", "Arn"]},
            "UseServiceLinkedRole": False}},
        "CuratedLocation": {"Type": "AWS::LakeFormation::Resource", "DependsOn": ["LakeSettings"], "Properties": {
            "ResourceArn": _bucket_arn("curated-bucket"), "RoleArn": {"Fn::GetAtt": ["LakeLocationRole", "Arn"]},
            "UseServiceLinkedRole": False}},
    }  # fmt: skip
    for key, values in tags.items():
        resources[_tag_logical_id(key)] = {
            "Type": "AWS::LakeFormation::Tag",
            "DependsOn": ["LakeSettings"],
            "Properties": {"CatalogId": account, "TagKey": key, "TagValues": values},
        }
    resources["DatabaseTags"] = {
        "Type": "AWS::LakeFormation::TagAssociation",
        "DependsOn": [_tag_logical_id("layer"), _tag_logical_id("pii"), "LakeSettings"],
        "Properties": {"Resource": {"Database": {"CatalogId": account, "Name": database}},
                       "LFTags": [_tag("layer", "curated"), _tag("pii", "false")]},
    }  # fmt: skip
    resources |= _tables(database)
    tag_ids = [_tag_logical_id("layer"), _tag_logical_id("pii")]
    analyst, admin = {"Fn::GetAtt": ["AnalystRole", "Arn"]}, {"Fn::GetAtt": ["LakeAdminRole", "Arn"]}
    curation = _import("curation-role-arn")
    database_permissions = ["CREATE_TABLE", "ALTER", "DESCRIBE"]
    resources |= _grants("AnalystDatabase", analyst, _tag_policy("DATABASE", layer="curated"), ["DESCRIBE"], tag_ids)
    resources |= _grants("AnalystTables", analyst, _tag_policy("TABLE", layer="curated", pii="false"),
                         ["SELECT", "DESCRIBE"], tag_ids)  # fmt: skip
    for name, principal in (("Admin", admin), ("Curation", curation)):
        resources |= _grants(f"{name}Database", principal, _tag_policy("DATABASE", layer="curated"),
                             database_permissions, tag_ids)  # fmt: skip
        resources |= _grants(f"{name}Tables", principal, _tag_policy("TABLE", layer="curated"), TABLE_PERMISSIONS,
                             tag_ids)  # fmt: skip
    for name, principal, location in (
        ("CurationCuratedLocation", curation, "CuratedLocation"),
        ("CurationRawLocation", curation, "RawLocation"),
        ("AdminCuratedLocation", admin, "CuratedLocation"),  # creating the views through Athena needs it
        ("LandingRawLocation", _import("landing-role-arn"), "RawLocation"),
        ("NotificationsRawLocation", _import("notifications-role-arn"), "RawLocation"),
    ):
        bucket = "curated-bucket" if location == "CuratedLocation" else "raw-bucket"
        data_location = {"DataLocation": {"CatalogId": account, "ResourceArn": _bucket_arn(bucket)}}
        resources |= _grants(name, principal, data_location, ["DATA_LOCATION_ACCESS"], [location])
    resources |= {
        "AnalystRole": _role("Analysts: query the curated tables and views through the workgroup, never PII",
                             _query_statements()),
        "LakeAdminRole": _role("Lake administrators: every curated table and column, PII included; creates the "
                               "insight views", _query_statements() + [
                                   {"Effect": "Allow", "Action": ["glue:CreateTable", "glue:UpdateTable",
                                                                  "glue:DeleteTable"],
                                    "Resource": _glue_arns("catalog", "database/${Db}", "table/${Db}/*")}]),
        "QueryResultsBucket": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",  # CloudFormation cannot delete a bucket that holds objects
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "BucketName": {"Fn::Sub": "${Prefix}-query-results-${AWS::AccountId}"},
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {
                    "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": _import("data-key-arn")}, "BucketKeyEnabled": True}]},
                "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                   "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
                "VersioningConfiguration": {"Status": "Enabled"},
                "LoggingConfiguration": {"DestinationBucketName": _import("log-bucket"),
                                         "LogFilePrefix": "s3/query-results/"},
                # results are disposable: versions of an overwritten or expired result go the next day
                "LifecycleConfiguration": {"Rules": [{"Id": "expire-results", "Status": "Enabled",
                                                      "ExpirationInDays": 30,
                                                      "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]},
            },
        },
        "AnalystWorkgroup": {
            "Type": "AWS::Athena::WorkGroup",
            "Properties": {
                "Name": {"Ref": "Workgroup"},
                "Description": "Analysts' queries over the curated lake (results encrypted with the data key)",
                "State": "ENABLED",
                # it holds the views and saved queries deploy made: deleting the stack would fail on a non-empty one
                "RecursiveDeleteOption": True,
                "WorkGroupConfiguration": {
                    "EnforceWorkGroupConfiguration": True,
                    "PublishCloudWatchMetricsEnabled": True,
                    "BytesScannedCutoffPerQuery": 10_000_000_000,
                    "EngineVersion": {"SelectedEngineVersion": "Athena engine version 3"},
                    "ResultConfiguration": {
                        "OutputLocation": {"Fn::Sub": "s3://${QueryResultsBucket}/results/"},
                        "EncryptionConfiguration": {"EncryptionOption": "SSE_KMS",
                                                    "KmsKey": _import("data-key-arn")},
                    },
                },
            },
        },
    }  # fmt: skip
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "spapi-lake governance: Lake Formation locations, LF-tags, tables and grants rendered from the "
                       "schema registry (python -m lake_formation.governance), the analyst and admin roles, and the "
                       "Athena workgroup. Builds on the storage, ingestion and curation stacks.",
        "Parameters": {
            "Prefix": {"Type": "String", "Default": "spapi-lake", "AllowedPattern": "^[a-z0-9-]{3,30}$",
                       "Description": "Name prefix; the other stacks must have been deployed with the same prefix."},
            "DeployerArn": {"Type": "String", "Description": "The IAM role or user deploying the stacks: kept a "
                            "Lake Formation admin (spapi-lake deploy fills it from sts:GetCallerIdentity)."},
            "Workgroup": {"Type": "String", "Default": "spapi-lake-analysts"},
        },
        "Resources": resources,
        "Outputs": {
            "AnalystRoleArn": {"Value": {"Fn::GetAtt": ["AnalystRole", "Arn"]}},
            "LakeAdminRoleArn": {"Value": {"Fn::GetAtt": ["LakeAdminRole", "Arn"]}},
            "AthenaWorkgroup": {"Value": {"Ref": "Workgroup"}},
            "QueryResultsBucketName": {"Value": {"Ref": "QueryResultsBucket"}},
        },
    }  # fmt: skip


class _NoAliases(yaml.SafeDumper):
    """CloudFormation rejects YAML anchors and aliases: every repeated value is written out."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def template_yaml() -> str:
    header = "# Rendered from the schema registry by `python -m lake_formation.governance`: do not edit by hand.\n"
    return header + yaml.dump(template(), Dumper=_NoAliases, sort_keys=False, width=120)


if __name__ == "__main__":
    sys.stdout.write(template_yaml())

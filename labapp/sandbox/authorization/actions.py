"""From an operation moto is about to run to what IAM evaluates: the action(s), resource ARN(s), context keys.

The action is `<prefix>:<Operation>` by default, where the prefix is the service's IAM prefix, and it must
exist in the Service Authorization Reference (labapp/iam/catalog.py). Where AWS names the permission
differently the tables below say so (S3 above all: "Required permissions for Amazon S3 API operations" in
the S3 User Guide, and each operation's "Permissions" section in the S3 API Reference). An operation with
neither is *unmapped*: the caller is refused and the refusal is logged (never a silent allow).

Resources come from the reference's ARN formats of the action's resource types, filled from the request's
parameters (`${BucketName}` from Bucket, `${RoleNameWithPath}` from RoleName or RoleArn...); an action
without resource-level permissions uses "*".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from labapp.iam import catalog

# botocore service name -> IAM service prefix, where they differ
IAM_PREFIX = {
    "elbv2": "elasticloadbalancing",
    "elb": "elasticloadbalancing",
    "efs": "elasticfilesystem",
    "stepfunctions": "states",
    "opensearch": "es",
    "emr": "elasticmapreduce",
    "sesv2": "ses",
    "dynamodbstreams": "dynamodb",
    "s3control": "s3",
    "cloudwatch": "cloudwatch",
    "lambda": "lambda",
    "ecr": "ecr",
    "events": "events",
    "logs": "logs",
    "ssm": "ssm",
    "cognito-idp": "cognito-idp",
}

# Operations that need no permission (STS API Reference: "No permissions are required to perform this
# operation" for GetCallerIdentity, and GetSessionToken, which "cannot be controlled by policies").
ALWAYS_ALLOWED = {("sts", "GetCallerIdentity"), ("sts", "GetSessionToken")}

# S3 operation -> IAM action (S3 User Guide, "Required permissions for Amazon S3 API operations")
S3_ACTIONS = {
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "HeadBucket": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListBuckets": "ListAllMyBuckets",
    "HeadObject": "GetObject",
    "SelectObjectContent": "GetObject",
    "PostObject": "PutObject",
    "CopyObject": "PutObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "UploadPartCopy": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "ListParts": "ListMultipartUploadParts",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "DeleteObjects": "DeleteObject",
    "GetBucketCors": "GetBucketCORS",
    "PutBucketCors": "PutBucketCORS",
    "DeleteBucketCors": "PutBucketCORS",
    "GetBucketLifecycle": "GetLifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycle": "PutLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketTagging": "PutBucketTagging",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
    "GetBucketNotification": "GetBucketNotification",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotification": "PutBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetBucketReplication": "GetReplicationConfiguration",
    "PutBucketReplication": "PutReplicationConfiguration",
    "DeleteBucketReplication": "PutReplicationConfiguration",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "PutBucketAccelerateConfiguration": "PutAccelerateConfiguration",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
    "GetBucketInventoryConfiguration": "GetInventoryConfiguration",
    "ListBucketInventoryConfigurations": "GetInventoryConfiguration",
    "PutBucketInventoryConfiguration": "PutInventoryConfiguration",
    "DeleteBucketInventoryConfiguration": "PutInventoryConfiguration",
    "GetBucketMetricsConfiguration": "GetMetricsConfiguration",
    "ListBucketMetricsConfigurations": "GetMetricsConfiguration",
    "PutBucketMetricsConfiguration": "PutMetricsConfiguration",
    "DeleteBucketMetricsConfiguration": "PutMetricsConfiguration",
    "GetBucketAnalyticsConfiguration": "GetAnalyticsConfiguration",
    "ListBucketAnalyticsConfigurations": "GetAnalyticsConfiguration",
    "PutBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
    "DeleteBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
    "GetBucketIntelligentTieringConfiguration": "GetIntelligentTieringConfiguration",
    "ListBucketIntelligentTieringConfigurations": "GetIntelligentTieringConfiguration",
    "PutBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
    "DeleteBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
}
# With a versionId, object operations need the version's permission (S3 User Guide, same page).
S3_VERSIONED = {
    "GetObject": "GetObjectVersion",
    "DeleteObject": "DeleteObjectVersion",
    "GetObjectAcl": "GetObjectVersionAcl",
    "PutObjectAcl": "PutObjectVersionAcl",
    "GetObjectTagging": "GetObjectVersionTagging",
    "PutObjectTagging": "PutObjectVersionTagging",
    "DeleteObjectTagging": "DeleteObjectVersionTagging",
    "GetObjectAttributes": "GetObjectVersionAttributes",
}
S3_VERSIONED_OPERATIONS = {
    "GetObject",
    "HeadObject",
    "DeleteObject",
    "GetObjectAcl",
    "PutObjectAcl",
    "GetObjectTagging",
    "PutObjectTagging",
    "DeleteObjectTagging",
    "GetObjectAttributes",
}

# Other services where the permission is not named like the operation.
ACTION_OVERRIDES = {
    ("sqs", "SendMessageBatch"): "sqs:SendMessage",
    ("sqs", "DeleteMessageBatch"): "sqs:DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "sqs:ChangeMessageVisibility",
    ("sns", "PublishBatch"): "sns:Publish",
    ("ec2", "DescribeInstanceAttribute"): "ec2:DescribeInstanceAttribute",
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
    ("s3control", "PutPublicAccessBlock"): "s3:PutAccountPublicAccessBlock",
    ("s3control", "DeletePublicAccessBlock"): "s3:PutAccountPublicAccessBlock",
    ("dynamodb", "DescribeEndpoints"): "dynamodb:DescribeEndpoints",
    ("elasticbeanstalk", "CheckDNSAvailability"): "elasticbeanstalk:CheckDNSAvailability",
    ("kms", "GenerateDataKeyWithoutPlaintext"): "kms:GenerateDataKeyWithoutPlaintext",
    ("kms", "ReEncrypt"): "kms:ReEncryptFrom",  # and kms:ReEncryptTo on the destination key
    # Lambda API Reference, Invoke: "lambda:InvokeFunction"
    ("lambda", "Invoke"): "lambda:InvokeFunction",
    ("lambda", "InvokeWithResponseStream"): "lambda:InvokeFunction",
    ("route53", "ListHostedZonesByName"): "route53:ListHostedZonesByName",
    ("iam", "GetAccountAuthorizationDetails"): "iam:GetAccountAuthorizationDetails",
    # CloudFront: "...WithTags" needs the create permission and cloudfront:TagResource (the first is checked)
    ("cloudfront", "CreateDistributionWithTags"): "cloudfront:CreateDistribution",
    ("cloudfront", "CreateStreamingDistributionWithTags"): "cloudfront:CreateStreamingDistribution",
}


@dataclass
class Check:
    """One permission the request needs: an action on resources, with the request's condition keys."""

    action: str
    resources: list = field(default_factory=lambda: ["*"])
    context: dict = field(default_factory=dict)


def iam_prefix(service: str) -> str:
    return IAM_PREFIX.get(service, service)


def action_name(service: str, operation: str, *, versioned: bool = False) -> str | None:
    """The IAM action for an operation, or None when there is none we can vouch for."""
    if service == "s3":
        if versioned and operation in S3_VERSIONED_OPERATIONS:
            base = S3_ACTIONS.get(operation, operation)
            name = "s3:" + S3_VERSIONED.get(base, base)
        else:
            name = "s3:" + S3_ACTIONS.get(operation, operation)
    else:
        name = ACTION_OVERRIDES.get((service, operation)) or f"{iam_prefix(service)}:{operation}"
    found = catalog.action(name)
    return found.full_name if found else None


# --- resources -----------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")
# Placeholder -> request parameters that hold it (beyond the placeholder's own name).
_PARAMS_FOR = {
    "BucketName": ("Bucket",),
    "ObjectName": ("Key",),
    "UserNameWithPath": ("UserName",),
    "RoleNameWithPath": ("RoleName",),
    "GroupNameWithPath": ("GroupName",),
    "InstanceProfileNameWithPath": ("InstanceProfileName",),
    "PolicyNameWithPath": ("PolicyName",),
    "MfaTokenIdWithPath": ("VirtualMFADeviceName",),
    "QueueName": ("QueueName",),
    "TopicName": ("Name",),
    "KeyId": ("KeyId",),
    "Alias": ("AliasName",),
    "InstanceId": ("InstanceId", "InstanceIds"),
    "SecurityGroupId": ("GroupId", "GroupIds"),
    "TableName": ("TableName",),
    "FunctionName": ("FunctionName",),
    "DbInstanceInstanceName": ("DBInstanceIdentifier",),
    "RepositoryName": ("repositoryName", "RepositoryName"),
    "ClusterName": ("cluster", "ClusterName"),
    "LogGroupName": ("logGroupName",),
    "SecretId": ("SecretId",),
    "VpcId": ("VpcId",),
    "SubnetId": ("SubnetId",),
    "ImageId": ("ImageId",),
    "VolumeId": ("VolumeId",),
    "KeyPairName": ("KeyName",),
}


def _values(params: dict, names) -> list[str]:
    """The value(s) of the first parameter present: one, or each of a list (InstanceIds...)."""
    for name in names:
        value = params.get(name)
        if isinstance(value, str) and value:
            return [value]
        if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
            return list(value)
    return []


def resources_for(action: str, params: dict, account: str, region: str) -> list[str]:
    """ARNs of the resources `action` acts on, from the request's parameters; ["*"] for actions without
    resource-level permissions or when the parameters name none."""
    found = catalog.action(action)
    if found is None or not found.resource_types:
        return ["*"]
    service = action.split(":", 1)[0]
    arns = [v for v in params.values() if isinstance(v, str) and v.startswith("arn:")]
    for rt in found.resource_types:  # a parameter that is already an ARN of the right type
        regex = catalog.arn_regex(service, rt.name)
        for arn in arns:
            if regex is not None and regex.fullmatch(arn):
                return [arn]
    for rt in found.resource_types:
        arns = _fill(rt.arn, params, account, region)
        if arns:
            return arns
    return ["*"]


def _fill(fmt: str, params: dict, account: str, region: str) -> list[str]:
    """The ARNs of one format: every placeholder filled from the parameters (one of them may be a list,
    one ARN per value), or [] when one is missing."""
    if not fmt:
        return []
    fixed = {"Partition": ["aws"], "Region": [region], "Account": [account]}
    filled = {}
    for name in set(_PLACEHOLDER.findall(fmt)):
        values = fixed.get(name) or _values(params, (name, *_PARAMS_FOR.get(name, ())))
        if not values:
            return []
        filled[name] = values
    listed = [name for name, values in filled.items() if len(values) > 1]
    if len(listed) > 1:
        return []
    variants = filled[listed[0]] if listed else [None]
    return [
        _PLACEHOLDER.sub(
            lambda m: value if listed and m.group(1) == listed[0] else filled[m.group(1)][0], fmt
        )
        for value in variants
    ]


def run_instances_resources(params: dict, account: str, region: str) -> list[str]:
    """What RunInstances acts on (EC2 User Guide, "Example policies for working with RunInstances"): the new
    instance, its image, network interface, subnet, security groups and volumes, and the key pair."""
    arn = f"arn:aws:ec2:{region}:{account}:"
    found = [
        arn + "instance/*",
        f"arn:aws:ec2:{region}::image/{params.get('ImageId') or '*'}",
        arn + "network-interface/*",
        arn + "volume/*",
        arn + f"subnet/{params.get('SubnetId') or '*'}",
    ]
    groups = _values(params, ("SecurityGroupIds",))
    found += [arn + f"security-group/{g}" for g in groups] or [arn + "security-group/*"]
    if params.get("KeyName"):
        found.append(arn + f"key-pair/{params['KeyName']}")
    return found


def tag_context(params: dict) -> dict:
    """aws:RequestTag/* and aws:TagKeys from a request's tags, in each lab service's shape: a list of
    Key/Value (IAM, STS, SNS, DynamoDB, Secrets Manager), key/value (ECR), TagKey/TagValue (KMS), or a
    map (Lambda, SQS `tags`/`Tags`)."""
    pairs = []
    for name in ("Tags", "tags"):
        tags = params.get(name)
        if isinstance(tags, dict):
            pairs += [(str(k), "" if v is None else str(v)) for k, v in tags.items()]
        elif isinstance(tags, list):
            for t in tags:
                if not isinstance(t, dict):
                    continue
                key = t.get("Key") or t.get("key") or t.get("TagKey")
                if key:
                    pairs.append((key, t.get("Value", t.get("value", t.get("TagValue", "")))))
    if not pairs:
        return {}
    context = {f"aws:RequestTag/{k}": v for k, v in pairs}
    context["aws:TagKeys"] = [k for k, _ in pairs]
    return context


# --- service condition keys -----------------------------------------------------------------------------

def base_context(region: str, *, secure_transport: bool = True, source_ip: str | None = None) -> dict:
    """The global keys every direct request carries (IAM User Guide, "AWS global condition context keys"):
    aws:ViaAWSService is always present, false unless a service calls for the caller
    (`via_service_context` makes it true). Enforcement and graders' iam.access both start from it."""
    context = {
        "aws:SecureTransport": "true" if secure_transport else "false",
        "aws:RequestedRegion": region,
        "aws:ViaAWSService": "false",
    }
    if source_ip:
        context["aws:SourceIp"] = source_ip
    return context


def direct_call_context(action: str, account: str, params: dict | None = None) -> dict:
    """The service keys a direct call of `action` carries whatever its parameters (kms:CallerAccount...):
    what enforcement adds for the request, for a grader asking about the action alone."""
    if action.lower().startswith("kms:"):
        return kms_context(params or {}, account)
    return {}


# Keys a request carries only for the resource types that list them (Service Authorization Reference):
# RunInstances' ec2:InstanceType is a key of its instance resource, not of the image, subnet, security
# group, network interface or volume it uses.
_RESOURCE_TYPE_KEYS = frozenset({"ec2:InstanceType"})


def context_for_resource(action: str, arn: str, context: dict) -> dict:
    """`context` without the resource-type keys the resource's type lacks (enforcement and graders alike)."""
    scoped = _RESOURCE_TYPE_KEYS.intersection(context)
    if not scoped:
        return context
    name = catalog.resource_type_of(arn, action)
    found = catalog.action(action)
    if name is None or found is None:
        return context
    keys = next((set(rt.condition_keys) for rt in found.resource_types if rt.name == name), set())
    return {k: v for k, v in context.items() if k not in scoped or k in keys}



def kms_context(params: dict, account: str) -> dict:
    """KMS condition keys of a request (KMS Developer Guide, "AWS KMS condition keys"): kms:CallerAccount
    (callers are always in the sandbox's account), kms:EncryptionContext:<key> and
    kms:EncryptionContextKeys from EncryptionContext (and a ReEncrypt's destination context),
    kms:GrantOperations / kms:GranteePrincipal / kms:RetiringPrincipal of CreateGrant,
    kms:EncryptionAlgorithm, kms:KeySpec, kms:RequestAlias when KeyId is an alias (kms:ResourceAliases is read
    with the key's tags: resource_policies.kms_alias_context). kms:ViaService is only set when a service calls KMS for the
    caller (`via_service_context`)."""
    context: dict = {"kms:CallerAccount": account}
    encryption = {}
    for name in ("EncryptionContext", "DestinationEncryptionContext", "SourceEncryptionContext"):
        value = params.get(name)
        if isinstance(value, dict):
            encryption.update({str(k): str(v) for k, v in value.items()})
    for key, value in encryption.items():
        context[f"kms:EncryptionContext:{key}"] = value
    if encryption:
        context["kms:EncryptionContextKeys"] = sorted(encryption)
    key_id = str(params.get("KeyId") or "")
    if key_id.startswith("alias/") or ":alias/" in key_id:  # kms:RequestAlias: the alias the request names
        context["kms:RequestAlias"] = "alias/" + key_id.split("alias/", 1)[1]
    if isinstance(params.get("Operations"), list):
        context["kms:GrantOperations"] = [str(op) for op in params["Operations"]]
    for name in ("GranteePrincipal", "RetiringPrincipal", "EncryptionAlgorithm", "KeySpec", "KeyUsage"):
        if isinstance(params.get(name), str) and params[name]:
            context[f"kms:{name}"] = params[name]
    return context


def via_service_context(service: str, region: str, encryption_context: dict) -> dict:
    """The keys of a KMS request a service (S3) makes for the caller with the caller's credentials
    (forward access sessions; IAM User Guide, aws:ViaAWSService, and KMS Developer Guide, kms:ViaService):
    kms:ViaService names the service, aws:ViaAWSService is true, and the network keys are left out
    (None removes a key): a Deny on aws:SourceIp without an aws:ViaAWSService exception refuses it, as on
    AWS. aws:CalledVia is not set: AWS sets it only for Athena, CloudFormation, DynamoDB and KMS acting for
    the caller, and no path of the emulator does that."""
    context = {
        "kms:ViaService": f"{service}.{region}.amazonaws.com",
        "aws:ViaAWSService": "true",
        "aws:SourceIp": None,
        "aws:SecureTransport": None,
    }
    for key, value in encryption_context.items():
        context[f"kms:EncryptionContext:{key}"] = value
    if encryption_context:
        context["kms:EncryptionContextKeys"] = sorted(encryption_context)
    return context


def service_context(service: str, operation: str, params: dict, account: str, region: str) -> dict:
    """Service condition keys beyond tags, for the services labs use."""
    if service == "dynamodb":
        return dynamodb_context(operation, params, account, region)
    if service == "kms":  # calls without a key (CreateKey, ListKeys) carry kms:CallerAccount too
        return kms_context(params, account)
    return {}


def dynamodb_table_checks(
    action: str, operation: str, params: dict, account: str, region: str, context: dict
) -> list | None:
    """BatchGetItem / BatchWriteItem name several tables: the permission is needed on each table, with
    dynamodb:LeadingKeys (and dynamodb:Attributes) of that table's items (DynamoDB Developer Guide,
    "Using IAM policy conditions for fine-grained access control"). None for other operations."""
    if operation not in ("BatchGetItem", "BatchWriteItem") or not isinstance(
        params.get("RequestItems"), dict
    ):
        return None
    checks = []
    for table, request in params["RequestItems"].items():
        arn = f"arn:aws:dynamodb:{region}:{account}:table/{table}"
        if operation == "BatchGetItem" and isinstance(request, dict):
            items = [k for k in request.get("Keys") or [] if isinstance(k, dict)]
            names = request.get("ExpressionAttributeNames") or {}
            projection = request.get("ProjectionExpression")
        else:
            items = []
            for write in request if isinstance(request, list) else []:
                put = (write or {}).get("PutRequest") or {}
                delete = (write or {}).get("DeleteRequest") or {}
                items.append(put.get("Item") or delete.get("Key") or {})
            names, projection = {}, None
        hash_key = _hash_key(account, region, table)
        found = {}
        values = [_scalar(i[hash_key]) for i in items if hash_key and isinstance(i.get(hash_key), dict)]
        if values:
            found["dynamodb:LeadingKeys"] = list(dict.fromkeys(values))
        attributes = []
        if operation == "BatchWriteItem":
            attributes = [name for i in items for name in i]
        elif isinstance(projection, str):
            attributes = [names.get(p.strip(), p.strip()) for p in projection.split(",")]
        if attributes:
            found["dynamodb:Attributes"] = list(dict.fromkeys(a for a in attributes if a))
        checks.append(Check(action, [arn], {**context, **found}))
    return checks


_ITEM_OPERATIONS = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"}


def dynamodb_context(operation: str, params: dict, account: str, region: str) -> dict:
    """dynamodb:LeadingKeys (the partition key value of the item(s) a call reads or writes),
    dynamodb:Attributes (the attribute names it names: the item's, the projection's, AttributesToGet),
    dynamodb:Select and dynamodb:ReturnValues (DynamoDB Developer Guide, "Using IAM policy conditions for
    fine-grained access control"). Batch calls: `dynamodb_table_checks`; transactions are not derived."""
    context: dict = {}
    for name in ("Select", "ReturnValues", "ReturnConsumedCapacity"):
        if isinstance(params.get(name), str):
            context[f"dynamodb:{name}"] = params[name]
    if operation not in _ITEM_OPERATIONS or not isinstance(params.get("TableName"), str):
        return context
    names = params.get("ExpressionAttributeNames") or {}
    hash_key = _hash_key(account, region, params["TableName"])
    values = []
    if hash_key:
        item = params.get("Item") if operation == "PutItem" else params.get("Key")
        if isinstance(item, dict) and isinstance(item.get(hash_key), dict):
            values.append(_scalar(item[hash_key]))
        elif operation == "Query":
            found = _equality_value(params, hash_key, names)
            if found is not None:
                values.append(found)
    if values:
        context["dynamodb:LeadingKeys"] = values
    attributes = []
    if operation == "PutItem" and isinstance(params.get("Item"), dict):
        attributes += list(params["Item"])
    if isinstance(params.get("AttributesToGet"), list):
        attributes += [str(a) for a in params["AttributesToGet"]]
    if isinstance(params.get("ProjectionExpression"), str):
        for part in params["ProjectionExpression"].split(","):
            part = re.split(r"[.\[]", part.strip(), maxsplit=1)[0]
            attributes.append(names.get(part, part))
    if attributes:
        context["dynamodb:Attributes"] = list(dict.fromkeys(a for a in attributes if a))
    return context


def _hash_key(account: str, region: str, table: str) -> str | None:
    try:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[account][region].get_table(table).hash_key_attr
    except Exception:
        return None


def _scalar(value: dict) -> str:
    for kind in ("S", "N", "B"):
        if kind in value:
            return str(value[kind])
    return ""


def _equality_value(params: dict, hash_key: str, names: dict) -> str | None:
    """The value a Query's key condition gives the partition key (`pk = :v` or `#n = :v`)."""
    expression = params.get("KeyConditionExpression")
    if isinstance(expression, str):
        values = params.get("ExpressionAttributeValues") or {}
        for left, right in re.findall(r"([#\w.]+)\s*=\s*(:\w+)", expression):
            if names.get(left, left) == hash_key and isinstance(values.get(right), dict):
                return _scalar(values[right])
    conditions = params.get("KeyConditions")
    if isinstance(conditions, dict) and isinstance(conditions.get(hash_key), dict):
        listed = conditions[hash_key].get("AttributeValueList") or []
        if listed and isinstance(listed[0], dict):
            return _scalar(listed[0])
    return None

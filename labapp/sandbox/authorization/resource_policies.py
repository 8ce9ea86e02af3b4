"""Resource-based policies moto stores, as the engine's `Resource`s: S3 bucket policies, SQS queue policies,
SNS topic policies, KMS key policies (required, as on AWS) with the key's grants, Lambda function policies
(AddPermission), Secrets Manager secret policies, ECR repository policies, and IAM role trust policies
(required).

Each lookup happens in the request's account only (the account guard refuses any other), so a policy can
never reach into another learner's sandbox.
"""

from __future__ import annotations

import json

from labapp.iam import Policy, Resource

from .principals import document


def _policy(text, policy_id: str) -> Policy | None:
    if not text:
        return None
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return Policy(document(text), policy_id)


def bucket_name(arn: str) -> str | None:
    if not arn.startswith("arn:aws:s3:::"):
        return None
    return arn[len("arn:aws:s3:::") :].split("/", 1)[0] or None


def s3_resource(account_id: str, arn: str) -> Resource:
    """The bucket or object with its bucket policy as S3 applies it to a signed caller (S3 User Guide,
    "Blocking public access to your Amazon S3 storage" and "Controlling ownership of objects"):

    - with Block Public Access's RestrictPublicBuckets on (bucket or account) and a *public* bucket
      policy, the policy's public and cross-account grants are left out (its Deny statements stay);
    - ACL grants to everyone (AllUsers) or to any signed caller (AuthenticatedUsers) on the bucket, or on
      the object for object requests, count as grants of the permissions they map to ("Mapping of ACL
      permissions and access policy permissions"), unless IgnorePublicAcls is on or the bucket's Object
      Ownership is BucketOwnerEnforced (ACLs disabled). Grants to the owner's canonical ID add nothing:
      within the account IAM decides."""
    from moto.s3.models import s3_backends

    name = bucket_name(arn)
    policy = None
    if name:
        backend = s3_backends[account_id]["aws"]
        bucket = backend.buckets.get(name)
        if bucket is not None:
            policy = _policy(bucket.policy, f"bucket-policy:{name}")
            policy = _as_s3_applies_it(backend, bucket, arn, policy, account_id)
    return Resource(arn, account_id, policy)


def _as_s3_applies_it(backend, bucket, arn: str, policy: Policy | None, account_id: str) -> Policy | None:
    from labapp.sandbox import s3_public_access

    block = s3_public_access._public_access_block(backend, bucket)
    acls_off = block["ignore_public_acls"] or s3_public_access._acls_disabled(bucket)
    acl_statements = [] if acls_off else _acl_statements(bucket, arn)
    if policy is None and not acl_statements:
        return None
    document = policy.document if policy is not None else {"Version": "2012-10-17", "Statement": []}
    if policy is not None and block["restrict_public_buckets"]:
        document = _without_public_grants(document, account_id)
    if acl_statements:
        document = _with_statements(document, acl_statements)
    if policy is not None and document is policy.document:
        return policy
    return Policy(document, policy.id if policy is not None else f"bucket-acl:{bucket.name}")


# Conditions that make an Allow to "*" non-public (S3 User Guide, "The meaning of public"): fixed values
# of these keys.
_NON_PUBLIC_KEYS = {
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalarn",
    "aws:userid",
    "aws:sourceip",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
}


def _document_and_statements(document):
    """(the policy as a dict, its statements as a list), or (None, []) for a document that is not readable
    JSON of an object: callers then keep it as it is, and the engine refuses it."""
    if isinstance(document, (str, bytes)):
        try:
            document = json.loads(document)
        except ValueError:
            return None, []
    if not isinstance(document, dict):
        return None, []
    statements = document.get("Statement", [])
    return document, [statements] if isinstance(statements, dict) else list(statements or [])


def _without_public_grants(document, account_id: str):
    """RestrictPublicBuckets: if the policy is public, its Allow statements for everyone or for other
    accounts grant nothing; otherwise the policy is unchanged."""
    parsed, statements = _document_and_statements(document)
    if parsed is None:
        return document
    document = parsed
    if not any(_is_public(st) for st in statements if isinstance(st, dict)):
        return document
    kept = [
        st
        for st in statements
        if not isinstance(st, dict)
        or st.get("Effect") != "Allow"
        or not (_is_public(st) or _names_other_accounts(st, account_id))
    ]
    return {**document, "Statement": kept}


def _principal_values(statement: dict) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if not isinstance(principal, dict):
        return []
    values = principal.get("AWS", [])
    return [values] if isinstance(values, str) else [v for v in values if isinstance(v, str)]


def _is_public(statement: dict) -> bool:
    if statement.get("Effect") != "Allow" or "*" not in _principal_values(statement):
        return False
    condition = statement.get("Condition") or {}
    for operator, keys in condition.items() if isinstance(condition, dict) else ():
        if "Like" in operator or "Not" in operator or "IfExists" in operator or not isinstance(keys, dict):
            continue
        for key, value in keys.items():
            values = value if isinstance(value, list) else [value]
            fixed = key.lower() in _NON_PUBLIC_KEYS and not any("*" in str(v) for v in values)
            if fixed and (key.lower() != "aws:sourceip" or not any(str(v).endswith("/0") for v in values)):
                return False
    return True


def _names_other_accounts(statement: dict, account_id: str) -> bool:
    for value in _principal_values(statement):
        account = value if value.isdigit() else (value.split(":")[4] if value.count(":") >= 5 else "")
        if account and account != account_id:
            return True
    return False


_ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
_AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
# ACL permission -> the actions it grants (S3 User Guide, "Mapping of ACL permissions and access policy
# permissions"), on the bucket and on an object.
_BUCKET_ACL = {
    "READ": ["s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"],
    "WRITE": ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
    "READ_ACP": ["s3:GetBucketAcl"],
    "WRITE_ACP": ["s3:PutBucketAcl"],
}
_OBJECT_ACL = {
    "READ": ["s3:GetObject", "s3:GetObjectVersion"],
    "READ_ACP": ["s3:GetObjectAcl", "s3:GetObjectVersionAcl"],
    "WRITE_ACP": ["s3:PutObjectAcl", "s3:PutObjectVersionAcl"],
}


def _acl_statements(bucket, arn: str) -> list[dict]:
    """The bucket's ACL (for the bucket, and WRITE for new objects) and the object's latest version's ACL
    (for object requests) as Allow statements for every signed caller."""
    key = arn[len("arn:aws:s3:::") :].split("/", 1)[1] if "/" in arn else None
    statements = []
    bucket_arn = f"arn:aws:s3:::{bucket.name}"
    statements += _grants_as_statements(
        getattr(bucket, "acl", None), _BUCKET_ACL, [bucket_arn, bucket_arn + "/*"], "bucket-acl"
    )
    if key:
        versions = bucket.keys.getlist(key, default=[]) or []
        latest = versions[-1] if versions else None
        statements += _grants_as_statements(getattr(latest, "acl", None), _OBJECT_ACL, [arn], "object-acl")
    return statements


def _grants_as_statements(acl, mapping: dict, resources: list[str], label: str) -> list[dict]:
    found = []
    for grant in getattr(acl, "grants", None) or []:
        groups = {getattr(g, "uri", "") for g in grant.grantees} & {_ALL_USERS, _AUTHENTICATED_USERS}
        if not groups:
            continue
        actions: list[str] = []
        for permission in grant.permissions:
            if permission == "FULL_CONTROL":
                actions += [a for values in mapping.values() for a in values]
            else:
                actions += mapping.get(permission, [])
        if actions:
            group = "AllUsers" if _ALL_USERS in groups else "AuthenticatedUsers"
            found.append(
                {
                    "Sid": f"{label}:{group}:{'+'.join(grant.permissions)}",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": sorted(set(actions)),
                    "Resource": resources,
                }
            )
    return found


def sqs_resource(account_id: str, region: str, arn: str) -> Resource:
    from moto.sqs.models import sqs_backends

    name = arn.rsplit(":", 1)[-1]
    queue = sqs_backends[account_id][region].queues.get(name)
    policy = _policy(getattr(queue, "policy", None), f"queue-policy:{name}") if queue is not None else None
    return Resource(arn, account_id, policy)


def sns_resource(account_id: str, region: str, arn: str) -> Resource:
    from moto.sns.models import sns_backends

    topic = sns_backends[account_id][region].topics.get(arn)
    policy = (
        _policy(getattr(topic, "policy", None), f"topic-policy:{arn.rsplit(':', 1)[-1]}") if topic else None
    )
    return Resource(arn, account_id, policy)


def kms_key(account_id: str, region: str, key_id: str):
    """moto's key for a key id, key ARN, alias name or alias ARN, or None."""
    from moto.kms.models import kms_backends

    backend = kms_backends[account_id][region]
    try:
        resolved = backend.any_id_to_key_id(key_id) if hasattr(backend, "any_id_to_key_id") else key_id
        return backend.keys.get(resolved) or backend.describe_key(key_id)
    except Exception:
        return None


def kms_key_id(params: dict) -> str:
    """The key a KMS request uses: KeyId, or for Decrypt and ReEncrypt (which may name none) the key the
    ciphertext was encrypted under, read from moto's ciphertext header, as KMS reads it from its own."""
    if params.get("KeyId") or params.get("SourceKeyId"):
        return str(params.get("KeyId") or params.get("SourceKeyId"))
    blob = params.get("CiphertextBlob")
    if not isinstance(blob, str) or not blob:
        return ""
    import base64

    from moto.kms.utils import _deserialize_ciphertext_blob

    try:
        return _deserialize_ciphertext_blob(base64.b64decode(blob)).key_id
    except Exception:  # noqa: BLE001 - not moto's ciphertext: KMS answers InvalidCiphertextException
        return ""


def kms_key_by_grant_token(account_id: str, region: str, token: str):
    """The key holding the grant with this token (RetireGrant may name only the token), or None."""
    from moto.kms.models import kms_backends

    for key in list(kms_backends[account_id][region].keys.values()):
        if any(g.token == token for g in list(getattr(key, "grants", {}).values())):
            return key
    return None


def kms_resource(account_id: str, region: str, key_id: str, *, grant_token: str = "") -> Resource:
    """The key's ARN with its key policy, which must allow (a key without one gets the default policy),
    and the key's grants as statements of it (`grant_statements`)."""
    key = (
        kms_key(account_id, region, key_id)
        if key_id
        else kms_key_by_grant_token(account_id, region, grant_token)
    )
    if key is None:
        return Resource(
            f"arn:aws:kms:{region}:{account_id}:key/{key_id.rsplit('/', 1)[-1]}",
            account_id,
            None,
            policy_required=True,
        )
    policy = _policy(getattr(key, "policy", None), f"key-policy:{key.id}") or Policy(
        default_key_policy(account_id), f"key-policy:{key.id}"
    )
    grants = grant_statements(list(getattr(key, "grants", {}).values()))
    if grants:
        policy = Policy(_with_statements(policy.document, grants), policy.id)
    return Resource(key.arn, account_id, policy, policy_required=True)


def grant_statements(grants) -> list[dict]:
    """KMS grants as the Allow statements they amount to (KMS Developer Guide, "Grants in AWS KMS"): the
    grantee principal may perform the grant's operations on the key, within its encryption context
    constraints; the retiring principal, and the grantee when the grant includes RetireGrant, may retire
    it. Like a key policy statement naming the principal, a grant suffices within the account; an
    explicit Deny in any policy still wins (a judgement call: KMS documents grants as allow-only)."""
    statements = []
    for grant in grants:
        operations = [f"kms:{op}" for op in grant.operations or () if isinstance(op, str)]
        condition = _grant_condition(grant.constraints or {})
        if grant.grantee_principal and operations:
            statement = {
                "Sid": f"grant:{grant.name or grant.id}",
                "Effect": "Allow",
                "Principal": {"AWS": grant.grantee_principal},
                "Action": operations,
                "Resource": "*",
            }
            if condition:
                statement["Condition"] = condition
            statements.append(statement)
        if grant.retiring_principal:
            statements.append(
                {
                    "Sid": f"grant-retiring-principal:{grant.name or grant.id}",
                    "Effect": "Allow",
                    "Principal": {"AWS": grant.retiring_principal},
                    "Action": "kms:RetireGrant",
                    "Resource": "*",
                }
            )
    return statements


def _grant_condition(constraints: dict) -> dict:
    subset = constraints.get("EncryptionContextSubset") or {}
    equals = constraints.get("EncryptionContextEquals")
    pairs = {**subset, **(equals or {})}
    condition: dict = {}
    if pairs:
        condition["StringEquals"] = {f"kms:EncryptionContext:{k}": v for k, v in pairs.items()}
    if equals is not None:  # exactly these keys: no more (an empty context has none)
        condition["ForAllValues:StringEquals"] = {"kms:EncryptionContextKeys": sorted(equals)}
        if not equals:
            condition["Null"] = {"kms:EncryptionContextKeys": "true"}
    return condition


def _with_statements(document, extra: list[dict]):
    """A copy of a policy document (text or dict) with more statements; an unreadable document is kept as
    it is (the engine refuses it)."""
    parsed, statements = _document_and_statements(document)
    if parsed is None:
        return document
    return {**parsed, "Statement": statements + extra}


def for_arn(account_id: str, region: str, arn):
    """The resource behind an ARN with its resource-based policy, where the service has one the engine
    should see: Lambda functions, Secrets Manager secrets, ECR repositories. Anything else is returned as
    it is. A secret is named by its full ARN (with the random suffix), as AWS evaluates it."""
    if not isinstance(arn, str) or not arn.startswith("arn:aws:"):
        return arn
    service = arn.split(":", 3)[2]
    try:
        if service == "lambda" and ":function:" in arn:
            return _lambda_resource(account_id, region, arn)
        if service == "secretsmanager" and ":secret:" in arn:
            return _secret_resource(account_id, region, arn)
        if service == "ecr" and ":repository/" in arn:
            return _ecr_resource(account_id, region, arn)
    except Exception:  # noqa: BLE001 - a missing resource is the service's to report
        return arn  # not there (yet): the service answers that itself
    return arn


def _lambda_resource(account_id: str, region: str, arn: str):
    from moto.awslambda.models import lambda_backends

    function = lambda_backends[account_id][region].get_function(arn)
    statements = [_lambda_statement(st) for st in getattr(function.policy, "statements", ()) or ()]
    policy = None
    if statements:
        document = {"Version": "2012-10-17", "Id": "default", "Statement": statements}
        policy = Policy(json.dumps(document, sort_keys=True), f"function-policy:{function.function_name}")
    return Resource(arn, account_id, policy)


def _lambda_statement(statement: dict) -> dict:
    """A statement as Lambda's GetPolicy shows it: moto keeps an AddPermission principal that is a bare
    ARN or account id as a string, where Lambda writes {"AWS": arn}."""
    principal = statement.get("Principal")
    if isinstance(principal, str) and principal != "*":
        if principal.endswith(".amazonaws.com"):
            principal = {"Service": principal}
        elif principal.isdigit():
            principal = {"AWS": f"arn:aws:iam::{principal}:root"}
        else:
            principal = {"AWS": principal}
        statement = {**statement, "Principal": principal}
    return statement


def _secret_resource(account_id: str, region: str, arn: str):
    from moto.secretsmanager.models import secretsmanager_backends

    backend = secretsmanager_backends[account_id][region]
    name = arn.split(":secret:", 1)[1]
    secret = backend.secrets.get(arn) or backend.secrets.get(name)
    if secret is None:
        return arn
    return Resource(
        secret.arn, account_id, _policy(getattr(secret, "policy", None), f"secret-policy:{secret.name}")
    )


def _ecr_resource(account_id: str, region: str, arn: str):
    from moto.ecr.models import ecr_backends

    name = arn.split(":repository/", 1)[1]
    repository = ecr_backends[account_id][region].repositories.get(name)
    if repository is None:
        return arn
    return Resource(
        repository.arn, account_id, _policy(getattr(repository, "policy", None), f"repository-policy:{name}")
    )


def default_key_policy(account_id: str) -> dict:
    """The default key policy (KMS Developer Guide, "Default key policy"): the account's IAM decides."""
    return {
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


# S3 operations that have S3 call KMS for the caller when the object is (to be) encrypted with a KMS key
# (S3 User Guide, "Using server-side encryption with AWS KMS keys", Permissions): writing needs
# kms:GenerateDataKey, reading kms:Decrypt.
S3_KMS_WRITES = {"PutObject", "CopyObject", "CreateMultipartUpload", "PostObject"}
S3_KMS_READS = {"GetObject", "HeadObject", "SelectObjectContent"}


def s3_kms_key_use(
    account_id: str, region: str, operation: str, bucket: str, key: str | None, header
) -> tuple:
    """(kms action, key id) S3 asks KMS for on the caller's behalf in this request, or (None, None).
    A write names its key in x-amz-server-side-encryption-aws-kms-key-id or takes the bucket's default
    encryption; a read uses the key the object was stored with. Without a key id S3 uses the AWS managed
    key aws/s3, whose policy lets the account's principals use it through S3: nothing to check."""
    from moto.s3.models import s3_backends

    backend = s3_backends[account_id]["aws"]
    if operation in S3_KMS_WRITES:
        if header("x-amz-server-side-encryption") == "aws:kms":
            return "kms:GenerateDataKey", header("x-amz-server-side-encryption-aws-kms-key-id")
        if header("x-amz-server-side-encryption"):
            return None, None
        bucket_ = backend.buckets.get(bucket)
        default = _bucket_default_encryption(getattr(bucket_, "encryption", None))
        if default.get("SSEAlgorithm") == "aws:kms" and default.get("KMSMasterKeyID"):
            return "kms:GenerateDataKey", default["KMSMasterKeyID"]
        return None, None
    if operation in S3_KMS_READS and key:
        try:
            stored = backend.get_object(bucket, key)
        except Exception:  # noqa: BLE001 - no such object: S3 answers NoSuchKey itself
            return None, None
        if stored is not None and getattr(stored, "encryption", None) == "aws:kms" and stored.kms_key_id:
            return "kms:Decrypt", stored.kms_key_id
    return None, None


def _bucket_default_encryption(encryption) -> dict:
    rules = (encryption or {}).get("Rule") if isinstance(encryption, dict) else None
    for rule in rules if isinstance(rules, list) else [rules]:
        if isinstance(rule, dict) and isinstance(rule.get("ApplyServerSideEncryptionByDefault"), dict):
            return rule["ApplyServerSideEncryptionByDefault"]
    return {}


def role_trust_resource(account_id: str, role_arn: str) -> Resource:
    """The role with its trust policy, which must allow any AssumeRole* (a missing role allows nothing)."""
    from moto.iam.models import iam_backends

    policy = None
    try:
        role = iam_backends[account_id]["aws"].get_role_by_arn(role_arn)
        policy = _policy(role.assume_role_policy_document, f"trust-policy:{role.name}")
        role_arn = role.arn
    except Exception:
        pass
    return Resource(role_arn, account_id, policy, policy_required=True)


def resource_tags(account_id: str, region: str, arn: str) -> dict:
    """aws:ResourceTag/* (and ec2:ResourceTag/*) of an existing resource: EC2 resources, IAM users and roles,
    S3 buckets. Unknown or new resources have none."""
    try:
        tags = _tags_of(account_id, region, arn)
    except Exception:
        tags = {}
    context = {f"aws:ResourceTag/{k}": v for k, v in tags.items()}
    if arn.startswith("arn:aws:ec2:"):
        context.update({f"ec2:ResourceTag/{k}": v for k, v in tags.items()})
    if arn.startswith("arn:aws:kms:") and ":key/" in arn:
        context.update(kms_alias_context(account_id, region, arn))
    return context


def kms_alias_context(account_id: str, region: str, key_arn: str) -> dict:
    """kms:ResourceAliases, the aliases of the key a request uses (KMS Developer Guide, "ABAC for AWS KMS"):
    multivalued, absent when the key has none. A key attribute like its tags, so enforcement and graders
    read it where they read aws:ResourceTag."""
    try:
        key = kms_key(account_id, key_arn.split(":")[3] or region, key_arn)
        names = sorted(getattr(key, "aliases", None) or ())
    except Exception:  # noqa: BLE001 - no such key: no aliases
        names = []
    return {"kms:ResourceAliases": names} if names else {}


def _tags_of(account_id: str, region: str, arn: str) -> dict:
    parts = arn.split(":", 5)
    if len(parts) != 6 or "*" in parts[5]:
        return {}
    service, resource = parts[2], parts[5]
    if service == "ec2" and "/" in resource:
        from moto.ec2.models import ec2_backends

        return dict(ec2_backends[account_id][parts[3] or region].tags.get(resource.split("/", 1)[1], {}))
    if service == "iam":
        from moto.iam.models import iam_backends

        iam = iam_backends[account_id]["aws"]
        if resource.startswith("role/"):
            role = iam.get_role_by_arn(arn)
            raw = role.tags.values() if isinstance(role.tags, dict) else role.tags
            return {t["Key"]: t["Value"] for t in raw or ()}
        if resource.startswith("user/"):
            return {t["Key"]: t["Value"] for t in iam.tagger.list_tags_for_resource(arn).get("Tags", ())}
        return {}
    if service == "s3" and "/" not in resource:
        from moto.s3.models import s3_backends

        backend = s3_backends[account_id]["aws"]
        bucket = backend.buckets.get(resource)
        if bucket is None:
            return {}
        return {
            t["Key"]: t["Value"] for t in backend.tagger.list_tags_for_resource(bucket.arn).get("Tags", ())
        }
    return {}

"""IAM decides, inside the emulator, at the point moto itself would authorize a request.

moto calls `_authenticate_and_authorize_normal_action` (every service, from `call_action`, once the request
is parsed) and `_authenticate_and_authorize_s3_action` (S3, before each handler) before it runs anything;
its own checks stay off (INITIAL_NO_AUTH_ACTION_COUNT, see emulator.py). We replace both:

- the lab session's own key (the sandbox administrator) and platform calls are not evaluated, except that
  an AssumeRole* by the administrator still needs the role's trust policy, as on AWS;
- a key moto issued (IAM user keys, STS credentials) is evaluated on every call with labapp.iam: the
  caller from moto's state (principals.py), the action, resources and condition keys of the operation
  (actions.py), the resource policy where the service has one (resource_policies.py);
- an operation that cannot be mapped, or a request that reached no decision point, is refused and logged.

A refusal is recorded on the request's scope and raised; the emulator answers it in the protocol's shape
(`refusal_response`), whatever moto made of the exception, as it does for the account guard.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote

from labapp.iam import Policy, Principal, Request, Resource, evaluate
from labapp.sandbox import account_guard

from . import actions, caller, iam_paths, principals, resource_policies

log = logging.getLogger("labapp.sandbox.authorization")

DENIAL_HEADER = "x-lab-iam-denial"  # the refusal's message, for the gateway's journal (never sent on)
DENIAL_DETAIL_HEADER = "x-lab-iam-denial-detail"  # which statements decided, as JSON (journal only)
ADMIN_POLICY = Policy(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    "lab-session:AdministratorAccess",
)


class AuthorizationDenied(Exception):
    """Raised inside moto when IAM refuses; the emulator answers the scope's refusal instead."""


@dataclass
class Scope:
    environ: dict
    account_id: str
    service: str | None
    caller: caller.CallerInfo | None
    decided: bool = False
    refusal: str | None = None  # the message
    refusal_code: str = "AccessDenied"
    decisions: list = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.caller.kind if self.caller else caller.SESSION

    @property
    def evaluated(self) -> bool:
        return self.kind == caller.MOTO_KEY


_scope: ContextVar[Scope | None] = ContextVar("lab_iam_scope", default=None)


@contextlib.contextmanager
def request_scope(environ, account_id: str, service: str | None):
    info = caller.parse(environ.get(caller.ENVIRON_KEY))
    if info is None:
        info = _caller_without_header(environ, account_id)
    scope = Scope(environ, account_id, service, info)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def _caller_without_header(environ, account_id: str) -> caller.CallerInfo:
    """No gateway header (a request made straight to the emulator, e.g. by tests): a key moto issued is
    still evaluated; anything else is the sandbox's administrator, as the gateway would have said."""
    key = _access_key_of(environ)
    if key and _is_moto_key(account_id, key):
        return caller.CallerInfo(caller.MOTO_KEY, key)
    return caller.CallerInfo(caller.SESSION, key)


def _access_key_of(environ) -> str:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = re.search(r"Credential=([A-Z0-9]+)/", auth) or re.match(r"AWS ([A-Z0-9]+):", auth)
    if match:
        return match.group(1)
    query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
    credential = query.get("X-Amz-Credential") or query.get("AWSAccessKeyId") or ""
    return credential.split("/", 1)[0]


def _is_moto_key(account_id: str, key: str) -> bool:
    from moto.iam.models import iam_backends

    try:
        return key in iam_backends[account_id]["aws"].access_keys
    except Exception:
        return False


def current() -> Scope | None:
    return _scope.get()


def current_access_key() -> str:
    """The access key of the request being served, when moto issued it (else "")."""
    scope = _scope.get()
    return scope.caller.access_key_id if scope and scope.evaluated else ""


# --- the decision ---------------------------------------------------------------------------------


def _refusing_on_error(decide):
    """Anything unexpected while deciding is a refusal (logged), never an allow nor a 500."""
    import functools

    @functools.wraps(decide)
    def wrapper(response) -> None:
        try:
            decide(response)
        except AuthorizationDenied:
            raise
        except Exception as exc:
            scope = _scope.get()
            if scope is None or scope.kind in (caller.INTERNAL, caller.ANONYMOUS):
                return  # nothing is decided for these: the platform's work goes on
            log.exception("IAM: the decision failed")
            _refuse(scope, f"This request could not be authorized: the lab's IAM evaluation failed ({exc}).")

    return wrapper


@_refusing_on_error
def authorize_operation(response) -> None:
    """Every non-S3 service, from moto's call_action."""
    if response.boto3_service_name == "s3":
        return authorize_s3(response)
    scope = _scope.get()
    if scope is None or scope.decided:
        return
    scope.decided = True
    service = response.boto3_service_name
    try:
        operation = response._get_action()
    except Exception:
        operation = None
    _invalidate_on_iam_write(scope, service, operation)
    if scope.kind in (caller.INTERNAL, caller.ANONYMOUS):
        return
    region = (scope.caller.region if scope.caller else "") or getattr(response, "region", "") or "us-east-1"
    if service == "sts" and operation in ("AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"):
        # The caller is the identity provider named by the token, whoever signed: its trust policy decides.
        principal, context = _federated_caller(scope.account_id, operation, _params(response))
        _decide(scope, principal, _checks(scope, response, service, operation, region), region, context)
        return
    if scope.kind == caller.SESSION:
        if service == "sts" and operation and operation.startswith("AssumeRole"):
            _decide(
                scope,
                _admin(scope.account_id),
                _checks(scope, response, service, operation, region),
                region,
                {},
            )
        return
    resolved = _resolve(scope)
    if (service, operation) in actions.ALWAYS_ALLOWED:
        return
    _decide(
        scope,
        resolved.principal,
        _checks(scope, response, service, operation, region),
        region,
        resolved.request_context(),
    )


@_refusing_on_error
def authorize_s3(response) -> None:
    """S3, before each of moto's handlers (several may run for one request: the first one decides)."""
    scope = _scope.get()
    if scope is None or scope.decided:
        return
    scope.decided = True
    owner = _partner_bucket_owner(scope)
    if owner and scope.kind in (caller.SESSION, caller.MOTO_KEY):
        return _authorize_partner_bucket(scope, owner)
    if scope.kind != caller.MOTO_KEY:
        return
    resolved = _resolve(scope)
    region = (scope.caller.region if scope.caller else "") or "us-east-1"
    _decide(scope, resolved.principal, _s3_checks(scope), region, resolved.request_context())


def _partner_bucket_owner(scope: Scope) -> str | None:
    """The account owning the request's bucket when it is another account of the caller's lab session."""
    from moto.s3.models import s3_backends

    guard = account_guard.current()
    if guard is None or not guard.siblings:
        return None
    _operation, bucket, _key, _query = _s3_request(scope.environ)
    owner = s3_backends.bucket_accounts.get(bucket or "", (None, None))[1]
    return owner if owner in guard.siblings else None


def _authorize_partner_bucket(scope: Scope, owner: str) -> None:
    """A bucket of the session's partner account: decided across accounts like AWS (the caller's own policies,
    the session administrator's included, and the bucket policy must both allow), reading the bucket in its
    owner's account; once allowed, moto's handler may read that account for the rest of the request."""
    region = (scope.caller.region if scope.caller else "") or "us-east-1"
    if scope.kind == caller.SESSION:
        principal, context = _admin(scope.account_id), {}
    else:
        resolved = _resolve(scope)
        principal, context = resolved.principal, resolved.request_context()
    with account_guard.reaching(owner):
        _decide(scope, principal, _s3_checks(scope, resource_account=owner), region, context)
    account_guard.reach_for_request(owner)


def _resolve(scope: Scope) -> principals.Resolved:
    resolved = principals.resolve(scope.account_id, scope.caller.access_key_id)
    if resolved is None:
        _refuse(scope, "The security token included in the request is invalid.", code="InvalidClientTokenId")
    return resolved


def _admin(account_id: str) -> Principal:
    from labapp.sandbox.extensions.sts import SESSION_NAME, SESSION_ROLE, session_identity

    user_id, _arn, _account = session_identity(account_id)
    return Principal.role_session(
        account_id,
        SESSION_ROLE,
        SESSION_NAME,
        role_id=user_id.split(":", 1)[0],
        identity_policies=[ADMIN_POLICY],
    )


_WELL_KNOWN_PROVIDERS = (
    "accounts.google.com",
    "graph.facebook.com",
    "www.amazon.com",
    "cognito-identity.amazonaws.com",
)


def _federated_caller(account_id: str, operation: str, params: dict) -> tuple[Principal, dict]:
    """AssumeRoleWithWebIdentity: the token's issuer (a well-known provider, or the account's OIDC provider
    `arn:aws:iam::<account>:oidc-provider/<host/path>`) with its `<provider>:aud/sub` keys; the token is
    read, not verified (moto keeps no provider keys). AssumeRoleWithSAML: the SAML provider ARN."""
    if operation == "AssumeRoleWithSAML":
        return Principal.web_identity(str(params.get("PrincipalArn") or "")), {}
    import base64
    import json

    claims = {}
    try:
        payload = str(params.get("WebIdentityToken") or "").split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except Exception:
        pass
    issuer = str(claims.get("iss") or "").removeprefix("https://").rstrip("/")
    provider = (
        issuer if issuer in _WELL_KNOWN_PROVIDERS else f"arn:aws:iam::{account_id}:oidc-provider/{issuer}"
    )
    context = {}
    for claim in ("aud", "sub", "amr"):
        if claims.get(claim) is not None:
            context[f"{issuer}:{claim}"] = claims[claim]
    return Principal.web_identity(provider), context


def _invalidate_on_iam_write(scope: Scope, service: str, operation: str | None) -> None:
    # Before the write runs, under the account's lock: the next request rebuilds from the new state.
    if service == "iam" and not (operation or "").startswith(("Get", "List", "Generate", "Simulate")):
        principals.invalidate(scope.account_id)


def _base_context(scope: Scope, region: str) -> dict:
    info = scope.caller
    return actions.base_context(
        region,
        secure_transport=bool(info and info.secure_transport),
        source_ip=(info.source_ip if info else None) or None,
    )


def _decide(scope: Scope, principal: Principal, checks: list, region: str, caller_context: dict) -> None:
    base = {**_base_context(scope, region), **caller_context}
    for check in checks:
        for resource in check.resources:  # each with its own aws:ResourceTag keys
            if not isinstance(resource, Resource):
                resource = Resource(resource, scope.account_id)
            tags = resource_policies.resource_tags(scope.account_id, region, resource.arn)
            context = actions.context_for_resource(check.action, resource.arn, {**base, **tags, **check.context})
            context = {k: v for k, v in context.items() if v is not None}  # None: a key the check leaves out
            decision = evaluate(principal, Request(check.action, (resource,), context))
            scope.decisions.append(decision)
            if not decision.allowed:
                if decision.error:
                    log.warning(
                        "IAM: %s could not be evaluated for %s: %s",
                        check.action,
                        principal.arn,
                        decision.error,
                    )
                _refuse(scope, decision.message, decision=decision)


def _refuse(scope: Scope, message: str, *, code: str = "AccessDenied", decision=None) -> None:
    scope.refusal = message
    scope.refusal_code = code
    if decision is not None:
        scope.decisions.append(decision)
    raise AuthorizationDenied(message)


def _unmapped(scope: Scope, service: str, operation: str | None) -> None:
    log.warning("IAM: no mapping for %s:%s; refused for %s", service, operation, scope.caller.access_key_id)
    _refuse(
        scope,
        f"This lab cannot evaluate IAM permissions for {service}:{operation} yet, so the request "
        "is refused for every principal but the lab session's own credentials.",
    )


# --- what each request needs ------------------------------------------------------------------------


def _params(response) -> dict:
    params = getattr(response, "params", None)
    if isinstance(params, dict) and params:
        return dict(params)
    found: dict = {}
    body = getattr(response, "body", None)
    if isinstance(body, dict):
        found.update(body)
    elif isinstance(body, (str, bytes)) and body[:1] in ("{", b"{"):
        import json

        try:
            found.update(json.loads(body))
        except ValueError:
            pass
    for key, values in (getattr(response, "querystring", None) or {}).items():
        found.setdefault(key, values[0] if isinstance(values, list) and values else values)
    for key, value in (getattr(response, "uri_match", None) or {}).items():
        found.setdefault(key, value)
    return found


def _checks(scope: Scope, response, service: str, operation: str | None, region: str) -> list:
    action = actions.action_name(service, operation) if operation else None
    if action is None:
        _unmapped(scope, service, operation)
    params = _params(response)
    account = scope.account_id
    context = actions.tag_context(params)
    if service == "sts" and operation.startswith("AssumeRole"):
        if params.get("ExternalId"):
            context["sts:ExternalId"] = params["ExternalId"]
        # A role of another account of the caller's lab session (a partner account) is read there, and the
        # engine decides across accounts: the caller's own policies and the role's trust policy must allow.
        role_arn = str(params.get("RoleArn") or "")
        role_account = _session_account_of(role_arn, account)
        with account_guard.reaching(role_account):
            role = resource_policies.role_trust_resource(role_account, role_arn)
        checks = [actions.Check(action, [role], context)]
        if context.get("aws:TagKeys"):  # session tags need sts:TagSession too (IAM User Guide, session tags)
            checks.append(actions.Check("sts:TagSession", [role], context))
        return checks
    key_id = resource_policies.kms_key_id(params) if service == "kms" else ""
    if service == "kms" and (key_id or params.get("GrantToken")):
        key = resource_policies.kms_resource(
            account, region, key_id, grant_token=str(params.get("GrantToken") or "")
        )
        checks = [actions.Check(action, [key], {**context, **actions.direct_call_context(action, account, params)})]
        if operation == "ReEncrypt" and params.get("DestinationKeyId"):  # both keys must allow
            destination = resource_policies.kms_resource(account, region, str(params["DestinationKeyId"]))
            checks.append(
                actions.Check(
                    "kms:ReEncryptTo", [destination], {**context, **actions.kms_context(params, account)}
                )
            )
        return checks
    if service == "sqs":
        name = str(
            params.get("QueueName") or str(params.get("QueueUrl") or "").rstrip("/").rsplit("/", 1)[-1]
        )
        arn = f"arn:aws:sqs:{region}:{account}:{name}" if name else "*"
        resource = resource_policies.sqs_resource(account, region, arn) if name else Resource("*", account)
        return [actions.Check(action, [resource], context)]
    if service == "sns" and params.get("TopicArn"):
        return [
            actions.Check(
                action, [resource_policies.sns_resource(account, region, str(params["TopicArn"]))], context
            )
        ]
    if service == "iam" and params.get("PolicyArn"):
        context["iam:PolicyARN"] = params["PolicyArn"]
    if service == "iam":
        boundary = _permissions_boundary_key(account, operation, params)
        if boundary:
            context["iam:PermissionsBoundary"] = boundary
    if service == "ec2" and operation == "RunInstances":
        if params.get("InstanceType"):  # the instance resource's key only: see actions.context_for_resource
            context["ec2:InstanceType"] = params["InstanceType"]
        resources = actions.run_instances_resources(params, account, region)
    else:
        if service == "iam":  # user/apps/app-etl: IAM ARNs carry the entity's path
            params = {**params, **iam_paths.named_with_path(account, operation, params)}
        resources = actions.resources_for(action, params, account, region)
        resources = [resource_policies.for_arn(account, region, arn) for arn in resources]
    per_table = actions.dynamodb_table_checks(action, operation, params, account, region, context)
    if per_table is not None:  # batch calls: each table with its own keys
        return per_table
    context.update(actions.service_context(service, operation, params, account, region))
    checks = [actions.Check(action, resources, context)]
    return checks + _pass_role_checks(account, service, operation, params)


def _session_account_of(arn: str, own: str) -> str:
    """The account an IAM ARN names when it is another account of the caller's lab session, else `own`."""
    parts = arn.split(":")
    account = parts[4] if len(parts) > 5 else ""
    return account if account and account != own and account_guard.may_reach(account) else own


# Where AWS checks iam:PassRole (IAM User Guide, "Grant a user permissions to pass a role to an AWS
# service"): a role handed to a service, with the service in iam:PassedToService.
_PASSED_ROLES = {
    ("ec2", "RunInstances"): ("IamInstanceProfile", "ec2.amazonaws.com"),
    ("ec2", "AssociateIamInstanceProfile"): ("IamInstanceProfile", "ec2.amazonaws.com"),
    ("ec2", "ReplaceIamInstanceProfileAssociation"): ("IamInstanceProfile", "ec2.amazonaws.com"),
    ("lambda", "CreateFunction"): ("Role", "lambda.amazonaws.com"),
    ("lambda", "UpdateFunctionConfiguration"): ("Role", "lambda.amazonaws.com"),
    ("ecs", "RegisterTaskDefinition"): ("taskRoleArn", "ecs-tasks.amazonaws.com"),
}


def _pass_role_checks(account: str, service: str, operation: str, params: dict) -> list:
    found = _PASSED_ROLES.get((service, operation))
    if found is None:
        return []
    name, passed_to = found
    values = [params.get(name)]
    if (service, operation) == ("ecs", "RegisterTaskDefinition"):
        values.append(params.get("executionRoleArn"))
    roles = [arn for value in values if value for arn in _role_arns(account, value)]
    return [actions.Check("iam:PassRole", [arn], {"iam:PassedToService": passed_to}) for arn in roles]


# iam:PermissionsBoundary (Service Authorization Reference): the boundary a request sets, or the boundary
# the target user or role already has, so a delegated administrator can be held to "only users with this
# boundary" (IAM User Guide, "Permissions boundaries for IAM entities", delegating responsibility).
_BOUNDARY_SET_BY = {"CreateUser", "CreateRole", "PutUserPermissionsBoundary", "PutRolePermissionsBoundary"}
_BOUNDARY_OF_TARGET = {
    "AttachUserPolicy": "user", "DetachUserPolicy": "user", "PutUserPolicy": "user", "DeleteUserPolicy": "user",
    "DeleteUserPermissionsBoundary": "user",
    "AttachRolePolicy": "role", "DetachRolePolicy": "role", "PutRolePolicy": "role", "DeleteRolePolicy": "role",
    "DeleteRolePermissionsBoundary": "role", "DeleteRole": "role", "UpdateRole": "role",
    "UpdateRoleDescription": "role", "UpdateAssumeRolePolicy": "role", "GetRole": "role",
}


def _permissions_boundary_key(account: str, operation: str, params: dict) -> str | None:
    if operation in _BOUNDARY_SET_BY:
        value = params.get("PermissionsBoundary")
        return value if isinstance(value, str) and value else None
    kind = _BOUNDARY_OF_TARGET.get(operation)
    if kind is None:
        return None
    from moto.iam.models import iam_backends

    iam = iam_backends[account]["aws"]
    try:
        if kind == "user":
            boundary = iam.get_user(str(params.get("UserName", ""))).permissions_boundary
        else:
            boundary = iam.get_role(str(params.get("RoleName", ""))).permissions_boundary
    except Exception:
        return None  # no such user or role: IAM answers that itself
    return (boundary or {}).get("PermissionsBoundaryArn")


def _role_arns(account: str, value) -> list[str]:
    """The role ARN(s) a parameter hands over: a role ARN, or an instance profile (by name or ARN)."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, dict):
        return []
    from moto.iam.models import iam_backends

    iam = iam_backends[account]["aws"]
    try:
        profile = (
            iam.get_instance_profile_by_arn(value["Arn"])
            if value.get("Arn")
            else iam.get_instance_profile(value.get("Name", ""))
        )
    except Exception:
        return []  # no such profile: the service answers that itself
    return [role.arn for role in profile.roles]


def _s3_request(environ) -> tuple[str | None, str | None, str | None, dict]:
    """(operation, bucket, key, query) of an S3 request, matched against botocore's S3 model as the
    gateway does (labapp.sandbox.gateway.operations)."""
    from labapp.sandbox.gateway import operations

    _bucket, path = operations.s3_bucket_and_path(environ.get("HTTP_HOST", ""), environ.get("PATH_INFO", ""))
    query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    headers = frozenset(k[5:].replace("_", "-").lower() for k in environ if k.startswith("HTTP_"))
    matcher = operations.rest_matcher("s3")
    found, _groups = matcher.match(environ["REQUEST_METHOD"], path, query, headers) if matcher else (None, {})
    parts = path.lstrip("/").split("/", 1)
    bucket = parts[0] or None
    key = parts[1] if len(parts) > 1 and parts[1] else None
    if (
        found is None
        and environ["REQUEST_METHOD"] == "POST"
        and key is None
        and environ.get("CONTENT_TYPE", "").startswith("multipart/form-data")
    ):
        return "PostObject", bucket, _post_object_key(environ), query  # a browser upload (POST policy)
    return (found.name if found else None), bucket, key, query


def _post_object_key(environ) -> str | None:
    """The object key of an S3 POST upload: its `key` field, `${filename}` replaced as S3 does."""
    import io

    from werkzeug.formparser import parse_form_data

    body = _body(environ)
    form_environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": environ.get("CONTENT_TYPE", ""),
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    _stream, form, files = parse_form_data(form_environ)
    key = form.get("key")
    upload = files.get("file")
    if key and upload is not None:
        key = key.replace("${filename}", upload.filename or "")
    return key or None


def _s3_checks(scope: Scope, resource_account: str | None = None) -> list:
    environ = scope.environ
    operation, bucket, key, query = _s3_request(environ)
    action = actions.action_name("s3", operation, versioned="versionId" in query) if operation else None
    if action is None:
        _unmapped(scope, "s3", operation)
    account = resource_account or scope.account_id  # the bucket's account (a partner account's bucket)
    header = lambda name: environ.get("HTTP_" + name.upper().replace("-", "_"))
    context = {
        "s3:authType": "REST-QUERY-STRING" if "X-Amz-Signature" in query else "REST-HEADER",
        "s3:signatureversion": "AWS4-HMAC-SHA256",
    }
    for name in ("prefix", "delimiter", "max-keys"):
        if name in query and action in ("s3:ListBucket", "s3:ListBucketVersions"):
            context[f"s3:{name}"] = query[name]
    for name in (
        "x-amz-acl",
        "x-amz-server-side-encryption",
        "x-amz-server-side-encryption-aws-kms-key-id",
        "x-amz-copy-source",
        "x-amz-metadata-directive",
        "x-amz-storage-class",
    ):
        if header(name):
            context[f"s3:{name}"] = header(name)
    if "versionId" in query:
        context["s3:VersionId"] = query["versionId"]
    kinds = {rt.name for rt in actions.catalog.resource_types(action)}
    if "object" in kinds and bucket and key:
        arns = [f"arn:aws:s3:::{bucket}/{key}"]
    elif "bucket" in kinds and bucket:
        arns = [f"arn:aws:s3:::{bucket}"]
    else:
        arns = ["*"]
    if operation == "DeleteObjects" and bucket:
        keys = [unquote_xml(k) for k in re.findall(rb"<Key>(.*?)</Key>", _body(environ), re.DOTALL)]
        arns = [f"arn:aws:s3:::{bucket}/{k}" for k in keys] or arns
    checks = [actions.Check(action, [resource_policies.s3_resource(account, a) for a in arns], context)]
    source = header("x-amz-copy-source")
    if operation in ("CopyObject", "UploadPartCopy") and source:
        path, _, version = unquote(source).lstrip("/").partition("?versionId=")
        read = "s3:GetObjectVersion" if version else "s3:GetObject"
        checks.append(
            actions.Check(read, [resource_policies.s3_resource(account, f"arn:aws:s3:::{path}")], {})
        )
    return checks + _s3_kms_checks(scope, operation, bucket, key, header)


def _s3_kms_checks(scope: Scope, operation: str, bucket: str | None, key: str | None, header) -> list:
    """S3 calls KMS with the caller's credentials for an object encrypted with a KMS key: the key's
    policy and grants and the caller's policies must allow it, with kms:ViaService s3.<region>."""
    if not bucket:
        return []
    region = (scope.caller.region if scope.caller else "") or "us-east-1"
    kms_action, key_id = resource_policies.s3_kms_key_use(
        scope.account_id, region, operation, bucket, key, header
    )
    if not kms_action or not key_id:
        return []
    encryption = {"aws:s3:arn": f"arn:aws:s3:::{bucket}/{key}" if key else f"arn:aws:s3:::{bucket}"}
    context = {
        **actions.kms_context({}, scope.account_id),
        **actions.via_service_context("s3", region, encryption),
    }
    return [
        actions.Check(kms_action, [resource_policies.kms_resource(scope.account_id, region, key_id)], context)
    ]


def unquote_xml(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )


def _body(environ) -> bytes:
    stream = environ.get("wsgi.input")
    if not hasattr(stream, "getvalue"):
        return b""
    return stream.getvalue()


# --- the refusal, in the protocol's shape ---------------------------------------------------------------


def refusal_response(scope: Scope) -> tuple[str, list, bytes]:
    from labapp.sandbox import account_guard

    message = scope.refusal or "Access Denied"
    _name, protocol = account_guard._protocol(scope.environ, scope.service)
    if protocol == "ec2":
        message = _ec2_message(scope, message)
    status, headers, body = account_guard.denial_response(
        scope.environ, scope.service, scope.account_id, message
    )
    code = scope.refusal_code
    if protocol == "ec2" and code == "AccessDenied":
        code = "UnauthorizedOperation"
    if code != "AccessDenied":
        body = body.replace(b"<Code>AccessDenied</Code>", f"<Code>{code}</Code>".encode())
        body = body.replace(b'"AccessDeniedException"', f'"{code}"'.encode())
        headers = [
            (k, code if k == "x-amzn-ErrorType" else v) for k, v in headers if k != "Content-Length"
        ] + [("Content-Length", str(len(body)))]
    headers.append((DENIAL_HEADER, quote(scope.refusal or "", safe=' :/"(),.*-_=@+[]{}')))
    detail = denial_detail(scope)
    if detail:
        headers.append((DENIAL_DETAIL_HEADER, quote(json.dumps(detail, separators=(",", ":")), safe="")))
    return status, headers, body


def denial_detail(scope: Scope) -> dict | None:
    """The refusing decision for the journal: explicit or implicit deny, the kind of policy that decided,
    and the statements that applied (the Deny that won, or the Allows that were not enough)."""
    decision = next((d for d in reversed(scope.decisions) if not d.allowed), None)
    if decision is None:
        return None
    kind = "error" if decision.error else decision.effect
    return {
        "decision": {"explicit-deny": "explicitDeny", "implicit-deny": "implicitDeny"}.get(kind, kind),
        "policyType": decision.policy_type or "",
        "action": decision.action,
        "resource": decision.resource,
        "statements": [
            {"policy": m.policy_id, "type": m.policy_type, "sid": m.sid, "index": m.index, "effect": m.effect}
            for m in decision.matched[:8]
        ],
    }


def _ec2_message(scope: Scope, message: str) -> str:
    """EC2's wording: the reason, then an encoded message `sts decode-authorization-message` decodes."""
    from labapp.sandbox.extensions import sts

    decision = next((d for d in reversed(scope.decisions) if not d.allowed), None)
    if decision is None:
        return f"You are not authorized to perform this operation. {message}"
    encoded = sts.encode(
        scope.account_id,
        sts.denial_context(
            account_id=scope.account_id,
            principal_arn=decision.principal_arn,
            action=decision.action,
            resource=decision.resource,
            explicit_deny=decision.effect == "explicit-deny",
            statements=[
                {
                    "statementId": m.sid,
                    "effect": m.effect,
                    "sourcePolicyId": m.policy_id,
                    "sourcePolicyType": m.policy_type,
                }
                for m in decision.matched
            ],
            conditions={k: v for k, v in decision.context.items() if not isinstance(v, list)},
        ),
    )
    return (
        f"You are not authorized to perform this operation. {message}. "
        f"Encoded authorization failure message: {encoded}"
    )


# --- installation -----------------------------------------------------------------------------------------


def install() -> None:
    from moto.core.authorization import ActionAuthenticatorMixin

    if getattr(ActionAuthenticatorMixin, "_lab_iam", False):
        return

    def _authenticate_and_authorize_normal_action(self, resource: str = "*") -> None:
        authorize_operation(self)

    def _authenticate_and_authorize_s3_action(self, bucket_name=None, key_name=None) -> None:
        authorize_s3(self)

    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = (
        _authenticate_and_authorize_normal_action
    )
    ActionAuthenticatorMixin._authenticate_and_authorize_s3_action = _authenticate_and_authorize_s3_action
    ActionAuthenticatorMixin._lab_iam = True
    _s3_decides_first()
    _user_ids_like_aws()
    from . import iam_patches

    iam_patches.apply()


def _s3_decides_first() -> None:
    """moto's object handler first applies the bucket policy its own way (action and resource only, every
    principal alike) and may answer 403 before its authorization hook runs. For an evaluated principal IAM
    decides first, bucket policy included, and moto's check is then left out."""
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket
    from moto.s3.responses import S3Response

    original_key_response = S3Response._key_response
    original_bucket_response = S3Response._bucket_response
    original_get_permission = FakeBucket.get_permission

    def _key_response(self, request, full_url):
        authorize_s3(self)
        return original_key_response(self, request, full_url)

    def _bucket_response(self, request, full_url):
        authorize_s3(self)
        return original_bucket_response(self, request, full_url)

    def get_permission(self, action, resource):
        scope = _scope.get()
        if scope is not None and scope.evaluated and scope.decided:
            return PermissionResult.NEUTRAL  # decided by IAM, with this very bucket policy
        return original_get_permission(self, action, resource)

    S3Response._key_response = _key_response
    S3Response._bucket_response = _bucket_response
    FakeBucket.get_permission = get_permission


def _user_ids_like_aws() -> None:
    """moto gives users a lowercase random id; AWS's are AIDA + 17 characters (aws:userid, the caller's
    identity)."""
    import secrets
    import string

    from moto.iam.models import Group, User

    alphabet = string.ascii_uppercase + string.digits

    def wrap(cls, prefix):
        original = cls.__init__

        def __init__(self, *args, **kwargs):
            original(self, *args, **kwargs)
            self.id = prefix + "".join(secrets.choice(alphabet) for _ in range(17))

        cls.__init__ = __init__

    wrap(User, "AIDA")
    wrap(Group, "AGPA")


__all__ = [
    "DENIAL_DETAIL_HEADER",
    "DENIAL_HEADER",
    "AuthorizationDenied",
    "Scope",
    "authorize_operation",
    "authorize_s3",
    "current",
    "current_access_key",
    "install",
    "refusal_response",
    "request_scope",
    "unquote",
]

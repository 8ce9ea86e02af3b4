"""What an anonymous (unsigned) caller may read from S3, decided the way S3 decides it.

moto 5.2.5 decides this in `S3Response._key_response` and gets it wrong in ways that leak private
objects: any `Authorization` header (even an empty one) or the text `Signature=` anywhere in the URL
(a query *value* will do) makes the request "authorized"; the check looks at the latest version only,
so `?versionId=` of a private version behind a delete marker is served; a bucket policy allowing
someone else (not "*") counts as public; Block Public Access and Object Ownership are ignored.

Here an anonymous GET or HEAD of an object is allowed only if, for the anonymous principal:
- no bucket policy statement denies it (s3:GetObject, or s3:GetObjectVersion with a versionId), and
- a bucket policy statement allows it, unless the bucket's (or account's) Block Public Access
  `RestrictPublicBuckets` is on; or the version's ACL grants READ to AllUsers, unless
  `IgnorePublicAcls` is on or the bucket enforces bucket-owner object ownership (ACLs disabled).
Conditions are evaluated with the request's context (labapp.grading.policy): aws:SecureTransport is
"false", as the lab gateway serves plain HTTP. Everything else anonymous is refused.

Block Public Access also refuses *writing* what it blocks, for every caller (the sandbox's administrator
too, as on AWS): a public bucket policy under BlockPublicPolicy, a public ACL under BlockPublicAcls
(`blocked_write`). What it does to signed callers' reads (RestrictPublicBuckets, IgnorePublicAcls, ACLs
disabled) is applied by IAM enforcement (labapp/sandbox/authorization/resource_policies.py).

A request is anonymous when the gateway marks it so (header `x-lab-anonymous`, set on every unsigned
request it forwards), or when it carries no credentials at all: no non-empty Authorization header and
no presigned-URL signature *parameter*.
"""

from __future__ import annotations

ANONYMOUS_HEADER = "x-lab-anonymous"
_SIGNATURE_PARAMETERS = frozenset({"x-amz-signature", "x-amz-credential", "signature", "awsaccesskeyid"})
_ACCESS_DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message>'
    b"<RequestId>lab-anonymous</RequestId></Error>"
)
# What an anonymous object read may carry: a version, a part, and the response-header overrides. Sub-
# resources (?acl, ?tagging, ?attributes...) need other permissions than s3:GetObject: refused.
READ_QUERY_KEYS = frozenset(
    {"versionId", "partNumber", "x-id", "response-content-type", "response-content-disposition",
     "response-content-encoding", "response-content-language", "response-cache-control", "response-expires"}
)
_ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
_READ_GRANTS = ("READ", "FULL_CONTROL")
# The gateway listens on plain HTTP (see settings.LAB_GATEWAY_URL).
_REQUEST_CONTEXT = {"aws:SecureTransport": "false"}


def is_anonymous(request) -> bool:
    if request.headers.get(ANONYMOUS_HEADER):
        return True
    if request.headers.get("Authorization", "").strip():
        return False
    return not any(name.lower() in _SIGNATURE_PARAMETERS for name in request.args.keys())


def anonymous_may_read(backend, bucket_name: str, key_name: str, version_id: str | None) -> bool:
    from moto.s3.exceptions import S3ClientError

    from labapp.grading import policy

    try:
        bucket = backend.get_bucket(bucket_name)
    except S3ClientError:
        return False
    action = "s3:GetObjectVersion" if version_id else "s3:GetObject"
    resource = f"arn:aws:s3:::{bucket_name}/{key_name}"
    decision = policy.IMPLICIT_DENY
    if bucket.policy:
        decision = policy.evaluate(bucket.policy, action, resource, policy.ANONYMOUS, dict(_REQUEST_CONTEXT))
    if decision == policy.DENY:
        return False
    block = _public_access_block(backend, bucket)
    if decision == policy.ALLOW and not block["restrict_public_buckets"]:
        return True
    if block["ignore_public_acls"] or _acls_disabled(bucket):
        return False
    version = _version(bucket, key_name, version_id)
    return version is not None and _grants_public_read(getattr(version, "acl", None))


def _version(bucket, key_name: str, version_id: str | None):
    """The object version asked for: a FakeKey, or None (missing, or a delete marker)."""
    from moto.s3.models import FakeKey

    versions = bucket.keys.getlist(key_name, default=[]) or []
    if version_id is None:
        found = versions[-1] if versions else None
    else:
        found = next((v for v in versions if str(v.version_id) == str(version_id)), None)
    return found if isinstance(found, FakeKey) else None


def _grants_public_read(acl) -> bool:
    for grant in getattr(acl, "grants", None) or []:
        if any(getattr(g, "uri", "") == _ALL_USERS for g in grant.grantees) and any(
            p in _READ_GRANTS for p in grant.permissions
        ):
            return True
    return False


def _acls_disabled(bucket) -> bool:
    rule = bucket.ownership_rule or {}
    if isinstance(rule, str):  # moto keeps PutBucketOwnershipControls' (and CreateBucket's) value as text
        return rule == "BucketOwnerEnforced"
    rules = rule.get("Rule", rule) if isinstance(rule, dict) else {}
    if isinstance(rules, list):
        rules = rules[0] if rules else {}
    return isinstance(rules, dict) and rules.get("ObjectOwnership") == "BucketOwnerEnforced"


def _public_access_block(backend, bucket) -> dict[str, bool]:
    """The effective settings: a setting is on if the bucket's or the account's block turns it on."""
    effective = {"ignore_public_acls": False, "restrict_public_buckets": False}
    bucket_block = bucket.public_access_block
    if bucket_block is not None:
        effective["ignore_public_acls"] |= bool(bucket_block.ignore_public_acls)
        effective["restrict_public_buckets"] |= bool(bucket_block.restrict_public_buckets)
    try:
        from moto.s3control.models import s3control_backends

        account_block = s3control_backends[backend.account_id]["aws"].public_access_block
    except Exception:
        account_block = None
    if account_block is not None:
        effective["ignore_public_acls"] |= bool(getattr(account_block, "ignore_public_acls", False))
        effective["restrict_public_buckets"] |= bool(getattr(account_block, "restrict_public_buckets", False))
    return effective


_PUBLIC_CANNED_ACLS = {"public-read", "public-read-write", "authenticated-read"}
_PUBLIC_GROUPS = (_ALL_USERS, "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
_BLOCKED_POLICY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied: public '
    b"policies are blocked by the BlockPublicPolicy block public access setting.</Message>"
    b"<RequestId>lab-block-public-access</RequestId></Error>"
)
_BLOCKED_ACL = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied: public '
    b"ACLs are blocked by the BlockPublicAcls block public access setting.</Message>"
    b"<RequestId>lab-block-public-access</RequestId></Error>"
)


def blocked_write(backend, bucket_name: str, request, *, bucket_request: bool) -> bytes | None:
    """The refusal S3 gives any caller, the account's own included, for writing what Block Public Access
    blocks (S3 User Guide, "Block public access settings"): a public bucket policy under BlockPublicPolicy,
    a public ACL (canned, grant header or ?acl body naming AllUsers / AuthenticatedUsers) under
    BlockPublicAcls. None when the write may go on."""
    if request.method != "PUT":
        return None
    bucket = backend.buckets.get(bucket_name)
    if bucket is None:
        return None
    block = _write_block(backend, bucket)
    if bucket_request and "policy" in request.args and block["block_public_policy"]:
        if _policy_is_public(request.get_data(cache=True)):
            return _BLOCKED_POLICY
    if block["block_public_acls"] and _sets_public_acl(request):
        return _BLOCKED_ACL
    return None


def _policy_is_public(body: bytes) -> bool:
    import json

    from labapp.sandbox.authorization.resource_policies import _is_public

    try:
        document = json.loads(body or b"{}")
    except ValueError:
        return False  # S3 answers MalformedPolicy itself
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    statements = [statements] if isinstance(statements, dict) else statements
    return any(isinstance(st, dict) and _is_public(st) for st in statements)


def _sets_public_acl(request) -> bool:
    if (request.headers.get("x-amz-acl") or "").strip() in _PUBLIC_CANNED_ACLS:
        return True
    grants = " ".join(v for k, v in request.headers.items() if k.lower().startswith("x-amz-grant-"))
    if any(group in grants for group in _PUBLIC_GROUPS):
        return True
    if "acl" in request.args:
        body = request.get_data(cache=True) or b""
        return any(group.encode() in body for group in _PUBLIC_GROUPS)
    return False


def _write_block(backend, bucket) -> dict[str, bool]:
    effective = {"block_public_acls": False, "block_public_policy": False}
    blocks = [bucket.public_access_block]
    try:
        from moto.s3control.models import s3control_backends

        blocks.append(s3control_backends[backend.account_id]["aws"].public_access_block)
    except Exception:  # noqa: BLE001 - no account-level block
        pass
    for block in blocks:
        if block is not None:
            effective["block_public_acls"] |= bool(getattr(block, "block_public_acls", False))
            effective["block_public_policy"] |= bool(getattr(block, "block_public_policy", False))
    return effective


def install() -> None:
    """Decide anonymous object reads ourselves; refuse every other anonymous S3 request."""
    from moto.s3.responses import S3Response

    original_key_response = S3Response._key_response
    original_bucket_response = S3Response._bucket_response

    def _key_response(self, request, full_url):
        if is_anonymous(request):
            if request.method not in ("GET", "HEAD") or any(k not in READ_QUERY_KEYS for k in request.args.keys()):
                return 403, {"Content-Type": "application/xml"}, _ACCESS_DENIED
            bucket_name = self.parse_bucket_name_from_url(request, full_url)
            key_name = self.parse_key_name()
            if not anonymous_may_read(self.backend, bucket_name, key_name, request.args.get("versionId")):
                return 403, {"Content-Type": "application/xml"}, _ACCESS_DENIED
            # Decided: moto's own anonymous check (wrong for HEAD, versions, policies) is not run again.
            request.environ["HTTP_AUTHORIZATION"] = "lab-public-read"
        elif request.method == "PUT":
            refused = blocked_write(
                self.backend, self.parse_bucket_name_from_url(request, full_url), request, bucket_request=False
            )
            if refused:
                return 403, {"Content-Type": "application/xml"}, refused
        return original_key_response(self, request, full_url)

    def _bucket_response(self, request, full_url):
        # Only the gateway's mark here: a browser POST upload has no Authorization header either (its
        # signature is in the form, verified by the gateway).
        if request.headers.get(ANONYMOUS_HEADER):
            return 403, {"Content-Type": "application/xml"}, _ACCESS_DENIED
        if request.method == "PUT":
            refused = blocked_write(
                self.backend, self.parse_bucket_name_from_url(request, full_url), request, bucket_request=True
            )
            if refused:
                return 403, {"Content-Type": "application/xml"}, refused
        return original_bucket_response(self, request, full_url)

    S3Response._key_response = _key_response
    S3Response._bucket_response = _bucket_response

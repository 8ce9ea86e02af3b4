"""S3 check kinds: versioning, object versions, objects, and the delete-marker restore (journal based)."""

from __future__ import annotations

import re

from botocore.exceptions import ClientError

from . import Check, CheckFailed, failed, passed, register, schema, string

BUCKET = string("bucket name (usually {{ bucket }})")
KEY = string("object key")


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def object_versions(ctx, bucket: str, key: str) -> tuple[list[dict], list[dict]]:
    """(versions, delete markers) of exactly `key`, newest first."""
    s3 = ctx.client("s3")
    versions: list[dict] = []
    markers: list[dict] = []
    kwargs = {"Bucket": bucket, "Prefix": key}
    while True:
        page = s3.list_object_versions(**kwargs)
        versions += [v for v in page.get("Versions", []) if v["Key"] == key]
        markers += [m for m in page.get("DeleteMarkers", []) if m["Key"] == key]
        if not page.get("IsTruncated"):
            break
        kwargs.update(KeyMarker=page.get("NextKeyMarker"), VersionIdMarker=page.get("NextVersionIdMarker"))
    return versions, markers


def object_reads(ctx, bucket: str, key: str) -> bool:
    try:
        ctx.client("s3").head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as err:
        if _code(err) in {"404", "NoSuchKey", "NotFound", "405", "MethodNotAllowed"}:
            return False
        raise


@register("s3.bucket_versioning")
class BucketVersioning(Check):
    description = "The bucket's versioning status is Enabled (or Suspended)."
    params_schema = schema(
        {"bucket": BUCKET, "status": {"enum": ["Enabled", "Suspended"], "default": "Enabled",
                                      "description": "Required versioning status"}},
        ["bucket"],
    )

    def run(self, ctx, *, bucket, status="Enabled"):
        current = ctx.client("s3").get_bucket_versioning(Bucket=bucket).get("Status")
        if current == status:
            return passed(f"versioning on {bucket} is {status}")
        if current is None:
            return failed(f"versioning has never been turned on for {bucket} — it must be {status}")
        return failed(f"versioning on {bucket} is {current} — it must be {status}")


@register("s3.object_versions")
class ObjectVersions(Check):
    description = "The object has at least `min` versions (delete markers not counted)."
    params_schema = schema(
        {"bucket": BUCKET, "key": KEY,
         "min": {"type": "integer", "minimum": 1, "default": 2, "description": "Fewest versions accepted"}},
        ["bucket", "key"],
    )

    def run(self, ctx, *, bucket, key, min=2):  # noqa: A002 - the lab file's word
        versions, _ = object_versions(ctx, bucket, key)
        if len(versions) >= min:
            return passed(f"{key} has {len(versions)} versions in {bucket}")
        if not versions:
            return failed(f"{key} does not exist in {bucket}")
        only_null = all(v.get("VersionId") in (None, "null") for v in versions)
        why = (" — it was uploaded before versioning was on; upload it again (or copy it onto itself) "
               "after enabling versioning") if only_null else " — upload a new version of it"
        return failed(f"{key} has {len(versions)} version{'s' if len(versions) != 1 else ''} in {bucket}, "
                      f"at least {min} needed{why}")


def _media_type(content_type: str | None) -> str:
    """`text/plain; charset=utf-8` is text/plain: parameters aside, media types are case-insensitive."""
    return (content_type or "").split(";", 1)[0].strip().lower()


@register("s3.object_exists")
class ObjectExists(Check):
    description = "The object currently reads (HEAD succeeds), optionally with a given Content-Type."
    params_schema = schema(
        {"bucket": BUCKET, "key": KEY, "content_type": string("Required Content-Type, e.g. text/html")},
        ["bucket", "key"],
    )

    def run(self, ctx, *, bucket, key, content_type=None):
        try:
            head = ctx.client("s3").head_object(Bucket=bucket, Key=key)
        except ClientError as err:
            if _code(err) in {"404", "NoSuchKey", "NotFound"}:
                return failed(f"{key} does not exist in {bucket} (or its latest version is a delete marker)")
            raise
        if content_type and _media_type(head.get("ContentType")) != _media_type(content_type):
            return failed(f"{key} has Content-Type {head.get('ContentType')}, not {content_type}")
        return passed(f"{key} exists in {bucket}")


# --- journal based ------------------------------------------------------------------------------
# The gateway (labapp/sandbox/gateway/operations.py, add_response_params) journals for S3 object calls
# the request's Bucket and Key; the request's version id as RequestVersionId; the response's
# x-amz-version-id as VersionId and x-amz-delete-marker as DeleteMarker (bool).


def _ok(row: dict) -> bool:
    return 200 <= int(row.get("status") or 0) < 300


def _flag(value) -> bool:
    return value is True or str(value).lower() == "true"


MARKERS_REMOVED_HEADER = "x-lab-delete-markers-removed"  # labapp/sandbox/extensions/s3.py


def _journal_deletes(ctx, bucket: str, key: str) -> list[dict]:
    return [row for row in ctx.journal
            if row.get("source") == "learner" and row.get("action") == "DeleteObject" and _ok(row)
            and (row.get("params") or {}).get("Bucket") == bucket and (row.get("params") or {}).get("Key") == key]


def _why_not_restored(deletes: list[dict], key: str) -> str:
    """What the journal's DeleteObject calls say went wrong (DeleteObjects calls carry no keys there)."""
    if not deletes:
        return f"{key} has not been deleted yet — delete it (no version id) so S3 adds a delete marker"
    markers = [(i, (r.get("params") or {}).get("VersionId")) for i, r in enumerate(deletes)
               if not (r.get("params") or {}).get("RequestVersionId") and _flag((r.get("params") or {}).get("DeleteMarker"))]
    if not markers:
        if any(not (r.get("params") or {}).get("RequestVersionId") for r in deletes):
            return (f"{key} was deleted while versioning was off, so no delete marker was made — enable "
                    "versioning, upload it again and repeat the delete")
        return (f"you deleted specific versions of {key}, but never deleted {key} itself (without a version id) "
                "to create a delete marker")
    return (f"{key} was deleted (delete marker {str(markers[-1][1])[:12]}…) but that delete marker was never "
            f"removed — delete the marker's version id to restore {key} (uploading it again does not count)")


@register("s3.delete_marker_restored")
class DeleteMarkerRestored(Check):
    description = (
        "The object was deleted in a versioned bucket (creating a delete marker), that delete marker was later "
        "removed by deleting its version id (DeleteObject or DeleteObjects), and the object reads now."
    )
    params_schema = schema({"bucket": BUCKET, "key": KEY}, ["bucket", "key"])

    def run(self, ctx, *, bucket, key):
        _, markers = object_versions(ctx, bucket, key)
        on_top = [m for m in markers if m.get("IsLatest")]
        if on_top:
            return failed(f"{key} is deleted: delete marker {str(on_top[0].get('VersionId'))[:12]}… is its latest "
                          "version — delete that marker's version id to restore it")
        try:
            head = ctx.client("s3").head_object(Bucket=bucket, Key=key)
        except ClientError as err:
            if _code(err) in {"404", "NoSuchKey", "NotFound"}:
                return failed(f"{key} does not read now — it has no version left to restore")
            raise
        removed = int(head["ResponseMetadata"]["HTTPHeaders"].get(MARKERS_REMOVED_HEADER, "0") or 0)
        if removed:
            return passed(f"{key} was deleted, restored by removing its delete marker, and reads again")
        return failed(_why_not_restored(_journal_deletes(ctx, bucket, key), key))


# --- bucket configuration (S3 and advanced S3 labs) -----------------------------------------------

import json as _json  # noqa: E402


def _get(ctx, method: str, bucket: str, missing: set[str], **kwargs):
    """A bucket sub-resource, or None when it is not configured (the 404 codes in `missing`)."""
    try:
        return getattr(ctx.client("s3"), method)(Bucket=bucket, **kwargs)
    except ClientError as err:
        if _code(err) in missing:
            return None
        raise


def _listify(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def policy_statements(document) -> list[dict]:
    if isinstance(document, str):
        try:
            document = _json.loads(document)
        except ValueError:
            return []
    return [s for s in _listify((document or {}).get("Statement")) if isinstance(s, dict)]


def action_matches(pattern: str, action: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def principal_values(principal) -> list[str]:
    if principal == "*":
        return ["*"]
    if isinstance(principal, dict):
        return [v for values in principal.values() for v in _listify(values)]
    return _listify(principal)


def _kms_key_info(ctx, key_id: str) -> dict | None:
    try:
        return ctx.client("kms").describe_key(KeyId=key_id)["KeyMetadata"]
    except ClientError:
        return None


@register("s3.bucket_encryption")
class BucketEncryption(Check):
    description = ("The bucket's default encryption uses the given algorithm (AES256 or aws:kms); for aws:kms, "
                   "optionally a customer managed key (by alias) and S3 Bucket Keys.")
    params_schema = schema(
        {"bucket": BUCKET, "algorithm": {"enum": ["AES256", "aws:kms"], "default": "aws:kms"},
         "kms_alias": string("alias/... of the customer managed key the bucket must use"),
         "bucket_key": {"type": "boolean", "description": "S3 Bucket Key must be enabled"}},
        ["bucket"],
    )

    def run(self, ctx, *, bucket, algorithm="aws:kms", kms_alias=None, bucket_key=None):
        found = _get(ctx, "get_bucket_encryption", bucket, {"ServerSideEncryptionConfigurationNotFoundError"})
        rules = (found or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        if not rules:
            return failed(f"{bucket} has no default encryption configuration")
        rule = rules[0]
        default = rule.get("ApplyServerSideEncryptionByDefault", {})
        current = default.get("SSEAlgorithm")
        if current != algorithm:
            return failed(f"default encryption of {bucket} is {current}, not {algorithm}"
                          + (" (SSE-S3 uses keys S3 manages; this lab needs SSE-KMS with your own key)"
                             if current == "AES256" else ""))
        if algorithm == "aws:kms" and kms_alias:
            key_ref = default.get("KMSMasterKeyID")
            if not key_ref:
                return failed(f"{bucket} uses SSE-KMS with the AWS managed key aws/s3 — set your customer "
                              f"managed key {kms_alias} as KMSMasterKeyID")
            wanted = _kms_key_info(ctx, kms_alias)
            if wanted is None:
                return failed(f"there is no KMS key with alias {kms_alias} — create the key and the alias first")
            actual = _kms_key_info(ctx, key_ref)
            if actual is None or actual["KeyId"] != wanted["KeyId"]:
                return failed(f"{bucket} encrypts with KMS key {key_ref}, not the key behind {kms_alias}")
        if bucket_key and not rule.get("BucketKeyEnabled"):
            return failed(f"{bucket} uses SSE-KMS but S3 Bucket Keys are off — enable BucketKeyEnabled to cut KMS calls")
        return passed(f"{bucket} encrypts new objects with {algorithm}" + (f" using {kms_alias}" if kms_alias else ""))


@register("s3.object_encryption")
class ObjectEncryption(Check):
    description = ("The object is stored encrypted with the given algorithm (HEAD shows ServerSideEncryption), "
                   "and for aws:kms optionally with the customer managed key behind an alias.")
    params_schema = schema({"bucket": BUCKET, "key": KEY, "algorithm": {"enum": ["AES256", "aws:kms"]},
                            "kms_alias": string("alias/... of the key the object must be encrypted with")},
                           ["bucket", "key", "algorithm"])

    def run(self, ctx, *, bucket, key, algorithm, kms_alias=None):
        try:
            head = ctx.client("s3").head_object(Bucket=bucket, Key=key)
        except ClientError as err:
            if _code(err) in {"404", "NoSuchKey", "NotFound"}:
                return failed(f"{key} does not exist in {bucket} — upload it")
            raise
        current = head.get("ServerSideEncryption")
        if current != algorithm:
            return failed(f"{key} is stored with {current or 'no'} encryption, not {algorithm} — upload it again "
                          "after setting default encryption")
        if algorithm == "aws:kms" and kms_alias:
            key_ref = head.get("SSEKMSKeyId")
            if not key_ref:
                return failed(f"{key} is encrypted with the AWS managed key aws/s3, not {kms_alias} — upload it again "
                              "without --sse (the bucket default names your key) or with your key's id")
            wanted, actual = _kms_key_info(ctx, kms_alias), _kms_key_info(ctx, key_ref)
            if wanted is None or actual is None or actual["KeyId"] != wanted["KeyId"]:
                return failed(f"{key} is encrypted with KMS key {key_ref}, not the key behind {kms_alias} — upload "
                              "it again now that the bucket default names your key")
        return passed(f"{key} is encrypted with {algorithm}" + (f" using {kms_alias}" if kms_alias else ""))


@register("s3.public_access_block")
class PublicAccessBlock(Check):
    description = "The bucket's Block Public Access settings: `blocked` true (all four on) or false (policy allowed)."
    params_schema = schema({"bucket": BUCKET, "blocked": {"type": "boolean"}}, ["bucket", "blocked"])

    def run(self, ctx, *, bucket, blocked):
        found = _get(ctx, "get_public_access_block", bucket, {"NoSuchPublicAccessBlockConfiguration"})
        config = (found or {}).get("PublicAccessBlockConfiguration", {})
        on = [k for k, v in config.items() if v]
        if blocked:
            if len(on) == 4:
                return passed(f"all four Block Public Access settings are on for {bucket}")
            return failed(f"Block Public Access on {bucket} is not fully on (on: {', '.join(on) or 'none'})")
        stopping = [k for k in ("BlockPublicPolicy", "RestrictPublicBuckets") if config.get(k)]
        if stopping:
            return failed(f"{', '.join(stopping)} is still on for {bucket}, so a public bucket policy is "
                          "refused or ignored — turn those off for this bucket")
        return passed(f"{bucket} allows a public bucket policy")


@register("s3.website")
class Website(Check):
    description = "Static website hosting is on with the given index (and optionally error) document."
    params_schema = schema({"bucket": BUCKET, "index": string("index document suffix"),
                            "error": string("error document key")}, ["bucket", "index"])

    def run(self, ctx, *, bucket, index, error=None):
        found = _get(ctx, "get_bucket_website", bucket, {"NoSuchWebsiteConfiguration"})
        if not found:
            return failed(f"static website hosting is not enabled on {bucket}")
        if "RedirectAllRequestsTo" in found:
            return failed(f"{bucket} redirects every request to another host instead of serving {index}")
        for rule in found.get("RoutingRules", []):
            if not rule.get("Condition"):  # a rule without a condition redirects every request
                target = rule.get("Redirect", {}).get("HostName") or rule.get("Redirect", {}).get("ReplaceKeyWith") or "elsewhere"
                return failed(f"a routing rule of {bucket} without a Condition redirects every request (to {target}), "
                              f"so {index} is never served — give it a Condition or remove it")
        current = found.get("IndexDocument", {}).get("Suffix")
        if current != index:
            return failed(f"the index document of {bucket} is {current}, not {index}")
        if error and found.get("ErrorDocument", {}).get("Key") != error:
            return failed(f"the error document of {bucket} is {found.get('ErrorDocument', {}).get('Key') or 'not set'}, "
                          f"not {error}")
        return passed(f"{bucket} serves a website with {index}" + (f" and {error}" if error else ""))


def _cors_origin_matches(pattern: str, origin: str) -> bool:
    """An AllowedOrigin (at most one `*`) against a browser's Origin; scheme and host are case-insensitive."""
    from labapp.grading.policy import wildcard_match

    return wildcard_match(pattern, origin, ignore_case=True)


def _cors_header_matches(allowed: list, header: str) -> bool:
    from labapp.grading.policy import wildcard_match

    return any(wildcard_match(a, header, ignore_case=True) for a in allowed)


def cors_rule_for(rules: list[dict], origin: str, method: str, headers: list[str]) -> dict | None:
    """The rule S3 applies to a (preflight) request: the FIRST rule whose origins, methods and allowed
    headers all match, as S3 evaluates CORS; None when no rule matches (the browser is refused)."""
    for rule in rules:
        if not any(_cors_origin_matches(o, origin) for o in rule.get("AllowedOrigins", [])):
            continue
        if method.upper() not in [m.upper() for m in rule.get("AllowedMethods", [])]:
            continue
        if all(_cors_header_matches(rule.get("AllowedHeaders", []), h) for h in headers):
            return rule
    return None


def _other_origins(origin: str) -> list[str]:
    """Origins that are not the app's but look like it: what a too-broad AllowedOrigin would let in."""
    scheme, _, host = origin.partition("://")
    parent = host.split(".", 1)[1] if host.count(".") >= 2 else host
    return ["https://evil.example", f"{scheme}://evil.{parent}", f"{scheme}://{host}.evil.example",
            f"{'http' if scheme == 'https' else 'https'}://{host}"]


_ORIGIN_SHAPE = re.compile(r"https?://[a-z0-9.-]+(:[0-9]+)?", re.IGNORECASE)


def _origin_a_wildcard_admits(pattern: str, origin: str) -> str:
    """A real-looking origin other than `origin` that the AllowedOrigin `pattern` matches ("" when none is
    found): its `*` filled with a host label, a subdomain or a port."""
    if "*" not in pattern:
        return ""
    for fill in ("evil", "evil.", "evil-", "8443"):
        other = pattern.replace("*", fill, 1).replace("*", "")
        if _ORIGIN_SHAPE.fullmatch(other) and other.lower() != origin.lower():
            return other
    return ""


def _why_no_cors_rule(rules: list[dict], origin: str, method: str, headers: list[str]) -> str:
    for_origin = [r for r in rules if any(_cors_origin_matches(o, origin) for o in r.get("AllowedOrigins", []))]
    if not for_origin:
        origins = sorted({o for r in rules for o in r.get("AllowedOrigins", [])})
        return (f"no CORS rule allows the origin {origin} (allowed: {', '.join(origins)}) — origins must match "
                "exactly, scheme and port included")
    with_method = [r for r in for_origin if method.upper() in [m.upper() for m in r.get("AllowedMethods", [])]]
    if not with_method:
        return f"no CORS rule for {origin} allows {method}"
    refused = [h for h in headers if not _cors_header_matches(with_method[0].get("AllowedHeaders", []), h)]
    return (f"the CORS rule for {origin} and {method} does not allow the request header "
            f"{', '.join(refused)} the app sends, so the browser's preflight is refused — add it to AllowedHeaders "
            "(or allow \"*\")")


@register("s3.cors_rule")
class CorsRule(Check):
    description = ("Browsers on the origin may use each listed method: S3's first matching CORS rule (origin, "
                   "method, the request headers the app sends) allows it, and optionally exposes headers and sets "
                   "MaxAgeSeconds; unless allow_wildcard, no rule lets any other origin in.")
    params_schema = schema(
        {"bucket": BUCKET, "origin": string("e.g. https://app.example.com"),
         "methods": {"type": "array", "items": {"enum": ["GET", "PUT", "POST", "DELETE", "HEAD"]}, "minItems": 1},
         "allow_wildcard": {"type": "boolean", "default": False,
                            "description": "other origins (*) may be allowed too"},
         "request_headers": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                             "description": "method -> request headers the app sends with it (preflighted)"},
         "expose_headers": {"type": "array", "items": {"type": "string"},
                            "description": "response headers the app must be able to read"},
         "max_age": {"type": "boolean", "description": "the rule must let browsers cache preflights (MaxAgeSeconds)"}},
        ["bucket", "origin", "methods"],
    )

    def run(self, ctx, *, bucket, origin, methods, allow_wildcard=False, request_headers=None,
            expose_headers=None, max_age=None):
        found = _get(ctx, "get_bucket_cors", bucket, {"NoSuchCORSConfiguration"})
        rules = (found or {}).get("CORSRules", [])
        if not rules:
            return failed(f"{bucket} has no CORS configuration, so browsers on {origin} are refused")
        for method in methods:
            headers = list((request_headers or {}).get(method, []))
            rule = cors_rule_for(rules, origin, method, headers)
            if rule is None:
                return failed(_why_no_cors_rule(rules, origin, method, headers))
            exposed = {h.lower() for h in rule.get("ExposeHeaders", [])}
            missing = [h for h in (expose_headers or []) if h.lower() not in exposed]
            if missing:
                return failed(f"the CORS rule S3 uses for {method} from {origin} does not expose "
                              f"{', '.join(missing)}, so the app's JavaScript cannot read it — add ExposeHeaders")
            if max_age and not rule.get("MaxAgeSeconds"):
                return failed(f"the CORS rule S3 uses for {method} from {origin} sets no MaxAgeSeconds, so the "
                              "browser sends a preflight before every request — set it (e.g. 3000)")
        if not allow_wildcard:
            for other in _other_origins(origin):
                for method in ("GET", "PUT", "POST", "DELETE", "HEAD"):
                    rule = cors_rule_for(rules, other, method, [])
                    if rule:
                        pattern = next(o for o in rule.get("AllowedOrigins", []) if _cors_origin_matches(o, other))
                        what = "every origin (*)" if pattern == "*" else f"{other} too (through {pattern})"
                        return failed(f"a CORS rule on {bucket} allows {what} — allow only {origin}")
            # Look-alikes above miss other wildcards: https://*portal.example.org lets evilportal.example.org in,
            # http://localhost:* every local dev server.
            for rule in rules:
                for pattern in rule.get("AllowedOrigins", []):
                    other = _origin_a_wildcard_admits(pattern, origin)
                    if other:
                        return failed(f"a CORS rule on {bucket} allows {other} too (through {pattern}): an origin "
                                      f"with a wildcard matches other sites — allow only {origin}")
        return passed(f"{bucket} allows {', '.join(methods)} from {origin}")


@register("s3.bucket_logging")
class BucketLogging(Check):
    description = "Server access logging is on, delivering to the target bucket (and optionally prefix)."
    params_schema = schema({"bucket": BUCKET, "target_bucket": BUCKET, "prefix": string("target prefix")},
                           ["bucket", "target_bucket"])

    def run(self, ctx, *, bucket, target_bucket, prefix=None):
        found = ctx.client("s3").get_bucket_logging(Bucket=bucket).get("LoggingEnabled")
        if not found:
            return failed(f"server access logging is off for {bucket}")
        if found.get("TargetBucket") != target_bucket:
            why = " — never log a bucket into itself: every log write would create another log record" \
                if found.get("TargetBucket") == bucket else ""
            return failed(f"{bucket} logs to {found.get('TargetBucket')}, not {target_bucket}{why}")
        if prefix is not None and found.get("TargetPrefix", "") != prefix:
            return failed(f"{bucket} logs under prefix {found.get('TargetPrefix') or '(none)'}, not {prefix}")
        return passed(f"{bucket} delivers access logs to {target_bucket}/{found.get('TargetPrefix', '')}")


@register("s3.log_delivery_allowed")
class LogDeliveryAllowed(Check):
    description = ("The target bucket lets the S3 logging service write the source bucket's logs under the "
                   "prefix: its bucket policy, evaluated as S3 would (Deny wins, wildcards, conditions on "
                   "aws:SourceArn/aws:SourceAccount), allows logging.s3.amazonaws.com s3:PutObject there, or the "
                   "legacy Log Delivery group has WRITE; and nobody else (anyone, another account) may write.")
    params_schema = schema({"bucket": BUCKET, "source_bucket": BUCKET,
                            "prefix": {"type": "string", "description": "target prefix of the log objects"}},
                           ["bucket"])

    def run(self, ctx, *, bucket, source_bucket=None, prefix=""):
        from labapp.grading import policy

        found = _get(ctx, "get_bucket_policy", bucket, {"NoSuchBucketPolicy"})
        document = (found or {}).get("Policy")
        log_object = f"arn:aws:s3:::{bucket}/{prefix or ''}2026-11-27-10-00-00-0123456789ABCDEF"
        account = ctx.client("sts").get_caller_identity()["Account"]
        service_context = {"aws:SourceAccount": account, "aws:SecureTransport": "true"}
        if source_bucket:
            service_context["aws:SourceArn"] = f"arn:aws:s3:::{source_bucket}"
        strangers = [("anonymous", "anyone on the internet"),
                     ("arn:aws:iam::999999999999:user/someone-else", "anyone in another AWS account")]
        for who, text in strangers:
            if document and policy.evaluate(document, "s3:PutObject", log_object, who,
                                            {"aws:SecureTransport": "true"}) == policy.ALLOW:
                return failed(f"the policy of {bucket} lets {text} write into it — allow only the service "
                              "principal logging.s3.amazonaws.com")
        decision = policy.evaluate(document, "s3:PutObject", log_object, LOGGING_SERVICE, service_context) \
            if document else policy.IMPLICIT_DENY
        where = f"{bucket}/{prefix}" if prefix else bucket
        if decision == policy.ALLOW:
            return passed(f"{bucket} lets {LOGGING_SERVICE} write log objects under {where}")
        if decision == policy.DENY:
            return failed(f"a Deny in the policy of {bucket} stops {LOGGING_SERVICE} from writing under {where}")
        grants = ctx.client("s3").get_bucket_acl(Bucket=bucket).get("Grants", [])
        if any("LogDelivery" in (g.get("Grantee", {}).get("URI") or "") and g.get("Permission") in ("WRITE", "FULL_CONTROL")
               for g in grants):
            return passed(f"{bucket} grants the legacy Log Delivery group WRITE")
        if document and policy.applicable_statements(document, "s3:PutObject", log_object, LOGGING_SERVICE,
                                                     service_context, conditions=False):
            return failed(f"the policy of {bucket} names {LOGGING_SERVICE}, but its Condition does not hold for the "
                          f"logs of {source_bucket or 'your bucket'} — aws:SourceArn is the source bucket's ARN")
        elsewhere = policy.applicable_statements(document, "s3:PutObject", None, LOGGING_SERVICE, service_context,
                                                 conditions=False) if document else []
        if elsewhere:
            return failed(f"the policy of {bucket} lets {LOGGING_SERVICE} write to "
                          f"{_json.dumps(elsewhere[0].get('Resource'))}, but not under {where}")
        return failed(f"{bucket} does not let the logging service write: add a bucket policy allowing the "
                      f"service principal {LOGGING_SERVICE} to s3:PutObject on arn:aws:s3:::{where}*")


LOGGING_SERVICE = "logging.s3.amazonaws.com"


@register("s3.replication")
class Replication(Check):
    description = ("Replication is configured: versioning on source and destination, the replication role "
                   "(optionally a given one) exists, and the enabled rules replicate every object to the "
                   "destination bucket (a prefix or tag filter leaves objects out); with overlapping rules the "
                   "highest Priority decides the replicas' storage class.")
    params_schema = schema({"bucket": BUCKET, "destination": BUCKET,
                            "role": string("name of the IAM role the configuration must use"),
                            "storage_class": string("required destination storage class")},
                           ["bucket", "destination"])

    def run(self, ctx, *, bucket, destination, role=None, storage_class=None):
        s3 = ctx.client("s3")
        for name in (bucket, destination):
            if s3.get_bucket_versioning(Bucket=name).get("Status") != "Enabled":
                return failed(f"versioning is not enabled on {name} — replication needs it on both buckets")
        found = _get(ctx, "get_bucket_replication", bucket, {"ReplicationConfigurationNotFoundError"})
        if not found:
            return failed(f"{bucket} has no replication configuration")
        config = found["ReplicationConfiguration"]
        role_arn = config.get("Role", "")
        role_name = role_arn.rsplit("/", 1)[-1]
        try:
            ctx.client("iam").get_role(RoleName=role_name)
        except ClientError:
            return failed(f"the replication role {role_arn or '(none)'} does not exist — create a role S3 can assume")
        if role and role_name.lower() != role.lower():
            return failed(f"the replication configuration uses the role {role_name}, not {role}")
        to_destination = [r for r in config.get("Rules", [])
                          if r.get("Destination", {}).get("Bucket", "").rsplit(":", 1)[-1] == destination]
        if not to_destination:
            return failed(f"no replication rule on {bucket} sends objects to {destination}")
        enabled = [r for r in to_destination if r.get("Status") == "Enabled"]
        if not enabled:
            return failed(f"the replication rule to {destination} is Disabled")
        whole = [r for r in enabled if not _replication_rule_narrows(r)]
        if not whole:
            return failed(f"the replication rule to {destination} {_replication_rule_narrows(enabled[0])} — "
                          "every object must be replicated (an empty Filter)")
        deciding = max(whole, key=lambda r: r.get("Priority") or 0)
        if storage_class and deciding["Destination"].get("StorageClass") != storage_class:
            return failed(f"the replication rule to {destination} stores replicas as "
                          f"{deciding['Destination'].get('StorageClass') or 'the source class'}, not {storage_class}")
        # A narrower rule with a higher Priority decides for the objects it matches.
        for rule in enabled:
            if (storage_class and (rule.get("Priority") or 0) > (deciding.get("Priority") or 0)
                    and rule["Destination"].get("StorageClass") != storage_class):
                return failed(f"the rule {rule.get('ID') or '(no ID)'} (Priority {rule.get('Priority')}), which "
                              f"{_replication_rule_narrows(rule)}, outranks your whole-bucket rule, so those objects "
                              f"are stored as {rule['Destination'].get('StorageClass') or 'the source class'}, "
                              f"not {storage_class}")
        return passed(f"{bucket} replicates every object to {destination} with role {role_name}")


def _replication_rule_narrows(rule: dict) -> str:
    """How a replication rule's filter leaves objects out ("" when it replicates every object)."""
    f = rule.get("Filter")
    if f is None:
        f = {"Prefix": rule.get("Prefix", "")}  # the first version of the schema
    scope = f.get("And") or f
    if scope.get("Prefix"):
        return f"replicates only keys starting with {scope['Prefix']!r}"
    tags = _listify(scope.get("Tags")) + _listify(scope.get("Tag"))
    if tags:
        return "replicates only objects tagged " + ", ".join(f"{t.get('Key')}={t.get('Value')}" for t in tags)
    return ""


@register("s3.lifecycle_rule")
class LifecycleRule(Check):
    description = ("What the bucket's enabled lifecycle rules do to objects under a prefix, all rules together "
                   "(a rule for a shorter prefix or the whole bucket applies too; a tag or size filter narrows "
                   "it): current versions move to a class after N days (and not earlier), are kept at least "
                   "`keep_days`, noncurrent versions move/expire after N days, incomplete multipart uploads are "
                   "aborted after N days.")
    params_schema = schema(
        {"bucket": BUCKET, "prefix": {"type": "string"},
         "transition_class": string("storage class current versions move to"),
         "transition_days": {"type": "integer", "minimum": 0},
         "keep_days": {"type": "integer", "minimum": 1,
                       "description": "current versions must not expire before this many days"},
         "noncurrent_transition_class": string("storage class noncurrent versions move to"),
         "noncurrent_transition_days": {"type": "integer", "minimum": 1},
         "noncurrent_expiration_days": {"type": "integer", "minimum": 1},
         "abort_multipart_days": {"type": "integer", "minimum": 1}},
        ["bucket"],
    )

    def run(self, ctx, *, bucket, prefix="", transition_class=None, transition_days=None, keep_days=None,
            noncurrent_transition_class=None, noncurrent_transition_days=None,
            noncurrent_expiration_days=None, abort_multipart_days=None):
        prefix = prefix or ""
        found = _get(ctx, "get_bucket_lifecycle_configuration", bucket, {"NoSuchLifecycleConfiguration"})
        rules = (found or {}).get("Rules", [])
        if not rules:
            return failed(f"{bucket} has no lifecycle rules")
        where = f"objects under {prefix}" if prefix else "objects"
        applying, reasons = [], []
        for r in rules:
            why_not = _lifecycle_rule_misses(r, prefix)
            if why_not:
                reasons.append(f"rule {r.get('ID') or '(no ID)'} {why_not}")
            else:
                applying.append(r)
        if not applying:
            return failed(f"no enabled lifecycle rule on {bucket} applies to all {where}: " + "; ".join(reasons))

        def fail(problem):
            extra = f" (other rules: {'; '.join(reasons)})" if reasons else ""
            return failed(f"the lifecycle rules on {bucket} do not do what is asked for {where}: {problem}{extra}")

        expiry = _min_of(r.get("Expiration", {}).get("Days") for r in applying)
        # An Expiration on a fixed Date removes every current version on that day, however young it is.
        expiry_dates = sorted(str(r["Expiration"]["Date"])[:10] for r in applying
                              if r.get("Expiration", {}).get("Date"))
        if transition_class:
            steps = [(t["Days"], t.get("StorageClass")) for r in applying for t in r.get("Transitions", [])
                     if isinstance(t.get("Days"), int)]
            dated = [t for r in applying for t in r.get("Transitions", []) if "Date" in t]
            at = _class_on_day(steps, transition_days)
            before = _class_on_day(steps, transition_days - 1) if transition_days else "STANDARD"
            if at != transition_class:
                have = ", ".join(f"{c} after {d} days" for d, c in sorted(steps)) or "none"
                if dated:
                    have += " (and transitions on a fixed Date, which is not an age)"
                return fail(f"current versions should be in {transition_class} from day {transition_days}, but "
                            f"they are in {at} then (transitions: {have})")
            if _COLDNESS.get(before, 0) >= _COLDNESS.get(transition_class, 0):
                return fail(f"current versions reach {before} before day {transition_days} — they must stay "
                            f"warmer than {transition_class} until day {transition_days}")
            if expiry is not None and expiry <= transition_days:
                return fail(f"current versions expire after {expiry} days, before they would move to "
                            f"{transition_class} at day {transition_days}")
        if keep_days is not None and expiry is not None and expiry < keep_days:
            return fail(f"current versions expire after {expiry} days — they must be kept at least {keep_days}")
        if keep_days is not None and expiry_dates:
            return fail(f"an Expiration on the date {expiry_dates[0]} deletes every current version that day, "
                        f"however young — to keep them at least {keep_days} days, expire by age (Days) or not at all")
        if noncurrent_transition_class:
            steps = [(t.get("NoncurrentDays"), t.get("StorageClass")) for r in applying
                     for t in r.get("NoncurrentVersionTransitions", []) if isinstance(t.get("NoncurrentDays"), int)]
            at = _class_on_day(steps, noncurrent_transition_days or 10**6)
            if at != noncurrent_transition_class or (noncurrent_transition_days and not any(
                    d == noncurrent_transition_days and c == noncurrent_transition_class for d, c in steps)):
                return fail(f"noncurrent versions do not move to {noncurrent_transition_class}"
                            + (f" after {noncurrent_transition_days} days" if noncurrent_transition_days else ""))
        if noncurrent_expiration_days is not None:
            expirations = [r["NoncurrentVersionExpiration"] for r in applying if r.get("NoncurrentVersionExpiration")]
            days = _min_of(e.get("NoncurrentDays") for e in expirations)
            if days is None:
                return fail("the rules expire current versions, not noncurrent ones — use "
                            "NoncurrentVersionExpiration" if expiry else "noncurrent versions never expire")
            if days != noncurrent_expiration_days:
                return fail(f"noncurrent versions expire after {days} days, not {noncurrent_expiration_days}")
        if abort_multipart_days is not None:
            days = _min_of(r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation") for r in applying)
            if days != abort_multipart_days:
                return fail(f"incomplete multipart uploads are aborted after {days} days, not {abort_multipart_days}"
                            if days else "incomplete multipart uploads are never aborted")
        names = ", ".join(r.get("ID") or "(no ID)" for r in applying)
        return passed(f"the lifecycle rules on {bucket} ({names}) do what is asked for {where}")


# Colder classes are cheaper to store; S3 only ever moves an object to a colder one.
_COLDNESS = {"STANDARD": 0, "INTELLIGENT_TIERING": 1, "STANDARD_IA": 2, "ONEZONE_IA": 3, "GLACIER_IR": 4,
             "GLACIER": 5, "DEEP_ARCHIVE": 6}


def _class_on_day(steps: list[tuple[int, str]], day: int) -> str:
    """The storage class of a current (or noncurrent) version `day` days old: the coldest class among the
    transitions due by then (when two are due, S3 picks the colder one)."""
    due = [c for d, c in steps if d <= day]
    return max(due, key=lambda c: _COLDNESS.get(c, 0), default="STANDARD")


def _min_of(values) -> int | None:
    numbers = [v for v in values if isinstance(v, int)]
    return min(numbers) if numbers else None


def _lifecycle_rule_misses(rule: dict, prefix: str) -> str:
    """Why the rule does not act on every object under `prefix` ("" when it does)."""
    if rule.get("Status") != "Enabled":
        return "is Disabled"
    f = rule.get("Filter")
    if f is None:  # the legacy top-level Prefix
        f = {"Prefix": rule.get("Prefix", "")}
    scope = f.get("And") or f
    rule_prefix = scope.get("Prefix", "") or ""
    if not prefix.startswith(rule_prefix):
        return f"applies to prefix {rule_prefix!r}, not to everything under {prefix!r}"
    tags = _listify(scope.get("Tags")) + _listify(scope.get("Tag"))
    if tags:
        return "applies only to objects tagged " + ", ".join(f"{t.get('Key')}={t.get('Value')}" for t in tags)
    if scope.get("ObjectSizeLessThan") is not None or (scope.get("ObjectSizeGreaterThan") or 0) > 0:
        return "applies only to objects of some sizes (ObjectSizeGreaterThan/LessThan)"
    return ""


@register("s3.notification_queue")
class NotificationQueue(Check):
    description = ("The bucket's notification configurations, all together, send the event type (a `:*` type "
                   "means every one of its kinds) to the SQS queue for keys with the prefix and suffix, and for "
                   "no other keys (probed with sample keys, as S3 would match them).")
    params_schema = schema(
        {"bucket": BUCKET, "queue": string("queue name"), "event": string("e.g. s3:ObjectCreated:*"),
         "prefix": {"type": "string"}, "suffix": {"type": "string"}},
        ["bucket", "queue", "event"],
    )

    def run(self, ctx, *, bucket, queue, event, prefix="", suffix=""):
        prefix, suffix = prefix or "", suffix or ""
        config = ctx.client("s3").get_bucket_notification_configuration(Bucket=bucket)
        queue_arn = _queue_arn(ctx, queue)
        mine = [q for q in config.get("QueueConfigurations", []) if q.get("QueueArn") == queue_arn]
        if not mine:
            other = config.get("TopicConfigurations") or config.get("LambdaFunctionConfigurations") or [
                q for q in config.get("QueueConfigurations", []) if q.get("QueueArn", "").endswith(f":{queue}")]
            return failed(f"{bucket} sends no events to the SQS queue {queue} ({queue_arn})"
                          + (" (it notifies another destination)" if other else ""))
        kinds = _NOTIFICATION_KINDS.get(event, [event])
        wanted = [prefix + "cat" + suffix, prefix + "2026/11/dog" + suffix]
        configured = sorted({e for q in mine for e in q.get("Events", [])})
        if not any(_notification_fires(q, k, key) for q in mine for k in kinds for key in wanted):
            return failed(f"{bucket} notifies {queue} of {', '.join(configured)}, not {event}"
                          + (f" for keys like {wanted[0]}" if prefix or suffix else ""))
        for kind in kinds:
            for key in wanted:
                if not any(_notification_fires(q, kind, key) for q in mine):
                    return failed(f"{bucket} does not notify {queue} of {kind} for {key} (events: "
                                  f"{', '.join(configured)}; filters: {_filters_text(mine)}) — {event} covers it")
        # Every kind: a second configuration for, say, multipart uploads only may have no filter at all.
        for key in _keys_outside(prefix, suffix):
            kind = next((k for k in kinds if any(_notification_fires(q, k, key) for q in mine)), None)
            if kind:
                return failed(f"{bucket} also notifies {queue} of {key} ({kind}; filters: {_filters_text(mine)}) "
                              f"— filter with prefix {prefix or '(none)'} and suffix {suffix or '(none)'}")
        where = f" for {prefix or ''}*{suffix or ''}" if prefix or suffix else ""
        return passed(f"{bucket} sends {event} events{where} to {queue}")


# The kinds a wildcard event type stands for, as S3 delivers them.
_NOTIFICATION_KINDS = {
    "s3:ObjectCreated:*": ["s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
                           "s3:ObjectCreated:CompleteMultipartUpload"],
    "s3:ObjectRemoved:*": ["s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated"],
}


def _queue_arn(ctx, queue: str) -> str:
    sqs = ctx.client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    except ClientError as err:
        if "NonExistentQueue" in _code(err):
            raise CheckFailed(f"queue {queue} does not exist") from None
        raise
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _filter_rules(config: dict) -> dict[str, str]:
    return {r["Name"].lower(): r["Value"] for r in config.get("Filter", {}).get("Key", {}).get("FilterRules", [])}


def _notification_fires(config: dict, kind: str, key: str) -> bool:
    """Whether S3 would notify this configuration of an event of this kind on this key."""
    events = config.get("Events", [])
    if kind not in events and f"{kind.rsplit(':', 1)[0]}:*" not in events:
        return False
    rules = _filter_rules(config)
    return key.startswith(rules.get("prefix", "")) and key.endswith(rules.get("suffix", ""))


def _filters_text(configs: list[dict]) -> str:
    texts = []
    for q in configs:
        rules = _filter_rules(q)
        texts.append(" ".join(f"{n} {v}" for n, v in sorted(rules.items())) or "none (every key)")
    return "; ".join(texts)


def _keys_outside(prefix: str, suffix: str) -> list[str]:
    """Keys a notification for prefix*suffix must not fire for."""
    keys = []
    if prefix:
        keys += ["other/cat" + suffix, "archive/" + prefix + "cat" + suffix]
        if prefix.endswith("/"):
            keys.append(prefix[:-1] + "-raw/cat" + suffix)
    if suffix:
        keys += [prefix + "cat.txt", prefix + "cat" + suffix + ".txt"]
        if suffix.startswith("."):
            keys.append(prefix + "cat_" + suffix[1:])
    # Unrelated keys, which another configuration to the same queue might catch.
    keys += [k for k in ("other/cat.png", "readme.txt", "logs/app.log", "cat.gif")
             if not (k.startswith(prefix) and k.endswith(suffix))]
    return keys


def _learner_rows(ctx, action: str, bucket: str, key: str | None = None, ok_only: bool = False):
    out = []
    for row in ctx.journal:
        p = row.get("params") or {}
        if row.get("source") != "learner" or row.get("action") != action or p.get("Bucket") != bucket:
            continue
        if key is not None and p.get("Key") != key:
            continue
        if ok_only and not _ok(row):
            continue
        out.append(row)
    return out


@register("s3.multipart_completed")
class MultipartCompleted(Check):
    description = ("Journal: the learner created a multipart upload of the key, uploaded at least `min_parts` "
                   "parts to it and completed it; the object exists now.")
    params_schema = schema({"bucket": BUCKET, "key": KEY,
                            "min_parts": {"type": "integer", "minimum": 1, "default": 2}}, ["bucket", "key"])

    def run(self, ctx, *, bucket, key, min_parts=2):
        created = _learner_rows(ctx, "CreateMultipartUpload", bucket, key, ok_only=True)
        if not created:
            puts = _learner_rows(ctx, "PutObject", bucket, key, ok_only=True)
            raise CheckFailed(f"{key} was uploaded in a single PutObject, not as a multipart upload" if puts else
                              f"no multipart upload of {key} was started (CreateMultipartUpload)")
        parts = _learner_rows(ctx, "UploadPart", bucket, key, ok_only=True)
        numbers = {str((r.get("params") or {}).get("PartNumber")) for r in parts}
        if len(numbers) < min_parts:
            raise CheckFailed(f"{len(numbers)} part(s) of {key} were uploaded, at least {min_parts} needed")
        if not _learner_rows(ctx, "CompleteMultipartUpload", bucket, key, ok_only=True):
            aborted = _learner_rows(ctx, "AbortMultipartUpload", bucket, key, ok_only=True)
            raise CheckFailed(f"the multipart upload of {key} was " + ("aborted" if aborted else
                              "never completed — until CompleteMultipartUpload the parts are invisible (and billed)"))
        try:
            etag = ctx.client("s3").head_object(Bucket=bucket, Key=key)["ETag"].strip('"')
        except ClientError as err:
            if _code(err) in {"404", "NoSuchKey", "NotFound", "405", "MethodNotAllowed"}:
                return failed(f"the multipart upload completed, but {key} does not read now")
            raise
        # The object itself says how it was made: a multipart object's ETag ends in -<number of parts>.
        count = etag.rsplit("-", 1)[1] if "-" in etag else ""
        if not count.isdigit():
            return failed(f"{key} exists now as a single-part object (ETag {etag}) — it was overwritten after the "
                          "multipart upload; upload it in parts again")
        if int(count) < min_parts:
            return failed(f"{key} was completed from {count} part(s) (ETag {etag}), at least {min_parts} needed — "
                          "list every uploaded part with its ETag in complete-multipart-upload")
        return passed(f"{key} was uploaded in {count} parts and completed (ETag {etag})")


@register("s3.presigned_get")
class PresignedGet(Check):
    description = ("Journal + emulator: the learner fetched the object through a presigned URL (a signed query "
                   "string, not an Authorization header) and the fetch succeeded.")
    params_schema = schema({"bucket": BUCKET, "key": KEY,
                            "require_private": {"type": "boolean", "default": False,
                                                "description": "also require all four Block Public Access settings on"},
                            "max_expires": {"type": "integer", "minimum": 1,
                                            "description": "a fetch through a URL valid at most this many seconds"}},
                           ["bucket", "key"])

    def run(self, ctx, *, bucket, key, require_private=False, max_expires=None):
        if require_private:
            config = (_get(ctx, "get_public_access_block", bucket, {"NoSuchPublicAccessBlockConfiguration"})
                      or {}).get("PublicAccessBlockConfiguration", {})
            if not all(config.get(k) for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                                "RestrictPublicBuckets")):
                raise CheckFailed(f"{bucket} no longer blocks all public access — the point of a presigned URL "
                                  "is that the bucket stays private; turn Block Public Access back on")
        try:
            head = ctx.client("s3").head_object(Bucket=bucket, Key=key)
        except ClientError as err:
            if _code(err) in {"404", "NoSuchKey", "NotFound"}:
                raise CheckFailed(f"{key} does not exist in {bucket}") from None
            raise
        count = int(head["ResponseMetadata"]["HTTPHeaders"].get("x-lab-presigned-gets", "0") or 0)
        fetches = _learner_rows(ctx, "GetObject", bucket, key)
        good = [r for r in fetches if _ok(r)]
        if count and good:
            shortest = head["ResponseMetadata"]["HTTPHeaders"].get("x-lab-presigned-shortest-lifetime")
            if max_expires and shortest is not None and int(shortest) > max_expires + 60:
                return failed(f"{key} was fetched with a presigned URL valid for {int(shortest)} seconds — make one "
                              f"that expires within {max_expires} seconds (--expires-in {max_expires}) and fetch it")
            return passed(f"{key} was fetched {count} time(s) with a presigned URL")
        refused = [r for r in fetches if r.get("status") == 403]
        if refused and not good:
            return failed(f"your fetch of {key} was refused (403) — has the URL expired? Generate a new one")
        if good:
            return failed(f"{key} was read with your credentials (aws s3 cp / get-object), not through a "
                          "presigned URL — generate one and fetch it with curl or a browser")
        return failed(f"{key} has not been fetched yet — generate a presigned URL and GET it without credentials")


@register("s3.retried_uploads")
class RetriedUploads(Check):
    description = ("Journal + state: at least `min` objects under the prefix exist, and the learner's client "
                   "retried: for each, a PutObject answered 503 SlowDown was followed by one that succeeded.")
    params_schema = schema({"bucket": BUCKET, "prefix": string("key prefix"),
                            "min": {"type": "integer", "minimum": 1}}, ["bucket", "prefix", "min"])

    def run(self, ctx, *, bucket, prefix, min):  # noqa: A002
        listing = ctx.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)
        keys = {o["Key"] for o in listing.get("Contents", [])}
        rows = [r for r in ctx.journal if r.get("source") == "learner" and r.get("action") == "PutObject"
                and (r.get("params") or {}).get("Bucket") == bucket
                and str((r.get("params") or {}).get("Key", "")).startswith(prefix)]
        retried = set()
        slowed: dict[str, bool] = {}
        for r in rows:
            k = r["params"]["Key"]
            if r.get("status") == 503:
                slowed[k] = True
            elif _ok(r) and slowed.get(k):
                retried.add(k)
        gave_up = sorted(k for k in slowed if k not in retried)
        if len(keys) < min:
            extra = (f"; {len(gave_up)} upload(s) got SlowDown and were never retried ({', '.join(gave_up[:3])}…) — "
                     "turn retries on (standard or adaptive mode)") if gave_up else ""
            return failed(f"{len(keys)} object(s) under {prefix} in {bucket}, {min} needed{extra}")
        if len(retried & keys) < min:
            return failed(f"the objects are there, but the journal shows no retry after SlowDown for "
                          f"{min - len(retried & keys)} of them — upload them with a client whose retries handle "
                          "the injected SlowDown (did you remove the bucket's lab:slowdown-prefix tag?)")
        return passed(f"{len(retried & keys)} uploads under {prefix} were throttled with SlowDown and retried successfully")


@register("s3.object_count")
class ObjectCount(Check):
    description = "At least `min` objects exist under the prefix."
    params_schema = schema({"bucket": BUCKET, "prefix": {"type": "string"},
                            "min": {"type": "integer", "minimum": 1}}, ["bucket", "prefix", "min"])

    def run(self, ctx, *, bucket, prefix, min):  # noqa: A002
        listing = ctx.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)
        count = listing.get("KeyCount", 0)
        if count >= min:
            return passed(f"{count} objects under {prefix or '/'} in {bucket}")
        return failed(f"{count} object(s) under {prefix or '/'} in {bucket}, at least {min} needed")


@register("s3.multipart_started")
class MultipartStarted(Check):
    description = "Journal: the learner created a multipart upload of the key and uploaded at least one part to it."
    params_schema = schema({"bucket": BUCKET, "key": KEY}, ["bucket", "key"])

    def run(self, ctx, *, bucket, key):
        if not _learner_rows(ctx, "CreateMultipartUpload", bucket, key, ok_only=True):
            if _learner_rows(ctx, "PutObject", bucket, key, ok_only=True):
                return failed(f"{key} was uploaded in a single PutObject — start a multipart upload instead")
            return failed(f"no multipart upload of {key} was started (CreateMultipartUpload)")
        parts = _learner_rows(ctx, "UploadPart", bucket, key, ok_only=True)
        if not parts:
            return failed(f"the multipart upload of {key} exists, but no part has been uploaded")
        return passed(f"a multipart upload of {key} was started and {len(parts)} part upload(s) succeeded")

"""CloudFront check kinds: an S3 origin behind origin access control, the bucket policy that lets only that
distribution read, cache behaviours, and invalidations.

The distribution a check looks at is found by its S3 origin: the one whose origin's domain is the bucket's
S3 endpoint (`<bucket>.s3.amazonaws.com` or `<bucket>.s3.<region>.amazonaws.com`), so any route that makes
it (console, CLI, SDK, another comment or caller reference) passes.
"""

from __future__ import annotations

import json
import re

from botocore.exceptions import ClientError

from . import Check, CheckFailed, failed, passed, register, schema, string

BUCKET = string("the S3 bucket behind the distribution (usually {{ bucket }})")
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
MANAGED_CACHE_POLICIES = {
    "658327ea-f89d-4fab-a63d-7e88639e58f6": "CachingOptimized",
    CACHING_DISABLED: "CachingDisabled",
    "b2884449-e4de-46a7-ac36-70bc7f1ddd6d": "CachingOptimizedForUncompressedObjects",
    "08627262-05a9-4f76-9ded-b50ca2e3a84f": "Elemental-MediaPackage",
    "83da9c7e-98b4-4e11-a168-04f0df8e2c65": "UseOriginCacheControlHeaders",
}


def s3_origin_matches(domain: str, bucket: str) -> bool:
    return bool(re.fullmatch(rf"{re.escape(bucket)}\.s3(\.[a-z0-9-]+)?\.amazonaws\.com", domain or ""))


def distributions(ctx) -> list[dict]:
    cf = ctx.client("cloudfront")
    items, marker = [], None
    while True:
        page = cf.list_distributions(**({"Marker": marker} if marker else {}))["DistributionList"]
        items += page.get("Items") or []
        marker = page.get("NextMarker")
        if not page.get("IsTruncated") or not marker:
            return items


def distribution_for_bucket(ctx, bucket: str) -> tuple[dict, dict, dict]:
    """(summary, full config, the origin) of the distribution with `bucket` as an S3 origin."""
    found = []
    for dist in distributions(ctx):
        for origin in (dist.get("Origins") or {}).get("Items") or []:
            if s3_origin_matches(origin.get("DomainName", ""), bucket):
                found.append((dist, origin))
    if not found:
        raise CheckFailed(f"no CloudFront distribution has the bucket {bucket} as an origin — its origin domain "
                          f"must be {bucket}.s3.<region>.amazonaws.com (the bucket's REST endpoint, not the "
                          "website endpoint)")
    # Prefer one that uses an OAC, then the newest listed.
    found.sort(key=lambda pair: bool(pair[1].get("OriginAccessControlId")), reverse=True)
    dist, origin = found[0]
    config = ctx.client("cloudfront").get_distribution_config(Id=dist["Id"])["DistributionConfig"]
    for full in (config.get("Origins") or {}).get("Items") or []:
        if full.get("Id") == origin.get("Id"):
            origin = full
    return dist, config, origin


@register("cloudfront.s3_origin_oac")
class S3OriginWithOac(Check):
    description = ("A distribution has the bucket as an S3 origin that signs its requests with an origin access "
                   "control (SigV4, always, type s3) and no legacy origin access identity.")
    params_schema = schema(
        {"bucket": BUCKET,
         "viewer_protocol_policy": {"enum": ["redirect-to-https", "https-only", "allow-all"],
                                    "description": "required viewer protocol policy of the default behaviour"},
         "default_root_object": string("required default root object, e.g. index.html")},
        ["bucket"],
    )

    def run(self, ctx, *, bucket, viewer_protocol_policy=None, default_root_object=None):
        dist, config, origin = distribution_for_bucket(ctx, bucket)
        name = f"distribution {dist['Id']}"
        oai = (origin.get("S3OriginConfig") or {}).get("OriginAccessIdentity")
        oac_id = origin.get("OriginAccessControlId")
        if not oac_id:
            if oai:
                return failed(f"{name} reaches {bucket} through a legacy origin access identity — use an origin "
                              "access control (OAC) instead")
            return failed(f"{name} has {bucket} as its origin but no origin access control: CloudFront would "
                          "send unsigned requests, so the bucket would have to be public")
        try:
            oac = ctx.client("cloudfront").get_origin_access_control(Id=oac_id)["OriginAccessControl"]
        except ClientError:
            return failed(f"{name} names origin access control {oac_id}, which does not exist")
        oac_config = oac.get("OriginAccessControlConfig") or {}
        if oac_config.get("OriginAccessControlOriginType") != "s3":
            return failed(f"origin access control {oac_config.get('Name', oac_id)} is for "
                          f"{oac_config.get('OriginAccessControlOriginType')} origins, not s3")
        if oac_config.get("SigningBehavior") != "always":
            return failed(f"origin access control {oac_config.get('Name', oac_id)} signs "
                          f"'{oac_config.get('SigningBehavior')}' — it must sign always, or a viewer's own "
                          "Authorization header could reach the bucket")
        if not config.get("Enabled"):
            return failed(f"{name} is disabled — enable it")
        policy = (config.get("DefaultCacheBehavior") or {}).get("ViewerProtocolPolicy")
        if viewer_protocol_policy and policy != viewer_protocol_policy:
            return failed(f"{name}'s default behaviour has viewer protocol policy {policy}, not "
                          f"{viewer_protocol_policy}")
        if default_root_object and config.get("DefaultRootObject") != default_root_object:
            return failed(f"{name}'s default root object is '{config.get('DefaultRootObject') or ''}', not "
                          f"{default_root_object}")
        return passed(f"{name} reads {bucket} through origin access control {oac_config.get('Name', oac_id)}")


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _principal_is_public(principal) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return "*" in _as_list(principal.get("AWS"))
    return False


def _covers_objects(resources: list, bucket: str) -> bool:
    return f"arn:aws:s3:::{bucket}/*" in resources


def _allows_get(actions: list) -> bool:
    return any(a in ("s3:GetObject", "s3:*", "*", "s3:Get*") for a in actions)


def _source_arns(condition: dict) -> list[str]:
    arns = []
    for operator in ("StringEquals", "ArnEquals", "ArnLike", "StringLike"):
        block = (condition or {}).get(operator) or {}
        for key, value in block.items():
            if key.lower() == "aws:sourcearn":
                arns += _as_list(value)
    return arns


@register("cloudfront.bucket_policy_only_distribution")
class BucketPolicyOnlyDistribution(Check):
    description = ("The bucket policy lets the CloudFront service principal read objects only on behalf of the "
                   "bucket's distribution (AWS:SourceArn), and lets nobody else (no public statement).")
    params_schema = schema({"bucket": BUCKET}, ["bucket"])

    def run(self, ctx, *, bucket):
        dist, _, _ = distribution_for_bucket(ctx, bucket)
        try:
            text = ctx.client("s3").get_bucket_policy(Bucket=bucket)["Policy"]
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in {"NoSuchBucketPolicy", "NoSuchBucket"}:
                return failed(f"{bucket} has no bucket policy — CloudFront's signed requests would be denied; add "
                              "a statement for the cloudfront.amazonaws.com service principal")
            raise
        statements = _as_list(json.loads(text).get("Statement"))
        allows = [s for s in statements if s.get("Effect") == "Allow"]
        for s in allows:
            if _principal_is_public(s.get("Principal")) and not s.get("Condition"):
                return failed(f"a statement of {bucket}'s policy allows everyone (Principal \"*\") — the bucket "
                              "would be readable without CloudFront; remove it")
        cloudfront = [s for s in allows
                      if "cloudfront.amazonaws.com" in _as_list((s.get("Principal") or {}).get("Service")
                                                                if isinstance(s.get("Principal"), dict) else None)]
        if not cloudfront:
            return failed(f"{bucket}'s policy has no Allow statement for the service principal "
                          "cloudfront.amazonaws.com")
        reads = [s for s in cloudfront if _allows_get(_as_list(s.get("Action")))
                 and _covers_objects(_as_list(s.get("Resource")), bucket)]
        if not reads:
            return failed(f"the CloudFront statement must allow s3:GetObject on arn:aws:s3:::{bucket}/* (the "
                          "objects, not the bucket itself)")
        expected = dist["ARN"]
        for s in reads:
            arns = _source_arns(s.get("Condition") or {})
            if not arns:
                continue
            if expected in arns:
                return passed(f"{bucket} can be read by CloudFront only for distribution {dist['Id']}")
            return failed(f"the CloudFront statement's AWS:SourceArn is {', '.join(arns)}, not this distribution's "
                          f"ARN {expected}")
        return failed("the CloudFront statement has no AWS:SourceArn condition, so any CloudFront distribution — "
                      "in any account — could read the bucket; limit it to your distribution's ARN")


@register("cloudfront.cache_behavior")
class CacheBehavior(Check):
    description = "The distribution of the bucket has a cache behaviour for a path pattern using a given cache policy."
    params_schema = schema(
        {"bucket": BUCKET, "path_pattern": string("path pattern, e.g. /index.html or /api/*"),
         "cache_policy_id": string("required cache policy id (e.g. the managed CachingDisabled policy)"),
         "viewer_protocol_policy": {"enum": ["redirect-to-https", "https-only", "allow-all"]}},
        ["bucket", "path_pattern"],
    )

    def run(self, ctx, *, bucket, path_pattern, cache_policy_id=None, viewer_protocol_policy=None):
        dist, config, _ = distribution_for_bucket(ctx, bucket)
        behaviors = (config.get("CacheBehaviors") or {}).get("Items") or []
        match = [b for b in behaviors if b.get("PathPattern") == path_pattern]
        if not match:
            patterns = ", ".join(b.get("PathPattern", "?") for b in behaviors) or "none"
            return failed(f"distribution {dist['Id']} has no cache behaviour for {path_pattern} (it has: {patterns})")
        behavior = match[0]
        if cache_policy_id and behavior.get("CachePolicyId") != cache_policy_id:
            got = behavior.get("CachePolicyId") or "none (legacy cache settings)"
            got = MANAGED_CACHE_POLICIES.get(got, got)
            want = MANAGED_CACHE_POLICIES.get(cache_policy_id, cache_policy_id)
            return failed(f"the {path_pattern} behaviour uses cache policy {got}, not {want}")
        if viewer_protocol_policy and behavior.get("ViewerProtocolPolicy") != viewer_protocol_policy:
            return failed(f"the {path_pattern} behaviour has viewer protocol policy "
                          f"{behavior.get('ViewerProtocolPolicy')}, not {viewer_protocol_policy}")
        policy = MANAGED_CACHE_POLICIES.get(behavior.get("CachePolicyId") or "", behavior.get("CachePolicyId"))
        return passed(f"distribution {dist['Id']} caches {path_pattern} with {policy}")


def _covered(path: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        if pattern == path or (pattern.endswith("*") and path.startswith(pattern[:-1])):
            return True
    return False


def invalidation_paths(ctx, dist_id: str) -> list[list[str]]:
    cf = ctx.client("cloudfront")
    items = (cf.list_invalidations(DistributionId=dist_id).get("InvalidationList") or {}).get("Items") or []
    out = []
    for item in items:
        full = cf.get_invalidation(DistributionId=dist_id, Id=item["Id"])["Invalidation"]
        out.append(list(((full.get("InvalidationBatch") or {}).get("Paths") or {}).get("Items") or []))
    return out


@register("cloudfront.invalidation_covers")
class InvalidationCovers(Check):
    description = "Invalidations of the bucket's distribution cover each given path (exactly or by a trailing *)."
    params_schema = schema(
        {"bucket": BUCKET,
         "paths": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^/"},
                   "description": "paths that must have been invalidated, e.g. /index.html, /css/site.css"}},
        ["bucket", "paths"],
    )

    def run(self, ctx, *, bucket, paths):
        dist, _, _ = distribution_for_bucket(ctx, bucket)
        batches = invalidation_paths(ctx, dist["Id"])
        if not batches:
            return failed(f"no invalidation has been created for distribution {dist['Id']}")
        patterns = [p for batch in batches for p in batch]
        missing = [p for p in paths if not _covered(p, patterns)]
        if missing:
            return failed(f"the invalidations of {dist['Id']} ({', '.join(patterns)}) do not cover "
                          f"{', '.join(missing)} — remember paths start with / and a * only works at the end")
        return passed(f"{', '.join(paths)} invalidated on distribution {dist['Id']}")


@register("cloudfront.invalidation_not_everything")
class InvalidationNotEverything(Check):
    description = "At least one invalidation exists, and none of the bucket's distribution's invalidations is /*."
    params_schema = schema({"bucket": BUCKET}, ["bucket"])

    def run(self, ctx, *, bucket):
        dist, _, _ = distribution_for_bucket(ctx, bucket)
        batches = invalidation_paths(ctx, dist["Id"])
        if not batches:
            return failed(f"no invalidation has been created for distribution {dist['Id']}")
        if any(p in ("/*", "*") for batch in batches for p in batch):
            return failed("an invalidation of /* emptied the whole cache: every edge location must fetch every "
                          "object from the origin again — invalidate only what changed")
        return passed("only the changed paths were invalidated")

"""CloudFront check kinds: an S3 origin behind origin access control, the bucket policy that lets only that
distribution read, cache behaviours, and invalidations.

The distribution a check looks at is found by its S3 origin: the one whose origin's domain is the bucket's
S3 endpoint (`<bucket>.s3.amazonaws.com` or `<bucket>.s3.<region>.amazonaws.com`), so any route that makes
it (console, CLI, SDK, another comment or caller reference) passes.
"""

from __future__ import annotations

import re

from botocore.exceptions import ClientError

from labapp.grading import policy as iam_policy
from labapp.grading.policy import wildcard_match

from . import Check, CheckFailed, failed, passed, register, schema, string

BUCKET = string("the S3 bucket behind the distribution (usually {{ bucket }})")
OTHER_ACCOUNT = "111122223333"  # a principal that is not the learner's (AWS documentation's example)
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
MANAGED_CACHE_POLICIES = {
    "658327ea-f89d-4fab-a63d-7e88639e58f6": "CachingOptimized",
    CACHING_DISABLED: "CachingDisabled",
    "b2884449-e4de-46a7-ac36-70bc7f1ddd6d": "CachingOptimizedForUncompressedObjects",
    "08627262-05a9-4f76-9ded-b50ca2e3a84f": "Elemental-MediaPackage",
    "83da9c7e-98b4-4e11-a168-04f0df8e2c65": "UseOriginCacheControlHeaders",
}


# A bucket's REST endpoint: global (`b.s3.amazonaws.com`), regional (`b.s3.us-east-1...`, legacy `b.s3-us-east-1...`)
# or dual-stack. Website endpoints (`b.s3-website-us-east-1...`, `b.s3-website.us-east-1...`) are custom origins.
_REST_ENDPOINT = re.compile(
    r"(?P<bucket>.+?)\.s3(?:\.dualstack)?(?:[.-](?P<region>(?!website)[a-z]{2}(?:-[a-z]+)+-\d+))?\.amazonaws\.com\.?",
    re.IGNORECASE)
_WEBSITE_ENDPOINT = re.compile(r"(?P<bucket>.+?)\.s3-website[.-][a-z0-9-]+\.amazonaws\.com\.?", re.IGNORECASE)


def bucket_region(ctx, bucket: str) -> str:
    try:
        location = ctx.client("s3").get_bucket_location(Bucket=bucket).get("LocationConstraint")
    except ClientError:
        return "us-east-1"
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)


def s3_origin_matches(domain: str, bucket: str, region: str | None = None) -> bool:
    """Whether `domain` is a REST endpoint of `bucket` (in `region`, when one is given and the endpoint is
    regional): a regional endpoint of another Region does not reach the bucket."""
    m = _REST_ENDPOINT.fullmatch(domain or "")
    if not m or m.group("bucket").lower() != bucket.lower():
        return False
    return region is None or m.group("region") is None or m.group("region").lower() == region


def distributions(ctx) -> list[dict]:
    cf = ctx.client("cloudfront")
    items, marker = [], None
    while True:
        page = cf.list_distributions(**({"Marker": marker} if marker else {}))["DistributionList"]
        items += page.get("Items") or []
        marker = page.get("NextMarker")
        if not page.get("IsTruncated") or not marker:
            return items


def _no_distribution(ctx, bucket: str, region: str) -> CheckFailed:
    """Why no distribution reads the bucket: the website endpoint and a wrong Region are common."""
    for dist in distributions(ctx):
        for origin in (dist.get("Origins") or {}).get("Items") or []:
            domain = origin.get("DomainName", "")
            website = _WEBSITE_ENDPOINT.fullmatch(domain)
            if website and website.group("bucket").lower() == bucket.lower():
                return CheckFailed(f"distribution {dist['Id']} uses the website endpoint {domain}: that is a custom "
                                   "origin, which cannot use origin access control — use the bucket's REST endpoint "
                                   f"{bucket}.s3.{region}.amazonaws.com")
            if s3_origin_matches(domain, bucket):
                return CheckFailed(f"distribution {dist['Id']} uses {domain}, an endpoint of another Region: "
                                   f"{bucket} is in {region} — use {bucket}.s3.{region}.amazonaws.com")
    return CheckFailed(f"no CloudFront distribution has the bucket {bucket} as an origin — its origin domain "
                       f"must be {bucket}.s3.{region}.amazonaws.com (the bucket's REST endpoint, not the "
                       "website endpoint)")


def distributions_for_bucket(ctx, bucket: str) -> list[tuple[dict, dict, dict]]:
    """(summary, full config, the origin) of every distribution with `bucket` as an S3 origin, those whose origin
    uses an OAC first; raises CheckFailed (saying why) when there is none."""
    region = bucket_region(ctx, bucket)
    found = []
    for dist in distributions(ctx):
        for origin in (dist.get("Origins") or {}).get("Items") or []:
            if s3_origin_matches(origin.get("DomainName", ""), bucket, region):
                found.append((dist, origin))
    if not found:
        raise _no_distribution(ctx, bucket, region)
    found.sort(key=lambda pair: bool(pair[1].get("OriginAccessControlId")), reverse=True)
    out = []
    for dist, origin in found:
        config = ctx.client("cloudfront").get_distribution_config(Id=dist["Id"])["DistributionConfig"]
        full = next((o for o in (config.get("Origins") or {}).get("Items") or [] if o.get("Id") == origin.get("Id")),
                    origin)
        out.append((dist, config, full))
    return out


def distribution_for_bucket(ctx, bucket: str) -> tuple[dict, dict, dict]:
    """(summary, full config, the origin) of the distribution with `bucket` as an S3 origin (one with an OAC
    if there is one)."""
    return distributions_for_bucket(ctx, bucket)[0]


def _serves_origin(config: dict, target: str, origin_id: str) -> bool:
    """Whether a behaviour's TargetOriginId reaches the origin: directly or through an origin group."""
    if target == origin_id:
        return True
    for group in (config.get("OriginGroups") or {}).get("Items") or []:
        if group.get("Id") == target:
            members = ((group.get("Members") or {}).get("Items")) or []
            return any(m.get("OriginId") == origin_id for m in members)
    return False


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


HTTPS_POLICIES = ("redirect-to-https", "https-only")


@register("cloudfront.s3_origin_oac")
class S3OriginWithOac(Check):
    description = ("A distribution has the bucket as an S3 origin that signs its requests with an origin access "
                   "control (SigV4, always, type s3) and no legacy origin access identity; its default behaviour "
                   "serves that origin, with an accepted viewer protocol policy (and no other behaviour to that "
                   "origin allows plain HTTP when HTTPS is required).")
    params_schema = schema(
        {"bucket": BUCKET,
         "viewer_protocol_policy": {
             "anyOf": [{"enum": ["redirect-to-https", "https-only", "allow-all"]},
                       {"type": "array", "minItems": 1, "items": {"enum": ["redirect-to-https", "https-only", "allow-all"]}}],
             "description": "viewer protocol policy (or policies) accepted for the default behaviour"},
         "default_root_object": string("required default root object, e.g. index.html")},
        ["bucket"],
    )

    def run(self, ctx, *, bucket, viewer_protocol_policy=None, default_root_object=None):
        accepted = _as_list(viewer_protocol_policy)
        problems = []
        for dist, config, origin in distributions_for_bucket(ctx, bucket):
            problem, oac_name = self._problem(ctx, bucket, dist, config, origin, accepted, default_root_object)
            if problem is None:
                return passed(f"distribution {dist['Id']} reads {bucket} through origin access control {oac_name}")
            problems.append(problem)
        return failed(problems[0])

    @staticmethod
    def _problem(ctx, bucket, dist, config, origin, accepted, default_root_object) -> tuple[str | None, str]:
        name = f"distribution {dist['Id']}"
        oai = (origin.get("S3OriginConfig") or {}).get("OriginAccessIdentity")
        oac_id = origin.get("OriginAccessControlId")
        if not oac_id:
            if oai:
                return (f"{name} reaches {bucket} through a legacy origin access identity — use an origin "
                        "access control (OAC) instead"), ""
            return (f"{name} has {bucket} as its origin but no origin access control: CloudFront would "
                    "send unsigned requests, so the bucket would have to be public"), ""
        try:
            oac = ctx.client("cloudfront").get_origin_access_control(Id=oac_id)["OriginAccessControl"]
        except ClientError:
            return f"{name} names origin access control {oac_id}, which does not exist", ""
        oac_config = oac.get("OriginAccessControlConfig") or {}
        oac_name = oac_config.get("Name", oac_id)
        if oac_config.get("OriginAccessControlOriginType") != "s3":
            return (f"origin access control {oac_name} is for "
                    f"{oac_config.get('OriginAccessControlOriginType')} origins, not s3"), oac_name
        if oac_config.get("SigningBehavior") != "always":
            return (f"origin access control {oac_name} signs '{oac_config.get('SigningBehavior')}' — it must sign "
                    "always, or a viewer's own Authorization header could reach the bucket"), oac_name
        if not config.get("Enabled"):
            return f"{name} is disabled — enable it", oac_name
        default = config.get("DefaultCacheBehavior") or {}
        if not _serves_origin(config, default.get("TargetOriginId", ""), origin.get("Id", "")):
            return (f"{name}'s default behaviour sends viewers to origin {default.get('TargetOriginId')}, not to "
                    f"{bucket} (origin {origin.get('Id')}) — set its TargetOriginId"), oac_name
        policy = default.get("ViewerProtocolPolicy")
        if accepted and policy not in accepted:
            return (f"{name}'s default behaviour has viewer protocol policy {policy}, not "
                    f"{' or '.join(accepted)}"), oac_name
        if accepted and all(p in HTTPS_POLICIES for p in accepted):
            for behavior in (config.get("CacheBehaviors") or {}).get("Items") or []:
                if (_serves_origin(config, behavior.get("TargetOriginId", ""), origin.get("Id", ""))
                        and behavior.get("ViewerProtocolPolicy") not in HTTPS_POLICIES):
                    return (f"{name}'s {behavior.get('PathPattern')} behaviour lets viewers reach {bucket} over plain "
                            f"HTTP ({behavior.get('ViewerProtocolPolicy')}) — redirect it to HTTPS too"), oac_name
        if default_root_object and config.get("DefaultRootObject") != default_root_object:
            return (f"{name}'s default root object is '{config.get('DefaultRootObject') or ''}', not "
                    f"{default_root_object}"), oac_name
        return None, oac_name


def _source_arns(statements: list[dict]) -> list[str]:
    """The aws:SourceArn values named in the statements' conditions (for feedback)."""
    arns = []
    for s in statements:
        for block in (s.get("Condition") or {}).values():
            if isinstance(block, dict):
                for key, value in block.items():
                    if key.lower() == "aws:sourcearn":
                        arns += [str(v) for v in _as_list(value)]
    return arns


@register("cloudfront.bucket_policy_only_distribution")
class BucketPolicyOnlyDistribution(Check):
    description = ("The bucket policy, as AWS evaluates it, lets the CloudFront service principal read the bucket's "
                   "objects on behalf of the bucket's distribution (AWS:SourceArn), and nobody else: not anyone, "
                   "not another account, not CloudFront for another distribution or without a SourceArn.")
    params_schema = schema({"bucket": BUCKET}, ["bucket"])

    CLOUDFRONT = "cloudfront.amazonaws.com"
    PROBE_KEYS = ("index.html", "assets/site.css")

    def run(self, ctx, *, bucket):
        candidates = distributions_for_bucket(ctx, bucket)
        with_oac = [c for c in candidates if c[2].get("OriginAccessControlId")] or candidates
        try:
            text = ctx.client("s3").get_bucket_policy(Bucket=bucket)["Policy"]
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in {"NoSuchBucketPolicy", "NoSuchBucket"}:
                return failed(f"{bucket} has no bucket policy — CloudFront's signed requests would be denied; add "
                              "a statement for the cloudfront.amazonaws.com service principal")
            raise
        account = ctx.client("sts").get_caller_identity()["Account"]
        objects = [f"arn:aws:s3:::{bucket}/{key}" for key in self.PROBE_KEYS]

        def decision(resource, principal, source_arn=None):
            context = {"aws:SecureTransport": "true"}
            if source_arn:
                context.update({"aws:SourceArn": source_arn, "aws:SourceAccount": source_arn.split(":")[4]})
            return iam_policy.evaluate(text, "s3:GetObject", resource, principal, context)

        reader = next((dist for dist, _, _ in with_oac
                       if all(decision(r, self.CLOUDFRONT, dist["ARN"]) == iam_policy.ALLOW for r in objects)), None)
        if reader is None:
            return failed(self._why_not_allowed(text, bucket, with_oac[0][0]))
        for resource in objects:
            if decision(resource, iam_policy.ANONYMOUS) == iam_policy.ALLOW:
                return failed(f"{bucket}'s policy allows everyone (Principal \"*\") to read {resource} — the bucket "
                              "would be readable without CloudFront; remove that statement")
            if decision(resource, f"arn:aws:iam::{OTHER_ACCOUNT}:root") == iam_policy.ALLOW:
                return failed(f"{bucket}'s policy lets another AWS account read {resource} — only your distribution "
                              "may")
            if decision(resource, self.CLOUDFRONT) == iam_policy.ALLOW:
                return failed("the CloudFront statement has no AWS:SourceArn condition, so any CloudFront "
                              "distribution — in any account — could read the bucket; limit it to your "
                              f"distribution's ARN {reader['ARN']}")
            for other in (f"arn:aws:cloudfront::{OTHER_ACCOUNT}:distribution/EOTHERACCOUNT",
                          f"arn:aws:cloudfront::{account}:distribution/EANOTHERDIST"):
                if decision(resource, self.CLOUDFRONT, other) == iam_policy.ALLOW:
                    return failed(f"the CloudFront statement's condition also matches other distributions (such as "
                                  f"{other}) — name exactly your distribution's ARN {reader['ARN']}")
        return passed(f"{bucket} can be read by CloudFront only for distribution {reader['Id']}")

    def _why_not_allowed(self, text: str, bucket: str, dist: dict) -> str:
        expected = dist["ARN"]
        allows = [s for s in iam_policy.statements(text) if str(s.get("Effect", "")).lower() == "allow"]
        cloudfront = [s for s in allows if iam_policy.applicable_statements(
            {"Statement": [{**s, "Action": "*", "Resource": "*"}]}, "s3:GetObject", None, self.CLOUDFRONT,
            conditions=False)]
        if not cloudfront:
            return (f"{bucket}'s policy has no Allow statement for the service principal cloudfront.amazonaws.com")
        resource = f"arn:aws:s3:::{bucket}/index.html"
        unconditional = iam_policy.applicable_statements(text, "s3:GetObject", resource, self.CLOUDFRONT,
                                                         conditions=False)
        if not [s for s in unconditional if str(s.get("Effect", "")).lower() == "allow"]:
            return (f"the CloudFront statement must allow s3:GetObject on arn:aws:s3:::{bucket}/* (the objects, not "
                    "the bucket itself)")
        context = {"aws:SecureTransport": "true", "aws:SourceArn": expected, "aws:SourceAccount": expected.split(":")[4]}
        if iam_policy.evaluate(text, "s3:GetObject", resource, self.CLOUDFRONT, context) == iam_policy.DENY:
            return f"a Deny statement of {bucket}'s policy refuses CloudFront's reads for distribution {dist['Id']}"
        arns = _source_arns(cloudfront)
        if arns:
            return (f"the CloudFront statement's AWS:SourceArn is {', '.join(arns)}, not this distribution's ARN "
                    f"{expected}")
        return (f"the CloudFront statement's condition does not hold for requests from distribution {dist['Id']} "
                f"({expected})")


def path_pattern_matches(pattern: str, path: str) -> bool:
    """CloudFront path patterns: case-sensitive, `*` any characters, `?` one, the leading / optional."""
    if pattern == "*":
        return True
    return wildcard_match("/" + pattern.lstrip("/"), "/" + path.lstrip("/"))


def effective_behavior(config: dict, path: str) -> tuple[str, dict]:
    """(its path pattern, the behaviour) CloudFront applies to a request for `path`: the first cache behaviour, in
    the distribution's order, whose pattern matches; the default behaviour (`*`) when none does."""
    for behavior in (config.get("CacheBehaviors") or {}).get("Items") or []:
        if path_pattern_matches(behavior.get("PathPattern", ""), path):
            return behavior.get("PathPattern", ""), behavior
    return "*", config.get("DefaultCacheBehavior") or {}


def _never_caches(behavior: dict) -> bool:
    """CachingDisabled, or legacy cache settings whose TTLs are all zero: nothing is kept at the edge."""
    if behavior.get("CachePolicyId"):
        return behavior["CachePolicyId"] == CACHING_DISABLED
    return all(int(behavior.get(ttl) or 0) == 0 for ttl in ("MinTTL", "DefaultTTL", "MaxTTL"))


def _cache_policy_name(behavior: dict) -> str:
    policy = behavior.get("CachePolicyId")
    if not policy:
        return "legacy cache settings (MaxTTL " + str(behavior.get("MaxTTL", "?")) + ")"
    return MANAGED_CACHE_POLICIES.get(policy, policy)


@register("cloudfront.cache_behavior")
class CacheBehavior(Check):
    description = ("The cache behaviour CloudFront applies to a request path (the first behaviour in order whose "
                   "pattern matches, else the default) uses a given cache policy (CachingDisabled also accepts "
                   "legacy settings with every TTL 0) and viewer protocol policy; `cached_paths` must still be "
                   "cached. `path_pattern` instead requires a behaviour with exactly that pattern.")
    params_schema = schema(
        {"bucket": BUCKET,
         "path": string("a request path, e.g. /index.html: the behaviour that applies to it is checked"),
         "path_pattern": string("path pattern a behaviour must have, e.g. /api/*"),
         "cache_policy_id": string("required cache policy id (e.g. the managed CachingDisabled policy)"),
         "viewer_protocol_policy": {"enum": ["redirect-to-https", "https-only", "allow-all"]},
         "cached_paths": {"type": "array", "items": {"type": "string", "pattern": "^/"},
                          "description": "paths whose behaviour must still cache (not CachingDisabled)"}},
        ["bucket"],
    )

    def run(self, ctx, *, bucket, path=None, path_pattern=None, cache_policy_id=None, viewer_protocol_policy=None,
            cached_paths=None):
        dist, config, _ = distribution_for_bucket(ctx, bucket)
        behaviors = (config.get("CacheBehaviors") or {}).get("Items") or []
        if path_pattern:
            match = [b for b in behaviors if path_pattern_matches(b.get("PathPattern", ""), path_pattern)
                     and b.get("PathPattern", "").lstrip("/") == path_pattern.lstrip("/")]
            if not match:
                patterns = ", ".join(b.get("PathPattern", "?") for b in behaviors) or "none"
                return failed(f"distribution {dist['Id']} has no cache behaviour for {path_pattern} (it has: {patterns})")
            pattern, behavior = match[0].get("PathPattern", path_pattern), match[0]
            where = f"the {pattern} behaviour"
        elif path:
            pattern, behavior = effective_behavior(config, path)
            if pattern == "*":
                patterns = ", ".join(b.get("PathPattern", "?") for b in behaviors) or "none"
                return failed(f"requests for {path} fall through to the default behaviour of distribution {dist['Id']} "
                              f"— add a cache behaviour whose path pattern matches {path} (behaviours now: {patterns})")
            where = (f"the {pattern} behaviour" if pattern.lstrip("/") == path.lstrip("/")
                     else f"the {pattern} behaviour, which CloudFront applies to {path} (the first match wins)")
        else:
            raise CheckFailed("this check needs a path or a path_pattern (a lab file error)")
        if cache_policy_id:
            ok = (_never_caches(behavior) if cache_policy_id == CACHING_DISABLED
                  else behavior.get("CachePolicyId") == cache_policy_id)
            if not ok:
                want = MANAGED_CACHE_POLICIES.get(cache_policy_id, cache_policy_id)
                return failed(f"{where} uses cache policy {_cache_policy_name(behavior)}, not {want}")
        if viewer_protocol_policy and behavior.get("ViewerProtocolPolicy") != viewer_protocol_policy:
            return failed(f"{where} has viewer protocol policy {behavior.get('ViewerProtocolPolicy')}, not "
                          f"{viewer_protocol_policy}")
        for other in cached_paths or []:
            other_pattern, other_behavior = effective_behavior(config, other)
            if _never_caches(other_behavior):
                return failed(f"{other} is no longer cached: CloudFront applies the {other_pattern} behaviour to it, "
                              f"which uses {_cache_policy_name(other_behavior)} — only the HTML page should skip "
                              "the cache")
        return passed(f"distribution {dist['Id']} applies {_cache_policy_name(behavior)} through {where}")


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
        if any(p.rstrip("*") in ("", "/") for batch in batches for p in batch):
            return failed("an invalidation of /* emptied the whole cache: every edge location must fetch every "
                          "object from the origin again — invalidate only what changed")
        return passed("only the changed paths were invalidated")

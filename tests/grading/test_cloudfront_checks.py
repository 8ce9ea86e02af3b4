import json

import pytest

from labapp.grading.grader import run_check
from labapp.sandbox.extensions import cloudfront as cloudfront_extension

cloudfront_extension.apply()  # the test moto server runs in this process: keep OAC ids on origins, as the emulator does

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def check(sb, kind, **args):
    return run_check({"kind": kind, **args}, {}, sb.ctx())


def make_oac(sb, signing="always", origin_type="s3"):
    return sb.client("cloudfront").create_origin_access_control(OriginAccessControlConfig={
        "Name": f"oac-{signing}-{origin_type}", "SigningProtocol": "sigv4", "SigningBehavior": signing,
        "OriginAccessControlOriginType": origin_type})["OriginAccessControl"]["Id"]


def make_dist(sb, bucket, oac="", behaviors=None, vpp="redirect-to-https", ref="r1"):
    config = {
        "CallerReference": ref, "Comment": "site", "Enabled": True, "DefaultRootObject": "index.html",
        "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": f"{bucket}.s3.us-east-1.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""},
                                              "OriginAccessControlId": oac}]},
        "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": vpp, "CachePolicyId": CACHING_OPTIMIZED},
    }
    if behaviors:
        config["CacheBehaviors"] = {"Quantity": len(behaviors), "Items": [
            {"PathPattern": p, "TargetOriginId": "s3", "ViewerProtocolPolicy": "redirect-to-https", "CachePolicyId": c}
            for p, c in behaviors]}
    return sb.client("cloudfront").create_distribution(DistributionConfig=config)["Distribution"]


@pytest.fixture
def site(sandbox):
    sandbox.bucket = f"site-{sandbox.account_id}"
    sandbox.client("s3").create_bucket(Bucket=sandbox.bucket)
    return sandbox


def test_s3_origin_oac(site):
    out = check(site, "cloudfront.s3_origin_oac", bucket=site.bucket)
    assert not out.passed and out.feedback.startswith(f"no CloudFront distribution has the bucket {site.bucket}")
    make_dist(site, site.bucket, ref="plain")
    out = check(site, "cloudfront.s3_origin_oac", bucket=site.bucket)
    assert not out.passed and "no origin access control" in out.feedback


def test_s3_origin_oac_signing_and_viewer_policy(site):
    make_dist(site, site.bucket, oac=make_oac(site, signing="no-override"), vpp="allow-all")
    out = check(site, "cloudfront.s3_origin_oac", bucket=site.bucket)
    assert not out.passed and "signs 'no-override'" in out.feedback


def test_s3_origin_oac_passes(site):
    dist = make_dist(site, site.bucket, oac=make_oac(site), vpp="allow-all")
    out = check(site, "cloudfront.s3_origin_oac", bucket=site.bucket, viewer_protocol_policy="redirect-to-https")
    assert not out.passed and "viewer protocol policy allow-all, not redirect-to-https" in out.feedback
    out = check(site, "cloudfront.s3_origin_oac", bucket=site.bucket, default_root_object="index.html")
    assert out.passed and out.feedback == f"distribution {dist['Id']} reads {site.bucket} through origin access control oac-always-s3"


def policy(bucket, principal, condition=None, resource=None):
    statement = {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject",
                 "Resource": resource or f"arn:aws:s3:::{bucket}/*"}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_bucket_policy_only_distribution(site):
    s3 = site.client("s3")
    dist = make_dist(site, site.bucket, oac=make_oac(site))
    out = check(site, "cloudfront.bucket_policy_only_distribution", bucket=site.bucket)
    assert not out.passed and "has no bucket policy" in out.feedback
    s3.put_bucket_policy(Bucket=site.bucket, Policy=policy(site.bucket, "*"))
    out = check(site, "cloudfront.bucket_policy_only_distribution", bucket=site.bucket)
    assert not out.passed and "allows everyone" in out.feedback
    cf = {"Service": "cloudfront.amazonaws.com"}
    s3.put_bucket_policy(Bucket=site.bucket, Policy=policy(site.bucket, cf))
    out = check(site, "cloudfront.bucket_policy_only_distribution", bucket=site.bucket)
    assert not out.passed and "no AWS:SourceArn condition" in out.feedback
    s3.put_bucket_policy(Bucket=site.bucket, Policy=policy(site.bucket, cf, resource=f"arn:aws:s3:::{site.bucket}"))
    out = check(site, "cloudfront.bucket_policy_only_distribution", bucket=site.bucket)
    assert not out.passed and "must allow s3:GetObject on" in out.feedback
    other = dist["ARN"][:-4] + "ZZZZ"
    s3.put_bucket_policy(Bucket=site.bucket, Policy=policy(site.bucket, cf, {"StringEquals": {"AWS:SourceArn": other}}))
    out = check(site, "cloudfront.bucket_policy_only_distribution", bucket=site.bucket)
    assert not out.passed and f"not this distribution's ARN {dist['ARN']}" in out.feedback
    s3.put_bucket_policy(Bucket=site.bucket, Policy=policy(site.bucket, cf, {"StringEquals": {"AWS:SourceArn": dist["ARN"]}}))
    out = check(site, "cloudfront.bucket_policy_only_distribution", bucket=site.bucket)
    assert out.passed and out.feedback == f"{site.bucket} can be read by CloudFront only for distribution {dist['Id']}"


def test_cache_behavior(site):
    make_dist(site, site.bucket, oac=make_oac(site), behaviors=[("/index.html", CACHING_OPTIMIZED)])
    out = check(site, "cloudfront.cache_behavior", bucket=site.bucket, path_pattern="/api/*")
    assert not out.passed and "no cache behaviour for /api/* (it has: /index.html)" in out.feedback
    out = check(site, "cloudfront.cache_behavior", bucket=site.bucket, path_pattern="/index.html",
                cache_policy_id=CACHING_DISABLED)
    assert not out.passed and out.feedback == "the /index.html behaviour uses cache policy CachingOptimized, not CachingDisabled"
    out = check(site, "cloudfront.cache_behavior", bucket=site.bucket, path_pattern="/index.html",
                cache_policy_id=CACHING_OPTIMIZED)
    assert out.passed


def test_invalidations(site):
    dist = make_dist(site, site.bucket, oac=make_oac(site))
    cf = site.client("cloudfront")
    args = {"bucket": site.bucket, "paths": ["/index.html", "/css/site.css"]}
    out = check(site, "cloudfront.invalidation_covers", **args)
    assert not out.passed and out.feedback == f"no invalidation has been created for distribution {dist['Id']}"
    assert not check(site, "cloudfront.invalidation_not_everything", bucket=site.bucket).passed

    def invalidate(*paths, ref):
        cf.create_invalidation(DistributionId=dist["Id"], InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": list(paths)}, "CallerReference": ref})

    invalidate("/index.html", ref="a")
    out = check(site, "cloudfront.invalidation_covers", **args)
    assert not out.passed and "do not cover /css/site.css" in out.feedback
    invalidate("/css/*", ref="b")
    assert check(site, "cloudfront.invalidation_covers", **args).passed
    assert check(site, "cloudfront.invalidation_not_everything", bucket=site.bucket).passed
    invalidate("/*", ref="c")
    out = check(site, "cloudfront.invalidation_not_everything", bucket=site.bucket)
    assert not out.passed and "emptied the whole cache" in out.feedback

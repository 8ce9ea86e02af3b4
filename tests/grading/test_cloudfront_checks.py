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


# --- cloudfront-s3-origin, graded by what the configuration does ----------------------------------------

from tests.grading.labfiles import grade_lab  # noqa: E402

ORIGIN_TASKS = {"distribution-oac", "bucket-policy"}


def origin_tasks(sb):
    tasks = grade_lab(sb, "cloudfront-s3-origin", bucket=sb.bucket)
    return {t for t, r in tasks.items() if r["passed"]}, tasks


def put_policy(sb, *statements):
    sb.client("s3").put_bucket_policy(Bucket=sb.bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def cloudfront_reads(sb, condition, principal=None, action="s3:GetObject", resource=None):
    return {"Effect": "Allow", "Principal": principal or {"Service": "cloudfront.amazonaws.com"}, "Action": action,
            "Resource": resource or f"arn:aws:s3:::{sb.bucket}/*", "Condition": condition}


def test_origin_lab_reference_passes(site):
    dist = make_dist(site, site.bucket, oac=make_oac(site))
    put_policy(site, cloudfront_reads(site, {"StringEquals": {"AWS:SourceArn": dist["ARN"]}}))
    assert origin_tasks(site)[0] == ORIGIN_TASKS


def test_origin_lab_equivalent_configurations_pass(site):
    """Global endpoint, https-only, a list of actions, ArnLike/ArnEquals, a lower-case key, an extra SourceAccount."""
    cf = site.client("cloudfront")
    config = {
        "CallerReference": "alt", "Comment": "", "Enabled": True, "DefaultRootObject": "index.html",
        "Origins": {"Quantity": 2, "Items": [
            {"Id": "api", "DomainName": "api.example.com",
             "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}},
            {"Id": "bucket", "DomainName": f"{site.bucket}.s3.amazonaws.com",
             "S3OriginConfig": {"OriginAccessIdentity": ""}, "OriginAccessControlId": make_oac(site)}]},
        "DefaultCacheBehavior": {"TargetOriginId": "bucket", "ViewerProtocolPolicy": "https-only",
                                 "CachePolicyId": CACHING_OPTIMIZED},
    }
    dist = cf.create_distribution(DistributionConfig=config)["Distribution"]
    for condition in ({"ArnEquals": {"aws:sourcearn": dist["ARN"]}},
                      {"ArnLike": {"AWS:SourceArn": [dist["ARN"]]}, "StringEquals": {"aws:SourceAccount": site.account_id}}):
        put_policy(site, cloudfront_reads(site, condition, principal={"Service": ["cloudfront.amazonaws.com"]},
                                          action=["s3:GetObject", "s3:GetObjectVersion"]))
        assert origin_tasks(site)[0] == ORIGIN_TASKS


def test_origin_lab_a_leftover_distribution_does_not_hide_the_right_one(site):
    cf, oac = site.client("cloudfront"), make_oac(site)
    old = make_dist(site, site.bucket, oac=oac, ref="old")
    current = cf.get_distribution_config(Id=old["Id"])
    cf.update_distribution(Id=old["Id"], IfMatch=current["ETag"],
                           DistributionConfig={**current["DistributionConfig"], "Enabled": False})
    dist = make_dist(site, site.bucket, oac=oac, ref="new")
    put_policy(site, cloudfront_reads(site, {"StringEquals": {"AWS:SourceArn": dist["ARN"]}}))
    assert origin_tasks(site)[0] == ORIGIN_TASKS


@pytest.mark.parametrize("extra,says", [
    # a public statement whose condition every HTTPS request meets
    ({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::{b}/*",
      "Condition": {"Bool": {"aws:SecureTransport": "true"}}}, "allows everyone"),
    ({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:Get*", "Resource": "arn:aws:s3:::{b}/*"}, "allows everyone"),
    ({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::{b}/*"}, "another AWS account"),
    # CloudFront for any distribution of any account
    ({"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::{b}/*", "Condition": {"StringLike": {"AWS:SourceArn": "arn:aws:cloudfront::*"}}},
     "also matches other distributions"),
])
def test_origin_lab_policies_that_let_others_read_fail(site, extra, says):
    dist = make_dist(site, site.bucket, oac=make_oac(site))
    extra = json.loads(json.dumps(extra).replace("{b}", site.bucket))
    put_policy(site, cloudfront_reads(site, {"StringEquals": {"AWS:SourceArn": dist["ARN"]}}), extra)
    passing, tasks = origin_tasks(site)
    assert passing == {"distribution-oac"}
    assert says in tasks["bucket-policy"]["feedback"]


def test_origin_lab_every_distribution_of_the_account_is_too_many(site):
    make_dist(site, site.bucket, oac=make_oac(site))
    put_policy(site, cloudfront_reads(site, {"ArnLike": {"AWS:SourceArn": f"arn:aws:cloudfront::{site.account_id}:distribution/*"}}))
    passing, tasks = origin_tasks(site)
    assert passing == {"distribution-oac"} and "other distributions" in tasks["bucket-policy"]["feedback"]


def test_origin_lab_a_deny_that_blocks_cloudfront_fails(site):
    dist = make_dist(site, site.bucket, oac=make_oac(site))
    put_policy(site, cloudfront_reads(site, {"StringEquals": {"AWS:SourceArn": dist["ARN"]}}),
               {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"arn:aws:s3:::{site.bucket}/*"})
    passing, tasks = origin_tasks(site)
    assert passing == {"distribution-oac"} and "Deny statement" in tasks["bucket-policy"]["feedback"]


def _dist_with(site, origins, target, behaviors=None, ref="x"):
    config = {"CallerReference": ref, "Comment": "", "Enabled": True, "DefaultRootObject": "index.html",
              "Origins": {"Quantity": len(origins), "Items": origins},
              "DefaultCacheBehavior": {"TargetOriginId": target, "ViewerProtocolPolicy": "redirect-to-https",
                                       "CachePolicyId": CACHING_OPTIMIZED}}
    if behaviors:
        config["CacheBehaviors"] = {"Quantity": len(behaviors), "Items": behaviors}
    return site.client("cloudfront").create_distribution(DistributionConfig=config)["Distribution"]


def test_origin_lab_distribution_near_misses(site):
    b, oac = site.bucket, make_oac(site)
    bucket_origin = {"Id": "bucket", "DomainName": f"{b}.s3.us-east-1.amazonaws.com",
                     "S3OriginConfig": {"OriginAccessIdentity": ""}, "OriginAccessControlId": oac}
    other = {"Id": "web", "DomainName": "www.example.com",
             "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}}
    # The bucket is an origin, but viewers are sent to another one.
    _dist_with(site, [bucket_origin, other], "web", ref="a")
    passing, tasks = origin_tasks(site)
    assert "distribution-oac" not in passing and "sends viewers to origin web" in tasks["distribution-oac"]["feedback"]


def test_origin_lab_plain_http_behaviour_to_the_bucket_fails(site):
    b, oac = site.bucket, make_oac(site)
    bucket_origin = {"Id": "bucket", "DomainName": f"{b}.s3.us-east-1.amazonaws.com",
                     "S3OriginConfig": {"OriginAccessIdentity": ""}, "OriginAccessControlId": oac}
    _dist_with(site, [bucket_origin], "bucket", behaviors=[
        {"PathPattern": "/downloads/*", "TargetOriginId": "bucket", "ViewerProtocolPolicy": "allow-all",
         "CachePolicyId": CACHING_OPTIMIZED}])
    passing, tasks = origin_tasks(site)
    assert "distribution-oac" not in passing
    assert "/downloads/* behaviour lets viewers reach" in tasks["distribution-oac"]["feedback"]


@pytest.mark.parametrize("domain,says", [
    ("{b}.s3-website-us-east-1.amazonaws.com", "uses the website endpoint"),
    ("{b}.s3-website.us-east-1.amazonaws.com", "uses the website endpoint"),
    ("{b}.s3.eu-west-1.amazonaws.com", "an endpoint of another Region"),
])
def test_origin_lab_wrong_endpoints_are_named(site, domain, says):
    origin = {"Id": "o", "DomainName": domain.format(b=site.bucket),
              "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}
    _dist_with(site, [origin], "o")
    passing, tasks = origin_tasks(site)
    assert passing == set() and says in tasks["distribution-oac"]["feedback"]


@pytest.mark.parametrize("domain", ["{b}.s3.amazonaws.com", "{b}.s3.us-east-1.amazonaws.com",
                                    "{b}.s3-us-east-1.amazonaws.com", "{b}.s3.dualstack.us-east-1.amazonaws.com"])
def test_origin_lab_every_rest_endpoint_of_the_bucket_is_its_origin(site, domain):
    origin = {"Id": "o", "DomainName": domain.format(b=site.bucket), "S3OriginConfig": {"OriginAccessIdentity": ""},
              "OriginAccessControlId": make_oac(site)}
    _dist_with(site, [origin], "o")
    assert "distribution-oac" in origin_tasks(site)[0]


# --- cloudfront-invalidation: the behaviour that really serves /index.html -----------------------------

def behavior(pattern, policy=CACHING_DISABLED, vpp="redirect-to-https", **legacy):
    item = {"PathPattern": pattern, "TargetOriginId": "s3", "ViewerProtocolPolicy": vpp}
    if legacy:
        item.update({"ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}, **legacy})
    else:
        item["CachePolicyId"] = policy
    return item


def html_task(sb, *behaviors):
    config = {
        "CallerReference": "shop", "Comment": "", "Enabled": True, "DefaultRootObject": "index.html",
        "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": f"{sb.bucket}.s3.us-east-1.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": CACHING_OPTIMIZED},
        "CacheBehaviors": {"Quantity": len(behaviors), "Items": list(behaviors)},
    }
    sb.client("cloudfront").create_distribution(DistributionConfig=config)
    return grade_lab(sb, "cloudfront-invalidation", bucket=sb.bucket)["html-behaviour"]


@pytest.mark.parametrize("behaviors", [
    [behavior("/index.html")],
    [behavior("index.html")],                                        # the leading / is optional
    [behavior("/img/*", CACHING_OPTIMIZED), behavior("*.html")],     # a broader pattern that does the same
    [behavior("/index.htm?", MinTTL=0, DefaultTTL=0, MaxTTL=0)],     # legacy settings that never cache
])
def test_html_behaviour_equivalent_configurations_pass(site, behaviors):
    task = html_task(site, *behaviors)
    assert task["passed"], task["feedback"]


@pytest.mark.parametrize("behaviors,says", [
    ([behavior("*.html", CACHING_OPTIMIZED), behavior("/index.html")], "the first match wins"),
    ([behavior("/*")], "/css/site.css is no longer cached"),
    ([behavior("/index.html", vpp="allow-all")], "viewer protocol policy allow-all"),
    ([behavior("/Index.html")], "fall through to the default behaviour"),    # patterns are case-sensitive
    ([behavior("/index.html", MinTTL=0, DefaultTTL=0, MaxTTL=31536000)], "legacy cache settings"),
])
def test_html_behaviour_near_misses(site, behaviors, says):
    task = html_task(site, *behaviors)
    assert not task["passed"] and says in task["feedback"]


def test_an_invalidation_of_everything_in_any_spelling_is_flagged(site):
    dist = make_dist(site, site.bucket)
    site.client("cloudfront").create_invalidation(DistributionId=dist["Id"], InvalidationBatch={
        "Paths": {"Quantity": 2, "Items": ["/index.html", "/**"]}, "CallerReference": "all"})
    out = check(site, "cloudfront.invalidation_not_everything", bucket=site.bucket)
    assert not out.passed and "emptied the whole cache" in out.feedback

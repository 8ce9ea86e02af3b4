"""S3 bucket-configuration check kinds (S3 and advanced S3 labs): pass and near misses, against moto."""

import json

import pytest

from labapp.grading.grader import run_check
from tests.grading.labfiles import grade_lab


def check(sb, kind, journal=None, **args):
    return run_check({"kind": kind, **args}, {}, sb.ctx(journal=journal))


@pytest.fixture
def b(sandbox):
    s3 = sandbox.client("s3")
    name = f"cfg-{sandbox.account_id}"
    s3.create_bucket(Bucket=name)
    sandbox.bucket = name
    return sandbox


def test_bucket_encryption(b):
    s3, kms, n = b.client("s3"), b.client("kms"), b.bucket
    out = check(b, "s3.bucket_encryption", bucket=n, kms_alias="alias/payroll")
    assert not out.passed
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/payroll", TargetKeyId=key)
    s3.put_bucket_encryption(Bucket=n, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    out = check(b, "s3.bucket_encryption", bucket=n, kms_alias="alias/payroll")
    assert not out.passed and "AES256, not aws:kms" in out.feedback
    s3.put_bucket_encryption(Bucket=n, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    out = check(b, "s3.bucket_encryption", bucket=n, kms_alias="alias/payroll")
    assert not out.passed and "AWS managed key aws/s3" in out.feedback
    s3.put_bucket_encryption(Bucket=n, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/payroll"}}]})
    out = check(b, "s3.bucket_encryption", bucket=n, kms_alias="alias/payroll", bucket_key=True)
    assert not out.passed and "Bucket Keys are off" in out.feedback
    s3.put_bucket_encryption(Bucket=n, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
         "BucketKeyEnabled": True}]})
    assert check(b, "s3.bucket_encryption", bucket=n, kms_alias="alias/payroll", bucket_key=True).passed
    s3.put_object(Bucket=n, Key="a.csv", Body=b"x")
    assert check(b, "s3.object_encryption", bucket=n, key="a.csv", algorithm="aws:kms").passed
    out = check(b, "s3.object_encryption", bucket=n, key="a.csv", algorithm="AES256")
    assert not out.passed and "not AES256" in out.feedback
    assert check(b, "kms.customer_key", alias="alias/payroll").passed
    out = check(b, "kms.customer_key", alias="alias/nope")
    assert not out.passed and "no key with alias" in out.feedback


def _policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


WEBSITE_TASKS = {"website", "unblock", "public-read"}


def website_tasks(sb, *statements, website=None):
    s3 = sb.client("s3")
    s3.put_bucket_website(Bucket=sb.bucket, WebsiteConfiguration=website or {
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}})
    if statements:
        s3.put_bucket_policy(Bucket=sb.bucket, Policy=_policy(*statements))
    return grade_lab(sb, "s3-static-website", bucket=sb.bucket)


def public_read(bucket, **fields):
    return {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*", **fields}


def test_static_website_equivalent_policies_pass(b):
    n = b.bucket
    assert passing(website_tasks(b, public_read(n))) == WEBSITE_TASKS
    # {"AWS": "*"}, lists, a wildcard action that only reads, and a Deny that protects the policy.
    assert passing(website_tasks(
        b, public_read(n, Principal={"AWS": ["*"]}, Action=["s3:GetObject", "s3:GetObjectVersion"], Resource=[f"arn:aws:s3:::{n}/*"]),
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutBucketPolicy", "Resource": f"arn:aws:s3:::{n}",
         "Condition": {"StringNotEquals": {"aws:PrincipalAccount": b.account_id}}})) == WEBSITE_TASKS


@pytest.mark.parametrize("statements,says", [
    # the finding behind this: reads that need TLS, on an HTTP-only endpoint
    (lambda n: [public_read(n, Condition={"Bool": {"aws:SecureTransport": "true"}})], "has a condition that does not hold"),
    (lambda n: [public_read(n, Resource=f"arn:aws:s3:::{n}/index.html")], "error.html"),
    (lambda n: [public_read(n, Action="s3:*")], "your policy allows s3:PutObject"),
    (lambda n: [public_read(n), public_read(n, Action="s3:Put*")], "your policy allows s3:PutObject"),
    # a NotAction Allow that still lets anyone delete the site
    (lambda n: [public_read(n, Action=None) | {"NotAction": ["s3:PutObject"]}], "your policy allows s3:DeleteObject"),
    (lambda n: [public_read(n), {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                                 "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{n}/*"}], "another AWS account"),
    (lambda n: [public_read(n), {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"arn:aws:s3:::{n}/*",
                                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}}], "explicitly denies s3:GetObject"),
])
def test_static_website_public_read_near_misses(b, statements, says):
    rules = [{k: v for k, v in st.items() if v is not None} for st in statements(b.bucket)]
    tasks = website_tasks(b, *rules)
    assert passing(tasks) == {"website", "unblock"}
    assert says in tasks["public-read"]["feedback"], tasks["public-read"]["feedback"]


def test_static_website_routing_rule_that_redirects_everything_fails(b):
    tasks = website_tasks(b, public_read(b.bucket), website={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"},
        "RoutingRules": [{"Redirect": {"HostName": "example.com"}}]})
    assert passing(tasks) == {"unblock", "public-read"}
    assert "redirects every request (to example.com)" in tasks["website"]["feedback"]


def test_public_access_block_and_website(b):
    s3, n = b.client("s3"), b.bucket
    s3.put_public_access_block(Bucket=n, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    assert check(b, "s3.public_access_block", bucket=n, blocked=True).passed
    out = check(b, "s3.public_access_block", bucket=n, blocked=False)
    assert not out.passed and "BlockPublicPolicy" in out.feedback
    s3.delete_public_access_block(Bucket=n)
    assert check(b, "s3.public_access_block", bucket=n, blocked=False).passed
    out = check(b, "s3.website", bucket=n, index="index.html")
    assert not out.passed and "not enabled" in out.feedback
    s3.put_bucket_website(Bucket=n, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    out = check(b, "s3.website", bucket=n, index="index.html", error="error.html")
    assert not out.passed and "error document" in out.feedback
    assert check(b, "s3.website", bucket=n, index="index.html").passed


def test_cors_rule(b):
    s3, n = b.client("s3"), b.bucket
    assert not check(b, "s3.cors_rule", bucket=n, origin="https://app.example.com", methods=["GET"]).passed
    s3.put_bucket_cors(Bucket=n, CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]})
    out = check(b, "s3.cors_rule", bucket=n, origin="https://app.example.com", methods=["GET"])
    assert not out.passed and "every origin (*)" in out.feedback
    assert check(b, "s3.cors_rule", bucket=n, origin="https://app.example.com", methods=["GET"], allow_wildcard=True).passed
    s3.put_bucket_cors(Bucket=n, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET", "HEAD"]}]})
    out = check(b, "s3.cors_rule", bucket=n, origin="https://app.example.com", methods=["GET", "PUT"])
    assert not out.passed and "allows PUT" in out.feedback
    out = check(b, "s3.cors_rule", bucket=n, origin="http://app.example.com", methods=["GET"])
    assert not out.passed and "match exactly" in out.feedback
    assert check(b, "s3.cors_rule", bucket=n, origin="https://app.example.com", methods=["GET", "HEAD"]).passed


CORS_TASKS = {"reads", "cors"}
ORIGIN = "https://portal.example.org"


def cors_rule(origins=(ORIGIN,), methods=("GET", "PUT", "HEAD"), headers=("*",), expose=("ETag",), max_age=3000):
    rule = {"AllowedOrigins": list(origins), "AllowedMethods": list(methods)}
    if headers:
        rule["AllowedHeaders"] = list(headers)
    if expose:
        rule["ExposeHeaders"] = list(expose)
    if max_age:
        rule["MaxAgeSeconds"] = max_age
    return rule


def cors_tasks(sb, *rules):
    sb.client("s3").put_bucket_cors(Bucket=sb.bucket, CORSConfiguration={"CORSRules": list(rules)})
    return grade_lab(sb, "s3-cors", bucket=sb.bucket, origin=ORIGIN)


def passing(tasks):
    return {t for t, r in tasks.items() if r["passed"]}


def test_cors_wildcard_that_admits_no_real_other_origin_passes(b):
    """A `*` only matters if it lets another site in: *https://origin matches no other browser origin."""
    assert passing(cors_tasks(b, cors_rule(origins=["*" + ORIGIN]))) == CORS_TASKS


def test_cors_lab_accepts_the_same_permissions_split_over_rules(b):
    """The finding: two rules that together allow GET, PUT and HEAD are as good as one."""
    assert passing(cors_tasks(b, cors_rule())) == CORS_TASKS
    assert passing(cors_tasks(b, cors_rule(methods=["GET", "HEAD"], headers=None),
                              cors_rule(methods=["PUT"], headers=["Content-Type"], max_age=600))) == CORS_TASKS
    # A rule per method, other letter case, and a rule for another app first: all the same to a browser.
    assert passing(cors_tasks(b, cors_rule(origins=["https://admin.example.org"]),
                              *[cors_rule(methods=[m], headers=["content-TYPE"], expose=["etag"]) for m in ("HEAD", "PUT", "GET")])) == CORS_TASKS


@pytest.mark.parametrize("rules,passes,says", [
    ([cors_rule(origins=["*"])], {"reads"}, "every origin (*)"),
    ([cors_rule(origins=["https://*"])], {"reads"}, "https://evil.example too (through https://*)"),
    ([cors_rule(origins=["https://*.example.org"])], {"reads"}, "https://evil.example.org too"),
    # A wildcard that still matches the app's origin lets look-alike hosts in (evilportal.example.org).
    ([cors_rule(origins=["https://*portal.example.org"])], {"reads"}, "https://evilportal.example.org too"),
    # Local testing allowed with a port wildcard: any local dev server may script against the bucket.
    ([cors_rule(origins=[ORIGIN, "http://localhost:*"])], {"reads"}, "http://localhost:8443 too"),
    ([cors_rule(origins=[ORIGIN, "http://portal.example.org"])], {"reads"}, "http://portal.example.org too"),
    ([cors_rule(methods=["GET", "HEAD"])], {"reads"}, "allows PUT"),
    ([cors_rule(headers=None)], {"reads"}, "request header Content-Type"),
    ([cors_rule(expose=None)], {"reads"}, "does not expose ETag"),
    ([cors_rule(max_age=None)], {"reads"}, "MaxAgeSeconds"),
    # The first matching rule wins: a bare rule for the origin shadows the complete one after it.
    ([cors_rule(expose=None, max_age=None), cors_rule()], {"reads"}, "does not expose ETag"),
    ([cors_rule(origins=["https://portal.example.org/"])], set(), "no CORS rule allows the origin"),
])
def test_cors_lab_near_misses(b, rules, passes, says):
    tasks = cors_tasks(b, *rules)
    assert passing(tasks) == passes
    assert says in tasks["cors"]["feedback"]


def test_logging(b):
    s3, n = b.client("s3"), b.bucket
    logs = f"logs-{b.account_id}"
    s3.create_bucket(Bucket=logs)
    assert "is off" in check(b, "s3.bucket_logging", bucket=n, target_bucket=logs).feedback
    assert not check(b, "s3.log_delivery_allowed", bucket=logs).passed
    s3.put_bucket_policy(Bucket=logs, Policy=_policy(
        {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{logs}/*"}))
    assert check(b, "s3.log_delivery_allowed", bucket=logs).passed
    s3.put_bucket_logging(Bucket=n, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": logs, "TargetPrefix": "s3/"}})
    assert check(b, "s3.bucket_logging", bucket=n, target_bucket=logs, prefix="s3/").passed
    out = check(b, "s3.bucket_logging", bucket=n, target_bucket=logs, prefix="other/")
    assert not out.passed and "prefix s3/" in out.feedback


LOGGING = {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject"}


@pytest.mark.parametrize("statements,passes,says", [
    ([{**LOGGING, "Resource": "arn:aws:s3:::LOGS/s3/SRC/*",
       "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::SRC"}, "StringEquals": {"aws:SourceAccount": "ACCT"}}}],
     True, ""),
    ([{**LOGGING, "Principal": {"Service": ["logging.s3.amazonaws.com"]}, "Action": ["s3:Put*"],
       "Resource": ["arn:aws:s3:::LOGS/s3/*"]}], True, ""),
    # Review-style misses: a public write beside it, the wrong bucket, the wrong SourceArn, another prefix.
    ([{**LOGGING, "Resource": "arn:aws:s3:::LOGS/*"}, {**LOGGING, "Principal": "*", "Resource": "arn:aws:s3:::LOGS/*"}],
     False, "anyone on the internet"),
    ([{**LOGGING, "Resource": "arn:aws:s3:::SRC/*"}], False, "but not under"),
    ([{**LOGGING, "Resource": "arn:aws:s3:::LOGS/*", "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::LOGS"}}}],
     False, "Condition does not hold"),
    ([{**LOGGING, "Resource": "arn:aws:s3:::LOGS/access/*"}], False, "but not under"),
    ([{**LOGGING, "Resource": "arn:aws:s3:::LOGS/*"}, {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                                                        "Resource": "arn:aws:s3:::LOGS/*"}], False, "a Deny"),
])
def test_log_delivery_judged_by_meaning(b, statements, passes, says):
    s3, n = b.client("s3"), b.bucket
    logs = f"logs-{b.account_id}"
    s3.create_bucket(Bucket=logs)
    text = json.dumps({"Version": "2012-10-17", "Statement": statements})
    text = text.replace("LOGS", logs).replace("SRC", n).replace("ACCT", b.account_id)
    s3.put_bucket_policy(Bucket=logs, Policy=text)
    out = check(b, "s3.log_delivery_allowed", bucket=logs, source_bucket=n, prefix=f"s3/{n}/")
    assert out.passed is passes and says in out.feedback, out.feedback


def test_replication(b):
    s3, iam, n = b.client("s3"), b.client("iam"), b.bucket
    dst = f"dst-{b.account_id}"
    s3.create_bucket(Bucket=dst)
    s3.put_bucket_versioning(Bucket=n, VersioningConfiguration={"Status": "Enabled"})
    out = check(b, "s3.replication", bucket=n, destination=dst)
    assert not out.passed and f"versioning is not enabled on {dst}" in out.feedback
    s3.put_bucket_versioning(Bucket=dst, VersioningConfiguration={"Status": "Enabled"})
    assert "no replication configuration" in check(b, "s3.replication", bucket=n, destination=dst).feedback
    arn = iam.create_role(RoleName="repl", AssumeRolePolicyDocument=_policy(
        {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}))["Role"]["Arn"]
    s3.put_bucket_replication(Bucket=n, ReplicationConfiguration={"Role": arn, "Rules": [
        {"ID": "r", "Status": "Enabled", "Priority": 1, "Filter": {}, "DeleteMarkerReplication": {"Status": "Disabled"},
         "Destination": {"Bucket": f"arn:aws:s3:::{dst}"}}]})
    out = check(b, "s3.replication", bucket=n, destination=dst, storage_class="STANDARD_IA")
    assert not out.passed and "not STANDARD_IA" in out.feedback
    assert check(b, "s3.replication", bucket=n, destination=dst).passed
    # The configuration must use the role the task names.
    out = check(b, "s3.replication", bucket=n, destination=dst, role="s3-replication-role")
    assert not out.passed and "uses the role repl, not s3-replication-role" in out.feedback


def _replicate(b, dst, *rules):
    s3, n = b.client("s3"), b.bucket
    for name in (n, dst):
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    arn = b.client("iam").create_role(RoleName="repl", AssumeRolePolicyDocument=_policy(
        {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}))["Role"]["Arn"]
    s3.put_bucket_replication(Bucket=n, ReplicationConfiguration={"Role": arn, "Rules": list(rules)})
    return check(b, "s3.replication", bucket=n, destination=dst, storage_class="STANDARD_IA")


def _repl_rule(dst, priority=1, storage="STANDARD_IA", **filter_):
    return {"ID": f"r{priority}", "Status": "Enabled", "Priority": priority, "Filter": filter_,
            "DeleteMarkerReplication": {"Status": "Disabled"},
            "Destination": {"Bucket": f"arn:aws:s3:::{dst}", "StorageClass": storage}}


def test_replication_must_cover_every_object(b):
    dst = f"dst-{b.account_id}"
    b.client("s3").create_bucket(Bucket=dst)
    out = _replicate(b, dst, _repl_rule(dst, Prefix="exports/"))
    assert not out.passed and "replicates only keys starting with 'exports/'" in out.feedback


def test_replication_highest_priority_rule_decides_the_class(b):
    dst = f"dst-{b.account_id}"
    b.client("s3").create_bucket(Bucket=dst)
    out = _replicate(b, dst, _repl_rule(dst, 1), _repl_rule(dst, 2, storage="STANDARD"))
    assert not out.passed and "as STANDARD, not STANDARD_IA" in out.feedback


def test_replication_higher_priority_narrow_rule_decides_its_objects_class(b):
    """The exports/ rule outranks the whole-bucket one: the order exports would land as STANDARD."""
    dst = f"dst-{b.account_id}"
    b.client("s3").create_bucket(Bucket=dst)
    out = _replicate(b, dst, _repl_rule(dst, 1), _repl_rule(dst, 2, storage="STANDARD", Prefix="exports/"))
    assert not out.passed and "outranks your whole-bucket rule" in out.feedback and "as STANDARD," in out.feedback
    # The same narrow rule storing STANDARD_IA too changes nothing.
    b.client("iam").delete_role(RoleName="repl")
    assert _replicate(b, dst, _repl_rule(dst, 1), _repl_rule(dst, 2, Prefix="exports/")).passed


def test_replication_split_rules_pass(b):
    dst = f"dst-{b.account_id}"
    b.client("s3").create_bucket(Bucket=dst)
    # A narrow rule beside the whole-bucket one, which has the higher priority.
    assert _replicate(b, dst, _repl_rule(dst, 1, storage="STANDARD", Prefix="tmp/"), _repl_rule(dst, 5, Prefix="")).passed


def test_lifecycle(b):
    s3, n = b.client("s3"), b.bucket
    assert "no lifecycle rules" in check(b, "s3.lifecycle_rule", bucket=n).feedback
    rule = {"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
            "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}], "Expiration": {"Days": 365}}
    s3.put_bucket_lifecycle_configuration(Bucket=n, LifecycleConfiguration={"Rules": [rule]})
    assert check(b, "s3.lifecycle_rule", bucket=n, prefix="logs/", transition_class="STANDARD_IA", transition_days=30).passed
    out = check(b, "s3.lifecycle_rule", bucket=n, prefix="logs/", transition_class="STANDARD_IA", transition_days=60)
    assert not out.passed and "reach STANDARD_IA before day 60" in out.feedback
    out = check(b, "s3.lifecycle_rule", bucket=n, prefix="logs/", noncurrent_expiration_days=30)
    assert not out.passed and "NoncurrentVersionExpiration" in out.feedback
    out = check(b, "s3.lifecycle_rule", bucket=n, prefix="tmp/", transition_class="STANDARD_IA")
    assert not out.passed and "not to everything under 'tmp/'" in out.feedback
    rule.update(NoncurrentVersionExpiration={"NoncurrentDays": 30},
                AbortIncompleteMultipartUpload={"DaysAfterInitiation": 7}, Status="Disabled")
    s3.put_bucket_lifecycle_configuration(Bucket=n, LifecycleConfiguration={"Rules": [rule]})
    assert "Disabled" in check(b, "s3.lifecycle_rule", bucket=n, prefix="logs/", noncurrent_expiration_days=30).feedback
    rule["Status"] = "Enabled"
    s3.put_bucket_lifecycle_configuration(Bucket=n, LifecycleConfiguration={"Rules": [rule]})
    assert check(b, "s3.lifecycle_rule", bucket=n, prefix="logs/", noncurrent_expiration_days=30, abort_multipart_days=7).passed


LIFECYCLE_TASKS = {  # the s3-lifecycle lab's checks
    "ia": dict(transition_class="STANDARD_IA", transition_days=30, keep_days=365),
    "glacier": dict(transition_class="GLACIER", transition_days=90, keep_days=365),
    "noncurrent": dict(noncurrent_expiration_days=30),
    "multipart": dict(abort_multipart_days=7),
}
GOOD_RULE = {"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
             "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 90, "StorageClass": "GLACIER"}],
             "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
             "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}


def lifecycle_results(b, *rules):
    b.client("s3").put_bucket_lifecycle_configuration(Bucket=b.bucket, LifecycleConfiguration={"Rules": list(rules)})
    return {name: check(b, "s3.lifecycle_rule", bucket=b.bucket, prefix="logs/", **args)
            for name, args in LIFECYCLE_TASKS.items()}


def _rule(**changes):
    rule = json.loads(json.dumps(GOOD_RULE))
    rule.update(changes)
    return {k: v for k, v in rule.items() if v is not None}


@pytest.mark.parametrize("rules", [
    [GOOD_RULE],
    # The same housekeeping split over two rules; the bucket-wide one covers logs/ too.
    [_rule(NoncurrentVersionExpiration=None, AbortIncompleteMultipartUpload=None),
     {"ID": "everything", "Status": "Enabled", "Filter": {},
      "NoncurrentVersionExpiration": {"NoncurrentDays": 30}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}],
    # Legacy Filter-less Prefix, And with only a prefix, an Expiration after a year.
    [{k: v for k, v in _rule(Prefix="logs/", Expiration={"Days": 365}).items() if k != "Filter"}],
    [_rule(Filter={"And": {"Prefix": "logs/", "ObjectSizeGreaterThan": 0}})],
])
def test_lifecycle_equivalent_configurations_pass(b, rules):
    results = lifecycle_results(b, *rules)
    assert all(r.passed for r in results.values()), {k: r.feedback for k, r in results.items()}


@pytest.mark.parametrize("rules,failing,says", [
    # A second rule for logs/ sends everything to Glacier at once.
    ([GOOD_RULE, {"ID": "cold", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
                  "Transitions": [{"Days": 0, "StorageClass": "GLACIER"}]}], {"ia", "glacier"}, "in GLACIER then"),
    # A tag filter: only tagged logs are managed.
    ([_rule(Filter={"And": {"Prefix": "logs/", "Tags": [{"Key": "tier", "Value": "cold"}]}},
            AbortIncompleteMultipartUpload=None)], set(LIFECYCLE_TASKS), "only to objects tagged tier=cold"),
    # Logs deleted after 60 days: before the Glacier move and long before the auditors' year.
    ([_rule(Expiration={"Days": 60})], {"ia", "glacier"}, "expire after 60 days"),
    # An Expiration on a fixed date deletes December's logs weeks old, not after a year.
    ([_rule(Expiration={"Date": "2027-01-01T00:00:00Z"})], {"ia", "glacier"}, "on the date 2027-01-01"),
    # A narrower prefix leaves most logs alone.
    ([_rule(Filter={"Prefix": "logs/app/"})], set(LIFECYCLE_TASKS), "applies to prefix 'logs/app/'"),
    # Another rule aborts uploads after one day: the shortest wins.
    ([GOOD_RULE, {"ID": "mpu", "Status": "Enabled", "Filter": {}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}],
     {"multipart"}, "after 1 days, not 7"),
])
def test_lifecycle_near_misses(b, rules, failing, says):
    results = lifecycle_results(b, *rules)
    assert {k for k, r in results.items() if not r.passed} == failing
    assert any(says in results[k].feedback for k in failing), {k: results[k].feedback for k in failing}


def test_notifications_and_queue_policy(b):
    s3, sqs, n = b.client("s3"), b.client("sqs"), b.bucket
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert "no access policy" in check(b, "sqs.queue_policy_allows", queue="jobs", service="s3.amazonaws.com").feedback
    open_policy = {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": arn}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": _policy(open_policy)})
    assert check(b, "sqs.queue_policy_allows", queue="jobs", service="s3.amazonaws.com").passed
    out = check(b, "sqs.queue_policy_allows", queue="jobs", service="s3.amazonaws.com", source_arn=f"arn:aws:s3:::{n}")
    assert not out.passed and "any bucket in any account" in out.feedback
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": _policy(
        {**open_policy, "Condition": {"ArnEquals": {"aws:SourceArn": f"arn:aws:s3:::{n}"}}})})
    assert check(b, "sqs.queue_policy_allows", queue="jobs", service="s3.amazonaws.com", source_arn=f"arn:aws:s3:::{n}").passed
    assert "does not exist" in check(b, "sqs.message_received", queue="nope").feedback

    out = check(b, "s3.notification_queue", bucket=n, queue="jobs", event="s3:ObjectCreated:Put")
    assert not out.passed and "sends no events" in out.feedback
    s3.put_bucket_notification_configuration(Bucket=n, NotificationConfiguration={"QueueConfigurations": [
        {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
         "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "images/"}]}}}]})
    out = check(b, "s3.notification_queue", bucket=n, queue="jobs", event="s3:ObjectCreated:Put", prefix="images/", suffix=".jpg")
    assert not out.passed and "also notifies jobs of images/cat.txt" in out.feedback
    out = check(b, "s3.notification_queue", bucket=n, queue="jobs", event="s3:ObjectRemoved:Delete")
    assert not out.passed and "not s3:ObjectRemoved:Delete" in out.feedback
    assert check(b, "s3.notification_queue", bucket=n, queue="jobs", event="s3:ObjectCreated:Put", prefix="images/").passed
    out = check(b, "sqs.message_received", queue="jobs", contains="ObjectCreated")
    assert not out.passed
    s3.put_object(Bucket=n, Key="images/cat.jpg", Body=b"x")
    assert check(b, "sqs.message_received", queue="jobs", contains="ObjectCreated").passed
    assert check(b, "sqs.message_received", queue="jobs", contains="ObjectCreated").passed  # not consumed


def _queue(b, name="thumbs"):
    sqs = b.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _queue_policy_check(b, *statements):
    url, arn = _queue(b)
    b.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": _policy(*[
        {k: (arn if v == "QUEUE" else v) for k, v in s.items()} for s in statements])})
    return check(b, "sqs.queue_policy_allows", queue="thumbs", service="s3.amazonaws.com",
                 source_arn=f"arn:aws:s3:::{b.bucket}")


S3_SENDS = {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": "QUEUE"}


def test_queue_policy_judged_by_meaning(b):
    n = b.bucket
    only_mine = {"ArnEquals": {"aws:SourceArn": f"arn:aws:s3:::{n}"}}
    # Review finding: a second statement open to everyone.
    out = _queue_policy_check(b, {**S3_SENDS, "Condition": only_mine}, {**S3_SENDS, "Principal": "*"})
    assert not out.passed and "anyone in any AWS account" in out.feedback


def test_queue_policy_wildcard_source_arn_fails(b):
    out = _queue_policy_check(b, {**S3_SENDS, "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}}})
    assert not out.passed and "on behalf of" in out.feedback


def test_queue_policy_equivalent_forms_pass(b):
    n = b.bucket
    # "*" principal limited by the source ARN, and the action as sqs:Send* with Resource "*".
    assert _queue_policy_check(b, {"Effect": "Allow", "Principal": "*", "Action": ["sqs:Send*"], "Resource": "*",
                                   "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{n}"},
                                                 "StringEquals": {"aws:SourceAccount": b.account_id}}}).passed


def test_queue_policy_condition_for_another_bucket(b):
    out = _queue_policy_check(b, {**S3_SENDS, "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::photos"}}})
    assert not out.passed and "Condition does not hold" in out.feedback


def _notify(b, *configs):
    _, arn = _queue(b)
    b.client("s3").put_bucket_notification_configuration(Bucket=b.bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, **c} for c in configs]})
    return check(b, "s3.notification_queue", bucket=b.bucket, queue="thumbs", event="s3:ObjectCreated:*",
                 prefix="images/", suffix=".jpg")


def _rules(**rules):
    return {"Key": {"FilterRules": [{"Name": k, "Value": v} for k, v in rules.items()]}}


def test_notification_equivalent_forms_pass(b):
    kinds = ["s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
             "s3:ObjectCreated:CompleteMultipartUpload"]
    assert _notify(b, {"Events": kinds, "Filter": _rules(Suffix=".jpg", Prefix="images/")}).passed


@pytest.mark.parametrize("configs,says", [
    ([{"Events": ["s3:ObjectCreated:Put"], "Filter": _rules(prefix="images/", suffix=".jpg")}], "ObjectCreated:Post"),
    ([{"Events": ["s3:ObjectCreated:*"], "Filter": _rules(prefix="images", suffix=".jpg")}], "images-raw/cat.jpg"),
    ([{"Events": ["s3:ObjectCreated:*"], "Filter": _rules(prefix="images/", suffix="jpg")}], "images/cat_jpg"),
    ([{"Events": ["s3:ObjectCreated:*"], "Filter": _rules(prefix="images/")}], "images/cat.txt"),
    ([{"Events": ["s3:ObjectCreated:*"], "Filter": _rules(prefix="images/", suffix=".jpg")},
      {"Events": ["s3:ObjectCreated:*"], "Filter": _rules(suffix=".png")}], "other/cat"),
    # Multipart uploads and copies in a second configuration that forgot the filter: every key's.
    ([{"Events": ["s3:ObjectCreated:Put", "s3:ObjectCreated:Post"], "Filter": _rules(prefix="images/", suffix=".jpg")},
      {"Events": ["s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectCreated:Copy"]}],
     "also notifies thumbs of other/cat.jpg (s3:ObjectCreated:Copy"),
])
def test_notification_near_misses(b, configs, says):
    out = _notify(b, *configs)
    assert not out.passed and says in out.feedback, out.feedback


def test_s3_event_received_needs_a_real_event_of_an_upload(b):
    s3, sqs, n = b.client("s3"), b.client("sqs"), b.bucket
    url, arn = _queue(b)
    args = dict(queue="thumbs", bucket=n, prefix="images/", suffix=".jpg")
    sqs.send_message(QueueUrl=url, MessageBody="ObjectCreated images/cat.jpg")  # a fake, by hand
    out = check(b, "sqs.s3_event_received", journal=[], **args)
    assert not out.passed and "the s3:TestEvent does not count" in out.feedback
    s3.put_bucket_notification_configuration(Bucket=n, NotificationConfiguration={"QueueConfigurations": [
        {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
    s3.put_object(Bucket=n, Key="images/cat.jpg", Body=b"x")
    assert "never uploaded" in check(b, "sqs.s3_event_received", journal=[], **args).feedback
    journal = [row("PutObject", n, "images/cat.jpg")]
    assert check(b, "sqs.s3_event_received", journal=journal, **args).passed
    assert check(b, "sqs.s3_event_received", journal=journal, **args).passed  # not consumed


def row(action, bucket, key, status=200, source="learner", **params):
    return {"action": action, "service": "s3", "source": source, "status": status, "at": "2026-11-27T00:00:00Z",
            "error_code": "", "params": {"Bucket": bucket, "Key": key, **params}}


def test_multipart(b):
    s3, n, k = b.client("s3"), b.bucket, "v.mp4"
    assert "was started" in check(b, "s3.multipart_started", journal=[], bucket=n, key=k).feedback
    journal = [row("PutObject", n, k)]
    assert "single PutObject" in check(b, "s3.multipart_completed", journal=journal, bucket=n, key=k).feedback
    journal = [row("CreateMultipartUpload", n, k), row("UploadPart", n, k, PartNumber="1")]
    assert check(b, "s3.multipart_started", journal=journal, bucket=n, key=k).passed
    out = check(b, "s3.multipart_completed", journal=journal, bucket=n, key=k, min_parts=1)
    assert not out.passed and "never completed" in out.feedback
    out = check(b, "s3.multipart_completed", journal=journal, bucket=n, key=k, min_parts=2)
    assert not out.passed and "1 part(s)" in out.feedback
    journal += [row("UploadPart", n, k, PartNumber="2"), row("CompleteMultipartUpload", n, k)]
    out = check(b, "s3.multipart_completed", journal=journal, bucket=n, key=k)
    assert not out.passed and "does not read now" in out.feedback
    # An object put in one piece afterwards is not the multipart upload's.
    s3.put_object(Bucket=n, Key=k, Body=b"x")
    out = check(b, "s3.multipart_completed", journal=journal, bucket=n, key=k)
    assert not out.passed and "single-part object" in out.feedback


def _upload_in_parts(s3, bucket, key, sizes, complete_with):
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etags = {i: s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=i, Body=b"x" * size)["ETag"]
             for i, size in enumerate(sizes, 1)}
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": i, "ETag": etags[i]} for i in complete_with]})


def test_multipart_counts_the_parts_of_the_object(b):
    s3, n, k = b.client("s3"), b.bucket, "v.mp4"
    journal = [row("CreateMultipartUpload", n, k), row("UploadPart", n, k, PartNumber="1"),
               row("UploadPart", n, k, PartNumber="2"), row("CompleteMultipartUpload", n, k)]
    # Two parts uploaded, but only the first one listed when completing.
    _upload_in_parts(s3, n, k, [5 * 1024 * 1024, 1024], complete_with=[1])
    out = check(b, "s3.multipart_completed", journal=journal, bucket=n, key=k)
    assert not out.passed and "completed from 1 part(s)" in out.feedback
    _upload_in_parts(s3, n, k, [5 * 1024 * 1024, 1024], complete_with=[1, 2])
    out = check(b, "s3.multipart_completed", journal=journal, bucket=n, key=k)
    assert out.passed and "in 2 parts" in out.feedback


def test_retried_uploads_and_count(b):
    s3, n = b.client("s3"), b.bucket
    assert not check(b, "s3.object_count", bucket=n, prefix="in/", min=2).passed
    for i in (1, 2):
        s3.put_object(Bucket=n, Key=f"in/{i}", Body=b"x")
    assert check(b, "s3.object_count", bucket=n, prefix="in/", min=2).passed
    plain = [row("PutObject", n, "in/1"), row("PutObject", n, "in/2")]
    out = check(b, "s3.retried_uploads", journal=plain, bucket=n, prefix="in/", min=2)
    assert not out.passed and "no retry after SlowDown" in out.feedback
    retried = [row("PutObject", n, "in/1", status=503), row("PutObject", n, "in/1"),
               row("PutObject", n, "in/2", status=503), row("PutObject", n, "in/2")]
    assert check(b, "s3.retried_uploads", journal=retried, bucket=n, prefix="in/", min=2).passed
    gave_up = retried + [row("PutObject", n, "in/3", status=503)]
    out = check(b, "s3.retried_uploads", journal=gave_up, bucket=n, prefix="in/", min=3)
    assert not out.passed and "never retried (in/3" in out.feedback


def test_presigned_get_near_misses(b):
    s3, n = b.client("s3"), b.bucket
    s3.put_object(Bucket=n, Key="r.txt", Body=b"x")
    assert "not been fetched" in check(b, "s3.presigned_get", journal=[], bucket=n, key="r.txt").feedback
    out = check(b, "s3.presigned_get", journal=[row("GetObject", n, "r.txt")], bucket=n, key="r.txt")
    assert not out.passed and "not through a presigned URL" in out.feedback
    out = check(b, "s3.presigned_get", journal=[row("GetObject", n, "r.txt", status=403)], bucket=n, key="r.txt")
    assert not out.passed and "expired" in out.feedback
    out = check(b, "s3.presigned_get", journal=[], bucket=n, key="r.txt", require_private=True)
    assert not out.passed and "Block Public Access" in out.feedback
    # The passing case needs the emulator's presigned counter: tests/sandbox/extensions/test_s3.py.


# --- s3-default-encryption: the object must be under the learner's key -----------------------------------

ENCRYPTION_TASKS = {"key", "default-encryption", "object"}


def encryption_tasks(sb, alias="alias/payroll-abc123"):
    return grade_lab(sb, "s3-default-encryption", bucket=sb.bucket, alias=alias)


def _customer_key(sb, alias="alias/payroll-abc123"):
    meta = sb.client("kms").create_key()["KeyMetadata"]
    sb.client("kms").create_alias(AliasName=alias, TargetKeyId=meta["KeyId"])
    return meta


def _default(sb, key_ref, bucket_key=True):
    sb.client("s3").put_bucket_encryption(Bucket=sb.bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_ref},
         "BucketKeyEnabled": bucket_key}]})


@pytest.mark.parametrize("ref", ["alias", "alias_arn", "key_arn", "key_id"])
def test_default_encryption_lab_accepts_every_way_to_name_the_key(b, ref):
    meta = _customer_key(b)
    key_ref = {"alias": "alias/payroll-abc123", "alias_arn": f"arn:aws:kms:us-east-1:{b.account_id}:alias/payroll-abc123",
               "key_arn": meta["Arn"], "key_id": meta["KeyId"]}[ref]
    _default(b, key_ref)
    b.client("s3").put_object(Bucket=b.bucket, Key="exports/2026-11.csv", Body=b"x")
    assert passing(encryption_tasks(b)) == ENCRYPTION_TASKS


def test_default_encryption_lab_object_under_the_aws_managed_key_fails(b):
    """A plain --sse aws:kms on the upload overrides the default's key with aws/s3: that used to pass."""
    _customer_key(b)
    _default(b, "alias/payroll-abc123")
    b.client("s3").put_object(Bucket=b.bucket, Key="exports/2026-11.csv", Body=b"x", ServerSideEncryption="aws:kms")
    tasks = encryption_tasks(b)
    assert passing(tasks) == {"key", "default-encryption"}
    assert "AWS managed key aws/s3" in tasks["object"]["feedback"]


def test_default_encryption_lab_object_under_another_key_fails(b):
    _customer_key(b)
    other = b.client("kms").create_key()["KeyMetadata"]["KeyId"]
    _default(b, "alias/payroll-abc123")
    b.client("s3").put_object(Bucket=b.bucket, Key="exports/2026-11.csv", Body=b"x", ServerSideEncryption="aws:kms",
                              SSEKMSKeyId=other)
    tasks = encryption_tasks(b)
    assert passing(tasks) == {"key", "default-encryption"}
    assert f"KMS key {other}, not the key behind" in tasks["object"]["feedback"]


def test_default_encryption_lab_upload_before_the_default_fails(b):
    _customer_key(b)
    b.client("s3").put_object(Bucket=b.bucket, Key="exports/2026-11.csv", Body=b"x")
    _default(b, "alias/payroll-abc123")
    tasks = encryption_tasks(b)
    assert passing(tasks) == {"key", "default-encryption"}
    assert "upload it again" in tasks["object"]["feedback"]

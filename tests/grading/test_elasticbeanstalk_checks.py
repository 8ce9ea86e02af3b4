import json

import pytest

from labapp.grading.grader import run_check
from labapp.sandbox.extensions import elasticbeanstalk as eb_extension
from labapp.sandbox.extensions import elasticbeanstalk_platforms

eb_extension.apply()  # the test moto server runs in this process: give it the emulator's Elastic Beanstalk
elasticbeanstalk_platforms.apply()  # and its platforms (ListPlatformVersions, --platform-arn)

STACK = "64bit Amazon Linux 2023 v4.6.0 running Python 3.12"


def check(sb, kind, **args):
    return run_check({"kind": kind, **args}, {}, sb.ctx())


@pytest.fixture
def app(sandbox):
    sandbox.bucket = f"bundles-{sandbox.account_id}"
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket=sandbox.bucket)
    for key in ("app-v1.zip", "app-v2.zip"):
        s3.put_object(Bucket=sandbox.bucket, Key=key, Body=b"zip")
    sandbox.client("elasticbeanstalk").create_application(ApplicationName="shop")
    return sandbox


def version(sb, label, key):
    sb.client("elasticbeanstalk").create_application_version(
        ApplicationName="shop", VersionLabel=label, SourceBundle={"S3Bucket": sb.bucket, "S3Key": key})


def test_application_version(app):
    out = check(app, "elasticbeanstalk.application_version", application="nope", label="v1")
    assert not out.passed and out.feedback == "application nope does not exist"
    args = {"application": "shop", "label": "v1", "bucket": app.bucket, "key": "app-v1.zip"}
    out = check(app, "elasticbeanstalk.application_version", **args)
    assert not out.passed and out.feedback == "shop has no application version v1 (versions: none)"
    version(app, "v1", "app-v2.zip")
    out = check(app, "elasticbeanstalk.application_version", **args)
    assert not out.passed and f"not s3://{app.bucket}/app-v1.zip" in out.feedback
    version(app, "v2", "app-v1.zip")
    assert not check(app, "elasticbeanstalk.application_version", **args).passed
    out = check(app, "elasticbeanstalk.application_version", **{**args, "label": "v2"})
    assert out.passed and out.feedback == f"version v2 of shop comes from s3://{app.bucket}/app-v1.zip"


def test_environment(app):
    eb = app.client("elasticbeanstalk")
    args = {"application": "shop", "name": "shop-prod", "version_label": "v1", "platform_contains": "Python",
            "options": [{"namespace": "aws:elasticbeanstalk:command", "option": "DeploymentPolicy", "value": "Immutable"}]}
    out = check(app, "elasticbeanstalk.environment", **args)
    assert not out.passed and out.feedback == "shop has no running environment named shop-prod"
    version(app, "v1", "app-v1.zip")
    eb.create_environment(ApplicationName="shop", EnvironmentName="shop-prod", SolutionStackName=STACK)
    out = check(app, "elasticbeanstalk.environment", **args)
    assert not out.passed and out.feedback == "environment shop-prod runs version none (the sample app), not v1"
    eb.update_environment(EnvironmentName="shop-prod", VersionLabel="v1")
    out = check(app, "elasticbeanstalk.environment", **args)
    assert not out.passed and "DeploymentPolicy = AllAtOnce, not Immutable" in out.feedback
    eb.update_environment(EnvironmentName="shop-prod", OptionSettings=[
        {"Namespace": "aws:elasticbeanstalk:command", "OptionName": "DeploymentPolicy", "Value": "Immutable"}])
    out = check(app, "elasticbeanstalk.environment", **args)
    assert out.passed and out.feedback == "environment shop-prod is live with version v1"
    out = check(app, "elasticbeanstalk.environment", **{**args, "platform_contains": "Node.js"})
    assert not out.passed and "not a Node.js platform" in out.feedback
    eb.terminate_environment(EnvironmentName="shop-prod")
    assert not check(app, "elasticbeanstalk.environment", **args).passed


def test_environment_started_from_a_saved_configuration(app):
    eb = app.client("elasticbeanstalk")
    version(app, "v1", "app-v1.zip")
    eb.create_configuration_template(ApplicationName="shop", TemplateName="prod", SolutionStackName=STACK, OptionSettings=[
        {"Namespace": "aws:elasticbeanstalk:command", "OptionName": "DeploymentPolicy", "Value": "Immutable"}])
    eb.create_environment(ApplicationName="shop", EnvironmentName="shop-prod", TemplateName="prod", VersionLabel="v1")
    out = check(app, "elasticbeanstalk.environment", application="shop", name="shop-prod", version_label="v1",
                platform_contains="Python 3.12", options=[
                    {"namespace": "aws:elasticbeanstalk:command", "option": "DeploymentPolicy", "value": "Immutable"}])
    assert out.passed, out.feedback


def test_lifecycle_rule(app):
    eb = app.client("elasticbeanstalk")
    args = {"application": "shop", "rule": "max_count", "value": 25, "delete_source_from_s3": False}
    out = check(app, "elasticbeanstalk.lifecycle_rule", **args)
    assert not out.passed and "does not limit versions by a version count (MaxCountRule is not enabled)" in out.feedback
    app.client("iam").create_role(RoleName="aws-elasticbeanstalk-service-role", AssumeRolePolicyDocument=json.dumps({}))
    role = f"arn:aws:iam::{app.account_id}:role/aws-elasticbeanstalk-service-role"

    def rules(count=None, age=None):
        config = {}
        if count:
            config["MaxCountRule"] = {"Enabled": True, "MaxCount": count[0], "DeleteSourceFromS3": count[1]}
        if age:
            config["MaxAgeRule"] = {"Enabled": True, "MaxAgeInDays": age[0], "DeleteSourceFromS3": age[1]}
        eb.update_application_resource_lifecycle(ApplicationName="shop", ResourceLifecycleConfig={
            "ServiceRole": role, "VersionLifecycleConfig": config})

    rules(count=(20, False))
    out = check(app, "elasticbeanstalk.lifecycle_rule", **args)
    assert not out.passed and out.feedback == "shop's MaxCountRule keeps MaxCount = 20, not 25"
    rules(count=(25, True))
    out = check(app, "elasticbeanstalk.lifecycle_rule", **args)
    assert not out.passed and "DeleteSourceFromS3 is true" in out.feedback
    rules(count=(25, False), age=(90, False))
    out = check(app, "elasticbeanstalk.lifecycle_rule", **args)
    assert not out.passed and "MaxAgeRule is enabled too" in out.feedback
    rules(count=(25, False))
    out = check(app, "elasticbeanstalk.lifecycle_rule", **args)
    assert out.passed and out.feedback == "shop keeps versions by MaxCountRule MaxCount=25, DeleteSourceFromS3=false"
    rules(age=(30, True))
    assert check(app, "elasticbeanstalk.lifecycle_rule", application="shop", rule="max_age", value="30").passed
    out = check(app, "elasticbeanstalk.lifecycle_rule", application="shop", rule="max_age", value=30,
                delete_source_from_s3=True)
    assert out.passed
    out = check(app, "elasticbeanstalk.lifecycle_rule", application="shop", rule="max_age", value=30,
                delete_source_from_s3=False)
    assert not out.passed


def test_resource_listers(app):
    from labapp.grading.resources import list_resources

    version(app, "v1", "app-v1.zip")
    app.client("elasticbeanstalk").create_environment(ApplicationName="shop", EnvironmentName="shop-prod",
                                                      SolutionStackName=STACK, VersionLabel="v1")
    tables = list_resources(["elasticbeanstalk.applications", "elasticbeanstalk.application_versions",
                             "elasticbeanstalk.environments", "ecr.repositories", "ecs.clusters",
                             "ecs.task_definitions", "ecs.services", "cloudfront.distributions",
                             "cloudfront.origin_access_controls", "cloudfront.invalidations"], app.client)
    assert [t["error"] for t in tables] == [None] * len(tables)
    assert tables[0]["rows"] == [["shop", "v1", "off"]]
    assert tables[2]["rows"][0][:3] == ["shop-prod", "shop", "v1"]


def test_no_application_version(app):
    version(app, "v1", "app-v1.zip")
    out = check(app, "elasticbeanstalk.no_application_version", application="shop", label="v1")
    assert not out.passed and out.feedback == "version v1 of shop still exists — delete it"
    app.client("elasticbeanstalk").delete_application_version(ApplicationName="shop", VersionLabel="v1")
    out = check(app, "elasticbeanstalk.no_application_version", application="shop", label="v1")
    assert out.passed and out.feedback == "version v1 of shop is gone"
    kept = {"application": "shop", "label": "v1", "bundle_bucket": app.bucket, "bundle_key": "app-v1.zip"}
    out = check(app, "elasticbeanstalk.no_application_version", **kept)
    assert out.passed and out.feedback.endswith(f"s3://{app.bucket}/app-v1.zip is kept")
    version(app, "v2", "app-v2.zip")
    app.client("elasticbeanstalk").delete_application_version(ApplicationName="shop", VersionLabel="v2",
                                                              DeleteSourceBundle=True)
    out = check(app, "elasticbeanstalk.no_application_version", **{**kept, "label": "v2", "bundle_key": "app-v2.zip"})
    assert not out.passed and "but so is its source bundle" in out.feedback


def test_platform_arn_is_the_same_platform(app):
    eb = app.client("elasticbeanstalk")
    arn = eb.list_platform_versions(Filters=[{"Type": "PlatformBranchName", "Operator": "contains",
                                              "Values": ["Python 3.12"]}])["PlatformSummaryList"][0]["PlatformArn"]
    eb.create_environment(ApplicationName="shop", EnvironmentName="shop-prod", PlatformArn=arn)
    out = check(app, "elasticbeanstalk.environment", application="shop", name="shop-prod",
                platform_contains="Python 3.12", tier="WebServer")
    assert out.passed, out.feedback


def test_worker_tier_is_not_a_web_server(app):
    app.client("elasticbeanstalk").create_environment(
        ApplicationName="shop", EnvironmentName="shop-prod", SolutionStackName=STACK,
        Tier={"Name": "Worker", "Type": "SQS/HTTP"})
    out = check(app, "elasticbeanstalk.environment", application="shop", name="shop-prod", tier="WebServer")
    assert not out.passed and out.feedback.startswith("environment shop-prod is a Worker tier environment, not WebServer")


def test_deleting_more_than_the_obsolete_version_fails(app):
    version(app, "old", "app-v1.zip")
    version(app, "current", "app-v2.zip")
    eb = app.client("elasticbeanstalk")
    eb.delete_application_version(ApplicationName="shop", VersionLabel="old")
    args = dict(application="shop", label="old", keep_labels=["current"])
    assert check(app, "elasticbeanstalk.no_application_version", **args).passed
    eb.delete_application(ApplicationName="shop")
    eb.create_application(ApplicationName="shop")
    out = check(app, "elasticbeanstalk.no_application_version", **args)
    assert not out.passed and out.feedback == ("version old is gone, but so is current — only the obsolete version "
                                               "was to be removed")

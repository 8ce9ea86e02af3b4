"""Elastic Beanstalk extension (labapp/sandbox/extensions/elasticbeanstalk.py) through the real emulator and
gateway, with the real AWS CLI and boto3: application versions, environment updates, configuration
settings, termination, CNAME swaps, lifecycle settings and events."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.sandbox.helpers import make_sandbox

AWS_CLI = str(Path(__file__).resolve().parents[3] / ".venv" / "bin" / "aws")
STACK = "64bit Amazon Linux 2023 v4.6.0 running Python 3.12"
pytestmark = pytest.mark.django_db(transaction=True)


def aws(box, *args, ok=True):
    result = subprocess.run(
        [AWS_CLI, "--endpoint-url", box.gateway_url, "--output", "json", *args],
        env=box.cli_env({k: v for k, v in os.environ.items() if not k.startswith("AWS_")}),
        capture_output=True, text=True, timeout=120,
    )
    if not ok:
        assert result.returncode != 0, f"aws {' '.join(args)} should have failed"
        return result.stderr
    assert result.returncode == 0, f"aws {' '.join(args)}: {result.stderr}"
    return json.loads(result.stdout) if result.stdout.strip() else {}


@pytest.fixture
def box(sandbox_stack):
    box = make_sandbox(sandbox_stack.url)
    box.bucket = f"eb-bundles-{box.account_id}"
    s3 = box.client("s3")
    s3.create_bucket(Bucket=box.bucket)
    for key in ("app-v1.zip", "app-v2.zip", "app-v3.zip"):
        s3.put_object(Bucket=box.bucket, Key=key, Body=b"PK\x05\x06" + b"\0" * 18)
    return box


def keys(box):
    return sorted(o["Key"] for o in box.client("s3").list_objects_v2(Bucket=box.bucket).get("Contents", []))


def test_versions_environment_update_and_configuration_with_the_cli(box):
    aws(box, "elasticbeanstalk", "create-application", "--application-name", "shop", "--description", "demo")
    err = aws(box, "elasticbeanstalk", "create-application-version", "--application-name", "shop",
              "--version-label", "v0", "--source-bundle", f"S3Bucket={box.bucket},S3Key=missing.zip", ok=False)
    assert "InvalidParameterCombination" in err and "Unable to download from S3 location" in err
    v1 = aws(box, "elasticbeanstalk", "create-application-version", "--application-name", "shop",
             "--version-label", "v1", "--source-bundle", f"S3Bucket={box.bucket},S3Key=app-v1.zip")["ApplicationVersion"]
    assert v1["VersionLabel"] == "v1" and v1["SourceBundle"] == {"S3Bucket": box.bucket, "S3Key": "app-v1.zip"}
    assert v1["ApplicationVersionArn"].endswith(f":{box.account_id}:applicationversion/shop/v1")
    err = aws(box, "elasticbeanstalk", "create-application-version", "--application-name", "shop",
              "--version-label", "v1", ok=False)
    assert "already exists" in err
    aws(box, "elasticbeanstalk", "create-application-version", "--application-name", "shop",
        "--version-label", "v2", "--source-bundle", f"S3Bucket={box.bucket},S3Key=app-v2.zip")
    listed = aws(box, "elasticbeanstalk", "describe-application-versions", "--application-name", "shop")
    assert [v["VersionLabel"] for v in listed["ApplicationVersions"]] == ["v2", "v1"]
    assert aws(box, "elasticbeanstalk", "describe-applications")["Applications"][0]["Versions"] == ["v2", "v1"]

    env = aws(box, "elasticbeanstalk", "create-environment", "--application-name", "shop",
              "--environment-name", "shop-prod", "--solution-stack-name", STACK, "--version-label", "v1",
              "--option-settings", "Namespace=aws:autoscaling:asg,OptionName=MinSize,Value=2")
    assert env["EnvironmentId"].startswith("e-") and env["CNAME"] == "shop-prod.us-east-1.elasticbeanstalk.com"
    assert env["VersionLabel"] == "v1" and env["SolutionStackName"] == STACK
    err = aws(box, "elasticbeanstalk", "update-environment", "--environment-name", "shop-prod",
              "--version-label", "v9", ok=False)
    assert "No Application Version named 'v9'" in err
    updated = aws(box, "elasticbeanstalk", "update-environment", "--environment-name", "shop-prod",
                  "--version-label", "v2", "--option-settings",
                  "Namespace=aws:elasticbeanstalk:command,OptionName=DeploymentPolicy,Value=Immutable")
    assert updated["VersionLabel"] == "v2"
    err = aws(box, "elasticbeanstalk", "update-environment", "--environment-name", "shop-prod", "--option-settings",
              "Namespace=aws:elasticbeanstalk:command,OptionName=DeploymentPolicy,Value=Sideways", ok=False)
    assert "Value is not one of" in err
    settings = aws(box, "elasticbeanstalk", "describe-configuration-settings", "--application-name", "shop",
                   "--environment-name", "shop-prod")["ConfigurationSettings"][0]
    options = {(o["Namespace"], o["OptionName"]): o["Value"] for o in settings["OptionSettings"]}
    assert options[("aws:elasticbeanstalk:command", "DeploymentPolicy")] == "Immutable"
    assert options[("aws:autoscaling:asg", "MinSize")] == "2"
    assert options[("aws:autoscaling:asg", "MaxSize")] == "4"  # a default
    described = aws(box, "elasticbeanstalk", "describe-environments", "--environment-names", "shop-prod")
    assert [e["VersionLabel"] for e in described["Environments"]] == ["v2"]

    err = aws(box, "elasticbeanstalk", "delete-application-version", "--application-name", "shop",
              "--version-label", "v2", ok=False)
    assert "being used by environment(s): shop-prod" in err
    aws(box, "elasticbeanstalk", "delete-application-version", "--application-name", "shop", "--version-label", "v1",
        "--delete-source-bundle")
    assert keys(box) == ["app-v2.zip", "app-v3.zip"]

    messages = [e["Message"] for e in aws(box, "elasticbeanstalk", "describe-events", "--application-name", "shop",
                                          "--environment-name", "shop-prod")["Events"]]
    assert messages[0] == "Environment update completed successfully." and "Deploying new version v2 to instance(s)." in messages


def test_terminate_and_swap_cnames_with_boto3(box):
    eb = box.client("elasticbeanstalk")
    eb.create_application(ApplicationName="shop")
    blue = eb.create_environment(ApplicationName="shop", EnvironmentName="shop-blue", SolutionStackName=STACK)
    green = eb.create_environment(ApplicationName="shop", EnvironmentName="shop-green", SolutionStackName=STACK)
    eb.swap_environment_cnames(SourceEnvironmentName="shop-blue", DestinationEnvironmentName="shop-green")
    cnames = {e["EnvironmentName"]: e["CNAME"] for e in eb.describe_environments()["Environments"]}
    assert cnames == {"shop-blue": green["CNAME"], "shop-green": blue["CNAME"]}
    assert eb.terminate_environment(EnvironmentId=blue["EnvironmentId"])["Status"] == "Terminating"
    statuses = {e["EnvironmentName"]: e["Status"] for e in eb.describe_environments()["Environments"]}
    assert statuses == {"shop-blue": "Terminated", "shop-green": "Ready"}
    live = eb.describe_environments(IncludeDeleted=False)["Environments"]
    assert [e["EnvironmentName"] for e in live] == ["shop-green"]
    with pytest.raises(ClientError, match="is terminated|No Environment"):
        eb.update_environment(EnvironmentName="shop-blue", Description="x")
    # The name is free again after termination.
    eb.create_environment(ApplicationName="shop", EnvironmentName="shop-blue", SolutionStackName=STACK,
                          CNAMEPrefix="shop-blue-2")
    with pytest.raises(ClientError, match="No Solution Stack named"):
        eb.create_environment(ApplicationName="shop", EnvironmentName="shop-x", SolutionStackName="Windows 95")


def test_saved_configuration_starts_an_environment(box):
    eb = box.client("elasticbeanstalk")
    eb.create_application(ApplicationName="shop")
    immutable = {"Namespace": "aws:elasticbeanstalk:command", "OptionName": "DeploymentPolicy", "Value": "Immutable"}
    saved = eb.create_configuration_template(ApplicationName="shop", TemplateName="prod", SolutionStackName=STACK,
                                             OptionSettings=[immutable])
    assert (saved["TemplateName"], saved["SolutionStackName"]) == ("prod", STACK) and immutable in saved["OptionSettings"]
    with pytest.raises(ClientError, match="already exists"):
        eb.create_configuration_template(ApplicationName="shop", TemplateName="prod", SolutionStackName=STACK)
    assert eb.describe_applications()["Applications"][0]["ConfigurationTemplates"] == ["prod"]
    settings = eb.describe_configuration_settings(ApplicationName="shop", TemplateName="prod")["ConfigurationSettings"]
    assert immutable in settings[0]["OptionSettings"]
    env = eb.create_environment(ApplicationName="shop", EnvironmentName="shop-prod", TemplateName="prod")
    assert env["SolutionStackName"] == STACK
    settings = eb.describe_configuration_settings(ApplicationName="shop", EnvironmentName="shop-prod")
    assert immutable in settings["ConfigurationSettings"][0]["OptionSettings"]
    # A template saved from the running environment carries its settings; deleting one leaves the others.
    eb.create_configuration_template(ApplicationName="shop", TemplateName="copy", EnvironmentId=env["EnvironmentId"])
    eb.delete_configuration_template(ApplicationName="shop", TemplateName="prod")
    copy = eb.describe_configuration_settings(ApplicationName="shop", TemplateName="copy")["ConfigurationSettings"][0]
    assert immutable in copy["OptionSettings"]
    with pytest.raises(ClientError, match="No Configuration Template named 'shop/prod'"):
        eb.create_environment(ApplicationName="shop", EnvironmentName="shop-qa", TemplateName="prod")


def test_lifecycle_settings_are_stored_and_applied(box):
    eb = box.client("elasticbeanstalk")
    eb.create_application(ApplicationName="shop")
    default = eb.describe_applications(ApplicationNames=["shop"])["Applications"][0]["ResourceLifecycleConfig"]
    assert default["VersionLifecycleConfig"]["MaxCountRule"] == {"Enabled": False, "MaxCount": 200,
                                                                "DeleteSourceFromS3": False}
    rule = {"MaxCountRule": {"Enabled": True, "MaxCount": 2, "DeleteSourceFromS3": True}}
    with pytest.raises(ClientError, match="ServiceRole is required"):
        eb.update_application_resource_lifecycle(ApplicationName="shop",
                                                 ResourceLifecycleConfig={"VersionLifecycleConfig": rule})
    role = f"arn:aws:iam::{box.account_id}:role/aws-elasticbeanstalk-service-role"
    with pytest.raises(ClientError, match="does not exist"):
        eb.update_application_resource_lifecycle(ApplicationName="shop", ResourceLifecycleConfig={
            "ServiceRole": role, "VersionLifecycleConfig": rule})
    box.client("iam").create_role(RoleName="aws-elasticbeanstalk-service-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "elasticbeanstalk.amazonaws.com"}}]}))
    out = aws(box, "elasticbeanstalk", "update-application-resource-lifecycle", "--application-name", "shop",
              "--resource-lifecycle-config", json.dumps({"ServiceRole": role, "VersionLifecycleConfig": rule}))
    assert out["ResourceLifecycleConfig"]["VersionLifecycleConfig"]["MaxCountRule"]["MaxCount"] == 2
    stored = eb.describe_applications()["Applications"][0]["ResourceLifecycleConfig"]
    assert stored == {"ServiceRole": role, "VersionLifecycleConfig": rule}
    for n in (1, 2, 3):
        eb.create_application_version(ApplicationName="shop", VersionLabel=f"v{n}",
                                      SourceBundle={"S3Bucket": box.bucket, "S3Key": f"app-v{n}.zip"})
    labels = [v["VersionLabel"] for v in eb.describe_application_versions(ApplicationName="shop")["ApplicationVersions"]]
    assert labels == ["v3", "v2"]
    assert keys(box) == ["app-v2.zip", "app-v3.zip"]  # DeleteSourceFromS3 removed v1's bundle
    # Later updates keep the role; an age rule without a bundle deletion is stored as given.
    eb.update_application_resource_lifecycle(ApplicationName="shop", ResourceLifecycleConfig={
        "VersionLifecycleConfig": {"MaxAgeRule": {"Enabled": True, "MaxAgeInDays": 30, "DeleteSourceFromS3": False}}})
    stored = eb.describe_applications()["Applications"][0]["ResourceLifecycleConfig"]
    assert stored["ServiceRole"] == role and stored["VersionLifecycleConfig"]["MaxAgeRule"]["MaxAgeInDays"] == 30
    events = eb.describe_events(ApplicationName="shop", MaxRecords=50)["Events"]
    assert any("deleted by the application version lifecycle policy" in e["Message"] for e in events)

"""Elastic Beanstalk platforms (labapp/sandbox/extensions/elasticbeanstalk_platforms.py) through the real
emulator and gateway: platform versions are listed and described, and --platform-arn creates an environment
on that platform (an unknown ARN, or an ARN with a solution stack name, is refused)."""

from __future__ import annotations

import pytest

from tests.sandbox.helpers import make_sandbox

pytestmark = pytest.mark.django_db(transaction=True)

STACK = "64bit Amazon Linux 2023 v4.6.0 running Python 3.12"
ARN = "arn:aws:elasticbeanstalk:us-east-1::platform/Python 3.12 running on 64bit Amazon Linux 2023/4.6.0"


def test_platform_versions_and_platform_arn(sandbox_stack):
    eb = make_sandbox(sandbox_stack.url).client("elasticbeanstalk")
    found = eb.list_platform_versions(Filters=[{"Type": "PlatformBranchName", "Operator": "contains",
                                                "Values": ["Python 3.12"]}])["PlatformSummaryList"]
    assert [p["PlatformArn"] for p in found] == [ARN]
    assert eb.describe_platform_version(PlatformArn=ARN)["PlatformDescription"]["SolutionStackName"] == STACK
    eb.create_application(ApplicationName="shop")
    made = eb.create_environment(ApplicationName="shop", EnvironmentName="shop-prod", PlatformArn=ARN)
    assert (made["SolutionStackName"], made["PlatformArn"]) == (STACK, ARN)
    with pytest.raises(eb.exceptions.ClientError, match="No Platform named"):
        eb.create_environment(ApplicationName="shop", EnvironmentName="other", PlatformArn=ARN + "9")
    with pytest.raises(eb.exceptions.ClientError, match="InvalidParameterCombination"):
        eb.create_environment(ApplicationName="shop", EnvironmentName="other", PlatformArn=ARN, SolutionStackName=STACK)
    eb.create_environment(ApplicationName="shop", EnvironmentName="by-stack", SolutionStackName=STACK)
    envs = {e["EnvironmentName"]: e for e in eb.describe_environments(ApplicationName="shop")["Environments"]}
    assert envs["by-stack"]["PlatformArn"] == ARN and envs["shop-prod"]["SolutionStackName"] == STACK

"""Elastic Beanstalk platforms: ListPlatformVersions, DescribePlatformVersion and `--platform-arn`.

moto 5.2.5 knows solution stacks only: ListPlatformVersions and DescribePlatformVersion answered 500, and an
environment created with `--platform-arn` (what current AWS guidance teaches instead of a hard-coded solution
stack name) had no solution stack and accepted any ARN. Here every solution stack moto lists is also a
platform version, with the ARN AWS gives it:

    64bit Amazon Linux 2023 v4.6.0 running Python 3.12
    arn:aws:elasticbeanstalk:<region>::platform/Python 3.12 running on 64bit Amazon Linux 2023/4.6.0

CreateEnvironment and UpdateEnvironment accept a known PlatformArn (any Region in the ARN, as the platform
name and version identify it), refuse an unknown one and refuse it together with a SolutionStackName (as
AWS does), and record the matching solution stack name as well; an environment created from a solution
stack name shows its platform ARN too, as on AWS.
"""

from __future__ import annotations

import functools
import re

_STACK = re.compile(r"^(?P<os>.+?) v(?P<version>[0-9][0-9.]*) running (?P<name>.+)$")
_ARN = re.compile(r"^arn:aws[a-z-]*:elasticbeanstalk:[a-z0-9-]*:[0-9]*:platform/(?P<path>.+)$")


def platform_of(stack: str) -> dict | None:
    match = _STACK.match(stack)
    if not match:
        return None
    branch = f"{match['name']} running on {match['os']}"
    return {"branch": branch, "version": match["version"], "path": f"{branch}/{match['version']}",
            "os": match["os"], "stack": stack}


def platform_arn(region: str, platform: dict) -> str:
    return f"arn:aws:elasticbeanstalk:{region}::platform/{platform['path']}"


def _matches(value: str, operator: str, wanted: list[str]) -> bool:
    tests = {"=": lambda w: value == w, "!=": lambda w: value != w, "contains": lambda w: w in value,
             "begins_with": lambda w: value.startswith(w), "ends_with": lambda w: value.endswith(w)}
    test = tests.get(operator or "=", tests["="])
    if operator == "!=":
        return all(test(w) for w in wanted)
    return any(test(w) for w in wanted)


def apply() -> None:
    from moto.core.responses import ActionResult
    from moto.elasticbeanstalk import responses as eb_responses
    from moto.elasticbeanstalk.exceptions import InvalidParameterValueError

    from . import elasticbeanstalk

    elasticbeanstalk.apply()  # this module wraps its CreateEnvironment and UpdateEnvironment
    response_cls = eb_responses.EBResponse
    if getattr(response_cls.create_environment, "_lab_platforms", False):
        return

    class InvalidParameterCombination(InvalidParameterValueError):
        code = "InvalidParameterCombination"

    def platforms() -> list[dict]:
        found = [platform_of(s["SolutionStackName"]) for s in eb_responses.SOLUTION_STACK_DETAILS]
        return [p for p in found if p]

    def summary(self, platform: dict) -> dict:
        return {
            "PlatformArn": platform_arn(self.region, platform), "PlatformOwner": "AWSElasticBeanstalk",
            "PlatformStatus": "Ready", "PlatformCategory": "Standard", "OperatingSystemName": platform["os"],
            "SupportedTierList": ["WebServer/Standard", "Worker/SQS/HTTP"], "PlatformLifecycleState": "Recommended",
            "PlatformVersion": platform["version"], "PlatformBranchName": platform["branch"],
            "PlatformBranchLifecycleState": "Supported",
        }

    def resolve(arn: str) -> dict:
        match = _ARN.match(arn or "")
        found = [p for p in platforms() if match and p["path"] == match["path"]]
        if not found:
            raise InvalidParameterValueError(f"No Platform named '{arn}' found.")
        return found[0]

    def list_platform_versions(self):
        rows = [summary(self, p) for p in platforms()]
        fields = {"PlatformName": "PlatformBranchName", "PlatformBranchName": "PlatformBranchName",
                  "PlatformVersion": "PlatformVersion", "PlatformStatus": "PlatformStatus",
                  "PlatformOwner": "PlatformOwner", "OperatingSystemName": "OperatingSystemName",
                  "PlatformLifecycleState": "PlatformLifecycleState"}
        for flt in self._get_param("Filters") or []:
            field = fields.get(flt.get("Type"))
            if field:
                rows = [r for r in rows if _matches(r[field], flt.get("Operator"), flt.get("Values") or [])]
        return ActionResult({"PlatformSummaryList": rows})

    def describe_platform_version(self):
        platform = resolve(self._get_param("PlatformArn"))
        description = summary(self, platform) | {"PlatformName": platform["branch"],
                                                 "SolutionStackName": platform["stack"]}
        return ActionResult({"PlatformDescription": description})

    def with_platform(original):
        @functools.wraps(original)
        def handler(self):
            arn = self._get_param("PlatformArn")
            if arn:
                if self._get_param("SolutionStackName"):
                    raise InvalidParameterCombination(
                        "You cannot specify both a SolutionStackName and a PlatformArn; choose one.")
                self.params["SolutionStackName"] = resolve(arn)["stack"]
            result = original(self)
            stack = self._get_param("SolutionStackName")
            platform = platform_of(stack) if stack else None
            if platform:
                env = next(e for app in self.elasticbeanstalk_backend.applications.values()
                           for e in app.environments.values()
                           if e.environment_name == (self._get_param("EnvironmentName") or e.environment_name)
                           and (not self._get_param("EnvironmentId")
                                or e.environment_id == self._get_param("EnvironmentId")))
                env._lab_platform_arn = arn or platform_arn(self.region, platform)
                if isinstance(result.result, dict):
                    result.result["PlatformArn"] = env._lab_platform_arn
            return result

        handler._lab_platforms = True
        return handler

    response_cls.list_platform_versions = list_platform_versions
    response_cls.describe_platform_version = describe_platform_version
    response_cls.create_environment = with_platform(response_cls.create_environment)
    response_cls.update_environment = with_platform(response_cls.update_environment)

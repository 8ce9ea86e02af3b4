"""Elastic Beanstalk check kinds: application versions from S3, environments (version, platform, option
settings) and the application version lifecycle policy. The emulator's Elastic Beanstalk comes from
labapp/sandbox/extensions/elasticbeanstalk.py."""

from __future__ import annotations

from . import Check, CheckFailed, failed, passed, register, schema, string

APP = string("application name (usually {{ app }})")


def find_application(ctx, name: str) -> dict:
    apps = ctx.client("elasticbeanstalk").describe_applications(ApplicationNames=[name]).get("Applications") or []
    if not apps:
        raise CheckFailed(f"application {name} does not exist")
    return apps[0]


@register("elasticbeanstalk.application_version")
class ApplicationVersion(Check):
    description = "The application has a version with this label, built from the given S3 source bundle."
    params_schema = schema(
        {"application": APP, "label": string("version label"), "bucket": string("source bundle bucket"),
         "key": string("source bundle key")},
        ["application", "label"],
    )

    def run(self, ctx, *, application: str, label, bucket=None, key=None):
        find_application(ctx, application)
        versions = ctx.client("elasticbeanstalk").describe_application_versions(
            ApplicationName=application).get("ApplicationVersions") or []
        match = [v for v in versions if v.get("VersionLabel") == label]
        if not match:
            labels = ", ".join(v["VersionLabel"] for v in versions) or "none"
            return failed(f"{application} has no application version {label} (versions: {labels})")
        bundle = match[0].get("SourceBundle") or {}
        if bucket and bundle.get("S3Bucket") != bucket:
            return failed(f"version {label} was made from bucket {bundle.get('S3Bucket') or 'no bundle'}, not {bucket}")
        if key and bundle.get("S3Key") != key:
            return failed(f"version {label} was made from s3://{bundle.get('S3Bucket')}/{bundle.get('S3Key')}, "
                          f"not s3://{bucket or bundle.get('S3Bucket')}/{key}")
        return passed(f"version {label} of {application} comes from s3://{bundle.get('S3Bucket')}/{bundle.get('S3Key')}")


OPTION = {
    "type": "object", "additionalProperties": False, "required": ["namespace", "option", "value"],
    "properties": {"namespace": {"type": "string"}, "option": {"type": "string"}, "value": {"type": "string"}},
}


@register("elasticbeanstalk.environment")
class Environment(Check):
    description = ("A live (not terminated) environment of the application, optionally running a version label, "
                   "on a platform whose name contains a word, with given option settings.")
    params_schema = schema(
        {"application": APP, "name": string("environment name"), "version_label": string("deployed version"),
         "platform_contains": string("text the solution stack name (or platform ARN) must contain, e.g. Python"),
         "tier": {"enum": ["WebServer", "Worker"], "description": "environment tier"},
         "options": {"type": "array", "items": OPTION, "description": "option settings the environment must have"}},
        ["application", "name"],
    )

    def run(self, ctx, *, application, name, version_label=None, platform_contains=None, options=None, tier=None):
        eb = ctx.client("elasticbeanstalk")
        envs = eb.describe_environments(ApplicationName=application, EnvironmentNames=[name],
                                        IncludeDeleted=False).get("Environments") or []
        live = [e for e in envs if e.get("Status") not in ("Terminated", "Terminating")]
        if not live:
            return failed(f"{application} has no running environment named {name}")
        env = live[0]
        if version_label and env.get("VersionLabel") != version_label:
            return failed(f"environment {name} runs version {env.get('VersionLabel') or 'none (the sample app)'}, "
                          f"not {version_label}")
        if tier and (env.get("Tier") or {}).get("Name", "WebServer") != tier:
            return failed(f"environment {name} is a {(env.get('Tier') or {}).get('Name')} tier environment, not "
                          f"{tier} — the tier is chosen at creation; create a new {tier} environment")
        # --solution-stack-name and --platform-arn name the same platform in two spellings.
        stack = env.get("SolutionStackName") or ""
        platform = env.get("PlatformArn") or ""
        if platform_contains and not any(platform_contains.lower() in text.lower() for text in (stack, platform)):
            return failed(f"environment {name} runs on '{stack or platform or 'no platform'}', not a "
                          f"{platform_contains} platform")
        if options:
            settings = eb.describe_configuration_settings(ApplicationName=application, EnvironmentName=name)
            have = {(o.get("Namespace"), o.get("OptionName")): o.get("Value")
                    for o in settings["ConfigurationSettings"][0].get("OptionSettings") or []}
            for want in options:
                got = have.get((want["namespace"], want["option"]))
                if got != want["value"]:
                    return failed(f"environment {name} has {want['namespace']} {want['option']} = {got or 'unset'}, "
                                  f"not {want['value']}")
        return passed(f"environment {name} is live" + (f" with version {version_label}" if version_label else ""))


@register("elasticbeanstalk.lifecycle_rule")
class LifecycleRule(Check):
    description = ("The application's version lifecycle policy has this rule enabled with this limit, the other "
                   "rule disabled, and the given DeleteSourceFromS3 choice.")
    params_schema = schema(
        {"application": APP, "rule": {"enum": ["max_count", "max_age"]},
         "value": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": "^([0-9]+|\\{\\{ *[A-Za-z_][A-Za-z0-9_]* *\\}\\})$"}],
                   "description": "MaxCount, or MaxAgeInDays (a number, or a templated parameter such as {{ keep }})"},
         "delete_source_from_s3": {"type": "boolean"}},
        ["application", "rule", "value"],
    )

    def run(self, ctx, *, application: str, rule, value, delete_source_from_s3=None):
        value = int(value)
        app = find_application(ctx, application)
        config = app.get("ResourceLifecycleConfig") or {}
        lifecycle = config.get("VersionLifecycleConfig") or {}
        key, size, other, words = (
            ("MaxCountRule", "MaxCount", "MaxAgeRule", "a version count") if rule == "max_count"
            else ("MaxAgeRule", "MaxAgeInDays", "MaxCountRule", "an age in days"))
        given = lifecycle.get(key) or {}
        if not given.get("Enabled"):
            return failed(f"{application}'s lifecycle policy does not limit versions by {words} ({key} is not enabled)")
        if given.get(size) != value:
            return failed(f"{application}'s {key} keeps {size} = {given.get(size)}, not {value}")
        if (lifecycle.get(other) or {}).get("Enabled"):
            return failed(f"{application}'s {other} is enabled too — use only the {key}")
        if delete_source_from_s3 is not None and bool(given.get("DeleteSourceFromS3")) != delete_source_from_s3:
            if delete_source_from_s3:
                return failed("old versions' source bundles would stay in S3 — set DeleteSourceFromS3 to true")
            return failed("DeleteSourceFromS3 is true: old source bundles would be deleted from S3, but they must "
                          "be kept")
        return passed(f"{application} keeps versions by {key} {size}={value}"
                      + (f", DeleteSourceFromS3={str(bool(given.get('DeleteSourceFromS3'))).lower()}"))


@register("elasticbeanstalk.no_application_version")
class NoApplicationVersion(Check):
    description = ("The application exists and no longer has a version with this label; optionally its source "
                   "bundle must still be in S3.")
    params_schema = schema({"application": APP, "label": string("version label that must be gone"),
                            "bundle_bucket": string("bucket of a source bundle that must have been kept"),
                            "bundle_key": string("key of that source bundle"),
                            "keep_labels": {"type": "array", "items": {"type": "string"},
                                            "description": "versions that must still exist (nothing else was lost)"}},
                           ["application", "label"])

    def run(self, ctx, *, application: str, label, bundle_bucket=None, bundle_key=None, keep_labels=None):
        find_application(ctx, application)
        versions = ctx.client("elasticbeanstalk").describe_application_versions(
            ApplicationName=application).get("ApplicationVersions") or []
        labels = {v.get("VersionLabel") for v in versions}
        if label in labels:
            return failed(f"version {label} of {application} still exists — delete it")
        lost = [k for k in keep_labels or [] if k not in labels]
        if lost:
            return failed(f"version {label} is gone, but so {'is' if len(lost) == 1 else 'are'} {', '.join(lost)} — "
                          "only the obsolete version was to be removed")
        if bundle_bucket and bundle_key:
            from .s3 import object_reads

            if not object_reads(ctx, bundle_bucket, bundle_key):
                return failed(f"version {label} is gone, but so is its source bundle s3://{bundle_bucket}/{bundle_key} "
                              "— it had to be kept (delete the version without deleting the bundle)")
            return passed(f"version {label} of {application} is gone; s3://{bundle_bucket}/{bundle_key} is kept")
        return passed(f"version {label} of {application} is gone")

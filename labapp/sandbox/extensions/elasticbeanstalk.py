"""Elastic Beanstalk beyond moto's seven operations.

moto 5.2.5 creates applications and environments and nothing more: application versions, environment
updates, configuration settings, termination, lifecycle settings and events are NotImplemented. This
module adds them as a control plane (nothing is deployed, no instance runs):

- CreateApplicationVersion (the S3 source bundle must exist in the caller's account, as on AWS),
  DescribeApplicationVersions, DeleteApplicationVersion (optionally deleting the bundle from S3;
  refused while an environment runs the version), UpdateApplicationVersion (description).
- CreateApplication / UpdateApplication / DescribeApplications with Description, Versions and
  ResourceLifecycleConfig; UpdateApplicationResourceLifecycle (the service role is required the first
  time, and must exist in IAM).
- CreateEnvironment with VersionLabel, OptionSettings, CNAMEPrefix, Description, Tier; a real-looking
  EnvironmentId, CNAME and endpoint. DescribeEnvironments filters (ApplicationName, EnvironmentNames,
  EnvironmentIds, VersionLabel, IncludeDeleted). UpdateEnvironment (VersionLabel, OptionSettings,
  OptionsToRemove, Description, SolutionStackName), DescribeConfigurationSettings,
  TerminateEnvironment, SwapEnvironmentCNAMEs.
- DescribeEvents: what the operations above did, newest first.
- Saved configurations: CreateConfigurationTemplate (from a platform, another template or an environment,
  with OptionSettings), DescribeConfigurationSettings and DeleteConfigurationTemplate for them, and
  CreateEnvironment --template-name starting from one (moto answered 500 to all of these).
- The version lifecycle policy is applied when a new version is created, as Elastic Beanstalk does:
  versions beyond MaxCount, or older than MaxAgeInDays, are deleted (never one an environment runs),
  and their bundles too when DeleteSourceFromS3 is true.
"""

from __future__ import annotations

import secrets
import string
from datetime import timedelta
from typing import Any

_applied = False

# Defaults shown by DescribeConfigurationSettings when the learner has not set the option.
DEFAULT_OPTIONS = (
    ("aws:elasticbeanstalk:command", "DeploymentPolicy", "AllAtOnce"),
    ("aws:elasticbeanstalk:command", "BatchSizeType", "Percentage"),
    ("aws:elasticbeanstalk:command", "BatchSize", "100"),
    ("aws:elasticbeanstalk:command", "Timeout", "600"),
    ("aws:elasticbeanstalk:environment", "EnvironmentType", "LoadBalanced"),
    ("aws:elasticbeanstalk:environment", "LoadBalancerType", "application"),
    ("aws:autoscaling:asg", "MinSize", "1"),
    ("aws:autoscaling:asg", "MaxSize", "4"),
    ("aws:ec2:instances", "InstanceTypes", "t3.micro, t3.small"),
    ("aws:elasticbeanstalk:healthreporting:system", "SystemType", "enhanced"),
)


def _now():
    from moto.core.utils import utcnow

    return utcnow()


def _env_id() -> str:
    return "e-" + "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(10))


class _State:
    """Per account-region extension state, kept on moto's EBBackend instance."""

    def __init__(self) -> None:
        self.versions: dict[str, dict[str, dict]] = {}  # app -> label -> version
        self.lifecycle: dict[str, dict] = {}  # app -> ResourceLifecycleConfig
        self.descriptions: dict[str, str] = {}
        self.created: dict[str, Any] = {}
        self.terminated: list[Any] = []  # terminated Environment objects (shown with IncludeDeleted)
        self.events: list[dict] = []
        self.templates: dict[str, dict[str, dict]] = {}  # app -> template name -> saved configuration


def _state(backend) -> _State:
    state = backend.__dict__.get("_lab_eb")
    if state is None:
        state = backend.__dict__["_lab_eb"] = _State()
    return state


def apply() -> None:
    global _applied
    if _applied:
        return
    from moto.core.responses import ActionResult, EmptyResult
    from moto.core.utils import camelcase_to_underscores
    from moto.elasticbeanstalk import responses as eb_responses
    from moto.elasticbeanstalk.exceptions import InvalidParameterValueError
    from moto.elasticbeanstalk.models import Environment
    from moto.elasticbeanstalk.utils import make_arn

    EBResponse = eb_responses.EBResponse

    class InvalidParameterCombination(InvalidParameterValueError):
        code = "InvalidParameterCombination"

    class SourceBundleDeletionFailure(InvalidParameterValueError):
        code = "SourceBundleDeletionFailure"

    # --- helpers -------------------------------------------------------------------------------

    def backend(self):
        return self.elasticbeanstalk_backend

    def app_or_fail(self, name: str | None):
        apps = backend(self).applications
        if not name or name not in apps:
            raise InvalidParameterValueError(f"No Application named '{name}' found.")
        return apps[name]

    def event(self, message: str, *, app: str, env: str | None = None, version: str | None = None,
              severity: str = "INFO") -> None:
        _state(backend(self)).events.append({
            "EventDate": _now(), "Message": message, "ApplicationName": app, "EnvironmentName": env,
            "VersionLabel": version, "Severity": severity,
        })

    def all_envs(self, include_deleted: bool = False) -> list:
        envs = [env for app in backend(self).applications.values() for env in app.environments.values()]
        if include_deleted:
            envs += _state(backend(self)).terminated
        return envs

    def find_env(self, name: str | None = None, env_id: str | None = None):
        name = name or self._get_param("EnvironmentName")
        env_id = env_id or self._get_param("EnvironmentId")
        for env in all_envs(self):
            if (name and env.environment_name == name) or (env_id and env.environment_id == env_id):
                return env
        what = f"'{name}'" if name else f"with id '{env_id}'"
        raise InvalidParameterValueError(f"No Environment found for EnvironmentName = {what}.")

    def s3_bucket(self, bucket: str):
        from moto.s3.models import s3_backends

        s3 = s3_backends[self.current_account][self.partition]
        return s3.buckets.get(bucket), s3

    def bundle_exists(self, bundle: dict) -> bool:
        bucket, s3 = s3_bucket(self, bundle.get("S3Bucket") or "")
        return bucket is not None and s3.get_object(bundle["S3Bucket"], bundle.get("S3Key") or "") is not None

    def delete_bundle(self, bundle: dict | None) -> None:
        if not bundle:
            return
        bucket, s3 = s3_bucket(self, bundle.get("S3Bucket") or "")
        if bucket is not None:
            try:
                s3.delete_object(bundle["S3Bucket"], bundle.get("S3Key") or "")
            except Exception:  # noqa: BLE001 - a missing key is not an error here, as on AWS
                pass

    def versions_of(self, app: str) -> dict[str, dict]:
        return _state(backend(self)).versions.setdefault(app, {})

    def in_use(self, app: str, label: str) -> list[str]:
        return [e.environment_name for e in all_envs(self)
                if e.application_name == app and str(e.version_label) == label]

    def version_out(self, version: dict) -> dict:
        return {k: v for k, v in version.items() if v is not None}

    def app_out(self, app) -> dict:
        state = _state(backend(self))
        name = app.application_name
        versions = sorted(versions_of(self, name).values(), key=lambda v: v["DateCreated"], reverse=True)
        out = {
            "ApplicationArn": app.arn,
            "ApplicationName": name,
            "DateCreated": state.created.setdefault(name, _now()),
            "DateUpdated": state.created[name],
            "Versions": [v["VersionLabel"] for v in versions],
            "ConfigurationTemplates": sorted(state.templates.get(name, {})),
            "ResourceLifecycleConfig": state.lifecycle.get(name) or {
                "VersionLifecycleConfig": {
                    "MaxCountRule": {"Enabled": False, "MaxCount": 200, "DeleteSourceFromS3": False},
                    "MaxAgeRule": {"Enabled": False, "MaxAgeInDays": 180, "DeleteSourceFromS3": False},
                }
            },
        }
        if state.descriptions.get(name):
            out["Description"] = state.descriptions[name]
        return out

    def env_out(self, env) -> dict:
        out = {
            "EnvironmentName": env.environment_name,
            "EnvironmentId": env.environment_id,
            "ApplicationName": env.application_name,
            "SolutionStackName": env.solution_stack_name,
            "PlatformArn": getattr(env, "_lab_platform_arn", None),
            "Description": getattr(env, "_lab_description", None),
            "EndpointURL": env.endpoint_url,
            "CNAME": env.cname,
            "DateCreated": env.date_created,
            "DateUpdated": env.date_updated,
            "Status": env.status,
            "AbortableOperationInProgress": False,
            "Health": env.health,
            "HealthStatus": env.health_status,
            "Tier": env.tier,
            "EnvironmentArn": env.environment_arn,
        }
        if env.version_label not in (None, 1, ""):
            out["VersionLabel"] = str(env.version_label)
        return {k: v for k, v in out.items() if v is not None}

    def options_of(env) -> dict[tuple[str, str], str]:
        return env.__dict__.setdefault("_lab_options", {})

    def apply_option_settings(self, env, settings: list[dict] | None, remove: list[dict] | None) -> None:
        options = options_of(env)
        for item in remove or []:
            options.pop((item.get("Namespace"), item.get("OptionName")), None)
        for item in settings or []:
            namespace, name = item.get("Namespace"), item.get("OptionName")
            if not namespace or not name:
                raise InvalidParameterValueError("Each option setting needs a Namespace and an OptionName.")
            value = item.get("Value")
            if (namespace, name) == ("aws:elasticbeanstalk:command", "DeploymentPolicy") and value not in (
                "AllAtOnce", "Rolling", "RollingWithAdditionalBatch", "Immutable", "TrafficSplitting"
            ):
                raise InvalidParameterValueError(
                    f"Invalid option value: '{value}' (Namespace: 'aws:elasticbeanstalk:command', OptionName: "
                    "'DeploymentPolicy'): Value is not one of [AllAtOnce, Rolling, RollingWithAdditionalBatch, "
                    "Immutable, TrafficSplitting]"
                )
            options[(namespace, name)] = "" if value is None else str(value)

    def check_version(self, app: str, label: str | None) -> None:
        if label and label not in versions_of(self, app):
            raise InvalidParameterValueError(f"No Application Version named '{label}' found.")

    def enforce_lifecycle(self, app: str) -> None:
        config = (_state(backend(self)).lifecycle.get(app) or {}).get("VersionLifecycleConfig") or {}
        versions = versions_of(self, app)
        newest_first = sorted(versions.values(), key=lambda v: v["DateCreated"], reverse=True)
        doomed: dict[str, bool] = {}
        count_rule = config.get("MaxCountRule") or {}
        if count_rule.get("Enabled") and count_rule.get("MaxCount") is not None:
            for version in newest_first[int(count_rule["MaxCount"]):]:
                doomed[version["VersionLabel"]] = bool(count_rule.get("DeleteSourceFromS3"))
        age_rule = config.get("MaxAgeRule") or {}
        if age_rule.get("Enabled") and age_rule.get("MaxAgeInDays") is not None:
            cutoff = _now() - timedelta(days=int(age_rule["MaxAgeInDays"]))
            for version in newest_first:
                if version["DateCreated"] < cutoff:
                    doomed[version["VersionLabel"]] = (doomed.get(version["VersionLabel"], False)
                                                       or bool(age_rule.get("DeleteSourceFromS3")))
        for label, delete_source in doomed.items():
            if in_use(self, app, label):
                continue
            version = versions.pop(label)
            if delete_source:
                delete_bundle(self, version.get("SourceBundle"))
            event(self, f"Application version {label} was deleted by the application version lifecycle "
                        f"policy{' (source bundle deleted from Amazon S3)' if delete_source else ''}.",
                  app=app, version=label)

    def set_lifecycle(self, app: str, config: dict | None) -> dict:
        state = _state(backend(self))
        if not config:
            return state.lifecycle.get(app) or {}
        previous = state.lifecycle.get(app) or {}
        role = config.get("ServiceRole") or previous.get("ServiceRole")
        if config.get("VersionLifecycleConfig") and not role:
            raise InvalidParameterValueError(
                "The ServiceRole is required the first time you provide a VersionLifecycleConfig for the "
                "application. Specify an IAM role that Elastic Beanstalk can assume."
            )
        if role and role != previous.get("ServiceRole"):
            check_role(self, role)
        merged: dict = {"ServiceRole": role} if role else {}
        lifecycle = config.get("VersionLifecycleConfig") or previous.get("VersionLifecycleConfig")
        if lifecycle:
            out = {}
            for rule, size_key in (("MaxCountRule", "MaxCount"), ("MaxAgeRule", "MaxAgeInDays")):
                given = lifecycle.get(rule)
                if given is None:
                    continue
                if given.get("Enabled") and given.get(size_key) is None:
                    raise InvalidParameterValueError(f"{rule}.{size_key} is required when the rule is enabled.")
                if given.get(size_key) is not None and int(given[size_key]) < 1:
                    raise InvalidParameterValueError(f"{rule}.{size_key} must be at least 1.")
                out[rule] = {"Enabled": bool(given.get("Enabled")),
                             **({size_key: int(given[size_key])} if given.get(size_key) is not None else {}),
                             "DeleteSourceFromS3": bool(given.get("DeleteSourceFromS3"))}
            merged["VersionLifecycleConfig"] = out
        state.lifecycle[app] = merged
        return merged

    def check_role(self, role: str) -> None:
        from moto.iam.models import iam_backends

        name = role.rsplit("/", 1)[-1]
        iam = iam_backends[self.current_account][self.partition]
        if not any(r.name == name for r in iam.roles.values()):
            raise InvalidParameterValueError(
                f"The role {role} does not exist or Elastic Beanstalk cannot assume it. Create the service role "
                "first (a role trusted by elasticbeanstalk.amazonaws.com)."
            )

    # --- applications ----------------------------------------------------------------------------

    def create_application(self):
        name = self._get_param("ApplicationName")
        app = backend(self).create_application(application_name=name)
        state = _state(backend(self))
        state.created[name] = _now()
        state.versions[name] = {}
        state.lifecycle.pop(name, None)
        if self._get_param("Description"):
            state.descriptions[name] = self._get_param("Description")
        set_lifecycle(self, name, self._get_param("ResourceLifecycleConfig"))
        event(self, f"createApplication is starting for application {name}.", app=name)
        return ActionResult({"Application": app_out(self, app)})

    def describe_applications(self):
        names = self._get_param("ApplicationNames") or None
        apps = [a for a in backend(self).applications.values() if names is None or a.application_name in names]
        return ActionResult({"Applications": [app_out(self, a) for a in apps]})

    def update_application(self):
        app = app_or_fail(self, self._get_param("ApplicationName"))
        if self._get_param("Description") is not None:
            _state(backend(self)).descriptions[app.application_name] = self._get_param("Description")
        return ActionResult({"Application": app_out(self, app)})

    def delete_application(self):
        name = self._get_param("ApplicationName")
        app = app_or_fail(self, name)
        if app.environments and not self._get_bool_param("TerminateEnvByForce", False):
            raise InvalidParameterValueError(
                f"Unable to delete application {name} because it has running environments; terminate them "
                "first or pass TerminateEnvByForce."
            )
        state = _state(backend(self))
        for env in list(app.environments.values()):
            env.status = "Terminated"
            state.terminated.append(env)
        backend(self).applications.pop(name, None)
        for table in (state.versions, state.lifecycle, state.descriptions, state.created):
            table.pop(name, None)
        return EmptyResult()

    def update_application_resource_lifecycle(self):
        name = self._get_param("ApplicationName")
        app_or_fail(self, name)
        config = self._get_param("ResourceLifecycleConfig")
        if not config:
            raise InvalidParameterValueError("ResourceLifecycleConfig is required.")
        merged = set_lifecycle(self, name, config)
        event(self, "Application version lifecycle settings were updated.", app=name)
        return ActionResult({"ApplicationName": name, "ResourceLifecycleConfig": merged})

    # --- application versions -------------------------------------------------------------------

    def create_application_version(self):
        name = self._get_param("ApplicationName")
        label = self._get_param("VersionLabel")
        if name not in backend(self).applications:
            if self._get_bool_param("AutoCreateApplication", False):
                create_application(self)
            else:
                raise InvalidParameterValueError(f"No Application named '{name}' found.")
        versions = versions_of(self, name)
        if not label:
            raise InvalidParameterValueError("VersionLabel is required.")
        if label in versions:
            raise InvalidParameterValueError(f"Application Version {label} already exists.")
        bundle = self._get_param("SourceBundle")
        if bundle:
            bundle = {"S3Bucket": bundle.get("S3Bucket"), "S3Key": bundle.get("S3Key")}
            if not bundle_exists(self, bundle):
                raise InvalidParameterCombination(
                    f"Unable to download from S3 location (Bucket: {bundle['S3Bucket']}  Key: {bundle['S3Key']}). "
                    "Reason: Not Found"
                )
        now = _now()
        version = {
            "ApplicationVersionArn": make_arn(self.region, self.current_account, "applicationversion",
                                              f"{name}/{label}"),
            "ApplicationName": name,
            "Description": self._get_param("Description"),
            "VersionLabel": label,
            "SourceBundle": bundle or None,
            "DateCreated": now,
            "DateUpdated": now,
            "Status": "PROCESSED" if self._get_bool_param("Process", False) else "UNPROCESSED",
        }
        versions[label] = version
        event(self, f"Created new Application Version: {label}", app=name, version=label)
        enforce_lifecycle(self, name)
        return ActionResult({"ApplicationVersion": version_out(self, version)})

    def describe_application_versions(self):
        name = self._get_param("ApplicationName")
        labels = self._get_param("VersionLabels") or None
        apps = [name] if name else list(backend(self).applications)
        found = [v for a in apps for v in versions_of(self, a).values()
                 if labels is None or v["VersionLabel"] in labels]
        found.sort(key=lambda v: v["DateCreated"], reverse=True)
        start = int(self._get_param("NextToken") or 0)
        limit = self._get_int_param("MaxRecords") or len(found) or 1
        page = found[start:start + limit]
        out: dict = {"ApplicationVersions": [version_out(self, v) for v in page]}
        if start + limit < len(found):
            out["NextToken"] = str(start + limit)
        return ActionResult(out)

    def update_application_version(self):
        name, label = self._get_param("ApplicationName"), self._get_param("VersionLabel")
        app_or_fail(self, name)
        version = versions_of(self, name).get(label)
        if version is None:
            raise InvalidParameterValueError(f"No Application Version named '{label}' found.")
        version["Description"] = self._get_param("Description")
        version["DateUpdated"] = _now()
        return ActionResult({"ApplicationVersion": version_out(self, version)})

    def delete_application_version(self):
        name, label = self._get_param("ApplicationName"), self._get_param("VersionLabel")
        app_or_fail(self, name)
        versions = versions_of(self, name)
        if label not in versions:
            raise InvalidParameterValueError(f"No Application Version named '{label}' found.")
        users = in_use(self, name, label)
        if users:
            raise SourceBundleDeletionFailure(
                f"Unable to delete application version {label} because it is being used by environment(s): "
                f"{', '.join(users)}."
            )
        version = versions.pop(label)
        if self._get_bool_param("DeleteSourceBundle", False):
            delete_bundle(self, version.get("SourceBundle"))
        event(self, f"Deleted Application Version: {label}", app=name, version=label)
        return EmptyResult()

    # --- environments --------------------------------------------------------------------------

    def create_environment(self):
        name = self._get_param("ApplicationName")
        app = app_or_fail(self, name)
        env_name = self._get_param("EnvironmentName")
        if not env_name:
            raise InvalidParameterValueError("EnvironmentName is required.")
        if env_name in app.environments or any(e.environment_name == env_name for e in all_envs(self)):
            raise InvalidParameterValueError(f"Environment {env_name} already exists.")
        label = self._get_param("VersionLabel")
        check_version(self, name, label)
        stack = self._get_param("SolutionStackName")
        platform = self._get_param("PlatformArn")
        template = None
        if self._get_param("TemplateName"):
            template = template_or_fail(self, name, self._get_param("TemplateName"))
            stack, platform = stack or template["SolutionStackName"], platform or template["PlatformArn"]
        if not stack and not platform:
            raise InvalidParameterValueError("No Solution Stack or Platform specified.")
        if stack and stack not in {s["SolutionStackName"] for s in eb_responses.SOLUTION_STACK_DETAILS}:
            raise InvalidParameterValueError(f"No Solution Stack named '{stack}' found.")
        prefix = self._get_param("CNAMEPrefix") or f"{env_name}"
        cname = f"{prefix}.{self.region}.elasticbeanstalk.com".lower()
        if any(e.cname == cname for e in all_envs(self)):
            raise InvalidParameterValueError(f"DNS name ({cname}) is not available.")
        tags = {tag["Key"]: tag["Value"] for tag in self._get_param("Tags", [])}
        env = Environment(application=app, environment_name=env_name, solution_stack_name=stack or "", tags=tags)
        env.solution_stack_name = stack or ""
        env.environment_id = _env_id()
        env.version_label = label
        env.cname = cname
        env.endpoint_url = f"awseb-{env.environment_id}-1234567890.{self.region}.elb.amazonaws.com"
        env.health = "Green"
        env.health_status = "Ok"
        env._lab_description = self._get_param("Description")
        env._lab_platform_arn = platform
        tier = self._get_param("Tier")
        if tier:
            env.tier = {"Name": tier.get("Name", "WebServer"), "Type": tier.get("Type", "Standard"),
                        "Version": tier.get("Version", "1.0")}
        if template:  # the saved configuration first; options given with the call override it
            options_of(env).update(template["_options"])
        apply_option_settings(self, env, self._get_param("OptionSettings"), None)
        app.environments[env_name] = env
        event(self, f"createEnvironment is starting for {env_name}.", app=name, env=env_name, version=label)
        event(self, f"Successfully launched environment: {env_name}", app=name, env=env_name, version=label)
        result = env_out(self, env)
        result["Status"] = "Launching"
        return ActionResult(result)

    def describe_environments(self):
        app = self._get_param("ApplicationName")
        names = self._get_param("EnvironmentNames") or None
        ids = self._get_param("EnvironmentIds") or None
        label = self._get_param("VersionLabel")
        include_deleted = self._get_bool_param("IncludeDeleted", True)
        envs = [
            e for e in all_envs(self, include_deleted)
            if (not app or e.application_name == app)
            and (names is None or e.environment_name in names)
            and (ids is None or e.environment_id in ids)
            and (not label or str(e.version_label) == label)
        ]
        return ActionResult({"Environments": [env_out(self, e) for e in envs]})

    def update_environment(self):
        env = find_env(self)
        if env.status == "Terminated":
            raise InvalidParameterValueError(f"Environment named {env.environment_name} is terminated.")
        label = self._get_param("VersionLabel")
        check_version(self, env.application_name, label)
        apply_option_settings(self, env, self._get_param("OptionSettings"), self._get_param("OptionsToRemove"))
        if label:
            env.version_label = label
        if self._get_param("Description") is not None:
            env._lab_description = self._get_param("Description")
        if self._get_param("SolutionStackName"):
            env.solution_stack_name = self._get_param("SolutionStackName")
        env.date_updated = _now()
        app = env.application_name
        event(self, "Environment update is starting.", app=app, env=env.environment_name, version=label)
        if label:
            event(self, f"Deploying new version {label} to instance(s).", app=app, env=env.environment_name,
                  version=label)
        event(self, "Environment update completed successfully.", app=app, env=env.environment_name, version=label)
        result = env_out(self, env)
        result["Status"] = "Updating"
        return ActionResult(result)

    def describe_configuration_settings(self):
        name = self._get_param("ApplicationName")
        app_or_fail(self, name)
        env_name = self._get_param("EnvironmentName")
        if not env_name and self._get_param("TemplateName"):
            return ActionResult({"ConfigurationSettings": [
                template_out(template_or_fail(self, name, self._get_param("TemplateName")))]})
        if not env_name:
            raise InvalidParameterValueError("Either EnvironmentName or TemplateName is required.")
        env = find_env(self, name=env_name)
        if env.application_name != name:
            raise InvalidParameterValueError(f"No Environment found for EnvironmentName = '{env_name}'.")
        options = {(ns, opt): value for ns, opt, value in DEFAULT_OPTIONS}
        options.update(options_of(env))
        settings = [{"Namespace": ns, "OptionName": opt, "Value": value}
                    for (ns, opt), value in sorted(options.items())]
        return ActionResult({"ConfigurationSettings": [{
            "SolutionStackName": env.solution_stack_name,
            "ApplicationName": name,
            "EnvironmentName": env.environment_name,
            "DeploymentStatus": "deployed",
            "DateCreated": env.date_created,
            "DateUpdated": env.date_updated,
            "OptionSettings": settings,
        }]})

    def terminate_environment(self):
        env = find_env(self)
        if env.status == "Terminated":
            raise InvalidParameterValueError(f"No Environment found for EnvironmentName = '{env.environment_name}'.")
        app = backend(self).applications.get(env.application_name)
        if app is not None:
            app.environments.pop(env.environment_name, None)
        env.status = "Terminated"
        env.health = "Grey"
        env.date_updated = _now()
        _state(backend(self)).terminated.append(env)
        event(self, f"terminateEnvironment is starting for {env.environment_name}.", app=env.application_name,
              env=env.environment_name)
        event(self, f"terminateEnvironment completed successfully for {env.environment_name}.",
              app=env.application_name, env=env.environment_name)
        result = env_out(self, env)
        result["Status"] = "Terminating"
        return ActionResult(result)

    def swap_environment_cnames(self):
        source = find_env(self, self._get_param("SourceEnvironmentName"), self._get_param("SourceEnvironmentId"))
        dest = find_env(self, self._get_param("DestinationEnvironmentName"),
                        self._get_param("DestinationEnvironmentId"))
        if source is dest:
            raise InvalidParameterValueError("Source and destination environments must differ.")
        source.cname, dest.cname = dest.cname, source.cname
        for env in (source, dest):
            event(self, f"Completed swapping CNAMEs for environments '{source.environment_name}' and "
                        f"'{dest.environment_name}'.", app=env.application_name, env=env.environment_name)
        return EmptyResult()

    def describe_events(self):
        app = self._get_param("ApplicationName")
        env_name = self._get_param("EnvironmentName")
        label = self._get_param("VersionLabel")
        severity = self._get_param("Severity")
        levels = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
        events = [
            e for e in reversed(_state(backend(self)).events)
            if (not app or e["ApplicationName"] == app) and (not env_name or e["EnvironmentName"] == env_name)
            and (not label or e["VersionLabel"] == label)
            and (not severity or levels.index(e["Severity"]) >= levels.index(severity))
        ]
        limit = self._get_int_param("MaxRecords")
        if limit:
            events = events[:limit]
        return ActionResult({"Events": [{k: v for k, v in e.items() if v is not None} for e in events]})

    # --- saved configurations ------------------------------------------------------------------

    def template_or_fail(self, app: str, template_name: str) -> dict:
        found = _state(backend(self)).templates.get(app, {}).get(template_name)
        if found is None:
            raise InvalidParameterValueError(f"No Configuration Template named '{app}/{template_name}' found.")
        return found

    def template_out(template: dict) -> dict:
        options = {(ns, opt): value for ns, opt, value in DEFAULT_OPTIONS}
        options.update(template["_options"])
        out = {k: v for k, v in template.items() if not k.startswith("_") and v is not None}
        out["OptionSettings"] = [{"Namespace": ns, "OptionName": opt, "Value": value}
                                 for (ns, opt), value in sorted(options.items())]
        return out

    def create_configuration_template(self):
        app = self._get_param("ApplicationName")
        app_or_fail(self, app)
        template_name = self._get_param("TemplateName")
        if not template_name:
            raise InvalidParameterValueError("TemplateName is required.")
        templates = _state(backend(self)).templates.setdefault(app, {})
        if template_name in templates:
            raise InvalidParameterValueError(f"Configuration Template {template_name} already exists.")
        stack, platform = self._get_param("SolutionStackName"), self._get_param("PlatformArn")
        source = self._get_param("SourceConfiguration") or {}
        base: dict = {}
        if source.get("TemplateName"):
            origin = template_or_fail(self, source.get("ApplicationName") or app, source["TemplateName"])
            base = dict(origin["_options"])
            stack, platform = stack or origin["SolutionStackName"], platform or origin["PlatformArn"]
        elif self._get_param("EnvironmentId"):
            env = find_env(self, env_id=self._get_param("EnvironmentId"))
            base = dict(options_of(env))
            stack = stack or env.solution_stack_name
            platform = platform or getattr(env, "_lab_platform_arn", None)
        if not stack and not platform:
            raise InvalidParameterValueError(
                "A SolutionStackName, PlatformArn, SourceConfiguration or EnvironmentId is required.")
        if stack and stack not in {s["SolutionStackName"] for s in eb_responses.SOLUTION_STACK_DETAILS}:
            raise InvalidParameterValueError(f"No Solution Stack named '{stack}' found.")
        holder = type("SavedConfiguration", (), {})()
        options_of(holder).update(base)
        apply_option_settings(self, holder, self._get_param("OptionSettings"), None)
        now = _now()
        templates[template_name] = template = {
            "SolutionStackName": stack or "", "PlatformArn": platform, "ApplicationName": app,
            "TemplateName": template_name, "Description": self._get_param("Description"),
            "DeploymentStatus": None, "DateCreated": now, "DateUpdated": now, "_options": options_of(holder),
        }
        return ActionResult(template_out(template))

    def delete_configuration_template(self):
        app = self._get_param("ApplicationName")
        template_name = self._get_param("TemplateName")
        template_or_fail(self, app, template_name)
        del _state(backend(self)).templates[app][template_name]
        return EmptyResult()

    for func in (create_configuration_template, delete_configuration_template, create_application, describe_applications, update_application, delete_application,
                 update_application_resource_lifecycle, create_application_version, describe_application_versions,
                 update_application_version, delete_application_version, create_environment,
                 describe_environments, update_environment, describe_configuration_settings,
                 terminate_environment, swap_environment_cnames, describe_events):
        setattr(EBResponse, func.__name__, func)
    # moto's dispatcher turns SwapEnvironmentCNAMEs into this name.
    setattr(EBResponse, camelcase_to_underscores("SwapEnvironmentCNAMEs"), swap_environment_cnames)
    _applied = True

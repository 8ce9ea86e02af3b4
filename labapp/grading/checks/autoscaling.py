"""EC2 Auto Scaling check kinds: groups (launch template, sizes, zones, target groups) and scaling policies.

The emulator launches the group's instances but never evaluates alarms, so policies are graded as
configuration.
"""

from __future__ import annotations

from . import Check, CheckFailed, failed, passed, register, schema, string

ASG = string("Auto Scaling group name")
SIZE = {"type": "integer", "minimum": 0, "maximum": 1000}


def find_group(ctx, name: str) -> dict:
    groups = ctx.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[name]).get("AutoScalingGroups", [])
    if not groups:
        raise CheckFailed(f"Auto Scaling group {name} does not exist")
    return groups[0]


def group_template(group: dict) -> dict | None:
    spec = group.get("LaunchTemplate")
    if not spec:
        spec = ((group.get("MixedInstancesPolicy") or {}).get("LaunchTemplate") or {}).get(
            "LaunchTemplateSpecification")
    return spec


def launched_version(ctx, spec: dict) -> dict:
    """The launch template version the group launches: its Version ($Latest, $Default, a number; none means
    $Default), resolved the way Auto Scaling resolves it when it starts an instance."""
    version = str(spec.get("Version") or "$Default")
    ref = ({"LaunchTemplateId": spec["LaunchTemplateId"]} if spec.get("LaunchTemplateId")
           else {"LaunchTemplateName": spec.get("LaunchTemplateName")})
    versions = ctx.client("ec2").describe_launch_template_versions(Versions=[version], **ref)["LaunchTemplateVersions"]
    if not versions:
        raise CheckFailed(f"version {version} of the launch template does not exist")
    return versions[0]


def override_types(group: dict) -> list[str]:
    overrides = ((group.get("MixedInstancesPolicy") or {}).get("LaunchTemplate") or {}).get("Overrides") or []
    return [o["InstanceType"] for o in overrides if o.get("InstanceType")]


@register("autoscaling.group")
class Group(Check):
    description = ("The group uses the launch template (not a launch configuration), has the min/max/desired sizes "
                   "given, spans at least `min_azs` Availability Zones, and is attached to the target group.")
    params_schema = schema(
        {"name": ASG, "launch_template": string("launch template name"),
         "min_size": SIZE, "max_size": SIZE, "desired_capacity": SIZE,
         "min_azs": {"type": "integer", "minimum": 1, "maximum": 6},
         "target_group": string("name of a target group the group registers its instances in"),
         "health_check_type": {"enum": ["EC2", "ELB"]},
         "image": string("AMI id the instances the group launches must use"),
         "instance_type": string("instance type the group must launch")},
        ["name"],
    )

    def run(self, ctx, *, name, launch_template=None, min_size=None, max_size=None, desired_capacity=None,
            min_azs=None, target_group=None, health_check_type=None, image=None, instance_type=None):
        group = find_group(ctx, name)
        if image or instance_type:
            outcome = self.launches(ctx, group, image, instance_type)
            if outcome is not None:
                return outcome
        if launch_template:
            spec = group_template(group)
            if not spec:
                if group.get("LaunchConfigurationName"):
                    return failed(f"{name} uses the launch configuration {group['LaunchConfigurationName']} — "
                                  f"launch configurations are legacy; use the launch template {launch_template}")
                return failed(f"{name} has no launch template")
            have = spec.get("LaunchTemplateName")
            if not have and spec.get("LaunchTemplateId"):
                lts = ctx.client("ec2").describe_launch_templates(
                    LaunchTemplateIds=[spec["LaunchTemplateId"]])["LaunchTemplates"]
                have = lts[0]["LaunchTemplateName"] if lts else spec["LaunchTemplateId"]
            if have != launch_template:
                return failed(f"{name} uses the launch template {have}, not {launch_template}")
        for label, key, want in (("minimum size", "MinSize", min_size), ("maximum size", "MaxSize", max_size),
                                 ("desired capacity", "DesiredCapacity", desired_capacity)):
            if want is not None and group.get(key) != want:
                return failed(f"the {label} of {name} is {group.get(key)}, not {want}")
        zones = sorted(set(group.get("AvailabilityZones") or []))
        if min_azs and len(zones) < min_azs:
            return failed(f"{name} spans only {', '.join(zones) or 'no zone'} — give it subnets in at least "
                          f"{min_azs} Availability Zones")
        if target_group:
            arns = group.get("TargetGroupARNs") or []
            names = []
            if arns:
                tgs = ctx.client("elbv2").describe_target_groups(TargetGroupArns=arns).get("TargetGroups", [])
                names = [t["TargetGroupName"] for t in tgs]
            if target_group not in names:
                return failed(f"{name} is not attached to the target group {target_group} "
                              f"(attached: {', '.join(names) or 'none'})")
        if health_check_type and group.get("HealthCheckType") != health_check_type:
            return failed(f"{name} uses {group.get('HealthCheckType')} health checks, not {health_check_type}")
        return passed(f"{name} ({group.get('MinSize')}–{group.get('MaxSize')}, desired {group.get('DesiredCapacity')}) "
                      f"spans {', '.join(zones)}")


    @staticmethod
    def launches(ctx, group: dict, image, instance_type):
        """None when the instances the group launches use this AMI and instance type; else a failed outcome."""
        name = group["AutoScalingGroupName"]
        spec = group_template(group)
        if not spec:
            return failed(f"{name} does not launch from a launch template")
        version = launched_version(ctx, spec)
        data = version.get("LaunchTemplateData") or {}
        label = (f"{name} launches version {version.get('VersionNumber')} of {version.get('LaunchTemplateName')} "
                 f"(Version {spec.get('Version') or '$Default'})")
        if image and data.get("ImageId") != image:
            return failed(f"{label}, which uses AMI {data.get('ImageId') or 'none'}, not {image}")
        types = override_types(group) or [data.get("InstanceType") or "none"]
        if instance_type and set(types) != {instance_type}:
            return failed(f"{label} with instance type {', '.join(types)}, not {instance_type}")
        return None


METRICS = ["ASGAverageCPUUtilization", "ASGAverageNetworkIn", "ASGAverageNetworkOut", "ALBRequestCountPerTarget"]


@register("autoscaling.target_tracking")
class TargetTracking(Check):
    description = "The group has a target tracking policy on the predefined metric, holding it at `target`."
    params_schema = schema(
        {"group": ASG, "metric": {"enum": METRICS}, "target": {"type": "number", "minimum": 0}},
        ["group", "metric", "target"],
    )

    def run(self, ctx, *, group, metric, target):
        find_group(ctx, group)
        policies = ctx.client("autoscaling").describe_policies(AutoScalingGroupName=group).get("ScalingPolicies", [])
        if not policies:
            return failed(f"{group} has no scaling policy")
        tracking = [p for p in policies if p.get("PolicyType") == "TargetTrackingScaling"]
        if not tracking:
            kinds = ", ".join(f"{p['PolicyName']} ({p.get('PolicyType')})" for p in policies)
            return failed(f"{group} has no target tracking policy (policies: {kinds}) — simple and step policies "
                          "need alarms you manage yourself")
        seen, holding, others = [], [], []
        for p in tracking:
            conf = p.get("TargetTrackingConfiguration") or {}
            spec = (conf.get("PredefinedMetricSpecification") or {}).get("PredefinedMetricType")
            value = conf.get("TargetValue")
            seen.append(f"{p['PolicyName']}: {spec or 'custom metric'} at {value}")
            if p.get("Enabled") is False or spec != metric:
                continue
            if value is not None and abs(float(value) - float(target)) < 1e-9:
                holding.append(p)
            else:
                others.append(f"{p['PolicyName']} at {value}")
        if not holding:
            return failed(f"no target tracking policy of {group} keeps {metric} at {target:g} ({'; '.join(seen)})")
        # Several policies: Auto Scaling scales out when any asks and in only when all agree, so a second
        # policy on the same metric with another target decides the capacity instead.
        if others:
            return failed(f"{group} also has {', '.join(others)} on {metric}: with several target tracking "
                          f"policies the group follows whichever asks for more instances, so {metric} is not held "
                          f"at {target:g} — delete or update the other policy")
        p = holding[0]
        if (p.get("TargetTrackingConfiguration") or {}).get("DisableScaleIn"):
            return failed(f"{p['PolicyName']} has scale-in disabled: {group} adds instances above {target:g} but "
                          f"never removes them when the load drops, so {metric} is not kept at {target:g}")
        return passed(f"{p['PolicyName']} keeps {metric} of {group} at {target:g}")

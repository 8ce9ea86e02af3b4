"""Live-panel listers for EC2 Auto Scaling."""

from . import join, lister


@lister("autoscaling.groups", "Auto Scaling groups",
        ["Name", "Launch template / config", "Min / desired / max", "Zones", "Instances"])
def groups(client):
    rows = []
    for g in client("autoscaling").describe_auto_scaling_groups().get("AutoScalingGroups", []):
        lt = g.get("LaunchTemplate") or {}
        source = (f"template {lt.get('LaunchTemplateName') or lt.get('LaunchTemplateId')} ({lt.get('Version', '')})"
                  if lt else f"configuration {g.get('LaunchConfigurationName', '—')}")
        rows.append([g["AutoScalingGroupName"], source,
                     f"{g.get('MinSize')} / {g.get('DesiredCapacity')} / {g.get('MaxSize')}",
                     join(sorted(g.get("AvailabilityZones") or [])), str(len(g.get("Instances") or []))])
    return rows


@lister("autoscaling.policies", "Scaling policies", ["Group", "Policy", "Type", "Target"])
def policies(client):
    rows = []
    for p in client("autoscaling").describe_policies().get("ScalingPolicies", []):
        conf = p.get("TargetTrackingConfiguration") or {}
        metric = (conf.get("PredefinedMetricSpecification") or {}).get("PredefinedMetricType", "")
        target = f"{metric} = {conf.get('TargetValue')}" if conf else "—"
        rows.append([p.get("AutoScalingGroupName", ""), p.get("PolicyName", ""), p.get("PolicyType", ""), target])
    return rows

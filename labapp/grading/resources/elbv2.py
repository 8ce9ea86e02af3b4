"""Live-panel listers for Elastic Load Balancing (v2)."""

from . import MAX_ITEMS, join, lister
from ..checks.elbv2 import describe_actions, rule_paths


@lister("elbv2.load_balancers", "Load balancers", ["Name", "Type", "Scheme", "Zones", "Security groups", "DNS name"])
def load_balancers(client):
    return [[lb["LoadBalancerName"], lb.get("Type", ""), lb.get("Scheme", ""),
             join(sorted(z.get("ZoneName", "") for z in lb.get("AvailabilityZones", []))),
             join(lb.get("SecurityGroups") or []), lb.get("DNSName", "")]
            for lb in client("elbv2").describe_load_balancers().get("LoadBalancers", [])]


@lister("elbv2.target_groups", "Target groups", ["Name", "Protocol:port", "Targets", "Stickiness"])
def target_groups(client):
    elb = client("elbv2")
    rows = []
    for tg in elb.describe_target_groups().get("TargetGroups", [])[:MAX_ITEMS]:
        health = elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"]).get("TargetHealthDescriptions", [])
        attrs = {a["Key"]: a.get("Value") for a in elb.describe_target_group_attributes(
            TargetGroupArn=tg["TargetGroupArn"]).get("Attributes", [])}
        sticky = attrs.get("stickiness.type", "") if attrs.get("stickiness.enabled") == "true" else "off"
        rows.append([tg["TargetGroupName"], f"{tg.get('Protocol', '')}:{tg.get('Port', '')}",
                     join(f"{d['Target']['Id']} ({d.get('TargetHealth', {}).get('State', '?')})" for d in health),
                     sticky])
    return rows


@lister("elbv2.listeners", "Listeners and rules", ["Load balancer", "Listener", "Rule", "Action"])
def listeners(client):
    elb = client("elbv2")
    names = {t["TargetGroupArn"]: t["TargetGroupName"] for t in elb.describe_target_groups().get("TargetGroups", [])}
    rows = []
    for lb in elb.describe_load_balancers().get("LoadBalancers", [])[:MAX_ITEMS]:
        for lis in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"]).get("Listeners", []):
            label = f"{lis.get('Protocol')}:{lis.get('Port')}"
            for rule in elb.describe_rules(ListenerArn=lis["ListenerArn"]).get("Rules", []):
                what = "default" if rule.get("IsDefault") else \
                    f"{rule.get('Priority')}: path {join(rule_paths(rule))}"
                rows.append([lb["LoadBalancerName"], label, what, describe_actions(rule.get("Actions", []), names)])
    return rows

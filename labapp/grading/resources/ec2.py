"""Live-panel listers for EC2."""

from . import join, lister
from ..checks.ec2 import rule_label, rule_sources


@lister("ec2.security_groups", "Security groups", ["Name", "Id", "VPC", "Inbound rules"])
def ec2_security_groups(client):
    groups = client("ec2").describe_security_groups()["SecurityGroups"]
    rows = []
    for g in groups:
        rules = [f"{rule_label(r)} from {s}" for r in g.get("IpPermissions", []) for s in rule_sources(r)]
        rows.append([g["GroupName"], g["GroupId"], g.get("VpcId", ""), join(rules)])
    return rows


@lister("ec2.instances", "EC2 instances", ["Id", "Name", "State", "Security groups"])
def ec2_instances(client):
    rows = []
    for res in client("ec2").describe_instances().get("Reservations", []):
        for inst in res.get("Instances", []):
            name = next((t["Value"] for t in inst.get("Tags", []) if t["Key"] == "Name"), "")
            groups = [g["GroupName"] for g in inst.get("SecurityGroups", [])]
            rows.append([inst["InstanceId"], name, inst["State"]["Name"], join(groups)])
    return rows

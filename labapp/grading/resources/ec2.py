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


def _name(item) -> str:
    return next((t["Value"] for t in item.get("Tags", []) or [] if t["Key"] == "Name"), "")


@lister("ec2.addresses", "Elastic IPs", ["Public IP", "Name", "Allocation", "Associated with"])
def ec2_addresses(client):
    return [[a.get("PublicIp", ""), _name(a), a.get("AllocationId", ""),
             a.get("InstanceId") or a.get("NetworkInterfaceId") or "— (idle)"]
            for a in client("ec2").describe_addresses().get("Addresses", [])]


@lister("ec2.network_interfaces", "Network interfaces",
        ["Id", "Name", "Subnet (AZ)", "Private IP", "Attached to", "Device index"])
def ec2_network_interfaces(client):
    rows = []
    for n in client("ec2").describe_network_interfaces().get("NetworkInterfaces", []):
        att = n.get("Attachment") or {}
        rows.append([n["NetworkInterfaceId"], _name(n), f"{n.get('SubnetId', '')} ({n.get('AvailabilityZone', '')})",
                     n.get("PrivateIpAddress", ""), att.get("InstanceId") or "—",
                     str(att.get("DeviceIndex", "—"))])
    return rows


@lister("ec2.images", "Your AMIs", ["Id", "Name", "State", "Source instance"])
def ec2_images(client):
    return [[i["ImageId"], i.get("Name", ""), i.get("State", ""), i.get("SourceInstanceId", "")]
            for i in client("ec2").describe_images(Owners=["self"]).get("Images", [])]


@lister("ec2.volumes", "EBS volumes", ["Id", "Name", "AZ", "Type", "Size (GiB)", "From snapshot", "Attached to"])
def ec2_volumes(client):
    rows = []
    for v in client("ec2").describe_volumes().get("Volumes", []):
        att = [a.get("InstanceId", "") for a in v.get("Attachments", [])]
        rows.append([v["VolumeId"], _name(v), v.get("AvailabilityZone", ""), v.get("VolumeType", ""),
                     str(v.get("Size", "")), v.get("SnapshotId") or "—", join(att)])
    return rows


@lister("ec2.snapshots", "EBS snapshots", ["Id", "Volume", "State", "Size (GiB)", "Description"])
def ec2_snapshots(client):
    return [[s["SnapshotId"], s.get("VolumeId", ""), s.get("State", ""), str(s.get("VolumeSize", "")),
             s.get("Description", "")]
            for s in client("ec2").describe_snapshots(OwnerIds=["self"]).get("Snapshots", [])]


@lister("ec2.launch_templates", "Launch templates", ["Name", "Default version", "AMI", "Instance type"])
def ec2_launch_templates(client):
    ec2 = client("ec2")
    rows = []
    for lt in ec2.describe_launch_templates().get("LaunchTemplates", []):
        versions = ec2.describe_launch_template_versions(
            LaunchTemplateId=lt["LaunchTemplateId"], Versions=["$Default"]).get("LaunchTemplateVersions", [])
        data = versions[0].get("LaunchTemplateData", {}) if versions else {}
        rows.append([lt["LaunchTemplateName"], str(lt.get("DefaultVersionNumber", "")), data.get("ImageId", ""),
                     data.get("InstanceType", "")])
    return rows

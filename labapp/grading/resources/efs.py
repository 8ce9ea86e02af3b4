"""Live-panel listers for Amazon EFS."""

from . import join, lister


@lister("efs.file_systems", "EFS file systems", ["Id", "Name", "Encrypted", "Performance", "Throughput", "Mount targets"])
def file_systems(client):
    return [[fs["FileSystemId"], fs.get("Name", ""), "yes" if fs.get("Encrypted") else "no",
             fs.get("PerformanceMode", ""), fs.get("ThroughputMode", ""), str(fs.get("NumberOfMountTargets", 0))]
            for fs in client("efs").describe_file_systems().get("FileSystems", [])]


@lister("efs.mount_targets", "EFS mount targets", ["File system", "Mount target", "Subnet", "Zone", "Security groups"])
def mount_targets(client):
    efs = client("efs")
    rows = []
    for fs in efs.describe_file_systems().get("FileSystems", []):
        for t in efs.describe_mount_targets(FileSystemId=fs["FileSystemId"]).get("MountTargets", []):
            sgs = efs.describe_mount_target_security_groups(MountTargetId=t["MountTargetId"]).get("SecurityGroups", [])
            rows.append([fs.get("Name") or fs["FileSystemId"], t["MountTargetId"], t.get("SubnetId", ""),
                         t.get("AvailabilityZoneName", ""), join(sgs)])
    return rows

"""Amazon EFS check kinds: file systems, mount targets (zones and security groups), lifecycle policies."""

from __future__ import annotations

from . import Check, CheckFailed, failed, passed, register, schema, string
from .ec2 import rule_covers, rule_sources

FS = string("file system Name tag")
NFS_PORT = 2049


def find_fs(ctx, name: str) -> dict:
    systems = []
    for page in ctx.client("efs").get_paginator("describe_file_systems").paginate():
        systems += page.get("FileSystems", [])
    named = [fs for fs in systems
             if fs.get("Name") == name or {t["Key"]: t["Value"] for t in fs.get("Tags", [])}.get("Name") == name]
    if not named:
        raise CheckFailed(f"there is no EFS file system named {name} (tag it Name={name})")
    if len(named) > 1:
        # Grading one of them at random could pass a task on a file system nobody uses.
        ids = ", ".join(fs["FileSystemId"] for fs in named)
        raise CheckFailed(f"{len(named)} file systems are named {name} ({ids}) — delete the ones you do not use")
    return named[0]


def _nfs_opened_elsewhere(group: dict, allowed_group_id: str | None) -> list[str]:
    """Sources other than `allowed_group_id` that a security group lets reach NFS."""
    found = []
    for rule in group.get("IpPermissions", []):
        if not rule_covers(rule, "tcp", NFS_PORT):
            continue
        found += [p.get("GroupId") or p.get("GroupName") for p in rule.get("UserIdGroupPairs", [])
                  if p.get("GroupId") != allowed_group_id]
        found += rule_sources({"IpRanges": rule.get("IpRanges", []), "Ipv6Ranges": rule.get("Ipv6Ranges", []),
                               "PrefixListIds": rule.get("PrefixListIds", [])})
    return found


@register("efs.file_system")
class FileSystem(Check):
    description = "The file system named `name` exists with the encryption, performance and throughput modes given."
    params_schema = schema(
        {"name": FS, "encrypted": {"type": "boolean"},
         "performance_mode": {"enum": ["generalPurpose", "maxIO"]},
         "throughput_mode": {"enum": ["bursting", "provisioned", "elastic"]}},
        ["name"],
    )

    def run(self, ctx, *, name, encrypted=None, performance_mode=None, throughput_mode=None):
        fs = find_fs(ctx, name)
        if encrypted is not None and bool(fs.get("Encrypted")) != encrypted:
            state = "encrypted" if fs.get("Encrypted") else "not encrypted"
            fix = " — encryption at rest can only be chosen when the file system is created" if encrypted else ""
            return failed(f"{name} is {state}{fix}")
        if performance_mode and fs.get("PerformanceMode") != performance_mode:
            return failed(f"{name} uses the {fs.get('PerformanceMode')} performance mode, not {performance_mode}")
        if throughput_mode and fs.get("ThroughputMode") != throughput_mode:
            return failed(f"{name} uses the {fs.get('ThroughputMode')} throughput mode, not {throughput_mode}")
        return passed(f"{name} ({fs['FileSystemId']}) exists"
                      + (", encrypted" if fs.get("Encrypted") else ""))


@register("efs.mount_targets")
class MountTargets(Check):
    description = ("The file system has mount targets in at least `min_azs` Availability Zones, each in the named "
                   "security group; with `nfs_only_from`, no other group of a mount target opens NFS to anyone else.")
    params_schema = schema(
        {"file_system": FS, "min_azs": {"type": "integer", "minimum": 1, "maximum": 6},
         "security_group": string("name of the security group every mount target must use"),
         "nfs_only_from": string("name of the only security group whose members may reach NFS (2049)")},
        ["file_system", "min_azs"],
    )

    def run(self, ctx, *, file_system, min_azs, security_group=None, nfs_only_from=None):
        fs = find_fs(ctx, file_system)
        efs = ctx.client("efs")
        targets = efs.describe_mount_targets(FileSystemId=fs["FileSystemId"]).get("MountTargets", [])
        if not targets:
            return failed(f"{file_system} has no mount targets — create one per Availability Zone")
        subnets = ctx.client("ec2").describe_subnets(SubnetIds=[t["SubnetId"] for t in targets])["Subnets"]
        zone_of = {s["SubnetId"]: s["AvailabilityZone"] for s in subnets}
        zones = sorted({t.get("AvailabilityZoneName") or zone_of.get(t["SubnetId"], "?") for t in targets})
        if len(zones) < min_azs and fs.get("AvailabilityZoneName"):
            return failed(f"{file_system} is a One Zone file system in {fs['AvailabilityZoneName']}: it can have a "
                          "mount target only there, so losing that zone loses the files — create a Regional file "
                          "system (without --availability-zone-name)")
        if len(zones) < min_azs:
            return failed(f"{file_system} has mount targets only in {', '.join(zones)} — instances in other "
                          f"zones would mount across zones; add mount targets in at least {min_azs} zones")
        if security_group:
            groups = ctx.client("ec2").describe_security_groups(
                Filters=[{"Name": "group-name", "Values": [security_group]}])["SecurityGroups"]
            want = {g["GroupId"] for g in groups}
            if not want:
                raise CheckFailed(f"security group {security_group} does not exist")
            for t in targets:
                sgs = efs.describe_mount_target_security_groups(MountTargetId=t["MountTargetId"]).get(
                    "SecurityGroups", [])
                zone = t.get("AvailabilityZoneName") or zone_of.get(t["SubnetId"], "?")
                if not want & set(sgs):
                    return failed(f"the mount target in {zone} uses {', '.join(sgs) or 'no group'}, not "
                                  f"{security_group}")
                others = [g for g in sgs if g not in want]
                if nfs_only_from and others:
                    # The groups of a mount target add up: one extra group can open NFS to anyone.
                    allowed = ctx.client("ec2").describe_security_groups(
                        Filters=[{"Name": "group-name", "Values": [nfs_only_from]}])["SecurityGroups"]
                    allowed_id = allowed[0]["GroupId"] if allowed else None
                    for extra in ctx.client("ec2").describe_security_groups(GroupIds=others)["SecurityGroups"]:
                        opened = _nfs_opened_elsewhere(extra, allowed_id)
                        if opened:
                            return failed(f"the mount target in {zone} also uses {extra['GroupName']} "
                                          f"({extra['GroupId']}), which lets {', '.join(opened)} reach NFS — only "
                                          f"{nfs_only_from} may; remove that group from the mount target")
        return passed(f"{file_system} has mount targets in {', '.join(zones)}")


@register("efs.lifecycle")
class Lifecycle(Check):
    description = "The file system's lifecycle policy moves files to Infrequent Access after `transition_to_ia`."
    params_schema = schema(
        {"file_system": FS,
         "transition_to_ia": {"enum": ["AFTER_1_DAY", "AFTER_7_DAYS", "AFTER_14_DAYS", "AFTER_30_DAYS",
                                       "AFTER_60_DAYS", "AFTER_90_DAYS", "AFTER_180_DAYS", "AFTER_270_DAYS",
                                       "AFTER_365_DAYS"]}},
        ["file_system", "transition_to_ia"],
    )

    def run(self, ctx, *, file_system, transition_to_ia):
        fs = find_fs(ctx, file_system)
        policies = ctx.client("efs").describe_lifecycle_configuration(
            FileSystemId=fs["FileSystemId"]).get("LifecyclePolicies", [])
        have = [p["TransitionToIA"] for p in policies if p.get("TransitionToIA")]
        if not have:
            return failed(f"{file_system} has no transition to Infrequent Access — put a lifecycle configuration")
        if transition_to_ia not in have:
            return failed(f"{file_system} moves files to Infrequent Access {have[0]}, not {transition_to_ia}")
        return passed(f"{file_system} moves files to Infrequent Access {transition_to_ia}")

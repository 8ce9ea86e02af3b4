"""Amazon EFS check kinds: file systems, mount targets (zones and security groups), lifecycle policies."""

from __future__ import annotations

from . import Check, CheckFailed, failed, passed, register, schema, string

FS = string("file system Name tag")


def find_fs(ctx, name: str) -> dict:
    systems = ctx.client("efs").describe_file_systems().get("FileSystems", [])
    for fs in systems:
        tags = {t["Key"]: t["Value"] for t in fs.get("Tags", [])}
        if fs.get("Name") == name or tags.get("Name") == name:
            return fs
    raise CheckFailed(f"there is no EFS file system named {name} (tag it Name={name})")


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
                   "security group.")
    params_schema = schema(
        {"file_system": FS, "min_azs": {"type": "integer", "minimum": 1, "maximum": 6},
         "security_group": string("name of the security group every mount target must use")},
        ["file_system", "min_azs"],
    )

    def run(self, ctx, *, file_system, min_azs, security_group=None):
        fs = find_fs(ctx, file_system)
        efs = ctx.client("efs")
        targets = efs.describe_mount_targets(FileSystemId=fs["FileSystemId"]).get("MountTargets", [])
        if not targets:
            return failed(f"{file_system} has no mount targets — create one per Availability Zone")
        subnets = ctx.client("ec2").describe_subnets(SubnetIds=[t["SubnetId"] for t in targets])["Subnets"]
        zone_of = {s["SubnetId"]: s["AvailabilityZone"] for s in subnets}
        zones = sorted({t.get("AvailabilityZoneName") or zone_of.get(t["SubnetId"], "?") for t in targets})
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
                if not want & set(sgs):
                    zone = t.get("AvailabilityZoneName") or zone_of.get(t["SubnetId"], "?")
                    return failed(f"the mount target in {zone} uses {', '.join(sgs) or 'no group'}, not "
                                  f"{security_group}")
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

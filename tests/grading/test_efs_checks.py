"""EFS check kinds against the real moto server."""

from labapp.grading.grader import run_check


def check(sb, kind, **args):
    return run_check({"kind": kind, **args}, {}, sb.ctx())


def subnets(sb):
    ec2 = sb.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    by_az = {s["AvailabilityZone"]: s["SubnetId"] for s in ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]}
    return by_az["us-east-1a"], by_az["us-east-1b"]


def test_file_system(sandbox):
    efs = sandbox.client("efs")
    out = check(sandbox, "efs.file_system", name="media")
    assert not out.passed and out.feedback == "there is no EFS file system named media (tag it Name=media)"
    efs.create_file_system(CreationToken="t1", Tags=[{"Key": "Name", "Value": "media"}])
    out = check(sandbox, "efs.file_system", name="media", encrypted=True)
    assert not out.passed and out.feedback.startswith("media is not encrypted — encryption at rest can only")
    out = check(sandbox, "efs.file_system", name="media", throughput_mode="elastic")
    assert not out.passed and out.feedback == "media uses the bursting throughput mode, not elastic"
    efs.create_file_system(CreationToken="t2", Encrypted=True, ThroughputMode="elastic",
                           Tags=[{"Key": "Name", "Value": "media2"}])
    assert check(sandbox, "efs.file_system", name="media2", encrypted=True, performance_mode="generalPurpose",
                 throughput_mode="elastic").passed


def test_mount_targets_and_lifecycle(sandbox):
    efs, ec2 = sandbox.client("efs"), sandbox.client("ec2")
    a, b = subnets(sandbox)
    sg = ec2.create_security_group(GroupName="efs-sg", Description="x")["GroupId"]
    other = ec2.create_security_group(GroupName="other", Description="x")["GroupId"]
    fs = efs.create_file_system(CreationToken="t", Tags=[{"Key": "Name", "Value": "media"}])["FileSystemId"]
    args = {"file_system": "media", "min_azs": 2, "security_group": "efs-sg"}
    out = check(sandbox, "efs.mount_targets", **args)
    assert not out.passed and out.feedback == "media has no mount targets — create one per Availability Zone"
    efs.create_mount_target(FileSystemId=fs, SubnetId=a, SecurityGroups=[sg])
    out = check(sandbox, "efs.mount_targets", **args)
    assert not out.passed and "has mount targets only in us-east-1a" in out.feedback
    efs.create_mount_target(FileSystemId=fs, SubnetId=b, SecurityGroups=[other])
    out = check(sandbox, "efs.mount_targets", **args)
    assert not out.passed and out.feedback == f"the mount target in us-east-1b uses {other}, not efs-sg"
    mt = [m for m in efs.describe_mount_targets(FileSystemId=fs)["MountTargets"] if m["SubnetId"] == b][0]
    efs.modify_mount_target_security_groups(MountTargetId=mt["MountTargetId"], SecurityGroups=[sg])
    assert check(sandbox, "efs.mount_targets", **args).passed
    lc = {"file_system": "media", "transition_to_ia": "AFTER_30_DAYS"}
    out = check(sandbox, "efs.lifecycle", **lc)
    assert not out.passed and "has no transition to Infrequent Access" in out.feedback
    efs.put_lifecycle_configuration(FileSystemId=fs, LifecyclePolicies=[{"TransitionToIA": "AFTER_7_DAYS"}])
    out = check(sandbox, "efs.lifecycle", **lc)
    assert not out.passed and out.feedback == "media moves files to Infrequent Access AFTER_7_DAYS, not AFTER_30_DAYS"
    efs.put_lifecycle_configuration(FileSystemId=fs, LifecyclePolicies=[{"TransitionToIA": "AFTER_30_DAYS"}])
    assert check(sandbox, "efs.lifecycle", **lc).passed


def test_listers(sandbox):
    from labapp.grading.resources import list_resources

    efs, ec2 = sandbox.client("efs"), sandbox.client("ec2")
    a, _ = subnets(sandbox)
    sg = ec2.create_security_group(GroupName="efs-sg", Description="x")["GroupId"]
    fs = efs.create_file_system(CreationToken="t", Encrypted=True, Tags=[{"Key": "Name", "Value": "media"}])
    efs.create_mount_target(FileSystemId=fs["FileSystemId"], SubnetId=a, SecurityGroups=[sg])
    systems, targets = list_resources(["efs.file_systems", "efs.mount_targets"], sandbox.client)
    assert systems["error"] is None and targets["error"] is None
    assert systems["rows"][0][1:3] == ["media", "yes"]
    assert targets["rows"][0][0] == "media" and targets["rows"][0][4] == sg


def test_throughput_mode_changed_after_creation_passes(sandbox):
    # update-file-system is the documented fix for a wrong throughput mode (the emulator answered 500).
    efs = sandbox.client("efs")
    fs = efs.create_file_system(CreationToken="t", Encrypted=True, Tags=[{"Key": "Name", "Value": "media"}])
    efs.update_file_system(FileSystemId=fs["FileSystemId"], ThroughputMode="elastic")
    assert check(sandbox, "efs.file_system", name="media", encrypted=True, throughput_mode="elastic").passed


def test_two_file_systems_with_the_same_name_are_ambiguous(sandbox):
    efs = sandbox.client("efs")
    efs.create_file_system(CreationToken="old", Tags=[{"Key": "Name", "Value": "media"}])
    efs.create_file_system(CreationToken="new", Encrypted=True, Tags=[{"Key": "Name", "Value": "media"}])
    out = check(sandbox, "efs.file_system", name="media", encrypted=True)
    assert not out.passed and out.feedback.startswith("2 file systems are named media (")
    assert out.feedback.endswith("delete the ones you do not use")


def test_extra_group_on_a_mount_target_must_not_open_nfs(sandbox):
    efs, ec2 = sandbox.client("efs"), sandbox.client("ec2")
    a, b = subnets(sandbox)
    app = ec2.create_security_group(GroupName="app-sg", Description="x")["GroupId"]
    sg = ec2.create_security_group(GroupName="efs-sg", Description="x")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 2049, "ToPort": 2049, "UserIdGroupPairs": [{"GroupId": app}]}])
    world = ec2.create_security_group(GroupName="nfs-world", Description="x")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=world, IpProtocol="tcp", FromPort=2000, ToPort=3000,
                                         CidrIp="0.0.0.0/0")
    quiet = ec2.create_security_group(GroupName="monitoring", Description="x")["GroupId"]
    fs = efs.create_file_system(CreationToken="t", Tags=[{"Key": "Name", "Value": "media"}])["FileSystemId"]
    efs.create_mount_target(FileSystemId=fs, SubnetId=a, SecurityGroups=[sg, quiet])
    target_b = efs.create_mount_target(FileSystemId=fs, SubnetId=b, SecurityGroups=[sg, world])["MountTargetId"]
    args = {"file_system": "media", "min_azs": 2, "security_group": "efs-sg", "nfs_only_from": "app-sg"}
    out = check(sandbox, "efs.mount_targets", **args)
    assert not out.passed
    assert out.feedback == (f"the mount target in us-east-1b also uses nfs-world ({world}), which lets 0.0.0.0/0 "
                            "reach NFS — only app-sg may; remove that group from the mount target")
    efs.modify_mount_target_security_groups(MountTargetId=target_b, SecurityGroups=[sg])
    assert check(sandbox, "efs.mount_targets", **args).passed


def test_one_zone_file_system_cannot_span_two_zones(sandbox):
    efs = sandbox.client("efs")
    a, _ = subnets(sandbox)
    fs = efs.create_file_system(CreationToken="oz", Encrypted=True, ThroughputMode="elastic",
                                AvailabilityZoneName="us-east-1a", Tags=[{"Key": "Name", "Value": "media"}])
    efs.create_mount_target(FileSystemId=fs["FileSystemId"], SubnetId=a)
    out = check(sandbox, "efs.mount_targets", file_system="media", min_azs=2)
    assert not out.passed and out.feedback.startswith(
        "media is a One Zone file system in us-east-1a: it can have a mount target only there")

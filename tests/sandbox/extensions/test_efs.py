"""EFS extension (labapp/sandbox/extensions/efs.py) through the real emulator and gateway: UpdateFileSystem
changes the throughput mode of an existing file system, with AWS's validation."""

from __future__ import annotations

import pytest

from tests.sandbox.helpers import make_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


def test_update_file_system_throughput_mode(sandbox_stack):
    efs = make_sandbox(sandbox_stack.url).client("efs")
    fs_id = efs.create_file_system(CreationToken="media")["FileSystemId"]
    assert efs.update_file_system(FileSystemId=fs_id, ThroughputMode="elastic")["ThroughputMode"] == "elastic"
    assert efs.describe_file_systems(FileSystemId=fs_id)["FileSystems"][0]["ThroughputMode"] == "elastic"
    with pytest.raises(efs.exceptions.BadRequest, match="ProvisionedThroughputInMibps is required"):
        efs.update_file_system(FileSystemId=fs_id, ThroughputMode="provisioned")
    done = efs.update_file_system(FileSystemId=fs_id, ThroughputMode="provisioned", ProvisionedThroughputInMibps=64)
    assert (done["ThroughputMode"], done["ProvisionedThroughputInMibps"]) == ("provisioned", 64)
    with pytest.raises(efs.exceptions.FileSystemNotFound):
        efs.update_file_system(FileSystemId="fs-00000000", ThroughputMode="elastic")


def test_one_zone_file_system_has_a_mount_target_only_in_its_zone(sandbox_stack):
    sandbox = make_sandbox(sandbox_stack.url)
    efs, ec2 = sandbox.client("efs"), sandbox.client("ec2")
    subnet_in = {s["AvailabilityZone"]: s["SubnetId"] for s in ec2.describe_subnets(
        Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]}
    one_zone = efs.create_file_system(CreationToken="cheap", AvailabilityZoneName="us-east-1a")["FileSystemId"]
    with pytest.raises(efs.exceptions.ClientError, match="AvailabilityZonesMismatch"):
        efs.create_mount_target(FileSystemId=one_zone, SubnetId=subnet_in["us-east-1b"])
    efs.create_mount_target(FileSystemId=one_zone, SubnetId=subnet_in["us-east-1a"])
    regional = efs.create_file_system(CreationToken="shared")["FileSystemId"]
    for zone in ("us-east-1a", "us-east-1b"):
        efs.create_mount_target(FileSystemId=regional, SubnetId=subnet_in[zone])
    assert len(efs.describe_mount_targets(FileSystemId=regional)["MountTargets"]) == 2

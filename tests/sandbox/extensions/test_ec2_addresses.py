"""Elastic IP extension (labapp/sandbox/extensions/ec2_addresses.py) through the real emulator and gateway:
an address associated through an instance's network interface names the instance, and associating a second
address with an instance leaves the first one allocated but idle, as AWS documents."""

from __future__ import annotations

import pytest

from tests.sandbox.helpers import make_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


def launch(ec2):
    return ec2.run_instances(ImageId="ami-0d27e0fb3bac4d724", MinCount=1, MaxCount=1)["Instances"][0]


def test_address_on_an_instances_interface_names_the_instance(sandbox_stack):
    ec2 = make_sandbox(sandbox_stack.url).client("ec2")
    inst = launch(ec2)
    alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(NetworkInterfaceId=inst["NetworkInterfaces"][0]["NetworkInterfaceId"], AllocationId=alloc)
    (address,) = ec2.describe_addresses(AllocationIds=[alloc])["Addresses"]
    assert address["InstanceId"] == inst["InstanceId"]


def test_a_second_address_replaces_the_first(sandbox_stack):
    ec2 = make_sandbox(sandbox_stack.url).client("ec2")
    inst = launch(ec2)
    first, second = (ec2.allocate_address(Domain="vpc") for _ in range(2))
    ec2.associate_address(InstanceId=inst["InstanceId"], AllocationId=first["AllocationId"])
    ec2.associate_address(InstanceId=inst["InstanceId"], AllocationId=second["AllocationId"])
    by_id = {a["AllocationId"]: a for a in ec2.describe_addresses()["Addresses"]}
    assert not by_id[first["AllocationId"]].get("AssociationId")
    assert not by_id[first["AllocationId"]].get("InstanceId")
    assert by_id[second["AllocationId"]]["InstanceId"] == inst["InstanceId"]
    described = ec2.describe_instances(InstanceIds=[inst["InstanceId"]])["Reservations"][0]["Instances"][0]
    assert described["PublicIpAddress"] == second["PublicIp"]

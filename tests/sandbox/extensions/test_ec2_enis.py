"""ENI extension (labapp/sandbox/extensions/ec2_enis.py) through the real emulator and gateway: an interface
moves only after a detach, only within its Availability Zone, and never onto a device index in use."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.sandbox.helpers import make_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


def launch(ec2, az="us-east-1a"):
    return ec2.run_instances(ImageId="ami-0d27e0fb3bac4d724", MinCount=1, MaxCount=1,
                             Placement={"AvailabilityZone": az})["Instances"][0]


def error_code(call, **kwargs) -> str:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return err.value.response["Error"]["Code"]


def test_an_attached_interface_must_be_detached_before_it_moves(sandbox_stack):
    ec2 = make_sandbox(sandbox_stack.url).client("ec2")
    primary, standby = launch(ec2), launch(ec2)
    eni = ec2.create_network_interface(SubnetId=primary["SubnetId"])["NetworkInterface"]["NetworkInterfaceId"]
    attachment = ec2.attach_network_interface(NetworkInterfaceId=eni, InstanceId=primary["InstanceId"],
                                              DeviceIndex=1)["AttachmentId"]
    assert error_code(ec2.attach_network_interface, NetworkInterfaceId=eni, InstanceId=standby["InstanceId"],
                      DeviceIndex=1) == "InvalidNetworkInterface.InUse"
    ec2.detach_network_interface(AttachmentId=attachment)
    ec2.attach_network_interface(NetworkInterfaceId=eni, InstanceId=standby["InstanceId"], DeviceIndex=1)
    (nic,) = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"]
    assert nic["Attachment"]["InstanceId"] == standby["InstanceId"]


def test_other_zone_and_busy_device_index_are_refused(sandbox_stack):
    ec2 = make_sandbox(sandbox_stack.url).client("ec2")
    here, there = launch(ec2, "us-east-1a"), launch(ec2, "us-east-1b")
    eni = ec2.create_network_interface(SubnetId=here["SubnetId"])["NetworkInterface"]["NetworkInterfaceId"]
    assert error_code(ec2.attach_network_interface, NetworkInterfaceId=eni, InstanceId=there["InstanceId"],
                      DeviceIndex=1) == "InvalidParameterCombination"
    assert error_code(ec2.attach_network_interface, NetworkInterfaceId=eni, InstanceId=here["InstanceId"],
                      DeviceIndex=0) == "InvalidParameterValue"

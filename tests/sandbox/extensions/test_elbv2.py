"""ELBv2 extension (labapp/sandbox/extensions/elbv2.py) through the real emulator and gateway: a Network Load
Balancer keeps the Elastic IPs of its subnet mappings, and the addresses show as associated."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.sandbox.helpers import make_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


def _subnets(ec2):
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    return {s["AvailabilityZone"]: s["SubnetId"]
            for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]}


def test_nlb_keeps_elastic_ips(sandbox_stack):
    box = make_sandbox(sandbox_stack.url)
    ec2, elb = box.client("ec2"), box.client("elbv2")
    subnets = _subnets(ec2)
    a1 = ec2.allocate_address(Domain="vpc")
    a2 = ec2.allocate_address(Domain="vpc")
    elb.create_load_balancer(Name="game-nlb", Type="network", SubnetMappings=[
        {"SubnetId": subnets["us-east-1a"], "AllocationId": a1["AllocationId"]},
        {"SubnetId": subnets["us-east-1b"], "AllocationId": a2["AllocationId"]}])
    lb = elb.describe_load_balancers(Names=["game-nlb"])["LoadBalancers"][0]
    addresses = {z["ZoneName"]: z["LoadBalancerAddresses"] for z in lb["AvailabilityZones"]}
    assert addresses["us-east-1a"] == [{"IpAddress": a1["PublicIp"], "AllocationId": a1["AllocationId"]}]
    assert addresses["us-east-1b"] == [{"IpAddress": a2["PublicIp"], "AllocationId": a2["AllocationId"]}]
    associations = {a["AllocationId"]: a.get("AssociationId") for a in ec2.describe_addresses()["Addresses"]}
    assert all(associations.values()) and len(set(associations.values())) == 2


def test_plain_subnets_and_errors(sandbox_stack):
    box = make_sandbox(sandbox_stack.url)
    ec2, elb = box.client("ec2"), box.client("elbv2")
    subnets = _subnets(ec2)
    lb = elb.create_load_balancer(Name="plain", Type="network", Subnets=[subnets["us-east-1a"]])["LoadBalancers"][0]
    assert "LoadBalancerAddresses" not in lb["AvailabilityZones"][0]
    with pytest.raises(ClientError) as err:
        elb.create_load_balancer(Name="bad", Type="network", SubnetMappings=[
            {"SubnetId": subnets["us-east-1a"], "AllocationId": "eipalloc-0000000000"}])
    assert err.value.response["Error"]["Code"] == "AllocationIdNotFound"
    alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
    with pytest.raises(ClientError) as err:
        elb.create_load_balancer(Name="alb", SubnetMappings=[
            {"SubnetId": subnets["us-east-1a"], "AllocationId": alloc},
            {"SubnetId": subnets["us-east-1b"]}])
    assert err.value.response["Error"]["Code"] == "InvalidConfigurationRequest"

"""VPC extension (labapp/sandbox/extensions/vpc.py) through the real emulator and gateway: the default VPC
has an attached internet gateway and a 0.0.0.0/0 route to it in its main route table."""

from __future__ import annotations

import pytest

from tests.sandbox.helpers import make_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


def test_default_vpc_is_internet_connected(sandbox_stack):
    box = make_sandbox(sandbox_stack.url)
    ec2 = box.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    igws = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])["InternetGateways"]
    assert len(igws) == 1
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                              {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0]
    routes = {r["DestinationCidrBlock"]: r.get("GatewayId") for r in main["Routes"]}
    assert routes == {"172.31.0.0/16": "local", "0.0.0.0/0": igws[0]["InternetGatewayId"]}


def test_new_vpcs_stay_isolated(sandbox_stack):
    box = make_sandbox(sandbox_stack.url)
    ec2 = box.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    assert not ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])["InternetGateways"]
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
    assert [r["GatewayId"] for t in tables for r in t["Routes"]] == ["local"]


def test_routes_that_lead_nowhere_are_blackholes(sandbox_stack):
    box = make_sandbox(sandbox_stack.url)
    ec2 = box.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip)["NatGateway"]["NatGatewayId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="52.0.0.0/8", NatGatewayId=nat)

    def states():
        routes = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
        return {r["DestinationCidrBlock"]: r["State"] for r in routes}

    assert states() == {"10.9.0.0/16": "active", "0.0.0.0/0": "active", "52.0.0.0/8": "active"}
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    ec2.delete_nat_gateway(NatGatewayId=nat)
    assert states() == {"10.9.0.0/16": "active", "0.0.0.0/0": "blackhole", "52.0.0.0/8": "blackhole"}

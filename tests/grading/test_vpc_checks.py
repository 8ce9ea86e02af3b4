"""VPC check kinds against a real moto server: subnets and routes, NAT, NACL evaluation, peering, endpoints."""

import json

from labapp.grading.grader import run_check


def check(sb, kind, journal=None, **args):
    return run_check({"kind": kind, **args}, {}, sb.ctx(journal=journal))


def name_tag(kind, name):
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name}]}]


def build(sb, nat_in="public-a", private_to="nat"):
    ec2 = sb.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=name_tag("vpc", "lab-vpc"))["Vpc"]["VpcId"]
    pub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a",
                            TagSpecifications=name_tag("subnet", "public-a"))["Subnet"]["SubnetId"]
    priv = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone="us-east-1a",
                             TagSpecifications=name_tag("subnet", "private-a"))["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=rt, SubnetId=pub)
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=pub if nat_in == "public-a" else priv, AllocationId=eip)["NatGateway"]["NatGatewayId"]
    prt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    if private_to == "nat":
        ec2.create_route(RouteTableId=prt, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    else:
        ec2.create_route(RouteTableId=prt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=prt, SubnetId=priv)
    return vpc


def test_vpc_and_igw(sandbox):
    out = check(sandbox, "vpc.vpc", vpc="lab-vpc")
    assert not out.passed and out.feedback == "there is no VPC tagged Name=lab-vpc"
    ec2 = sandbox.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16", TagSpecifications=name_tag("vpc", "lab-vpc"))["Vpc"]["VpcId"]
    out = check(sandbox, "vpc.vpc", vpc="lab-vpc", cidr="10.0.0.0/16")
    assert not out.passed and out.feedback == f"VPC lab-vpc ({vpc}) has CIDR 10.1.0.0/16, not 10.0.0.0/16"
    assert check(sandbox, "vpc.vpc", vpc="lab-vpc", cidr="10.1.0.0/16").passed
    out = check(sandbox, "vpc.internet_gateway", vpc="lab-vpc")
    assert not out.passed and "no internet gateway is attached" in out.feedback


def test_public_private_subnets(sandbox):
    build(sandbox)
    assert check(sandbox, "vpc.internet_gateway", vpc="lab-vpc").passed
    out = check(sandbox, "vpc.subnet", vpc="lab-vpc", subnet="public-a", internet="igw")
    assert out.passed and "it is a public subnet" in out.feedback
    out = check(sandbox, "vpc.subnet", vpc="lab-vpc", subnet="private-a", internet="nat")
    assert out.passed and "private with outbound access" in out.feedback
    out = check(sandbox, "vpc.subnet", vpc="lab-vpc", subnet="public-a", internet="none")
    assert not out.passed and "the subnet is public, so it is not private" in out.feedback
    assert check(sandbox, "vpc.nat_gateway", vpc="lab-vpc", subnet="public-a").passed
    assert check(sandbox, "vpc.subnet", vpc="lab-vpc", subnet="public-a", internet="igw", az="us-east-1a").passed
    out = check(sandbox, "vpc.subnet", vpc="lab-vpc", subnet="private-a", internet="nat", az="us-east-1b")
    assert not out.passed and "is in us-east-1a, not us-east-1b" in out.feedback


def test_nat_in_private_subnet_and_private_to_igw(sandbox):
    build(sandbox, nat_in="private-a", private_to="igw")
    out = check(sandbox, "vpc.nat_gateway", vpc="lab-vpc", subnet="public-a")
    assert not out.passed and "a NAT gateway must sit in a public subnet" in out.feedback
    out = check(sandbox, "vpc.subnet", vpc="lab-vpc", subnet="private-a", internet="nat")
    assert not out.passed and "is public, so it is not private" in out.feedback
    out = check(sandbox, "vpc.subnet", vpc="lab-vpc", subnet="nope", internet="nat")
    assert not out.passed and out.feedback.startswith("there is no subnet tagged Name=nope")


def test_subnet_on_main_table_without_route(sandbox):
    ec2 = sandbox.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=name_tag("vpc", "lab-vpc"))["Vpc"]["VpcId"]
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", TagSpecifications=name_tag("subnet", "public-a"))
    out = check(sandbox, "vpc.subnet", vpc="lab-vpc", subnet="public-a", internet="igw")
    assert not out.passed and "the VPC main table" in out.feedback and "to nowhere" in out.feedback
    assert check(sandbox, "vpc.subnet", vpc="lab-vpc", subnet="public-a", internet="none").passed


def bare_vpc(sb):
    """lab-vpc with public-a and private-a on the main table, an attached internet gateway and a NAT gateway
    in public-a; routes are left to the test."""
    ec2 = sb.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=name_tag("vpc", "lab-vpc"))["Vpc"]["VpcId"]
    ids = {"vpc": vpc}
    for name, cidr in (("public-a", "10.0.1.0/24"), ("private-a", "10.0.2.0/24")):
        ids[name] = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone="us-east-1a",
                                      TagSpecifications=name_tag("subnet", name))["Subnet"]["SubnetId"]
    ids["igw"] = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=ids["igw"], VpcId=vpc)
    ids["main"] = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0]["RouteTableId"]
    ids["public_rt"] = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=ids["public_rt"], SubnetId=ids["public-a"])
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ids["nat"] = ec2.create_nat_gateway(SubnetId=ids["public-a"], AllocationId=eip)["NatGateway"]["NatGatewayId"]
    return ids


def subnet(sb, name, internet):
    return check(sb, "vpc.subnet", vpc="lab-vpc", subnet=name, internet=internet)


def test_a_default_route_split_in_two_halves_is_still_public(sandbox):
    ids = bare_vpc(sandbox)
    ec2 = sandbox.client("ec2")
    for half in ("0.0.0.0/1", "128.0.0.0/1"):
        ec2.create_route(RouteTableId=ids["public_rt"], DestinationCidrBlock=half, GatewayId=ids["igw"])
    assert subnet(sandbox, "public-a", "igw").passed
    assert check(sandbox, "vpc.nat_gateway", vpc="lab-vpc", subnet="public-a").passed


def test_half_the_internet_through_the_gateway_is_not_a_public_subnet(sandbox):
    ids = bare_vpc(sandbox)
    sandbox.client("ec2").create_route(RouteTableId=ids["public_rt"], DestinationCidrBlock="0.0.0.0/1",
                                       GatewayId=ids["igw"])
    out = subnet(sandbox, "public-a", "igw")
    assert not out.passed and "has no route for internet addresses such as 128.0.0.0/3" in out.feedback


def test_a_route_to_a_detached_internet_gateway_is_a_blackhole(sandbox):
    ids = bare_vpc(sandbox)
    ec2 = sandbox.client("ec2")
    ec2.create_route(RouteTableId=ids["public_rt"], DestinationCidrBlock="0.0.0.0/0", GatewayId=ids["igw"])
    ec2.detach_internet_gateway(InternetGatewayId=ids["igw"], VpcId=ids["vpc"])
    out = subnet(sandbox, "public-a", "igw")
    assert not out.passed and f"internet gateway {ids['igw']} is not attached to {ids['vpc']}" in out.feedback
    assert subnet(sandbox, "public-a", "none").passed  # nothing reaches the internet any more


def test_a_route_to_another_vpcs_internet_gateway_does_not_make_a_subnet_public(sandbox):
    ids = bare_vpc(sandbox)
    ec2 = sandbox.client("ec2")
    other = ec2.create_vpc(CidrBlock="10.5.0.0/16")["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=other)
    ec2.create_route(RouteTableId=ids["public_rt"], DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    out = subnet(sandbox, "public-a", "igw")
    assert not out.passed and f"internet gateway {igw} is not attached" in out.feedback


def test_private_subnet_through_the_main_table_and_main_table_rule(sandbox):
    ids = bare_vpc(sandbox)
    ec2 = sandbox.client("ec2")
    ec2.create_route(RouteTableId=ids["public_rt"], DestinationCidrBlock="0.0.0.0/0", GatewayId=ids["igw"])
    ec2.create_route(RouteTableId=ids["main"], DestinationCidrBlock="0.0.0.0/0", NatGatewayId=ids["nat"])
    out = subnet(sandbox, "private-a", "nat")
    assert out.passed and "the VPC main table" in out.feedback
    assert check(sandbox, "vpc.main_table_private", vpc="lab-vpc").passed
    # An extra, more specific route to the internet gateway makes private-a public for that range.
    ec2.create_route(RouteTableId=ids["main"], DestinationCidrBlock="52.0.0.0/8", GatewayId=ids["igw"])
    out = subnet(sandbox, "private-a", "nat")
    assert not out.passed and "sends 52.0.0.0/8 to internet gateway" in out.feedback
    out = check(sandbox, "vpc.main_table_private", vpc="lab-vpc")
    assert not out.passed and "every subnet without its own route table becomes public" in out.feedback


def test_private_subnet_with_an_ipv6_default_route_to_the_gateway_is_public(sandbox):
    ids = bare_vpc(sandbox)
    ec2 = sandbox.client("ec2")
    ec2.create_route(RouteTableId=ids["main"], DestinationCidrBlock="0.0.0.0/0", NatGatewayId=ids["nat"])
    ec2.create_route(RouteTableId=ids["main"], DestinationIpv6CidrBlock="::/0", GatewayId=ids["igw"])
    out = subnet(sandbox, "private-a", "nat")
    assert not out.passed and "sends ::/0 to internet gateway" in out.feedback


def test_a_route_to_a_deleted_nat_gateway_is_a_blackhole(sandbox):
    ids = bare_vpc(sandbox)
    ec2 = sandbox.client("ec2")
    ec2.create_route(RouteTableId=ids["public_rt"], DestinationCidrBlock="0.0.0.0/0", GatewayId=ids["igw"])
    ec2.create_route(RouteTableId=ids["main"], DestinationCidrBlock="0.0.0.0/0", NatGatewayId=ids["nat"])
    ec2.delete_nat_gateway(NatGatewayId=ids["nat"])
    out = subnet(sandbox, "private-a", "nat")
    assert not out.passed and f"NAT gateway {ids['nat']} is deleted" in out.feedback


def test_nat_gateway_in_a_subnet_that_is_not_public(sandbox):
    ids = bare_vpc(sandbox)  # public-a's table has no internet route yet
    ec2 = sandbox.client("ec2")
    ec2.create_route(RouteTableId=ids["main"], DestinationCidrBlock="0.0.0.0/0", NatGatewayId=ids["nat"])
    out = check(sandbox, "vpc.nat_gateway", vpc="lab-vpc", subnet="public-a")
    assert not out.passed and "sends 0.0.0.0/0 to nowhere" in out.feedback
    out = subnet(sandbox, "private-a", "nat")
    assert not out.passed and "the NAT gateway cannot reach the internet" in out.feedback


def nacl(sb, deny_number=90, egress=True):
    ec2 = sb.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    acl = ec2.create_network_acl(VpcId=vpc, TagSpecifications=name_tag("network-acl", "web-nacl"))["NetworkAcl"]["NetworkAclId"]
    e = lambda n, action, lo, hi, cidr, out=False: ec2.create_network_acl_entry(  # noqa: E731
        NetworkAclId=acl, RuleNumber=n, Protocol="6", RuleAction=action, Egress=out, CidrBlock=cidr,
        PortRange={"From": lo, "To": hi})
    e(deny_number, "deny", 0, 65535, "203.0.113.66/32")
    e(100, "allow", 80, 80, "0.0.0.0/0")
    e(110, "allow", 443, 443, "0.0.0.0/0")
    if egress:
        e(100, "allow", 1024, 65535, "0.0.0.0/0", out=True)
    return acl


def evaluate(sb, **kw):
    return check(sb, "vpc.nacl_evaluates", nacl="web-nacl", vpc="default", **kw)


def test_nacl_evaluation(sandbox):
    nacl(sandbox)
    out = evaluate(sandbox, direction="inbound", port=80, address="203.0.113.66", expect="deny")
    assert out.passed and "rule 90 (deny tcp 0-65535 203.0.113.66/32)" in out.feedback
    assert evaluate(sandbox, direction="inbound", port=443, address="198.51.100.7", expect="allow").passed
    assert evaluate(sandbox, direction="outbound", port=50000, address="198.51.100.7", expect="allow").passed
    out = evaluate(sandbox, direction="inbound", port=22, address="198.51.100.7", expect="allow")
    assert not out.passed and "denied by the default rule *" in out.feedback


def test_nacl_deny_after_allow_is_a_near_miss(sandbox):
    nacl(sandbox, deny_number=200, egress=False)
    out = evaluate(sandbox, direction="inbound", port=80, address="203.0.113.66", expect="deny", what="HTTP from the attacker")
    assert not out.passed and out.feedback.startswith("HTTP from the attacker is allowed by rule 100 (allow tcp 80-80 0.0.0.0/0)")
    out = evaluate(sandbox, direction="outbound", port=50000, address="198.51.100.7", expect="allow")
    assert not out.passed and "stateless" in out.feedback


def test_nacl_association(sandbox):
    acl = nacl(sandbox)
    out = check(sandbox, "vpc.nacl_associated", nacl="web-nacl", vpc="default", az="us-east-1a")
    assert not out.passed and "is not associated with subnet" in out.feedback
    ec2 = sandbox.client("ec2")
    subnet = ec2.describe_subnets(Filters=[{"Name": "availability-zone", "Values": ["us-east-1a"]},
                                           {"Name": "default-for-az", "Values": ["true"]}])["Subnets"][0]["SubnetId"]
    current = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])["NetworkAcls"][0]
    assoc = next(a["NetworkAclAssociationId"] for a in current["Associations"] if a["SubnetId"] == subnet)
    ec2.replace_network_acl_association(AssociationId=assoc, NetworkAclId=acl)
    assert check(sandbox, "vpc.nacl_associated", nacl="web-nacl", vpc="default", az="us-east-1a").passed


def custom_acl(sb, entries, name="web-nacl"):
    """A network ACL tagged `name` in the default VPC with (number, action, protocol, ports, cidr, egress) entries."""
    ec2 = sb.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    acl = ec2.create_network_acl(VpcId=vpc, TagSpecifications=name_tag("network-acl", name))["NetworkAcl"]["NetworkAclId"]
    for number, action, protocol, ports, cidr, egress in entries:
        extra = {"PortRange": {"From": ports[0], "To": ports[1]}} if ports else {}
        ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=number, Protocol=protocol, RuleAction=action,
                                     Egress=egress, CidrBlock=cidr, **extra)
    return acl


EVERYONE_ELSE = {"address": "0.0.0.0/0", "except": ["203.0.113.66"]}


def test_nacl_allow_only_for_the_sample_visitor_is_not_open_to_everyone(sandbox):
    custom_acl(sandbox, [(90, "deny", "-1", None, "203.0.113.66/32", False),
                         (100, "allow", "6", (80, 80), "198.51.100.7/32", False)])
    out = evaluate(sandbox, direction="inbound", port=80, expect="allow", what="HTTP from everyone else",
                   **EVERYONE_ELSE)
    assert not out.passed
    assert out.feedback.startswith("HTTP from everyone else (TCP 80 from 0.0.0.0/1) is denied by the default rule *")
    # The all-protocols deny (-1) covers HTTP from the attacker.
    out = evaluate(sandbox, direction="inbound", port=80, address="203.0.113.66", expect="deny")
    assert out.passed and "rule 90 (deny all 203.0.113.66/32)" in out.feedback


def test_nacl_equivalent_rules_written_differently_pass(sandbox):
    custom_acl(sandbox, [(50, "deny", "tcp", (80, 443), "203.0.113.66/32", False),
                         (100, "allow", "tcp", (80, 443), "0.0.0.0/1", False),
                         (101, "allow", "tcp", (80, 443), "128.0.0.0/1", False),
                         (100, "allow", "-1", None, "0.0.0.0/0", True)])
    for port in (80, 443):
        assert evaluate(sandbox, direction="inbound", port=port, address="203.0.113.66", expect="deny").passed
        assert evaluate(sandbox, direction="inbound", port=port, expect="allow", **EVERYONE_ELSE).passed
    assert evaluate(sandbox, direction="outbound", port=1024, port_to=65535, expect="allow", **EVERYONE_ELSE).passed


def test_nacl_deny_that_misses_the_port_or_blocks_neighbours(sandbox):
    custom_acl(sandbox, [(90, "deny", "6", (0, 79), "203.0.113.66/32", False),
                         (95, "deny", "6", (443, 443), "203.0.113.0/24", False),
                         (100, "allow", "6", (80, 443), "0.0.0.0/0", False)])
    out = evaluate(sandbox, direction="inbound", port=80, address="203.0.113.66", expect="deny")
    assert not out.passed and "is allowed by rule 100 (allow tcp 80-443 0.0.0.0/0)" in out.feedback
    out = evaluate(sandbox, direction="inbound", port=443, expect="allow", **EVERYONE_ELSE)
    assert not out.passed and "from 203.0.113.0/26) is denied by rule 95" in out.feedback


def test_nacl_replies_to_only_some_ephemeral_ports(sandbox):
    custom_acl(sandbox, [(100, "allow", "6", (49152, 65535), "0.0.0.0/0", True)])
    out = evaluate(sandbox, direction="outbound", port=1024, port_to=65535, expect="allow", what="replies",
                   **EVERYONE_ELSE)
    assert not out.passed and out.feedback.startswith("replies (TCP 1024-49151 to 0.0.0.0/1) is denied")


def test_nacl_left_over_duplicate_does_not_hide_the_one_in_use(sandbox):
    custom_acl(sandbox, [])  # a first attempt, never associated
    acl = nacl(sandbox)
    out = evaluate(sandbox, direction="inbound", port=80, address="203.0.113.66", expect="deny")
    assert not out.passed and "2 network ACLs are tagged Name=web-nacl" in out.feedback
    ec2 = sandbox.client("ec2")
    subnet = ec2.describe_subnets(Filters=[{"Name": "availability-zone", "Values": ["us-east-1a"]},
                                           {"Name": "default-for-az", "Values": ["true"]}])["Subnets"][0]["SubnetId"]
    current = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])["NetworkAcls"][0]
    assoc = next(a["NetworkAclAssociationId"] for a in current["Associations"] if a["SubnetId"] == subnet)
    ec2.replace_network_acl_association(AssociationId=assoc, NetworkAclId=acl)
    assert evaluate(sandbox, direction="inbound", port=80, address="203.0.113.66", expect="deny").passed


def test_peering_and_routes(sandbox):
    ec2 = sandbox.client("ec2")
    a = ec2.create_vpc(CidrBlock="10.10.0.0/16", TagSpecifications=name_tag("vpc", "app-vpc"))["Vpc"]["VpcId"]
    b = ec2.create_vpc(CidrBlock="10.20.0.0/16", TagSpecifications=name_tag("vpc", "shared-vpc"))["Vpc"]["VpcId"]
    out = check(sandbox, "vpc.peering_active", vpc="app-vpc", peer_vpc="shared-vpc")
    assert not out.passed and out.feedback == "there is no peering connection between app-vpc and shared-vpc"
    pcx = ec2.create_vpc_peering_connection(VpcId=a, PeerVpcId=b)["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    out = check(sandbox, "vpc.peering_active", vpc="app-vpc", peer_vpc="shared-vpc")
    assert not out.passed and "must accept it" in out.feedback
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    assert check(sandbox, "vpc.peering_active", vpc="shared-vpc", peer_vpc="app-vpc").passed
    out = check(sandbox, "vpc.route_to_peer", vpc="app-vpc", peer_vpc="shared-vpc")
    assert not out.passed and "has no route for shared-vpc's CIDR 10.20.0.0/16" in out.feedback
    main_a = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [a]}])["RouteTables"][0]["RouteTableId"]
    ec2.create_route(RouteTableId=main_a, DestinationCidrBlock="10.20.0.0/16", VpcPeeringConnectionId=pcx)
    out = check(sandbox, "vpc.route_to_peer", vpc="app-vpc", peer_vpc="shared-vpc")
    assert out.passed and out.feedback == "app-vpc routes 10.20.0.0/16 (shared-vpc) through the peering connection"
    assert not check(sandbox, "vpc.route_to_peer", vpc="shared-vpc", peer_vpc="app-vpc").passed


def test_peering_routes_by_longest_prefix(sandbox):
    ec2 = sandbox.client("ec2")
    a = ec2.create_vpc(CidrBlock="10.10.0.0/16", TagSpecifications=name_tag("vpc", "app-vpc"))["Vpc"]["VpcId"]
    b = ec2.create_vpc(CidrBlock="10.20.0.0/16", TagSpecifications=name_tag("vpc", "shared-vpc"))["Vpc"]["VpcId"]
    pcx = ec2.create_vpc_peering_connection(VpcId=b, PeerVpcId=a)["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    main_a = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [a]}])["RouteTables"][0]["RouteTableId"]
    ec2.create_route(RouteTableId=main_a, DestinationCidrBlock="10.20.0.0/24", VpcPeeringConnectionId=pcx)
    out = check(sandbox, "vpc.route_to_peer", vpc="app-vpc", peer_vpc="shared-vpc")
    assert not out.passed and "(none for 10.20.1.0/24)" in out.feedback
    ec2.create_route(RouteTableId=main_a, DestinationCidrBlock="10.0.0.0/8", VpcPeeringConnectionId=pcx)
    assert check(sandbox, "vpc.route_to_peer", vpc="app-vpc", peer_vpc="shared-vpc").passed  # requested by the peer
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=a)
    ec2.create_route(RouteTableId=main_a, DestinationCidrBlock="10.20.128.0/17", GatewayId=igw)
    out = check(sandbox, "vpc.route_to_peer", vpc="app-vpc", peer_vpc="shared-vpc")
    assert not out.passed and f"10.20.0.0/16 (10.20.128.0/17 of it) goes to {igw}" in out.feedback


def test_gateway_endpoint(sandbox):
    ec2 = sandbox.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16", TagSpecifications=name_tag("vpc", "data-vpc"))["Vpc"]["VpcId"]
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0]["RouteTableId"]
    out = check(sandbox, "vpc.gateway_endpoint", vpc="data-vpc", service="s3")
    assert not out.passed and out.feedback == "data-vpc has no VPC endpoint for com.amazonaws.us-east-1.s3"
    ep = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3", VpcEndpointType="Gateway")["VpcEndpoint"]["VpcEndpointId"]
    out = check(sandbox, "vpc.gateway_endpoint", vpc="data-vpc", service="s3")
    assert not out.passed and "is not associated with data-vpc's main route table" in out.feedback
    ec2.modify_vpc_endpoint(VpcEndpointId=ep, AddRouteTableIds=[main])
    assert check(sandbox, "vpc.gateway_endpoint", vpc="data-vpc", service="s3").passed
    out = check(sandbox, "vpc.gateway_endpoint", vpc="data-vpc", service="s3", bucket="reports")
    assert not out.passed and "also allows s3:GetObject on arn:aws:s3:::lab-some-other-bucket/key" in out.feedback
    policy = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*",
                             "Resource": ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"]}]}
    ec2.modify_vpc_endpoint(VpcEndpointId=ep, PolicyDocument=json.dumps(policy))
    assert check(sandbox, "vpc.gateway_endpoint", vpc="data-vpc", service="s3", bucket="reports").passed


def endpoint_on_main(sb):
    ec2 = sb.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16", TagSpecifications=name_tag("vpc", "data-vpc"))["Vpc"]["VpcId"]
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0]["RouteTableId"]
    return ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3", VpcEndpointType="Gateway",
                                   RouteTableIds=[main])["VpcEndpoint"]["VpcEndpointId"]


def endpoint_policy(sb, ep, *statements):
    sb.client("ec2").modify_vpc_endpoint(VpcEndpointId=ep, PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": list(statements)}))
    return check(sb, "vpc.gateway_endpoint", vpc="data-vpc", service="s3", bucket="reports")


def test_endpoint_policy_is_judged_by_what_it_allows(sandbox):
    ep = endpoint_on_main(sandbox)
    everything = {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}
    only_reports = {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                    "NotResource": ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"]}
    assert endpoint_policy(sandbox, ep, everything, only_reports).passed  # Allow all, Deny the rest: only reports
    out = endpoint_policy(sandbox, ep, {**everything, "Resource": "arn:aws:s3:::reports*"})
    assert not out.passed and "also allows s3:GetObject on arn:aws:s3:::reports-other/key" in out.feedback
    out = endpoint_policy(sandbox, ep, {**everything, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"})
    assert not out.passed and "does not let the jobs write objects to reports" in out.feedback
    out = endpoint_policy(sandbox, ep, {**everything, "Resource": ["arn:aws:s3:::reports/*"]},
                          {**everything, "Action": "s3:ListBucket", "Resource": "*"})
    assert not out.passed and "also allows s3:ListBucket on arn:aws:s3:::lab-some-other-bucket" in out.feedback


def test_endpoint_policy_wildcards_are_probed_where_they_reach(sandbox):
    ep = endpoint_on_main(sandbox)
    write = {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::reports/*"}
    # Reading every bucket's public/ prefix reaches no sample bucket's "key", but it reaches other buckets.
    out = endpoint_policy(sandbox, ep, write, {**write, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*/public/*"})
    assert not out.passed and "also allows s3:GetObject on arn:aws:s3:::zz-other/public/zz-other" in out.feedback
    out = endpoint_policy(sandbox, ep, {**write, "Resource": "arn:aws:s3:::report?/*"})
    assert not out.passed and "also allows s3:PutObject on arn:aws:s3:::reportq/zz-other" in out.feedback
    # A wildcard inside the bucket's own objects stays in the bucket.
    assert endpoint_policy(sandbox, ep, {**write, "Resource": "arn:aws:s3:::reports/*.csv"}).passed


def test_interface_endpoint_is_a_near_miss(sandbox):
    ec2 = sandbox.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16", TagSpecifications=name_tag("vpc", "data-vpc"))["Vpc"]["VpcId"]
    ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3", VpcEndpointType="Interface")
    out = check(sandbox, "vpc.gateway_endpoint", vpc="data-vpc", service="s3")
    assert not out.passed and "is of type Interface" in out.feedback


def test_listers(sandbox):
    from labapp.grading.resources import list_resources

    build(sandbox)
    nacl(sandbox)
    kinds = ["vpc.vpcs", "vpc.subnets", "vpc.route_tables", "vpc.gateways", "vpc.network_acls", "vpc.peering",
             "vpc.endpoints"]
    tables = {t["kind"]: t for t in list_resources(kinds, sandbox.client)}
    assert all(t["error"] is None for t in tables.values())
    assert any(r[0] == "lab-vpc" for r in tables["vpc.vpcs"]["rows"])
    assert any("NAT gateway" in r for r in tables["vpc.gateways"]["rows"])
    web = next(r for r in tables["vpc.network_acls"]["rows"] if r[0] == "web-nacl")
    assert "rule 90 (deny tcp 0-65535 203.0.113.66/32)" in web[4]

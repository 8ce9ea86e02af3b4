"""Live-panel listers for VPC (EC2 API)."""

from . import join, lister
from ..checks.vpc import entry_label, route_target, tag


@lister("vpc.vpcs", "VPCs", ["Name", "Id", "CIDR", "Default"])
def vpc_vpcs(client):
    return [[tag(v) or "—", v["VpcId"], v.get("CidrBlock", ""), "yes" if v.get("IsDefault") else "no"]
            for v in client("ec2").describe_vpcs()["Vpcs"]]


@lister("vpc.subnets", "Subnets", ["Name", "Id", "VPC", "CIDR", "AZ"])
def vpc_subnets(client):
    return [[tag(s) or "—", s["SubnetId"], s["VpcId"], s.get("CidrBlock", ""), s.get("AvailabilityZone", "")]
            for s in client("ec2").describe_subnets()["Subnets"]]


@lister("vpc.route_tables", "Route tables", ["Id", "VPC", "Main", "Subnets", "Routes"])
def vpc_route_tables(client):
    rows = []
    for t in client("ec2").describe_route_tables()["RouteTables"]:
        assocs = t.get("Associations", [])
        routes = [f"{r.get('DestinationCidrBlock') or r.get('DestinationPrefixListId')} -> {route_target(r)}"
                  for r in t.get("Routes", [])]
        rows.append([t["RouteTableId"], t["VpcId"], "yes" if any(a.get("Main") for a in assocs) else "no",
                     join(a["SubnetId"] for a in assocs if a.get("SubnetId")), join(routes)])
    return rows


@lister("vpc.gateways", "Internet and NAT gateways", ["Id", "Kind", "VPC / subnet", "State"])
def vpc_gateways(client):
    ec2 = client("ec2")
    rows = [[g["InternetGatewayId"], "internet gateway", join(a["VpcId"] for a in g.get("Attachments", [])),
             join(a.get("State", "") for a in g.get("Attachments", []))]
            for g in ec2.describe_internet_gateways()["InternetGateways"]]
    rows += [[n["NatGatewayId"], "NAT gateway", n.get("SubnetId", ""), n.get("State", "")]
             for n in ec2.describe_nat_gateways()["NatGateways"]]
    return rows


@lister("vpc.network_acls", "Network ACLs", ["Name", "Id", "VPC", "Subnets", "Inbound", "Outbound"])
def vpc_network_acls(client):
    rows = []
    for n in client("ec2").describe_network_acls()["NetworkAcls"]:
        entries = sorted(n.get("Entries", []), key=lambda e: int(e["RuleNumber"]))
        inbound = [entry_label(e) for e in entries if not e.get("Egress") and int(e["RuleNumber"]) < 32767]
        outbound = [entry_label(e) for e in entries if e.get("Egress") and int(e["RuleNumber"]) < 32767]
        rows.append([tag(n) or ("default" if n.get("IsDefault") else "—"), n["NetworkAclId"], n["VpcId"],
                     join(a["SubnetId"] for a in n.get("Associations", [])), join(inbound), join(outbound)])
    return rows


@lister("vpc.peering", "VPC peering connections", ["Id", "Requester", "Accepter", "Status"])
def vpc_peering(client):
    return [[p["VpcPeeringConnectionId"], p["RequesterVpcInfo"].get("VpcId", ""),
             p["AccepterVpcInfo"].get("VpcId", ""), p["Status"]["Code"]]
            for p in client("ec2").describe_vpc_peering_connections()["VpcPeeringConnections"]]


@lister("vpc.endpoints", "VPC endpoints", ["Id", "Service", "Type", "VPC", "Route tables"])
def vpc_endpoints(client):
    return [[e["VpcEndpointId"], e.get("ServiceName", ""), e.get("VpcEndpointType", ""), e.get("VpcId", ""),
             join(e.get("RouteTableIds", []))]
            for e in client("ec2").describe_vpc_endpoints()["VpcEndpoints"]]

"""VPC check kinds (EC2 API): VPCs, subnets and their routes, internet and NAT gateways, network ACLs
(evaluated rule by rule, as AWS would), peering connections and gateway endpoints.

The emulator never moves packets, so these checks read configuration and reason about it the way AWS
would: a subnet is public when its route table (its explicit one, else the VPC's main table) sends traffic
to an internet gateway; a network ACL is evaluated lowest rule number first, first match wins.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass

from .. import routing
from . import Check, CheckFailed, failed, passed, register, schema, string

VPC_REF = string("VPC: its Name tag, a vpc- id, or 'default' for the default VPC")
SUBNET_REF = string("subnet: its Name tag or a subnet- id")


def tag(resource: dict, key: str = "Name") -> str | None:
    return next((t["Value"] for t in resource.get("Tags") or [] if t["Key"] == key), None)


def label(resource: dict, id_key: str) -> str:
    name = tag(resource)
    return f"{name} ({resource[id_key]})" if name else resource[id_key]


def find_vpc(ctx, ref: str) -> dict:
    ec2 = ctx.client("ec2")
    if ref == "default":
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
        if not vpcs:
            raise CheckFailed("this account has no default VPC")
        return vpcs[0]
    if ref.startswith("vpc-"):
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [ref]}])["Vpcs"]
    else:
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [ref]}])["Vpcs"]
    if not vpcs:
        raise CheckFailed(f"there is no VPC {'tagged Name=' if not ref.startswith('vpc-') else ''}{ref}")
    if len(vpcs) > 1:
        ids = ", ".join(v["VpcId"] for v in vpcs)
        raise CheckFailed(f"{len(vpcs)} VPCs are tagged Name={ref} ({ids}) — keep exactly one")
    return vpcs[0]


def find_subnet(ctx, ref: str, vpc_id: str | None = None) -> dict:
    filters = [{"Name": "subnet-id" if ref.startswith("subnet-") else "tag:Name", "Values": [ref]}]
    if vpc_id:
        filters.append({"Name": "vpc-id", "Values": [vpc_id]})
    subnets = ctx.client("ec2").describe_subnets(Filters=filters)["Subnets"]
    if not subnets:
        where = f" in {vpc_id}" if vpc_id else ""
        raise CheckFailed(f"there is no subnet {'tagged Name=' if not ref.startswith('subnet-') else ''}{ref}{where}")
    if len(subnets) > 1:
        raise CheckFailed(f"{len(subnets)} subnets are tagged Name={ref} — keep exactly one")
    return subnets[0]


def route_tables(ctx, vpc_id: str) -> list[dict]:
    return ctx.client("ec2").describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]


def table_of_subnet(ctx, subnet: dict) -> tuple[dict, bool]:
    """(route table used by the subnet, is it the main table by default)."""
    tables = route_tables(ctx, subnet["VpcId"])
    for table in tables:
        for assoc in table.get("Associations", []):
            if assoc.get("SubnetId") == subnet["SubnetId"] and assoc.get("AssociationState", {}).get("State",
                                                                                                     "associated") == "associated":
                return table, False
    for table in tables:
        if any(a.get("Main") for a in table.get("Associations", [])):
            return table, True
    raise CheckFailed(f"VPC {subnet['VpcId']} has no main route table")


def route_target(route: dict) -> str:
    for key in ("GatewayId", "NatGatewayId", "VpcPeeringConnectionId", "TransitGatewayId", "NetworkInterfaceId",
                "InstanceId", "EgressOnlyInternetGatewayId", "CarrierGatewayId"):
        if route.get(key):
            return route[key]
    return "?"


@dataclass
class Network:
    """What a route's target depends on: a route to an internet gateway that is not attached to the VPC, or to
    a NAT gateway that was deleted, is a blackhole on AWS (it stays in the table but carries nothing)."""

    vpc: dict
    igws: set[str]  # internet gateways attached to this VPC
    nats: dict[str, dict]  # every NAT gateway of the account, by id

    @classmethod
    def of(cls, ctx, vpc: dict) -> Network:
        ec2 = ctx.client("ec2")
        igws = {g["InternetGatewayId"] for g in ec2.describe_internet_gateways(
            Filters=[{"Name": "attachment.vpc-id", "Values": [vpc["VpcId"]]}])["InternetGateways"]
            if any(a.get("VpcId") == vpc["VpcId"] and a.get("State", "available") in ("available", "attached")
                   for a in g.get("Attachments", []))}
        nats = {n["NatGatewayId"]: n for n in ec2.describe_nat_gateways().get("NatGateways", [])}
        return cls(vpc, igws, nats)

    @property
    def cidrs(self) -> list[str]:
        blocks = [a["CidrBlock"] for a in self.vpc.get("CidrBlockAssociationSet", [])
                  if a.get("CidrBlockState", {}).get("State", "associated") == "associated"]
        return blocks or [self.vpc["CidrBlock"]]

    def dead_end(self, route: dict) -> str | None:
        """Why this route carries nothing (None: it works)."""
        target = route_target(route)
        if target.startswith("igw-") and target not in self.igws:
            return f"internet gateway {target} is not attached to {self.vpc['VpcId']}"
        if target.startswith("nat-"):
            nat = self.nats.get(target)
            if nat is None or nat.get("State") not in ("available", "pending"):
                return f"NAT gateway {target} is {nat.get('State') if nat else 'gone'}"
            if nat.get("VpcId") and nat["VpcId"] != self.vpc["VpcId"]:
                return f"NAT gateway {target} is in another VPC ({nat['VpcId']})"
        if str(route.get("State", "active")).lower() == "blackhole":
            return f"the route to {target} is marked blackhole"
        return None

    def reaches_igw(self, route: dict) -> bool:
        return route_target(route).startswith("igw-") and self.dead_end(route) is None


def ipv4_routes(table: dict) -> list[dict]:
    return [r for r in table.get("Routes", []) if r.get("DestinationCidrBlock")]


def internet_routes(table: dict, net: Network | None = None) -> list[dict]:
    """Routes of the table that lead to an internet gateway (any destination: IPv4, IPv6 or a prefix list)
    and, given the network, one that really is attached to the VPC."""
    return [r for r in table.get("Routes", []) if str(r.get("GatewayId", "")).startswith("igw-")
            and (net is None or net.reaches_igw(r))]


def destination(route: dict) -> str:
    return (route.get("DestinationCidrBlock") or route.get("DestinationIpv6CidrBlock")
            or route.get("DestinationPrefixListId") or "?")


def internet_exit_problem(table: dict, net: Network, want: str) -> str | None:
    """Does the whole public internet leave through `want` ("igw" or "nat")? None if so, else what goes
    elsewhere, in the learner's terms. Judged by longest prefix match over the whole address space, so
    0.0.0.0/1 + 128.0.0.0/1 counts as a default route and a more specific route that escapes is found."""
    routes = ipv4_routes(table)
    for piece, route in routing.internet_routing(routes, net.cidrs):
        if route is None:
            if all(route_target(r) == "local" for r in routes):
                return "sends 0.0.0.0/0 to nowhere (it has only the local route)"
            return f"has no route for internet addresses such as {piece.describe()}"
        target = route_target(route)
        dead = net.dead_end(route)
        if dead:
            return f"sends {destination(route)} to {target}, a blackhole ({dead})"
        if not target.startswith(f"{want}-"):
            return f"sends {destination(route)} to {target}"
    return None


def subnet_is_public(ctx, subnet: dict) -> tuple[bool, dict, bool]:
    """(has a working route to an internet gateway for some destination, its route table, is that the main table)."""
    table, main = table_of_subnet(ctx, subnet)
    net = Network.of(ctx, find_vpc(ctx, subnet["VpcId"]))
    return bool(internet_routes(table, net)), table, main


def table_label(table: dict, main: bool) -> str:
    return f"{table['RouteTableId']}{', the VPC main table' if main else ''}"


def same_cidr(a: str | None, b: str) -> bool:
    """10.0.1.0/24 and 10.0.1.0/24 written another way (AWS normalises the block) are the same block."""
    try:
        return ipaddress.ip_network(str(a), strict=False) == ipaddress.ip_network(b, strict=False)
    except ValueError:
        return False


@register("vpc.vpc")
class VpcExists(Check):
    description = "A VPC with this Name tag exists (optionally: with this IPv4 CIDR block)."
    params_schema = schema({"vpc": VPC_REF, "cidr": string("required primary IPv4 CIDR, e.g. 10.0.0.0/16")}, ["vpc"])

    def run(self, ctx, *, vpc, cidr=None):
        found = find_vpc(ctx, vpc)
        if cidr and not same_cidr(found.get("CidrBlock"), cidr):
            return failed(f"VPC {label(found, 'VpcId')} has CIDR {found.get('CidrBlock')}, not {cidr}")
        return passed(f"VPC {label(found, 'VpcId')} exists with CIDR {found.get('CidrBlock')}")


@register("vpc.internet_gateway")
class InternetGatewayAttached(Check):
    description = "An internet gateway is attached to the VPC."
    params_schema = schema({"vpc": VPC_REF}, ["vpc"])

    def run(self, ctx, *, vpc):
        found = find_vpc(ctx, vpc)
        igws = ctx.client("ec2").describe_internet_gateways(
            Filters=[{"Name": "attachment.vpc-id", "Values": [found["VpcId"]]}])["InternetGateways"]
        if not igws:
            return failed(f"no internet gateway is attached to {label(found, 'VpcId')} — create one and attach it")
        return passed(f"internet gateway {igws[0]['InternetGatewayId']} is attached to {label(found, 'VpcId')}")


@register("vpc.subnet")
class SubnetRouting(Check):
    description = (
        "The subnet exists in the VPC (optionally: with this CIDR / AZ) and, by longest-prefix match over the whole "
        "public internet in the route table it really uses (its own, else the main table), all internet traffic "
        "leaves through an internet gateway attached to the VPC (`internet: igw`), or through a working NAT "
        "gateway with no route to an internet gateway (`nat`), or no route reaches an internet gateway (`none`)."
    )
    params_schema = schema(
        {"subnet": SUBNET_REF, "vpc": VPC_REF, "cidr": string("required CIDR block"),
         "az": string("required Availability Zone, e.g. us-east-1a"),
         "internet": {"enum": ["igw", "nat", "none"], "description": "where the subnet's default route must lead"}},
        ["subnet", "vpc", "internet"],
    )

    def run(self, ctx, *, subnet, vpc, internet, cidr=None, az=None):
        v = find_vpc(ctx, vpc)
        sn = find_subnet(ctx, subnet, v["VpcId"])
        name = label(sn, "SubnetId")
        if cidr and not same_cidr(sn.get("CidrBlock"), cidr):
            return failed(f"subnet {name} has CIDR {sn.get('CidrBlock')}, not {cidr}")
        if az and sn.get("AvailabilityZone") != az:
            return failed(f"subnet {name} is in {sn.get('AvailabilityZone')}, not {az} — a subnet cannot move: "
                          "create it again with --availability-zone")
        table, main = table_of_subnet(ctx, sn)
        net = Network.of(ctx, v)
        where = f"{name} uses route table {table_label(table, main)}"
        if internet == "igw":
            problem = internet_exit_problem(table, net, "igw")
            if problem is None:
                igw = sorted(net.igws)[0] if net.igws else "?"
                return passed(f"{where}, which sends the internet (0.0.0.0/0) to {igw}: it is a public subnet")
            return failed(f"{where}, which {problem} — it needs 0.0.0.0/0 to the internet gateway attached to "
                          f"{vpc} (in the table associated with the subnet)")
        igw = internet_routes(table, net)
        if igw:
            return failed(f"{where}, which sends {destination(igw[0])} to internet gateway {igw[0]['GatewayId']}: "
                          "the subnet is public, so it is not private")
        if internet == "nat":
            problem = internet_exit_problem(table, net, "nat")
            if problem is not None:
                return failed(f"{where}, which {problem} — add a default route (0.0.0.0/0) to the NAT gateway")
            nat_ids = {route_target(r) for r in ipv4_routes(table) if route_target(r).startswith("nat-")}
            for nat_id in sorted(nat_ids):
                nat = net.nats[nat_id]
                if nat.get("ConnectivityType", "public") != "public":
                    return failed(f"{where}, whose NAT gateway {nat_id} is private (no Elastic IP): "
                                  "it cannot reach the internet")
                if nat.get("SubnetId") == sn["SubnetId"]:
                    return failed(f"{where}, whose NAT gateway {nat_id} sits in {name} itself — a NAT gateway must "
                                  "sit in a public subnet")
                home = find_subnet(ctx, nat["SubnetId"], v["VpcId"])
                home_table, home_main = table_of_subnet(ctx, home)
                if internet_exit_problem(home_table, net, "igw"):
                    return failed(f"{where}, whose NAT gateway {nat_id} sits in {label(home, 'SubnetId')}, which is "
                                  "not public (its route table does not send 0.0.0.0/0 to the internet gateway): "
                                  "the NAT gateway cannot reach the internet")
            return passed(f"{where}, which sends 0.0.0.0/0 to NAT gateway {', '.join(sorted(nat_ids))}: "
                          "private with outbound access")
        return passed(f"{where}, which has no route to an internet gateway: it is private")


@register("vpc.main_table_private")
class MainTablePrivate(Check):
    description = ("The VPC's main route table has no working route to an internet gateway (every subnet without "
                   "its own association uses it, so a route there makes them all public).")
    params_schema = schema({"vpc": VPC_REF}, ["vpc"])

    def run(self, ctx, *, vpc):
        v = find_vpc(ctx, vpc)
        tables = route_tables(ctx, v["VpcId"])
        main = next((t for t in tables if any(a.get("Main") for a in t.get("Associations", []))), None)
        if main is None:
            raise CheckFailed(f"{vpc} has no main route table")
        igw = internet_routes(main, Network.of(ctx, v))
        if igw:
            return failed(f"the main route table {main['RouteTableId']} of {vpc} sends {destination(igw[0])} to "
                          f"{igw[0]['GatewayId']}: every subnet without its own route table becomes public — "
                          "put the internet route in a table associated with the public subnet instead")
        return passed(f"the main route table {main['RouteTableId']} of {vpc} has no route to an internet gateway")


@register("vpc.nat_gateway")
class NatGateway(Check):
    description = ("An available public NAT gateway with an Elastic IP sits in the named subnet, and that subnet is "
                   "public (its internet traffic leaves through an internet gateway attached to the VPC).")
    params_schema = schema({"vpc": VPC_REF, "subnet": SUBNET_REF}, ["vpc", "subnet"])

    def run(self, ctx, *, vpc, subnet):
        v = find_vpc(ctx, vpc)
        net = Network.of(ctx, v)
        nats = [n for n in net.nats.values() if n.get("VpcId") == v["VpcId"]
                and n.get("State") in ("available", "pending")]
        if not nats:
            return failed(f"{label(v, 'VpcId')} has no NAT gateway — create one in a public subnet")
        sn = find_subnet(ctx, subnet, v["VpcId"])
        here = [n for n in nats if n.get("SubnetId") == sn["SubnetId"]]
        if not here:
            elsewhere = ", ".join(f"{n['NatGatewayId']} in {n.get('SubnetId')}" for n in nats)
            return failed(f"the NAT gateway is not in {label(sn, 'SubnetId')} ({elsewhere}) — a NAT gateway must sit "
                          "in a public subnet")
        public_nats = [n for n in here if n.get("ConnectivityType", "public") == "public"
                       and any(a.get("PublicIp") or a.get("AllocationId") for a in n.get("NatGatewayAddresses", []))]
        if not public_nats:
            return failed(f"NAT gateway {here[0]['NatGatewayId']} is private (no Elastic IP) — it cannot reach the "
                          "internet; create it with --allocation-id")
        nat = public_nats[0]
        table, main = table_of_subnet(ctx, sn)
        problem = internet_exit_problem(table, net, "igw")
        if problem:
            return failed(f"NAT gateway {nat['NatGatewayId']} is in {label(sn, 'SubnetId')}, but that subnet's route "
                          f"table ({table_label(table, main)}) {problem}, not to the internet gateway")
        return passed(f"NAT gateway {nat['NatGatewayId']} is in public subnet {label(sn, 'SubnetId')}")


# --- network ACLs -------------------------------------------------------------------------------------

def find_nacl(ctx, name: str, vpc_id: str) -> dict:
    """The network ACL tagged Name=`name`; of several, the one associated with subnets (a first attempt left
    behind must not hide the one in use), and only if that leaves exactly one."""
    nacls = ctx.client("ec2").describe_network_acls(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "tag:Name", "Values": [name]}])["NetworkAcls"]
    if not nacls:
        raise CheckFailed(f"there is no network ACL tagged Name={name} in {vpc_id}")
    if len(nacls) > 1:
        nacls = [n for n in nacls if n.get("Associations")] or nacls
    if len(nacls) > 1:
        ids = ", ".join(n["NetworkAclId"] for n in nacls)
        raise CheckFailed(f"{len(nacls)} network ACLs are tagged Name={name} ({ids}) — keep exactly one")
    return nacls[0]


def entry_label(entry: dict | None) -> str:
    if entry is None:
        return "the default rule * (deny)"
    proto = {"-1": "all", "6": "tcp", "17": "udp", "1": "icmp"}.get(routing.entry_protocol(entry),
                                                                   entry.get("Protocol"))
    rng = entry.get("PortRange") or {}
    ports = f" {rng['From']}-{rng['To']}" if rng and proto in ("tcp", "udp") else ""
    return f"rule {entry['RuleNumber']} ({entry['RuleAction']} {proto}{ports} {entry.get('CidrBlock')})"


def nacl_decision(nacl: dict, egress: bool, protocol: str, port: int, address: str) -> tuple[str, dict | None]:
    """The action for one connection and the rule that decides it (first match in rule-number order)."""
    verdict = routing.acl_verdicts(nacl, egress, protocol, routing.address_span(address),
                                   routing.Span(port, port))[0]
    return verdict.action, verdict.entry


@register("vpc.nacl_associated")
class NaclAssociated(Check):
    description = "The network ACL (by Name tag) is associated with the subnet (by Name tag, id, or the VPC's subnet in `az`)."
    params_schema = schema({"nacl": string("Name tag of the network ACL"), "vpc": VPC_REF, "subnet": SUBNET_REF,
                            "az": string("availability zone: the VPC's (default) subnet in it")}, ["nacl", "vpc"])

    def run(self, ctx, *, nacl, vpc, subnet=None, az=None):
        v = find_vpc(ctx, vpc)
        acl = find_nacl(ctx, nacl, v["VpcId"])
        if subnet:
            sn = find_subnet(ctx, subnet, v["VpcId"])
        else:
            subnets = ctx.client("ec2").describe_subnets(Filters=[
                {"Name": "vpc-id", "Values": [v["VpcId"]]}, {"Name": "availability-zone", "Values": [az]}])["Subnets"]
            if not subnets:
                raise CheckFailed(f"{v['VpcId']} has no subnet in {az}")
            sn = sorted(subnets, key=lambda s: not s.get("DefaultForAz"))[0]  # the default subnet first
        if any(a.get("SubnetId") == sn["SubnetId"] for a in acl.get("Associations", [])):
            return passed(f"network ACL {nacl} ({acl['NetworkAclId']}) is associated with {label(sn, 'SubnetId')}")
        return failed(f"network ACL {nacl} is not associated with subnet {label(sn, 'SubnetId')} — replace the "
                      "subnet's network ACL association")


@register("vpc.nacl_evaluates")
class NaclEvaluates(Check):
    description = ("Evaluating the ACL's rules as AWS does (lowest number first, first match wins, default deny), "
                   "traffic for protocol/port (every port up to `port_to`) from (inbound) or to (outbound) `address` "
                   "(an address, or a CIDR: every address in it but `except`) gets `expect`.")
    params_schema = schema(
        {"nacl": string("Name tag of the network ACL"), "vpc": VPC_REF,
         "direction": {"enum": ["inbound", "outbound"]},
         "protocol": {"enum": ["tcp", "udp"], "default": "tcp"},
         "port": {"type": "integer", "minimum": 0, "maximum": 65535},
         "port_to": {"type": "integer", "minimum": 0, "maximum": 65535,
                     "description": "last port of a range that must all get `expect`"},
         "address": string("the remote IPv4 address, or a CIDR block meaning every address in it"),
         "except": {"type": "array", "items": string("an address or CIDR left out of `address`")},
         "expect": {"enum": ["allow", "deny"]},
         "what": string("how to name this traffic in feedback, e.g. 'HTTP from the attacker'")},
        ["nacl", "vpc", "direction", "port", "address", "expect"],
    )

    def run(self, ctx, *, nacl, vpc, direction, port, address, expect, protocol="tcp", port_to=None, what=None,
            **more):
        excluded = [routing.address_span(a) for a in more.get("except") or []]
        v = find_vpc(ctx, vpc)
        acl = find_nacl(ctx, nacl, v["VpcId"])
        ports = routing.Span(port, port_to if port_to is not None else port)
        verdicts = routing.acl_verdicts(acl, direction == "outbound", protocol, routing.address_span(address),
                                        ports, cuts=excluded)
        wrong = routing.first_wrong(verdicts, expect, skip=lambda x: any(x.addresses.within(e) for e in excluded))
        toward = "from" if direction == "inbound" else "to"
        what = what or f"{direction} {protocol.upper()} {port} {toward} {address}"
        if wrong is None:
            deciders = {entry_label(x.entry) for x in verdicts
                        if not any(x.addresses.within(e) for e in excluded)}
            return passed(f"{what} is {'allowed' if expect == 'allow' else 'denied'} by "
                          f"{', '.join(sorted(deciders))}")
        case = ""
        if len(verdicts) > 1:  # name the part of the traffic that is wrong
            port_text = f"{wrong.ports.first}" if wrong.ports.first == wrong.ports.last else \
                f"{wrong.ports.first}-{wrong.ports.last}"
            case = f" ({protocol.upper()} {port_text} {toward} {wrong.addresses.describe()})"
        if expect == "deny":
            return failed(f"{what}{case} is allowed by {entry_label(wrong.entry)} — a deny rule must come first "
                          "(a lower rule number)")
        return failed(f"{what}{case} is denied by {entry_label(wrong.entry)} — add an allow rule for it "
                      "(network ACLs are stateless: return traffic needs its own rule)")


# --- peering, routes, endpoints ---------------------------------------------------------------------


def peering_between(ctx, a: dict, b: dict) -> list[dict]:
    pcxs = ctx.client("ec2").describe_vpc_peering_connections()["VpcPeeringConnections"]
    ids = {a["VpcId"], b["VpcId"]}
    return [p for p in pcxs if {p["RequesterVpcInfo"].get("VpcId"), p["AccepterVpcInfo"].get("VpcId")} == ids]


@register("vpc.peering_active")
class PeeringActive(Check):
    description = "A VPC peering connection between the two VPCs is active (requested and accepted)."
    params_schema = schema({"vpc": VPC_REF, "peer_vpc": VPC_REF}, ["vpc", "peer_vpc"])

    def run(self, ctx, *, vpc, peer_vpc):
        a, b = find_vpc(ctx, vpc), find_vpc(ctx, peer_vpc)
        pcxs = peering_between(ctx, a, b)
        if not pcxs:
            return failed(f"there is no peering connection between {vpc} and {peer_vpc}")
        active = [p for p in pcxs if p["Status"]["Code"] == "active"]
        if not active:
            states = ", ".join(f"{p['VpcPeeringConnectionId']} is {p['Status']['Code']}" for p in pcxs)
            return failed(f"the peering between {vpc} and {peer_vpc} is not active ({states}) — the accepter side "
                          "must accept it")
        return passed(f"peering {active[0]['VpcPeeringConnectionId']} between {vpc} and {peer_vpc} is active")


@register("vpc.route_to_peer")
class RouteToPeer(Check):
    description = ("The VPC's main route table (or every table of the VPC with `tables: all`) routes the peer "
                   "VPC's CIDR through an active peering connection between the two VPCs.")
    params_schema = schema({"vpc": VPC_REF, "peer_vpc": VPC_REF,
                            "tables": {"enum": ["main", "all"], "default": "main"}}, ["vpc", "peer_vpc"])

    def run(self, ctx, *, vpc, peer_vpc, tables="main"):
        a, b = find_vpc(ctx, vpc), find_vpc(ctx, peer_vpc)
        pcx_ids = {p["VpcPeeringConnectionId"] for p in peering_between(ctx, a, b) if p["Status"]["Code"] == "active"}
        want = routing.address_span(b["CidrBlock"])
        rts = route_tables(ctx, a["VpcId"])
        if tables == "main":
            rts = [t for t in rts if any(x.get("Main") for x in t.get("Associations", []))]
        for table in rts:
            # Longest prefix match over the whole peer CIDR: a wider route (10.0.0.0/8) carries it too, and a
            # more specific route elsewhere takes part of it away.
            for piece, route in routing.routing_of(ipv4_routes(table), want):
                if route is None:
                    return failed(f"route table {table['RouteTableId']} of {vpc} has no route for {peer_vpc}'s "
                                  f"CIDR {b['CidrBlock']}" + (f" (none for {piece.describe()})"
                                                              if piece != want else ""))
                if route.get("VpcPeeringConnectionId") not in pcx_ids:
                    part = "" if piece == want else f" ({piece.describe()} of it)"
                    return failed(f"in {table['RouteTableId']} of {vpc}, {b['CidrBlock']}{part} goes to "
                                  f"{route_target(route)}, not to an active peering connection with {peer_vpc}")
        return passed(f"{vpc} routes {b['CidrBlock']} ({peer_vpc}) through the peering connection")


# What an endpoint policy lets through is judged by evaluating it (labapp.grading.policy), not by reading
# its Resource lists: an Allow of "*" narrowed by a Deny with NotResource is as tight as a list of two ARNs,
# and a wildcard like arn:aws:s3:::reports-* reaches other buckets.
PROBE_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket")


def endpoint_policy_problem(document: str | None, bucket: str) -> str | None:
    from .. import policy

    doc = document or '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}'
    try:
        json.loads(doc)
    except ValueError:
        return "is not valid JSON"
    if policy.evaluate(doc, "s3:PutObject", f"arn:aws:s3:::{bucket}/reports/report.csv") != policy.ALLOW:
        return f"does not let the jobs write objects to {bucket} (s3:PutObject on arn:aws:s3:::{bucket}/*)"
    targets = []
    for other in ("lab-some-other-bucket", f"{bucket}-other", f"{bucket}2"):
        targets += [f"arn:aws:s3:::{other}/key", f"arn:aws:s3:::{other}"]
    targets += [t for t in resource_probes(doc) if t.split(":::", 1)[1].split("/", 1)[0] != bucket]
    for target in targets:
        for action in PROBE_ACTIONS:
            if (action == "s3:ListBucket") != ("/" not in target.split(":::", 1)[1]):
                continue  # ListBucket acts on a bucket, the object actions on an object
            if policy.evaluate(doc, action, target) == policy.ALLOW:
                return (f"also allows {action} on {target} — allow only arn:aws:s3:::{bucket} and "
                        f"arn:aws:s3:::{bucket}/*")
    return None


def resource_probes(doc: str) -> list[str]:
    """S3 ARNs the policy's own Resource patterns match, wildcards filled in (arn:aws:s3:::*/public/* ->
    arn:aws:s3:::zz-other/public/zz-other): three sample buckets cannot show every bucket a pattern reaches,
    but a pattern always reaches the ARN made from it."""
    try:
        statements = json.loads(doc).get("Statement", [])
    except (ValueError, AttributeError):
        return []
    out = []
    for st in statements if isinstance(statements, list) else [statements]:
        resources = st.get("Resource", []) if isinstance(st, dict) else []
        for pattern in [resources] if isinstance(resources, str) else resources:
            # "*" alone (and arn:aws:s3:::*) already meets the fixed sample buckets
            if not isinstance(pattern, str) or not pattern.lower().startswith("arn:aws:s3:::"):
                continue
            filled = "arn:aws:s3:::" + pattern[len("arn:aws:s3:::"):].replace("*", "zz-other").replace("?", "q")
            bucket_arn = filled.split("/", 1)[0]
            out += [filled] if filled != bucket_arn else []
            out += [bucket_arn + "/key", bucket_arn]
    return out


@register("vpc.gateway_endpoint")
class GatewayEndpoint(Check):
    description = ("A gateway VPC endpoint for the service exists in the VPC and is associated with the VPC's main "
                   "route table; with `bucket`, its policy (evaluated) lets s3:PutObject reach that bucket's objects "
                   "and no S3 action reach any other bucket.")
    params_schema = schema({"vpc": VPC_REF, "service": string("e.g. s3 or dynamodb"),
                            "bucket": string("the only bucket the endpoint policy may allow")}, ["vpc", "service"])

    def run(self, ctx, *, vpc, service, bucket=None):
        v = find_vpc(ctx, vpc)
        name = f"com.amazonaws.{ctx.client('ec2').meta.region_name}.{service}"
        eps = [e for e in ctx.client("ec2").describe_vpc_endpoints(
            Filters=[{"Name": "vpc-id", "Values": [v["VpcId"]]}])["VpcEndpoints"]
            if e.get("ServiceName") == name and e.get("State", "available").lower() not in ("deleted", "deleting")]
        if not eps:
            return failed(f"{vpc} has no VPC endpoint for {name}")
        gateway = [e for e in eps if e.get("VpcEndpointType", "Gateway") == "Gateway"]
        if not gateway:
            return failed(f"the endpoint for {name} in {vpc} is of type {eps[0].get('VpcEndpointType')} — this task "
                          "wants a gateway endpoint (free, used through route tables)")
        main = next((t["RouteTableId"] for t in route_tables(ctx, v["VpcId"])
                     if any(a.get("Main") for a in t.get("Associations", []))), None)
        ep = next((e for e in gateway if main in e.get("RouteTableIds", [])), None)
        if ep is None:
            return failed(f"gateway endpoint {gateway[0]['VpcEndpointId']} is not associated with {vpc}'s main route "
                          f"table {main} — without it no subnet's traffic uses the endpoint")
        if bucket:
            problem = endpoint_policy_problem(ep.get("PolicyDocument"), bucket)
            if problem:
                return failed(f"the policy of {ep['VpcEndpointId']} {problem}")
            return passed(f"gateway endpoint {ep['VpcEndpointId']} serves {vpc}'s main route table and allows only {bucket}")
        return passed(f"gateway endpoint {ep['VpcEndpointId']} for {name} is associated with {vpc}'s main route table")

"""labapp/grading/routing.py: longest-prefix routing and first-match ACL verdicts over whole address ranges."""

from labapp.grading import routing


def route(cidr, target):
    key = "NatGatewayId" if target.startswith("nat-") else "GatewayId"
    return {"DestinationCidrBlock": cidr, key: target}


def test_internet_routing_finds_the_route_for_every_public_address():
    routes = [route("10.0.0.0/16", "local"), route("0.0.0.0/1", "igw-1"), route("128.0.0.0/1", "igw-1"),
              route("52.0.0.0/8", "nat-1")]
    by_target = {}
    for piece, chosen in routing.internet_routing(routes, ["10.0.0.0/16"]):
        by_target.setdefault(chosen and (chosen.get("GatewayId") or chosen.get("NatGatewayId")), []).append(piece)
    assert set(by_target) == {"igw-1", "nat-1"}
    assert [p.cidrs() for p in by_target["nat-1"]] == [["52.0.0.0/8"]]
    # Private and special ranges are not "the internet", so an igw default route need not cover them.
    assert not any(p.within(routing.cidr_span("10.0.0.0/8")) for p in by_target["igw-1"])


def test_no_route_leaves_pieces_unrouted():
    pieces = routing.internet_routing([route("0.0.0.0/1", "igw-1")], [])
    assert any(chosen is None and p.first >= 2 ** 31 for p, chosen in pieces)


def entry(number, action, cidr, protocol="6", ports=None, egress=False):
    out = {"RuleNumber": number, "RuleAction": action, "CidrBlock": cidr, "Protocol": protocol, "Egress": egress}
    if ports:
        out["PortRange"] = {"From": ports[0], "To": ports[1]}
    return out


def test_acl_first_match_wins_per_range_of_addresses_and_ports():
    acl = {"Entries": [entry(200, "deny", "203.0.113.66/32", "-1"), entry(100, "allow", "0.0.0.0/0", "tcp", (80, 80)),
                       entry(32767, "deny", "0.0.0.0/0", "-1")]}
    verdicts = routing.acl_verdicts(acl, False, "tcp", routing.address_span("203.0.113.66"), routing.Span(80, 80))
    assert [(v.action, v.entry["RuleNumber"]) for v in verdicts] == [("allow", 100)]  # the deny at 200 is useless
    verdicts = routing.acl_verdicts(acl, False, "tcp", routing.address_span("0.0.0.0/0"), routing.Span(79, 81))
    assert {(v.ports.first, v.ports.last, v.action) for v in verdicts} == {(79, 79, "deny"), (80, 80, "allow"),
                                                                          (81, 81, "deny")}

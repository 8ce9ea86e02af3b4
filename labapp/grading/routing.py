"""Address-space reasoning for VPC graders: longest-prefix routing and first-match network ACLs.

Graders must judge what a configuration *does*, not how it is written: `0.0.0.0/1` + `128.0.0.0/1` to an
internet gateway is a default route, a more specific route shadows a wider one, an ACL's allow at rule 100
makes its deny at rule 200 useless for the traffic both match. Rather than probing a few sample addresses
(a learner who allows exactly the sample would pass), these helpers cut the whole space into the ranges on
which every rule either fully applies or not at all, and decide each range once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass

IPV4_SIZE = 2 ** 32

# Ranges that are not "the internet": private, shared, loopback, link-local, multicast, reserved.
NOT_INTERNET = ("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
                "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4")


@dataclass(frozen=True)
class Span:
    """An inclusive range of integers (IPv4 addresses as ints, or ports)."""

    first: int
    last: int

    def within(self, other: Span) -> bool:
        return other.first <= self.first and self.last <= other.last

    def cidrs(self) -> list[str]:
        """The range as CIDR blocks (for feedback)."""
        lo, hi = ipaddress.IPv4Address(self.first), ipaddress.IPv4Address(self.last)
        return [str(n) for n in ipaddress.summarize_address_range(lo, hi)]

    def describe(self) -> str:
        """The range's first CIDR block: enough for feedback to name an example."""
        return self.cidrs()[0]


def cidr_span(cidr: str) -> Span | None:
    """The IPv4 range of a CIDR block (None for IPv6 or text that is not a CIDR)."""
    try:
        net = ipaddress.ip_network(str(cidr).strip(), strict=False)
    except ValueError:
        return None
    if net.version != 4:
        return None
    return Span(int(net.network_address), int(net.broadcast_address))


def address_span(address: str) -> Span:
    span = cidr_span(address)
    if span is None:
        raise ValueError(f"not an IPv4 address or CIDR: {address}")
    return span


def pieces(within: Span, spans: Iterable[Span]) -> list[Span]:
    """Cut `within` at every edge of `spans`: each piece is wholly inside or wholly outside every span."""
    cuts = {within.first, within.last + 1}
    for s in spans:
        for edge in (s.first, s.last + 1):
            if within.first < edge <= within.last:
                cuts.add(edge)
    edges = sorted(cuts)
    return [Span(a, b - 1) for a, b in zip(edges, edges[1:])]


def internet_pieces(extra_excluded: Iterable[str], spans: Iterable[Span]) -> list[Span]:
    """The public IPv4 internet (minus `extra_excluded`, e.g. the VPC's own CIDRs), cut at `spans`' edges."""
    excluded = [s for s in (cidr_span(c) for c in (*NOT_INTERNET, *extra_excluded)) if s]
    whole = Span(0, IPV4_SIZE - 1)
    return [p for p in pieces(whole, [*excluded, *spans]) if not any(p.within(x) for x in excluded)]


# --- routes -------------------------------------------------------------------------------------------


def longest_match(routes: list[dict], piece: Span) -> dict | None:
    """The route AWS would use for every address of `piece` (longest prefix wins); None: no route."""
    best, best_size = None, IPV4_SIZE + 1
    for route in routes:
        span = cidr_span(route.get("DestinationCidrBlock") or "")
        if span and piece.within(span) and span.last - span.first < best_size:
            best, best_size = route, span.last - span.first
    return best


def route_spans(routes: list[dict]) -> list[Span]:
    return [s for s in (cidr_span(r.get("DestinationCidrBlock") or "") for r in routes) if s]


def internet_routing(routes: list[dict], vpc_cidrs: Iterable[str]) -> list[tuple[Span, dict | None]]:
    """For each piece of the public internet, the route that carries it (None: no route, dropped)."""
    spans = route_spans(routes)
    return [(p, longest_match(routes, p)) for p in internet_pieces(vpc_cidrs, spans)]


def routing_of(routes: list[dict], destination: Span) -> list[tuple[Span, dict | None]]:
    """For each piece of `destination`, the route that carries it."""
    return [(p, longest_match(routes, p)) for p in pieces(destination, route_spans(routes))]


# --- network ACLs -------------------------------------------------------------------------------------

PROTOCOL_NUMBERS = {"tcp": "6", "udp": "17", "icmp": "1"}
ALL_PROTOCOLS = ("-1", "all")
PORTS = Span(0, 65535)


def entry_protocol(entry: dict) -> str:
    proto = str(entry.get("Protocol", "")).strip().lower()
    return "-1" if proto in ALL_PROTOCOLS else PROTOCOL_NUMBERS.get(proto, proto)


def entry_ports(entry: dict) -> Span:
    """The ports an entry covers (all of them unless it is TCP/UDP with a port range)."""
    rng = entry.get("PortRange") or {}
    if entry_protocol(entry) in ("6", "17") and rng.get("From") is not None and rng.get("To") is not None:
        return Span(int(rng["From"]), int(rng["To"]))
    return PORTS


def acl_entries(acl: dict, egress: bool) -> list[dict]:
    """The entries of one direction in evaluation order (the * rule, 32767, is the implicit deny)."""
    return sorted((e for e in acl.get("Entries", []) if bool(e.get("Egress")) == egress
                   and int(e.get("RuleNumber", 32767)) < 32767), key=lambda e: int(e["RuleNumber"]))


@dataclass(frozen=True)
class AclVerdict:
    addresses: Span
    ports: Span
    action: str  # "allow" | "deny"
    entry: dict | None  # None: the default * rule


def acl_verdicts(acl: dict, egress: bool, protocol: str, addresses: Span, ports: Span,
                 cuts: Iterable[Span] = ()) -> list[AclVerdict]:
    """Every (address range, port range) of the traffic, with the rule that decides it (first match wins).
    `cuts`: address ranges the caller wants as pieces of their own (e.g. to leave them out)."""
    proto = PROTOCOL_NUMBERS.get(protocol, protocol)
    entries = [e for e in acl_entries(acl, egress) if entry_protocol(e) in ("-1", proto)]
    entry_spans = [(e, cidr_span(e.get("CidrBlock") or ""), entry_ports(e)) for e in entries]
    entry_spans = [(e, a, p) for e, a, p in entry_spans if a is not None]
    out = []
    for a in pieces(addresses, [*cuts, *(s for _, s, _ in entry_spans)]):
        for p in pieces(ports, [pr for _, _, pr in entry_spans]):
            match = next((e for e, s, pr in entry_spans if a.within(s) and p.within(pr)), None)
            action = str(match.get("RuleAction", "deny")).lower() if match else "deny"
            out.append(AclVerdict(a, p, action, match))
    return out


def first_wrong(verdicts: list[AclVerdict], expect: str,
                skip: Callable[[AclVerdict], bool] = lambda v: False) -> AclVerdict | None:
    return next((v for v in verdicts if v.action != expect and not skip(v)), None)

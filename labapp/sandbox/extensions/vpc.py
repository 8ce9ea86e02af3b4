"""VPC: the default VPC is internet-connected, and a route that leads nowhere is a blackhole, as on AWS.

On AWS every default VPC has an internet gateway attached and its main route table sends 0.0.0.0/0 to it,
so default subnets are public. moto 5.2.5 creates the default VPC and its subnets with only the `local`
route and no internet gateway, which would make the default subnets look private to a grader (and to a
learner running describe-route-tables).

moto also answers every route as `active`. On AWS a route whose internet gateway was detached from the
VPC, whose NAT gateway was deleted or whose peering connection is no longer active shows as `blackhole`:
what a learner debugging "why is my subnet not public any more" needs to see."""

from __future__ import annotations

import functools


def connect_default_vpc(backend, vpc) -> None:
    igw = backend.create_internet_gateway()
    backend.attach_internet_gateway(igw.id, vpc.id)
    main = next(t for t in backend.route_tables.values()
                if t.vpc_id == vpc.id and t.main_association_id is not None)
    backend.create_route(main.id, "0.0.0.0/0", gateway_id=igw.id)


def route_state(route) -> str:
    gateway = route.gateway
    if gateway is not None and str(getattr(gateway, "id", "")).startswith("igw-"):
        vpc = getattr(gateway, "vpc", None)
        if vpc is None or vpc.id != route.route_table.vpc_id:
            return "blackhole"
    if route.nat_gateway is not None and route.nat_gateway.state in ("deleting", "deleted", "failed"):
        return "blackhole"
    pcx = route.vpc_pcx
    if pcx is not None and getattr(getattr(pcx, "_status", None), "code", "active") in (
            "deleted", "deleting", "rejected", "expired", "failed"):
        return "blackhole"
    return "active"


def apply() -> None:
    from moto.ec2.models.route_tables import Route
    from moto.ec2.models.vpcs import VPCBackend

    if not getattr(Route.state.fget, "_lab_patched", False):
        state = property(route_state)
        state.fget._lab_patched = True
        Route.state = state

    original = VPCBackend.create_default_vpc
    if getattr(original, "_lab_patched", False):
        return

    @functools.wraps(original)
    def create_default_vpc(self):
        vpc = original(self)
        connect_default_vpc(self, vpc)
        return vpc

    create_default_vpc._lab_patched = True
    create_default_vpc._lab_original = original
    VPCBackend.create_default_vpc = create_default_vpc

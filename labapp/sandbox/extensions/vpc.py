"""VPC: the default VPC is internet-connected, as on AWS.

On AWS every default VPC has an internet gateway attached and its main route table sends 0.0.0.0/0 to it,
so default subnets are public. moto 5.2.5 creates the default VPC and its subnets with only the `local`
route and no internet gateway, which would make the default subnets look private to a grader (and to a
learner running describe-route-tables)."""

from __future__ import annotations

import functools


def connect_default_vpc(backend, vpc) -> None:
    igw = backend.create_internet_gateway()
    backend.attach_internet_gateway(igw.id, vpc.id)
    main = next(t for t in backend.route_tables.values()
                if t.vpc_id == vpc.id and t.main_association_id is not None)
    backend.create_route(main.id, "0.0.0.0/0", gateway_id=igw.id)


def apply() -> None:
    from moto.ec2.models.vpcs import VPCBackend

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

"""ELBv2: a Network Load Balancer created with `SubnetMappings=[{SubnetId, AllocationId}]` keeps the Elastic IP
of each zone, as on AWS: `describe_load_balancers` lists it under the zone's `LoadBalancerAddresses`
(AllocationId and IpAddress), and the Elastic IP shows as associated (with a stand-in network interface of
the load balancer) in `describe_addresses`. moto 5.2.5 reads only the SubnetId of each mapping and drops
the rest. An unknown allocation id is refused as AWS refuses it."""

from __future__ import annotations

import functools


def apply() -> None:
    from moto.ec2.utils import random_eip_association_id
    from moto.elbv2 import models as elb_models
    from moto.elbv2.exceptions import ELBClientError as RESTError

    backend_cls = elb_models.ELBv2Backend
    original = backend_cls.create_load_balancer
    if getattr(original, "_lab_patched", False):
        return

    @functools.wraps(original)
    def create_load_balancer(self, *args, **kwargs):
        mappings = kwargs.get("subnet_mappings")
        if mappings is None and len(args) >= 4:
            mappings = args[3]
        eips = {}
        for mapping in mappings or []:
            allocation = mapping.get("AllocationId")
            if not allocation:
                continue
            found = [a for a in self.ec2_backend.addresses if a.allocation_id == allocation]
            if not found:
                raise RESTError("AllocationIdNotFound", f"The allocation ID '{allocation}' does not exist")
            if (kwargs.get("loadbalancer_type") or "application") != "network":
                raise RESTError("InvalidConfigurationRequest",
                                "Elastic IPs can only be assigned to a Network Load Balancer")
            eips[mapping["SubnetId"]] = found[0]
        lb = original(self, *args, **kwargs)
        lb._lab_eips = {}
        for subnet_id, address in eips.items():
            address.association_id = address.association_id or random_eip_association_id()
            lb._lab_eips[subnet_id] = {"AllocationId": address.allocation_id, "IpAddress": address.public_ip}
        return lb

    create_load_balancer._lab_patched = True
    backend_cls.create_load_balancer = create_load_balancer

    zone_cls = elb_models.AvailabilityZone
    lb_cls = elb_models.FakeLoadBalancer

    def availability_zones(self):
        zones = []
        for subnet in self.subnets:
            zone = zone_cls(subnet)
            eip = (getattr(self, "_lab_eips", None) or {}).get(subnet.id)
            if eip:
                zone.load_balancer_addresses = [eip]
            zones.append(zone)
        return zones

    lb_cls.availability_zones = property(availability_zones)

"""ELBv2: a Network Load Balancer created with `SubnetMappings=[{SubnetId, AllocationId}]` keeps the Elastic IP
of each zone, as on AWS: `describe_load_balancers` lists it under the zone's `LoadBalancerAddresses`
(AllocationId and IpAddress), and the Elastic IP shows as associated (with a stand-in network interface of
the load balancer) in `describe_addresses`. moto 5.2.5 reads only the SubnetId of each mapping and drops
the rest. An unknown allocation id is refused as AWS refuses it.

Target group attributes are validated as AWS validates them: stickiness cookie durations are whole seconds
from 1 to 604800 (one week), `stickiness.enabled` is true or false, an application cookie name may not
start with the load balancer's reserved AWSALB prefixes, and numeric attributes must be numbers. moto 5.2.5
stores `Value=0`, `Value=700000` or `Value=30m` for a duration, and answers 500 to
`deregistration_delay.timeout_seconds=60s` (int() of the text)."""

from __future__ import annotations

import functools


INTEGER_RANGES = {
    "stickiness.lb_cookie.duration_seconds": (1, 604800),
    "stickiness.app_cookie.duration_seconds": (1, 604800),
    "deregistration_delay.timeout_seconds": (0, 3600),
    "slow_start.duration_seconds": (0, 900),
}
BOOLEANS = ("stickiness.enabled",)  # a group's load_balancing.cross_zone.enabled may also be use_load_balancer_configuration
RESERVED_COOKIE_PREFIXES = ("AWSALB", "AWSALBAPP", "AWSALBTG")


def attribute_problem(key: str, value) -> str | None:
    text = str(value)
    if key in INTEGER_RANGES:
        low, high = INTEGER_RANGES[key]
        if not text.strip().lstrip("-").isdigit() or not low <= int(text) <= high:
            return f"'{key}' value '{text}' must be between '{low}-{high}' inclusive"
    if key in BOOLEANS and text.lower() not in ("true", "false"):
        return f"'{key}' value '{text}' must be one of [true, false]"
    if key == "stickiness.app_cookie.cookie_name" and text.upper().startswith(RESERVED_COOKIE_PREFIXES):
        return f"'{key}' value '{text}' is reserved for the load balancer (AWSALB, AWSALBAPP, AWSALBTG)"
    return None


def apply() -> None:
    _validate_target_group_attributes()
    _keep_subnet_mapping_eips()


def _validate_target_group_attributes() -> None:
    from moto.elbv2 import models as elb_models
    from moto.elbv2.exceptions import ELBClientError

    backend_cls = elb_models.ELBv2Backend
    original = backend_cls.modify_target_group_attributes
    if getattr(original, "_lab_patched", False):
        return

    @functools.wraps(original)
    def modify_target_group_attributes(self, target_group_arn, attributes, *args, **kwargs):
        for key, value in (attributes or {}).items():
            problem = attribute_problem(key, value)
            if problem:
                raise ELBClientError("ValidationError", problem)
        return original(self, target_group_arn, attributes, *args, **kwargs)

    modify_target_group_attributes._lab_patched = True
    backend_cls.modify_target_group_attributes = modify_target_group_attributes


def _keep_subnet_mapping_eips() -> None:
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

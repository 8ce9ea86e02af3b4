"""ECS: services and task sizes as AWS records them.

moto 5.2.5 drops a service's `capacityProviderStrategy` and records every service as launch type EC2, so a
Fargate service created the capacity-provider way (FARGATE / FARGATE_SPOT) looked like an EC2 one. This
module makes CreateService and UpdateService behave as on AWS:

- `capacityProviderStrategy` is stored and shown, and the service then has no launch type. Giving both a
  launch type and a strategy is refused, and every provider of a strategy must be associated with the
  cluster (create-cluster --capacity-providers or put-cluster-capacity-providers), as AWS requires.
- With neither, the cluster's default capacity provider strategy applies, else launch type EC2.
- An awsvpc configuration without `securityGroups` no longer crashes (500): AWS then uses the VPC's default
  security group; the service records the configuration as given.

RegisterTaskDefinition converts the task size written in vCPU/GB ("0.5 vCPU", "1 GB") to CPU units and MiB,
as AWS does at registration; moto kept the text. It also accepts an EC2 container with only a
`memoryReservation` (a soft limit), as AWS does; moto demanded `memory` whenever EC2 was required.
"""

from __future__ import annotations

import functools
import re

_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(vcpu|gb)?\s*$", re.IGNORECASE)


def task_size_units(value, unit: str):
    """'0.5 vCPU' -> '512' (unit 'vcpu'), '1 GB' -> '1024' (unit 'gb'); plain numbers are kept."""
    if value is None:
        return None
    match = _SIZE.match(str(value))
    if not match or not match.group(2):
        return value
    if match.group(2).lower() != unit:
        return value
    return str(int(float(match.group(1)) * 1024))


def apply() -> None:
    from moto.ecs import models, responses
    from moto.ecs.exceptions import InvalidParameterException

    response_cls = responses.EC2ContainerServiceResponse
    if getattr(response_cls.create_service, "_lab_patched", False):
        return
    original_create = response_cls.create_service
    original_update = response_cls.update_service
    original_register = response_cls.register_task_definition

    def check_strategy(self, cluster_name: str, strategy: list[dict]) -> None:
        cluster = self.ecs_backend._get_cluster(cluster_name)
        associated = set(cluster.capacity_providers or [])
        for item in strategy:
            if item.get("capacityProvider") not in associated:
                raise InvalidParameterException(
                    "The specified capacity provider strategy cannot contain a capacity provider that is not "
                    "associated with the cluster. Associate the capacity provider with the cluster or specify a "
                    "valid capacity provider and try again.")

    def use_strategy(service, strategy: list[dict]) -> None:
        service.capacity_provider_strategy = [
            {"capacityProvider": s["capacityProvider"], "weight": int(s.get("weight") or 0),
             "base": int(s.get("base") or 0)} for s in strategy]
        service.launch_type = None
        for deployment in service.deployments:
            deployment["launchType"] = None
            deployment["capacityProviderStrategy"] = service.capacity_provider_strategy

    def tolerate_missing_security_groups(self) -> None:
        network = self._get_param("networkConfiguration") or {}
        awsvpc = network.get("awsvpcConfiguration")
        if awsvpc is not None and "securityGroups" not in awsvpc:
            awsvpc["securityGroups"] = []

    @functools.wraps(original_create)
    def create_service(self):
        cluster_name = self._get_param("cluster", "default")
        strategy = self._get_param("capacityProviderStrategy") or []
        if strategy and self._get_param("launchType"):
            raise InvalidParameterException(
                "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try "
                "again.")
        if not strategy and not self._get_param("launchType"):
            strategy = self.ecs_backend._get_cluster(cluster_name).default_capacity_provider_strategy or []
        if strategy:
            check_strategy(self, cluster_name, strategy)
        tolerate_missing_security_groups(self)
        result = original_create(self)
        if strategy:
            cluster = self.ecs_backend._get_cluster(cluster_name)
            service = self.ecs_backend.services[f"{cluster.name}:{self._get_param('serviceName')}"]
            use_strategy(service, strategy)
        return result

    @functools.wraps(original_update)
    def update_service(self):
        strategy = self._get_param("capacityProviderStrategy")
        cluster_name = self._get_param("cluster", "default")
        if strategy:
            check_strategy(self, cluster_name, strategy)
        tolerate_missing_security_groups(self)
        result = original_update(self)
        if strategy:
            cluster = self.ecs_backend._get_cluster(cluster_name)
            service = self.ecs_backend.services[f"{cluster.name}:{self._get_param('service').split('/')[-1]}"]
            use_strategy(service, strategy)
        return result

    @functools.wraps(original_register)
    def register_task_definition(self):
        params = self._get_params()
        for key, unit in (("cpu", "vcpu"), ("memory", "gb")):
            if params.get(key) is not None:
                params[key] = task_size_units(params[key], unit)
        return original_register(self)

    backend_cls = models.EC2ContainerServiceBackend
    original_validate = backend_cls._validate_container_defs

    def validate_container_defs(memory, container_definitions, requires_compatibilities):
        # Either limit is enough on EC2; moto's own check then covers the rest (name, image, some memory).
        return original_validate(memory, container_definitions,
                                 [c for c in requires_compatibilities or [] if c != "EC2"])

    backend_cls._validate_container_defs = staticmethod(validate_container_defs)

    create_service._lab_patched = True
    response_cls.create_service = create_service
    response_cls.update_service = update_service
    response_cls.register_task_definition = register_task_definition

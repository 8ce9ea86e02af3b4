"""ECS check kinds: clusters, task definitions (EC2 or Fargate) and services."""

from __future__ import annotations

from . import Check, CheckFailed, failed, passed, register, schema, string
from .vpc import subnet_is_public

# Fargate's valid task sizes: cpu units -> memory (MiB) allowed.
FARGATE_SIZES = {
    256: {512, 1024, 2048},
    512: set(range(1024, 4097, 1024)),
    1024: set(range(2048, 8193, 1024)),
    2048: set(range(4096, 16385, 1024)),
    4096: set(range(8192, 30721, 1024)),
    8192: set(range(16384, 61441, 4096)),
    16384: set(range(32768, 122881, 8192)),
}


def find_cluster(ctx, name: str) -> dict:
    found = ctx.client("ecs").describe_clusters(clusters=[name]).get("clusters") or []
    live = [c for c in found if c.get("status") == "ACTIVE"]
    if not live:
        raise CheckFailed(f"cluster {name} does not exist")
    return live[0]


@register("ecs.cluster")
class Cluster(Check):
    description = "An ACTIVE cluster with this name exists."
    params_schema = schema({"name": string("cluster name")}, ["name"])

    def run(self, ctx, *, name):
        found = find_cluster(ctx, name)
        return passed(f"cluster {found['clusterName']} is ACTIVE")


def latest_task_definition(ctx, family: str) -> dict:
    ecs = ctx.client("ecs")
    arns = ecs.list_task_definitions(familyPrefix=family, status="ACTIVE", sort="DESC").get("taskDefinitionArns") or []
    arns = [a for a in arns if a.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family]
    if not arns:
        raise CheckFailed(f"no active task definition in family {family}")
    latest = max(arns, key=lambda a: int(a.rsplit(":", 1)[-1]))
    return ecs.describe_task_definition(taskDefinition=latest)["taskDefinition"]


def live_service(ctx, cluster: str, name: str) -> dict | None:
    found = ctx.client("ecs").describe_clusters(clusters=[cluster]).get("clusters") or []
    if not any(c.get("status") == "ACTIVE" for c in found):
        return None
    services = ctx.client("ecs").describe_services(cluster=cluster, services=[name]).get("services") or []
    return next((s for s in services if s.get("status") == "ACTIVE"), None)


def graded_task_definition(ctx, family: str, cluster: str | None, service: str | None) -> tuple[dict, str]:
    """The revision the service runs, when it runs this family (that is what would start); else the latest."""
    if cluster and service:
        svc = live_service(ctx, cluster, service)
        arn = (svc or {}).get("taskDefinition") or ""
        if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family:
            td = ctx.client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]
            return td, f" (the revision service {service} runs)"
    return latest_task_definition(ctx, family), ""


def task_size(value, unit: str) -> int | None:
    """Task cpu/memory as CPU units or MiB: '512', '0.5 vCPU', '1 GB' (AWS converts the text forms)."""
    if value in (None, ""):
        return None
    text = str(value).strip().lower()
    for suffix in (unit, unit.replace(" ", "")):
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)].strip()) * 1024)
    return int(float(text))


def image_matches(actual: str, wanted: str) -> bool:
    """A wanted image with a tag or digest must match exactly; without one, any tag of that repository."""
    if "@" in wanted or ":" in wanted.rsplit("/", 1)[-1]:
        return actual == wanted
    return actual == wanted or actual.startswith(wanted + ":") or actual.startswith(wanted + "@")


@register("ecs.task_definition")
class TaskDefinition(Check):
    description = ("The latest active revision of the family (or the one the named service runs) runs the image, "
                   "is compatible with the launch type (Fargate: awsvpc and a valid task cpu/memory pair; EC2: "
                   "memory for each container), maps the container port in that container, optionally with a "
                   "dynamic host port and an exact task size.")
    params_schema = schema(
        {"family": string("task definition family"),
         "launch_type": {"enum": ["EC2", "FARGATE"]},
         "image": string("image the container must run (with a tag: exactly; without: any tag of it)"),
         "container_port": {"type": "integer", "minimum": 1, "maximum": 65535},
         "network_mode": {"enum": ["awsvpc", "bridge", "host", "none"]},
         "dynamic_host_port": {"type": "boolean", "description": "the container port maps to host port 0 (bridge)"},
         "cpu": {"type": "integer", "minimum": 128, "description": "task CPU units"},
         "memory": {"type": "integer", "minimum": 128, "description": "task memory in MiB"},
         "cluster": string("cluster of `service`"),
         "service": string("grade the revision this service runs, when it runs the family")},
        ["family"],
    )

    def run(self, ctx, *, family, launch_type=None, image=None, container_port=None, network_mode=None,
            dynamic_host_port=None, cpu=None, memory=None, cluster=None, service=None):
        td, which = graded_task_definition(ctx, family, cluster, service)
        rev = f"{family}:{td.get('revision')}"
        containers = td.get("containerDefinitions") or []
        candidates = containers
        if image:
            candidates = [c for c in containers if image_matches(c.get("image") or "", image)]
            if not candidates:
                images = ", ".join(c.get("image", "?") for c in containers)
                return failed(f"no container of {rev}{which} runs {image} (images: {images})")
        mode = td.get("networkMode") or "bridge"
        if container_port:
            mappings = [pm for c in candidates for pm in c.get("portMappings") or []
                        if pm.get("containerPort") == container_port]
            if not mappings:
                if not image:
                    return failed(f"no container of {rev}{which} maps container port {container_port}")
                return failed(f"the container running {image} in {rev}{which} does not map container port "
                              f"{container_port}")
            if dynamic_host_port:
                if mode != "bridge":
                    return failed(f"{rev}{which} uses network mode {mode}, where the host port is always the "
                                  "container port — use bridge mode with hostPort 0 for dynamic host ports")
                fixed = [pm["hostPort"] for pm in mappings if pm.get("hostPort")]
                if fixed:
                    return failed(f"{rev}{which} maps container port {container_port} to the fixed host port "
                                  f"{fixed[0]}: only one copy fits on each instance — use hostPort 0 (or leave it "
                                  "out) for a dynamic host port")
        if network_mode and mode != network_mode:
            return failed(f"{rev}{which} uses network mode {mode}, not {network_mode}")
        try:
            task_cpu = task_size(td.get("cpu"), "vcpu")
            task_memory = task_size(td.get("memory"), "gb")
        except ValueError:
            return failed(f"{rev}{which} has a task size ({td.get('cpu')} / {td.get('memory')}) that is not a number "
                          "of CPU units and MiB")
        if launch_type == "FARGATE":
            if "FARGATE" not in (td.get("requiresCompatibilities") or []):
                return failed(f"{rev}{which} does not require FARGATE compatibility (requiresCompatibilities)")
            if mode != "awsvpc":
                return failed(f"{rev}{which} uses network mode {mode}; Fargate tasks must use awsvpc")
            if not task_cpu or not task_memory:
                return failed(f"{rev}{which} has no task-level cpu and memory; Fargate needs both")
            if task_memory not in FARGATE_SIZES.get(task_cpu, set()):
                return failed(f"{task_cpu} CPU units with {task_memory} MiB is not a valid Fargate size (e.g. 256 CPU "
                              "units allow 512, 1024 or 2048 MiB)")
        if (cpu and task_cpu != cpu) or (memory and task_memory != memory):
            return failed(f"{rev}{which} asks for {task_cpu or 'no'} CPU units and {task_memory or 'no'} MiB; the "
                          f"task size must be {cpu or task_cpu} CPU units and {memory or task_memory} MiB")
        if launch_type == "EC2":
            if td.get("requiresCompatibilities") and "EC2" not in td["requiresCompatibilities"]:
                return failed(f"{rev}{which} requires {', '.join(td['requiresCompatibilities'])}, not EC2")
            if not task_memory:
                bare = [c.get("name", "?") for c in containers
                        if not c.get("memory") and not c.get("memoryReservation")]
                if bare:
                    return failed(f"container {', '.join(bare)} of {rev}{which} has no memory or memoryReservation "
                                  "— on EC2 each container (or the task) needs a memory size")
        return passed(f"task definition {rev}{which} is ready" + (f" for {launch_type}" if launch_type else ""))


def _groups_allow(ctx, group_ids: list[str], port: int) -> bool:
    if not group_ids:
        return False
    groups = ctx.client("ec2").describe_security_groups(GroupIds=group_ids).get("SecurityGroups") or []
    for group in groups:
        for perm in group.get("IpPermissions") or []:
            if perm.get("IpProtocol") == "-1":
                return True
            if perm.get("IpProtocol") == "tcp" and perm.get("FromPort", 0) <= port <= perm.get("ToPort", 0):
                return True
    return False


FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")


def capacity_of(svc: dict) -> str | None:
    """FARGATE or EC2: where the service's tasks run, by launch type or capacity provider strategy."""
    if svc.get("launchType"):
        return "FARGATE" if svc["launchType"] == "FARGATE" else svc["launchType"]
    used = [p for p in svc.get("capacityProviderStrategy") or []
            if int(p.get("weight") or 0) > 0 or int(p.get("base") or 0) > 0]
    if not used:
        return None
    fargate = [p["capacityProvider"] in FARGATE_PROVIDERS for p in used]
    if all(fargate):
        return "FARGATE"
    return "EC2" if not any(fargate) else "mixed"


@register("ecs.service")
class Service(Check):
    description = ("An ACTIVE service in the cluster runs the family with exactly `desired_count` tasks, on a "
                   "launch type (or a capacity provider strategy of that kind); Fargate/awsvpc services need subnets and security groups.")
    params_schema = schema(
        {"cluster": string("cluster name"), "name": string("service name"),
         "family": string("task definition family the service must run"),
         "desired_count": {"type": "integer", "minimum": 0},
         "launch_type": {"enum": ["EC2", "FARGATE"]},
         "assign_public_ip": {"enum": ["ENABLED", "DISABLED"]},
         "min_subnets": {"type": "integer", "minimum": 1, "description": "fewest awsvpc subnets (spread over AZs)"},
         "sg_allows_port": {"type": "integer", "minimum": 1, "maximum": 65535,
                            "description": "a TCP port one of the tasks' security groups must allow in"}},
        ["cluster", "name"],
    )

    def run(self, ctx, *, cluster: str, name, family=None, desired_count=None, launch_type=None,
            assign_public_ip=None, min_subnets=None, sg_allows_port=None):
        found_cluster = find_cluster(ctx, cluster)
        services = ctx.client("ecs").describe_services(cluster=found_cluster["clusterArn"], services=[name]).get("services") or []
        live = [s for s in services if s.get("status") == "ACTIVE"]
        if not live:
            return failed(f"service {name} does not exist in cluster {cluster}")
        svc = live[0]
        td_arn = svc.get("taskDefinition") or ""
        td_family = td_arn.rsplit("/", 1)[-1].rsplit(":", 1)[0]
        if family and td_family != family:
            return failed(f"service {name} runs task definition {td_family}, not {family}")
        if desired_count is not None and (svc.get("desiredCount") or 0) != desired_count:
            return failed(f"service {name} wants {svc.get('desiredCount')} tasks; it should keep exactly "
                          f"{desired_count} running")
        if launch_type:
            runs_on = capacity_of(svc)
            if runs_on != launch_type:
                how = svc.get("launchType") or ", ".join(
                    p.get("capacityProvider", "?") for p in svc.get("capacityProviderStrategy") or []) or "none"
                kind = "" if how == runs_on else f" ({runs_on or 'no capacity with a weight'})"
                return failed(f"service {name} runs on {how}{kind}, not {launch_type}")
        network = (svc.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
        td = ctx.client("ecs").describe_task_definition(taskDefinition=td_arn)["taskDefinition"] if td_arn else {}
        if td.get("networkMode") == "awsvpc" or launch_type == "FARGATE":
            if not network.get("subnets"):
                return failed(f"service {name} has no awsvpc network configuration with subnets — each task gets "
                              "its own network interface in one of them")
            if not network.get("securityGroups"):
                return failed(f"service {name}'s tasks have no security group")
        if min_subnets:
            subnet_ids = network.get("subnets") or []
            subnets = ctx.client("ec2").describe_subnets(SubnetIds=subnet_ids)["Subnets"] if subnet_ids else []
            zones = {sn["AvailabilityZone"] for sn in subnets}
            if len(zones) < min_subnets:
                return failed(f"service {name} places tasks in {len(subnet_ids)} subnet(s) in {len(zones)} "
                              f"Availability Zone(s); use at least {min_subnets} subnets in different zones")
            vpcs = {sn["VpcId"] for sn in subnets}
            groups = network.get("securityGroups") or []
            if groups:
                group_vpcs = {g["VpcId"] for g in ctx.client("ec2").describe_security_groups(
                    GroupIds=groups)["SecurityGroups"]}
                if group_vpcs - vpcs or len(vpcs) > 1:
                    return failed(f"service {name}'s subnets and security groups are not all in one VPC — tasks "
                                  "could not start")
        if sg_allows_port and not _groups_allow(ctx, network.get("securityGroups") or [], sg_allows_port):
            return failed(f"no security group of service {name} allows TCP {sg_allows_port} in")
        if assign_public_ip and network.get("assignPublicIp", "DISABLED") != assign_public_ip:
            return failed(f"service {name} has assignPublicIp {network.get('assignPublicIp', 'DISABLED')}, not "
                          f"{assign_public_ip}")
        if assign_public_ip == "ENABLED" and network.get("subnets"):
            # A public IP reaches the internet only from a subnet that routes to an internet gateway.
            for subnet in ctx.client("ec2").describe_subnets(SubnetIds=network["subnets"])["Subnets"]:
                if not subnet_is_public(ctx, subnet)[0]:
                    return failed(f"subnet {subnet['SubnetId']} of service {name} has no route to an internet "
                                  "gateway, so its tasks' public IPs reach nothing and they could not pull their "
                                  "image — use public subnets (those of the default VPC)")
        return passed(f"service {name} runs {td_family} with {svc.get('desiredCount')} desired tasks"
                      + (f" on {launch_type}" if launch_type else ""))

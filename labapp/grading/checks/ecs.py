"""ECS check kinds: clusters, task definitions (EC2 or Fargate) and services."""

from __future__ import annotations

from . import Check, CheckFailed, failed, passed, register, schema, string

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


@register("ecs.task_definition")
class TaskDefinition(Check):
    description = ("The latest active revision of the family runs the image, is compatible with the launch type "
                   "(Fargate: awsvpc and a valid task cpu/memory pair; EC2: memory for each container), "
                   "and maps the container port.")
    params_schema = schema(
        {"family": string("task definition family"),
         "launch_type": {"enum": ["EC2", "FARGATE"]},
         "image": string("image the container must run (a prefix is enough, e.g. public.ecr.aws/nginx/nginx)"),
         "container_port": {"type": "integer", "minimum": 1, "maximum": 65535},
         "network_mode": {"enum": ["awsvpc", "bridge", "host", "none"]}},
        ["family"],
    )

    def run(self, ctx, *, family, launch_type=None, image=None, container_port=None, network_mode=None):
        td = latest_task_definition(ctx, family)
        rev = f"{family}:{td.get('revision')}"
        containers = td.get("containerDefinitions") or []
        if image and not any((c.get("image") or "").startswith(image) for c in containers):
            images = ", ".join(c.get("image", "?") for c in containers)
            return failed(f"no container of {rev} runs {image} (images: {images})")
        if container_port and not any(
            pm.get("containerPort") == container_port for c in containers for pm in c.get("portMappings") or []
        ):
            return failed(f"no container of {rev} maps container port {container_port}")
        mode = td.get("networkMode") or "bridge"
        if network_mode and mode != network_mode:
            return failed(f"{rev} uses network mode {mode}, not {network_mode}")
        if launch_type == "FARGATE":
            if "FARGATE" not in (td.get("requiresCompatibilities") or []):
                return failed(f"{rev} does not require FARGATE compatibility (requiresCompatibilities)")
            if mode != "awsvpc":
                return failed(f"{rev} uses network mode {mode}; Fargate tasks must use awsvpc")
            if not td.get("cpu") or not td.get("memory"):
                return failed(f"{rev} has no task-level cpu and memory; Fargate needs both")
            cpu, memory = int(td["cpu"]), int(td["memory"])
            if memory not in FARGATE_SIZES.get(cpu, set()):
                return failed(f"{cpu} CPU units with {memory} MiB is not a valid Fargate size (e.g. 256 CPU units "
                              "allow 512, 1024 or 2048 MiB)")
        if launch_type == "EC2":
            if td.get("requiresCompatibilities") and "EC2" not in td["requiresCompatibilities"]:
                return failed(f"{rev} requires {', '.join(td['requiresCompatibilities'])}, not EC2")
            if not td.get("memory"):
                bare = [c.get("name", "?") for c in containers
                        if not c.get("memory") and not c.get("memoryReservation")]
                if bare:
                    return failed(f"container {', '.join(bare)} of {rev} has no memory or memoryReservation — on "
                                  "EC2 each container (or the task) needs a memory size")
        return passed(f"task definition {rev} is ready" + (f" for {launch_type}" if launch_type else ""))


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


@register("ecs.service")
class Service(Check):
    description = ("An ACTIVE service in the cluster runs the family with at least `desired_count` tasks, on a "
                   "launch type; Fargate/awsvpc services need subnets and security groups.")
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
        if desired_count is not None and (svc.get("desiredCount") or 0) < desired_count:
            return failed(f"service {name} wants {svc.get('desiredCount')} tasks; it should keep at least "
                          f"{desired_count} running")
        actual_type = svc.get("launchType") or ""
        strategy = [p.get("capacityProvider") for p in svc.get("capacityProviderStrategy") or []]
        if launch_type:
            ok = actual_type == launch_type or (
                launch_type == "FARGATE" and any(p in ("FARGATE", "FARGATE_SPOT") for p in strategy))
            if not ok:
                return failed(f"service {name} uses launch type {actual_type or ', '.join(strategy) or 'none'}, "
                              f"not {launch_type}")
        network = (svc.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
        td = ctx.client("ecs").describe_task_definition(taskDefinition=td_arn)["taskDefinition"] if td_arn else {}
        if td.get("networkMode") == "awsvpc" or launch_type == "FARGATE":
            if not network.get("subnets"):
                return failed(f"service {name} has no awsvpc network configuration with subnets — each task gets "
                              "its own network interface in one of them")
            if not network.get("securityGroups"):
                return failed(f"service {name}'s tasks have no security group")
        if min_subnets and len(network.get("subnets") or []) < min_subnets:
            return failed(f"service {name} places tasks in {len(network.get('subnets') or [])} subnet(s); use at "
                          f"least {min_subnets} (in different Availability Zones)")
        if sg_allows_port and not _groups_allow(ctx, network.get("securityGroups") or [], sg_allows_port):
            return failed(f"no security group of service {name} allows TCP {sg_allows_port} in")
        if assign_public_ip and network.get("assignPublicIp", "DISABLED") != assign_public_ip:
            return failed(f"service {name} has assignPublicIp {network.get('assignPublicIp', 'DISABLED')}, not "
                          f"{assign_public_ip}")
        return passed(f"service {name} runs {td_family} with {svc.get('desiredCount')} desired tasks"
                      + (f" on {launch_type}" if launch_type else ""))

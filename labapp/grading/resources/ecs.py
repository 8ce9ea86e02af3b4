"""Live-panel listers for ECS."""

from . import MAX_ITEMS, join, lister


@lister("ecs.clusters", "ECS clusters", ["Name", "Status", "Services"])
def clusters(client):
    ecs = client("ecs")
    arns = (ecs.list_clusters().get("clusterArns") or [])[:MAX_ITEMS]
    if not arns:
        return []
    return [[c["clusterName"], c.get("status", ""), str(c.get("activeServicesCount", 0))]
            for c in ecs.describe_clusters(clusters=arns).get("clusters") or []]


@lister("ecs.task_definitions", "ECS task definitions",
        ["Task definition", "Compatibility", "Network mode", "CPU / memory", "Containers"])
def task_definitions(client):
    ecs = client("ecs")
    rows = []
    for arn in (ecs.list_task_definitions(status="ACTIVE").get("taskDefinitionArns") or [])[:MAX_ITEMS]:
        td = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        containers = [f"{c.get('name')}: {c.get('image')}" for c in td.get("containerDefinitions") or []]
        rows.append([f"{td['family']}:{td['revision']}", join(td.get("requiresCompatibilities") or []),
                     td.get("networkMode", "bridge"), f"{td.get('cpu', '—')} / {td.get('memory', '—')}",
                     join(containers)])
    return rows


@lister("ecs.services", "ECS services", ["Cluster", "Service", "Task definition", "Launch type", "Desired", "Running"])
def services(client):
    ecs = client("ecs")
    rows = []
    for cluster in (ecs.list_clusters().get("clusterArns") or [])[:MAX_ITEMS]:
        arns = ecs.list_services(cluster=cluster).get("serviceArns") or []
        if not arns:
            continue
        for svc in ecs.describe_services(cluster=cluster, services=arns[:10]).get("services") or []:
            rows.append([cluster.rsplit("/", 1)[-1], svc["serviceName"],
                         (svc.get("taskDefinition") or "").rsplit("/", 1)[-1], svc.get("launchType", ""),
                         str(svc.get("desiredCount", 0)), str(svc.get("runningCount", 0))])
    return rows

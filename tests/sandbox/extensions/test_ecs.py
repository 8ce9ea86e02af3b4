"""ECS extension (labapp/sandbox/extensions/ecs.py) through the real emulator and gateway: capacity provider
strategies are kept (and validated as AWS does), the cluster's default strategy applies, an awsvpc
configuration without security groups does not crash, and task sizes in vCPU/GB become units."""

from __future__ import annotations

import pytest

from tests.sandbox.helpers import make_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


def setup_account(box):
    ecs, ec2 = box.client("ecs"), box.client("ec2")
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    ecs.register_task_definition(family="api", requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
                                 cpu="0.5 vCPU", memory="1 GB", containerDefinitions=[{"name": "api", "image": "x"}])
    return ecs, {"awsvpcConfiguration": {"subnets": [subnet]}}


def test_capacity_provider_strategy_is_kept(sandbox_stack):
    ecs, net = setup_account(make_sandbox(sandbox_stack.url))
    task = ecs.describe_task_definition(taskDefinition="api")["taskDefinition"]
    assert (task["cpu"], task["memory"]) == ("512", "1024")
    ecs.create_cluster(clusterName="plain")
    strategy = [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]
    with pytest.raises(ecs.exceptions.InvalidParameterException, match="not associated with the cluster"):
        ecs.create_service(cluster="plain", serviceName="api", taskDefinition="api", desiredCount=2,
                           networkConfiguration=net, capacityProviderStrategy=strategy)
    ecs.put_cluster_capacity_providers(cluster="plain", capacityProviders=["FARGATE", "FARGATE_SPOT"],
                                       defaultCapacityProviderStrategy=[])
    with pytest.raises(ecs.exceptions.InvalidParameterException, match="both a launch type and capacity provider"):
        ecs.create_service(cluster="plain", serviceName="api", taskDefinition="api", desiredCount=2,
                           networkConfiguration=net, capacityProviderStrategy=strategy, launchType="FARGATE")
    ecs.create_service(cluster="plain", serviceName="api", taskDefinition="api", desiredCount=2,
                       networkConfiguration=net, capacityProviderStrategy=strategy)
    service = ecs.describe_services(cluster="plain", services=["api"])["services"][0]
    assert "launchType" not in service and service["capacityProviderStrategy"] == strategy
    spot = [{"capacityProvider": "FARGATE_SPOT", "weight": 2, "base": 0}]
    ecs.update_service(cluster="plain", service="api", capacityProviderStrategy=spot, forceNewDeployment=True)
    assert ecs.describe_services(cluster="plain", services=["api"])["services"][0]["capacityProviderStrategy"] == spot


def test_cluster_default_strategy_and_ec2_default(sandbox_stack):
    ecs, net = setup_account(make_sandbox(sandbox_stack.url))
    ecs.create_cluster(clusterName="fargate", capacityProviders=["FARGATE"],
                       defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}])
    made = ecs.create_service(cluster="fargate", serviceName="api", taskDefinition="api", desiredCount=2,
                              networkConfiguration=net)["service"]
    assert "launchType" not in made
    assert made["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]
    ecs.create_cluster(clusterName="ec2")
    made = ecs.create_service(cluster="ec2", serviceName="api", taskDefinition="api", desiredCount=2,
                              networkConfiguration=net)["service"]
    assert made["launchType"] == "EC2" and "capacityProviderStrategy" not in made


def test_ec2_container_with_only_a_memory_reservation(sandbox_stack):
    ecs = make_sandbox(sandbox_stack.url).client("ecs")
    ecs.register_task_definition(family="web", requiresCompatibilities=["EC2"], containerDefinitions=[
        {"name": "web", "image": "nginx", "memoryReservation": 128}])
    with pytest.raises(ecs.exceptions.ClientException, match="At least one of 'memory' or 'memoryReservation'"):
        ecs.register_task_definition(family="web", requiresCompatibilities=["EC2"],
                                     containerDefinitions=[{"name": "web", "image": "nginx"}])

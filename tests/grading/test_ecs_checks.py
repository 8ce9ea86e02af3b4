import pytest

from labapp.grading.grader import run_check

IMAGE = "public.ecr.aws/nginx/nginx:1.27"


def check(sb, kind, **args):
    return run_check({"kind": kind, **args}, {}, sb.ctx())


def network(sb):
    ec2 = sb.client("ec2")
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"]
    return subnet, group


def test_cluster(sandbox):
    out = check(sandbox, "ecs.cluster", name="web")
    assert not out.passed and out.feedback == "cluster web does not exist"
    sandbox.client("ecs").create_cluster(clusterName="web")
    out = check(sandbox, "ecs.cluster", name="web")
    assert out.passed and out.feedback == "cluster web is ACTIVE"


def test_task_definition_ec2(sandbox):
    ecs = sandbox.client("ecs")
    out = check(sandbox, "ecs.task_definition", family="web", launch_type="EC2")
    assert not out.passed and out.feedback == "no active task definition in family web"
    # (The emulator itself refuses an EC2 container without memory, as ECS does.)
    ecs.register_task_definition(family="web", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256",
                                 memory="512", containerDefinitions=[{"name": "web", "image": IMAGE}])
    out = check(sandbox, "ecs.task_definition", family="web", launch_type="EC2")
    assert not out.passed and out.feedback == "web:1 requires FARGATE, not EC2"
    out = check(sandbox, "ecs.task_definition", family="web", image="httpd")
    assert not out.passed and "no container of web:1 runs httpd" in out.feedback
    ecs.register_task_definition(family="web", containerDefinitions=[
        {"name": "web", "image": IMAGE, "memory": 256, "portMappings": [{"containerPort": 80, "hostPort": 0}]}])
    out = check(sandbox, "ecs.task_definition", family="web", launch_type="EC2", container_port=80)
    assert out.passed and out.feedback == "task definition web:2 is ready for EC2"
    out = check(sandbox, "ecs.task_definition", family="web", container_port=8080)
    assert not out.passed and "maps container port 8080" in out.feedback


@pytest.mark.parametrize("kwargs, feedback", [
    ({"networkMode": "awsvpc"}, "no task-level cpu and memory"),
    ({"networkMode": "awsvpc", "cpu": "256", "memory": "4096"}, "not a valid Fargate size"),
])
def test_task_definition_fargate_near_misses(sandbox, kwargs, feedback):
    sandbox.client("ecs").register_task_definition(family="api", requiresCompatibilities=["FARGATE"], **kwargs,
                                                   containerDefinitions=[{"name": "api", "image": IMAGE, "memory": 256}])
    out = check(sandbox, "ecs.task_definition", family="api", launch_type="FARGATE")
    assert not out.passed and feedback in out.feedback


def test_task_definition_fargate(sandbox):
    ecs = sandbox.client("ecs")
    ecs.register_task_definition(family="api", networkMode="awsvpc", cpu="256", memory="512",
                                 containerDefinitions=[{"name": "api", "image": IMAGE}])
    out = check(sandbox, "ecs.task_definition", family="api", launch_type="FARGATE")
    assert not out.passed and "does not require FARGATE compatibility" in out.feedback
    ecs.register_task_definition(family="api", networkMode="awsvpc", cpu="512", memory="1024",
                                 requiresCompatibilities=["FARGATE"], containerDefinitions=[{"name": "api", "image": IMAGE}])
    assert check(sandbox, "ecs.task_definition", family="api", launch_type="FARGATE", network_mode="awsvpc").passed


def test_service(sandbox):
    ecs = sandbox.client("ecs")
    subnet, group = network(sandbox)
    out = check(sandbox, "ecs.service", cluster="web", name="web")
    assert not out.passed and out.feedback == "cluster web does not exist"
    ecs.create_cluster(clusterName="web")
    out = check(sandbox, "ecs.service", cluster="web", name="web")
    assert not out.passed and out.feedback == "service web does not exist in cluster web"
    ecs.register_task_definition(family="web", containerDefinitions=[{"name": "web", "image": IMAGE, "memory": 256}])
    ecs.register_task_definition(family="api", networkMode="awsvpc", cpu="256", memory="512",
                                 requiresCompatibilities=["FARGATE"], containerDefinitions=[{"name": "api", "image": IMAGE}])
    ecs.create_service(cluster="web", serviceName="web", taskDefinition="web", desiredCount=1, launchType="EC2")
    out = check(sandbox, "ecs.service", cluster="web", name="web", family="web", desired_count=2)
    assert not out.passed and out.feedback == "service web wants 1 tasks; it should keep exactly 2 running"
    ecs.update_service(cluster="web", service="web", desiredCount=2)
    out = check(sandbox, "ecs.service", cluster="web", name="web", family="web", desired_count=2, launch_type="EC2")
    assert out.passed and out.feedback == "service web runs web with 2 desired tasks on EC2"
    out = check(sandbox, "ecs.service", cluster="web", name="web", launch_type="FARGATE")
    assert not out.passed and out.feedback == "service web runs on EC2, not FARGATE"
    out = check(sandbox, "ecs.service", cluster="web", name="web", family="api")
    assert not out.passed and "runs task definition web, not api" in out.feedback

    ecs.create_service(cluster="web", serviceName="api", taskDefinition="api", desiredCount=2, launchType="FARGATE",
                       networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group],
                                                                     "assignPublicIp": "DISABLED"}})
    out = check(sandbox, "ecs.service", cluster="web", name="api", launch_type="FARGATE", assign_public_ip="ENABLED")
    assert not out.passed and "assignPublicIp DISABLED, not ENABLED" in out.feedback
    assert check(sandbox, "ecs.service", cluster="web", name="api", family="api", desired_count=2,
                 launch_type="FARGATE").passed
    out = check(sandbox, "ecs.service", cluster="web", name="api", min_subnets=2)
    assert not out.passed and "places tasks in 1 subnet(s) in 1 Availability Zone(s); use at least 2" in out.feedback
    out = check(sandbox, "ecs.service", cluster="web", name="api", sg_allows_port=80)
    assert not out.passed and out.feedback == "no security group of service api allows TCP 80 in"
    sandbox.client("ec2").authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=80, ToPort=80,
                                                           CidrIp="0.0.0.0/0")
    assert check(sandbox, "ecs.service", cluster="web", name="api", sg_allows_port=80).passed


def test_fixed_host_port_is_not_dynamic(sandbox):
    ecs = sandbox.client("ecs")
    args = dict(family="web", launch_type="EC2", image=IMAGE, container_port=80, dynamic_host_port=True)
    ecs.register_task_definition(family="web", containerDefinitions=[
        {"name": "web", "image": IMAGE, "memory": 256, "portMappings": [{"containerPort": 80, "hostPort": 80}]}])
    out = check(sandbox, "ecs.task_definition", **args)
    assert not out.passed and out.feedback.startswith("web:1 maps container port 80 to the fixed host port 80")
    ecs.register_task_definition(family="web", networkMode="host", containerDefinitions=[
        {"name": "web", "image": IMAGE, "memory": 256, "portMappings": [{"containerPort": 80}]}])
    out = check(sandbox, "ecs.task_definition", **args)
    assert not out.passed and "uses network mode host, where the host port is always the container port" in out.feedback
    ecs.register_task_definition(family="web", containerDefinitions=[
        {"name": "web", "image": IMAGE, "memory": 256, "portMappings": [{"containerPort": 80}]}])
    assert check(sandbox, "ecs.task_definition", **args).passed


def test_image_tag_and_port_must_be_on_the_same_container(sandbox):
    ecs = sandbox.client("ecs")
    ecs.register_task_definition(family="web", containerDefinitions=[
        {"name": "web", "image": IMAGE + "-alpine", "memory": 256, "portMappings": [{"containerPort": 80}]}])
    out = check(sandbox, "ecs.task_definition", family="web", image=IMAGE, container_port=80)
    assert not out.passed and out.feedback.startswith(f"no container of web:1 runs {IMAGE} (images:")
    ecs.register_task_definition(family="web", containerDefinitions=[
        {"name": "web", "image": IMAGE, "memory": 256},
        {"name": "sidecar", "image": "busybox", "memory": 64, "portMappings": [{"containerPort": 80}]}])
    out = check(sandbox, "ecs.task_definition", family="web", image=IMAGE, container_port=80)
    assert not out.passed and out.feedback == f"the container running {IMAGE} in web:2 does not map container port 80"


def test_the_revision_the_service_runs_is_graded(sandbox):
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(family="web", containerDefinitions=[
        {"name": "web", "image": IMAGE, "memory": 256, "portMappings": [{"containerPort": 80, "hostPort": 80}]}])
    ecs.create_service(cluster="c", serviceName="web", taskDefinition="web:1", desiredCount=2, launchType="EC2")
    ecs.register_task_definition(family="web", containerDefinitions=[
        {"name": "web", "image": IMAGE, "memory": 256, "portMappings": [{"containerPort": 80, "hostPort": 0}]}])
    args = dict(family="web", container_port=80, dynamic_host_port=True, cluster="c", service="web")
    out = check(sandbox, "ecs.task_definition", **args)
    assert not out.passed and out.feedback.startswith("web:1 (the revision service web runs) maps container port 80")
    ecs.update_service(cluster="c", service="web", taskDefinition="web:2")
    assert check(sandbox, "ecs.task_definition", **args).feedback == \
        "task definition web:2 (the revision service web runs) is ready"


def test_task_size_written_in_vcpu_and_gb(sandbox):
    ecs = sandbox.client("ecs")
    ecs.register_task_definition(family="api", requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
                                 cpu="0.5 vCPU", memory="1 GB", containerDefinitions=[{"name": "api", "image": IMAGE}])
    assert check(sandbox, "ecs.task_definition", family="api", launch_type="FARGATE", cpu=512, memory=1024).passed
    out = check(sandbox, "ecs.task_definition", family="api", launch_type="FARGATE", cpu=1024, memory=2048)
    assert not out.passed and "the task size must be 1024 CPU units and 2048 MiB" in out.feedback


def two_zones(sb):
    ec2 = sb.client("ec2")
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    group = ec2.create_security_group(GroupName="api-tasks", Description="x")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=80, ToPort=80, CidrIp="0.0.0.0/0")
    return [s["SubnetId"] for s in subnets[:2]], group


FARGATE_SERVICE = dict(cluster="c", name="api", family="api", desired_count=2, launch_type="FARGATE",
                       assign_public_ip="ENABLED", min_subnets=2, sg_allows_port=80)


def fargate_family(sb):
    sb.client("ecs").register_task_definition(family="api", requiresCompatibilities=["FARGATE"],
                                              networkMode="awsvpc", cpu="512", memory="1024",
                                              containerDefinitions=[{"name": "api", "image": IMAGE}])


def test_fargate_by_capacity_provider_strategy(sandbox):
    ecs = sandbox.client("ecs")
    subnets, group = two_zones(sandbox)
    ecs.create_cluster(clusterName="c", capacityProviders=["FARGATE", "FARGATE_SPOT"])
    fargate_family(sandbox)
    net = {"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group], "assignPublicIp": "ENABLED"}}
    ecs.create_service(cluster="c", serviceName="api", taskDefinition="api", desiredCount=2, networkConfiguration=net,
                       capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1, "base": 1},
                                                 {"capacityProvider": "FARGATE_SPOT", "weight": 3}])
    out = check(sandbox, "ecs.service", **FARGATE_SERVICE)
    assert out.passed, out.feedback
    out = check(sandbox, "ecs.service", **{**FARGATE_SERVICE, "launch_type": "EC2"})
    assert not out.passed and out.feedback == "service api runs on FARGATE, FARGATE_SPOT (FARGATE), not EC2"


def test_fargate_by_cluster_default_strategy(sandbox):
    ecs = sandbox.client("ecs")
    subnets, group = two_zones(sandbox)
    ecs.create_cluster(clusterName="c", capacityProviders=["FARGATE"],
                       defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}])
    fargate_family(sandbox)
    net = {"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group], "assignPublicIp": "ENABLED"}}
    ecs.create_service(cluster="c", serviceName="api", taskDefinition="api", desiredCount=2, networkConfiguration=net)
    assert check(sandbox, "ecs.service", **FARGATE_SERVICE).passed


def test_two_subnets_in_one_zone_and_too_many_tasks_fail(sandbox):
    ecs, ec2 = sandbox.client("ecs"), sandbox.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    extra = ec2.create_subnet(VpcId=vpc, CidrBlock="172.31.200.0/24", AvailabilityZone="us-east-1a")["Subnet"]
    first = ec2.describe_subnets(Filters=[{"Name": "availability-zone", "Values": ["us-east-1a"]},
                                          {"Name": "default-for-az", "Values": ["true"]}])["Subnets"][0]
    _, group = two_zones(sandbox)
    ecs.create_cluster(clusterName="c")
    fargate_family(sandbox)
    net = {"awsvpcConfiguration": {"subnets": [first["SubnetId"], extra["SubnetId"]], "securityGroups": [group],
                                   "assignPublicIp": "ENABLED"}}
    ecs.create_service(cluster="c", serviceName="api", taskDefinition="api", desiredCount=2, launchType="FARGATE",
                       networkConfiguration=net)
    out = check(sandbox, "ecs.service", **FARGATE_SERVICE)
    assert not out.passed and "in 1 Availability Zone(s)" in out.feedback
    ecs.update_service(cluster="c", service="api", desiredCount=5)
    out = check(sandbox, "ecs.service", **{**FARGATE_SERVICE, "min_subnets": 1})
    assert not out.passed and out.feedback == "service api wants 5 tasks; it should keep exactly 2 running"


def test_public_ips_in_subnets_without_an_internet_route_fail(sandbox):
    ecs, ec2 = sandbox.client("ecs"), sandbox.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.60.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
               for i, zone in ((1, "us-east-1a"), (2, "us-east-1b"))]
    group = ec2.create_security_group(GroupName="api-tasks", Description="api", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=80, ToPort=80, CidrIp="0.0.0.0/0")
    ecs.create_cluster(clusterName="c")
    fargate_family(sandbox)
    net = {"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group], "assignPublicIp": "ENABLED"}}
    ecs.create_service(cluster="c", serviceName="api", taskDefinition="api", desiredCount=2, launchType="FARGATE",
                       networkConfiguration=net)
    out = check(sandbox, "ecs.service", **FARGATE_SERVICE)
    assert not out.passed and out.feedback.startswith(f"subnet {subnets[0]} of service api has no route to an internet gateway")
    # The same VPC with an internet gateway on its main route table: the tasks can reach the internet.
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                              {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0]
    ec2.create_route(RouteTableId=main["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    out = check(sandbox, "ecs.service", **FARGATE_SERVICE)
    assert out.passed, out.feedback

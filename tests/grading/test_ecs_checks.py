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
    assert not out.passed and out.feedback == "service web wants 1 tasks; it should keep at least 2 running"
    ecs.update_service(cluster="web", service="web", desiredCount=2)
    out = check(sandbox, "ecs.service", cluster="web", name="web", family="web", desired_count=2, launch_type="EC2")
    assert out.passed and out.feedback == "service web runs web with 2 desired tasks on EC2"
    out = check(sandbox, "ecs.service", cluster="web", name="web", launch_type="FARGATE")
    assert not out.passed and "uses launch type EC2, not FARGATE" in out.feedback
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
    assert not out.passed and "places tasks in 1 subnet(s); use at least 2" in out.feedback
    out = check(sandbox, "ecs.service", cluster="web", name="api", sg_allows_port=80)
    assert not out.passed and out.feedback == "no security group of service api allows TCP 80 in"
    sandbox.client("ec2").authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=80, ToPort=80,
                                                           CidrIp="0.0.0.0/0")
    assert check(sandbox, "ecs.service", cluster="web", name="api", sg_allows_port=80).passed

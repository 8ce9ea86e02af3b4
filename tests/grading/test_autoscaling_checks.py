"""Auto Scaling check kinds against the real moto server."""

from labapp.grading.grader import run_check

AMI = "ami-0d27e0fb3bac4d724"


def check(sb, kind, **args):
    return run_check({"kind": kind, **args}, {}, sb.ctx())


def subnets(sb):
    ec2 = sb.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    by_az = {s["AvailabilityZone"]: s["SubnetId"] for s in ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]}
    return vpc, by_az["us-east-1a"], by_az["us-east-1b"]


def test_group_from_template(sandbox):
    asg = sandbox.client("autoscaling")
    vpc, a, b = subnets(sandbox)
    out = check(sandbox, "autoscaling.group", name="web-asg")
    assert not out.passed and out.feedback == "Auto Scaling group web-asg does not exist"
    asg.create_launch_configuration(LaunchConfigurationName="web-lc", ImageId=AMI, InstanceType="t3.micro")
    asg.create_auto_scaling_group(AutoScalingGroupName="old-asg", LaunchConfigurationName="web-lc",
                                  MinSize=1, MaxSize=2, VPCZoneIdentifier=a)
    out = check(sandbox, "autoscaling.group", name="old-asg", launch_template="web-lt")
    assert not out.passed and "uses the launch configuration web-lc" in out.feedback
    out = check(sandbox, "autoscaling.group", name="old-asg", min_azs=2)
    assert not out.passed and "spans only us-east-1a" in out.feedback
    sandbox.client("ec2").create_launch_template(
        LaunchTemplateName="web-lt", LaunchTemplateData={"ImageId": AMI, "InstanceType": "t3.micro"})
    tg = sandbox.client("elbv2").create_target_group(Name="web-tg", Protocol="HTTP", Port=80, VpcId=vpc)
    asg.create_auto_scaling_group(
        AutoScalingGroupName="web-asg", LaunchTemplate={"LaunchTemplateName": "web-lt", "Version": "$Latest"},
        MinSize=2, MaxSize=6, DesiredCapacity=2, VPCZoneIdentifier=f"{a},{b}",
        TargetGroupARNs=[tg["TargetGroups"][0]["TargetGroupArn"]], HealthCheckType="ELB")
    assert check(sandbox, "autoscaling.group", name="web-asg", launch_template="web-lt", min_size=2, max_size=6,
                 desired_capacity=2, min_azs=2, target_group="web-tg", health_check_type="ELB").passed
    out = check(sandbox, "autoscaling.group", name="web-asg", max_size=4)
    assert not out.passed and out.feedback == "the maximum size of web-asg is 6, not 4"
    out = check(sandbox, "autoscaling.group", name="old-asg", target_group="web-tg")
    assert not out.passed and "is not attached to the target group web-tg (attached: none)" in out.feedback


def test_target_tracking(sandbox):
    asg = sandbox.client("autoscaling")
    _, a, _ = subnets(sandbox)
    sandbox.client("ec2").create_launch_template(
        LaunchTemplateName="web-lt", LaunchTemplateData={"ImageId": AMI, "InstanceType": "t3.micro"})
    asg.create_auto_scaling_group(AutoScalingGroupName="web-asg", MinSize=1, MaxSize=3, VPCZoneIdentifier=a,
                                  LaunchTemplate={"LaunchTemplateName": "web-lt"})
    args = {"group": "web-asg", "metric": "ASGAverageCPUUtilization", "target": 40}
    out = check(sandbox, "autoscaling.target_tracking", **args)
    assert not out.passed and out.feedback == "web-asg has no scaling policy"
    asg.put_scaling_policy(AutoScalingGroupName="web-asg", PolicyName="step", PolicyType="SimpleScaling",
                           AdjustmentType="ChangeInCapacity", ScalingAdjustment=1)
    out = check(sandbox, "autoscaling.target_tracking", **args)
    assert not out.passed and "has no target tracking policy (policies: step (SimpleScaling))" in out.feedback
    asg.put_scaling_policy(AutoScalingGroupName="web-asg", PolicyName="cpu70", PolicyType="TargetTrackingScaling",
                           TargetTrackingConfiguration={"PredefinedMetricSpecification": {
                               "PredefinedMetricType": "ASGAverageCPUUtilization"}, "TargetValue": 70.0})
    out = check(sandbox, "autoscaling.target_tracking", **args)
    assert not out.passed and "(cpu70: ASGAverageCPUUtilization at 70.0)" in out.feedback
    asg.put_scaling_policy(AutoScalingGroupName="web-asg", PolicyName="cpu70", PolicyType="TargetTrackingScaling",
                           TargetTrackingConfiguration={"PredefinedMetricSpecification": {
                               "PredefinedMetricType": "ASGAverageCPUUtilization"}, "TargetValue": 40.0})
    out = check(sandbox, "autoscaling.target_tracking", **args)
    assert out.passed and out.feedback == "cpu70 keeps ASGAverageCPUUtilization of web-asg at 40"


def test_target_tracking_is_judged_with_the_other_policies_of_the_group(sandbox):
    asg = sandbox.client("autoscaling")
    _, a, _ = subnets(sandbox)
    sandbox.client("ec2").create_launch_template(
        LaunchTemplateName="web-lt", LaunchTemplateData={"ImageId": AMI, "InstanceType": "t3.micro"})
    asg.create_auto_scaling_group(AutoScalingGroupName="web-asg", MinSize=1, MaxSize=3, VPCZoneIdentifier=a,
                                  LaunchTemplate={"LaunchTemplateName": "web-lt"})
    args = {"group": "web-asg", "metric": "ASGAverageCPUUtilization", "target": 40}

    def tracking(name, value, **extra):
        asg.put_scaling_policy(AutoScalingGroupName="web-asg", PolicyName=name, PolicyType="TargetTrackingScaling",
                               TargetTrackingConfiguration={"PredefinedMetricSpecification": {
                                   "PredefinedMetricType": "ASGAverageCPUUtilization"}, "TargetValue": value, **extra})

    tracking("cpu40", 40.0, DisableScaleIn=True)
    out = check(sandbox, "autoscaling.target_tracking", **args)
    assert not out.passed and "cpu40 has scale-in disabled" in out.feedback
    tracking("cpu40", 40.0)
    # A first attempt at 25 left behind: the group scales out at 25, so CPU is never held at 40.
    tracking("cpu25", 25.0)
    out = check(sandbox, "autoscaling.target_tracking", **args)
    assert not out.passed and "also has cpu25 at 25.0 on ASGAverageCPUUtilization" in out.feedback
    asg.delete_policy(AutoScalingGroupName="web-asg", PolicyName="cpu25")
    # A policy on another metric is a legitimate second signal.
    asg.put_scaling_policy(AutoScalingGroupName="web-asg", PolicyName="requests", PolicyType="TargetTrackingScaling",
                           TargetTrackingConfiguration={"PredefinedMetricSpecification": {
                               "PredefinedMetricType": "ASGAverageNetworkIn"}, "TargetValue": 1000000.0})
    assert check(sandbox, "autoscaling.target_tracking", **args).passed


def test_listers(sandbox):
    from labapp.grading.resources import list_resources

    asg = sandbox.client("autoscaling")
    _, a, b = subnets(sandbox)
    sandbox.client("ec2").create_launch_template(
        LaunchTemplateName="web-lt", LaunchTemplateData={"ImageId": AMI, "InstanceType": "t3.micro"})
    asg.create_auto_scaling_group(AutoScalingGroupName="web-asg", MinSize=2, MaxSize=6, DesiredCapacity=2,
                                  VPCZoneIdentifier=f"{a},{b}", LaunchTemplate={"LaunchTemplateName": "web-lt"})
    asg.put_scaling_policy(AutoScalingGroupName="web-asg", PolicyName="cpu40", PolicyType="TargetTrackingScaling",
                           TargetTrackingConfiguration={"PredefinedMetricSpecification": {
                               "PredefinedMetricType": "ASGAverageCPUUtilization"}, "TargetValue": 40.0})
    groups, policies = list_resources(["autoscaling.groups", "autoscaling.policies"], sandbox.client)
    assert groups["error"] is None and policies["error"] is None
    assert groups["rows"][0][0] == "web-asg" and groups["rows"][0][2] == "2 / 2 / 6" and groups["rows"][0][4] == "2"
    assert policies["rows"][0][1:] == ["cpu40", "TargetTrackingScaling", "ASGAverageCPUUtilization = 40.0"]


def test_group_grades_the_template_version_it_launches(sandbox):
    asg, ec2 = sandbox.client("autoscaling"), sandbox.client("ec2")
    _, a, b = subnets(sandbox)
    ec2.create_launch_template(LaunchTemplateName="web-lt",
                               LaunchTemplateData={"ImageId": AMI, "InstanceType": "t3.small"})
    # version 2 starts from version 1 and changes only the instance type (the emulator keeps the AMI, as AWS does)
    ec2.create_launch_template_version(LaunchTemplateName="web-lt", SourceVersion="1",
                                       LaunchTemplateData={"InstanceType": "t3.micro"})
    want = {"name": "web-asg", "image": AMI, "instance_type": "t3.micro"}
    asg.create_auto_scaling_group(AutoScalingGroupName="web-asg", MinSize=1, MaxSize=2, VPCZoneIdentifier=f"{a},{b}",
                                  LaunchTemplate={"LaunchTemplateName": "web-lt"})  # no Version: $Default, still 1
    out = check(sandbox, "autoscaling.group", **want)
    assert not out.passed and out.feedback == ("web-asg launches version 1 of web-lt (Version $Default) with instance "
                                               "type t3.small, not t3.micro")
    asg.update_auto_scaling_group(AutoScalingGroupName="web-asg",
                                  LaunchTemplate={"LaunchTemplateName": "web-lt", "Version": "$Latest"})
    assert check(sandbox, "autoscaling.group", **want).passed
    asg.update_auto_scaling_group(AutoScalingGroupName="web-asg",
                                  LaunchTemplate={"LaunchTemplateName": "web-lt", "Version": "1"})
    assert not check(sandbox, "autoscaling.group", **want).passed
    ec2.modify_launch_template(LaunchTemplateName="web-lt", DefaultVersion="2")
    asg.update_auto_scaling_group(AutoScalingGroupName="web-asg",
                                  LaunchTemplate={"LaunchTemplateName": "web-lt", "Version": "$Default"})
    assert check(sandbox, "autoscaling.group", **want).passed
    versions = ec2.describe_launch_template_versions(LaunchTemplateName="web-lt", Versions=["2"])
    assert versions["LaunchTemplateVersions"][0]["LaunchTemplateData"]["ImageId"] == AMI


def test_target_group_attached_as_a_traffic_source(sandbox):
    asg, ec2 = sandbox.client("autoscaling"), sandbox.client("ec2")
    vpc, a, b = subnets(sandbox)
    ec2.create_launch_template(LaunchTemplateName="web-lt", LaunchTemplateData={"ImageId": AMI, "InstanceType": "t3.micro"})
    tg = sandbox.client("elbv2").create_target_group(Name="web-tg", Protocol="HTTP", Port=80, VpcId=vpc)[
        "TargetGroups"][0]["TargetGroupArn"]
    asg.create_auto_scaling_group(AutoScalingGroupName="web-asg", MinSize=2, MaxSize=6, VPCZoneIdentifier=f"{a},{b}",
                                  LaunchTemplate={"LaunchTemplateName": "web-lt"})
    assert not check(sandbox, "autoscaling.group", name="web-asg", target_group="web-tg").passed
    asg.attach_traffic_sources(AutoScalingGroupName="web-asg", TrafficSources=[{"Identifier": tg, "Type": "elbv2"}])
    assert check(sandbox, "autoscaling.group", name="web-asg", target_group="web-tg").passed
    assert [s["Identifier"] for s in asg.describe_traffic_sources(AutoScalingGroupName="web-asg")["TrafficSources"]] == [tg]
    health = sandbox.client("elbv2").describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    assert len(health) == 2  # the group's instances are registered, as with attach-load-balancer-target-groups
    asg.detach_traffic_sources(AutoScalingGroupName="web-asg", TrafficSources=[{"Identifier": tg}])
    assert not check(sandbox, "autoscaling.group", name="web-asg", target_group="web-tg").passed
    asg.create_auto_scaling_group(AutoScalingGroupName="new-asg", MinSize=1, MaxSize=2, VPCZoneIdentifier=a,
                                  LaunchTemplate={"LaunchTemplateName": "web-lt"}, TrafficSources=[{"Identifier": tg}])
    assert check(sandbox, "autoscaling.group", name="new-asg", target_group="web-tg").passed

"""Auto Scaling and launch template extensions (labapp/sandbox/extensions/autoscaling.py, ec2_launch_templates.py)
through the real emulator and gateway: traffic sources attach target groups, and a launch template version made
with --source-version starts from that version, so a group launching from it gets the AMI."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.sandbox.helpers import make_sandbox

pytestmark = pytest.mark.django_db(transaction=True)

AMI = "ami-0d27e0fb3bac4d724"


def _subnets(ec2):
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    return vpc, [s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]][:2]


def test_source_version_and_traffic_sources(sandbox_stack):
    box = make_sandbox(sandbox_stack.url)
    ec2, asg, elb = box.client("ec2"), box.client("autoscaling"), box.client("elbv2")
    vpc, subnets = _subnets(ec2)
    ec2.create_launch_template(LaunchTemplateName="web-lt", LaunchTemplateData={"ImageId": AMI, "InstanceType": "t3.small"})
    made = ec2.create_launch_template_version(LaunchTemplateName="web-lt", SourceVersion="$Latest",
                                              LaunchTemplateData={"InstanceType": "t3.micro"})["LaunchTemplateVersion"]
    assert made["LaunchTemplateData"] == {"ImageId": AMI, "InstanceType": "t3.micro"}
    with pytest.raises(ClientError) as err:
        ec2.create_launch_template_version(LaunchTemplateName="web-lt", SourceVersion="7",
                                           LaunchTemplateData={"InstanceType": "t3.micro"})
    assert err.value.response["Error"]["Code"] == "InvalidLaunchTemplateId.VersionNotFound"
    tg = elb.create_target_group(Name="web-tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    asg.create_auto_scaling_group(AutoScalingGroupName="web-asg", MinSize=2, MaxSize=4, VPCZoneIdentifier=",".join(subnets),
                                  LaunchTemplate={"LaunchTemplateName": "web-lt", "Version": "$Latest"})
    asg.attach_traffic_sources(AutoScalingGroupName="web-asg", TrafficSources=[{"Identifier": tg, "Type": "elbv2"}])
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["web-asg"])["AutoScalingGroups"][0]
    assert group["TargetGroupARNs"] == [tg]
    ids = [i["InstanceId"] for i in group["Instances"]]
    images = {i["ImageId"] for r in ec2.describe_instances(InstanceIds=ids)["Reservations"] for i in r["Instances"]}
    assert images == {AMI}
    sources = asg.describe_traffic_sources(AutoScalingGroupName="web-asg")["TrafficSources"]
    assert [(s["Identifier"], s["Type"]) for s in sources] == [(tg, "elbv2")]
    asg.detach_traffic_sources(AutoScalingGroupName="web-asg", TrafficSources=[{"Identifier": tg}])
    assert not asg.describe_traffic_sources(AutoScalingGroupName="web-asg")["TrafficSources"]

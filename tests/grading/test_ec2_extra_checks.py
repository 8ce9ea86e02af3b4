"""EC2 check kinds added for the EIP, ENI, AMI, launch template, EBS and SG-chaining labs."""

from labapp.grading.grader import run_check

AMI = "ami-0d27e0fb3bac4d724"


def check(sb, kind, journal=None, **args):
    return run_check({"kind": kind, **args}, {}, sb.ctx(journal=journal))


def launch(sb, name, az="us-east-1a", image=AMI, **extra):
    return sb.client("ec2").run_instances(
        ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", Placement={"AvailabilityZone": az},
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}], **extra,
    )["Instances"][0]


def test_eip_associated_and_idle(sandbox):
    ec2 = sandbox.client("ec2")
    inst = launch(sandbox, "web-eip")
    out = check(sandbox, "ec2.eip_associated", instance="web-eip", address_name="web-ip")
    assert not out.passed and "no Elastic IP addresses" in out.feedback
    alloc = ec2.allocate_address(Domain="vpc", TagSpecifications=[
        {"ResourceType": "elastic-ip", "Tags": [{"Key": "Name", "Value": "web-ip"}]}])
    out = check(sandbox, "ec2.eip_associated", instance="web-eip", address_name="web-ip")
    assert not out.passed and "no Elastic IP is associated with web-eip" in out.feedback
    out = check(sandbox, "ec2.no_idle_eips")
    assert not out.passed and "allocated but not associated" in out.feedback
    ec2.associate_address(InstanceId=inst["InstanceId"], AllocationId=alloc["AllocationId"])
    assert check(sandbox, "ec2.eip_associated", instance="web-eip", address_name="web-ip").passed
    assert check(sandbox, "ec2.no_idle_eips").passed
    ec2.allocate_address(Domain="vpc")
    assert not check(sandbox, "ec2.no_idle_eips").passed


def test_eip_associated_through_the_instances_interface(sandbox):
    ec2 = sandbox.client("ec2")
    inst = launch(sandbox, "web-eip")
    alloc = ec2.allocate_address(Domain="vpc", TagSpecifications=[
        {"ResourceType": "elastic-ip", "Tags": [{"Key": "Name", "Value": "web-ip"}]}])["AllocationId"]
    ec2.associate_address(NetworkInterfaceId=inst["NetworkInterfaces"][0]["NetworkInterfaceId"], AllocationId=alloc)
    out = check(sandbox, "ec2.eip_associated", instance="web-eip", address_name="web-ip")
    assert out.passed, out.feedback


def test_a_second_address_on_the_instance_leaves_the_first_idle(sandbox):
    ec2 = sandbox.client("ec2")
    inst = launch(sandbox, "web-eip")
    tagged = ec2.allocate_address(Domain="vpc", TagSpecifications=[
        {"ResourceType": "elastic-ip", "Tags": [{"Key": "Name", "Value": "web-ip"}]}])
    spare = ec2.allocate_address(Domain="vpc")
    ec2.associate_address(InstanceId=inst["InstanceId"], AllocationId=tagged["AllocationId"])
    ec2.associate_address(InstanceId=inst["InstanceId"], AllocationId=spare["AllocationId"])
    out = check(sandbox, "ec2.eip_associated", instance="web-eip", address_name="web-ip")
    assert not out.passed and "no Elastic IP is associated with web-eip" in out.feedback
    out = check(sandbox, "ec2.no_idle_eips")
    assert not out.passed and f"Elastic IP {tagged['PublicIp']} is allocated but not associated" in out.feedback


def test_eni_failover(sandbox):
    ec2 = sandbox.client("ec2")
    primary = launch(sandbox, "app-primary")
    standby = launch(sandbox, "app-standby")
    sg = ec2.create_security_group(GroupName="app-sg", Description="x")["GroupId"]
    eni = ec2.create_network_interface(SubnetId=primary["SubnetId"], Groups=[sg], TagSpecifications=[
        {"ResourceType": "network-interface", "Tags": [{"Key": "Name", "Value": "app-eni"}]}])["NetworkInterface"]
    assert check(sandbox, "ec2.eni_config", eni="app-eni", same_subnet_as="app-primary", security_group="app-sg").passed
    out = check(sandbox, "ec2.eni_attached", eni="app-eni", instance="app-standby")
    assert not out.passed and "is not attached to any instance" in out.feedback
    att = ec2.attach_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"],
                                       InstanceId=primary["InstanceId"], DeviceIndex=1)
    out = check(sandbox, "ec2.eni_attached", eni="app-eni", instance="app-standby")
    assert not out.passed and out.feedback == "app-eni is attached to app-primary, not to app-standby"
    ec2.detach_network_interface(AttachmentId=att["AttachmentId"])
    ec2.attach_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"],
                                 InstanceId=standby["InstanceId"], DeviceIndex=1)
    args = {"eni": "app-eni", "instance": "app-standby", "device_index": 1, "moved_from": "app-primary"}
    out = check(sandbox, "ec2.eni_attached", journal=[], **args)
    assert not out.passed and "was never attached to app-primary" in out.feedback
    journal = [
        {"source": "learner", "action": "AttachNetworkInterface", "status": 200,
         "params": {"InstanceId": primary["InstanceId"]}},
        {"source": "learner", "action": "DetachNetworkInterface", "status": 200, "params": {}},
    ]
    out = check(sandbox, "ec2.eni_attached", journal=journal, **args)
    assert out.passed and out.feedback == "app-eni moved from app-primary to app-standby"


def test_eni_failover_of_another_interface_does_not_count(sandbox):
    ec2 = sandbox.client("ec2")
    primary = launch(sandbox, "app-primary")
    standby = launch(sandbox, "app-standby")
    eni = ec2.create_network_interface(SubnetId=primary["SubnetId"], TagSpecifications=[
        {"ResourceType": "network-interface", "Tags": [{"Key": "Name", "Value": "app-eni"}]}])["NetworkInterface"]
    ec2.attach_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"], InstanceId=standby["InstanceId"],
                                 DeviceIndex=1)
    args = {"eni": "app-eni", "instance": "app-standby", "device_index": 1, "moved_from": "app-primary"}
    attach = {"source": "learner", "action": "AttachNetworkInterface", "status": 200,
              "params": {"InstanceId": primary["InstanceId"], "NetworkInterfaceId": "eni-someotherone", "DeviceIndex": "1"}}
    detach = {"source": "learner", "action": "DetachNetworkInterface", "status": 200, "params": {}}
    out = check(sandbox, "ec2.eni_attached", journal=[attach, detach], **args)
    assert not out.passed and "was never attached to app-primary" in out.feedback
    attach["params"] = {**attach["params"], "NetworkInterfaceId": eni["NetworkInterfaceId"], "DeviceIndex": "2"}
    out = check(sandbox, "ec2.eni_attached", journal=[attach, detach], **args)
    assert not out.passed and "at device index 2, not 1" in out.feedback
    attach["params"]["DeviceIndex"] = "1"
    out = check(sandbox, "ec2.eni_attached", journal=[detach, attach], **args)  # a detach before is not a failover
    assert not out.passed and "was not detached from app-primary" in out.feedback
    assert check(sandbox, "ec2.eni_attached", journal=[attach, detach], **args).passed


def test_eni_config_other_subnet(sandbox):
    ec2 = sandbox.client("ec2")
    launch(sandbox, "app-primary", az="us-east-1a")
    other = launch(sandbox, "elsewhere", az="us-east-1b")
    ec2.create_network_interface(SubnetId=other["SubnetId"], TagSpecifications=[
        {"ResourceType": "network-interface", "Tags": [{"Key": "Name", "Value": "app-eni"}]}])
    out = check(sandbox, "ec2.eni_config", eni="app-eni", same_subnet_as="app-primary")
    assert not out.passed and "can only move between instances in its own Availability Zone" in out.feedback


def test_image_from_instance_and_launch(sandbox):
    ec2 = sandbox.client("ec2")
    builder = launch(sandbox, "builder")
    other = launch(sandbox, "other")
    out = check(sandbox, "ec2.image_from_instance", image="golden", instance="builder")
    assert not out.passed and out.feedback == "you own no AMI named golden"
    wrong = ec2.create_image(InstanceId=other["InstanceId"], Name="golden")["ImageId"]
    out = check(sandbox, "ec2.image_from_instance", image="golden", instance="builder")
    assert not out.passed and "was not created from builder" in out.feedback
    ec2.deregister_image(ImageId=wrong)
    image = ec2.create_image(InstanceId=builder["InstanceId"], Name="golden")["ImageId"]
    assert check(sandbox, "ec2.image_from_instance", image="golden", instance="builder").passed
    launch(sandbox, "web-from-ami")
    out = check(sandbox, "ec2.instance_from_image", instance="web-from-ami", image="golden")
    assert not out.passed and f"runs {AMI}, not your AMI golden" in out.feedback
    launch(sandbox, "web-2", image=image)
    assert check(sandbox, "ec2.instance_from_image", instance="web-2", image="golden").passed


def test_launch_template(sandbox):
    ec2 = sandbox.client("ec2")
    out = check(sandbox, "ec2.launch_template", name="web-lt")
    assert not out.passed and "launch template web-lt does not exist" in out.feedback
    ec2.create_launch_template(LaunchTemplateName="web-lt",
                               LaunchTemplateData={"ImageId": AMI, "InstanceType": "t3.small"})
    out = check(sandbox, "ec2.launch_template", name="web-lt", image=AMI, instance_type="t3.micro")
    assert not out.passed and "uses instance type t3.small, not t3.micro" in out.feedback
    ec2.create_launch_template_version(LaunchTemplateName="web-lt", SourceVersion="1",
                                       LaunchTemplateData={"ImageId": AMI, "InstanceType": "t3.micro"})
    ec2.modify_launch_template(LaunchTemplateName="web-lt", DefaultVersion="2")
    assert check(sandbox, "ec2.launch_template", name="web-lt", image=AMI, instance_type="t3.micro").passed


def test_snapshot_restore_attach(sandbox):
    ec2 = sandbox.client("ec2")
    tags = lambda n: [{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": n}]}]  # noqa: E731
    vol = ec2.create_volume(AvailabilityZone="us-east-1a", Size=20, TagSpecifications=tags("data"))["VolumeId"]
    out = check(sandbox, "ec2.snapshot_of_volume", volume="data")
    assert not out.passed and "no snapshot of data" in out.feedback
    snap = ec2.create_snapshot(VolumeId=vol)["SnapshotId"]
    assert check(sandbox, "ec2.snapshot_of_volume", volume="data").passed
    args = {"source": "data", "availability_zone": "us-east-1b", "name": "data-b", "volume_type": "gp3"}
    ec2.create_volume(AvailabilityZone="us-east-1b", Size=20, VolumeType="gp3", TagSpecifications=tags("data-b"))
    out = check(sandbox, "ec2.volume_from_snapshot", **args)
    assert not out.passed and "data-b was not created from a snapshot of data" in out.feedback
    ec2.create_volume(AvailabilityZone="us-east-1a", SnapshotId=snap, VolumeType="gp3", TagSpecifications=tags("data-b"))
    out = check(sandbox, "ec2.volume_from_snapshot", **args)
    assert not out.passed and "is in us-east-1a, not in us-east-1b" in out.feedback
    new = ec2.create_volume(AvailabilityZone="us-east-1b", SnapshotId=snap, VolumeType="gp3",
                            TagSpecifications=tags("data-c"))["VolumeId"]
    assert check(sandbox, "ec2.volume_from_snapshot", **{**args, "name": "data-c"}).passed
    inst = launch(sandbox, "reports-b", az="us-east-1b")
    out = check(sandbox, "ec2.volume_attached", volume="data-c", instance="reports-b")
    assert not out.passed and out.feedback == "data-c is not attached to any instance"
    ec2.attach_volume(VolumeId=new, InstanceId=inst["InstanceId"], Device="/dev/sdf")
    assert check(sandbox, "ec2.volume_attached", volume="data-c", instance="reports-b").passed


def test_leftover_restore_does_not_hide_the_attached_one_and_a_copy_counts(sandbox):
    ec2 = sandbox.client("ec2")
    tags = lambda n: [{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": n}]}]  # noqa: E731
    vol = ec2.create_volume(AvailabilityZone="us-east-1a", Size=20, TagSpecifications=tags("data"))["VolumeId"]
    snap = ec2.create_snapshot(VolumeId=vol)["SnapshotId"]
    copy = ec2.copy_snapshot(SourceSnapshotId=snap, SourceRegion="us-east-1")["SnapshotId"]
    inst = launch(sandbox, "reports-b", az="us-east-1b")
    ec2.create_volume(AvailabilityZone="us-east-1a", SnapshotId=snap, TagSpecifications=tags("data-b"))  # a mistake
    new = ec2.create_volume(AvailabilityZone="us-east-1b", SnapshotId=copy, VolumeType="gp2",
                            TagSpecifications=tags("data-b"))["VolumeId"]
    ec2.attach_volume(VolumeId=new, InstanceId=inst["InstanceId"], Device="/dev/sdf")
    args = {"source": "data", "availability_zone": "us-east-1b", "name": "data-b", "volume_type": "gp3"}
    out = check(sandbox, "ec2.volume_from_snapshot", **args)
    assert not out.passed and "is gp2, not gp3" in out.feedback
    ec2.modify_volume(VolumeId=new, VolumeType="gp3")  # Elastic Volumes: converted after the restore
    assert check(sandbox, "ec2.volume_from_snapshot", **args).passed
    assert check(sandbox, "ec2.volume_attached", volume="data-b", instance="reports-b").passed


def test_sg_port_only_from_group(sandbox):
    ec2 = sandbox.client("ec2")
    alb = ec2.create_security_group(GroupName="alb-sg", Description="x")["GroupId"]
    web = ec2.create_security_group(GroupName="web-sg", Description="x")["GroupId"]
    args = {"group": "web-sg", "port": 80, "source_group": "alb-sg"}
    out = check(sandbox, "ec2.sg_port_only_from_group", **args)
    assert not out.passed and "has no inbound rule for HTTP (TCP 80) from the security group alb-sg" in out.feedback
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": alb}]}])
    assert check(sandbox, "ec2.sg_port_only_from_group", **args).passed
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 1000, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    out = check(sandbox, "ec2.sg_port_only_from_group", **args)
    assert not out.passed
    assert "is also open to 0.0.0.0/0 (through the rule tcp 0-1000)" in out.feedback


def test_sg_port_only_from_group_counts_every_group_of_the_instances(sandbox):
    ec2 = sandbox.client("ec2")
    alb = ec2.create_security_group(GroupName="alb-sg", Description="x")["GroupId"]
    web = ec2.create_security_group(GroupName="web-sg", Description="x")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": alb}]}])
    inst = launch(sandbox, "web-1", SecurityGroupIds=[web])
    args = {"group": "web-sg", "port": 80, "source_group": "alb-sg", "instances": ["web-1"]}
    assert check(sandbox, "ec2.sg_port_only_from_group", **args).passed
    # A second group on the instance reopens port 80 to the world: web-sg alone still looks right.
    wide = ec2.create_security_group(GroupName="open-web", Description="x")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=wide, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.modify_instance_attribute(InstanceId=inst["InstanceId"], Groups=[web, wide])
    without_instances = {k: v for k, v in args.items() if k != "instances"}
    assert check(sandbox, "ec2.sg_port_only_from_group", **without_instances).passed
    out = check(sandbox, "ec2.sg_port_only_from_group", **args)
    assert not out.passed
    assert "is also in the security group open-web, which opens HTTP (TCP 80) to 0.0.0.0/0" in out.feedback
    # A second group that only repeats the chain (or opens another port) is harmless.
    ssh = ec2.create_security_group(GroupName="admin-ssh", Description="x")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=ssh, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "198.18.0.1/32"}]},
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": alb}]}])
    ec2.modify_instance_attribute(InstanceId=inst["InstanceId"], Groups=[web, ssh])
    assert check(sandbox, "ec2.sg_port_only_from_group", **args).passed
    # A second network interface in a group open to the world is another way in to the same server.
    eni = ec2.create_network_interface(SubnetId=inst["SubnetId"], Groups=[wide])["NetworkInterface"]
    ec2.attach_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"], InstanceId=inst["InstanceId"],
                                 DeviceIndex=1)
    out = check(sandbox, "ec2.sg_port_only_from_group", **args)
    assert not out.passed and "is also in the security group open-web" in out.feedback
    ec2.detach_network_interface(AttachmentId=ec2.describe_network_interfaces(NetworkInterfaceIds=[
        eni["NetworkInterfaceId"]])["NetworkInterfaces"][0]["Attachment"]["AttachmentId"])
    assert check(sandbox, "ec2.sg_port_only_from_group", **args).passed
    # Moved out of web-sg into a group with no HTTP rule: the load balancer can no longer reach it.
    ec2.modify_instance_attribute(InstanceId=inst["InstanceId"], Groups=[wide])
    ec2.revoke_security_group_ingress(GroupId=wide, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    out = check(sandbox, "ec2.sg_port_only_from_group", **args)
    assert not out.passed and "is in open-web, none of which admits HTTP (TCP 80) from alb-sg" in out.feedback


def test_instance_port_only_from_counts_every_group(sandbox):
    ec2 = sandbox.client("ec2")
    web = ec2.create_security_group(GroupName="web-sg", Description="x")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "198.18.3.7/32"}]},
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    inst = launch(sandbox, "web-1", SecurityGroupIds=[web])
    args = {"instance": "web-1", "port": 22, "cidrs": ["198.18.3.7/32"]}
    assert check(sandbox, "ec2.instance_port_only_from", **args).passed
    wizard = ec2.create_security_group(GroupName="launch-wizard-1", Description="x")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=wizard, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.modify_instance_attribute(InstanceId=inst["InstanceId"], Groups=[web, wizard])
    out = check(sandbox, "ec2.instance_port_only_from", **args)
    assert not out.passed
    assert "is also in the security group launch-wizard-1, which opens SSH (TCP 22) to 0.0.0.0/0" in out.feedback
    # A second group that opens only other ports leaves SSH as tight as web-sg made it.
    ec2.revoke_security_group_ingress(GroupId=wizard, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.authorize_security_group_ingress(GroupId=wizard, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    assert check(sandbox, "ec2.instance_port_only_from", **args).passed
    # web-sg's own rules can be left to the check that grades them, so one mistake costs one task.
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    assert not check(sandbox, "ec2.instance_port_only_from", **args).passed
    assert check(sandbox, "ec2.instance_port_only_from", besides="web-sg", **args).passed


def test_listers(sandbox):
    from labapp.grading.resources import list_resources

    ec2 = sandbox.client("ec2")
    inst = launch(sandbox, "web")
    alloc = ec2.allocate_address(Domain="vpc")
    ec2.associate_address(InstanceId=inst["InstanceId"], AllocationId=alloc["AllocationId"])
    ec2.create_network_interface(SubnetId=inst["SubnetId"])
    ec2.create_image(InstanceId=inst["InstanceId"], Name="golden")
    vol = ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)["VolumeId"]
    ec2.create_snapshot(VolumeId=vol)
    ec2.create_launch_template(LaunchTemplateName="web-lt", LaunchTemplateData={"ImageId": AMI})
    kinds = ["ec2.addresses", "ec2.network_interfaces", "ec2.images", "ec2.volumes", "ec2.snapshots",
             "ec2.launch_templates"]
    tables = list_resources(kinds, sandbox.client)
    for table in tables:
        assert table["error"] is None, table
        assert table["rows"], table["kind"]
    addresses = tables[0]["rows"]
    assert addresses[0][3] == inst["InstanceId"]
    assert tables[2]["rows"][0][1] == "golden"
    assert tables[5]["rows"][0][:2] == ["web-lt", "1"]


def test_volume_config_and_default_encryption(sandbox):
    ec2 = sandbox.client("ec2")
    vol = ec2.create_volume(AvailabilityZone="us-east-1a", Size=100, VolumeType="gp2", TagSpecifications=[
        {"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": "db-data"}]}])["VolumeId"]
    args = {"volume": "db-data", "volume_type": "gp3", "min_iops": 6000, "min_throughput": 250, "max_size": 100,
            "modified_in_place": True}
    out = check(sandbox, "ec2.volume_config", **args)
    assert not out.passed and out.feedback == f"db-data ({vol}) is gp2, not gp3"
    ec2.modify_volume(VolumeId=vol, VolumeType="gp3")
    out = check(sandbox, "ec2.volume_config", **args)
    assert not out.passed and "IOPS, not at least 6000" in out.feedback
    ec2.modify_volume(VolumeId=vol, Iops=6000, Throughput=250)
    assert check(sandbox, "ec2.volume_config", **args).passed
    ec2.create_volume(AvailabilityZone="us-east-1a", Size=100, VolumeType="gp3", Iops=6000, Throughput=250,
                      TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": "fresh"}]}])
    out = check(sandbox, "ec2.volume_config", **{**args, "volume": "fresh"})
    assert not out.passed and "was never modified in place" in out.feedback
    ec2.modify_volume(VolumeId=vol, Size=2000)
    out = check(sandbox, "ec2.volume_config", **args)
    assert not out.passed and "is 2000 GiB — bigger than the 100 GiB needed" in out.feedback
    out = check(sandbox, "ec2.ebs_encryption_by_default")
    assert not out.passed and out.feedback.startswith("EBS encryption by default is off")
    ec2.enable_ebs_encryption_by_default()
    assert check(sandbox, "ec2.ebs_encryption_by_default").passed

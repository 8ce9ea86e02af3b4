import base64

import pytest

from labapp.grading.grader import run_check

MY_IP = "198.18.3.7"
SCRIPT = "#!/bin/bash\ndnf install -y httpd\nsystemctl enable --now httpd\n"


def check(sb, kind, **args):
    return run_check({"kind": kind, **args}, {}, sb.ctx())


def make_sg(sb, name="web-sg", vpc_id=None):
    ec2 = sb.client("ec2")
    kwargs = {"VpcId": vpc_id} if vpc_id else {}
    return ec2.create_security_group(GroupName=name, Description="web", **kwargs)["GroupId"]


def allow(sb, gid, port, cidr, proto="tcp", to_port=None):
    rule = {"IpProtocol": proto}
    if proto != "-1":
        rule.update(FromPort=port, ToPort=to_port or port)
    key, inner = ("Ipv6Ranges", "CidrIpv6") if ":" in cidr else ("IpRanges", "CidrIp")
    rule[key] = [{inner: cidr}]
    sb.client("ec2").authorize_security_group_ingress(GroupId=gid, IpPermissions=[rule])


def test_sg_exists_default_vpc(sandbox):
    out = check(sandbox, "ec2.sg_exists", group="web-sg")
    assert not out.passed and out.feedback == "security group web-sg does not exist"
    vpc = sandbox.client("ec2").create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    make_sg(sandbox, vpc_id=vpc)
    out = check(sandbox, "ec2.sg_exists", group="web-sg")
    assert not out.passed and f"is in {vpc}, not in the default VPC" in out.feedback
    make_sg(sandbox)
    assert check(sandbox, "ec2.sg_exists", group="web-sg").passed


def test_sg_ingress_allows(sandbox):
    gid = make_sg(sandbox)
    out = check(sandbox, "ec2.sg_ingress_allows", group="web-sg", port=80, cidr="0.0.0.0/0")
    assert not out.passed
    assert out.feedback == "web-sg does not allow HTTP (TCP 80) from 0.0.0.0/0 (inbound rules: no inbound rules)"
    allow(sandbox, gid, 80, "10.0.0.0/8")
    out = check(sandbox, "ec2.sg_ingress_allows", group="web-sg", port=80, cidr="0.0.0.0/0")
    assert not out.passed and "(inbound rules: tcp 80 from 10.0.0.0/8)" in out.feedback
    allow(sandbox, gid, 80, "0.0.0.0/0")
    out = check(sandbox, "ec2.sg_ingress_allows", group="web-sg", port=80, cidr="0.0.0.0/0")
    assert out.passed and out.feedback == "web-sg allows HTTP (TCP 80) from 0.0.0.0/0"


def test_sg_ingress_allows_through_range(sandbox):
    gid = make_sg(sandbox)
    allow(sandbox, gid, 0, "0.0.0.0/0", to_port=1024)
    assert check(sandbox, "ec2.sg_ingress_allows", group="web-sg", port=80, cidr="0.0.0.0/0").passed


SSH = {"group": "web-sg", "port": 22, "cidrs": [f"{MY_IP}/32"]}


@pytest.mark.parametrize(
    ("port", "cidr", "proto", "to_port", "expected"),
    [
        (22, "0.0.0.0/0", "tcp", None, f"SSH (TCP 22) is open to 0.0.0.0/0 — restrict it to {MY_IP}/32"),
        (22, "::/0", "tcp", None, f"SSH (TCP 22) is open to ::/0 — restrict it to {MY_IP}/32"),
        (20, "10.0.0.0/8", "tcp", 30, "SSH (TCP 22) is open to 10.0.0.0/8 (through the rule tcp 20-30)"),
        (0, "0.0.0.0/0", "-1", None, "SSH (TCP 22) is open to 0.0.0.0/0 (through the rule all traffic)"),
        (22, "198.18.0.0/16", "tcp", None, "SSH (TCP 22) is open to 198.18.0.0/16"),
    ],
)
def test_ssh_near_misses(sandbox, port, cidr, proto, to_port, expected):
    gid = make_sg(sandbox)
    allow(sandbox, gid, 22, f"{MY_IP}/32")
    allow(sandbox, gid, port, cidr, proto, to_port)
    out = check(sandbox, "ec2.sg_port_only_from", **SSH)
    assert not out.passed and out.feedback.startswith(expected), out.feedback


def test_ssh_only_from_learner(sandbox):
    out = check(sandbox, "ec2.sg_port_only_from", **SSH)
    assert not out.passed and out.feedback == "security group web-sg does not exist"
    gid = make_sg(sandbox)
    allow(sandbox, gid, 80, "0.0.0.0/0")
    out = check(sandbox, "ec2.sg_port_only_from", **SSH)
    assert not out.passed and out.feedback == f"SSH (TCP 22) is not allowed from {MY_IP}/32 — add an inbound rule for it"
    allow(sandbox, gid, 22, f"{MY_IP}/32")
    out = check(sandbox, "ec2.sg_port_only_from", **SSH)
    assert out.passed and out.feedback == f"SSH (TCP 22) is allowed only from {MY_IP}/32"


def test_ssh_other_group_reference(sandbox):
    gid = make_sg(sandbox)
    other = make_sg(sandbox, "bastion")
    allow(sandbox, gid, 22, f"{MY_IP}/32")
    sandbox.client("ec2").authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "UserIdGroupPairs": [{"GroupId": other}]}])
    out = check(sandbox, "ec2.sg_port_only_from", **SSH)
    assert not out.passed and f"security group {other}" in out.feedback


def prefix_list(sb, *cidrs):
    return sb.client("ec2").create_managed_prefix_list(
        PrefixListName="admin-ips", MaxEntries=5, AddressFamily="IPv4",
        Entries=[{"Cidr": c} for c in cidrs])["PrefixList"]["PrefixListId"]


def allow_prefix_list(sb, gid, port, pl):
    sb.client("ec2").authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "PrefixListIds": [{"PrefixListId": pl}]}])


def test_http_from_anywhere_split_over_two_halves(sandbox):
    gid = make_sg(sandbox)
    allow(sandbox, gid, 80, "0.0.0.0/1")
    out = check(sandbox, "ec2.sg_ingress_allows", group="web-sg", port=80, cidr="0.0.0.0/0")
    assert not out.passed and "(128.0.0.0/1 cannot reach it)" in out.feedback
    allow(sandbox, gid, 80, "128.0.0.0/1")
    assert check(sandbox, "ec2.sg_ingress_allows", group="web-sg", port=80, cidr="0.0.0.0/0").passed


def test_http_from_anywhere_through_a_prefix_list(sandbox):
    gid = make_sg(sandbox)
    allow_prefix_list(sandbox, gid, 80, prefix_list(sandbox, "0.0.0.0/1", "128.0.0.0/1"))
    assert check(sandbox, "ec2.sg_ingress_allows", group="web-sg", port=80, cidr="0.0.0.0/0").passed


def test_ssh_through_a_prefix_list_counts_by_its_entries(sandbox):
    gid = make_sg(sandbox)
    allow_prefix_list(sandbox, gid, 22, prefix_list(sandbox, f"{MY_IP}/32"))
    out = check(sandbox, "ec2.sg_port_only_from", **SSH)
    assert out.passed, out.feedback
    wide = prefix_list(sandbox, f"{MY_IP}/32", "0.0.0.0/0")
    allow_prefix_list(sandbox, gid, 22, wide)
    out = check(sandbox, "ec2.sg_port_only_from", **SSH)
    assert not out.passed and f"0.0.0.0/0 (in prefix list {wide})" in out.feedback


def test_ssh_open_through_an_all_traffic_rule_from_half_the_internet(sandbox):
    gid = make_sg(sandbox)
    allow(sandbox, gid, 22, f"{MY_IP}/32")
    sandbox.client("ec2").authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/1"}]}])
    out = check(sandbox, "ec2.sg_port_only_from", **SSH)
    assert not out.passed and "is open to 0.0.0.0/1 (through the rule all traffic)" in out.feedback


def run(sb, name="web-1", groups=("web-sg",), user_data=SCRIPT):
    kwargs = {"UserData": user_data} if user_data is not None else {}
    inst = sb.client("ec2").run_instances(
        ImageId="ami-0d27e0fb3bac4d724", MinCount=1, MaxCount=1, InstanceType="t3.micro",
        SecurityGroups=list(groups),
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}], **kwargs,
    )["Instances"][0]
    return inst["InstanceId"]


def test_instance_running(sandbox):
    args = {"name": "web-1", "security_group": "web-sg"}
    out = check(sandbox, "ec2.instance_running", **args)
    assert not out.passed and out.feedback == "there is no instance tagged Name=web-1"
    make_sg(sandbox)
    iid = run(sandbox, groups=("default",))
    out = check(sandbox, "ec2.instance_running", **args)
    assert not out.passed and out.feedback == f"web-1 ({iid}) is in security groups default, not web-sg"
    sandbox.client("ec2").terminate_instances(InstanceIds=[iid])
    iid = run(sandbox)
    out = check(sandbox, "ec2.instance_running", **args)
    assert out.passed and out.feedback == f"web-1 ({iid}) is running in web-sg"
    sandbox.client("ec2").stop_instances(InstanceIds=[iid])
    out = check(sandbox, "ec2.instance_running", **args)
    assert not out.passed and out.feedback == f"no instance named web-1 is running ({iid} is stopped)"
    sandbox.client("ec2").start_instances(InstanceIds=[iid])
    run(sandbox)
    out = check(sandbox, "ec2.instance_running", **args)
    assert not out.passed and "2 instances named web-1 are running" in out.feedback


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (SCRIPT, None),
        ("#!/bin/bash\nyum install -y httpd\nsystemctl start httpd\nsystemctl enable httpd\n", None),
        ("#!/bin/bash\nyum -y install httpd mod_ssl && service httpd start\n", None),
        ("#!/bin/bash\nsudo dnf install -y \\\n  httpd\nsudo systemctl enable httpd --now\n", None),
        ("#cloud-config\npackages:\n  - httpd\nruncmd:\n  - systemctl start httpd\n", None),
        ("#cloud-config\npackages: [httpd]\nruncmd:\n  - [systemctl, enable, --now, httpd]\n", None),
        ("#cloud-config\npackages: [httpd]\n", "does not start httpd"),
        ("", "web-1 has no user data — give it a script that installs and starts httpd"),
        ("dnf install -y httpd\nsystemctl start httpd\n", "does not start with #!/bin/bash"),
        ("#!/bin/bash\nsystemctl start httpd\n", "does not install httpd (e.g. dnf install -y httpd)"),
        ("#!/bin/bash\ndnf install -y httpd\nsystemctl enable httpd\n",
         "does not start httpd (it is only enabled at boot, use systemctl enable --now httpd)"),
        ("#!/bin/bash\n# dnf install -y httpd\n# systemctl start httpd\necho hi\n",
         "does not install httpd (e.g. dnf install -y httpd) and does not start httpd"),
        ("#!/bin/bash\ndnf install -y httpd-tools\nsystemctl start httpd\n", "does not install httpd"),
    ],
)
def test_instance_user_data(sandbox, script, expected):
    make_sg(sandbox)
    run(sandbox, user_data=script if script else None)
    out = check(sandbox, "ec2.instance_user_data", name="web-1", package="httpd")
    if expected is None:
        assert out.passed, out.feedback
        assert out.feedback == "the user data of web-1 installs httpd and starts httpd"
    else:
        assert not out.passed and expected in out.feedback, out.feedback


def test_user_data_gzip(sandbox):
    import gzip

    from labapp.grading.checks.ec2 import decode_user_data

    raw = base64.b64encode(gzip.compress(SCRIPT.encode())).decode()
    assert decode_user_data(raw) == SCRIPT


def test_a_stopped_builder_counts_when_the_lab_allows_it(sandbox):
    iid = run(sandbox, name="builder", groups=())
    sandbox.client("ec2").stop_instances(InstanceIds=[iid])
    out = check(sandbox, "ec2.instance_running", name="builder")
    assert not out.passed and "is stopped" in out.feedback
    out = check(sandbox, "ec2.instance_running", name="builder", allow_stopped=True)
    assert out.passed and out.feedback == f"builder ({iid}) is stopped"
    assert check(sandbox, "ec2.instance_user_data", name="builder", package="httpd").passed

import pytest

from labapp.grading.resources import LISTERS, list_resources
from labapp.grading.setup import SetupError, run_setup
from labapp.grading.solution import iter_commands
from labapp.grading.templating import TemplateError, names_in, render, render_data

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def test_setup_runs_templated_calls(sandbox):
    bucket = f"site-{sandbox.account_id}"
    definition = {"setup": [
        {"call": "s3.create_bucket", "args": {"Bucket": "{{ bucket }}"}},
        {"call": "s3.put_object", "args": {"Bucket": "{{ bucket }}", "Key": "index.html",
                                           "Body": "<p>{{ bucket }}</p>\n", "ContentType": "text/html"}},
        {"call": "iam.create_user", "args": {"UserName": "alice", "Tags": [{"Key": "b", "Value": "{{ bucket }}"}]}},
    ]}
    run_setup(definition, {"bucket": bucket}, sandbox.client)
    body = sandbox.client("s3").get_object(Bucket=bucket, Key="index.html")["Body"].read()
    assert body == f"<p>{bucket}</p>\n".encode()
    assert sandbox.client("iam").list_user_tags(UserName="alice")["Tags"] == [{"Key": "b", "Value": bucket}]
    with pytest.raises(SetupError, match=r"setup step 1 \(iam.create_user\) failed"):
        run_setup({"setup": definition["setup"][2:]}, {"bucket": bucket}, sandbox.client)


def test_listers(sandbox):
    iam, s3, ec2 = sandbox.client("iam"), sandbox.client("s3"), sandbox.client("ec2")
    iam.create_user(UserName="alice")
    iam.attach_user_policy(UserName="alice", PolicyArn=ADMIN)
    iam.create_group(GroupName="admins")
    iam.add_user_to_group(GroupName="admins", UserName="alice")
    iam.create_access_key(UserName="alice")
    bucket = f"site-{sandbox.account_id}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"1")
    s3.delete_object(Bucket=bucket, Key="a.txt")
    gid = ec2.create_security_group(GroupName="web-sg", Description="w")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=gid, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="1.2.3.4/32")
    ec2.run_instances(ImageId="ami-0d27e0fb3bac4d724", MinCount=1, MaxCount=1, SecurityGroups=["web-sg"],
                      TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web-1"}]}])

    tables = {t["kind"]: t for t in list_resources([*LISTERS, "nope.kind"], sandbox.client)}
    assert all(t["error"] is None for k, t in tables.items() if k != "nope.kind")
    assert tables["nope.kind"]["error"] == "unknown resource kind"
    assert tables["iam.users"]["rows"] == [["alice", "admins", "AdministratorAccess", "1", "no"]]
    assert tables["iam.groups"]["rows"] == [["admins", "—", "alice"]]
    assert tables["s3.buckets"]["rows"] == [[bucket, "Enabled", "0"]]
    versions = tables["s3.object_versions"]["rows"]
    assert [(r[1], r[3], r[4]) for r in versions] == [("a.txt", "yes", "yes"), ("a.txt", "", "")]
    sg = next(r for r in tables["ec2.security_groups"]["rows"] if r[0] == "web-sg")
    assert sg[1] == gid and sg[3] == "tcp 22 from 1.2.3.4/32"
    [inst] = tables["ec2.instances"]["rows"]
    assert inst[1:] == ["web-1", "running", "web-sg"]


def test_lister_errors_are_contained():
    def broken(service):
        raise_from = __import__("botocore.exceptions", fromlist=["EndpointConnectionError"])
        raise raise_from.EndpointConnectionError(endpoint_url="http://nowhere")

    [table] = list_resources(["s3.buckets"], broken)
    assert table["rows"] == [] and table["error"].startswith("could not list s3 buckets")


def test_templating():
    assert render("a {{ x }} {{y}}", {"x": 1, "y": "b"}) == "a 1 b"
    assert render_data({"n": "{{ x }}", "l": ["{{ y }}-z"]}, {"x": 1, "y": "b"}) == {"n": 1, "l": ["b-z"]}
    assert names_in({"a": ["{{ p }}", {"b": "{{q}} {{ p }}"}]}) == {"p", "q"}
    with pytest.raises(TemplateError):
        render("{{ missing }}", {})


def test_solution_captures():
    steps = ["aws s3 ls {{ b }}", {"run": "aws s3api delete-object --bucket {{ b }} --key k",
                                   "save": {"marker": "VersionId"}},
             "aws s3api delete-object --bucket {{ b }} --key k --version-id {{ marker }}"]
    seen = []
    for command, record in iter_commands(steps, {"b": "bk"}):
        seen.append(command)
        record('{"VersionId": "v123", "DeleteMarker": true}')
    assert seen[-1] == "aws s3api delete-object --bucket bk --key k --version-id v123"

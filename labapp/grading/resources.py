"""Resource listers for the live panel of a lab page.

`list_resources(kinds, client_factory)` -> [{kind, title, columns, rows, error}], one table per kind,
in the order asked. Each lister is cheap (a handful of API calls) and read-only; a failing lister
gives its table an `error` instead of breaking the panel.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

from .checks.ec2 import rule_label, rule_sources

log = logging.getLogger(__name__)

# At most this many items are described in detail (per-item calls) per table.
MAX_ITEMS = 25


class Lister:
    def __init__(self, kind, title, columns, func):
        self.kind, self.title, self.columns, self.func = kind, title, columns, func


LISTERS: dict[str, Lister] = {}


def lister(kind: str, title: str, columns: list[str]):
    def deco(func):
        LISTERS[kind] = Lister(kind, title, columns, func)
        return func

    return deco


def _join(items) -> str:
    return ", ".join(items) or "—"


@lister("iam.users", "IAM users", ["Name", "Groups", "Attached policies", "Access keys", "Console access"])
def iam_users(client):
    iam = client("iam")
    rows = []
    for user in iam.list_users()["Users"][:MAX_ITEMS]:
        name = user["UserName"]
        groups = [g["GroupName"] for g in iam.list_groups_for_user(UserName=name)["Groups"]]
        attached = [p["PolicyName"] for p in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]]
        inline = [f"{p} (inline)" for p in iam.list_user_policies(UserName=name)["PolicyNames"]]
        keys = len(iam.list_access_keys(UserName=name)["AccessKeyMetadata"])
        try:
            iam.get_login_profile(UserName=name)
            console = "yes"
        except ClientError:
            console = "no"
        rows.append([name, _join(groups), _join(attached + inline), str(keys), console])
    return rows


@lister("iam.groups", "IAM groups", ["Name", "Attached policies", "Members"])
def iam_groups(client):
    iam = client("iam")
    rows = []
    for group in iam.list_groups()["Groups"][:MAX_ITEMS]:
        name = group["GroupName"]
        attached = [p["PolicyName"] for p in iam.list_attached_group_policies(GroupName=name)["AttachedPolicies"]]
        members = [u["UserName"] for u in iam.get_group(GroupName=name)["Users"]]
        rows.append([name, _join(attached), _join(members)])
    return rows


@lister("s3.buckets", "S3 buckets", ["Name", "Versioning", "Objects"])
def s3_buckets(client):
    s3 = client("s3")
    rows = []
    for bucket in s3.list_buckets().get("Buckets", [])[:MAX_ITEMS]:
        name = bucket["Name"]
        status = s3.get_bucket_versioning(Bucket=name).get("Status") or "never enabled"
        listing = s3.list_objects_v2(Bucket=name, MaxKeys=1000)
        count = str(listing.get("KeyCount", 0)) + ("+" if listing.get("IsTruncated") else "")
        rows.append([name, status, count])
    return rows


@lister("s3.object_versions", "S3 object versions", ["Bucket", "Key", "Version id", "Latest", "Delete marker"])
def s3_object_versions(client):
    s3 = client("s3")
    rows = []
    for bucket in s3.list_buckets().get("Buckets", [])[:MAX_ITEMS]:
        name = bucket["Name"]
        page = s3.list_object_versions(Bucket=name, MaxKeys=200)
        entries = [(v, False) for v in page.get("Versions", [])] + [(m, True) for m in page.get("DeleteMarkers", [])]
        entries.sort(key=lambda e: (e[0]["Key"], not e[0].get("IsLatest"), -e[0]["LastModified"].timestamp()))
        for item, marker in entries:
            vid = item.get("VersionId") or "null"
            rows.append([name, item["Key"], vid if len(vid) <= 12 else vid[:12] + "…",
                         "yes" if item.get("IsLatest") else "", "yes" if marker else ""])
    return rows


@lister("ec2.security_groups", "Security groups", ["Name", "Id", "VPC", "Inbound rules"])
def ec2_security_groups(client):
    groups = client("ec2").describe_security_groups()["SecurityGroups"]
    rows = []
    for g in groups:
        rules = [f"{rule_label(r)} from {s}" for r in g.get("IpPermissions", []) for s in rule_sources(r)]
        rows.append([g["GroupName"], g["GroupId"], g.get("VpcId", ""), _join(rules)])
    return rows


@lister("ec2.instances", "EC2 instances", ["Id", "Name", "State", "Security groups"])
def ec2_instances(client):
    rows = []
    for res in client("ec2").describe_instances().get("Reservations", []):
        for inst in res.get("Instances", []):
            name = next((t["Value"] for t in inst.get("Tags", []) if t["Key"] == "Name"), "")
            groups = [g["GroupName"] for g in inst.get("SecurityGroups", [])]
            rows.append([inst["InstanceId"], name, inst["State"]["Name"], _join(groups)])
    return rows


def list_resources(kinds: list[str], client_factory: Callable[[str], object]) -> list[dict]:
    clients: dict[str, object] = {}

    def client(service):
        if service not in clients:
            clients[service] = client_factory(service)
        return clients[service]

    tables = []
    for kind in kinds:
        item = LISTERS.get(kind)
        if item is None:
            tables.append({"kind": kind, "title": kind, "columns": [], "rows": [], "error": "unknown resource kind"})
            continue
        table = {"kind": kind, "title": item.title, "columns": item.columns, "rows": [], "error": None}
        try:
            table["rows"] = item.func(client)
        except (ClientError, BotoCoreError) as err:
            log.warning("resource lister %s failed: %s", kind, err)
            table["error"] = f"could not list {item.title.lower()}: {err}"
        tables.append(table)
    return tables

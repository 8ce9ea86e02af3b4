"""Live-panel listers for IAM."""

from botocore.exceptions import ClientError

from . import MAX_ITEMS, join, lister


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
        rows.append([name, join(groups), join(attached + inline), str(keys), console])
    return rows


@lister("iam.groups", "IAM groups", ["Name", "Attached policies", "Members"])
def iam_groups(client):
    iam = client("iam")
    rows = []
    for group in iam.list_groups()["Groups"][:MAX_ITEMS]:
        name = group["GroupName"]
        attached = [p["PolicyName"] for p in iam.list_attached_group_policies(GroupName=name)["AttachedPolicies"]]
        members = [u["UserName"] for u in iam.get_group(GroupName=name)["Users"]]
        rows.append([name, join(attached), join(members)])
    return rows


@lister("iam.roles", "IAM roles", ["Name", "Trusted by", "Policies", "Instance profiles", "Last used"])
def iam_roles(client):
    import json
    from urllib.parse import unquote

    iam = client("iam")
    rows = []
    for role in iam.list_roles()["Roles"][:MAX_ITEMS]:
        name = role["RoleName"]
        doc = role.get("AssumeRolePolicyDocument") or {}
        if isinstance(doc, str):
            doc = json.loads(unquote(doc))
        trusted = []
        statements = doc.get("Statement", [])
        for s in statements if isinstance(statements, list) else [statements]:
            p = s.get("Principal", {})
            for kind, values in (p.items() if isinstance(p, dict) else [("AWS", p)]):
                trusted += values if isinstance(values, list) else [values]
        attached = [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]]
        inline = [f"{p} (inline)" for p in iam.list_role_policies(RoleName=name)["PolicyNames"]]
        profiles = [p["InstanceProfileName"] for p in iam.list_instance_profiles_for_role(RoleName=name)["InstanceProfiles"]]
        last = (iam.get_role(RoleName=name)["Role"].get("RoleLastUsed") or {}).get("LastUsedDate")
        rows.append([name, join(trusted), join(attached + inline), join(profiles),
                     last.strftime("%H:%M:%S") if last else "never"])
    return rows

"""IAM check kinds: users, groups, attached and inline policies, credentials."""

from __future__ import annotations

from botocore.exceptions import ClientError

from . import Check, CheckContext, CheckFailed, CheckOutcome, failed, passed, register, schema, string

USER = string("IAM user name")
GROUP = string("IAM group name")
POLICY_ARN = string("ARN of a managed policy, e.g. arn:aws:iam::aws:policy/AdministratorAccess")


def policy_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _not_found(err: ClientError) -> bool:
    return err.response.get("Error", {}).get("Code") == "NoSuchEntity"


def require_user(ctx: CheckContext, user: str) -> dict:
    try:
        return ctx.client("iam").get_user(UserName=user)["User"]
    except ClientError as err:
        if _not_found(err):
            raise CheckFailed(f"user {user} does not exist") from None
        raise


def require_group(ctx: CheckContext, group: str) -> dict:
    try:
        return ctx.client("iam").get_group(GroupName=group)
    except ClientError as err:
        if _not_found(err):
            raise CheckFailed(f"group {group} does not exist — create it first") from None
        raise


def _names(items, key) -> str:
    return ", ".join(i[key] for i in items) or "none"


@register("iam.user_exists")
class UserExists(Check):
    description = "The IAM user exists."
    params_schema = schema({"user": USER}, ["user"])

    def run(self, ctx, *, user):
        require_user(ctx, user)
        return passed(f"user {user} exists")


@register("iam.group_policy_attached")
class GroupPolicyAttached(Check):
    description = "The IAM group exists and has the managed policy attached."
    params_schema = schema({"group": GROUP, "policy_arn": POLICY_ARN}, ["group", "policy_arn"])

    def run(self, ctx, *, group, policy_arn) -> CheckOutcome:
        require_group(ctx, group)
        iam = ctx.client("iam")
        attached = iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"]
        name = policy_name(policy_arn)
        if any(p["PolicyArn"] == policy_arn for p in attached):
            return passed(f"group {group} has {name} attached")
        same_name = [p for p in attached if p["PolicyName"] == name]
        if same_name:
            return failed(
                f"group {group} has a policy named {name}, but it is {same_name[0]['PolicyArn']}, "
                f"not the AWS managed policy {policy_arn}"
            )
        inline = iam.list_group_policies(GroupName=group)["PolicyNames"]
        extra = f" (it has inline policies: {', '.join(inline)} — attach the managed policy instead)" if inline else ""
        return failed(
            f"group {group} does not have {name} attached (attached: {_names(attached, 'PolicyName')}){extra}"
        )


@register("iam.user_in_group")
class UserInGroup(Check):
    description = "The IAM user is a member of the group."
    params_schema = schema({"user": USER, "group": GROUP}, ["user", "group"])

    def run(self, ctx, *, user, group):
        require_user(ctx, user)
        groups = ctx.client("iam").list_groups_for_user(UserName=user)["Groups"]
        if any(g["GroupName"] == group for g in groups):
            return passed(f"{user} is a member of {group}")
        require_group(ctx, group)
        return failed(f"{user} is not a member of {group} (member of: {_names(groups, 'GroupName')})")


@register("iam.user_no_direct_policies")
class UserNoDirectPolicies(Check):
    description = "No managed or inline policy is attached directly to the user (permissions come from groups)."
    params_schema = schema({"user": USER}, ["user"])

    def run(self, ctx, *, user):
        require_user(ctx, user)
        iam = ctx.client("iam")
        attached = iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]
        inline = iam.list_user_policies(UserName=user)["PolicyNames"]
        problems = []
        if attached:
            problems.append(f"{user} still has {_names(attached, 'PolicyName')} attached directly")
        if inline:
            problems.append(f"{user} has inline policies {', '.join(inline)}")
        if problems:
            return failed("; ".join(problems) + " — grant permissions through a group instead")
        groups = iam.list_groups_for_user(UserName=user)["Groups"]
        via = f"; permissions come from groups: {_names(groups, 'GroupName')}" if groups else ""
        return passed(f"{user} has no policies attached directly{via}")


@register("iam.user_access_key")
class UserAccessKey(Check):
    description = "The IAM user has at least one access key (programmatic access), Active by default."
    params_schema = schema(
        {"user": USER, "status": {"enum": ["Active", "Inactive", "any"], "default": "Active",
                                  "description": "Required key status; 'any' accepts either"}},
        ["user"],
    )

    def run(self, ctx, *, user, status="Active"):
        require_user(ctx, user)
        keys = ctx.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
        if not keys:
            return failed(f"{user} has no access key, so no programmatic (CLI/SDK) access — create one")
        good = [k for k in keys if status == "any" or k["Status"] == status]
        if not good:
            return failed(f"{user} has {len(keys)} access key(s), but none is {status}")
        return passed(f"{user} has {len(good)} {'' if status == 'any' else status + ' '}access key(s)")


@register("iam.user_login_profile")
class UserLoginProfile(Check):
    description = "The IAM user has a console password (login profile)."
    params_schema = schema({"user": USER}, ["user"])

    def run(self, ctx, *, user):
        require_user(ctx, user)
        try:
            ctx.client("iam").get_login_profile(UserName=user)
        except ClientError as err:
            if _not_found(err):
                return failed(f"{user} has no console password (login profile), so no console access")
            raise
        return passed(f"{user} has console access (a login profile exists)")


# --- roles, instance profiles, temporary credentials (CLI/SDK labs) -------------------------------

import json as _json  # noqa: E402
from urllib.parse import unquote as _unquote  # noqa: E402

ROLE = string("IAM role name")


def require_role(ctx: CheckContext, role: str) -> dict:
    try:
        return ctx.client("iam").get_role(RoleName=role)["Role"]
    except ClientError as err:
        if _not_found(err):
            raise CheckFailed(f"role {role} does not exist — create it first") from None
        raise


def _doc(value) -> dict:
    if isinstance(value, dict):
        return value
    try:
        return _json.loads(_unquote(value or "{}"))
    except ValueError:
        return {}


def _list(value) -> list:
    return [] if value is None else value if isinstance(value, list) else [value]


def _covers(pattern: str, action: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


@register("iam.role_trusts")
class RoleTrusts(Check):
    description = ("The role's trust policy lets the principal call sts:AssumeRole: a service "
                   "(ec2.amazonaws.com) or an AWS principal (account root ARN, account id, user or role ARN).")
    params_schema = schema(
        {"role": ROLE, "service": string("service principal, e.g. ec2.amazonaws.com"),
         "aws": string("AWS principal: an account id or an ARN; the account root also accepts any ARN in it"),
         "same_account": {"type": "boolean", "description": "the sandbox's own account must be trusted"}},
        ["role"],
    )

    def run(self, ctx, *, role, service=None, aws=None, same_account=False):
        if same_account:
            aws = ctx.client("sts").get_caller_identity()["Account"]
        doc = _doc(require_role(ctx, role).get("AssumeRolePolicyDocument"))
        allows = [s for s in _list(doc.get("Statement")) if s.get("Effect") == "Allow"
                  and any(_covers(a, "sts:AssumeRole") for a in _list(s.get("Action")))]
        if not allows:
            return failed(f"the trust policy of {role} allows nobody to sts:AssumeRole")
        found = []
        for s in allows:
            p = s.get("Principal") or {}
            found += [f"Service {v}" for v in _list(p.get("Service") if isinstance(p, dict) else None)]
            found += [f"AWS {v}" for v in _list(p.get("AWS") if isinstance(p, dict) else p)]
            if service and service in _list(p.get("Service") if isinstance(p, dict) else None):
                return passed(f"{role} can be assumed by {service}")
            if aws:
                values = _list(p.get("AWS") if isinstance(p, dict) else p)
                account = aws.split(":")[4] if aws.startswith("arn:") else aws
                ok = {aws, account, f"arn:aws:iam::{account}:root", "*"}
                if any(v in ok for v in values):
                    return passed(f"{role} can be assumed by {aws}")
        want = service or aws
        return failed(f"the trust policy of {role} does not trust {want} (it trusts: {', '.join(found) or 'nobody'})"
                      + (" — for EC2 the principal is the service ec2.amazonaws.com" if service else ""))


def role_policy_documents(ctx: CheckContext, role: str) -> list[tuple[str, dict]]:
    iam = ctx.client("iam")
    docs = []
    for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=p["PolicyArn"])["Policy"]
        version = iam.get_policy_version(PolicyArn=p["PolicyArn"], VersionId=policy["DefaultVersionId"])
        docs.append((p["PolicyName"], _doc(version["PolicyVersion"]["Document"])))
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        docs.append((f"{name} (inline)", _doc(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])))
    return docs


@register("iam.role_allows")
class RoleAllows(Check):
    description = ("A policy of the role (managed or inline) allows the action, optionally on a resource; "
                   "`max_actions` fails a policy that grants more than asked (e.g. s3:*), for least privilege.")
    params_schema = schema(
        {"role": ROLE, "action": string("e.g. s3:GetObject"), "resource": string("exact Resource ARN required"),
         "no_wildcard": {"type": "boolean", "default": False,
                         "description": "fail when the action is granted only through * or service:*"}},
        ["role", "action"],
    )

    def run(self, ctx, *, role, action, resource=None, no_wildcard=False):
        require_role(ctx, role)
        docs = role_policy_documents(ctx, role)
        if not docs:
            return failed(f"{role} has no permission policies — attach one that allows {action}")
        wildcard_only = None
        for name, doc in docs:
            for s in _list(doc.get("Statement")):
                if s.get("Effect") != "Allow":
                    continue
                actions = _list(s.get("Action"))
                if not any(_covers(a, action) for a in actions):
                    continue
                if resource and not any(r == resource or _covers(r, resource) for r in _list(s.get("Resource"))):
                    continue
                if no_wildcard and not any(a.lower() == action.lower() for a in actions):
                    wildcard_only = name
                    continue
                return passed(f"{role} may {action} (policy {name})")
        if wildcard_only:
            return failed(f"{role} gets {action} only through a wildcard in {wildcard_only} — grant just the "
                          "actions needed (least privilege)")
        return failed(f"no policy of {role} allows {action}" + (f" on {resource}" if resource else ""))


@register("iam.instance_profile")
class InstanceProfile(Check):
    description = "The instance profile exists and contains the role."
    params_schema = schema({"profile": string("instance profile name"), "role": ROLE}, ["profile", "role"])

    def run(self, ctx, *, profile, role):
        try:
            found = ctx.client("iam").get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]
        except ClientError as err:
            if _not_found(err):
                return failed(f"instance profile {profile} does not exist — EC2 takes roles through an instance profile")
            raise
        roles = [r["RoleName"] for r in found.get("Roles", [])]
        if role not in roles:
            return failed(f"instance profile {profile} contains {', '.join(roles) or 'no role'}, not {role}")
        return passed(f"instance profile {profile} contains {role}")


@register("iam.instance_uses_role")
class InstanceUsesRole(Check):
    description = ("An EC2 instance (by Name tag, or the only running one) has an instance profile that "
                   "contains the role associated.")
    params_schema = schema({"role": ROLE, "name_tag": string("the instance's Name tag")}, ["role"])

    def run(self, ctx, *, role, name_tag=None):
        filters = [{"Name": "instance-state-name", "Values": ["pending", "running", "stopped"]}]
        if name_tag:
            filters.append({"Name": "tag:Name", "Values": [name_tag]})
        reservations = ctx.client("ec2").describe_instances(Filters=filters)["Reservations"]
        instances = [i for r in reservations for i in r["Instances"]]
        if not instances:
            return failed("no instance" + (f" named {name_tag}" if name_tag else "") + " is running")
        iam = ctx.client("iam")
        names = []
        for inst in instances:
            arn = (inst.get("IamInstanceProfile") or {}).get("Arn")
            if not arn:
                continue
            profile = arn.rsplit("/", 1)[-1]
            try:
                roles = [r["RoleName"] for r in iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]["Roles"]]
            except ClientError:
                roles = []
            names.append(profile)
            if role in roles:
                return passed(f"instance {inst['InstanceId']} runs with instance profile {profile} ({role})")
        if names:
            return failed(f"the instance's profile ({', '.join(names)}) does not contain {role}")
        return failed(f"instance {instances[0]['InstanceId']} has no instance profile — associate one that "
                      f"contains {role} (no access keys on instances!)")


@register("iam.role_used")
class RoleUsed(Check):
    description = ("Temporary credentials of the role made at least one AWS request (IAM's RoleLastUsed is set "
                   "when assumed-role credentials are used).")
    params_schema = schema({"role": ROLE}, ["role"])

    def run(self, ctx, *, role):
        last = (require_role(ctx, role).get("RoleLastUsed") or {}).get("LastUsedDate")
        if not last:
            return failed(f"no request has been made with {role}'s temporary credentials yet — export the "
                          "AccessKeyId, SecretAccessKey and SessionToken from assume-role and call AWS with them")
        return passed(f"{role}'s temporary credentials were used (last at {last:%H:%M:%S} UTC)")

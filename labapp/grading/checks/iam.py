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

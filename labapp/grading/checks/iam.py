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
            denying = _group_denies(ctx, group, attached)
            if denying:
                return failed(f"group {group} has {name} attached, but its policy {denying} also has a Deny "
                              f"statement, which takes away part of what {name} grants (Deny wins)")
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


def _group_denies(ctx: CheckContext, group: str, attached: list[dict]) -> str:
    """The name of a policy of the group (attached or inline) with a Deny statement, or ""."""
    iam = ctx.client("iam")
    for p in attached:
        if p["PolicyArn"].startswith("arn:aws:iam::aws:"):
            continue  # AWS managed policies are what they are; the task names the one it wants
        policy = iam.get_policy(PolicyArn=p["PolicyArn"])["Policy"]
        document = iam.get_policy_version(PolicyArn=p["PolicyArn"], VersionId=policy["DefaultVersionId"])
        if any(st.get("Effect") == "Deny" for st in _policy_statements(document["PolicyVersion"]["Document"])):
            return p["PolicyName"]
    for name in iam.list_group_policies(GroupName=group)["PolicyNames"]:
        document = iam.get_group_policy(GroupName=group, PolicyName=name)["PolicyDocument"]
        if any(st.get("Effect") == "Deny" for st in _policy_statements(document)):
            return f"{name} (inline)"
    return ""


def _policy_statements(document) -> list[dict]:
    from urllib.parse import unquote

    from labapp.grading.policy import statements

    return statements(unquote(document) if isinstance(document, str) else document)


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
            return failed("; ".join(problems) + " — permissions must come from groups only")
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
# These checks ask labapp.grading.policy what a trust or permission policy document *does* (who may assume,
# what is allowed), not how it is written. To ask what a principal of the sandbox may really do (with every
# policy that applies to it, as enforcement decides), a lab uses the `iam.access` check instead.

import json as _json  # noqa: E402
from urllib.parse import unquote as _unquote  # noqa: E402

from labapp.grading import policy as _policy  # noqa: E402

ROLE = string("IAM role name")
# A realistic request context for probing: over TLS, in the lab's region.
BASE_CONTEXT = {"aws:SecureTransport": "true", "aws:RequestedRegion": "us-east-1"}
OUTSIDE_ACCOUNTS = ("999999999999", "111111111111")


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


def _caller(ctx: CheckContext) -> dict:
    """The learner's own identity in the sandbox ({Account, Arn})."""
    return ctx.client("sts").get_caller_identity()


def _outsider(account: str) -> str:
    other = next(a for a in OUTSIDE_ACCOUNTS if a != account)
    return f"arn:aws:iam::{other}:user/someone-else"


def _who(principal: str) -> str:
    return "anyone in any AWS account" if principal.endswith(":user/someone-else") else principal


def _trusted_names(doc: dict) -> str:
    found = []
    for s in _list(doc.get("Statement")):
        if not isinstance(s, dict) or s.get("Effect") != "Allow":
            continue
        p = s.get("Principal")
        if p == "*":
            found.append('everyone ("*")')
        elif isinstance(p, dict):
            found += [f"{kind} {v}" for kind, values in p.items() for v in _list(values)]
    return ", ".join(found) or "nobody"


@register("iam.role_trusts")
class RoleTrusts(Check):
    description = ("The role's trust policy lets the principal sts:AssumeRole (judged by what the policy does: "
                   "Allow/Deny, wildcards, conditions) and lets no AWS account outside the sandbox assume it. The "
                   "principal is a service (ec2.amazonaws.com), an AWS principal (account id or ARN), or the "
                   "learner's own identity (`same_account`).")
    params_schema = schema(
        {"role": ROLE, "service": string("service principal, e.g. ec2.amazonaws.com"),
         "aws": string("AWS principal that must be able to assume: an account id or an IAM ARN"),
         "same_account": {"type": "boolean", "description": "the learner's own identity must be able to assume"},
         "source_arn": string("aws:SourceArn the service sends when it assumes the role (for confused-deputy "
                              "conditions), e.g. arn:aws:s3:::bucket")},
        ["role"],
    )

    def run(self, ctx, *, role, service=None, aws=None, same_account=False, source_arn=None):
        doc = _doc(require_role(ctx, role).get("AssumeRolePolicyDocument"))
        me = _caller(ctx)
        account = me["Account"]
        context = dict(BASE_CONTEXT)
        if service:
            principal = service
            context["aws:SourceAccount"] = account
            if source_arn:
                context["aws:SourceArn"] = source_arn
        elif same_account:
            principal = me["Arn"]
        else:
            principal = aws
        if not principal:
            raise CheckFailed("this check needs service, aws or same_account")

        decision = _policy.evaluate(doc, "sts:AssumeRole", None, principal, context)
        if decision != _policy.ALLOW:
            return failed(self._why_not(doc, role, principal, context, decision, same_account, service))
        outsider = _outsider(account)
        if _policy.evaluate(doc, "sts:AssumeRole", None, outsider, BASE_CONTEXT) == _policy.ALLOW:
            return failed(f"the trust policy of {role} lets {_who(outsider)} assume it — name "
                          + (f"the service {service}" if service else f"your account ({account})")
                          + ' as the Principal, never "*" without a condition on aws:PrincipalAccount')
        stranger = _other_trusted(doc, account, service, context)
        if stranger:
            wanted = f"the service {service}" if service else "your account"
            return failed(f"the trust policy of {role} also lets {stranger} assume it — the task asks for "
                          f"{wanted} and nobody else")
        who = service or ("your account" if same_account else aws)
        return passed(f"{role} can be assumed by {who}, and by nobody outside your account")

    @staticmethod
    def _why_not(doc, role, principal, context, decision, same_account, service) -> str:
        who = service or ("you" if same_account else principal)
        if decision == _policy.DENY:
            return f"a Deny in the trust policy of {role} stops {who} from assuming it"
        if _policy.applicable_statements(doc, "sts:AssumeRole", None, principal, context, conditions=False):
            return f"the trust policy of {role} names {who}, but its Condition does not hold when {who} assume(s) it"
        if not any(s.get("Effect") == "Allow"
                   for s in _policy.applicable_statements(doc, "sts:AssumeRole", None, conditions=False)):
            return f"the trust policy of {role} allows nobody to sts:AssumeRole (Action must cover sts:AssumeRole)"
        hint = " — for EC2 the principal is the service ec2.amazonaws.com" if service == "ec2.amazonaws.com" else ""
        target = service or ("your account" if same_account else principal)
        return f"the trust policy of {role} does not trust {target} (it trusts: {_trusted_names(doc)}){hint}"


# Services a trust policy might name beside the one asked for (a role copied from another lab, "to be safe").
OTHER_SERVICES = ("ec2.amazonaws.com", "lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "s3.amazonaws.com",
                  "cloudformation.amazonaws.com")


def _other_trusted(doc: dict, account: str, service: str | None, context: dict) -> str:
    """Who else, within reach of the account, the trust policy lets assume the role ("" for nobody): another
    service when a service is asked for or when your account is; an identity of your account when a service
    is asked for (an account principal beside the service lets every admin of the account become it)."""
    probes = [(other, {**context, "aws:SourceAccount": account}, f"the service {other}")
              for other in OTHER_SERVICES if other != (service or "").lower()]
    if service:
        probes.append((f"arn:aws:iam::{account}:user/someone-in-your-account", BASE_CONTEXT,
                       "the IAM users and roles of your account"))
    for principal, probe_context, label in probes:
        if _policy.evaluate(doc, "sts:AssumeRole", None, principal, probe_context) == _policy.ALLOW:
            return label
    return ""


def role_policy_documents(ctx: CheckContext, role: str) -> list[tuple[str, dict]]:
    """(name, document) of every permission policy of the role: attached managed ones and inline ones."""
    iam = ctx.client("iam")
    docs = []
    for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        docs.append((p["PolicyName"], _managed_document(ctx, p["PolicyArn"])))
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        docs.append((f"{name} (inline)", _doc(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])))
    return docs


def _managed_document(ctx: CheckContext, arn: str) -> dict:
    iam = ctx.client("iam")
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    return _doc(iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]["Document"])


class RolePermissions:
    """What a role may do: its policies (Deny wins) within its permissions boundary, if it has one."""

    def __init__(self, ctx: CheckContext, role: str):
        found = require_role(ctx, role)
        self.role = role
        self.arn = found["Arn"]
        self.account = self.arn.split(":")[4]
        self.docs = role_policy_documents(ctx, role)
        boundary = (found.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        self.boundary = (boundary.rsplit("/", 1)[-1], _managed_document(ctx, boundary)) if boundary else None
        self.context = {**BASE_CONTEXT, "aws:PrincipalArn": self.arn, "aws:PrincipalAccount": self.account}

    def decide(self, action: str, resource: str | None) -> str:
        decision = _policy.evaluate([d for _, d in self.docs], action, resource, None, self.context)
        if decision == _policy.ALLOW and self.boundary:
            if _policy.evaluate(self.boundary[1], action, resource, None, self.context) != _policy.ALLOW:
                return _policy.IMPLICIT_DENY
        return decision

    def granting(self, action: str, resource: str | None) -> list[tuple[str, dict]]:
        """(policy name, statement) of the Allow statements that grant the request."""
        return [(name, s) for name, doc in self.docs
                for s in _policy.applicable_statements(doc, action, resource, None, self.context)
                if s.get("Effect") == "Allow"]


@register("iam.role_allows")
class RoleAllows(Check):
    description = ("The role's effective permissions (managed and inline policies, Deny wins, within a permissions "
                   "boundary) allow the action (or every one of `actions`), optionally on a resource; "
                   "`no_wildcard` fails when an action is granted only through a wildcard such as s3:* or s3:Get*.")
    params_schema = schema(
        {"role": ROLE, "action": string("e.g. s3:GetObject"),
         "actions": {"type": "array", "minItems": 1, "items": string("e.g. s3:ReplicateObject"),
                     "description": "several actions, all needed (instead of action)"},
         "resource": string("the resource ARN of the request, e.g. arn:aws:s3:::bucket/key"),
         "no_wildcard": {"type": "boolean", "default": False,
                         "description": "fail when the action is granted only through a wildcard"}},
        ["role"],
    )

    def run(self, ctx, *, role, action=None, actions=None, resource=None, no_wildcard=False):
        wanted = list(actions or []) + ([action] if action else [])
        if not wanted:
            raise CheckFailed("this check needs action or actions")
        perms = RolePermissions(ctx, role)
        if not perms.docs:
            return failed(f"{role} has no permission policies — attach one that allows {', '.join(wanted)}")
        on = f" on {resource}" if resource else ""
        sources = set()
        for one in wanted:
            decision = perms.decide(one, resource)
            if decision == _policy.DENY:
                return failed(f"an explicit Deny in a policy of {role} refuses {one}{on}")
            if decision != _policy.ALLOW:
                if perms.boundary and _policy.evaluate([d for _, d in perms.docs], one, resource, None,
                                                       perms.context) == _policy.ALLOW:
                    return failed(f"{role}'s permissions boundary {perms.boundary[0]} does not allow {one}{on}")
                return failed(f"no policy of {role} allows {one}{on}")
            granting = perms.granting(one, resource)
            if no_wildcard and not any(a.lower() == one.lower() for _, s in granting for a in _list(s.get("Action"))):
                return failed(f"{role} gets {one} only through a wildcard in {granting[0][0]} — name just the "
                              "actions needed (least privilege)")
            sources.add(granting[0][0])
        return passed(f"{role} may {', '.join(wanted)}{on} (policy {', '.join(sorted(sources))})")


@register("iam.role_denies")
class RoleDenies(Check):
    description = ("Least privilege: the role's effective permissions do NOT allow any of the listed requests "
                   "(action on resource; ACCOUNT_ID in a resource is the sandbox account), e.g. writes to the "
                   "bucket or reads of other buckets.")
    params_schema = schema(
        {"role": ROLE,
         "requests": {"type": "array", "minItems": 1, "items": schema(
             {"action": string("e.g. s3:PutObject"), "resource": string("e.g. arn:aws:s3:::bucket/key")},
             ["action", "resource"])},
         "asked": string("what the task asked to grant, for the feedback, e.g. 'list and read the bucket'")},
        ["role", "requests"],
    )

    def run(self, ctx, *, role, requests, asked=None):
        perms = RolePermissions(ctx, role)
        for request in requests:
            action, resource = request["action"], request["resource"].replace("ACCOUNT_ID", perms.account)
            if perms.decide(action, resource) == _policy.ALLOW:
                name = perms.granting(action, resource)[0][0]
                return failed(f"{role} may also {action} on {resource} (through {name}) — grant only "
                              + (asked or "what the task asks") + " (least privilege)")
        return passed(f"{role} is limited to " + (asked or "what the task asks"))


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

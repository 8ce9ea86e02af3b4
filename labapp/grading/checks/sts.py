"""STS check kinds (journal based): roles assumed by the learner."""

from __future__ import annotations

from botocore.exceptions import ClientError

from . import Check, failed, passed, register, schema, string


def same_role(assumed, wanted: str) -> bool:
    """The same role: same account and role name, whatever path either ARN writes (role names are unique
    in an account, and a lab file can only write role/<name> for a role a learner may create with --path)."""
    def key(arn):
        parts = str(arn or "").split(":", 5)
        if len(parts) != 6 or not parts[5].startswith("role/"):
            return None
        return parts[4], parts[5].rsplit("/", 1)[-1]

    return key(assumed) is not None and key(assumed) == key(wanted)


@register("sts.role_assumed")
class RoleAssumed(Check):
    description = "Journal: the learner called AssumeRole for the role successfully (optionally with a session name)."
    params_schema = schema({"role_arn": string("ARN of the role"),
                            "role": string("role name in the sandbox account (instead of role_arn)"),
                            "session_name": string("required RoleSessionName")}, [])

    def run(self, ctx, *, role_arn=None, role=None, session_name=None):
        if role_arn is None:
            # The role's real ARN: a role created with --path has it in its ARN (role/path/name).
            try:
                role_arn = ctx.client("iam").get_role(RoleName=role)["Role"]["Arn"]
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") == "NoSuchEntity":
                    return failed(f"role {role} does not exist — create it first")
                raise
        rows = [r for r in ctx.journal if r.get("source") == "learner" and r.get("action") == "AssumeRole"]
        mine = [r for r in rows if same_role((r.get("params") or {}).get("RoleArn"), role_arn)]
        ok = [r for r in mine if 200 <= int(r.get("status") or 0) < 300]
        if not ok:
            if mine:
                return failed(f"AssumeRole on {role_arn} was refused ({mine[-1].get('error_code') or mine[-1].get('status')})")
            if rows:
                return failed(f"you assumed {(rows[-1].get('params') or {}).get('RoleArn')}, not {role_arn}")
            return failed(f"{role_arn} has not been assumed yet — call sts assume-role")
        if session_name and not any((r.get("params") or {}).get("RoleSessionName") == session_name for r in ok):
            names = sorted({(r.get("params") or {}).get("RoleSessionName") or "?" for r in ok})
            return failed(f"you assumed the role with session name {', '.join(names)}, not {session_name}")
        return passed(f"you assumed {role_arn.rsplit('/', 1)[-1]}")


@register("sts.authorization_message_decoded")
class AuthorizationMessageDecoded(Check):
    description = "Journal: the learner decoded an encoded authorization message (DecodeAuthorizationMessage succeeded)."
    params_schema = schema({}, [])

    def run(self, ctx):
        rows = [r for r in ctx.journal if r.get("source") == "learner" and r.get("action") == "DecodeAuthorizationMessage"]
        if any(200 <= int(r.get("status") or 0) < 300 for r in rows):
            return passed("you decoded an authorization failure message")
        if rows:
            return failed("DecodeAuthorizationMessage failed — pass the whole encoded message, exactly as the "
                          "error printed it")
        return failed("no authorization message has been decoded yet (aws sts decode-authorization-message)")

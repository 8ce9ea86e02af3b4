"""IAM names with their path, as IAM builds ARNs (`user/apps/app-etl` for a user created with --path /apps/).

The Service Authorization Reference writes IAM resources as `user/${UserNameWithPath}`,
`role/${RoleNameWithPath}`...: a request names only the entity (UserName), so the path comes from the
request itself (CreateUser --path) or from the existing entity in moto's IAM state.
"""

from __future__ import annotations

# Placeholder -> (parameter with the name, moto backend collection lookup)
_KINDS = {
    "UserNameWithPath": ("UserName", lambda iam, name: iam.users.get(name)),
    "RoleNameWithPath": ("RoleName", lambda iam, name: iam.get_role(name)),
    "GroupNameWithPath": ("GroupName", lambda iam, name: iam.get_group(name)),
    "InstanceProfileNameWithPath": ("InstanceProfileName", lambda iam, name: iam.get_instance_profile(name)),
}
_CREATES = {"CreateUser", "CreateRole", "CreateGroup", "CreateInstanceProfile"}


def with_path(path: str | None, name: str) -> str:
    """`apps/name` for path /apps/, `name` for / (IAM paths begin and end with a slash)."""
    path = (path or "/").strip("/")
    return f"{path}/{name}" if path else name


def named_with_path(account: str, operation: str | None, params: dict) -> dict:
    """The *NameWithPath placeholders of an IAM request, each with its entity's path."""
    from moto.iam.models import iam_backends

    iam = iam_backends[account]["aws"]
    found = {}
    for placeholder, (param, lookup) in _KINDS.items():
        name = params.get(param)
        if not isinstance(name, str) or not name:
            continue
        if operation in _CREATES and isinstance(params.get("Path"), str):
            found[placeholder] = with_path(params["Path"], name)
            continue
        try:
            entity = lookup(iam, name)
        except Exception:  # not there (yet): the request itself fails or creates it at the root
            entity = None
        found[placeholder] = with_path(getattr(entity, "path", None), name)
    return found

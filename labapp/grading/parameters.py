"""Per-learner lab parameters, generated when a session starts.

A lab declares `parameters: {name: {generate: <generator>, ...options}}`; `generate_params` returns
{name: value}. Each generator has a JSON schema for its options (used by the course loader).
"""

from __future__ import annotations

import ipaddress
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass

ALNUM = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class Generator:
    name: str
    func: Callable[..., object]
    options_schema: dict
    description: str


GENERATORS: dict[str, Generator] = {}


def generator(name: str, options: dict, required: list[str] | None = None, description: str = ""):
    schema = {"type": "object", "additionalProperties": False, "properties": options, "required": required or []}

    def deco(func):
        GENERATORS[name] = Generator(name, func, schema, description or (func.__doc__ or "").strip())
        return func

    return deco


def _random(n: int) -> str:
    return "".join(secrets.choice(ALNUM) for _ in range(n))


@generator(
    "bucket_name",
    {"prefix": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,40}$",
                "description": "start of the name; lowercase letters, digits and hyphens"}},
    ["prefix"],
)
def bucket_name(*, prefix: str, **_) -> str:
    """A valid, practically unique S3 bucket name: <prefix>-<10 random lowercase letters/digits>."""
    return f"{prefix.rstrip('-')}-{_random(10)}"


LEARNER_NET = ipaddress.ip_network("198.18.0.0/15")  # RFC 2544 benchmarking range: never a real host
_HOSTS_PER_24 = 254  # last octet 1..254, never .0 or .255
_SLOTS = (LEARNER_NET.num_addresses // 256) * _HOSTS_PER_24  # 512 * 254 = 130048 = 2**10 * 127
_STRIDE = 7919  # prime, coprime with _SLOTS, so user ids 0.._SLOTS-1 map to distinct addresses


@generator("learner_ipv4", {})
def learner_ipv4(*, user_id: int, **_) -> str:
    """The learner's "own" IPv4 address, derived from the user id inside 198.18.0.0/15 (unique per learner
    for the first 130,048 user ids; the last octet is never 0 or 255)."""
    slot = (int(user_id) * _STRIDE) % _SLOTS
    block, host = divmod(slot, _HOSTS_PER_24)
    return str(LEARNER_NET.network_address + block * 256 + host + 1)


@generator("choice", {"values": {"type": "array", "minItems": 1, "description": "values to pick one from"}},
           ["values"])
def choice(*, values: list, **_):
    """One of `values`, at random."""
    return secrets.choice(values)


@generator(
    "random_suffix",
    {"length": {"type": "integer", "minimum": 4, "maximum": 32, "default": 8,
                "description": "number of random characters"},
     "prefix": {"type": "string", "default": "", "description": "text before the random part"}},
)
def random_suffix(*, length: int = 8, prefix: str = "", **_) -> str:
    """Random lowercase letters and digits, after an optional prefix."""
    return f"{prefix}{_random(length)}"


@generator("fixed", {"value": {"description": "the value every learner gets"}}, ["value"])
def fixed(*, value, **_):
    """The same value for everyone (e.g. an AMI id the emulator ships), declared as a parameter so
    instructions and solution can template it."""
    return value


# Parameters every lab has without declaring them: `{{ account_id }}` (the sandbox's account, for ARNs in
# instructions, solutions and checks such as iam.access).
IMPLICIT_PARAMETERS = ("account_id",)


def generate_params(definition: dict, *, user_id: int, account_id: str) -> dict:
    """Values for every parameter declared by the lab definition, and the implicit ones (which a declared
    parameter of the same name cannot replace)."""
    out = {}
    for name, spec in (definition.get("parameters") or {}).items():
        options = {k: v for k, v in spec.items() if k != "generate"}
        gen = GENERATORS[spec["generate"]]
        out[name] = gen.func(user_id=user_id, account_id=account_id, **options)
    out["account_id"] = account_id
    return out

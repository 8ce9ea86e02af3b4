"""The conditions of an S3 POST policy, enforced as S3 does.

A browser upload carries a policy document signed by the bucket owner's key: an expiration and a list of
conditions every field of the form must meet. Checking only the signature would let anyone holding one
policy write any key, any size, with any ACL, into any of the signer's buckets. Condition forms (the S3
User Guide, "Creating a POST policy"): {"field": "value"} and ["eq", "$field", "value"] for an exact
match, ["starts-with", "$field", "prefix"], and ["content-length-range", min, max] for the file's size.
Every form field must be named by a condition, except the signature, the file, the policy itself and
fields whose name starts with x-ignore-.
"""

from __future__ import annotations

from .errors import Refusal

_EXEMPT = frozenset({"x-amz-signature", "file", "policy"})


def _denied(message: str) -> Refusal:
    return Refusal(403, "AccessDenied", f"Invalid according to Policy: {message}")


def _invalid() -> Refusal:
    return Refusal(400, "InvalidPolicyDocument", "Invalid Policy: the conditions of the POST policy are malformed.")


def check(document: dict, fields: dict[str, str], *, bucket: str, file_size: int) -> None:
    """Raise a Refusal unless the form (`fields`, for `bucket`, with a file of `file_size` bytes) meets
    every condition of the policy `document`."""
    conditions = document.get("conditions")
    if not isinstance(conditions, list):
        raise _invalid()
    values = {name.lower(): value for name, value in fields.items()}
    values["bucket"] = bucket
    named = {"bucket"}
    for condition in conditions:
        if isinstance(condition, dict) and len(condition) == 1:
            ((name, expected),) = condition.items()
            operator, name = "eq", f"${name}"
        elif isinstance(condition, list) and len(condition) == 3:
            operator, name, expected = str(condition[0]).lower(), condition[1], condition[2]
        else:
            raise _invalid()
        if operator == "content-length-range":
            try:
                low, high = int(name), int(expected)
            except (TypeError, ValueError):
                raise _invalid() from None
            if not low <= file_size <= high:
                raise _denied(f"Your proposed upload size ({file_size} bytes) is outside {low}-{high} bytes.")
            continue
        if not (isinstance(name, str) and name.startswith("$") and isinstance(expected, str)):
            raise _invalid()
        field = name[1:].lower()
        named.add(field)
        actual = values.get(field)
        if operator == "eq":
            holds = actual == expected
        elif operator == "starts-with":
            holds = actual is not None and actual.startswith(expected)
        else:
            raise _invalid()
        if not holds:
            raise _denied(f"Policy Condition failed: [{operator!r}, {name!r}, {expected!r}]")
    extra = sorted(f for f in values if f not in named and f not in _EXEMPT and not f.startswith("x-ignore-"))
    if extra:
        raise _denied(f"Extra input fields: {extra[0]}")

"""IAM enforcement in every sandbox: the lab session's own key stays the administrator, every other
principal (IAM user keys, STS credentials) is evaluated by labapp.iam on every call.

    caller.py             the gateway's trusted `x-lab-caller` header: who signed the request
    principals.py         the caller from moto's IAM/STS state, cached per account until an IAM write
    actions.py            operation -> IAM action (catalog-checked), resource ARNs, condition keys
    resource_policies.py  bucket, queue, topic, key and trust policies from moto
    enforce.py            the decision at moto's own authorization hooks, and the refusal's shape

`install()` runs in the emulator process (moto_patches.apply, via emulator.build_app).
"""

from .enforce import install, refusal_response, request_scope


def forget_account(account_id: str) -> None:
    """An account was reset: drop its cached principals and the session tokens issued in it."""
    from labapp.sandbox.extensions import sts

    from . import principals

    principals.invalidate(account_id)
    sts.forget_account(account_id)


__all__ = ["forget_account", "install", "refusal_response", "request_scope"]

"""`iam.user_mfa_device`: the IAM user has an MFA device enabled (lab iam-explicit-deny-mfa).

No other check kind can see it: `iam.access` answers what a policy decides, not whether the user can
satisfy an MFA condition at all, which needs a device IAM knows is hers (ListMFADevices).
"""

from __future__ import annotations

from . import Check, failed, passed, register, schema, string
from .iam import require_user


@register("iam.user_mfa_device")
class UserMfaDevice(Check):
    description = "The IAM user has at least one MFA device enabled (ListMFADevices)."
    params_schema = schema({"user": string("IAM user name")}, ["user"])

    def run(self, ctx, *, user):
        require_user(ctx, user)
        devices = ctx.client("iam").list_mfa_devices(UserName=user).get("MFADevices", [])
        if not devices:
            return failed(
                f"{user} has no MFA device enabled: create a virtual MFA device and enable it for {user} "
                "(aws iam enable-mfa-device with two consecutive codes)"
            )
        serials = ", ".join(d["SerialNumber"].rsplit(":", 1)[-1] for d in devices)
        return passed(f"{user} has an MFA device enabled ({serials})")

"""KMS check kinds."""

from __future__ import annotations

from botocore.exceptions import ClientError

from . import Check, failed, passed, register, schema, string


@register("kms.customer_key")
class CustomerKey(Check):
    description = "The alias points at an enabled, customer managed, symmetric KMS key (optionally with rotation on)."
    params_schema = schema({"alias": string("alias/..."), "rotation": {"type": "boolean"}}, ["alias"])

    def run(self, ctx, *, alias, rotation=None):
        kms = ctx.client("kms")
        try:
            meta = kms.describe_key(KeyId=alias)["KeyMetadata"]
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "NotFoundException":
                return failed(f"there is no key with alias {alias} — create a key, then the alias")
            raise
        if meta.get("KeyManager") != "CUSTOMER":
            return failed(f"{alias} is an AWS managed key; create your own (customer managed) key")
        if meta.get("KeyState") != "Enabled":
            return failed(f"the key behind {alias} is {meta.get('KeyState')}, not Enabled")
        if meta.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
            return failed(f"the key behind {alias} is {meta.get('KeySpec')}; S3 encryption needs a symmetric key")
        if rotation and not kms.get_key_rotation_status(KeyId=meta["KeyId"]).get("KeyRotationEnabled"):
            return failed(f"automatic rotation is off for {alias}")
        return passed(f"{alias} is an enabled customer managed key")

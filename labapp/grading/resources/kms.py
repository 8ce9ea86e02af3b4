"""Live-panel listers for KMS."""

from . import MAX_ITEMS, lister


@lister("kms.keys", "KMS keys", ["Alias", "Key id", "Managed by", "State"])
def kms_keys(client):
    kms = client("kms")
    aliases = {a.get("TargetKeyId"): a["AliasName"] for a in kms.list_aliases().get("Aliases", []) if a.get("TargetKeyId")}
    rows = []
    for key in kms.list_keys().get("Keys", [])[:MAX_ITEMS]:
        meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        rows.append([aliases.get(key["KeyId"], "—"), key["KeyId"][:13] + "…", meta.get("KeyManager", ""),
                     meta.get("KeyState", "")])
    return rows

"""GetBucketReplication answers the rules as they were stored.

moto keeps the replication configuration it was given, but its GetBucketReplication answers every rule
with `Filter {"Prefix": ""}` and `DeleteMarkerReplication Disabled` whatever was set, and fails with a
500 (KeyError) on a rule without `Priority` (the first schema version, with a top-level `Prefix`, which
AWS still accepts). So a learner could not see their own filter, and a grader could not tell a rule for
`exports/` from one for every object. Here the stored rule is answered as it is (the XML element names
turned into the API's member names: `Tag` elements inside `And` are `Tags`).
"""

from __future__ import annotations

_RULE_MEMBERS = ("ID", "Priority", "Prefix", "Status", "SourceSelectionCriteria", "ExistingObjectReplication",
                 "Destination", "DeleteMarkerReplication")


def _listify(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _filter(stored) -> dict:
    if not isinstance(stored, dict):
        return {"Prefix": ""}  # an empty <Filter/>: every object
    if "And" in stored:
        and_ = stored.get("And") or {}
        out = {}
        if and_.get("Prefix") is not None:
            out["Prefix"] = and_["Prefix"]
        tags = _listify(and_.get("Tag")) + _listify(and_.get("Tags"))
        if tags:
            out["Tags"] = tags
        return {"And": out}
    return {k: v for k, v in stored.items() if k in ("Prefix", "Tag")} or {"Prefix": ""}


def stored_rule(rule: dict) -> dict:
    """One stored rule (parsed XML) in GetBucketReplication's shape."""
    out = {k: rule[k] for k in _RULE_MEMBERS if rule.get(k) is not None}
    if "Prefix" not in out:  # the current schema: a Filter (an empty one when left out)
        out["Filter"] = _filter(rule.get("Filter"))
    if "Prefix" in out and rule.get("Filter") is not None:
        out["Filter"] = _filter(rule.get("Filter"))
    return out


def apply() -> None:
    from moto.core.responses import ActionResult
    from moto.s3.exceptions import ReplicationConfigurationNotFoundError
    from moto.s3.responses import S3Response

    if getattr(S3Response.get_bucket_replication, "_lab_stored_rules", False):
        return

    def get_bucket_replication(self):
        self.data["Action"] = "GetBucketReplication"
        replication = self.backend.get_bucket_replication(self.bucket_name)
        if not replication:
            raise ReplicationConfigurationNotFoundError(bucket_name=self.bucket_name)
        rules = [stored_rule(rule) for rule in _listify(replication.get("Rule"))]
        return self.serialized(ActionResult({"ReplicationConfiguration": {"Role": replication["Role"], "Rules": rules}}))

    get_bucket_replication._lab_stored_rules = True
    S3Response.get_bucket_replication = get_bucket_replication

"""ElastiCache check kinds: a Redis (or Valkey) replication group's replicas, failover and encryption."""

from __future__ import annotations

from botocore.exceptions import ClientError

from . import Check, CheckFailed, failed, passed, register, schema, string

BOOL = {"type": "boolean"}


@register("elasticache.replication_group")
class ReplicationGroup(Check):
    description = ("The replication group exists (engine redis or valkey) with at least `min_replicas` replicas per "
                   "shard, and optionally automatic failover, Multi-AZ, encryption at rest and in transit.")
    params_schema = schema(
        {"id": string("replication group id"), "min_replicas": {"type": "integer", "minimum": 0, "default": 1},
         "automatic_failover": BOOL, "multi_az": BOOL, "at_rest_encryption": BOOL, "transit_encryption": BOOL},
        ["id"],
    )

    def run(self, ctx, *, id, min_replicas=1, automatic_failover=None, multi_az=None,  # noqa: A002
            at_rest_encryption=None, transit_encryption=None):
        try:
            group = ctx.client("elasticache").describe_replication_groups(ReplicationGroupId=id)["ReplicationGroups"][0]
        except ClientError as err:
            if "NotFound" in str(err.response.get("Error", {}).get("Code", "")):
                raise CheckFailed(f"there is no replication group {id}") from err
            raise
        if group.get("Engine") not in (None, "redis", "valkey"):
            return failed(f"{id} runs {group.get('Engine')}, not Redis/Valkey")
        problems = []
        shards = group.get("NodeGroups") or []
        replicas = min((sum(1 for m in g.get("NodeGroupMembers", []) if m.get("CurrentRole") != "primary")
                        for g in shards), default=0)
        if not shards or not any(g.get("NodeGroupMembers") for g in shards):
            replicas = max(len(group.get("MemberClusters", [])) - 1, 0)
        if replicas < min_replicas:
            problems.append(f"it has {replicas} replica node{'s' if replicas != 1 else ''}, at least {min_replicas} "
                            "needed (a primary plus replicas)")
        if automatic_failover is not None and (group.get("AutomaticFailover") == "enabled") != automatic_failover:
            problems.append(f"automatic failover is {group.get('AutomaticFailover')}")
        if multi_az is not None and (group.get("MultiAZ") == "enabled") != multi_az:
            problems.append(f"Multi-AZ is {group.get('MultiAZ')}")
        if at_rest_encryption is not None and bool(group.get("AtRestEncryptionEnabled")) != at_rest_encryption:
            problems.append("encryption at rest is off (it can only be chosen at creation)" if at_rest_encryption
                            else "encryption at rest is on")
        if transit_encryption is not None and bool(group.get("TransitEncryptionEnabled")) != transit_encryption:
            problems.append("encryption in transit (TLS) is off" if transit_encryption else "encryption in transit is on")
        if problems:
            return failed(f"replication group {id}: " + "; ".join(problems))
        extras = [n for n, v in (("automatic failover", automatic_failover), ("Multi-AZ", multi_az),
                                 ("encrypted at rest", at_rest_encryption), ("TLS", transit_encryption)) if v]
        return passed(f"replication group {id} has {replicas} replica{'s' if replicas != 1 else ''}"
                      + (f", {', '.join(extras)}" if extras else ""))

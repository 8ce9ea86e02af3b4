"""ElastiCache check kinds: a Redis (or Valkey) replication group's replicas, failover and encryption."""

from __future__ import annotations

from botocore.exceptions import ClientError

from . import Check, CheckFailed, failed, passed, register, schema, string

BOOL = {"type": "boolean"}


def _replica_in_other_zone(shards: list[dict]) -> bool:
    """Multi-AZ means something only if each shard has a replica outside its primary's zone."""
    for shard in shards:
        members = shard["NodeGroupMembers"]
        primary = next((m for m in members if m.get("CurrentRole") == "primary"), members[0])
        zone = primary.get("PreferredAvailabilityZone")
        if not any(m is not primary and m.get("PreferredAvailabilityZone") != zone for m in members):
            return False
    return True


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
        shards = [g for g in group.get("NodeGroups") or [] if g.get("NodeGroupMembers")]
        # Every shard has one primary; the rest of its members are replicas (cluster-mode-enabled members
        # carry no CurrentRole, so count members, not roles).
        replicas = min((len(g["NodeGroupMembers"]) - 1 for g in shards), default=0)
        if not shards:
            replicas = max(len(group.get("MemberClusters", [])) - 1, 0)
        if replicas < min_replicas:
            problems.append(f"it has {replicas} replica node{'s' if replicas != 1 else ''}, at least {min_replicas} "
                            "needed (a primary plus replicas)")
        if automatic_failover is not None and (group.get("AutomaticFailover") == "enabled") != automatic_failover:
            problems.append(f"automatic failover is {group.get('AutomaticFailover')}")
        if multi_az is not None and (group.get("MultiAZ") == "enabled") != multi_az:
            problems.append(f"Multi-AZ is {group.get('MultiAZ')}")
        elif multi_az and replicas and not _replica_in_other_zone(shards):
            problems.append("every node is in the same Availability Zone, so losing that zone loses the group — "
                            "put a replica in another zone (--preferred-cache-cluster-a-zs)")
        if at_rest_encryption is not None and bool(group.get("AtRestEncryptionEnabled")) != at_rest_encryption:
            problems.append("encryption at rest is off (it can only be chosen at creation)" if at_rest_encryption
                            else "encryption at rest is on")
        if transit_encryption is not None and bool(group.get("TransitEncryptionEnabled")) != transit_encryption:
            problems.append("encryption in transit (TLS) is off" if transit_encryption else "encryption in transit is on")
        elif transit_encryption and group.get("TransitEncryptionMode") == "preferred":
            problems.append("encryption in transit is only preferred: clients may still connect without TLS — set "
                            "TransitEncryptionMode to required")
        if problems:
            return failed(f"replication group {id}: " + "; ".join(problems))
        extras = [n for n, v in (("automatic failover", automatic_failover), ("Multi-AZ", multi_az),
                                 ("encrypted at rest", at_rest_encryption), ("TLS", transit_encryption)) if v]
        return passed(f"replication group {id} has {replicas} replica{'s' if replicas != 1 else ''}"
                      + (f", {', '.join(extras)}" if extras else ""))

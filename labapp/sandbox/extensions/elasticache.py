"""ElastiCache: replication groups behave as on AWS where labs lead learners.

- A cluster-mode-disabled group created with NumCacheClusters=N gets N nodes (one primary, N-1 replicas).
  moto 5.2.5 ignores NumCacheClusters unless ReplicasPerNodeGroup is also given, and always builds a
  single primary.
- IncreaseReplicaCount / DecreaseReplicaCount (cluster mode disabled: NewReplicaCount, or ReplicasToRemove)
  add or remove replica nodes. moto has neither (the call answered 500), yet adding a replica to an existing
  group is the documented way to make it highly available.
- ModifyReplicationGroup also takes TransitEncryptionEnabled and TransitEncryptionMode, the AWS route to
  turn TLS on for an existing group (enable with mode `preferred`, then switch to `required`). moto
  silently ignored both. A group created with TLS and no mode gets `required`, as AWS reports it.
"""

from __future__ import annotations

import functools

MAX_REPLICAS = 5


def _replica_node(group, node_group: dict, number: int, zone: str) -> dict:
    cluster_id = f"{group.replication_group_id}-{number:0>3}"
    domain = node_group["primary_endpoint_address"].split(".", 1)[1]
    return {"cache_cluster_id": cluster_id, "cache_node_id": node_group["node_group_id"],
            "read_endpoint": {"address": f"{cluster_id}.{domain}", "port": group.port},
            "preferred_availability_zone": zone, "current_role": "replica"}


def _patch_num_cache_clusters(group_cls) -> None:
    original = group_cls._set_node_members_clusters_disabled

    @functools.wraps(original)
    def set_members(self, *args, **kwargs):
        names = ["member_clusters", "replication_group_id", "replication_group_domain", "node_group",
                 "preferred_cache_cluster_azs", "num_cache_clusters", "replicas_per_node_group"]
        bound = dict(zip(names, args, strict=False)) | kwargs
        num, replicas = bound.get("num_cache_clusters"), bound.get("replicas_per_node_group")
        if not replicas and num and int(num) > 1:
            bound["replicas_per_node_group"] = int(num) - 1
        return original(self, **bound)

    set_members._lab_patched = True
    group_cls._set_node_members_clusters_disabled = set_members


def apply() -> None:
    from moto.core.responses import ActionResult
    from moto.elasticache import models, responses
    from moto.elasticache.exceptions import (
        InvalidParameterCombinationException,
        InvalidParameterValueException,
        ReplicationGroupNotFound,
    )

    group_cls = models.ReplicationGroup
    if getattr(group_cls._set_node_members_clusters_disabled, "_lab_patched", False):
        return
    _patch_num_cache_clusters(group_cls)

    original_init = group_cls.__init__

    @functools.wraps(original_init)
    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        if self.transit_encryption_enabled and not self.transit_encryption_mode:
            self.transit_encryption_mode = "required"

    group_cls.__init__ = init

    def find_group(self):
        group_id = self._get_param("ReplicationGroupId")
        group = self.elasticache_backend.replication_groups.get(group_id)
        if group is None:
            raise ReplicationGroupNotFound(group_id)
        if group.cluster_mode == "enabled":
            raise InvalidParameterValueException(
                "This emulator changes replica counts of cluster-mode-disabled groups only.")
        return group

    def members(group) -> list[dict]:
        return group.node_groups[0]["node_group_members"]

    def increase_replica_count(self):
        group = find_group(self)
        nodes = members(group)
        wanted = self._get_int_param("NewReplicaCount")
        current = len(nodes) - 1
        if wanted is None:
            raise InvalidParameterValueException("NewReplicaCount is required for a cluster-mode-disabled group.")
        if wanted <= current:
            raise InvalidParameterValueException(
                f"The new replica count ({wanted}) must be greater than the current replica count ({current}).")
        if wanted > MAX_REPLICAS:
            raise InvalidParameterValueException(f"A replication group can have at most {MAX_REPLICAS} replicas.")
        used = {int(n["cache_cluster_id"].rsplit("-", 1)[1]) for n in nodes}
        primary_zone = nodes[0].get("preferred_availability_zone", "us-east-1a")
        number = 1
        for _ in range(wanted - current):
            while number in used:
                number += 1
            used.add(number)
            zone = "us-east-1b" if primary_zone != "us-east-1b" else "us-east-1a"
            node = _replica_node(group, group.node_groups[0], number, zone)
            nodes.append(node)
            group.member_clusters.append(node["cache_cluster_id"])
        return ActionResult({"ReplicationGroup": group})

    def decrease_replica_count(self):
        group = find_group(self)
        nodes = members(group)
        replicas = [n for n in nodes if n.get("current_role") != "primary"]
        to_remove = self._get_param("ReplicasToRemove") or []
        wanted = self._get_int_param("NewReplicaCount")
        if to_remove:
            unknown = [r for r in to_remove if r not in {n["cache_cluster_id"] for n in replicas}]
            if unknown:
                raise InvalidParameterValueException(f"{', '.join(unknown)} is not a replica of this group.")
            gone = set(to_remove)
        elif wanted is not None:
            if wanted >= len(replicas) or wanted < 0:
                raise InvalidParameterValueException(
                    f"The new replica count ({wanted}) must be smaller than the current replica count "
                    f"({len(replicas)}).")
            gone = {n["cache_cluster_id"] for n in replicas[wanted:]}
        else:
            raise InvalidParameterValueException("Give NewReplicaCount or ReplicasToRemove.")
        if group.automatic_failover == "enabled" and len(replicas) - len(gone) < 1:
            raise InvalidParameterCombinationException(
                "A group with automatic failover enabled needs at least one replica.")
        nodes[:] = [n for n in nodes if n["cache_cluster_id"] not in gone]
        group.member_clusters[:] = [c for c in group.member_clusters if c not in gone]
        return ActionResult({"ReplicationGroup": group})

    response_cls = responses.ElastiCacheResponse
    response_cls.increase_replica_count = increase_replica_count
    response_cls.decrease_replica_count = decrease_replica_count

    original_modify = response_cls.modify_replication_group

    @functools.wraps(original_modify)
    def modify_replication_group(self):
        group_id = self._get_param("ReplicationGroupId")
        group = self.elasticache_backend.replication_groups.get(group_id)
        enabled = self._get_bool_param("TransitEncryptionEnabled")
        mode = self._get_param("TransitEncryptionMode")
        if group is not None and (enabled is not None or mode):
            if mode and mode not in ("preferred", "required"):
                raise InvalidParameterValueException(f"Invalid TransitEncryptionMode {mode}.")
            if enabled is False:
                group.transit_encryption_enabled, group.transit_encryption_mode = False, None
            elif enabled and not group.transit_encryption_enabled:
                if mode != "preferred":
                    raise InvalidParameterCombinationException(
                        "To turn on in-transit encryption for an existing group, set TransitEncryptionMode to "
                        "preferred first, then to required once every client uses TLS.")
                group.transit_encryption_enabled, group.transit_encryption_mode = True, "preferred"
            elif mode:
                if not group.transit_encryption_enabled:
                    raise InvalidParameterCombinationException(
                        "TransitEncryptionMode needs in-transit encryption enabled.")
                group.transit_encryption_mode = mode
        return original_modify(self)

    response_cls.modify_replication_group = modify_replication_group

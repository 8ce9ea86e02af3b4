"""ElastiCache: a cluster-mode-disabled replication group created with NumCacheClusters=N gets N nodes
(one primary, N-1 replicas), as on AWS. moto 5.2.5 ignores NumCacheClusters unless ReplicasPerNodeGroup is
also given, and always builds a single primary."""

from __future__ import annotations

import functools


def apply() -> None:
    from moto.elasticache.models import ReplicationGroup

    original = ReplicationGroup._set_node_members_clusters_disabled
    if getattr(original, "_lab_patched", False):
        return

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
    ReplicationGroup._set_node_members_clusters_disabled = set_members

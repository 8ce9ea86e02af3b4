"""ElastiCache check kinds against a real moto server (with the NumCacheClusters extension applied)."""

import pytest

from labapp.grading.grader import run_check
from labapp.sandbox.extensions import elasticache as extension


@pytest.fixture(autouse=True, scope="module")
def _extension():
    extension.apply()


def check(sb, kind, **args):
    return run_check({"kind": kind, **args}, {}, sb.ctx())


def group(sb, **kw):
    args = dict(ReplicationGroupId="sessions", ReplicationGroupDescription="sessions", Engine="redis",
                CacheNodeType="cache.t3.micro", NumCacheClusters=2)
    args.update(kw)
    args = {k: v for k, v in args.items() if v is not None}
    sb.client("elasticache").create_replication_group(**args)


FULL = dict(min_replicas=1, automatic_failover=True, multi_az=True, at_rest_encryption=True, transit_encryption=True)


def test_replication_group_passes(sandbox):
    out = check(sandbox, "elasticache.replication_group", id="sessions")
    assert not out.passed and out.feedback == "there is no replication group sessions"
    group(sandbox, AutomaticFailoverEnabled=True, MultiAZEnabled=True, AtRestEncryptionEnabled=True,
          TransitEncryptionEnabled=True)
    out = check(sandbox, "elasticache.replication_group", id="sessions", **FULL)
    assert out.passed
    assert out.feedback == "replication group sessions has 1 replica, automatic failover, Multi-AZ, encrypted at rest, TLS"


def test_single_node_unencrypted_is_a_near_miss(sandbox):
    group(sandbox, NumCacheClusters=1)
    out = check(sandbox, "elasticache.replication_group", id="sessions", **FULL)
    assert not out.passed
    assert out.feedback == ("replication group sessions: it has 0 replica nodes, at least 1 needed (a primary plus "
                            "replicas); automatic failover is disabled; Multi-AZ is disabled; encryption at rest is off "
                            "(it can only be chosen at creation); encryption in transit (TLS) is off")


def test_lister(sandbox):
    from labapp.grading.resources import list_resources

    group(sandbox, AutomaticFailoverEnabled=True)
    table = list_resources(["elasticache.replication_groups"], sandbox.client)[0]
    assert table["error"] is None
    assert table["rows"][0][:4] == ["sessions", "available", "sessions-001 (primary), sessions-002 (replica)", "enabled"]


def test_cluster_mode_shard_without_replica_is_not_a_replica(sandbox):
    # Members of a cluster-mode-enabled shard carry no role: a lone primary must not count as a replica.
    group(sandbox, NumCacheClusters=None, ClusterMode="enabled", NumNodeGroups=2, ReplicasPerNodeGroup=0,
          AutomaticFailoverEnabled=True, MultiAZEnabled=True, AtRestEncryptionEnabled=True,
          TransitEncryptionEnabled=True)
    out = check(sandbox, "elasticache.replication_group", id="sessions", **FULL)
    assert not out.passed and "it has 0 replica nodes" in out.feedback


def test_all_nodes_in_one_zone_is_not_multi_az(sandbox):
    group(sandbox, PreferredCacheClusterAZs=["us-east-1a", "us-east-1a"], AutomaticFailoverEnabled=True,
          MultiAZEnabled=True, AtRestEncryptionEnabled=True, TransitEncryptionEnabled=True)
    out = check(sandbox, "elasticache.replication_group", id="sessions", **FULL)
    assert not out.passed and "every node is in the same Availability Zone" in out.feedback


def test_preferred_tls_still_accepts_plaintext(sandbox):
    group(sandbox, AutomaticFailoverEnabled=True, MultiAZEnabled=True, AtRestEncryptionEnabled=True,
          TransitEncryptionEnabled=True, TransitEncryptionMode="preferred")
    out = check(sandbox, "elasticache.replication_group", id="sessions", **FULL)
    assert not out.passed and "TransitEncryptionMode to required" in out.feedback
    sandbox.client("elasticache").modify_replication_group(ReplicationGroupId="sessions",
                                                          TransitEncryptionMode="required", ApplyImmediately=True)
    assert check(sandbox, "elasticache.replication_group", id="sessions", **FULL).passed


def test_replica_added_later_and_failover_turned_on_passes(sandbox):
    # The other documented route: one node first, then increase-replica-count and modify-replication-group.
    group(sandbox, NumCacheClusters=1, AtRestEncryptionEnabled=True, TransitEncryptionEnabled=True)
    ec = sandbox.client("elasticache")
    ec.increase_replica_count(ReplicationGroupId="sessions", NewReplicaCount=1, ApplyImmediately=True)
    ec.modify_replication_group(ReplicationGroupId="sessions", AutomaticFailoverEnabled=True, MultiAZEnabled=True,
                                ApplyImmediately=True)
    out = check(sandbox, "elasticache.replication_group", id="sessions", **FULL)
    assert out.passed, out.feedback

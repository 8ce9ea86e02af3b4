"""ElastiCache extension (labapp/sandbox/extensions/elasticache.py) through the real emulator and gateway:
a replication group created with NumCacheClusters=N has one primary and N-1 replicas."""

from __future__ import annotations

import pytest

from tests.sandbox.helpers import make_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


def test_num_cache_clusters_makes_replicas(sandbox_stack):
    box = make_sandbox(sandbox_stack.url)
    ec = box.client("elasticache")
    ec.create_replication_group(ReplicationGroupId="sessions", ReplicationGroupDescription="s", Engine="redis",
                                CacheNodeType="cache.t3.micro", NumCacheClusters=3, AutomaticFailoverEnabled=True,
                                MultiAZEnabled=True)
    group = ec.describe_replication_groups(ReplicationGroupId="sessions")["ReplicationGroups"][0]
    assert group["MemberClusters"] == ["sessions-001", "sessions-002", "sessions-003"]
    roles = [m["CurrentRole"] for m in group["NodeGroups"][0]["NodeGroupMembers"]]
    assert roles == ["primary", "replica", "replica"]


def test_single_node_and_explicit_replicas_unchanged(sandbox_stack):
    box = make_sandbox(sandbox_stack.url)
    ec = box.client("elasticache")
    ec.create_replication_group(ReplicationGroupId="one", ReplicationGroupDescription="s", Engine="redis",
                                CacheNodeType="cache.t3.micro", NumCacheClusters=1)
    ec.create_replication_group(ReplicationGroupId="two", ReplicationGroupDescription="s", Engine="redis",
                                CacheNodeType="cache.t3.micro", ReplicasPerNodeGroup=1)
    groups = {g["ReplicationGroupId"]: g for g in ec.describe_replication_groups()["ReplicationGroups"]}
    assert groups["one"]["MemberClusters"] == ["one-001"]
    assert groups["two"]["MemberClusters"] == ["two-001", "two-002"]


def test_increase_and_decrease_replica_count(sandbox_stack):
    box = make_sandbox(sandbox_stack.url)
    ec = box.client("elasticache")
    ec.create_replication_group(ReplicationGroupId="sessions", ReplicationGroupDescription="s", Engine="redis",
                                CacheNodeType="cache.t3.micro", NumCacheClusters=1)
    grown = ec.increase_replica_count(ReplicationGroupId="sessions", NewReplicaCount=2,
                                      ApplyImmediately=True)["ReplicationGroup"]
    assert grown["MemberClusters"] == ["sessions-001", "sessions-002", "sessions-003"]
    members = grown["NodeGroups"][0]["NodeGroupMembers"]
    assert [m["CurrentRole"] for m in members] == ["primary", "replica", "replica"]
    assert members[1]["PreferredAvailabilityZone"] != members[0]["PreferredAvailabilityZone"]
    with pytest.raises(ec.exceptions.ClientError, match="must be greater"):
        ec.increase_replica_count(ReplicationGroupId="sessions", NewReplicaCount=1, ApplyImmediately=True)

    ec.modify_replication_group(ReplicationGroupId="sessions", AutomaticFailoverEnabled=True, ApplyImmediately=True)
    ec.decrease_replica_count(ReplicationGroupId="sessions", NewReplicaCount=1, ApplyImmediately=True)
    group = ec.describe_replication_groups(ReplicationGroupId="sessions")["ReplicationGroups"][0]
    assert group["MemberClusters"] == ["sessions-001", "sessions-002"]
    with pytest.raises(ec.exceptions.ClientError, match="automatic failover"):
        ec.decrease_replica_count(ReplicationGroupId="sessions", NewReplicaCount=0, ApplyImmediately=True)


def test_tls_turned_on_for_an_existing_group(sandbox_stack):
    box = make_sandbox(sandbox_stack.url)
    ec = box.client("elasticache")
    ec.create_replication_group(ReplicationGroupId="sessions", ReplicationGroupDescription="s", Engine="redis",
                                CacheNodeType="cache.t3.micro", NumCacheClusters=2)
    with pytest.raises(ec.exceptions.ClientError, match="preferred first"):
        ec.modify_replication_group(ReplicationGroupId="sessions", TransitEncryptionEnabled=True,
                                    ApplyImmediately=True)
    ec.modify_replication_group(ReplicationGroupId="sessions", TransitEncryptionEnabled=True,
                                TransitEncryptionMode="preferred", ApplyImmediately=True)
    group = ec.describe_replication_groups(ReplicationGroupId="sessions")["ReplicationGroups"][0]
    assert (group["TransitEncryptionEnabled"], group["TransitEncryptionMode"]) == (True, "preferred")
    ec.modify_replication_group(ReplicationGroupId="sessions", TransitEncryptionMode="required",
                                ApplyImmediately=True)
    group = ec.describe_replication_groups(ReplicationGroupId="sessions")["ReplicationGroups"][0]
    assert group["TransitEncryptionMode"] == "required"

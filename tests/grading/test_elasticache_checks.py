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

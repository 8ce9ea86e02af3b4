"""RDS extension (labapp/sandbox/extensions/rds.py) through the real emulator and gateway: a promoted replica
is standalone, and Multi-AZ without ApplyImmediately waits in PendingModifiedValues."""

from __future__ import annotations

import pytest

from tests.sandbox.helpers import make_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


def make_db(rds, ident):
    rds.create_db_instance(DBInstanceIdentifier=ident, Engine="mysql", DBInstanceClass="db.t3.micro",
                           MasterUsername="admin", MasterUserPassword="secret123", AllocatedStorage=20,
                           BackupRetentionPeriod=1)


def instance(rds, ident):
    return rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]


def test_promoted_replica_is_standalone(sandbox_stack):
    rds = make_sandbox(sandbox_stack.url).client("rds")
    make_db(rds, "orders-db")
    rds.create_db_instance_read_replica(DBInstanceIdentifier="replica", SourceDBInstanceIdentifier="orders-db")
    assert instance(rds, "orders-db")["ReadReplicaDBInstanceIdentifiers"] == ["replica"]
    rds.promote_read_replica(DBInstanceIdentifier="replica")
    assert "ReadReplicaSourceDBInstanceIdentifier" not in instance(rds, "replica")
    assert instance(rds, "orders-db").get("ReadReplicaDBInstanceIdentifiers", []) == []


def test_multi_az_is_deferred_without_apply_immediately(sandbox_stack):
    rds = make_sandbox(sandbox_stack.url).client("rds")
    make_db(rds, "orders-db")
    rds.modify_db_instance(DBInstanceIdentifier="orders-db", MultiAZ=True, DBInstanceClass="db.t3.small")
    db = instance(rds, "orders-db")
    assert (db["MultiAZ"], db["DBInstanceClass"]) == (False, "db.t3.micro")
    assert db["PendingModifiedValues"] == {"MultiAZ": True, "DBInstanceClass": "db.t3.small"}
    rds.modify_db_instance(DBInstanceIdentifier="orders-db", ApplyImmediately=True)
    db = instance(rds, "orders-db")
    assert (db["MultiAZ"], db["DBInstanceClass"]) == (True, "db.t3.small")
    assert not db.get("PendingModifiedValues")


def test_aurora_instance_outside_a_cluster_is_refused(sandbox_stack):
    rds = make_sandbox(sandbox_stack.url).client("rds")
    with pytest.raises(rds.exceptions.ClientError, match="InvalidParameterCombination.*must belong to a DB cluster"):
        rds.create_db_instance(DBInstanceIdentifier="shop-aurora-1", Engine="aurora-mysql",
                               DBInstanceClass="db.r6g.large")


def test_cluster_restored_with_a_kms_key_is_encrypted(sandbox_stack):
    # AWS's way to encrypt an existing Aurora cluster: restore its unencrypted snapshot with --kms-key-id.
    rds = make_sandbox(sandbox_stack.url).client("rds")
    rds.create_db_cluster(DBClusterIdentifier="plain", Engine="aurora-mysql", MasterUsername="admin",
                          MasterUserPassword="secret123")
    rds.create_db_cluster_snapshot(DBClusterIdentifier="plain", DBClusterSnapshotIdentifier="plain-snap")
    rds.restore_db_cluster_from_snapshot(DBClusterIdentifier="plain-again", SnapshotIdentifier="plain-snap",
                                         Engine="aurora-mysql")
    restored = rds.restore_db_cluster_from_snapshot(DBClusterIdentifier="sealed", SnapshotIdentifier="plain-snap",
                                                    Engine="aurora-mysql", KmsKeyId="alias/aws/rds")["DBCluster"]
    assert restored["StorageEncrypted"] is True
    clusters = {c["DBClusterIdentifier"]: c for c in rds.describe_db_clusters()["DBClusters"]}
    assert clusters["sealed"]["StorageEncrypted"] is True
    assert clusters["plain-again"]["StorageEncrypted"] is False

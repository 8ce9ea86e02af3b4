"""RDS: read replica promotion and deferred modifications, as on AWS.

- PromoteReadReplica makes the replica a standalone instance: moto 5.2.5 kept its
  ReadReplicaSourceDBInstanceIdentifier (and the source kept listing it), so a promoted copy still looked
  like a replica.
- ModifyDBInstance without ApplyImmediately defers Multi-AZ and instance class changes to the next
  maintenance window: they show under PendingModifiedValues and the instance keeps its current setting.
  moto applied every change at once, so forgetting --apply-immediately looked the same as using it. A later
  modification with ApplyImmediately applies what was pending too, as AWS does.
- CreateDBInstance with an Aurora engine and no DBClusterIdentifier is refused with AWS's error; moto
  answered 500 (an Aurora instance only exists inside a cluster).
- RestoreDBClusterFromSnapshot with a KmsKeyId encrypts the restored cluster even when the snapshot is not
  encrypted (AWS's documented way to encrypt an existing Aurora cluster); moto copied the snapshot's
  StorageEncrypted=false and dropped the key, so that route looked unencrypted.
"""

from __future__ import annotations

import functools

# db_kwargs key -> PendingModifiedValues member. These wait for the maintenance window on AWS.
DEFERRED = {"multi_az": "MultiAZ", "db_instance_class": "DBInstanceClass"}


def apply() -> None:
    from moto.rds.exceptions import InvalidParameterCombination
    from moto.rds.models import DBInstance, RDSBackend

    if getattr(RDSBackend.modify_db_instance, "_lab_patched", False):
        return
    original_modify = RDSBackend.modify_db_instance
    original_promote = RDSBackend.promote_read_replica
    original_create = RDSBackend.create_db_instance
    original_restore_cluster = RDSBackend.restore_db_cluster_from_snapshot

    @functools.wraps(original_restore_cluster)
    def restore_db_cluster_from_snapshot(self, from_snapshot_id, overrides):
        if overrides.get("kms_key_id"):
            overrides = {**overrides, "storage_encrypted": True}
        return original_restore_cluster(self, from_snapshot_id, overrides)

    @functools.wraps(original_create)
    def create_db_instance(self, db_kwargs):
        if str(db_kwargs.get("engine") or "").startswith("aurora") and not db_kwargs.get("db_cluster_identifier"):
            raise InvalidParameterCombination(
                "An Aurora DB instance must belong to a DB cluster: create the cluster first (create-db-cluster), "
                "then the instance with --db-cluster-identifier.")
        return original_create(self, db_kwargs)

    @functools.wraps(original_modify)
    def modify_db_instance(self, db_instance_identifier, db_kwargs):
        database = self.describe_db_instances(db_instance_identifier)[0]
        pending = database.__dict__.setdefault("_lab_pending", {})
        if db_kwargs.get("apply_immediately"):
            db_kwargs = {**pending, **db_kwargs}
            pending.clear()
        else:
            for key in DEFERRED:
                if key in db_kwargs and db_kwargs[key] is not None:
                    value = db_kwargs.pop(key)
                    if value != getattr(database, key, None):
                        pending[key] = value
                    else:
                        pending.pop(key, None)
        return original_modify(self, db_instance_identifier, db_kwargs)

    @functools.wraps(original_promote)
    def promote_read_replica(self, db_kwargs):
        database = self.databases[db_kwargs["db_instance_identifier"]]
        source = database.source_db_instance_identifier
        result = original_promote(self, db_kwargs)
        if source:
            try:
                primary = self.find_db_from_id(source)
            except Exception:  # noqa: BLE001 - the source may be gone already; nothing to unlink then
                primary = None
            if primary is not None:
                primary.replicas = [r for r in primary.replicas
                                    if r not in (database.db_instance_identifier, database.db_instance_arn)]
            database.source_db_instance_identifier = None
        return result

    def pending_modified_values(self):
        pending = self.__dict__.get("_lab_pending") or {}
        return {DEFERRED[k]: v for k, v in pending.items()} or None

    modify_db_instance._lab_patched = True
    RDSBackend.modify_db_instance = modify_db_instance
    RDSBackend.promote_read_replica = promote_read_replica
    RDSBackend.create_db_instance = create_db_instance
    RDSBackend.restore_db_cluster_from_snapshot = restore_db_cluster_from_snapshot
    DBInstance.pending_modified_values = property(pending_modified_values)

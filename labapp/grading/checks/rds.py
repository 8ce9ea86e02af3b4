"""RDS and Aurora check kinds: instance settings (encryption, public access, Multi-AZ, subnet group),
private DB subnet groups, encrypted snapshot copies, restores (journal), read replicas and Aurora clusters."""

from __future__ import annotations

from botocore.exceptions import ClientError

from . import Check, CheckFailed, failed, passed, register, schema, string
from .vpc import subnet_is_public, table_label

DB = string("DB instance identifier")
BOOL = {"type": "boolean"}


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def get_instance(ctx, identifier: str) -> dict:
    try:
        found = ctx.client("rds").describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
    except ClientError as err:
        if _code(err) in ("DBInstanceNotFound", "DBInstanceNotFoundFault"):
            raise CheckFailed(f"there is no DB instance {identifier}") from err
        raise
    if not found:
        raise CheckFailed(f"there is no DB instance {identifier}")
    return found[0]


AWS_MANAGED_RDS_KEY = "alias/aws/rds"


def key_arn(ctx, key: str | None) -> str | None:
    """The ARN of a KMS key named by id, ARN, alias name or alias ARN (all the same key). RDS encrypts with
    the AWS managed key aws/rds when none is given (the emulator then records a placeholder)."""
    if not key or not (key.startswith(("arn:", "alias/")) or len(key) == 36):
        key = AWS_MANAGED_RDS_KEY
    try:
        return ctx.client("kms").describe_key(KeyId=key)["KeyMetadata"]["Arn"]
    except ClientError:
        return None


@register("rds.db_instance")
class DbInstance(Check):
    description = ("The DB instance exists with the given settings: engine, storage encryption, public "
                   "accessibility, Multi-AZ, DB subnet group.")
    params_schema = schema(
        {"identifier": DB, "engine": string("engine, e.g. mysql or postgres"), "encrypted": BOOL,
         "publicly_accessible": BOOL, "multi_az": BOOL, "subnet_group": string("DB subnet group name"),
         "kms_key": string("the KMS key storage must be encrypted with (key id, ARN, alias or alias ARN)")},
        ["identifier"],
    )

    def run(self, ctx, *, identifier, engine=None, encrypted=None, publicly_accessible=None, multi_az=None,
            subnet_group=None, kms_key=None):
        db = get_instance(ctx, identifier)
        problems = []
        if engine and db.get("Engine") != engine:
            problems.append(f"its engine is {db.get('Engine')}, not {engine}")
        if encrypted is not None and bool(db.get("StorageEncrypted")) != encrypted:
            problems.append("its storage is not encrypted (encryption can only be chosen at creation)" if encrypted
                            else "its storage is encrypted")
        if kms_key and db.get("StorageEncrypted"):
            wanted, used = key_arn(ctx, kms_key), key_arn(ctx, db.get("KmsKeyId"))
            if wanted is None or wanted != used:
                problems.append(f"its storage is encrypted with {db.get('KmsKeyId') or 'the default key'}, not "
                                f"{kms_key} (the key is chosen at creation)")
        if publicly_accessible is not None and bool(db.get("PubliclyAccessible")) != publicly_accessible:
            problems.append("it is publicly accessible (it gets a public IP) — it must not be" if not publicly_accessible
                            else "it is not publicly accessible")
        if multi_az is not None and bool(db.get("MultiAZ")) != multi_az:
            if multi_az and (db.get("PendingModifiedValues") or {}).get("MultiAZ"):
                problems.append("Multi-AZ is off: the change waits for the next maintenance window — apply it "
                                "immediately (--apply-immediately)")
            else:
                problems.append("Multi-AZ is off — turn it on (a standby in another AZ)" if multi_az
                                else "Multi-AZ is on")
        if subnet_group:
            current = (db.get("DBSubnetGroup") or {}).get("DBSubnetGroupName")
            if current != subnet_group:
                problems.append(f"it is in DB subnet group {current or '(none: the default VPC)'}, not {subnet_group}")
        if problems:
            return failed(f"DB instance {identifier}: " + "; ".join(problems))
        bits = [db.get("Engine", "")]
        if encrypted:
            bits.append("encrypted")
        if publicly_accessible is False:
            bits.append("not publicly accessible")
        if multi_az:
            bits.append("Multi-AZ")
        if subnet_group:
            bits.append(f"in {subnet_group}")
        return passed(f"DB instance {identifier} is " + ", ".join(b for b in bits if b))


@register("rds.subnet_group_private")
class SubnetGroupPrivate(Check):
    description = ("The DB subnet group exists, spans at least `min_azs` availability zones, and every subnet in it "
                   "is private (its route table has no route to an internet gateway).")
    params_schema = schema({"name": string("DB subnet group name"),
                            "min_azs": {"type": "integer", "minimum": 1, "default": 2}}, ["name"])

    def run(self, ctx, *, name, min_azs=2):
        try:
            group = ctx.client("rds").describe_db_subnet_groups(DBSubnetGroupName=name)["DBSubnetGroups"][0]
        except ClientError as err:
            if "NotFound" in _code(err):
                raise CheckFailed(f"there is no DB subnet group {name}") from err
            raise
        ids = [s["SubnetIdentifier"] for s in group.get("Subnets", [])]
        if not ids:
            return failed(f"DB subnet group {name} has no subnets")
        subnets = ctx.client("ec2").describe_subnets(SubnetIds=ids)["Subnets"]
        azs = {s["AvailabilityZone"] for s in subnets}
        if len(azs) < min_azs:
            return failed(f"DB subnet group {name} covers {len(azs)} availability zone{'s' if len(azs) != 1 else ''} "
                          f"({', '.join(sorted(azs))}) — it needs subnets in at least {min_azs}")
        for sn in subnets:
            public, table, main = subnet_is_public(ctx, sn)
            if public:
                return failed(f"subnet {sn['SubnetId']} of DB subnet group {name} is public: its route table "
                              f"({table_label(table, main)}) has a route to an internet gateway")
        return passed(f"DB subnet group {name} has {len(subnets)} private subnets in {len(azs)} AZs")


@register("rds.encrypted_snapshot_of")
class EncryptedSnapshotOf(Check):
    description = "A manual DB snapshot taken from the instance exists and is encrypted (e.g. an encrypted copy)."
    params_schema = schema({"source": string("identifier of the instance the snapshot comes from")}, ["source"])

    def run(self, ctx, *, source):
        snaps = ctx.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
        mine = [s for s in snaps if s.get("DBInstanceIdentifier") == source]
        if not mine:
            return failed(f"there is no manual snapshot of {source} yet — take one")
        enc = [s for s in mine if s.get("Encrypted")]
        if not enc:
            names = ", ".join(s["DBSnapshotIdentifier"] for s in mine)
            return failed(f"the snapshots of {source} ({names}) are all unencrypted — copy one with a KMS key to get "
                          "an encrypted copy")
        return passed(f"snapshot {enc[0]['DBSnapshotIdentifier']} of {source} is encrypted")


def find_snapshot(ctx, identifier: str) -> dict | None:
    """A DB snapshot by identifier or ARN (the restore may have named it either way)."""
    name = identifier.rsplit(":", 1)[-1] if identifier.startswith("arn:") else identifier
    try:
        found = ctx.client("rds").describe_db_snapshots(DBSnapshotIdentifier=name)["DBSnapshots"]
    except ClientError as err:
        if "NotFound" in _code(err):
            return None
        raise
    return found[0] if found else None


@register("rds.restored_from_snapshot")
class RestoredFromSnapshot(Check):
    description = ("Journal + state: the instance was created by RestoreDBInstanceFromDBSnapshot (not from scratch) "
                   "and, with `encrypted: true`, its storage is encrypted; with `snapshot_of`, the snapshot it was "
                   "restored from is a snapshot of that instance (encrypted, when `encrypted`).")
    params_schema = schema({"identifier": DB, "encrypted": BOOL,
                            "snapshot_of": string("instance whose data the restored snapshot must hold")},
                           ["identifier"])

    def run(self, ctx, *, identifier, encrypted=None, snapshot_of=None):
        db = get_instance(ctx, identifier)
        restores = [r for r in ctx.journal if r.get("action") == "RestoreDBInstanceFromDBSnapshot"
                    and 200 <= int(r.get("status") or 0) < 300
                    and (r.get("params") or {}).get("DBInstanceIdentifier") == identifier]
        if not restores:
            return failed(f"{identifier} was not restored from a snapshot — a new, empty instance does not carry the "
                          "data over; restore it from the encrypted snapshot")
        if encrypted and not db.get("StorageEncrypted"):
            return failed(f"{identifier} was restored from an unencrypted snapshot, so it is not encrypted — restore "
                          "from the encrypted copy")
        if snapshot_of:
            # The latest restore made the instance that exists now.
            used = str((restores[-1].get("params") or {}).get("DBSnapshotIdentifier") or "")
            snapshot = find_snapshot(ctx, used) if used else None
            if snapshot is None:
                return failed(f"{identifier} was restored from snapshot {used or '(unknown)'}, which no longer exists "
                              "— keep the snapshots until the lab is graded")
            if snapshot.get("DBInstanceIdentifier") != snapshot_of:
                return failed(f"{identifier} was restored from {used}, a snapshot of "
                              f"{snapshot.get('DBInstanceIdentifier')}, not of {snapshot_of} — it does not hold "
                              f"{snapshot_of}'s data")
        return passed(f"{identifier} was restored from a snapshot" + (f" of {snapshot_of}" if snapshot_of else "")
                      + (" and is encrypted" if encrypted else ""))


@register("rds.read_replica")
class ReadReplica(Check):
    description = "The instance is a read replica of the source instance (given by identifier or ARN)."
    params_schema = schema({"identifier": DB, "source": string("source DB instance identifier")},
                           ["identifier", "source"])

    def run(self, ctx, *, identifier, source):
        db = get_instance(ctx, identifier)
        src = db.get("ReadReplicaSourceDBInstanceIdentifier") or ""
        if not src:
            return failed(f"{identifier} is a standalone instance, not a read replica of {source} — it does not "
                          "receive changes")
        if src.split(":")[-1] != source:
            return failed(f"{identifier} replicates {src}, not {source}")
        # The source must agree: a replica it no longer lists receives nothing.
        listed = [r.split(":")[-1] for r in get_instance(ctx, source).get("ReadReplicaDBInstanceIdentifiers") or []]
        if identifier not in listed:
            return failed(f"{source} does not list {identifier} among its read replicas")
        return passed(f"{identifier} is a read replica of {source}")


@register("rds.aurora_cluster")
class AuroraCluster(Check):
    description = ("The Aurora DB cluster exists (engine aurora-mysql or aurora-postgresql), optionally encrypted, "
                   "with exactly one writer and at least `min_readers` reader instances.")
    params_schema = schema({"identifier": string("DB cluster identifier"),
                            "engine": {"enum": ["aurora-mysql", "aurora-postgresql"]},
                            "encrypted": BOOL, "min_readers": {"type": "integer", "minimum": 0, "default": 1}},
                           ["identifier"])

    def run(self, ctx, *, identifier, engine=None, encrypted=None, min_readers=1):
        try:
            cluster = ctx.client("rds").describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"][0]
        except ClientError as err:
            if "NotFound" in _code(err):
                raise CheckFailed(f"there is no DB cluster {identifier}") from err
            raise
        if engine and cluster.get("Engine") != engine:
            return failed(f"cluster {identifier} runs {cluster.get('Engine')}, not {engine}")
        if not str(cluster.get("Engine", "")).startswith("aurora"):
            return failed(f"cluster {identifier} runs {cluster.get('Engine')}: not an Aurora cluster")
        if encrypted and not cluster.get("StorageEncrypted"):
            return failed(f"cluster {identifier} is not encrypted — encryption is chosen when the cluster is created "
                          "(or restore a snapshot of it with a KMS key: restore-db-cluster-from-snapshot --kms-key-id)")
        members = cluster.get("DBClusterMembers", [])
        writers = [m["DBInstanceIdentifier"] for m in members if m.get("IsClusterWriter")]
        readers = [m["DBInstanceIdentifier"] for m in members if not m.get("IsClusterWriter")]
        if not writers:
            return failed(f"cluster {identifier} has no instances — an Aurora cluster serves nothing until you add a "
                          "writer instance")
        if len(readers) < min_readers:
            return failed(f"cluster {identifier} has a writer ({writers[0]}) but {len(readers)} reader "
                          f"instance{'s' if len(readers) != 1 else ''} — add {min_readers - len(readers)} more "
                          "(create-db-instance with --db-cluster-identifier)")
        return passed(f"cluster {identifier}: writer {writers[0]}, readers {', '.join(readers) or 'none'}")

"""RDS and Aurora check kinds against a real moto server."""

from labapp.grading.grader import run_check


def check(sb, kind, journal=None, **args):
    return run_check({"kind": kind, **args}, {}, sb.ctx(journal=journal))


def private_group(sb, name="db-private", public=False, azs=("us-east-1a", "us-east-1b")):
    ec2 = sb.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    ids = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.50.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
           for i, az in enumerate(azs)]
    if public:
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0]["RouteTableId"]
        ec2.create_route(RouteTableId=main, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    sb.client("rds").create_db_subnet_group(DBSubnetGroupName=name, DBSubnetGroupDescription="d", SubnetIds=ids)


def db(sb, ident="app-db", **kw):
    sb.client("rds").create_db_instance(DBInstanceIdentifier=ident, Engine="mysql", DBInstanceClass="db.t3.micro",
                                        MasterUsername="admin", MasterUserPassword="secret123", AllocatedStorage=20, **kw)


def test_subnet_group_private(sandbox):
    out = check(sandbox, "rds.subnet_group_private", name="db-private")
    assert not out.passed and out.feedback == "there is no DB subnet group db-private"
    private_group(sandbox)
    out = check(sandbox, "rds.subnet_group_private", name="db-private")
    assert out.passed and out.feedback == "DB subnet group db-private has 2 private subnets in 2 AZs"


def test_subnet_group_public_or_one_az(sandbox):
    private_group(sandbox, public=True)
    out = check(sandbox, "rds.subnet_group_private", name="db-private")
    assert not out.passed and "the VPC main table) has a route to an internet gateway" in out.feedback


def test_subnet_group_one_az(sandbox):
    private_group(sandbox, azs=("us-east-1a",))
    out = check(sandbox, "rds.subnet_group_private", name="db-private")
    assert not out.passed and "covers 1 availability zone (us-east-1a)" in out.feedback


def test_default_subnets_are_public_with_the_vpc_extension(moto_endpoint):
    from labapp.sandbox.extensions import vpc as extension
    from moto.ec2.models.vpcs import VPCBackend

    from tests.grading.conftest import Sandbox

    extension.apply()
    try:
        sb = Sandbox(moto_endpoint, "100000000999")
        ec2 = sb.client("ec2")
        ids = [s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]][:2]
        sb.client("rds").create_db_subnet_group(DBSubnetGroupName="db-private", DBSubnetGroupDescription="d", SubnetIds=ids)
        out = check(sb, "rds.subnet_group_private", name="db-private")
        assert not out.passed and "has a route to an internet gateway" in out.feedback
    finally:
        VPCBackend.create_default_vpc = VPCBackend.create_default_vpc._lab_original


def test_db_instance(sandbox):
    out = check(sandbox, "rds.db_instance", identifier="app-db")
    assert not out.passed and out.feedback == "there is no DB instance app-db"
    private_group(sandbox)
    db(sandbox, StorageEncrypted=True, PubliclyAccessible=False, DBSubnetGroupName="db-private")
    out = check(sandbox, "rds.db_instance", identifier="app-db", engine="mysql", encrypted=True,
                publicly_accessible=False, subnet_group="db-private")
    assert out.passed and out.feedback == "DB instance app-db is mysql, encrypted, not publicly accessible, in db-private"


def test_db_instance_near_miss(sandbox):
    db(sandbox, PubliclyAccessible=True)
    out = check(sandbox, "rds.db_instance", identifier="app-db", encrypted=True, publicly_accessible=False,
                subnet_group="db-private", multi_az=True)
    assert not out.passed
    assert out.feedback == ("DB instance app-db: its storage is not encrypted (encryption can only be chosen at creation); "
                            "it is publicly accessible (it gets a public IP) — it must not be; Multi-AZ is off — turn it "
                            "on (a standby in another AZ); it is in DB subnet group (none: the default VPC), not db-private")


def restore_row(ident):
    return {"action": "RestoreDBInstanceFromDBSnapshot", "service": "rds", "source": "learner", "status": 200,
            "params": {"DBInstanceIdentifier": ident}}


def test_encrypt_existing(sandbox):
    db(sandbox, "legacy-db")
    rds = sandbox.client("rds")
    out = check(sandbox, "rds.encrypted_snapshot_of", source="legacy-db")
    assert not out.passed and "no manual snapshot of legacy-db" in out.feedback
    rds.create_db_snapshot(DBSnapshotIdentifier="legacy-snap", DBInstanceIdentifier="legacy-db")
    out = check(sandbox, "rds.encrypted_snapshot_of", source="legacy-db")
    assert not out.passed and "(legacy-snap) are all unencrypted" in out.feedback
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier="legacy-snap", TargetDBSnapshotIdentifier="legacy-snap-enc",
                         KmsKeyId="alias/aws/rds")
    assert check(sandbox, "rds.encrypted_snapshot_of", source="legacy-db").passed
    # Restored from the unencrypted snapshot: not encrypted.
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="plain", DBSnapshotIdentifier="legacy-snap")
    out = check(sandbox, "rds.restored_from_snapshot", journal=[restore_row("plain")], identifier="plain", encrypted=True)
    assert not out.passed and "restored from an unencrypted snapshot" in out.feedback
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="legacy-db-encrypted", DBSnapshotIdentifier="legacy-snap-enc")
    out = check(sandbox, "rds.restored_from_snapshot", journal=[restore_row("legacy-db-encrypted")],
                identifier="legacy-db-encrypted", encrypted=True)
    assert out.passed and out.feedback == "legacy-db-encrypted was restored from a snapshot and is encrypted"


def test_new_instance_is_not_a_restore(sandbox):
    db(sandbox, "legacy-db-encrypted", StorageEncrypted=True)
    out = check(sandbox, "rds.restored_from_snapshot", identifier="legacy-db-encrypted", encrypted=True)
    assert not out.passed and "was not restored from a snapshot" in out.feedback


def test_read_replica(sandbox):
    db(sandbox, "orders-db", BackupRetentionPeriod=1)
    db(sandbox, "orders-copy")
    out = check(sandbox, "rds.read_replica", identifier="orders-copy", source="orders-db")
    assert not out.passed and "standalone instance, not a read replica of orders-db" in out.feedback
    sandbox.client("rds").create_db_instance_read_replica(DBInstanceIdentifier="orders-replica",
                                                          SourceDBInstanceIdentifier="orders-db")
    out = check(sandbox, "rds.read_replica", identifier="orders-replica", source="orders-db")
    assert out.passed and out.feedback == "orders-replica is a read replica of orders-db"


def test_aurora_cluster(sandbox):
    rds = sandbox.client("rds")
    out = check(sandbox, "rds.aurora_cluster", identifier="shop")
    assert not out.passed and out.feedback == "there is no DB cluster shop"
    rds.create_db_cluster(DBClusterIdentifier="shop", Engine="aurora-mysql", MasterUsername="admin",
                          MasterUserPassword="secret123", StorageEncrypted=True)
    out = check(sandbox, "rds.aurora_cluster", identifier="shop")
    assert not out.passed and "has no instances" in out.feedback
    for ident in ("shop-1", "shop-2"):
        rds.create_db_instance(DBInstanceIdentifier=ident, DBClusterIdentifier="shop", Engine="aurora-mysql",
                               DBInstanceClass="db.r6g.large")
        if ident == "shop-1":
            out = check(sandbox, "rds.aurora_cluster", identifier="shop", min_readers=1)
            assert not out.passed and "has a writer (shop-1) but 0 reader instances" in out.feedback
    out = check(sandbox, "rds.aurora_cluster", identifier="shop", engine="aurora-mysql", encrypted=True)
    assert out.passed and out.feedback == "cluster shop: writer shop-1, readers shop-2"


def test_aurora_unencrypted(sandbox):
    sandbox.client("rds").create_db_cluster(DBClusterIdentifier="shop", Engine="aurora-postgresql",
                                            MasterUsername="pgadmin", MasterUserPassword="secret123")
    out = check(sandbox, "rds.aurora_cluster", identifier="shop", encrypted=True)
    assert not out.passed and "is not encrypted" in out.feedback
    out = check(sandbox, "rds.aurora_cluster", identifier="shop", engine="aurora-mysql")
    assert not out.passed and "runs aurora-postgresql, not aurora-mysql" in out.feedback


def test_aurora_encrypted_by_a_restore_with_a_kms_key(sandbox):
    # Forgot encryption at creation: snapshot, then restore the snapshot under the lab's name with a key.
    rds = sandbox.client("rds")
    rds.create_db_cluster(DBClusterIdentifier="draft", Engine="aurora-mysql", MasterUsername="admin",
                          MasterUserPassword="secret123")
    rds.create_db_cluster_snapshot(DBClusterIdentifier="draft", DBClusterSnapshotIdentifier="draft-snap")
    rds.restore_db_cluster_from_snapshot(DBClusterIdentifier="shop", SnapshotIdentifier="draft-snap",
                                         Engine="aurora-mysql", KmsKeyId="alias/aws/rds")
    for ident in ("shop-1", "shop-2"):
        rds.create_db_instance(DBInstanceIdentifier=ident, DBClusterIdentifier="shop", Engine="aurora-mysql",
                               DBInstanceClass="db.r6g.large")
    assert check(sandbox, "rds.aurora_cluster", identifier="shop", engine="aurora-mysql", encrypted=True,
                 min_readers=1).passed
    out = check(sandbox, "rds.aurora_cluster", identifier="draft", encrypted=True, min_readers=0)
    assert not out.passed and "restore a snapshot of it with a KMS key" in out.feedback


def test_listers(sandbox):
    from labapp.grading.resources import list_resources

    private_group(sandbox)
    db(sandbox, "orders-db", StorageEncrypted=True, DBSubnetGroupName="db-private", BackupRetentionPeriod=1)
    sandbox.client("rds").create_db_snapshot(DBSnapshotIdentifier="snap", DBInstanceIdentifier="orders-db")
    sandbox.client("rds").create_db_cluster(DBClusterIdentifier="shop", Engine="aurora-mysql", MasterUsername="admin",
                                            MasterUserPassword="secret123")
    tables = {t["kind"]: t for t in list_resources(
        ["rds.instances", "rds.subnet_groups", "rds.snapshots", "rds.clusters"], sandbox.client)}
    assert all(t["error"] is None for t in tables.values())
    assert tables["rds.instances"]["rows"][0][:4] == ["orders-db", "mysql", "available", "yes"]
    assert tables["rds.subnet_groups"]["rows"][0][0] == "db-private"
    assert any(r[0] == "snap" for r in tables["rds.snapshots"]["rows"])
    assert tables["rds.clusters"]["rows"][0][0] == "shop"


def test_restore_of_another_instances_snapshot_fails(sandbox):
    db(sandbox, "legacy-db")
    db(sandbox, "scratch", StorageEncrypted=True)
    rds = sandbox.client("rds")
    rds.create_db_snapshot(DBSnapshotIdentifier="scratch-snap", DBInstanceIdentifier="scratch")
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="legacy-db-encrypted",
                                             DBSnapshotIdentifier="scratch-snap")
    row = restore_row("legacy-db-encrypted")
    row["params"]["DBSnapshotIdentifier"] = "scratch-snap"
    args = dict(identifier="legacy-db-encrypted", encrypted=True, snapshot_of="legacy-db")
    out = check(sandbox, "rds.restored_from_snapshot", journal=[row], **args)
    assert not out.passed and out.feedback == ("legacy-db-encrypted was restored from scratch-snap, a snapshot of "
                                               "scratch, not of legacy-db — it does not hold legacy-db's data")


def test_restore_named_by_snapshot_arn_passes(sandbox):
    db(sandbox, "legacy-db")
    rds = sandbox.client("rds")
    rds.create_db_snapshot(DBSnapshotIdentifier="snap", DBInstanceIdentifier="legacy-db")
    key = sandbox.client("kms").create_key()["KeyMetadata"]["Arn"]
    copy = rds.copy_db_snapshot(SourceDBSnapshotIdentifier="snap", TargetDBSnapshotIdentifier="snap-enc",
                                KmsKeyId=key)["DBSnapshot"]["DBSnapshotArn"]
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="legacy-db-encrypted", DBSnapshotIdentifier=copy)
    row = restore_row("legacy-db-encrypted")
    row["params"]["DBSnapshotIdentifier"] = copy
    out = check(sandbox, "rds.restored_from_snapshot", journal=[row], identifier="legacy-db-encrypted",
                encrypted=True, snapshot_of="legacy-db")
    assert out.passed and out.feedback == ("legacy-db-encrypted was restored from a snapshot of legacy-db and is "
                                           "encrypted")


def test_replica_by_source_arn_passes_and_a_promoted_one_fails(sandbox):
    db(sandbox, "orders-db", BackupRetentionPeriod=1)
    rds = sandbox.client("rds")
    arn = rds.describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"][0]["DBInstanceArn"]
    rds.create_db_instance_read_replica(DBInstanceIdentifier="orders-replica", SourceDBInstanceIdentifier=arn)
    assert check(sandbox, "rds.read_replica", identifier="orders-replica", source="orders-db").passed
    rds.promote_read_replica(DBInstanceIdentifier="orders-replica")
    out = check(sandbox, "rds.read_replica", identifier="orders-replica", source="orders-db")
    assert not out.passed and "standalone instance, not a read replica of orders-db" in out.feedback


def test_multi_az_waits_for_the_maintenance_window_without_apply_immediately(sandbox):
    db(sandbox, "orders-db")
    rds = sandbox.client("rds")
    rds.modify_db_instance(DBInstanceIdentifier="orders-db", MultiAZ=True)
    out = check(sandbox, "rds.db_instance", identifier="orders-db", multi_az=True)
    assert not out.passed and "Multi-AZ is off" in out.feedback
    rds.modify_db_instance(DBInstanceIdentifier="orders-db", ApplyImmediately=True)
    assert check(sandbox, "rds.db_instance", identifier="orders-db", multi_az=True).passed


def test_kms_key_named_by_alias_id_or_arn_is_the_same_key(sandbox):
    kms = sandbox.client("kms")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/orders", TargetKeyId=key["KeyId"])
    db(sandbox, "orders-db", StorageEncrypted=True, KmsKeyId="alias/orders")
    db(sandbox, "default-key", StorageEncrypted=True)
    for name in ("alias/orders", key["KeyId"], key["Arn"]):
        assert check(sandbox, "rds.db_instance", identifier="orders-db", kms_key=name).passed, name
    out = check(sandbox, "rds.db_instance", identifier="orders-db", kms_key="alias/aws/rds")
    assert not out.passed and "encrypted with alias/orders, not alias/aws/rds" in out.feedback
    assert check(sandbox, "rds.db_instance", identifier="default-key", kms_key="alias/aws/rds").passed
    out = check(sandbox, "rds.db_instance", identifier="default-key", kms_key=key["Arn"])
    assert not out.passed

"""Live-panel listers for RDS and Aurora."""

from . import join, lister


@lister("rds.instances", "DB instances", ["Id", "Engine", "Status", "Encrypted", "Public", "Multi-AZ", "Subnet group", "Replica of"])
def rds_instances(client):
    rows = []
    for db in client("rds").describe_db_instances().get("DBInstances", []):
        rows.append([db["DBInstanceIdentifier"], db.get("Engine", ""), db.get("DBInstanceStatus", ""),
                     "yes" if db.get("StorageEncrypted") else "no", "yes" if db.get("PubliclyAccessible") else "no",
                     "yes" if db.get("MultiAZ") else "no", (db.get("DBSubnetGroup") or {}).get("DBSubnetGroupName", "—"),
                     db.get("ReadReplicaSourceDBInstanceIdentifier") or "—"])
    return rows


@lister("rds.subnet_groups", "DB subnet groups", ["Name", "VPC", "Subnets"])
def rds_subnet_groups(client):
    return [[g["DBSubnetGroupName"], g.get("VpcId", ""),
             join(f"{s['SubnetIdentifier']} ({(s.get('SubnetAvailabilityZone') or {}).get('Name', '?')})"
                  for s in g.get("Subnets", []))]
            for g in client("rds").describe_db_subnet_groups().get("DBSubnetGroups", [])]


@lister("rds.snapshots", "DB snapshots", ["Id", "Instance", "Type", "Encrypted"])
def rds_snapshots(client):
    return [[s["DBSnapshotIdentifier"], s.get("DBInstanceIdentifier", ""), s.get("SnapshotType", ""),
             "yes" if s.get("Encrypted") else "no"]
            for s in client("rds").describe_db_snapshots().get("DBSnapshots", [])]


@lister("rds.clusters", "DB clusters", ["Id", "Engine", "Encrypted", "Writer", "Readers", "Reader endpoint"])
def rds_clusters(client):
    rows = []
    for c in client("rds").describe_db_clusters().get("DBClusters", []):
        members = c.get("DBClusterMembers", [])
        rows.append([c["DBClusterIdentifier"], c.get("Engine", ""), "yes" if c.get("StorageEncrypted") else "no",
                     join(m["DBInstanceIdentifier"] for m in members if m.get("IsClusterWriter")),
                     join(m["DBInstanceIdentifier"] for m in members if not m.get("IsClusterWriter")),
                     c.get("ReaderEndpoint", "")])
    return rows

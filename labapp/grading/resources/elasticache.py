"""Live-panel listers for ElastiCache."""

from . import join, lister


@lister("elasticache.replication_groups", "ElastiCache replication groups",
        ["Id", "Status", "Nodes", "Failover", "Multi-AZ", "At rest", "In transit"])
def elasticache_replication_groups(client):
    rows = []
    for g in client("elasticache").describe_replication_groups().get("ReplicationGroups", []):
        nodes = [f"{m['CacheClusterId']} ({m.get('CurrentRole', '?')})"
                 for ng in g.get("NodeGroups", []) for m in ng.get("NodeGroupMembers", [])]
        rows.append([g["ReplicationGroupId"], g.get("Status", ""), join(nodes), g.get("AutomaticFailover", ""),
                     g.get("MultiAZ", ""), "yes" if g.get("AtRestEncryptionEnabled") else "no",
                     "yes" if g.get("TransitEncryptionEnabled") else "no"])
    return rows

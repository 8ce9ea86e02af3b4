"""Live-panel listers for Route 53."""

from . import join, lister
from ..checks.route53 import hc_label


@lister("route53.records", "Route 53 records", ["Zone", "Name", "Type", "Policy", "Set id", "Value", "Health check"])
def route53_records(client):
    r53 = client("route53")
    rows = []
    for zone in r53.list_hosted_zones().get("HostedZones", [])[:10]:
        for r in r53.list_resource_record_sets(HostedZoneId=zone["Id"].split("/")[-1]).get("ResourceRecordSets", []):
            if r["Type"] in ("NS", "SOA"):
                continue
            geo = r.get("GeoLocation") or {}
            policy = ("weighted {}".format(r["Weight"]) if "Weight" in r else
                      f"failover {r['Failover']}" if r.get("Failover") else
                      "geolocation " + (geo.get("CountryCode") or geo.get("ContinentCode") or "") if geo else
                      f"latency {r['Region']}" if r.get("Region") else
                      "multivalue" if r.get("MultiValueAnswer") else "simple")
            value = join(v["Value"] for v in r.get("ResourceRecords", [])) if r.get("ResourceRecords") else \
                (r.get("AliasTarget") or {}).get("DNSName", "—")
            rows.append([zone["Name"], r["Name"], r["Type"], policy, r.get("SetIdentifier", "—"), value,
                         (r.get("HealthCheckId") or "—")[:8]])
    return rows


@lister("route53.health_checks", "Route 53 health checks", ["Id", "Probes", "Failure threshold"])
def route53_health_checks(client):
    return [[h["Id"][:8], hc_label(h), str(h.get("HealthCheckConfig", {}).get("FailureThreshold", ""))]
            for h in client("route53").list_health_checks().get("HealthChecks", [])]

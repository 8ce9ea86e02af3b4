"""Route 53 check kinds: weighted, failover and geolocation record sets, and health checks.

The emulator stores records and health checks but answers no DNS queries, so these checks read the
record sets the way Route 53 would use them."""

from __future__ import annotations

from . import Check, CheckFailed, failed, passed, register, schema, string

ZONE = string("hosted zone name, e.g. example.com")
NAME = string("record name, e.g. www.example.com")
TYPE = {"enum": ["A", "AAAA", "CNAME", "TXT"], "default": "A"}


def fqdn(name: str) -> str:
    return name.lower().rstrip(".") + "."


def find_zone(ctx, zone: str) -> dict:
    r53 = ctx.client("route53")
    zones = r53.list_hosted_zones_by_name(DNSName=fqdn(zone)).get("HostedZones", [])
    zones = [z for z in zones if z["Name"].lower() == fqdn(zone)]
    if not zones:
        raise CheckFailed(f"there is no hosted zone {zone}")
    return zones[0]


def record_sets(ctx, zone: str, name: str, rtype: str) -> list[dict]:
    zone_id = find_zone(ctx, zone)["Id"].split("/")[-1]
    r53 = ctx.client("route53")
    out, kwargs = [], {"HostedZoneId": zone_id}
    while True:
        page = r53.list_resource_record_sets(**kwargs)
        out += page.get("ResourceRecordSets", [])
        if not page.get("IsTruncated"):
            break
        kwargs.update(StartRecordName=page["NextRecordName"], StartRecordType=page["NextRecordType"])
        if page.get("NextRecordIdentifier"):
            kwargs["StartRecordIdentifier"] = page["NextRecordIdentifier"]
    return [r for r in out if fqdn(r["Name"]) == fqdn(name) and r["Type"] == rtype]


def values(record: dict) -> list[str]:
    return [v["Value"] for v in record.get("ResourceRecords", [])]


def describe(record: dict) -> str:
    target = ", ".join(values(record)) or (record.get("AliasTarget") or {}).get("DNSName", "?")
    return f"{record.get('SetIdentifier') or 'simple'} -> {target}"


def _health_checks(ctx) -> dict[str, dict]:
    out, kwargs = {}, {}
    while True:
        page = ctx.client("route53").list_health_checks(**kwargs)
        for hc in page.get("HealthChecks", []):
            out[hc["Id"]] = hc
        if not page.get("IsTruncated"):
            return out
        kwargs["Marker"] = page["NextMarker"]


def hc_label(hc: dict) -> str:
    cfg = hc.get("HealthCheckConfig", {})
    where = cfg.get("IPAddress") or cfg.get("FullyQualifiedDomainName") or "?"
    path = cfg.get("ResourcePath") or ""
    return f"{cfg.get('Type')} {where}:{cfg.get('Port', '')}{path}"


@register("route53.weighted_records")
class WeightedRecords(Check):
    description = ("The name has weighted records (each with a set identifier) whose values carry exactly the given "
                   "weights, and nothing else answers for it.")
    params_schema = schema(
        {"zone": ZONE, "name": NAME, "type": TYPE,
         "weights": {"type": "object", "minProperties": 1, "additionalProperties": {"type": "integer", "minimum": 0},
                     "description": "record value -> required weight"},
         "exact": {"type": "boolean", "default": True,
                   "description": "false: other weighted values may answer too"}},
        ["zone", "name", "weights"],
    )

    def run(self, ctx, *, zone, name, weights, type="A", exact=True):  # noqa: A002
        records = record_sets(ctx, zone, name, type)
        if not records:
            return failed(f"there is no {type} record for {name}")
        simple = [r for r in records if "Weight" not in r]
        if simple:
            return failed(f"{name} has a non-weighted record ({describe(simple[0])}) — every record of a weighted set "
                          "needs a weight and a set identifier")
        seen: dict[str, int] = {}
        for r in records:
            for v in values(r):
                seen[v] = int(r["Weight"])
        for value, weight in weights.items():
            if value not in seen:
                return failed(f"no weighted record of {name} points at {value}")
            if seen[value] != weight:
                total = sum(seen.values()) or 1
                return failed(f"{value} has weight {seen[value]} ({100 * seen[value] // total}% of answers), "
                              f"not {weight}")
        extra = sorted(set(seen) - set(weights))
        if extra and exact:
            return failed(f"{name} also answers with {', '.join(extra)} — remove that record")
        total = sum(seen.values()) or 1
        split = ", ".join(f"{v} {w}/{total}" for v, w in weights.items())
        return passed(f"{name} is weighted: {split}")


@register("route53.health_check")
class HealthCheck(Check):
    description = "A health check watches the endpoint (IP or domain name) with this protocol, port and path."
    params_schema = schema(
        {"ip": string("IPv4 address the check probes"), "fqdn": string("domain name the check probes"),
         "protocol": {"enum": ["HTTP", "HTTPS", "TCP", "HTTP_STR_MATCH", "HTTPS_STR_MATCH"]},
         "port": {"type": "integer"}, "path": string("resource path, e.g. /health")},
        [],
    )

    def run(self, ctx, *, ip=None, fqdn=None, protocol=None, port=None, path=None):  # noqa: A002
        checks = list(_health_checks(ctx).values())
        target = ip or fqdn
        mine = [h for h in checks if (h.get("HealthCheckConfig", {}).get("IPAddress") == ip if ip else
                                      str(h.get("HealthCheckConfig", {}).get("FullyQualifiedDomainName", "")).rstrip(".")
                                      == str(fqdn).rstrip("."))]
        if not mine:
            return failed(f"no health check probes {target}" + (f" (found: {'; '.join(hc_label(h) for h in checks)})"
                                                                if checks else ""))
        for hc in mine:
            cfg = hc["HealthCheckConfig"]
            if protocol and cfg.get("Type") != protocol:
                continue
            if port and int(cfg.get("Port") or 0) != port:
                continue
            if path and (cfg.get("ResourcePath") or "/") != path:
                continue
            return passed(f"health check {hc['Id'][:8]}… probes {hc_label(hc)}")
        want = f"{protocol or ''} {target}:{port or ''}{path or ''}".strip()
        return failed(f"the health check of {target} probes {hc_label(mine[0])}, not {want}")


@register("route53.failover_records")
class FailoverRecords(Check):
    description = ("The name has a PRIMARY failover record with the primary value and a health check probing it, "
                   "and a SECONDARY failover record with the secondary value.")
    params_schema = schema({"zone": ZONE, "name": NAME, "type": TYPE,
                            "primary": string("value of the primary record"),
                            "secondary": string("value of the secondary record")},
                           ["zone", "name", "primary", "secondary"])

    def run(self, ctx, *, zone, name, primary, secondary, type="A"):  # noqa: A002
        records = record_sets(ctx, zone, name, type)
        if not records:
            return failed(f"there is no {type} record for {name}")
        by_role = {r.get("Failover"): r for r in records if r.get("Failover")}
        if not by_role:
            return failed(f"the records of {name} have no failover role ({'; '.join(map(describe, records))})")
        p, s = by_role.get("PRIMARY"), by_role.get("SECONDARY")
        if p is None:
            return failed(f"{name} has no PRIMARY failover record")
        if s is None:
            return failed(f"{name} has no SECONDARY failover record — with nothing to fail over to, an unhealthy "
                          "primary still answers")
        if primary not in values(p):
            return failed(f"the PRIMARY record of {name} points at {', '.join(values(p)) or '?'}, not {primary}")
        if secondary not in values(s):
            return failed(f"the SECONDARY record of {name} points at {', '.join(values(s)) or '?'}, not {secondary}")
        hc_id = p.get("HealthCheckId")
        if not hc_id:
            return failed(f"the PRIMARY record of {name} has no health check, so Route 53 can never tell it is down "
                          "and never fails over")
        hc = _health_checks(ctx).get(hc_id)
        if hc is None:
            return failed(f"the PRIMARY record's health check {hc_id} does not exist")
        cfg = hc.get("HealthCheckConfig", {})
        if cfg.get("IPAddress") and cfg["IPAddress"] != primary:
            return failed(f"the PRIMARY record's health check probes {cfg['IPAddress']}, not the primary {primary}")
        return passed(f"{name}: PRIMARY {primary} (health check {hc_label(hc)}), SECONDARY {secondary}")


LOCATION = {
    "type": "object", "additionalProperties": False, "required": ["value"],
    "properties": {"country": string("ISO country code, e.g. DE"), "continent": string("continent code, e.g. EU"),
                   "default": {"const": True}, "value": string("record value expected for that location")},
}


def _loc_text(loc: dict) -> str:
    if loc.get("default") or loc.get("CountryCode") == "*":
        return "the default location (*)"
    if loc.get("country") or loc.get("CountryCode"):
        return f"country {loc.get('country') or loc.get('CountryCode')}"
    return f"continent {loc.get('continent') or loc.get('ContinentCode')}"


@register("route53.geolocation_records")
class GeolocationRecords(Check):
    description = "The name has geolocation records answering each listed location (country, continent or default *) with its value."
    params_schema = schema({"zone": ZONE, "name": NAME, "type": TYPE,
                            "locations": {"type": "array", "minItems": 1, "items": LOCATION}},
                           ["zone", "name", "locations"])

    def run(self, ctx, *, zone, name, locations, type="A"):  # noqa: A002
        records = record_sets(ctx, zone, name, type)
        if not records:
            return failed(f"there is no {type} record for {name}")
        geo = [r for r in records if r.get("GeoLocation")]
        if not geo:
            return failed(f"the records of {name} are not geolocation records ({'; '.join(map(describe, records))})")
        for want in locations:
            def matches(r, want=want):
                g = r["GeoLocation"]
                if want.get("default"):
                    return g.get("CountryCode") == "*"
                if want.get("country"):
                    return g.get("CountryCode") == want["country"] and not g.get("SubdivisionCode")
                return g.get("ContinentCode") == want.get("continent")
            found = [r for r in geo if matches(r)]
            if not found:
                extra = (" — without a default record, users elsewhere get no answer at all"
                         if want.get("default") else "")
                return failed(f"{name} has no geolocation record for {_loc_text(want)}{extra}")
            if want["value"] not in values(found[0]):
                return failed(f"for {_loc_text(want)}, {name} answers {', '.join(values(found[0]))}, not {want['value']}")
        return passed(f"{name} answers by location: " + "; ".join(f"{_loc_text(w)} -> {w['value']}" for w in locations))

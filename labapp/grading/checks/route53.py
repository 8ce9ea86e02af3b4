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
    if cfg.get("Type") == "CALCULATED":
        return f"calculated from {len(cfg.get('ChildHealthChecks') or [])} checks"
    where = cfg.get("IPAddress") or cfg.get("FullyQualifiedDomainName") or "?"
    path = cfg.get("ResourcePath") or ""
    return f"{cfg.get('Type')} {where}:{cfg.get('Port', '')}{path}"


def share(weight: int, total: int, count: int) -> float:
    """Fraction of answers a weighted record gets (all weights 0: Route 53 answers them equally)."""
    return weight / total if total else 1 / count


@register("route53.weighted_records")
class WeightedRecords(Check):
    description = ("The name has weighted records (each with a set identifier) whose values get the share of answers "
                   "the given weights define (90/10 and 9/1 are the same split); a null weight only asks that the "
                   "value be one of the weighted answers. With `exact`, nothing else answers for the name.")
    params_schema = schema(
        {"zone": ZONE, "name": NAME, "type": TYPE,
         "weights": {"type": "object", "minProperties": 1,
                     "additionalProperties": {"type": ["integer", "null"], "minimum": 0},
                     "description": "record value -> required weight (null: any weight)"},
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
        # Route 53 picks a record by weight, then answers all of its values: a value's share is the sum of the
        # weights of the records that contain it.
        seen: dict[str, int] = {}
        total = sum(int(r["Weight"]) for r in records)
        for r in records:
            for v in values(r):
                seen[v] = seen.get(v, 0) + int(r["Weight"])
        wanted_total = sum(w for w in weights.values() if w is not None)
        for value, weight in weights.items():
            if value not in seen:
                return failed(f"no weighted record of {name} points at {value}")
            if weight is None:
                continue
            have = share(seen[value], total, len(records))
            want = share(weight, wanted_total, len(weights))
            if abs(have - want) > 1e-9:
                return failed(f"{value} gets {have:.0%} of the answers (weight {seen[value]} of {total}), "
                              f"not {want:.0%} (weight {weight} of {wanted_total})")
        extra = sorted(set(seen) - set(weights))
        if extra and exact:
            return failed(f"{name} also answers with {', '.join(extra)} — remove that record")
        split = ", ".join(f"{v} {share(seen[v], total, len(records)):.0%}" for v in weights)
        return passed(f"{name} is weighted: {split}")


def probes(cfg: dict, ip: str | None, fqdn: str | None, protocol, port, path) -> bool:
    """The (endpoint) health check's configuration probes this endpoint as asked."""
    if ip and cfg.get("IPAddress") != ip:
        return False
    if fqdn and str(cfg.get("FullyQualifiedDomainName", "")).rstrip(".").lower() != fqdn.rstrip(".").lower():
        return False
    # An HTTP(S)_STR_MATCH check makes the same request and also reads the body: it fails whenever the plain
    # check would (and when the text is missing), so it watches the endpoint at least as closely.
    if protocol and cfg.get("Type") not in (protocol, f"{protocol}_STR_MATCH"):
        return False
    if port and int(cfg.get("Port") or 0) != port:
        return False
    return not (path and (cfg.get("ResourcePath") or "/") != path)


def watch_problem(hc: dict, checks: dict[str, dict], want: dict, depth: int = 0) -> str | None:
    """Why this health check would not go unhealthy when the endpoint in `want` fails (None: it would).

    An inverted check is healthy exactly when the endpoint is down; a disabled one is always healthy. A
    calculated check goes unhealthy when fewer than HealthThreshold of its children are healthy."""
    cfg = hc.get("HealthCheckConfig", {})
    label = f"health check {hc['Id'][:8]}… ({hc_label(hc)})"
    if cfg.get("Disabled"):
        return f"{label} is disabled, and Route 53 treats a disabled health check as always healthy"
    if cfg.get("Inverted"):
        return f"{label} is inverted: it reports healthy when the server is down"
    if cfg.get("Type") == "CALCULATED":
        children = [checks[c] for c in cfg.get("ChildHealthChecks") or [] if c in checks]
        good = [c for c in children if depth < 3 and watch_problem(c, checks, want, depth + 1) is None]
        threshold = int(cfg.get("HealthThreshold") or 0)
        if not good:
            return f"{label} combines no health check that probes {describe_want(want)}"
        if len(children) - len(good) >= threshold:
            return (f"{label} stays healthy when {describe_want(want)} fails (it needs only {threshold} healthy "
                    f"child check(s) of {len(children)})")
        return None
    if not probes(cfg, **want):
        return f"{label} does not probe {describe_want(want)}"
    return None


def describe_want(want: dict) -> str:
    where = want.get("ip") or want.get("fqdn")
    return f"{want.get('protocol') or ''} {where}:{want.get('port') or ''}{want.get('path') or ''}".strip()


@register("route53.health_check")
class HealthCheck(Check):
    description = ("A health check (not inverted, not disabled) watches the endpoint (IP or domain name) with this "
                   "protocol, port and path.")
    params_schema = schema(
        {"ip": string("IPv4 address the check probes"), "fqdn": string("domain name the check probes"),
         "protocol": {"enum": ["HTTP", "HTTPS", "TCP", "HTTP_STR_MATCH", "HTTPS_STR_MATCH"]},
         "port": {"type": "integer"}, "path": string("resource path, e.g. /health")},
        [],
    )

    def run(self, ctx, *, ip=None, fqdn=None, protocol=None, port=None, path=None):  # noqa: A002
        checks = _health_checks(ctx)
        target = ip or fqdn
        want = {"ip": ip, "fqdn": fqdn, "protocol": protocol, "port": port, "path": path}
        mine = [h for h in checks.values() if h.get("HealthCheckConfig", {}).get("Type") != "CALCULATED"
                and probes(h.get("HealthCheckConfig", {}), ip, fqdn, None, None, None)]
        if not mine:
            return failed(f"no health check probes {target}" + (
                f" (found: {'; '.join(hc_label(h) for h in checks.values())})" if checks else ""))
        problems = []
        for hc in mine:
            problem = watch_problem(hc, checks, want)
            if problem is None:
                return passed(f"health check {hc['Id'][:8]}… probes {hc_label(hc)}")
            problems.append(problem)
        exact = [p for p in problems if "does not probe" not in p]
        if exact:
            return failed(exact[0])
        return failed(f"the health check of {target} probes {hc_label(mine[0])}, not {describe_want(want)}")


@register("route53.failover_records")
class FailoverRecords(Check):
    description = ("The name has a PRIMARY failover record answering exactly the primary value, with a health check "
                   "that goes unhealthy when the primary fails (probing it with the protocol, port and path given), "
                   "and a SECONDARY failover record answering exactly the secondary value.")
    params_schema = schema({"zone": ZONE, "name": NAME, "type": TYPE,
                            "primary": string("value of the primary record"),
                            "secondary": string("value of the secondary record"),
                            "protocol": {"enum": ["HTTP", "HTTPS", "TCP", "HTTP_STR_MATCH", "HTTPS_STR_MATCH"]},
                            "port": {"type": "integer"}, "path": string("resource path the health check probes")},
                           ["zone", "name", "primary", "secondary"])

    def run(self, ctx, *, zone, name, primary, secondary, type="A", protocol=None, port=None, path=None):  # noqa: A002
        records = record_sets(ctx, zone, name, type)
        if not records:
            return failed(f"there is no {type} record for {name}")
        plain = [r for r in records if not r.get("Failover")]
        if plain and len(plain) == len(records):
            return failed(f"the records of {name} have no failover role ({'; '.join(map(describe, records))})")
        if plain:
            return failed(f"{name} also has a record without a failover role ({describe(plain[0])})")
        by_role = {r.get("Failover"): r for r in records}
        p, s = by_role.get("PRIMARY"), by_role.get("SECONDARY")
        if p is None:
            return failed(f"{name} has no PRIMARY failover record")
        if s is None:
            return failed(f"{name} has no SECONDARY failover record — with nothing to fail over to, an unhealthy "
                          "primary still answers")
        for role, record, want in (("PRIMARY", p, primary), ("SECONDARY", s, secondary)):
            if values(record) != [want]:
                return failed(f"the {role} record of {name} answers {', '.join(values(record)) or 'no value'}, "
                              f"not only {want}")
        hc_id = p.get("HealthCheckId")
        if not hc_id:
            return failed(f"the PRIMARY record of {name} has no health check, so Route 53 can never tell it is down "
                          "and never fails over")
        checks = _health_checks(ctx)
        hc = checks.get(hc_id)
        if hc is None:
            return failed(f"the PRIMARY record's health check {hc_id} does not exist")
        problem = watch_problem(hc, checks, {"ip": primary, "fqdn": None, "protocol": protocol, "port": port,
                                             "path": path})
        if problem:
            return failed(f"the PRIMARY record's {problem}, so Route 53 would not fail over when {primary} is down")
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


# Enough of the ISO 3166 -> continent map for the countries labs name (Route 53 knows them all).
CONTINENT_OF = {"DE": "EU", "FR": "EU", "GB": "EU", "IT": "EU", "ES": "EU", "NL": "EU", "IE": "EU", "PL": "EU",
                "US": "NA", "CA": "NA", "MX": "NA", "BR": "SA", "AR": "SA", "JP": "AS", "IN": "AS", "CN": "AS",
                "SG": "AS", "AU": "OC", "NZ": "OC", "ZA": "AF", "NG": "AF", "EG": "AF"}


def answering_record(geo: list[dict], want: dict) -> tuple[dict | None, str]:
    """The record Route 53 answers a user from `want`'s location with: the most specific match (country,
    then its continent, then the default *), and which location it matched."""
    def find(pred):
        return next((r for r in geo if pred(r["GeoLocation"])), None)
    if want.get("country"):
        code = want["country"]
        rec = find(lambda g: g.get("CountryCode") == code and not g.get("SubdivisionCode"))
        if rec:
            return rec, f"country {code}"
        continent = CONTINENT_OF.get(code)
        rec = continent and find(lambda g: g.get("ContinentCode") == continent)
        if rec:
            return rec, f"continent {continent}"
    elif want.get("continent"):
        rec = find(lambda g: g.get("ContinentCode") == want["continent"])
        if rec:
            return rec, f"continent {want['continent']}"
    rec = find(lambda g: g.get("CountryCode") == "*")
    return rec, "the default location (*)"


@register("route53.geolocation_records")
class GeolocationRecords(Check):
    description = ("Users from each listed location (a country, a continent's other countries, or anywhere else "
                   "for default) get exactly the given value: the most specific geolocation record answers, as "
                   "in Route 53 (country, then continent, then the default *).")
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
            found, matched = answering_record(geo, want)
            if found is None:
                extra = (" — without a default record, users elsewhere get no answer at all"
                         if want.get("default") else "")
                return failed(f"{name} has no geolocation record for {_loc_text(want)}{extra}")
            if values(found) != [want["value"]]:
                via = "" if matched == _loc_text(want) else f" (through the record for {matched})"
                return failed(f"for {_loc_text(want)}, {name} answers {', '.join(values(found)) or 'no value'}"
                              f"{via}, not only {want['value']}")
        return passed(f"{name} answers by location: " + "; ".join(f"{_loc_text(w)} -> {w['value']}" for w in locations))

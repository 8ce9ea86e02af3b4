"""Route 53 check kinds against a real moto server (records are stored, never resolved)."""

from labapp.grading.grader import run_check

ZONE = "shop.example"
NAME = "www.shop.example"


def check(sb, kind, **args):
    return run_check({"kind": kind, **args}, {}, sb.ctx())


def zone(sb):
    r53 = sb.client("route53")
    return r53.create_hosted_zone(Name=ZONE, CallerReference=f"ref-{sb.account_id}")["HostedZone"]["Id"]


def upsert(sb, zone_id, *records):
    sb.client("route53").change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {"Name": NAME, "Type": "A", "TTL": 60, **r}} for r in records]})


def rec(value, **kw):
    return {"ResourceRecords": [{"Value": value}], **kw}


def test_weighted(sandbox):
    out = check(sandbox, "route53.weighted_records", zone=ZONE, name=NAME, weights={"192.0.2.10": 90})
    assert not out.passed and out.feedback == f"there is no hosted zone {ZONE}"
    zid = zone(sandbox)
    upsert(sandbox, zid, rec("192.0.2.10", SetIdentifier="blue", Weight=90), rec("192.0.2.20", SetIdentifier="green", Weight=10))
    out = check(sandbox, "route53.weighted_records", zone=ZONE, name=NAME, weights={"192.0.2.10": 90, "192.0.2.20": 10})
    assert out.passed and out.feedback == f"{NAME} is weighted: 192.0.2.10 90%, 192.0.2.20 10%"
    out = check(sandbox, "route53.weighted_records", zone=ZONE, name=NAME, weights={"192.0.2.10": 80, "192.0.2.20": 20})
    assert not out.passed and out.feedback == ("192.0.2.10 gets 90% of the answers (weight 90 of 100), "
                                               "not 80% (weight 80 of 100)")


def test_simple_record_is_not_weighted(sandbox):
    zid = zone(sandbox)
    upsert(sandbox, zid, {"ResourceRecords": [{"Value": "192.0.2.10"}, {"Value": "192.0.2.20"}]})
    out = check(sandbox, "route53.weighted_records", zone=ZONE, name=NAME, weights={"192.0.2.10": 90, "192.0.2.20": 10})
    assert not out.passed and "has a non-weighted record (simple -> 192.0.2.10, 192.0.2.20)" in out.feedback


def health_check(sb, ip="192.0.2.10", path="/health"):
    return sb.client("route53").create_health_check(CallerReference=f"hc-{ip}-{path}", HealthCheckConfig={
        "IPAddress": ip, "Port": 80, "Type": "HTTP", "ResourcePath": path, "FailureThreshold": 3})["HealthCheck"]["Id"]


def test_health_check(sandbox):
    out = check(sandbox, "route53.health_check", ip="192.0.2.10", protocol="HTTP", port=80, path="/health")
    assert not out.passed and out.feedback == "no health check probes 192.0.2.10"
    health_check(sandbox, path="/")
    out = check(sandbox, "route53.health_check", ip="192.0.2.10", protocol="HTTP", port=80, path="/health")
    assert not out.passed and out.feedback == "the health check of 192.0.2.10 probes HTTP 192.0.2.10:80/, not HTTP 192.0.2.10:80/health"
    health_check(sandbox)
    assert check(sandbox, "route53.health_check", ip="192.0.2.10", protocol="HTTP", port=80, path="/health").passed


def test_failover(sandbox):
    zid = zone(sandbox)
    args = dict(zone=ZONE, name=NAME, primary="192.0.2.10", secondary="198.51.100.20")
    upsert(sandbox, zid, rec("192.0.2.10", SetIdentifier="primary", Failover="PRIMARY"))
    out = check(sandbox, "route53.failover_records", **args)
    assert not out.passed and out.feedback.startswith(f"{NAME} has no SECONDARY failover record")
    upsert(sandbox, zid, rec("198.51.100.20", SetIdentifier="secondary", Failover="SECONDARY"))
    out = check(sandbox, "route53.failover_records", **args)
    assert not out.passed and "has no health check, so Route 53 can never tell it is down" in out.feedback
    hc = health_check(sandbox)
    upsert(sandbox, zid, rec("192.0.2.10", SetIdentifier="primary", Failover="PRIMARY", HealthCheckId=hc))
    out = check(sandbox, "route53.failover_records", **args)
    assert out.passed and out.feedback == (f"{NAME}: PRIMARY 192.0.2.10 (health check HTTP 192.0.2.10:80/health), "
                                           "SECONDARY 198.51.100.20")


def test_geolocation(sandbox):
    zid = zone(sandbox)
    locations = [{"country": "DE", "value": "192.0.2.30"}, {"continent": "EU", "value": "192.0.2.20"},
                 {"default": True, "value": "192.0.2.10"}]
    upsert(sandbox, zid, rec("192.0.2.30", SetIdentifier="de", GeoLocation={"CountryCode": "DE"}),
           rec("192.0.2.20", SetIdentifier="eu", GeoLocation={"ContinentCode": "EU"}))
    out = check(sandbox, "route53.geolocation_records", zone=ZONE, name=NAME, locations=locations)
    assert not out.passed and out.feedback == (f"{NAME} has no geolocation record for the default location (*) — "
                                               "without a default record, users elsewhere get no answer at all")
    upsert(sandbox, zid, rec("192.0.2.10", SetIdentifier="default", GeoLocation={"CountryCode": "*"}))
    out = check(sandbox, "route53.geolocation_records", zone=ZONE, name=NAME, locations=locations)
    assert out.passed, out.feedback
    wrong = [{"country": "DE", "value": "192.0.2.20"}]
    out = check(sandbox, "route53.geolocation_records", zone=ZONE, name=NAME, locations=wrong)
    assert not out.passed and out.feedback == f"for country DE, {NAME} answers 192.0.2.30, not only 192.0.2.20"


def test_listers(sandbox):
    from labapp.grading.resources import list_resources

    zid = zone(sandbox)
    hc = health_check(sandbox)
    upsert(sandbox, zid, rec("192.0.2.10", SetIdentifier="primary", Failover="PRIMARY", HealthCheckId=hc),
           rec("192.0.2.30", SetIdentifier="de", GeoLocation={"CountryCode": "DE"}))
    tables = {t["kind"]: t for t in list_resources(["route53.records", "route53.health_checks"], sandbox.client)}
    assert all(t["error"] is None for t in tables.values())
    policies = {r[3] for r in tables["route53.records"]["rows"]}
    assert {"failover PRIMARY", "geolocation DE"} <= policies
    assert tables["route53.health_checks"]["rows"][0][1] == "HTTP 192.0.2.10:80/health"


def test_weighted_grades_the_share_of_answers(sandbox):
    zid = zone(sandbox)
    weights = {"192.0.2.10": 90, "192.0.2.20": 10}
    upsert(sandbox, zid, rec("192.0.2.10", SetIdentifier="blue", Weight=9), rec("192.0.2.20", SetIdentifier="green", Weight=1))
    assert check(sandbox, "route53.weighted_records", zone=ZONE, name=NAME, weights=weights).passed  # 9:1 is 90:10
    assert check(sandbox, "route53.weighted_records", zone=ZONE, name=NAME, weights={"192.0.2.10": None},
                 exact=False).passed
    upsert(sandbox, zid, rec("192.0.2.20", SetIdentifier="green", Weight=0))
    out = check(sandbox, "route53.weighted_records", zone=ZONE, name=NAME, weights=weights)
    assert not out.passed and out.feedback.startswith("192.0.2.10 gets 100% of the answers")


def test_health_check_that_cannot_report_the_outage(sandbox):
    r53 = sandbox.client("route53")
    want = dict(ip="192.0.2.10", protocol="HTTP", port=80, path="/health")
    hc = health_check(sandbox)
    r53.update_health_check(HealthCheckId=hc, Inverted=True)
    out = check(sandbox, "route53.health_check", **want)
    assert not out.passed and "is inverted: it reports healthy when the server is down" in out.feedback
    r53.update_health_check(HealthCheckId=hc, Inverted=False, Disabled=True)
    out = check(sandbox, "route53.health_check", **want)
    assert not out.passed and "is disabled" in out.feedback
    r53.update_health_check(HealthCheckId=hc, Disabled=False)
    assert check(sandbox, "route53.health_check", **want).passed


def test_a_string_matching_health_check_watches_the_endpoint_too(sandbox):
    r53 = sandbox.client("route53")
    want = dict(ip="192.0.2.10", protocol="HTTP", port=80, path="/health")
    r53.create_health_check(CallerReference="tcp", HealthCheckConfig={
        "Type": "TCP", "IPAddress": "192.0.2.10", "Port": 80})
    out = check(sandbox, "route53.health_check", **want)
    assert not out.passed and "not HTTP 192.0.2.10:80/health" in out.feedback
    r53.create_health_check(CallerReference="str", HealthCheckConfig={
        "Type": "HTTP_STR_MATCH", "IPAddress": "192.0.2.10", "Port": 80, "ResourcePath": "/health",
        "SearchString": "OK"})
    assert check(sandbox, "route53.health_check", **want).passed


def calculated(sb, children, threshold):
    return sb.client("route53").create_health_check(CallerReference=f"calc-{threshold}-{len(children)}", HealthCheckConfig={
        "Type": "CALCULATED", "ChildHealthChecks": children, "HealthThreshold": threshold})["HealthCheck"]["Id"]


def test_failover_needs_a_health_check_that_watches_the_primary(sandbox):
    zid = zone(sandbox)
    args = dict(zone=ZONE, name=NAME, primary="192.0.2.10", secondary="198.51.100.20", protocol="HTTP", port=80,
                path="/health")
    right, root, other = health_check(sandbox), health_check(sandbox, path="/"), health_check(sandbox, ip="192.0.2.99")
    secondary = rec("198.51.100.20", SetIdentifier="secondary", Failover="SECONDARY")

    def primary(hc, *more):
        return {"ResourceRecords": [{"Value": v} for v in ("192.0.2.10", *more)], "SetIdentifier": "primary",
                "Failover": "PRIMARY", "HealthCheckId": hc}

    upsert(sandbox, zid, primary(root), secondary)  # the right check exists, but the record names another
    out = check(sandbox, "route53.failover_records", **args)
    assert not out.passed and "does not probe HTTP 192.0.2.10:80/health" in out.feedback
    upsert(sandbox, zid, primary(right, "198.51.100.20"))
    out = check(sandbox, "route53.failover_records", **args)
    assert not out.passed and "answers 192.0.2.10, 198.51.100.20, not only 192.0.2.10" in out.feedback
    upsert(sandbox, zid, primary(calculated(sandbox, [right, other], 1)))  # one healthy child is enough: never fails
    out = check(sandbox, "route53.failover_records", **args)
    assert not out.passed and "stays healthy when HTTP 192.0.2.10:80/health fails" in out.feedback
    upsert(sandbox, zid, primary(calculated(sandbox, [right, other], 2)))
    assert check(sandbox, "route53.failover_records", **args).passed
    upsert(sandbox, zid, primary(right))
    assert check(sandbox, "route53.failover_records", **args).passed


def test_upper_case_names_are_the_same_records(sandbox):
    r53 = sandbox.client("route53")
    zid = r53.create_hosted_zone(Name="Shop.Example", CallerReference=f"uc-{sandbox.account_id}")["HostedZone"]["Id"]
    r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": "WWW.Shop.Example.", "Type": "A", "TTL": 60, "SetIdentifier": "blue", "Weight": 90,
        "ResourceRecords": [{"Value": "192.0.2.10"}]}}]})
    upsert(sandbox, zid, rec("192.0.2.20", SetIdentifier="green", Weight=10))
    assert check(sandbox, "route53.weighted_records", zone="SHOP.example", name="Www.Shop.Example",
                 weights={"192.0.2.10": 90, "192.0.2.20": 10}).passed


def test_geolocation_answers_from_the_most_specific_record(sandbox):
    zid = zone(sandbox)
    germany = [{"country": "DE", "value": "192.0.2.30"}]
    upsert(sandbox, zid, rec("192.0.2.20", SetIdentifier="eu", GeoLocation={"ContinentCode": "EU"}),
           rec("192.0.2.10", SetIdentifier="default", GeoLocation={"CountryCode": "*"}))
    out = check(sandbox, "route53.geolocation_records", zone=ZONE, name=NAME, locations=germany)
    assert not out.passed and out.feedback == (f"for country DE, {NAME} answers 192.0.2.20 (through the record for "
                                               "continent EU), not only 192.0.2.30")
    upsert(sandbox, zid, rec("192.0.2.30", SetIdentifier="bavaria", GeoLocation={"CountryCode": "DE",
                                                                                 "SubdivisionCode": "BY"}))
    assert not check(sandbox, "route53.geolocation_records", zone=ZONE, name=NAME, locations=germany).passed
    upsert(sandbox, zid, rec("192.0.2.30", SetIdentifier="de", GeoLocation={"CountryCode": "DE"}))
    assert check(sandbox, "route53.geolocation_records", zone=ZONE, name=NAME, locations=germany).passed

"""Route 53 extension (labapp/sandbox/extensions/route53.py) through the real emulator and gateway: zone and
record names are case-insensitive and stored in lower case, as on AWS."""

from __future__ import annotations

import pytest

from tests.sandbox.helpers import make_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


def upsert(r53, zone_id, name, value, **extra):
    r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": name, "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": value}], **extra}}]})


def a_records(r53, zone_id):
    sets = r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return [(r["Name"], r.get("SetIdentifier"), [v["Value"] for v in r["ResourceRecords"]]) for r in sets
            if r["Type"] == "A"]


def test_names_are_case_insensitive(sandbox_stack):
    r53 = make_sandbox(sandbox_stack.url).client("route53")
    zone = r53.create_hosted_zone(Name="Shop-A.Example", CallerReference="r1")["HostedZone"]
    assert zone["Name"] == "shop-a.example."
    found = r53.list_hosted_zones_by_name(DNSName="SHOP-A.example")["HostedZones"]
    assert [z["Id"] for z in found] == [zone["Id"]]
    upsert(r53, zone["Id"], "App.SHOP-A.example", "192.0.2.10", SetIdentifier="primary", Failover="PRIMARY")
    upsert(r53, zone["Id"], "app.shop-a.example.", "192.0.2.11", SetIdentifier="primary", Failover="PRIMARY")
    assert a_records(r53, zone["Id"]) == [("app.shop-a.example.", "primary", ["192.0.2.11"])]
    upsert(r53, zone["Id"], "WWW.shop-a.example", "192.0.2.20")
    r53.change_resource_record_sets(HostedZoneId=zone["Id"], ChangeBatch={"Changes": [{"Action": "DELETE",
        "ResourceRecordSet": {"Name": "www.Shop-A.example", "Type": "A", "TTL": 60,
                              "ResourceRecords": [{"Value": "192.0.2.20"}]}}]})
    page = r53.list_resource_record_sets(HostedZoneId=zone["Id"], StartRecordName="APP.shop-a.example",
                                         StartRecordType="A")["ResourceRecordSets"]
    assert [(r["Name"], r["Type"]) for r in page] == [("app.shop-a.example.", "A")]

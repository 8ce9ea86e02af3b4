"""GetBucketReplication answers stored filters (labapp/sandbox/extensions/s3_replication.py), through the real
gateway and emulator."""

from __future__ import annotations

import pytest

from tests.sandbox.helpers import make_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


def test_replication_rules_come_back_as_they_were_set(sandbox_stack):
    sb = make_sandbox(sandbox_stack.url)
    s3 = sb.client("s3")
    src, dst = f"src-{sb.account_id}", f"dst-{sb.account_id}"
    for name in (src, dst):
        s3.create_bucket(Bucket=name)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    dest = {"Bucket": f"arn:aws:s3:::{dst}", "StorageClass": "STANDARD_IA"}
    s3.put_bucket_replication(Bucket=src, ReplicationConfiguration={
        "Role": f"arn:aws:iam::{sb.account_id}:role/repl", "Rules": [
            {"ID": "exports", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": "exports/"},
             "DeleteMarkerReplication": {"Status": "Enabled"}, "Destination": dest},
            {"ID": "tagged", "Status": "Enabled", "Priority": 2,
             "Filter": {"And": {"Prefix": "p/", "Tags": [{"Key": "dr", "Value": "yes"}, {"Key": "t", "Value": "1"}]}},
             "DeleteMarkerReplication": {"Status": "Disabled"}, "Destination": dest}]})
    rules = {r["ID"]: r for r in s3.get_bucket_replication(Bucket=src)["ReplicationConfiguration"]["Rules"]}
    assert rules["exports"]["Filter"] == {"Prefix": "exports/"}
    assert rules["exports"]["DeleteMarkerReplication"] == {"Status": "Enabled"}
    assert rules["tagged"]["Filter"]["And"]["Tags"] == [{"Key": "dr", "Value": "yes"}, {"Key": "t", "Value": "1"}]
    assert rules["tagged"]["Destination"]["StorageClass"] == "STANDARD_IA"

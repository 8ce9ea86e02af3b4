"""CloudFront extension (labapp/sandbox/extensions/cloudfront.py) through the real emulator and gateway:
an S3 origin keeps its origin access control, which must exist, cannot be mixed with an OAI, and cannot be
deleted while in use."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.sandbox.extensions.test_elasticbeanstalk import aws
from tests.sandbox.helpers import make_sandbox

pytestmark = pytest.mark.django_db(transaction=True)
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"


def config(bucket: str, oac: str, ref: str = "ref-1", oai: str = "") -> dict:
    return {
        "CallerReference": ref, "Comment": "site", "Enabled": True, "DefaultRootObject": "index.html",
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "site-s3", "DomainName": f"{bucket}.s3.us-east-1.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": oai}, "OriginAccessControlId": oac}]},
        "DefaultCacheBehavior": {"TargetOriginId": "site-s3", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": CACHING_OPTIMIZED},
    }


def test_origin_access_control_is_kept_and_checked(sandbox_stack, tmp_path):
    box = make_sandbox(sandbox_stack.url)
    bucket = f"site-{box.account_id}"
    box.client("s3").create_bucket(Bucket=bucket)
    oac = aws(box, "cloudfront", "create-origin-access-control", "--origin-access-control-config",
              "Name=site-oac,SigningProtocol=sigv4,SigningBehavior=always,OriginAccessControlOriginType=s3")
    oac_id = oac["OriginAccessControl"]["Id"]
    path = tmp_path / "dist.json"
    path.write_text(json.dumps(config(bucket, oac_id)))
    dist = aws(box, "cloudfront", "create-distribution", "--distribution-config", f"file://{path}")["Distribution"]
    origin = aws(box, "cloudfront", "get-distribution-config", "--id", dist["Id"])["DistributionConfig"]["Origins"]["Items"][0]
    assert origin["OriginAccessControlId"] == oac_id
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}

    cf = box.client("cloudfront")
    with pytest.raises(ClientError, match="NoSuchOriginAccessControl"):
        cf.create_distribution(DistributionConfig=config(bucket, "E0000000000000", ref="ref-2"))
    with pytest.raises(ClientError, match="IllegalOriginAccessConfiguration"):
        cf.create_distribution(DistributionConfig=config(bucket, oac_id, ref="ref-3",
                                                         oai="origin-access-identity/cloudfront/E123"))
    with pytest.raises(ClientError, match="OriginAccessControlInUse"):
        cf.delete_origin_access_control(Id=oac_id)

    current = cf.get_distribution_config(Id=dist["Id"])
    updated = current["DistributionConfig"]
    updated["Origins"]["Items"][0]["OriginAccessControlId"] = ""
    cf.update_distribution(Id=dist["Id"], IfMatch=current["ETag"], DistributionConfig=updated)
    listed = cf.list_distributions()["DistributionList"]["Items"][0]["Origins"]["Items"][0]
    assert listed["OriginAccessControlId"] == ""
    cf.delete_origin_access_control(Id=oac_id)

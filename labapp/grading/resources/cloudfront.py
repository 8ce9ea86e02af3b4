"""Live-panel listers for CloudFront."""

from . import MAX_ITEMS, join, lister


@lister("cloudfront.distributions", "CloudFront distributions",
        ["Id", "Domain", "Origins (OAC)", "Viewer protocol", "Behaviours", "Status"])
def distributions(client):
    cf = client("cloudfront")
    rows = []
    for dist in (cf.list_distributions()["DistributionList"].get("Items") or [])[:MAX_ITEMS]:
        origins = [f"{o['DomainName']} ({o.get('OriginAccessControlId') or 'no OAC'})"
                   for o in (dist.get("Origins") or {}).get("Items") or []]
        behaviors = [b.get("PathPattern", "?") for b in (dist.get("CacheBehaviors") or {}).get("Items") or []]
        rows.append([dist["Id"], dist.get("DomainName", ""), join(origins),
                     (dist.get("DefaultCacheBehavior") or {}).get("ViewerProtocolPolicy", ""),
                     join(["default (*)"] + behaviors), dist.get("Status", "")])
    return rows


@lister("cloudfront.origin_access_controls", "Origin access controls", ["Id", "Name", "Type", "Signing"])
def origin_access_controls(client):
    items = client("cloudfront").list_origin_access_controls()["OriginAccessControlList"].get("Items") or []
    return [[o["Id"], o.get("Name", ""), o.get("OriginAccessControlOriginType", ""),
             f"{o.get('SigningProtocol', '')} {o.get('SigningBehavior', '')}"] for o in items[:MAX_ITEMS]]


@lister("cloudfront.invalidations", "CloudFront invalidations", ["Distribution", "Invalidation", "Paths", "Status"])
def invalidations(client):
    cf = client("cloudfront")
    rows = []
    for dist in (cf.list_distributions()["DistributionList"].get("Items") or [])[:5]:
        for item in ((cf.list_invalidations(DistributionId=dist["Id"]).get("InvalidationList") or {})
                     .get("Items") or [])[:MAX_ITEMS]:
            full = cf.get_invalidation(DistributionId=dist["Id"], Id=item["Id"])["Invalidation"]
            paths = ((full.get("InvalidationBatch") or {}).get("Paths") or {}).get("Items") or []
            rows.append([dist["Id"], item["Id"], join(paths), item.get("Status", "")])
    return rows

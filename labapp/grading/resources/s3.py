"""Live-panel listers for S3."""

from . import MAX_ITEMS, lister


@lister("s3.buckets", "S3 buckets", ["Name", "Versioning", "Objects"])
def s3_buckets(client):
    s3 = client("s3")
    rows = []
    for bucket in s3.list_buckets().get("Buckets", [])[:MAX_ITEMS]:
        name = bucket["Name"]
        status = s3.get_bucket_versioning(Bucket=name).get("Status") or "never enabled"
        listing = s3.list_objects_v2(Bucket=name, MaxKeys=1000)
        count = str(listing.get("KeyCount", 0)) + ("+" if listing.get("IsTruncated") else "")
        rows.append([name, status, count])
    return rows


@lister("s3.object_versions", "S3 object versions", ["Bucket", "Key", "Version id", "Latest", "Delete marker"])
def s3_object_versions(client):
    s3 = client("s3")
    rows = []
    for bucket in s3.list_buckets().get("Buckets", [])[:MAX_ITEMS]:
        name = bucket["Name"]
        page = s3.list_object_versions(Bucket=name, MaxKeys=200)
        entries = [(v, False) for v in page.get("Versions", [])] + [(m, True) for m in page.get("DeleteMarkers", [])]
        entries.sort(key=lambda e: (e[0]["Key"], not e[0].get("IsLatest"), -e[0]["LastModified"].timestamp()))
        for item, marker in entries:
            vid = item.get("VersionId") or "null"
            rows.append([name, item["Key"], vid if len(vid) <= 12 else vid[:12] + "…",
                         "yes" if item.get("IsLatest") else "", "yes" if marker else ""])
    return rows

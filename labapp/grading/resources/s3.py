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


def _safe(call, default="—"):
    from botocore.exceptions import ClientError

    try:
        return call()
    except ClientError:
        return default


@lister("s3.bucket_settings", "S3 bucket settings",
        ["Name", "Encryption", "Policy", "Website", "CORS", "Logging", "Tags"])
def s3_bucket_settings(client):
    s3 = client("s3")
    rows = []
    for bucket in s3.list_buckets().get("Buckets", [])[:MAX_ITEMS]:
        n = bucket["Name"]
        enc = _safe(lambda: s3.get_bucket_encryption(Bucket=n)["ServerSideEncryptionConfiguration"]["Rules"][0]
                    ["ApplyServerSideEncryptionByDefault"])
        enc_text = enc if isinstance(enc, str) else enc.get("SSEAlgorithm", "") + (
            f" ({enc['KMSMasterKeyID'].rsplit('/', 1)[-1][:12]})" if enc.get("KMSMasterKeyID") else "")
        policy = "yes" if _safe(lambda: s3.get_bucket_policy(Bucket=n), None) else "—"
        site = _safe(lambda: s3.get_bucket_website(Bucket=n).get("IndexDocument", {}).get("Suffix", "redirect"))
        cors = _safe(lambda: str(len(s3.get_bucket_cors(Bucket=n)["CORSRules"])) + " rule(s)")
        log = (s3.get_bucket_logging(Bucket=n).get("LoggingEnabled") or {})
        tags = _safe(lambda: ", ".join(f"{t['Key']}={t['Value']}" for t in s3.get_bucket_tagging(Bucket=n)["TagSet"]))
        rows.append([n, enc_text, policy, site, cors,
                     f"{log['TargetBucket']}/{log.get('TargetPrefix', '')}" if log else "—", tags or "—"])
    return rows


@lister("s3.bucket_data_management", "S3 replication, lifecycle and events",
        ["Name", "Versioning", "Replication", "Lifecycle rules", "Event notifications"])
def s3_bucket_data_management(client):
    s3 = client("s3")
    rows = []
    for bucket in s3.list_buckets().get("Buckets", [])[:MAX_ITEMS]:
        n = bucket["Name"]
        versioning = s3.get_bucket_versioning(Bucket=n).get("Status") or "never enabled"
        repl = _safe(lambda: ", ".join(
            r["Destination"]["Bucket"].rsplit(":", 1)[-1] + f" ({r.get('Status')})"
            for r in s3.get_bucket_replication(Bucket=n)["ReplicationConfiguration"]["Rules"]))
        life = _safe(lambda: ", ".join(f"{r.get('ID') or 'rule'} ({r.get('Status')})"
                                       for r in s3.get_bucket_lifecycle_configuration(Bucket=n)["Rules"]))
        notes = s3.get_bucket_notification_configuration(Bucket=n)
        events = [q["QueueArn"].rsplit(":", 1)[-1] for q in notes.get("QueueConfigurations", [])]
        events += [t["TopicArn"].rsplit(":", 1)[-1] for t in notes.get("TopicConfigurations", [])]
        rows.append([n, versioning, repl or "—", life or "—", ", ".join(events) or "—"])
    return rows


@lister("s3.objects", "S3 objects", ["Bucket", "Key", "Size", "Storage class"])
def s3_objects(client):
    s3 = client("s3")
    rows = []
    for bucket in s3.list_buckets().get("Buckets", [])[:MAX_ITEMS]:
        for o in s3.list_objects_v2(Bucket=bucket["Name"], MaxKeys=50).get("Contents", []):
            rows.append([bucket["Name"], o["Key"], str(o["Size"]), o.get("StorageClass", "STANDARD")])
    return rows

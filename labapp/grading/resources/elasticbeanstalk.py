"""Live-panel listers for Elastic Beanstalk."""

from . import MAX_ITEMS, join, lister


@lister("elasticbeanstalk.applications", "Beanstalk applications", ["Application", "Versions", "Lifecycle policy"])
def applications(client):
    rows = []
    for app in (client("elasticbeanstalk").describe_applications().get("Applications") or [])[:MAX_ITEMS]:
        lifecycle = (app.get("ResourceLifecycleConfig") or {}).get("VersionLifecycleConfig") or {}
        rules = []
        count, age = lifecycle.get("MaxCountRule") or {}, lifecycle.get("MaxAgeRule") or {}
        if count.get("Enabled"):
            rules.append(f"keep {count.get('MaxCount')} versions" + (", delete bundles" if count.get("DeleteSourceFromS3") else ""))
        if age.get("Enabled"):
            rules.append(f"keep {age.get('MaxAgeInDays')} days" + (", delete bundles" if age.get("DeleteSourceFromS3") else ""))
        rows.append([app["ApplicationName"], join(app.get("Versions") or []), join(rules) if rules else "off"])
    return rows


@lister("elasticbeanstalk.application_versions", "Application versions", ["Application", "Label", "Source bundle", "Created"])
def application_versions(client):
    versions = client("elasticbeanstalk").describe_application_versions().get("ApplicationVersions") or []
    return [[v["ApplicationName"], v["VersionLabel"],
             f"s3://{(v.get('SourceBundle') or {}).get('S3Bucket', '')}/{(v.get('SourceBundle') or {}).get('S3Key', '')}"
             if v.get("SourceBundle") else "—", v["DateCreated"].strftime("%H:%M:%S")] for v in versions[:MAX_ITEMS]]


@lister("elasticbeanstalk.environments", "Beanstalk environments",
        ["Environment", "Application", "Version", "Platform", "Status", "CNAME"])
def environments(client):
    envs = client("elasticbeanstalk").describe_environments().get("Environments") or []
    return [[e["EnvironmentName"], e["ApplicationName"], e.get("VersionLabel", "—"), e.get("SolutionStackName", ""),
             e.get("Status", ""), e.get("CNAME", "")] for e in envs[:MAX_ITEMS]]

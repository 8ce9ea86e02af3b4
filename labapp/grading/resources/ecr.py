"""Live-panel listers for ECR."""

from . import MAX_ITEMS, join, lister


@lister("ecr.repositories", "ECR repositories", ["Name", "Scan on push", "Tags", "Lifecycle policy", "Image tags"])
def repositories(client):
    ecr = client("ecr")
    rows = []
    for repo in (ecr.describe_repositories().get("repositories") or [])[:MAX_ITEMS]:
        name = repo["repositoryName"]
        try:
            ecr.get_lifecycle_policy(repositoryName=name)
            lifecycle = "yes"
        except ecr.exceptions.LifecyclePolicyNotFoundException:
            lifecycle = "none"
        tags = sorted({i["imageTag"] for i in ecr.list_images(repositoryName=name).get("imageIds") or []
                       if i.get("imageTag")})
        rows.append([name, "on" if (repo.get("imageScanningConfiguration") or {}).get("scanOnPush") else "off",
                     repo.get("imageTagMutability", ""), lifecycle, join(tags)])
    return rows

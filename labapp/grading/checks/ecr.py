"""ECR check kinds: repository settings (scan on push, tag immutability), lifecycle policy rules, images."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from . import Check, CheckFailed, failed, passed, register, schema, string

REPO = string("repository name (usually {{ repo }})")


def repository(ctx, name: str) -> dict:
    try:
        return ctx.client("ecr").describe_repositories(repositoryNames=[name])["repositories"][0]
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "RepositoryNotFoundException":
            raise CheckFailed(f"repository {name} does not exist") from err
        raise


@register("ecr.repository")
class Repository(Check):
    description = "The repository exists, optionally with scan on push and a tag mutability setting."
    params_schema = schema(
        {"name": REPO, "scan_on_push": {"type": "boolean"},
         "tag_mutability": {"enum": ["MUTABLE", "IMMUTABLE"]}},
        ["name"],
    )

    def run(self, ctx, *, name, scan_on_push=None, tag_mutability=None):
        repo = repository(ctx, name)
        scanning = bool((repo.get("imageScanningConfiguration") or {}).get("scanOnPush"))
        if scan_on_push is not None and scanning != scan_on_push:
            return failed(f"scan on push is {'on' if scanning else 'off'} for {name} — turn it "
                          f"{'on' if scan_on_push else 'off'}")
        mutability = repo.get("imageTagMutability")
        if tag_mutability and mutability != tag_mutability:
            if tag_mutability == "IMMUTABLE":
                return failed(f"tags in {name} are {mutability}: pushing v1.0.0 again would silently replace the "
                              "image — make tags IMMUTABLE")
            return failed(f"tags in {name} are {mutability}, not {tag_mutability}")
        said = [f"scan on push {'on' if scanning else 'off'}"] if scan_on_push is not None else []
        said += [f"tags {mutability}"] if tag_mutability else []
        return passed(f"repository {name} exists" + (f" ({', '.join(said)})" if said else ""))


@register("ecr.lifecycle_rule")
class LifecycleRule(Check):
    description = "The repository's lifecycle policy has an expire rule with this selection."
    params_schema = schema(
        {"name": REPO,
         "tag_status": {"enum": ["untagged", "tagged", "any"]},
         "count_type": {"enum": ["imageCountMoreThan", "sinceImagePushed"]},
         "count_number": {"type": "integer", "minimum": 1},
         "tag_prefix": string("a tagPrefixList entry the rule must have (tagged rules)")},
        ["name", "tag_status", "count_type", "count_number"],
    )

    def run(self, ctx, *, name, tag_status, count_type, count_number, tag_prefix=None):
        repository(ctx, name)
        try:
            text = ctx.client("ecr").get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "LifecyclePolicyNotFoundException":
                return failed(f"repository {name} has no lifecycle policy")
            raise
        rules = json.loads(text).get("rules") or []
        want = {"untagged": "untagged images", "tagged": "tagged images", "any": "all images"}[tag_status]
        what = (f"more than {count_number} images" if count_type == "imageCountMoreThan"
                else f"older than {count_number} days")
        same_status = [r for r in rules if (r.get("selection") or {}).get("tagStatus") == tag_status]
        if not same_status:
            return failed(f"no rule of {name}'s lifecycle policy selects {want} (tagStatus {tag_status})")
        for rule in same_status:
            sel = rule.get("selection") or {}
            if (rule.get("action") or {}).get("type") != "expire":
                continue
            if sel.get("countType") != count_type or int(sel.get("countNumber") or 0) != count_number:
                continue
            if count_type == "sinceImagePushed" and sel.get("countUnit", "days") != "days":
                continue
            if tag_prefix and tag_prefix not in (sel.get("tagPrefixList") or []):
                return failed(f"the rule for {want} does not limit itself to tags starting with {tag_prefix}")
            return passed(f"{name} expires {want} {what} (rule priority {rule.get('rulePriority')})")
        got = "; ".join(
            f"{(r.get('selection') or {}).get('countType')} {(r.get('selection') or {}).get('countNumber')}"
            for r in same_status)
        return failed(f"the lifecycle rule for {want} should expire {what} (countType {count_type}, countNumber "
                      f"{count_number}); found: {got}")


@register("ecr.image_tag")
class ImageTag(Check):
    description = "An image with this tag exists in the repository."
    params_schema = schema({"name": REPO, "tag": string("image tag, e.g. v1.0.0")}, ["name", "tag"])

    def run(self, ctx, *, name, tag):
        repository(ctx, name)
        images = ctx.client("ecr").list_images(repositoryName=name).get("imageIds") or []
        tags = sorted({i["imageTag"] for i in images if i.get("imageTag")})
        if tag in tags:
            return passed(f"{name}:{tag} exists")
        return failed(f"{name} has no image tagged {tag}" + (f" (tags: {', '.join(tags)})" if tags else " (it is empty)"))

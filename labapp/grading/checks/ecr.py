"""ECR check kinds: repository settings (scan on push, tag immutability), lifecycle policy rules, images."""

from __future__ import annotations

import json
import re

from botocore.exceptions import ClientError

from . import Check, CheckFailed, failed, passed, register, schema, string

REPO = string("repository name (usually {{ repo }})")


def wildcard_match(text: str, pattern: str) -> bool:
    """ECR filters and tag patterns know one wildcard, `*` (any characters, including none)."""
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), text) is not None


def tag_is_immutable(repo: dict, tag: str) -> bool:
    mode = repo.get("imageTagMutability") or "MUTABLE"
    excluded = any(wildcard_match(tag, f.get("filter", ""))
                   for f in repo.get("imageTagMutabilityExclusionFilters") or [])
    return {"IMMUTABLE": True, "MUTABLE": False, "IMMUTABLE_WITH_EXCLUSION": not excluded,
            "MUTABLE_WITH_EXCLUSION": excluded}.get(mode, False)


def scans_on_push(ctx, repo: dict) -> bool:
    """Scan on push is on for the repository itself, or a registry scanning rule (basic or enhanced) that
    matches its name scans on push (enhanced scanning ignores the repository's own setting)."""
    config = ctx.client("ecr").get_registry_scanning_configuration().get("scanningConfiguration") or {}
    enhanced = config.get("scanType") == "ENHANCED"
    frequencies = {"SCAN_ON_PUSH", "CONTINUOUS_SCAN"} if enhanced else {"SCAN_ON_PUSH"}
    for rule in config.get("rules") or []:
        if rule.get("scanFrequency") in frequencies and any(
                wildcard_match(repo["repositoryName"], f.get("filter", ""))
                for f in rule.get("repositoryFilters") or []):
            return True
    return not enhanced and bool((repo.get("imageScanningConfiguration") or {}).get("scanOnPush"))


def repository(ctx, name: str) -> dict:
    try:
        return ctx.client("ecr").describe_repositories(repositoryNames=[name])["repositories"][0]
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "RepositoryNotFoundException":
            raise CheckFailed(f"repository {name} does not exist") from err
        raise


@register("ecr.repository")
class Repository(Check):
    description = ("The repository exists, optionally scanning on push (its own setting or a registry rule), with a "
                   "tag mutability setting, or with given tags immutable (exclusion filters taken into account).")
    params_schema = schema(
        {"name": REPO, "scan_on_push": {"type": "boolean"},
         "tag_mutability": {"enum": ["MUTABLE", "IMMUTABLE"]},
         "immutable_tags": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                            "description": "sample tags that must be immutable"}},
        ["name"],
    )

    def run(self, ctx, *, name, scan_on_push=None, tag_mutability=None, immutable_tags=None):
        repo = repository(ctx, name)
        scanning = scans_on_push(ctx, repo) if scan_on_push is not None else None
        if scan_on_push is not None and scanning != scan_on_push:
            return failed(f"scan on push is {'on' if scanning else 'off'} for {name} — turn it "
                          f"{'on' if scan_on_push else 'off'}")
        mutability = repo.get("imageTagMutability")
        if tag_mutability and mutability != tag_mutability:
            if tag_mutability == "IMMUTABLE":
                return failed(f"tags in {name} are {mutability}: pushing v1.0.0 again would silently replace the "
                              "image — make tags IMMUTABLE")
            return failed(f"tags in {name} are {mutability}, not {tag_mutability}")
        mutable = [t for t in immutable_tags or [] if not tag_is_immutable(repo, t)]
        if mutable:
            how = (f"{mutability} with exclusion filters "
                   f"{[f.get('filter') for f in repo.get('imageTagMutabilityExclusionFilters') or []]}"
                   if "EXCLUSION" in str(mutability) else mutability)
            return failed(f"tags in {name} are {how}: {', '.join(mutable)} could be pushed again and silently replace "
                          "the image — make release tags immutable")
        said = [f"scan on push {'on' if scanning else 'off'}"] if scan_on_push is not None else []
        said += [f"tags {mutability}"] if tag_mutability or immutable_tags else []
        return passed(f"repository {name} exists" + (f" ({', '.join(said)})" if said else ""))


def selects(selection: dict, tags: list[str]) -> bool:
    """Does a lifecycle rule's selection take an image with these tags ([] = untagged)? As ECR evaluates it:
    every entry of tagPatternList (wildcard *) or tagPrefixList must match one of the image's tags."""
    status = selection.get("tagStatus")
    if status == "any":
        return True
    if status == "untagged":
        return not tags
    if status != "tagged" or not tags:
        return False
    patterns = selection.get("tagPatternList")
    if patterns:
        return all(any(wildcard_match(tag, pattern) for tag in tags) for pattern in patterns)
    prefixes = selection.get("tagPrefixList")
    if prefixes:
        return all(any(tag.startswith(prefix) for tag in tags) for prefix in prefixes)
    return True


def governing_rule(rules: list[dict], tags: list[str]) -> dict | None:
    """The rule that decides an image's fate: the one with the lowest rulePriority that selects it (an image
    selected by a rule is never expired by a lower-priority one)."""
    ordered = sorted(rules, key=lambda r: int(r.get("rulePriority") or 0))
    return next((r for r in ordered if selects(r.get("selection") or {}, tags)), None)


def describe_rule(rule: dict) -> str:
    sel = rule.get("selection") or {}
    what = (f"keeps the newest {sel.get('countNumber')}" if sel.get("countType") == "imageCountMoreThan"
            else f"expires them {sel.get('countNumber')} {sel.get('countUnit', 'days')} after push")
    if (rule.get("action") or {}).get("type") != "expire":
        what = f"does '{(rule.get('action') or {}).get('type')}', not expire"
    filters = sel.get("tagPatternList") or sel.get("tagPrefixList")
    return (f"rule priority {rule.get('rulePriority')} (tagStatus {sel.get('tagStatus')}"
            + (f" {filters}" if filters else "") + f"), which {what}")


@register("ecr.lifecycle_rule")
class LifecycleRule(Check):
    description = ("Judged by what the policy does: the images of the class (untagged, tagged with the prefix, ...) "
                   "are governed (first matching rule by rulePriority) by an expire rule with this count, and that "
                   "rule takes no images outside the class.")
    params_schema = schema(
        {"name": REPO,
         "tag_status": {"enum": ["untagged", "tagged", "any"]},
         "count_type": {"enum": ["imageCountMoreThan", "sinceImagePushed"]},
         "count_number": {"type": "integer", "minimum": 1},
         "tag_prefix": string("the images are those with a tag starting with this (tagged rules)")},
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
        other = "zz-other" if tag_prefix and "latest".startswith(tag_prefix) else "latest"
        # Several members of the class, so a rule for part of it (tagPrefixList ["v1"] when releases are all
        # tags starting with v) does not pass for the whole class.
        samples, want = {
            "untagged": ([[]], "untagged images"),
            "tagged": ([[f"{tag_prefix}1.0.0"], [f"{tag_prefix}2.3.4"]] if tag_prefix else [["latest"]],
                       f"images tagged {tag_prefix}…" if tag_prefix else "tagged images"),
            "any": ([["latest"]], "all images"),
        }[tag_status]
        outsiders = {"untagged": [[other]], "tagged": [[]] + ([[other]] if tag_prefix else []), "any": []}[tag_status]
        what = (f"keep only the newest {count_number}" if count_type == "imageCountMoreThan"
                else f"expire them {count_number} days after push")
        deciding = []
        for sample in samples:
            rule = governing_rule(rules, sample)
            if rule is None:
                example = f" such as {sample[0]}" if sample and len(samples) > 1 else ""
                return failed(f"no rule of {name}'s lifecycle policy selects {want}{example}"
                              + (f" (tagStatus {tag_status}" + (f", tagPrefixList [{tag_prefix}])" if tag_prefix
                                                                else ")")))
            sel = rule.get("selection") or {}
            right = ((rule.get("action") or {}).get("type") == "expire" and sel.get("countType") == count_type
                     and int(sel.get("countNumber") or 0) == count_number
                     and (count_type != "sinceImagePushed" or sel.get("countUnit", "days") == "days"))
            if not right:
                return failed(f"{want} are decided by {describe_rule(rule)} — they should {what} (countType "
                              f"{count_type}, countNumber {count_number}); a lower rulePriority is applied first")
            deciding.append(rule)
        rule = deciding[0]
        for tags in outsiders:
            # Only images this rule really decides count: a higher-priority rule may already take the others.
            if any(governing_rule(rules, tags) is r for r in deciding):
                label = f"tagged images such as {tags[0]}" if tags else "untagged images"
                return failed(f"the rule that decides {want} ({describe_rule(rule)}) also takes {label} — select "
                              f"only {want}")
        return passed(f"{name}'s lifecycle policy makes {want} {what} (rule priority {rule.get('rulePriority')})")


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

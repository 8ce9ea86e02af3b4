import json

from labapp.grading.grader import run_check


def check(sb, kind, **args):
    return run_check({"kind": kind, **args}, {}, sb.ctx())


MANIFEST = json.dumps({
    "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023,
               "digest": "sha256:" + "a" * 64},
    "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 32654,
                "digest": "sha256:" + "b" * 64}],
})


def test_repository(sandbox):
    out = check(sandbox, "ecr.repository", name="web", scan_on_push=True)
    assert not out.passed and out.feedback == "repository web does not exist"
    ecr = sandbox.client("ecr")
    ecr.create_repository(repositoryName="web")
    out = check(sandbox, "ecr.repository", name="web", scan_on_push=True)
    assert not out.passed and out.feedback == "scan on push is off for web — turn it on"
    out = check(sandbox, "ecr.repository", name="web", tag_mutability="IMMUTABLE")
    assert not out.passed and "tags in web are MUTABLE" in out.feedback
    ecr.put_image_scanning_configuration(repositoryName="web", imageScanningConfiguration={"scanOnPush": True})
    ecr.put_image_tag_mutability(repositoryName="web", imageTagMutability="IMMUTABLE")
    out = check(sandbox, "ecr.repository", name="web", scan_on_push=True, tag_mutability="IMMUTABLE")
    assert out.passed and out.feedback == "repository web exists (scan on push on, tags IMMUTABLE)"


def test_lifecycle_rule(sandbox):
    ecr = sandbox.client("ecr")
    ecr.create_repository(repositoryName="web")
    args = {"name": "web", "tag_status": "untagged", "count_type": "sinceImagePushed", "count_number": 14}
    out = check(sandbox, "ecr.lifecycle_rule", **args)
    assert not out.passed and out.feedback == "repository web has no lifecycle policy"

    def put(*rules):
        ecr.put_lifecycle_policy(repositoryName="web", lifecyclePolicyText=json.dumps({"rules": [
            {"rulePriority": i + 1, "selection": sel, "action": {"type": "expire"}} for i, sel in enumerate(rules)]}))

    put({"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 10})
    out = check(sandbox, "ecr.lifecycle_rule", **args)
    assert not out.passed and "no rule of web's lifecycle policy selects untagged images" in out.feedback
    put({"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 30})
    out = check(sandbox, "ecr.lifecycle_rule", **args)
    assert not out.passed and out.feedback == (
        "untagged images are decided by rule priority 1 (tagStatus untagged), which expires them 30 days after push "
        "— they should expire them 14 days after push (countType sinceImagePushed, countNumber 14); a lower "
        "rulePriority is applied first")
    put({"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14},
        {"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 10})
    assert check(sandbox, "ecr.lifecycle_rule", **args).passed
    out = check(sandbox, "ecr.lifecycle_rule", name="web", tag_status="tagged", count_type="imageCountMoreThan",
                count_number=10, tag_prefix="v")
    assert out.passed and out.feedback == ("web's lifecycle policy makes images tagged v… keep only the newest 10 "
                                           "(rule priority 2)")


def put_rules(sb, *rules):
    sb.client("ecr").put_lifecycle_policy(repositoryName="web", lifecyclePolicyText=json.dumps({"rules": [
        {"rulePriority": priority, "selection": sel, "action": {"type": "expire"}} for priority, sel in rules]}))


UNTAGGED = {"name": "web", "tag_status": "untagged", "count_type": "sinceImagePushed", "count_number": 14}
RELEASES = {"name": "web", "tag_status": "tagged", "count_type": "imageCountMoreThan", "count_number": 20,
            "tag_prefix": "v"}
UNTAGGED_14 = {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14}
RELEASES_20 = {"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 20}


def test_a_higher_priority_rule_shadows_the_release_rule(sandbox):
    sandbox.client("ecr").create_repository(repositoryName="web")
    put_rules(sandbox, (1, UNTAGGED_14),
              (2, {"tagStatus": "tagged", "tagPrefixList": ["v1"], "countType": "sinceImagePushed", "countUnit": "days",
                   "countNumber": 1}),
              (3, RELEASES_20))
    out = check(sandbox, "ecr.lifecycle_rule", **RELEASES)
    assert not out.passed and out.feedback.startswith(
        "images tagged v… are decided by rule priority 2 (tagStatus tagged ['v1']), which expires them 1 days after push")
    assert check(sandbox, "ecr.lifecycle_rule", **UNTAGGED).passed


def test_a_rule_for_all_images_is_not_an_untagged_or_release_rule(sandbox):
    sandbox.client("ecr").create_repository(repositoryName="web")
    put_rules(sandbox, (1, {"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days",
                            "countNumber": 14}))
    out = check(sandbox, "ecr.lifecycle_rule", **UNTAGGED)
    assert not out.passed and out.feedback.endswith("also takes tagged images such as latest — select only untagged images")
    put_rules(sandbox, (1, UNTAGGED_14), (2, {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 20}))
    out = check(sandbox, "ecr.lifecycle_rule", **RELEASES)
    assert not out.passed and "also takes tagged images such as latest" in out.feedback


def test_a_release_rule_for_only_some_v_tags_fails(sandbox):
    # tagPrefixList ["v1"] keeps 20 of the v1.x images; v2.3.4 and later are never cleaned up.
    sandbox.client("ecr").create_repository(repositoryName="web")
    put_rules(sandbox, (1, UNTAGGED_14), (2, {**RELEASES_20, "tagPrefixList": ["v1"]}))
    out = check(sandbox, "ecr.lifecycle_rule", **RELEASES)
    assert not out.passed and out.feedback.startswith(
        "no rule of web's lifecycle policy selects images tagged v… such as v2.3.4")
    put_rules(sandbox, (1, UNTAGGED_14), (2, {**RELEASES_20, "tagPrefixList": ["v1"]}),
              (3, {**RELEASES_20, "tagPrefixList": ["v"], "countNumber": 5}))
    out = check(sandbox, "ecr.lifecycle_rule", **RELEASES)
    assert not out.passed and "images tagged v… are decided by rule priority 3" in out.feedback
    # A semantic-version pattern takes every release tag.
    semver = {"tagStatus": "tagged", "tagPatternList": ["v*.*.*"], "countType": "imageCountMoreThan", "countNumber": 20}
    put_rules(sandbox, (1, UNTAGGED_14), (2, semver))
    assert check(sandbox, "ecr.lifecycle_rule", **RELEASES).passed


def test_equivalent_policies_written_differently_pass(sandbox):
    sandbox.client("ecr").create_repository(repositoryName="web")
    # Release rule first, a tag pattern instead of a prefix, priorities with gaps, listed out of order.
    put_rules(sandbox, (30, UNTAGGED_14),
              (10, {"tagStatus": "tagged", "tagPatternList": ["v*"], "countType": "imageCountMoreThan",
                    "countNumber": 20}))
    assert check(sandbox, "ecr.lifecycle_rule", **UNTAGGED).passed
    assert check(sandbox, "ecr.lifecycle_rule", **RELEASES).passed


def test_release_tags_immutable_with_exclusions_and_registry_scanning(sandbox):
    ecr = sandbox.client("ecr")
    ecr.create_repository(repositoryName="shop/web")
    args = {"name": "shop/web", "scan_on_push": True, "immutable_tags": ["v1.0.0", "v2.3.4"]}
    ecr.put_registry_scanning_configuration(scanType="BASIC", rules=[
        {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "shop/*", "filterType": "WILDCARD"}]}])
    ecr.put_image_tag_mutability(repositoryName="shop/web", imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
                                 imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "latest"}])
    out = check(sandbox, "ecr.repository", **args)
    assert out.passed, out.feedback
    ecr.put_image_tag_mutability(repositoryName="shop/web", imageTagMutability="MUTABLE_WITH_EXCLUSION",
                                 imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "v1*"}])
    out = check(sandbox, "ecr.repository", **args)
    assert not out.passed and "v2.3.4 could be pushed again" in out.feedback
    ecr.put_registry_scanning_configuration(scanType="BASIC", rules=[
        {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "other/*", "filterType": "WILDCARD"}]}])
    out = check(sandbox, "ecr.repository", name="shop/web", scan_on_push=True)
    assert not out.passed and out.feedback == "scan on push is off for shop/web — turn it on"


def test_image_tag(sandbox):
    ecr = sandbox.client("ecr")
    ecr.create_repository(repositoryName="web")
    out = check(sandbox, "ecr.image_tag", name="web", tag="v1.0.0")
    assert not out.passed and out.feedback == "web has no image tagged v1.0.0 (it is empty)"
    ecr.put_image(repositoryName="web", imageManifest=MANIFEST, imageTag="latest")
    out = check(sandbox, "ecr.image_tag", name="web", tag="v1.0.0")
    assert not out.passed and out.feedback == "web has no image tagged v1.0.0 (tags: latest)"
    ecr.put_image(repositoryName="web", imageManifest=MANIFEST, imageTag="v1.0.0")
    assert check(sandbox, "ecr.image_tag", name="web", tag="v1.0.0").passed

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

    put({"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10})
    out = check(sandbox, "ecr.lifecycle_rule", **args)
    assert not out.passed and "no rule of web's lifecycle policy selects untagged images" in out.feedback
    put({"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 30})
    out = check(sandbox, "ecr.lifecycle_rule", **args)
    assert not out.passed and "should expire older than 14 days" in out.feedback and "found: sinceImagePushed 30" in out.feedback
    put({"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14},
        {"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 10})
    assert check(sandbox, "ecr.lifecycle_rule", **args).passed
    out = check(sandbox, "ecr.lifecycle_rule", name="web", tag_status="tagged", count_type="imageCountMoreThan",
                count_number=10, tag_prefix="v")
    assert out.passed and out.feedback == "web expires tagged images more than 10 images (rule priority 2)"


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

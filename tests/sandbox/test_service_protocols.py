"""Every service a lab uses answers both botocores a learner meets: boto3's (the newest we install) and the
AWS CLI v1's own vendored copy, which can speak an older protocol for the same service (Athena: rest-json
in boto3's botocore 1.44, JSON in the CLI's). A protocol change in either breaks labs silently otherwise."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.sandbox.helpers import make_sandbox

pytestmark = [pytest.mark.stack, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
AWS_CLI = str(ROOT / ".venv" / "bin" / "aws")
# One read-only call per service, with no required parameters.
READ_CALL = {
    "acm": "list_certificates",
    "athena": "list_work_groups",
    "autoscaling": "describe_auto_scaling_groups",
    "cloudfront": "list_distributions",
    "dynamodb": "list_tables",
    "ec2": "describe_vpcs",
    "ecr": "describe_repositories",
    "ecs": "list_clusters",
    "efs": "describe_file_systems",
    "elasticache": "describe_cache_clusters",
    "elasticbeanstalk": "describe_applications",
    "elbv2": "describe_load_balancers",
    "glue": "get_databases",
    "iam": "list_users",
    "kms": "list_keys",
    "rds": "describe_db_instances",
    "route53": "list_hosted_zones",
    "s3": "list_buckets",
    "sqs": "list_queues",
    "sts": "get_caller_identity",
}

CLI_COMMAND = {"s3": "s3api"}  # `aws s3` is the CLI's own high-level command


def services_labs_use() -> list[str]:
    services = set()
    for path in (ROOT / "courses").glob("*/*/labs/*.yaml"):
        services.update(yaml.safe_load(path.read_text())["services"])
    return sorted(services)


def test_every_lab_service_has_a_read_call():
    assert set(services_labs_use()) <= set(READ_CALL), "add a read call for the new service"


@pytest.mark.parametrize("service", services_labs_use())
def test_service_answers_boto3_and_the_aws_cli(sandbox_stack, service):
    box = make_sandbox(sandbox_stack.url)
    method = READ_CALL[service]
    getattr(box.client(service), method)()  # raises on any error answer

    result = subprocess.run(
        [AWS_CLI, "--endpoint-url", box.gateway_url, "--output", "json", CLI_COMMAND.get(service, service),
         method.replace("_", "-")],
        env=box.cli_env({k: v for k, v in os.environ.items() if not k.startswith("AWS_")}),
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, f"aws {service} {method}: {result.stderr}"
    assert isinstance(json.loads(result.stdout or "{}"), dict)

"""A real moto server over HTTP for the check-kind tests, one per test session.

Each test gets a fresh emulated account (boto3 clients send `x-moto-account-id`, as the gateway does),
so tests are isolated from each other without resetting the server.

AWS-managed policies: the emulator (labapp/sandbox/moto_patches.py) makes a curated few exist in every
account. This server does the same for AdministratorAccess and ReadOnlyAccess only, by replacing moto's
`IAMBackend._init_aws_policies` before any IAM backend is created.
"""

import itertools
import json
import os

os.environ["MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS"] = "false"
os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
os.environ.pop("MOTO_ACCOUNT_ID", None)
for _name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
    os.environ.pop(_name, None)

import boto3  # noqa: E402
import pytest  # noqa: E402
from botocore.config import Config  # noqa: E402

from labapp.grading.checks import CheckContext  # noqa: E402

TEST_MANAGED_POLICIES = ("AdministratorAccess", "ReadOnlyAccess")
REGION = "us-east-1"
_accounts = itertools.count(100000000001)


def _patch_managed_policies():
    from moto.iam import models as iam_models
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data = json.loads(aws_managed_policies_data)
    curated = {name: data[name] for name in TEST_MANAGED_POLICIES}

    def _init_aws_policies(self):
        return [iam_models.AWSManagedPolicy.from_data(n, self.account_id, self.region_name, d)
                for n, d in curated.items()]

    iam_models.IAMBackend._init_aws_policies = _init_aws_policies


@pytest.fixture(scope="session")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    from labapp.sandbox.extensions import apply_all

    _patch_managed_policies()
    apply_all()  # the emulator's extensions (Elastic Beanstalk, CloudFront OAC, ...), as in production
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


class Sandbox:
    """A fresh account on the test server: `client(service)`, `ctx(journal=...)`."""

    def __init__(self, endpoint: str, account_id: str):
        self.endpoint = endpoint
        self.account_id = account_id
        self._clients = {}

    def client(self, service: str):
        if service not in self._clients:
            client = boto3.session.Session().client(
                service, region_name=REGION, endpoint_url=self.endpoint,
                aws_access_key_id="AKIATESTTESTTEST", aws_secret_access_key="secret",
                config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
            )
            account = self.account_id

            def add_header(request, **_):
                request.headers["x-moto-account-id"] = account

            client.meta.events.register("before-send", add_header)
            self._clients[service] = client
        return self._clients[service]

    def ctx(self, journal=None, params=None) -> CheckContext:
        return CheckContext(params=params or {}, client_factory=self.client, journal=journal or [])


@pytest.fixture
def sandbox(moto_endpoint) -> Sandbox:
    return Sandbox(moto_endpoint, str(next(_accounts)))

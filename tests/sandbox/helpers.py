"""Test helpers: sandbox rows made with the ORM, learner boto3 clients, raw signed requests."""

from __future__ import annotations

import http.client
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import boto3
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from labapp.sandbox.credentials import new_access_key_id, new_account_id, new_secret

LEARNER_CONFIG = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})


@dataclass
class Sandbox:
    session: object  # labs.LabSession
    gateway_url: str

    @property
    def account_id(self) -> str:
        return self.session.account_id

    @property
    def key(self) -> str:
        return self.session.access_key_id

    @property
    def secret(self) -> str:
        return self.session.secret_access_key

    def client(self, service: str, region: str = "us-east-1", secret: str | None = None, key: str | None = None, **config):
        return boto3.client(
            service,
            endpoint_url=self.gateway_url,
            aws_access_key_id=key or self.key,
            aws_secret_access_key=secret or self.secret,
            region_name=region,
            config=LEARNER_CONFIG.merge(Config(**config)) if config else LEARNER_CONFIG,
        )

    def cli_env(self, base: dict) -> dict:
        return {
            **base,
            "AWS_ACCESS_KEY_ID": self.key,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }


def make_sandbox(gateway_url: str, *, status: str = "ready", username: str | None = None) -> Sandbox:
    """A user, a (minimal) lab and a LabSession with fresh credentials, committed to the database."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from labapp.courses.models import Course, Lab, Module
    from labapp.labs.models import LabSession

    course, _ = Course.objects.get_or_create(slug="sandbox-tests", defaults={"uuid": uuid.uuid4(), "title": "T"})
    module, _ = Module.objects.get_or_create(course=course, slug="m", defaults={"uuid": uuid.uuid4(), "title": "M"})
    lab, _ = Lab.objects.get_or_create(
        slug="sandbox-test-lab",
        defaults={"uuid": uuid.uuid4(), "module": module, "title": "L", "definition": {"tasks": []}, "source_path": "-"},
    )
    user = get_user_model().objects.create(username=username or f"learner-{uuid.uuid4().hex[:10]}")
    session = LabSession.objects.create(
        user=user,
        lab=lab,
        status=status,
        account_id=new_account_id(),
        access_key_id=new_access_key_id(),
        secret_access_key=new_secret(),
        region="us-east-1",
        expires_at=timezone.now() + timedelta(hours=2),
    )
    return Sandbox(session, gateway_url)


def signed_request(
    gateway_url: str,
    *,
    key: str,
    secret: str,
    method: str,
    url: str,
    service: str,
    region: str = "us-east-1",
    headers: dict | None = None,
    body: bytes = b"",
    unsigned_headers: list[tuple[str, str]] | None = None,
    raw_path: str | None = None,
    sign: bool = True,
) -> tuple[int, bytes]:
    """Sign a request for `url` (its Host is kept, so virtual-hosted and admin hosts can be tried) and send
    it to the gateway. `unsigned_headers` are added after signing (forged headers); `raw_path` replaces the
    request target as sent (paths botocore would normalise)."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    if sign:
        signer = S3SigV4Auth if service == "s3" else SigV4Auth
        request.headers["X-Amz-Content-SHA256"] = __import__("hashlib").sha256(body).hexdigest()
        signer(Credentials(key, secret), service, region).add_auth(request)
    parts = urlsplit(url)
    target = raw_path or (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    gateway = urlsplit(gateway_url)
    conn = http.client.HTTPConnection(gateway.hostname, gateway.port, timeout=30)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", parts.netloc)
        for name, value in request.headers.items():
            if name.lower() != "host":
                conn.putheader(name, value)
        for name, value in unsigned_headers or []:
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()

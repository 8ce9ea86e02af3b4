"""What the gateway refuses before a request reaches the emulator.

moto keys most state by the `x-moto-account-id` header we set, but some code paths reach across accounts
by ARN or owner id, and its admin API (/moto-api) reaches every account. research/moto.md sections 2
and 6 list the probes behind each rule.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from urllib.parse import unquote

from .errors import Refusal, access_denied

FORBIDDEN_PATH_PREFIXES = ("/moto-api", "/_sandbox")  # moto routes any path *starting* with /moto-api
FORBIDDEN_PATHS = ("/favicon.ico",)  # moto serves it from its admin app
MOTO_ADMIN_HOST = "motoapi.amazonaws.com"  # moto matches this host by prefix, any port
# Services whose SigV4 scope is us-east-1 whatever the lab's regions are.
GLOBAL_SERVICES = frozenset({"iam", "sts", "route53", "cloudfront", "organizations", "s3", "waf", "budgets"})

_ARN = re.compile(r"arn:(aws[a-z-]*):([a-z0-9-]*):([a-z0-9-]*):([^:\s\"'<>&]*):", re.IGNORECASE)
_OWNER_PARAM = re.compile(r"(?:OwnerId|AccountId|AWSAccountId|AwsAccountId)$", re.IGNORECASE)
_TWELVE_DIGITS = re.compile(r"^\d{12}$")
_REGION_IN_HOST = re.compile(r"(?:^|[.-])([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d)(?:[.-]|$)")

STS_ASSUME_ACTIONS = frozenset({"AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"})
STS_REFUSED_ACTIONS = {
    "GetSessionToken": "GetSessionToken is not available in this lab: the emulator would return credentials "
    "shared by every learner. Use your sandbox credentials, or AssumeRole a role in your own account.",
    "GetFederationToken": "GetFederationToken is not available in this lab: the emulator would return "
    "credentials shared by every learner. Use your sandbox credentials, or AssumeRole a role in your account.",
    "GetAccessKeyInfo": "GetAccessKeyInfo is not available in this lab: it would reveal which sandbox a key "
    "belongs to.",
}
# S3 requests whose body is object data (not configuration), and so is not scanned for ARNs.
S3_DATA_QUERY_KEYS = frozenset({"x-id", "partNumber", "uploadId", "versionId"})


def normalised_path(raw_path: str) -> str:
    """The path as any layer below might understand it: fully percent-decoded (repeatedly, so %252F
    counts), backslashes as slashes, repeated slashes collapsed, dot segments resolved."""
    path = raw_path
    for _ in range(5):
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    path = path.replace("\\", "/")
    path = re.sub(r"/+", "/", "/" + path)
    normalised = posixpath.normpath(path)
    return normalised if normalised.startswith("/") else "/" + normalised


def check_path_and_host(raw_target: str, host: str) -> None:
    if not raw_target.startswith("/"):
        # Absolute-form targets ("GET http://motoapi.amazonaws.com/...") would replace the Host header.
        raise access_denied("Only origin-form request targets are accepted.")
    raw_path = raw_target.split("?", 1)[0]
    path = normalised_path(raw_path).lower()
    if path.startswith(FORBIDDEN_PATH_PREFIXES) or path in FORBIDDEN_PATHS:
        raise access_denied("The emulator's administration API is not available through the lab gateway.")
    # The raw path too: a server that treats "//x" as a host or keeps "%2F" could see it differently.
    if unquote(raw_path).lower().lstrip("/").startswith(("moto-api", "_sandbox")):
        raise access_denied("The emulator's administration API is not available through the lab gateway.")
    if host.strip().lower().startswith(MOTO_ADMIN_HOST):
        raise access_denied("The emulator's administration API is not available through the lab gateway.")


def check_region(region: str, service: str, host: str, allowed: list[str]) -> None:
    if region and region not in allowed and not (region == "us-east-1" and service in GLOBAL_SERVICES):
        raise Refusal(
            403,
            "UnrecognizedClientException" if service not in ("s3", "ec2") else "InvalidRequest",
            f"Region {region} is not available in this lab; use one of: {', '.join(allowed)}.",
        )
    # moto also takes the region from a regional Host name, which would bypass the scope check.
    for host_region in _REGION_IN_HOST.findall(host.lower()):
        if host_region not in allowed:
            raise Refusal(403, "InvalidRequest", f"Region {host_region} is not available in this lab.")


# --- cross-account references -----------------------------------------------------------------


def check_cross_account(account_id: str, service: str, named_strings: Iterable[tuple[str, str]],
                        session_accounts: Iterable[str] = ()) -> None:
    """Refuse any ARN naming another account, and any owner/account id parameter that is not ours. ARNs
    of the session's other accounts may be named (a trust policy naming the main account from the partner
    account): the emulator still serves the request in `account_id` only, and reads another account of
    the session only where the operation needs it (account_guard.reaching)."""
    ours = {account_id, *session_accounts}
    for name, value in named_strings:
        if "arn:" in value.lower():
            for match in _ARN.finditer(value):
                arn_account = match.group(4)
                if arn_account not in ("", "aws") and arn_account not in ours:
                    raise access_denied(
                        f"{match.group(0)}... names account {arn_account}; this sandbox can only use "
                        f"resources of its own account ({account_id})."
                    )
        if name and _TWELVE_DIGITS.match(value.strip()):
            base = re.sub(r"(\.member)?\.\d+$", "", name).rsplit(".", 1)[-1]
            if (_OWNER_PARAM.search(base) or (service == "ec2" and base == "UserId")) and value.strip() != account_id:
                raise access_denied(
                    f"{base}={value} names another account; this sandbox can only use its own account ({account_id})."
                )


def check_sts(account_id: str, action: str, params: dict[str, str], session_accounts: Iterable[str] = ()) -> None:
    if action in STS_REFUSED_ACTIONS:
        raise access_denied(STS_REFUSED_ACTIONS[action])
    if action in STS_ASSUME_ACTIONS:
        role_arn = params.get("RoleArn", "")
        match = _ARN.match(role_arn)
        if not match or (match.group(4) != account_id and match.group(4) not in set(session_accounts)):
            raise access_denied(
                f"Roles can only be assumed within your own sandbox account ({account_id}) or the other accounts "
                f"of your lab session; {role_arn!r} is not."
            )

"""Local fixes to moto 5.2.5 for a long-running, many-account server.

Import this module only in the emulator process, after `emulator.configure_moto_environment()` (moto
reads its settings at import time). `apply()` is idempotent. Each patch says why it exists; the
measurements behind them are in ../shared/research/moto.md, section 3.
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

# The AWS-managed policies labs may attach. moto can load all 1,582 of them
# (MOTO_IAM_LOAD_MANAGED_POLICIES), but that costs ~5 MB and ~78 ms for every account; these few cost
# next to nothing. Add a name here when a lab needs it.
CURATED_MANAGED_POLICIES = (
    "AdministratorAccess",
    "ReadOnlyAccess",
    "PowerUserAccess",
    "IAMUserChangePassword",
    "AmazonS3FullAccess",
    "AmazonS3ReadOnlyAccess",
    "AmazonEC2FullAccess",
    "AmazonEC2ReadOnlyAccess",
    "AmazonSSMManagedInstanceCore",
    "CloudWatchAgentServerPolicy",
)

_applied = False
_apply_lock = threading.Lock()


def apply() -> None:
    global _applied
    with _apply_lock:
        if _applied:
            return
        _fix_subnet_ip_iterator_leak()
        _fix_region_cache_pinning_accounts()
        _fix_emr_instance_type_cache_leak()
        _stop_global_instance_tracking()
        _load_curated_managed_policies()
        _sns_http_delivery_failure_is_not_a_publish_failure()
        from labapp.sandbox import s3_public_access

        s3_public_access.install()  # anonymous S3 reads decided as S3 does (moto's check leaks)
        from labapp.sandbox.extensions import apply_all as apply_extensions

        apply_extensions()  # APIs moto lacks (labapp/sandbox/extensions/)
        _applied = True


def _fix_subnet_ip_iterator_leak() -> None:
    """`Subnet._base_avail_ip_iterator` is `functools.cache`d on `self`: the cache is global and
    unbounded, so every Subnet ever made (and through it its EC2 backend and AMIs) stays in memory
    forever and a reset account frees nothing. Keep the iterator on the instance instead."""
    from moto.ec2.models.subnets import Subnet

    def _base_avail_ip_iterator(self):
        iterator = self.__dict__.get("_lab_ip_iterator")
        if iterator is None:
            iterator = self.__dict__["_lab_ip_iterator"] = self.cidr.hosts()
        return iterator

    Subnet._base_avail_ip_iterator = _base_avail_ip_iterator


@functools.lru_cache(maxsize=None)
def _regions_for_service(service_name: str) -> tuple[str, ...]:
    from moto.core.base_backend import AccountSpecificBackend

    session = AccountSpecificBackend.get_session()
    regions: list[str] = []
    for partition in session.get_available_partitions():
        regions.extend(session.get_available_regions(service_name, partition_name=partition))
    return tuple(regions)


def _fix_region_cache_pinning_accounts() -> None:
    """`AccountSpecificBackend._generate_regions` is `lru_cache`d on `self`, pinning up to 128 dropped
    accounts. The answer depends only on the service name, so cache on that."""
    from moto.core.base_backend import AccountSpecificBackend

    AccountSpecificBackend._generate_regions = lambda self, service_name: list(
        _regions_for_service(service_name)
    )


def _fix_emr_instance_type_cache_leak() -> None:
    """Same cache-on-self pattern as Subnet in the EMR backend: cache by release label only."""
    from moto.utilities.utils import load_resource
    from moto.emr.models import ElasticMapReduceBackend

    @functools.lru_cache(maxsize=64)
    def names(release_label: str):
        return load_resource(f"emr/resources/instance-types-{release_label}.json")

    ElasticMapReduceBackend._get_instance_type_names = lambda self, release_label: names(release_label)


def _stop_global_instance_tracking() -> None:
    """`BaseModel.__new__` appends every model instance ever created to a class-level list, so even
    deleted resources are never freed. Only `/moto-api/data.json` (blocked) and moto's whole-server S3
    reset (never used: it breaks other accounts) read those lists, so stop filling them."""
    from moto.core.common_models import BaseModel
    from moto.core.model_instances import reset_model_data

    def __new__(cls, *args: Any, **kwargs: Any):
        return object.__new__(cls)

    BaseModel.__new__ = __new__
    reset_model_data()


def _load_curated_managed_policies() -> None:
    """Make the curated AWS-managed policies exist in every account's IAM backend, parsed once.

    moto builds `aws_managed_policies` in `IAMBackend._init_aws_policies`, from one 10 MB JSON string,
    only when MOTO_IAM_LOAD_MANAGED_POLICIES is on. We parse it once at start-up, keep just our few,
    and give each new account its own policy objects (attachment counts are per account)."""
    from moto.iam import models as iam_models
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    every_policy = json.loads(aws_managed_policies_data)
    missing = [name for name in CURATED_MANAGED_POLICIES if name not in every_policy]
    if missing:
        raise RuntimeError(f"moto's managed-policy data lacks {missing}; update CURATED_MANAGED_POLICIES")
    curated = {name: every_policy[name] for name in CURATED_MANAGED_POLICIES}
    del every_policy

    def _init_aws_policies(self):
        return [
            iam_models.AWSManagedPolicy.from_data(name, self.account_id, self.region_name, data)
            for name, data in curated.items()
        ]

    iam_models.IAMBackend._init_aws_policies = _init_aws_policies


def _sns_http_delivery_failure_is_not_a_publish_failure() -> None:
    """moto delivers to http(s) subscriptions inline with `requests.post`; in our network namespace that
    always fails, and moto turns it into a 500 for Publish. On AWS delivery is asynchronous and a dead
    endpoint never fails Publish, so swallow the delivery error (the message simply goes nowhere).

    Before posting, moto signs the message with a key it stores in its default account (123456789012),
    a lookup the account guard would refuse (and so fail Publish). That account is never any learner's
    and no request can reach it, so the delivery runs unguarded."""
    import requests
    from moto.sns.models import Subscription

    from labapp.sandbox import account_guard

    original = Subscription.publish

    def publish(self, *args, **kwargs):
        if self.protocol not in ("http", "https"):
            return original(self, *args, **kwargs)
        try:
            with account_guard.unguarded():
                return original(self, *args, **kwargs)
        except requests.exceptions.RequestException:
            return None

    Subscription.publish = publish


# --- per-account operations (called by the emulator's admin routes) -----------------------------


def reset_account(account_id: str) -> None:
    """Forget everything one account holds, leaving every other account untouched.

    moto has no per-account reset, and its `reset()` on one account's S3 backend disposes every
    account's objects. This is the recipe tested in research/moto.md section 3.3, extended to every
    object version and multipart part. A delete marker has no `dispose` (it holds no file): a reset
    that called it on one failed half-way and left the account behind for good, so nothing here
    may stop the account from being dropped.
    """
    from moto.core.base_backend import BackendDict, backend_lock
    from moto.s3.models import s3_backends

    with backend_lock:
        s3_account = dict.get(s3_backends, account_id)
        if s3_account:
            for backend in list(dict.values(s3_account)):
                buckets = {**backend.buckets, **getattr(backend, "table_buckets", {})}
                for name, bucket in buckets.items():
                    _dispose_bucket_contents(bucket)
                    # Free the name in the global namespace only if this account owned it.
                    if s3_backends.bucket_accounts.get(name, (None, None))[1] == account_id:
                        s3_backends.bucket_accounts.pop(name, None)
        for backend_dict in list(BackendDict._instances):
            dict.pop(backend_dict, account_id, None)


def _dispose_bucket_contents(bucket) -> None:
    """Close the temporary files of every version and unfinished multipart upload of one bucket."""
    import logging

    keys = bucket.keys
    versions = [v for _name, listed in keys.iterlists() for v in listed] if hasattr(keys, "iterlists") else list(keys.values())
    for item in [*versions, *list(bucket.multiparts.values())]:  # an upload disposes its own parts
        dispose = getattr(item, "dispose", None)
        if dispose is None:  # delete markers
            continue
        try:
            dispose()
        except Exception:  # a file already closed must not keep the account alive
            logging.getLogger(__name__).warning("reset: could not dispose %r", item, exc_info=True)


def accounts_with_state() -> list[str]:
    from moto.core.base_backend import BackendDict, backend_lock

    with backend_lock:
        accounts: set[str] = set()
        for backend_dict in list(BackendDict._instances):
            accounts.update(dict.keys(backend_dict))
    return sorted(accounts)


def find_access_key(access_key_id: str) -> tuple[str, str, float | None] | None:
    """(account id, secret, expiry as Unix time or None) of an active key moto issued (IAM
    CreateAccessKey, or STS AssumeRole* whose credentials end at their expiration).

    moto stores both kinds in the owning account's IAM backend, so this finds them in one place. The
    account encoded in the key id is forgeable; the account that holds the key is not."""
    from moto.core.base_backend import backend_lock
    from moto.iam.models import iam_backends

    with backend_lock:
        accounts = list(dict.items(iam_backends))
    for account_id, per_partition in accounts:
        backend = dict.get(per_partition, "aws")
        key = backend.access_keys.get(access_key_id) if backend is not None else None
        if key is not None and key.status == "Active":
            return account_id, key.secret_access_key, _assumed_role_expiry(account_id, access_key_id)
    return None


def _assumed_role_expiry(account_id: str, access_key_id: str) -> float | None:
    from datetime import UTC

    from moto.sts.models import sts_backends

    per_partition = dict.get(sts_backends, account_id)
    backend = dict.get(per_partition, "aws") if per_partition is not None else None
    for role in getattr(backend, "assumed_roles", ()):
        if role.access_key_id == access_key_id:
            expiration = role.expiration  # naive UTC (moto.core.utils.utcnow)
            if expiration.tzinfo is None:
                expiration = expiration.replace(tzinfo=UTC)
            return expiration.timestamp()
    return None


def bucket_owner(bucket_name: str) -> str | None:
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket_name)
    return owner[1] if owner else None

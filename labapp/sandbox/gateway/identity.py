"""Which sandbox an access key belongs to.

Keys come from two places: the platform's own (`LabSession.access_key_id`, one per session) and keys
moto issued inside a sandbox (IAM CreateAccessKey, STS AssumeRole). For the latter the emulator says
which account holds the key, and that account must belong to a live session. The account encoded in a
moto key id is forgeable, so it is never used.

Answers, including "no such key", are cached for a few seconds: a learner's CLI makes many calls in a
row, and a flood of unknown keys must not become a flood of database queries. The cache never outlives
a key's right to be used:
- ending, resetting or handing in a session calls `forget` (POST /_gateway/forget), which drops every
  cached answer about that session's account: its own key, the IAM user keys and STS credentials moto
  issued in it, and the account's session. An answer looked up while a forget ran is not cached.
- a key is reported `expired` from the exact moment its session (`LabSession.expires_at`) or its STS
  credentials end, whatever the cache holds; the gateway refuses it like an ended session's key.
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime

from django.db import close_old_connections

CACHE_SECONDS = 5.0
# The gateway-db thread keeps its database connection between lookups (Django would close a SQLite
# connection, CONN_MAX_AGE=0, before each one; reconnecting cost ~2.5 ms on the request's path) and
# lets Django check it this often.
DB_CONNECTION_CHECK_SECONDS = 60.0
_PLAUSIBLE_KEY = re.compile(r"^[A-Z0-9]{16,128}$")


@dataclass(frozen=True)
class SandboxKey:
    """A verified-able identity: the session and account a key reaches, and the secret to check with."""

    access_key_id: str
    secret: str
    session_id: str
    account_id: str
    status: str
    issued_by_moto: bool = False
    expires_at: float | None = None  # Unix time from which the key is refused (None: never)
    # Every account of the key's session (its own first); a lab may give a session several accounts.
    session_accounts: tuple[str, ...] = ()


@dataclass(frozen=True)
class SessionInfo:
    session_id: str
    account_id: str
    status: str
    expires_at: float | None = None
    session_accounts: tuple[str, ...] = ()


EXPIRED = "expired"
# Statuses in which a key's expiry applies. A handed-in session (`submitted`) outlives its expiry on
# purpose: platform code regrades it for days, and its learner keys are refused anyway.
_EXPIRING_STATUSES = ("provisioning", "ready")


class CredentialStore:
    def __init__(self, upstream, clock=time.monotonic, wall_clock=time.time):
        self.upstream = upstream
        self.clock = clock
        self.wall_clock = wall_clock
        # Bumped by every forget: an answer looked up across a forget may predate it and is not cached.
        self._generation = 0
        self._keys: dict[str, tuple[float, SandboxKey | None]] = {}
        self._accounts: dict[str, tuple[float, SessionInfo | None]] = {}
        self._lock = threading.Lock()
        # One thread does all database reads, so the gateway holds one connection for them rather than
        # one per client connection thread.
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gateway-db")
        self._db_checked = float("-inf")

    # --- cache plumbing ---

    def _cached(self, table: dict, key: str):
        with self._lock:
            hit = table.get(key)
        if hit and hit[0] > self.clock():
            return True, hit[1]
        return False, None

    def _remember(self, table: dict, key: str, value, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return
            if len(table) > 50_000:  # a flood of random keys must not grow memory without bound
                table.clear()
            table[key] = (self.clock() + CACHE_SECONDS, value)

    def forget(self, access_key_id: str) -> None:
        """Forget a session's key and everything cached about its account (keys moto issued there)."""
        account_id = None
        with self._lock:
            self._generation += 1
            entry = self._keys.pop(access_key_id, None)
            if entry and entry[1] is not None:
                account_id = entry[1].account_id
        if account_id is None and _PLAUSIBLE_KEY.match(access_key_id):
            found = self._query(self._platform_key, access_key_id)
            account_id = found.account_id if found else None
        if account_id is not None:
            self.forget_account(account_id)

    def forget_account(self, account_id: str) -> None:
        with self._lock:
            self._generation += 1
            self._accounts.pop(account_id, None)
            for key_id in [k for k, (_, v) in self._keys.items() if v is not None and v.account_id == account_id]:
                del self._keys[key_id]

    # --- lookups ---

    def key(self, access_key_id: str) -> SandboxKey | None:
        hit, value = self._cached(self._keys, access_key_id)
        if not hit:
            generation = self._generation
            value = None
            if _PLAUSIBLE_KEY.match(access_key_id):
                value = self._query(self._platform_key, access_key_id)
                if value is None:
                    value = self._moto_issued_key(access_key_id)
            if not _about_to_change(value):
                self._remember(self._keys, access_key_id, value, generation)
        return self._as_of_now(value)

    def _as_of_now(self, key: SandboxKey | None) -> SandboxKey | None:
        if (
            key is not None
            and key.expires_at is not None
            and key.status in _EXPIRING_STATUSES
            and self.wall_clock() >= key.expires_at
        ):
            return replace(key, status=EXPIRED)
        return key

    def session_for_account(self, account_id: str) -> SessionInfo | None:
        hit, value = self._cached(self._accounts, account_id)
        if hit:
            return value
        generation = self._generation
        value = self._query(self._live_session_for_account, account_id)
        if not _about_to_change(value):
            self._remember(self._accounts, account_id, value, generation)
        return value

    def _moto_issued_key(self, access_key_id: str) -> SandboxKey | None:
        status, found = self.upstream.get_json(f"/_sandbox/access-keys/{access_key_id}")
        if status != 200:
            return None
        session = self.session_for_account(found["account_id"])
        if session is None:
            return None
        # STS credentials end at their own expiration, and no key outlives the session.
        ends = [t for t in (session.expires_at, found.get("expires_at")) if t is not None]
        return SandboxKey(
            access_key_id=access_key_id,
            secret=found["secret_access_key"],
            session_id=session.session_id,
            account_id=session.account_id,
            status=session.status,
            issued_by_moto=True,
            expires_at=min(ends) if ends else None,
            session_accounts=session.session_accounts,
        )

    # --- database (runs on the gateway-db thread) ---

    def _query(self, function, argument):
        return self._db.submit(self._on_db_thread, function, argument).result()

    def _on_db_thread(self, function, argument):
        from django.db import connection

        now = time.monotonic()
        if now - self._db_checked > DB_CONNECTION_CHECK_SECONDS:
            close_old_connections()
            self._db_checked = now
        try:
            return function(argument)
        except Exception:
            # A kept connection may have gone bad (a database restart): once more on a fresh one.
            connection.close()
            return function(argument)

    @staticmethod
    def _platform_key(access_key_id: str) -> SandboxKey | None:
        """A session's own key, or the key of one of its extra accounts (pinned to that account, with the
        session's status and expiry)."""
        from labapp.labs.models import LabSession, SessionAccount

        fields = ("id", "account_id", "secret_access_key", "status", "expires_at")
        row = LabSession.objects.filter(access_key_id=access_key_id).values_list(*fields).first()
        if row is not None:
            session_id, account_id, secret, status, expires_at = row
        else:
            extra = (
                SessionAccount.objects.filter(access_key_id=access_key_id)
                .values_list("session_id", "account_id", "secret_access_key", "session__status", "session__expires_at")
                .first()
            )
            if extra is None:
                return None
            session_id, account_id, secret, status, expires_at = extra
        return SandboxKey(access_key_id, secret, str(session_id), account_id, status, expires_at=_unix(expires_at),
                          session_accounts=_session_accounts(session_id))

    @staticmethod
    def _live_session_for_account(account_id: str) -> SessionInfo | None:
        """The live session owning `account_id` (its own account, or one of its extra accounts)."""
        from labapp.labs.models import LabSession, SessionAccount

        row = (
            LabSession.objects.filter(account_id=account_id, status__in=LabSession.LIVE)
            .values_list("id", "status", "expires_at")
            .first()
        )
        if row is None:
            row = (
                SessionAccount.objects.filter(account_id=account_id, session__status__in=LabSession.LIVE)
                .values_list("session_id", "session__status", "session__expires_at")
                .first()
            )
        if row is None:
            return None
        return SessionInfo(str(row[0]), account_id, row[1], _unix(row[2]), _session_accounts(row[0]))


def _session_accounts(session_id) -> tuple[str, ...]:
    from labapp.labs.models import LabSession, SessionAccount

    own = LabSession.objects.filter(pk=session_id).values_list("account_id", flat=True).first()
    extra = SessionAccount.objects.filter(session_id=session_id).order_by("id").values_list("account_id", flat=True)
    return (own, *extra) if own else tuple(extra)


def _unix(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


def _about_to_change(found) -> bool:
    """A provisioning session turns ready within milliseconds: caching it would lock its learner out
    for the cache's lifetime, so such answers are looked up again each time (setup makes few calls)."""
    from labapp.labs.models import LabSession

    return found is not None and found.status == LabSession.Status.PROVISIONING

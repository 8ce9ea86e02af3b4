"""The API-call journal: rows for labs.ApiCall, written in batches by one background thread.

Writing a row per request inline would add a database round trip (and, with SQLite, a write lock) to
every call. Rows queue in memory and are written every ~100 ms; `flush()` writes everything queued so
far before returning, which graders rely on (via POST /_gateway/flush) to see the latest calls.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime

log = logging.getLogger(__name__)

BATCH_INTERVAL = 0.1
MAX_BATCH = 500


@dataclass
class JournalEntry:
    session_id: str
    at: datetime
    source: str
    service: str
    action: str
    region: str
    status: int
    error_code: str
    params: dict
    mutating: bool
    duration_ms: float


# Rows that could not be written yet (the database is down) wait in memory up to this many; past it the
# oldest are dropped, loudly, and every flush reports failure until the backlog is written.
MAX_BACKLOG = 50_000
RETRY_INTERVAL = 0.5


_WAKE = object()  # queued by the writer itself to retry its backlog


class _FlushMarker:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.ok = True


class Journal:
    """Entries are queued by request threads and written by one thread, which wakes at most twice per
    batch (for the first entry, and BATCH_INTERVAL later or at a flush): waking it for every entry
    cost each request a thread switch and a GIL hand-over."""

    def __init__(self) -> None:
        self._backlog: list[JournalEntry] = []  # written first, in order, once the database answers again
        self.lost = 0  # rows lost for good past MAX_BACKLOG; the next flush reports it
        self._lost_reported = 0
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._flush_requested = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gateway-journal", daemon=True)
        self._thread.start()

    def record(self, entry: JournalEntry) -> None:
        self._queue.put(entry)

    def flush(self, timeout: float = 15.0) -> bool:
        """Block until every entry recorded before this call is in the database. False when that could
        not be done in time, or when rows were lost since the previous flush: a grader must not trust
        an incomplete journal (the grading is retried instead)."""
        marker = _FlushMarker()
        self._queue.put(marker)
        self._flush_requested.set()
        return marker.done.wait(timeout) and marker.ok

    def _run(self) -> None:
        while True:
            items = [self._queue.get()]  # sleep until there is work
            # Gather a batch for BATCH_INTERVAL, or less if someone is waiting on a flush.
            if not isinstance(items[0], _FlushMarker):
                self._flush_requested.wait(BATCH_INTERVAL)
            self._flush_requested.clear()
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            entries = self._backlog + [item for item in items if isinstance(item, JournalEntry)]
            self._backlog = []
            for start in range(0, len(entries), MAX_BATCH):
                batch = entries[start : start + MAX_BATCH]
                done = self._write(batch)
                if done < len(batch):
                    self._keep_for_later(entries[start + done :])
                    break
            complete = not self._backlog and self.lost == self._lost_reported
            for item in items:
                if isinstance(item, _FlushMarker):
                    item.ok = complete
                    item.done.set()
                    self._lost_reported = self.lost
            if self._backlog:
                time.sleep(RETRY_INTERVAL)  # the database is unavailable: retry the backlog soon
                self._queue.put(_WAKE)  # comes round again even if no request does

    def _keep_for_later(self, entries: list[JournalEntry]) -> None:
        self._backlog = entries
        if len(entries) > MAX_BACKLOG:
            lost = len(entries) - MAX_BACKLOG
            self._backlog = entries[lost:]
            self.lost += lost
            log.error("journal: the database has been unavailable too long; %d oldest rows lost", lost)

    def _write(self, entries: list[JournalEntry]) -> int:
        """Write a batch; returns how many of its first entries are done with (written, or dropped because
        their session no longer exists). Fewer than all: the database is unavailable; the rest wait."""
        if not entries:
            return 0
        rows = [
            (
                e.session_id,
                e.at,
                e.source,
                e.service[:32],
                e.action[:64],
                e.region[:32],
                e.status,
                e.error_code[:100],
                e.params,
                e.mutating,
                round(e.duration_ms, 3),
            )
            for e in entries
        ]
        from django.db import IntegrityError

        try:
            self._connection_check()
            self._insert(rows)
            return len(rows)
        except IntegrityError:  # a session deleted meanwhile: write row by row, so only its rows are lost
            self._drop_connection()
        except Exception:
            self._drop_connection()
            log.warning("journal: the database is unavailable; %d rows wait to be written", len(rows), exc_info=True)
            return 0
        for done, row in enumerate(rows):
            try:
                self._insert([row])
            except IntegrityError:
                self._drop_connection()
                log.warning("journal: dropped a row for session %s, which no longer exists", row[0])
            except Exception:
                self._drop_connection()
                return done
        return len(rows)

    # --- database (journal thread only) ---
    #
    # The rows are inserted with one INSERT statement per batch (as bulk_create would), each value
    # prepared by its model field for the database in use, but without building model instances and
    # compiling the query each time: that was ~60 us of CPU per row, on a thread that competes with
    # request threads for the GIL. The connection is kept open between batches; Django would close a
    # SQLite connection (CONN_MAX_AGE=0) before every batch, and reconnecting cost ~2.5 ms of CPU.

    _FIELDS = ("session", "at", "source", "service", "action", "region", "status", "error_code", "params",
               "mutating", "duration_ms")
    CONNECTION_MAX_AGE = 60.0
    _connection_checked = 0.0

    def _connection_check(self) -> None:
        from django.db import close_old_connections

        now = time.monotonic()
        if now - self._connection_checked > self.CONNECTION_MAX_AGE:
            close_old_connections()
            self._connection_checked = now

    def _drop_connection(self) -> None:
        from django.db import connection

        try:
            connection.close()
        except Exception:
            pass
        self._connection_checked = 0.0

    def _insert(self, rows: list[tuple]) -> None:
        from django.db import connection, transaction

        from labapp.labs.models import ApiCall

        fields = [ApiCall._meta.get_field(name) for name in self._FIELDS]
        per_statement = max(1, min(len(rows), connection.features.max_query_params // len(fields)))
        quote = connection.ops.quote_name
        head = "INSERT INTO {} ({}) VALUES ".format(
            quote(ApiCall._meta.db_table), ", ".join(quote(field.column) for field in fields)
        )
        placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
        prepare = [field.get_db_prep_save for field in fields]
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            for start in range(0, len(rows), per_statement):
                chunk = rows[start : start + per_statement]
                params = [prep(value, connection) for row in chunk for prep, value in zip(prepare, row)]
                cursor.execute(head + ", ".join([placeholders] * len(chunk)), params)


_DECISIONS = {"explicitDeny", "implicitDeny", "error"}


def denial_detail(raw: str | None) -> dict | None:
    """Why IAM refused a call, as the emulator sent it (enforce.denial_detail, JSON): kept in the
    journal's params as AccessDeniedBy for the lab page. Anything malformed is dropped; strings are capped
    so a crafted policy id cannot bloat the journal."""
    import json

    try:
        data = json.loads(raw or "")
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("decision") not in _DECISIONS:
        return None
    cap = lambda value: str(value or "")[:300]
    statements = [
        {
            "policy": cap(s.get("policy")),
            "type": cap(s.get("type")),
            "sid": cap(s.get("sid")),
            "index": s.get("index") if isinstance(s.get("index"), int) else 0,
            "effect": cap(s.get("effect")),
        }
        for s in (data.get("statements") or [])[:8]
        if isinstance(s, dict)
    ]
    return {
        "decision": data["decision"],
        "policyType": cap(data.get("policyType")),
        "action": cap(data.get("action")),
        "resource": cap(data.get("resource")),
        "statements": statements,
    }

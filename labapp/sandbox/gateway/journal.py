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


class _FlushMarker:
    def __init__(self) -> None:
        self.done = threading.Event()


class Journal:
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="gateway-journal", daemon=True)
        self._thread.start()

    def record(self, entry: JournalEntry) -> None:
        self._queue.put(entry)

    def flush(self, timeout: float = 15.0) -> bool:
        """Block until every entry recorded before this call is in the database."""
        marker = _FlushMarker()
        self._queue.put(marker)
        return marker.done.wait(timeout)

    def _run(self) -> None:
        while True:
            items = [self._queue.get()]  # sleep until there is work
            deadline = time.monotonic() + BATCH_INTERVAL
            # Gather a batch for up to BATCH_INTERVAL, or less if someone is waiting on a flush.
            while len(items) < MAX_BATCH and not isinstance(items[-1], _FlushMarker):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    items.append(self._queue.get(timeout=remaining))
                except queue.Empty:
                    break
            self._write([item for item in items if isinstance(item, JournalEntry)])
            for item in items:
                if isinstance(item, _FlushMarker):
                    item.done.set()

    def _write(self, entries: list[JournalEntry]) -> None:
        if not entries:
            return
        from django.db import close_old_connections

        from labapp.labs.models import ApiCall

        rows = [
            ApiCall(
                session_id=e.session_id,
                at=e.at,
                source=e.source,
                service=e.service[:32],
                action=e.action[:64],
                region=e.region[:32],
                status=e.status,
                error_code=e.error_code[:100],
                params=e.params,
                mutating=e.mutating,
                duration_ms=round(e.duration_ms, 3),
            )
            for e in entries
        ]
        for attempt in range(3):
            try:
                close_old_connections()
                ApiCall.objects.bulk_create(rows)
                return
            except Exception:  # a session deleted meanwhile, or the database briefly unavailable
                if attempt == 2:
                    log.exception("journal: dropping %d rows after 3 failed writes", len(rows))
                    return
                # Retry row by row the last time, so one bad row (a deleted session) loses only itself.
                if attempt == 1:
                    for row in rows:
                        try:
                            row.pk = None
                            ApiCall.objects.bulk_create([row])
                        except Exception:
                            log.warning("journal: dropped a row for session %s", row.session_id)
                    return

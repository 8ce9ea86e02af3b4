"""Token buckets, one per key: a burst of `burst` requests, refilled at `rate` per second.

One learner's runaway script must not starve the others: the emulator serves everyone from one process.
Keys are accounts for signed calls, and "public:<client address>" for unsigned ones, so that anonymous
requests naming a learner's bucket never use up that learner's budget.
"""

from __future__ import annotations

import threading
import time


class RateLimiter:
    def __init__(self, rate: float, burst: int, clock=time.monotonic):
        self.rate = float(rate)
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # account -> (tokens, last refill)
        self._lock = threading.Lock()

    def allow(self, account_id: str) -> bool:
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(account_id, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[account_id] = (tokens, now)
                return False
            self._buckets[account_id] = (tokens - 1.0, now)
            if len(self._buckets) > 100_000:  # full buckets carry no information; drop them all
                self._buckets.clear()
            return True


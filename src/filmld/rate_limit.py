"""Requests per token per minute: a sliding window, and how long to wait when it is full."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from filmld.errors import TooManyRequests


class RateLimit:
    """At most `per_minute` events per key in any 60 s; 429 with Retry-After beyond."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.window = 60.0
        self.clock = clock
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Count one event for `key`, or raise TooManyRequests saying when to retry."""
        now = self.clock()
        with self._lock:
            events = self._events[key]
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.per_minute:
                wait = max(1, math.ceil(events[0] + self.window - now))
                raise TooManyRequests(
                    f"at most {self.per_minute} contributions a minute per token; "
                    f"retry in {wait} s", headers={"Retry-After": str(wait)})
            events.append(now)

"""Events per key per minute: a sliding window, and how long to wait when it is full."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from filmld.errors import TooManyRequests


class RateLimit:
    """At most `per_minute` events per key in any 60 s; 429 with Retry-After beyond.

    `what` and `per` name the events and the key in the message ("at most 30 contributions
    a minute per token"). `check` only looks; `count` records one event: a request that
    turns out malformed (400, 413, 415) is checked but not counted."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic, *,
                 what: str = "contributions", per: str = "token") -> None:
        self.per_minute = per_minute
        self.window = 60.0
        self.clock = clock
        self.what, self.per = what, per
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Raise TooManyRequests, saying when to retry, if `key` has used its budget."""
        now = self.clock()
        with self._lock:
            events = self._events[key]
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.per_minute:
                wait = max(1, math.ceil(events[0] + self.window - now))
                raise TooManyRequests(
                    f"at most {self.per_minute} {self.what} a minute per {self.per}; "
                    f"retry in {wait} s", headers={"Retry-After": str(wait)})

    def count(self, key: str) -> None:
        """Record one event for `key`."""
        with self._lock:
            self._events[key].append(self.clock())

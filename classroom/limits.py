"""Per-session rate limits: a token bucket per key, with an injectable clock.

A Streamlit session lives on one replica (nginx keeps it there), so a limiter in the process
that serves the session sees all of that session's attempts; it needs no shared storage.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .errors import RateLimited


@dataclass(frozen=True)
class Limit:
    """``burst`` attempts at once, then one more every ``every`` seconds."""

    burst: int
    every: float

    def __post_init__(self) -> None:
        if self.burst < 1 or not (self.every > 0 and math.isfinite(self.every)):
            raise ValueError("a limit needs burst >= 1 and a finite interval > 0")


#: Join attempts per session: a few typos are fine, guessing codes is not (10 a minute after 5).
JOIN_LIMIT = Limit(burst=5, every=6.0)
#: Guess submissions per session: moving one's guess around is fine, flooding the database is not.
SUBMIT_LIMIT = Limit(burst=10, every=1.0)


class RateLimiter:
    """Token buckets keyed by session; thread-safe.

    >>> now = [0.0]
    >>> limiter = RateLimiter(Limit(burst=2, every=10.0), clock=lambda: now[0])
    >>> limiter.wait_time("s"), limiter.wait_time("s"), limiter.wait_time("s")
    (0.0, 0.0, 10.0)
    >>> now[0] = 10.0; limiter.wait_time("s")
    0.0
    """

    def __init__(
        self,
        limit: Limit,
        clock: Callable[[], float] = time.monotonic,
        what: str = "tries",
        max_keys: int = 100_000,
    ):
        self.limit = limit
        self.clock = clock
        self.what = what
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, time of that count)
        self._lock = threading.Lock()

    def wait_time(self, key: str) -> float:
        """Takes one attempt for ``key``: 0.0 if allowed, else the seconds until the next is."""
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.get(key, (float(self.limit.burst), now))
            tokens = min(float(self.limit.burst), tokens + max(0.0, now - then) / self.limit.every)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > self.max_keys:
                    self._forget_full(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) * self.limit.every

    def check(self, key: str) -> None:
        """Takes one attempt for ``key``.

        Raises:
          RateLimited: when the session has used up its attempts for now.
        """
        wait = self.wait_time(key)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise RateLimited(
                f"Too many {self.what} from this page in a short time: wait {seconds} s and try again.",
                retry_after=wait,
            )

    def _forget_full(self, now: float) -> None:
        # A bucket that has refilled completely is the same as no bucket: drop those.
        full = [
            key
            for key, (tokens, then) in self._buckets.items()
            if tokens + (now - then) / self.limit.every >= self.limit.burst
        ]
        for key in full:
            del self._buckets[key]

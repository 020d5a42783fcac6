"""A work queue of keys, as client-go's: a key waiting is queued once, keys come out in the order they went in,
and failures come back later with upstream's per-item exponential backoff (5 ms doubling to 1000 s, or a
controller's own: the Job controller's 1 s doubling to 60 s)."""

from __future__ import annotations

from collections import deque
from itertools import islice
from typing import Hashable

BASE_DELAY = 0.005
MAX_DELAY = 1000.0


class WorkQueue:
    def __init__(self):
        self._queue: deque[Hashable] = deque()
        self._queued: set[Hashable] = set()
        self._failures: dict[Hashable, int] = {}

    def __len__(self) -> int:
        return len(self._queue)

    def first(self, n: int) -> list[Hashable]:
        """The next ``n`` keys, in the order they will come out (the queue is left as it is)."""
        return list(islice(self._queue, n))

    def add(self, key: Hashable) -> None:
        if key not in self._queued:
            self._queued.add(key)
            self._queue.append(key)

    def pop(self) -> Hashable:
        key = self._queue.popleft()
        self._queued.discard(key)
        return key

    def rate_limit_delay(self, key: Hashable, base: float = BASE_DELAY, max_delay: float = MAX_DELAY) -> float:
        """The delay before retrying ``key`` after one more failure (ItemExponentialFailureRateLimiter with
        ``base`` and ``max_delay``: the default controller rate limiter's unless a controller has its own)."""
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        return min(base * (2**failures), max_delay)

    def forget(self, key: Hashable) -> None:
        self._failures.pop(key, None)

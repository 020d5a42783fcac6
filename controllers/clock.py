"""Simulated time: a clock and a timer heap ordered by (time, sequence).

Following SimPy, time is a value the engine moves, never the wall clock: ``schedule`` a key at a time, ``pop_due``
what is due at ``now``, ask for ``next_time``. A key scheduled twice keeps its earliest time, as client-go's
delaying queue does for ``AddAfter``.
"""

from __future__ import annotations

import heapq
from datetime import datetime, timedelta
from typing import Hashable


class TimerHeap:
    def __init__(self):
        self._heap: list[tuple[datetime, int, Hashable]] = []
        self._due: dict[Hashable, datetime] = {}
        self._seq = 0

    def __len__(self) -> int:
        return len(self._due)

    def schedule(self, when: datetime, key: Hashable) -> None:
        current = self._due.get(key)
        if current is not None and current <= when:
            return
        self._due[key] = when
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, key))

    def cancel(self, key: Hashable) -> None:
        self._due.pop(key, None)

    def scheduled(self, key: Hashable) -> datetime | None:
        return self._due.get(key)

    def _drop_stale(self) -> None:
        while self._heap and self._due.get(self._heap[0][2]) != self._heap[0][0]:
            heapq.heappop(self._heap)

    def next_time(self) -> datetime | None:
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def due(self, now: datetime) -> list[tuple[datetime, Hashable]]:
        """``(time, key)`` of the keys due at or before ``now``, in time order, left scheduled."""
        return sorted(((when, key) for key, when in self._due.items() if when <= now), key=lambda item: item[0])

    def pop_due(self, now: datetime) -> list[Hashable]:
        """Keys due at or before ``now``, in (time, sequence) order."""
        due = []
        while True:
            self._drop_stale()
            if not self._heap or self._heap[0][0] > now:
                return due
            _, _, key = heapq.heappop(self._heap)
            del self._due[key]
            due.append(key)


def after(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=max(0.0, seconds))

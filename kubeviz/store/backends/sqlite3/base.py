"""Django's SQLite backend with writers served in turn.

SQLite has one write lock per database. Django opens each transaction with ``BEGIN IMMEDIATE`` (settings.py), and a
connection that finds the lock taken sleeps and tries again (SQLite's busy handler: 1, 2, 5 ... 100 ms apart) until
the busy timeout. A writer that commits and begins again at once, as the engine does slice after slice of a long
run, nearly always holds the lock when a sleeper wakes: the other clusters' writes then fail with "database is
locked" after the timeout although the engine let go hundreds of times. So the writers of this process queue here,
first come first served, before they ask SQLite for the lock; when a transaction ends the next in line has it. (A
laptop runs one server process on SQLite; several processes are served by PostgreSQL, whose row locks queue
writers themselves.)
"""

from __future__ import annotations

import threading
from collections import deque

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError


class WriterQueue:
    """A lock handed to waiters in the order they asked for it."""

    def __init__(self):
        self._mutex = threading.Lock()
        self._waiting: deque[threading.Event] = deque()
        self._held = False

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held and not self._waiting:
                self._held = True
                return True
            turn = threading.Event()
            self._waiting.append(turn)
        if turn.wait(timeout):
            return True
        with self._mutex:
            if turn.is_set():  # handed over just as the wait timed out
                return True
            self._waiting.remove(turn)
            return False

    def release(self) -> None:
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().set()  # stays held: the next writer has it
            else:
                self._held = False


writers = WriterQueue()


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_turn = False

    def _start_transaction_under_autocommit(self):
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        if not writers.acquire(timeout):
            raise OperationalError("database is locked")
        self._holds_turn = True
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._end_turn()
            raise

    def _end_turn(self) -> None:
        if self._holds_turn:
            self._holds_turn = False
            writers.release()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._end_turn()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._end_turn()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._end_turn()

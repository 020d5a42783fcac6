"""The SQLite backend's writer queue: writers of one process get SQLite's write lock in the order they asked."""

import threading
import time

from kubeviz.store.backends.sqlite3.base import WriterQueue


def test_writers_are_served_in_the_order_they_asked_and_a_hot_writer_cannot_starve_them():
    queue = WriterQueue()
    assert queue.acquire(timeout=1)
    served = []

    def writer(name):
        assert queue.acquire(timeout=10)
        served.append(name)
        queue.release()

    waiting = []
    for name in ("a", "b", "c"):
        thread = threading.Thread(target=writer, args=(name,))
        thread.start()
        waiting.append(thread)
        time.sleep(0.05)  # each asks after the one before
    queue.release()  # the hot writer lets go ... and asks again at once: it is last in line now
    assert queue.acquire(timeout=10)
    served.append("hot")
    queue.release()
    for thread in waiting:
        thread.join()
    assert served == ["a", "b", "c", "hot"]


def test_a_writer_that_waits_too_long_gives_up_and_leaves_the_line():
    queue = WriterQueue()
    assert queue.acquire(timeout=1)
    assert queue.acquire(timeout=0.05) is False
    queue.release()
    assert queue.acquire(timeout=0.05) is True  # the one that gave up was not handed the lock

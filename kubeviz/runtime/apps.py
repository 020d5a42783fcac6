import gc

from django.apps import AppConfig

# The simulation allocates millions of short-lived dicts (objects, statuses, plans) and keeps millions of
# long-lived ones (the store): with CPython's default first threshold (700 allocations) the cyclic collector
# runs every few microseconds of work and spent about a fifth of a 5,000-node DaemonSet rollout
# (bench/engine.py). Nothing here depends on prompt collection of cycles: reference counting frees the rest.
GC_FIRST_THRESHOLD = 50_000
# How long a stopping server waits for the messages still to be published (wall seconds).
SEND_LEFT_SECONDS = 5.0


class RuntimeConfig(AppConfig):
    name = "kubeviz.runtime"
    label = "runtime"
    verbose_name = "Simulation runtime"

    def ready(self):
        first, second, third = gc.get_threshold()
        gc.set_threshold(max(GC_FIRST_THRESHOLD, first), second, third)
        # Here rather than in asgi.py: every process that serves (the daphne command, the "daphne" app's
        # runserver) sets Django up before it starts its reactor.
        from django.conf import settings

        from kubeviz.store import events

        from .host import host
        from .shutdown import follow_reactor

        def wait_until_idle(timeout: float | None = None) -> bool:
            idle = host.wait_until_idle(timeout)
            events.wait_sent(timeout=SEND_LEFT_SECONDS)  # what the last slices published, before the loop stops
            return idle

        if settings.KUBEVIZ_LEASES:  # several processes share the database: each engine only where its lease is
            from .lease import LeaseGuard, release_when_idle

            host.leases = LeaseGuard(host)
            follow_reactor(release_when_idle(wait_until_idle))
        else:
            follow_reactor(wait_until_idle)

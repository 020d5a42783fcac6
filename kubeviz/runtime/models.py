"""Who runs which cluster's engine when several server processes share one database (``lease.py``)."""

from django.db import models

from kubeviz.store.models import Cluster


class EngineLease(models.Model):
    """A cluster's engine lease, like a controller-manager's leader-election Lease: the process named ``holder``
    runs the cluster's engine until ``expires_at`` (database time), and renews it before then. ``term`` grows by
    one whenever the lease passes to another process (a take-over), so an engine built under an older term knows
    it is stale."""

    cluster = models.OneToOneField(Cluster, on_delete=models.CASCADE, primary_key=True, related_name="engine_lease")
    holder = models.CharField(max_length=100, blank=True)
    term = models.BigIntegerField(default=0)
    expires_at = models.DateTimeField()

    def __str__(self):
        return f"{self.cluster_id}: {self.holder} (term {self.term})"


class EngineProcess(models.Model):
    """A live server process that may hold leases: it says so until ``expires_at`` and renews that with its
    leases; the least loaded of them (fewest live leases) gets the next cluster nobody runs."""

    identity = models.CharField(max_length=100, primary_key=True)
    started_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    def __str__(self):
        return self.identity
